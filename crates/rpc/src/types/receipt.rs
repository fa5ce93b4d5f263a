//! Receipts and logs as geth shows them. A stored receipt carries only the
//! status, cumulative gas, bloom and logs; the rest (per-transaction gas,
//! log positions, contract address, effective and blob gas prices) comes
//! from the block, its transactions and their senders, so receipts are
//! always built for a whole block at once.

use alloy_consensus::{Eip658Value, Header, ReceiptEnvelope, Transaction, TxEnvelope, TxReceipt};
use alloy_primitives::{Address, B256, Bloom, Bytes, Log, U64, U256};
use revm::primitives::eip4844::GAS_PER_BLOB;
use serde::Serialize;

/// A log with its position, geth's `types.Log` JSON.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RpcLog {
    pub(crate) address: Address,
    pub(crate) topics: Vec<B256>,
    pub(crate) data: Bytes,
    pub(crate) block_number: U64,
    pub(crate) transaction_hash: B256,
    pub(crate) transaction_index: U64,
    pub(crate) block_hash: B256,
    pub(crate) block_timestamp: U64,
    pub(crate) log_index: U64,
    pub(crate) removed: bool,
}

/// geth's receipt JSON.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RpcReceipt {
    #[serde(skip_serializing_if = "Option::is_none")]
    blob_gas_price: Option<U256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blob_gas_used: Option<U64>,
    block_hash: B256,
    block_number: U64,
    contract_address: Option<Address>,
    cumulative_gas_used: U64,
    effective_gas_price: U256,
    from: Address,
    gas_used: U64,
    pub(crate) logs: Vec<RpcLog>,
    logs_bloom: Bloom,
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<B256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<U64>,
    to: Option<Address>,
    transaction_hash: B256,
    transaction_index: U64,
    #[serde(rename = "type")]
    ty: U64,
}

/// A block's data that its receipts are built from.
pub(crate) struct BlockReceiptsInput<'a> {
    /// The block's header.
    pub header: &'a Header,
    /// Its hash.
    pub hash: B256,
    /// Its transactions.
    pub txs: &'a [TxEnvelope],
    /// Its stored receipts.
    pub receipts: &'a [ReceiptEnvelope],
    /// Its blob base fee (`None` before Cancun).
    pub blob_base_fee: Option<u128>,
}

fn rpc_log(input: &BlockReceiptsInput<'_>, tx_index: usize, log_index: usize, log: &Log) -> RpcLog {
    RpcLog {
        address: log.address,
        topics: log.topics().to_vec(),
        data: log.data.data.clone(),
        block_number: U64::from(input.header.number),
        transaction_hash: input.txs.get(tx_index).map(|tx| *tx.tx_hash()).unwrap_or_default(),
        transaction_index: U64::from(tx_index),
        block_hash: input.hash,
        block_timestamp: U64::from(input.header.timestamp),
        log_index: U64::from(log_index),
        removed: false,
    }
}

/// Every log of a block with its position, in order (`eth_getLogs`).
pub(crate) fn block_logs(input: &BlockReceiptsInput<'_>) -> Vec<RpcLog> {
    let mut out = Vec::new();
    for (index, receipt) in input.receipts.iter().enumerate() {
        for log in receipt.logs() {
            out.push(rpc_log(input, index, out.len(), log));
        }
    }
    out
}

/// The receipt of transaction `index` (sent by `from`); `None` if the block
/// has no such transaction.
pub(crate) fn receipt_at(input: &BlockReceiptsInput<'_>, index: usize, from: Address) -> Option<RpcReceipt> {
    let tx = input.txs.get(index)?;
    let receipt = input.receipts.get(index)?;
    let before = &input.receipts[..index];
    let previous_cumulative = before.last().map_or(0, TxReceipt::cumulative_gas_used);
    let log_offset: usize = before.iter().map(|r| r.logs().len()).sum();
    let logs = receipt
        .logs()
        .iter()
        .enumerate()
        .map(|(i, log)| rpc_log(input, index, log_offset + i, log))
        .collect();
    let (root, status) = match receipt.status_or_post_state() {
        Eip658Value::Eip658(ok) => (None, Some(U64::from(u8::from(ok)))),
        Eip658Value::PostState(root) => (Some(root), None),
    };
    let blob_gas_used =
        tx.blob_versioned_hashes().map(|hashes| U64::from(hashes.len() as u64 * GAS_PER_BLOB));
    Some(RpcReceipt {
        blob_gas_price: blob_gas_used.and(input.blob_base_fee).map(U256::from),
        blob_gas_used,
        block_hash: input.hash,
        block_number: U64::from(input.header.number),
        contract_address: tx.to().is_none().then(|| from.create(tx.nonce())),
        cumulative_gas_used: U64::from(receipt.cumulative_gas_used()),
        effective_gas_price: U256::from(tx.effective_gas_price(input.header.base_fee_per_gas)),
        from,
        gas_used: U64::from(receipt.cumulative_gas_used().saturating_sub(previous_cumulative)),
        logs,
        logs_bloom: *receipt.logs_bloom(),
        root,
        status,
        to: tx.to(),
        transaction_hash: *tx.tx_hash(),
        transaction_index: U64::from(index),
        ty: U64::from(u8::from(tx.tx_type())),
    })
}

/// Every receipt of a block, in order (`senders` of its transactions).
pub(crate) fn block_receipts(input: &BlockReceiptsInput<'_>, senders: &[Address]) -> Vec<RpcReceipt> {
    senders.iter().enumerate().filter_map(|(index, from)| receipt_at(input, index, *from)).collect()
}
