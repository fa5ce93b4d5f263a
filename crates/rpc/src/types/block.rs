//! Headers and blocks as geth shows them (`RPCMarshalHeader` /
//! `RPCMarshalBlock`): every header field under its JSON name, fork fields
//! only when the header has them, plus the block's RLP size, its
//! transactions (hashes or full objects), ommer hashes and withdrawals.

use super::tx::RpcTransaction;
use alloy_consensus::Header;
use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{Address, B64, B256, Bloom, Bytes, U64, U256};
use serde::Serialize;

/// A header (also the `newHeads` notification).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RpcHeader {
    #[serde(skip_serializing_if = "Option::is_none")]
    base_fee_per_gas: Option<U256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blob_gas_used: Option<U64>,
    difficulty: U256,
    #[serde(skip_serializing_if = "Option::is_none")]
    excess_blob_gas: Option<U64>,
    extra_data: Bytes,
    gas_limit: U64,
    gas_used: U64,
    hash: B256,
    logs_bloom: Bloom,
    miner: Address,
    mix_hash: B256,
    nonce: B64,
    number: U64,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_beacon_block_root: Option<B256>,
    parent_hash: B256,
    receipts_root: B256,
    #[serde(skip_serializing_if = "Option::is_none")]
    requests_hash: Option<B256>,
    sha3_uncles: B256,
    state_root: B256,
    timestamp: U64,
    transactions_root: B256,
    #[serde(skip_serializing_if = "Option::is_none")]
    withdrawals_root: Option<B256>,
}

impl RpcHeader {
    /// The view of `header`, whose hash is `hash`.
    pub(crate) fn new(header: &Header, hash: B256) -> Self {
        Self {
            base_fee_per_gas: header.base_fee_per_gas.map(U256::from),
            blob_gas_used: header.blob_gas_used.map(U64::from),
            difficulty: header.difficulty,
            excess_blob_gas: header.excess_blob_gas.map(U64::from),
            extra_data: header.extra_data.clone(),
            gas_limit: U64::from(header.gas_limit),
            gas_used: U64::from(header.gas_used),
            hash,
            logs_bloom: header.logs_bloom,
            miner: header.beneficiary,
            mix_hash: header.mix_hash,
            nonce: header.nonce,
            number: U64::from(header.number),
            parent_beacon_block_root: header.parent_beacon_block_root,
            parent_hash: header.parent_hash,
            receipts_root: header.receipts_root,
            requests_hash: header.requests_hash,
            sha3_uncles: header.ommers_hash,
            state_root: header.state_root,
            timestamp: U64::from(header.timestamp),
            transactions_root: header.transactions_root,
            withdrawals_root: header.withdrawals_root,
        }
    }
}

/// A block's transactions: hashes or full objects.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum BlockTransactions {
    /// `eth_getBlockBy*(.., false)`.
    Hashes(Vec<B256>),
    /// `eth_getBlockBy*(.., true)`.
    Full(Vec<RpcTransaction>),
}

/// A block.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RpcBlock {
    #[serde(flatten)]
    pub(crate) header: RpcHeader,
    pub(crate) size: U64,
    pub(crate) transactions: BlockTransactions,
    pub(crate) uncles: Vec<B256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) withdrawals: Option<Vec<Withdrawal>>,
}
