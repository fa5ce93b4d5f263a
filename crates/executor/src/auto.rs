//! How `Engine::Auto` picks the engine and the thread count of a block,
//! from facts that cost a pass over the transactions and no state access.
//!
//! The parallel engine pays off when the block is large enough to cover
//! starting its threads and its bookkeeping, and when the transactions do
//! not form one long chain: a chain runs one transaction after another on
//! any number of threads, and Block-STM then only adds re-executions. Two
//! cheap signs of a chain: many transactions from one sender (a nonce
//! chain), and many calls to one contract with the same selector and first
//! argument (an ERC-20 transfer to one holder, swaps in one pool). The
//! largest such group bounds the work that cannot spread; the thread count
//! is what the rest can keep busy.

use crate::ExecTx;
use alloy_primitives::map::DefaultHashBuilder;
use revm::primitives::TxKind;
use std::hash::BuildHasher;

/// Below this many transactions a block runs sequentially: starting the
/// threads and the engine's tables costs more than the block (measured on
/// 21,000-gas transfers).
pub(crate) const MIN_TXS: usize = 256;

/// Fewest transactions worth giving a thread of their own.
const TXS_PER_THREAD: usize = 128;

/// Counters for the group sizes; collisions only overcount, which errs on
/// the sequential side.
const SKETCH: usize = 1 << 14;

/// The thread count `Engine::Auto` runs a block with: 1 means the
/// sequential engine.
pub(crate) fn threads_for(txs: &[ExecTx], available: usize) -> usize {
    if available <= 1 || txs.len() < MIN_TXS {
        return 1;
    }
    let chain = longest_group(txs);
    // The largest group runs in order; with more than half of the block in
    // it two threads gain little and conflicts cost more.
    if chain * 2 > txs.len() {
        return 1;
    }
    let spread = txs.len().div_ceil(chain.max(1));
    available.min(spread).min(txs.len() / TXS_PER_THREAD).max(1)
}

/// A bound on the largest group of transactions that likely run in order:
/// same sender, or same contract, selector and first argument.
fn longest_group(txs: &[ExecTx]) -> usize {
    let hasher = DefaultHashBuilder::default();
    let mut counts = vec![0u32; SKETCH];
    let mut longest = 0u32;
    let mut bump = |key: u64| {
        let c = &mut counts[(key as usize) & (SKETCH - 1)];
        *c += 1;
        longest = longest.max(*c);
    };
    for tx in txs {
        bump(hasher.hash_one((0u8, tx.env.caller)));
        if let TxKind::Call(to) = tx.env.kind
            && !tx.env.data.is_empty()
        {
            let prefix = &tx.env.data[..tx.env.data.len().min(36)];
            bump(hasher.hash_one((1u8, to, prefix)));
        }
    }
    longest as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, Bytes, U256, keccak256};
    use revm::context::TxEnv;

    fn tx(caller: u64, to: Option<(u64, Vec<u8>)>) -> ExecTx {
        let address = |i: u64| Address::from_slice(&keccak256(i.to_be_bytes())[12..]);
        let (kind, data) = match to {
            Some((to, data)) => (TxKind::Call(address(to)), Bytes::from(data)),
            None => (TxKind::Create, Bytes::new()),
        };
        let env = TxEnv { caller: address(caller), kind, data, value: U256::from(1), ..Default::default() };
        ExecTx { env, tx_type: alloy_consensus::TxType::Legacy, hash: Default::default() }
    }

    fn transfer(holder: u64) -> Vec<u8> {
        let mut data = vec![0xa9, 0x05, 0x9c, 0xbb];
        data.extend([0u8; 24]);
        data.extend(holder.to_be_bytes());
        data.extend([7u8; 32]);
        data
    }

    #[test]
    fn independent_blocks_get_all_threads() {
        let plain: Vec<_> = (0..2_000).map(|i| tx(i, Some((1_000_000 + i, Vec::new())))).collect();
        assert_eq!(threads_for(&plain, 2), 2);
        assert_eq!(threads_for(&plain, 8), 8);
        let erc20: Vec<_> = (0..2_000).map(|i| tx(i, Some((99, transfer(i))))).collect();
        assert_eq!(threads_for(&erc20, 2), 2);
    }

    #[test]
    fn small_blocks_and_chains_run_sequentially() {
        let small: Vec<_> = (0..MIN_TXS as u64 - 1).map(|i| tx(i, None)).collect();
        assert_eq!(threads_for(&small, 2), 1);
        let nonce_chain: Vec<_> = (0..2_000).map(|_| tx(5, Some((6, Vec::new())))).collect();
        assert_eq!(threads_for(&nonce_chain, 2), 1);
        let hot_holder: Vec<_> = (0..2_000).map(|i| tx(i, Some((99, transfer(42))))).collect();
        assert_eq!(threads_for(&hot_holder, 2), 1);
    }

    #[test]
    fn partial_chains_limit_the_threads() {
        // A quarter of the block on one holder: at most four threads.
        let block: Vec<_> =
            (0..4_000).map(|i| tx(i, Some((99, transfer(if i % 4 == 0 { 42 } else { i }))))).collect();
        assert_eq!(threads_for(&block, 16), 4);
        assert_eq!(threads_for(&block, 2), 2);
    }
}
