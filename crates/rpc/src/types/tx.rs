//! Transactions as geth's `RPCTransaction` shows them: the signed fields of
//! each type, the recovered sender, the block it is in (all `null` while it
//! is pending), `gasPrice` as the price paid once mined (the fee cap while
//! pending), and both `v` and `yParity` for typed transactions.

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2930::AccessList;
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use serde::Serialize;

/// Where a mined transaction is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TxBlock {
    /// Block hash.
    pub hash: B256,
    /// Block number.
    pub number: u64,
    /// Block timestamp.
    pub timestamp: u64,
    /// Block base fee (for the effective gas price).
    pub base_fee: Option<u64>,
    /// Position in the block.
    pub index: u64,
}

/// An EIP-7702 authorization as geth prints it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RpcAuthorization {
    chain_id: U256,
    address: Address,
    nonce: U64,
    y_parity: U64,
    r: U256,
    s: U256,
}

/// geth's `RPCTransaction`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RpcTransaction {
    block_hash: Option<B256>,
    block_number: Option<U64>,
    block_timestamp: Option<U64>,
    from: Address,
    gas: U64,
    gas_price: U256,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_fee_per_gas: Option<U256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_priority_fee_per_gas: Option<U256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_fee_per_blob_gas: Option<U256>,
    hash: B256,
    input: Bytes,
    nonce: U64,
    to: Option<Address>,
    transaction_index: Option<U64>,
    value: U256,
    #[serde(rename = "type")]
    ty: U64,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_list: Option<AccessList>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chain_id: Option<U256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blob_versioned_hashes: Option<Vec<B256>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorization_list: Option<Vec<RpcAuthorization>>,
    v: U256,
    r: U256,
    s: U256,
    #[serde(skip_serializing_if = "Option::is_none")]
    y_parity: Option<U64>,
}

impl RpcTransaction {
    /// The view of `tx` sent by `from`, mined in `block` or pending.
    pub(crate) fn new(tx: &TxEnvelope, from: Address, block: Option<TxBlock>) -> Self {
        let signature = tx.signature();
        let parity = u64::from(signature.v());
        let typed = !matches!(tx, TxEnvelope::Legacy(_));
        let v = match tx {
            TxEnvelope::Legacy(signed) => match signed.tx().chain_id {
                Some(id) => U256::from(id) * U256::from(2) + U256::from(35 + parity),
                None => U256::from(27 + parity),
            },
            _ => U256::from(parity),
        };
        let dynamic = tx.is_dynamic_fee();
        let gas_price = match (dynamic, block) {
            (true, Some(b)) => tx.effective_gas_price(b.base_fee),
            (true, None) => tx.max_fee_per_gas(),
            (false, _) => tx.gas_price().unwrap_or_default(),
        };
        let authorization_list = tx.authorization_list().map(|list| {
            list.iter()
                .map(|a| RpcAuthorization {
                    chain_id: *a.chain_id(),
                    address: *a.address(),
                    nonce: U64::from(a.nonce()),
                    y_parity: U64::from(a.y_parity()),
                    r: a.r(),
                    s: a.s(),
                })
                .collect()
        });
        Self {
            block_hash: block.map(|b| b.hash),
            block_number: block.map(|b| U64::from(b.number)),
            block_timestamp: block.map(|b| U64::from(b.timestamp)),
            from,
            gas: U64::from(tx.gas_limit()),
            gas_price: U256::from(gas_price),
            max_fee_per_gas: dynamic.then(|| U256::from(tx.max_fee_per_gas())),
            max_priority_fee_per_gas: tx.max_priority_fee_per_gas().filter(|_| dynamic).map(U256::from),
            max_fee_per_blob_gas: tx.max_fee_per_blob_gas().map(U256::from),
            hash: *tx.tx_hash(),
            input: tx.input().clone(),
            nonce: U64::from(tx.nonce()),
            to: tx.to(),
            transaction_index: block.map(|b| U64::from(b.index)),
            value: tx.value(),
            ty: U64::from(u8::from(tx.tx_type())),
            access_list: if typed { Some(tx.access_list().cloned().unwrap_or_default()) } else { None },
            chain_id: tx.chain_id().map(U256::from),
            blob_versioned_hashes: tx.blob_versioned_hashes().map(<[B256]>::to_vec),
            authorization_list,
            v,
            r: signature.r(),
            s: signature.s(),
            y_parity: typed.then(|| U64::from(parity)),
        }
    }
}
