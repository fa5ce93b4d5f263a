//! What executing a block produces.

use crate::StateDiff;
use alloy_consensus::{ReceiptEnvelope, TxReceipt, proofs::calculate_receipt_root};
use alloy_eips::eip7685::Requests;
use alloy_primitives::{Address, B256, Bloom, Bytes, Log};

/// How a transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecStatus {
    /// Executed and succeeded (receipt status 1).
    Success,
    /// Executed and reverted with `REVERT` (receipt status 0).
    Revert,
    /// Executed and halted (out of gas, invalid opcode, ...; status 0).
    Halt(String),
    /// Not included: invalid at its position in the block (build mode only).
    Skipped(String),
}

/// The outcome of one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxOutcome {
    /// How it ended.
    pub status: ExecStatus,
    /// Gas charged (after refunds and the EIP-7623 floor); zero if skipped.
    pub gas_used: u64,
    /// Gas used by the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// EIP-4844 blob gas.
    pub blob_gas_used: u64,
    /// Logs (empty unless successful).
    pub logs: Vec<Log>,
    /// Return or revert data.
    pub output: Bytes,
    /// Address of the created contract, for successful creations.
    pub contract_address: Option<Address>,
    /// The receipt, `None` if skipped.
    pub receipt: Option<ReceiptEnvelope>,
}

impl TxOutcome {
    /// Whether the transaction is part of the block.
    pub const fn is_included(&self) -> bool {
        self.receipt.is_some()
    }
}

/// How the parallel engine ran a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParallelStats {
    /// Threads used.
    pub threads: usize,
    /// Executions beyond one per transaction.
    pub reexecutions: usize,
    /// For each transaction, the earlier transactions whose writes its final
    /// incarnation read (the dependency DAG).
    pub dependencies: Vec<Vec<u32>>,
}

/// The result of executing a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutput {
    /// One entry per input transaction, in order.
    pub outcomes: Vec<TxOutcome>,
    /// Gas used by the block.
    pub gas_used: u64,
    /// Blob gas used by the block.
    pub blob_gas_used: u64,
    /// The block's state change.
    pub diff: StateDiff,
    /// EIP-7685 requests (Prague and later).
    pub requests: Option<Requests>,
    /// Present when the parallel engine ran the transactions.
    pub parallel: Option<ParallelStats>,
}

impl BlockOutput {
    /// Whether two outputs agree on everything consensus-relevant (outcomes,
    /// receipts, gas, requests and state diff), ignoring engine statistics.
    pub fn same_result(&self, other: &Self) -> bool {
        self.outcomes == other.outcomes
            && self.gas_used == other.gas_used
            && self.blob_gas_used == other.blob_gas_used
            && self.diff == other.diff
            && self.requests == other.requests
    }
}

impl BlockOutput {
    /// Receipts of the included transactions.
    pub fn receipts(&self) -> impl Iterator<Item = &ReceiptEnvelope> {
        self.outcomes.iter().filter_map(|o| o.receipt.as_ref())
    }

    /// The receipts trie root.
    pub fn receipts_root(&self) -> B256 {
        let receipts: Vec<&ReceiptEnvelope> = self.receipts().collect();
        calculate_receipt_root(&receipts)
    }

    /// The block's logs bloom.
    pub fn logs_bloom(&self) -> Bloom {
        let mut bloom = Bloom::ZERO;
        for r in self.receipts() {
            bloom.accrue_bloom(&r.bloom());
        }
        bloom
    }

    /// All logs of the block in order.
    pub fn logs(&self) -> impl Iterator<Item = &Log> {
        self.outcomes.iter().flat_map(|o| o.logs.iter())
    }
}
