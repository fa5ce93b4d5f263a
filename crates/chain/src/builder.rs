//! Block building: an ordered list of transactions becomes a sealed
//! post-merge block on top of a parent.
//!
//! Transactions run in build mode ([`ExecMode::Build`]): one that turns out
//! invalid at its position (nonce gap, balance spent by an earlier one, no
//! room left in the block) is left out and reported, and the rest of the
//! block is still exact. Reverted and out-of-gas transactions are included
//! and pay for their gas. The caller supplies the state root of the result
//! (it knows where the state lives), so the same builder serves the
//! sequencer on the store and the chain generator in memory.

use crate::{BlockError, FileBlock, expected_base_fee, expected_excess_blob_gas};
use alloy_consensus::{
    BlockBody, EMPTY_OMMER_ROOT_HASH, Header, ReceiptEnvelope, TxEnvelope, TxReceipt,
    proofs::{calculate_receipt_root, calculate_transaction_root, calculate_withdrawals_root},
};
use alloy_eips::eip4895::{Withdrawal, Withdrawals};
use alloy_primitives::{Address, B256, Bloom, Bytes, U256};
use mosaic_executor::{
    BlockContext, BlockOutput, ExecMode, ExecOptions, ExecStatus, ExecTx, StateDiff, StateProvider,
    execute_block,
};
use mosaic_primitives::{ChainSpec, Hardfork};

/// What the sequencer chooses for a new block.
#[derive(Debug, Clone, Default)]
pub struct BlockAttributes {
    /// Timestamp (must be above the parent's).
    pub timestamp: u64,
    /// Fee recipient.
    pub beneficiary: Address,
    /// Gas limit (within the parent's ±1/1024).
    pub gas_limit: u64,
    /// `prevrandao` (the header's mix hash).
    pub prev_randao: B256,
    /// EIP-4788 beacon root, from Cancun on (zero if `None`).
    pub parent_beacon_block_root: Option<B256>,
    /// Withdrawals, from Shanghai on (none if `None`).
    pub withdrawals: Option<Vec<Withdrawal>>,
    /// Extra data (at most 32 bytes).
    pub extra_data: Bytes,
}

/// A transaction left out of a built block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its hash.
    pub hash: B256,
    /// Its sender.
    pub sender: Address,
    /// Why it could not be included.
    pub reason: String,
}

/// A built block and what building it produced.
#[derive(Debug, Clone)]
pub struct BuiltBlock {
    /// The sealed block.
    pub block: FileBlock,
    /// Its hash.
    pub hash: B256,
    /// Execution output (outcomes of every candidate, skipped included).
    pub output: BlockOutput,
    /// Receipts of the included transactions.
    pub receipts: Vec<ReceiptEnvelope>,
    /// Senders of the included transactions.
    pub senders: Vec<Address>,
    /// Candidates left out, with the reason.
    pub skipped: Vec<Skipped>,
}

/// Builds a block on `parent` (whose post-state is `state`) from the
/// candidate transactions in order. `state_root` turns the block's diff into
/// the post-state root. Post-Byzantium, post-merge chains only.
pub fn build_block<S: StateProvider>(
    spec: &ChainSpec,
    parent: &Header,
    state: S,
    attrs: &BlockAttributes,
    candidates: Vec<(TxEnvelope, Address)>,
    options: &ExecOptions,
    state_root: impl FnOnce(&StateDiff) -> Result<B256, BlockError>,
) -> Result<BuiltBlock, BlockError> {
    let number = parent.number + 1;
    let t = attrs.timestamp;
    let active = |fork| spec.is_active(fork, number, t);
    if !active(Hardfork::Byzantium) || !spec.is_merged(number, t) {
        return Err(BlockError::Header("the builder makes post-merge blocks only".into()));
    }
    let cancun = active(Hardfork::Cancun);
    let withdrawals = active(Hardfork::Shanghai).then(|| attrs.withdrawals.clone().unwrap_or_default());
    let mut header = Header {
        parent_hash: parent.hash_slow(),
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: attrs.beneficiary,
        difficulty: U256::ZERO,
        number,
        gas_limit: attrs.gas_limit,
        timestamp: t,
        extra_data: attrs.extra_data.clone(),
        mix_hash: attrs.prev_randao,
        base_fee_per_gas: expected_base_fee(spec, parent, number, t),
        withdrawals_root: withdrawals.as_deref().map(calculate_withdrawals_root),
        excess_blob_gas: if cancun { expected_excess_blob_gas(spec, parent, number, t) } else { None },
        parent_beacon_block_root: cancun.then(|| attrs.parent_beacon_block_root.unwrap_or_default()),
        ..Default::default()
    };
    let txs: Vec<ExecTx> = candidates.iter().map(|(tx, sender)| ExecTx::from_envelope(tx, *sender)).collect();
    let ctx = BlockContext::from_header(&header, &[], withdrawals.as_deref());
    let options = ExecOptions { mode: ExecMode::Build, ..*options };
    let output = execute_block(spec, &ctx, &txs, &state, &options)?;

    let mut included = Vec::with_capacity(candidates.len());
    let mut senders = Vec::with_capacity(candidates.len());
    let mut skipped = Vec::new();
    for ((tx, sender), outcome) in candidates.into_iter().zip(&output.outcomes) {
        match &outcome.status {
            ExecStatus::Skipped(reason) => {
                skipped.push(Skipped { hash: *tx.tx_hash(), sender, reason: reason.clone() })
            }
            _ => {
                included.push(tx);
                senders.push(sender);
            }
        }
    }
    let receipts: Vec<ReceiptEnvelope> = output.receipts().cloned().collect();
    let mut bloom = Bloom::ZERO;
    for receipt in &receipts {
        bloom.accrue_bloom(&receipt.bloom());
    }
    header.transactions_root = calculate_transaction_root(&included);
    header.receipts_root = calculate_receipt_root(&receipts);
    header.logs_bloom = bloom;
    header.gas_used = output.gas_used;
    header.blob_gas_used = cancun.then_some(output.blob_gas_used);
    header.requests_hash =
        active(Hardfork::Prague).then(|| output.requests.clone().unwrap_or_default().requests_hash());
    header.state_root = state_root(&output.diff)?;
    let hash = header.hash_slow();
    let body = BlockBody {
        transactions: included,
        ommers: Vec::new(),
        withdrawals: withdrawals.map(Withdrawals::new),
    };
    Ok(BuiltBlock { block: FileBlock { header, body }, hash, output, receipts, senders, skipped })
}
