//! Pool limits and the head a transaction is admitted against.
//!
//! [`PoolConfig`] holds the limits (geth's `txpool` options, with Mosaic's
//! larger global limits for a sequencer); [`PoolHead`] is what admission needs
//! to know of the chain's head block: its number and timestamp select the fork
//! rules (as geth's pool, the rules *at the head*), its gas limit caps a
//! transaction's gas, and the base fee of the next block orders transactions
//! for eviction.

use alloy_consensus::Header;
use mosaic_primitives::ChainSpec;

use crate::expected_base_fee;

/// Limits and policies of a [`TxPool`](super::TxPool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most transactions (pending and queued) one sender may have in the pool
    /// (geth: `--txpool.accountqueue` 64). A new nonce beyond it is refused
    /// with `account limit exceeded`; replacements are always considered.
    pub max_account_txs: usize,
    /// Most executable (pending) transactions in the pool.
    pub max_pending: usize,
    /// Most gapped (queued) transactions in the pool.
    pub max_queued: usize,
    /// Percentage by which a replacement must raise both the fee cap and the
    /// priority fee (and, for blob transactions, the blob fee cap).
    pub price_bump_percent: u64,
    /// Largest accepted transaction, in bytes of its EIP-2718 encoding; a blob
    /// transaction is measured without its sidecar.
    pub max_tx_size: usize,
    /// Smallest accepted priority fee (the gas price of legacy and EIP-2930
    /// transactions), in wei.
    pub min_priority_fee: u128,
    /// Accept blob (type 3) transactions. They must come in the network form,
    /// with a sidecar whose commitments and KZG proofs are verified. A rollup
    /// that cannot publish blobs turns this off: type 3 is then refused with
    /// `transaction type not supported`.
    pub accept_blob_txs: bool,
    /// Accept legacy transactions without EIP-155 replay protection. geth
    /// refuses them over RPC unless `--rpc.allow-unprotected-txs` is given.
    pub allow_unprotected: bool,
    /// Capacity of each new-pending-transaction subscription channel; a
    /// subscriber that falls this far behind misses hashes.
    pub subscription_capacity: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_account_txs: 64,
            max_pending: 10_000,
            max_queued: 5_000,
            price_bump_percent: 10,
            max_tx_size: 128 * 1024,
            min_priority_fee: 0,
            accept_blob_txs: true,
            allow_unprotected: false,
            subscription_capacity: 4096,
        }
    }
}

/// The chain's head as the pool sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolHead {
    /// Number of the head block.
    pub number: u64,
    /// Timestamp of the head block.
    pub timestamp: u64,
    /// Gas limit of the head block: no transaction may use more.
    pub gas_limit: u64,
    /// Base fee of the next block (zero before London): the price at which
    /// the pool compares transactions when it must evict one.
    pub next_base_fee: u64,
}

impl PoolHead {
    /// The head context of `header`, with the next block's base fee as
    /// EIP-1559 computes it (the next block assumed one second later, which
    /// only matters for the London transition).
    pub fn from_header(spec: &ChainSpec, header: &Header) -> Self {
        let next = header.number.saturating_add(1);
        let next_time = header.timestamp.saturating_add(1);
        Self {
            number: header.number,
            timestamp: header.timestamp,
            gas_limit: header.gas_limit,
            next_base_fee: expected_base_fee(spec, header, next, next_time).unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mosaic_primitives::Hardfork;

    #[test]
    fn head_from_header_computes_next_base_fee() {
        let spec = ChainSpec::with_fork_at_genesis(1337, Hardfork::Prague);
        let header = Header {
            number: 7,
            timestamp: 70,
            gas_limit: 30_000_000,
            gas_used: 30_000_000,
            base_fee_per_gas: Some(1_000_000_000),
            ..Header::default()
        };
        let head = PoolHead::from_header(&spec, &header);
        // A full block raises the base fee by 1/8.
        assert_eq!(
            head,
            PoolHead { number: 7, timestamp: 70, gas_limit: 30_000_000, next_base_fee: 1_125_000_000 }
        );
        let london = ChainSpec::with_fork_at_genesis(1, Hardfork::Berlin);
        assert_eq!(PoolHead::from_header(&london, &header).next_base_fee, 0);
    }
}
