//! Transactions: lookups by hash and by block position (mined ones first,
//! then the pool's), receipts, raw encodings, and `eth_sendRawTransaction`
//! into the pool.

use super::{Api, Json, Kind, Method, blocks::blob_base_fee, blocks::load_block, json};
use crate::{
    error::{ApiError, ApiResult},
    params::{self, Args, BlockId, BlockTag},
    types::{BlockReceiptsInput, RpcTransaction, TxBlock, receipt_at},
};
use alloy_consensus::{Header, TxEnvelope, transaction::SignerRecoverable};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes};
use jsonrpsee::types::Params;
use mosaic_chain::PoolHead;
use mosaic_storage::LatestState;
use rayon::prelude::*;
use std::sync::Arc;

pub(crate) const METHODS: [(&str, Kind, Method); 8] = [
    ("eth_getTransactionByHash", Kind::Blocking, get_transaction_by_hash),
    ("eth_getTransactionByBlockHashAndIndex", Kind::Blocking, by_block_hash_and_index),
    ("eth_getTransactionByBlockNumberAndIndex", Kind::Blocking, by_block_number_and_index),
    ("eth_getRawTransactionByHash", Kind::Blocking, raw_by_hash),
    ("eth_getRawTransactionByBlockHashAndIndex", Kind::Blocking, raw_by_block_hash_and_index),
    ("eth_getRawTransactionByBlockNumberAndIndex", Kind::Blocking, raw_by_block_number_and_index),
    ("eth_getTransactionReceipt", Kind::Blocking, get_transaction_receipt),
    ("eth_sendRawTransaction", Kind::Blocking, send_raw_transaction),
];

/// The sender of a stored transaction.
pub(crate) fn sender(tx: &TxEnvelope) -> ApiResult<Address> {
    tx.recover_signer().map_err(|e| {
        ApiError::internal(format!("stored transaction {} has a bad signature: {e}", tx.tx_hash()))
    })
}

/// The senders of a block's transactions, recovered in parallel.
pub(crate) fn senders(_api: &Api, _header: &Header, txs: &[TxEnvelope]) -> ApiResult<Vec<Address>> {
    if txs.len() < 8 {
        return txs.iter().map(sender).collect();
    }
    txs.par_iter().map(sender).collect()
}

fn tx_block(header: &Header, hash: B256, index: u64) -> TxBlock {
    TxBlock {
        hash,
        number: header.number,
        timestamp: header.timestamp,
        base_fee: header.base_fee_per_gas,
        index,
    }
}

fn get_transaction_by_hash(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let hash = args.req(0, params::hash)?;
    let snapshot = api.snapshot()?;
    if let Some((tx, location, _)) = snapshot.transaction(hash)? {
        let header = Api::header(
            &snapshot,
            mosaic_storage::BlockRef { number: location.block_number, hash: location.block_hash },
        )?;
        let at = tx_block(&header, location.block_hash, u64::from(location.index));
        return json(&RpcTransaction::new(&tx, sender(&tx)?, Some(at)));
    }
    match api.ctx.pool.get(&hash) {
        Some(pooled) => json(&RpcTransaction::new(pooled.tx(), pooled.sender(), None)),
        None => json(&()),
    }
}

/// The transaction at `index` of the block `id` names.
fn at_index(api: &Api, id: BlockId, index: u64) -> ApiResult<Option<(TxEnvelope, TxBlock)>> {
    let snapshot = api.snapshot()?;
    let Some((block_ref, block)) = load_block(&snapshot, id)? else { return Ok(None) };
    let Some(tx) = usize::try_from(index).ok().and_then(|i| block.body.transactions.get(i)) else {
        return Ok(None);
    };
    Ok(Some((tx.clone(), tx_block(&block.header, block_ref.hash, index))))
}

fn by_position(api: &Api, id: BlockId, index: u64) -> ApiResult<Json> {
    match at_index(api, id, index)? {
        Some((tx, at)) => json(&RpcTransaction::new(&tx, sender(&tx)?, Some(at))),
        None => json(&()),
    }
}

fn by_block_hash_and_index(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let hash = args.req(0, params::hash)?;
    by_position(api, BlockId::Hash { hash, require_canonical: false }, args.req(1, params::index)?)
}

fn by_block_number_and_index(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let tag = args.req(0, BlockTag::parse)?;
    by_position(api, BlockId::Tag(tag), args.req(1, params::index)?)
}

/// The EIP-2718 encoding of a transaction by hash (mined or pooled).
pub(crate) fn raw_transaction(api: &Api, hash: B256) -> ApiResult<Option<Bytes>> {
    let snapshot = api.snapshot()?;
    if let Some((tx, _, _)) = snapshot.transaction(hash)? {
        return Ok(Some(tx.encoded_2718().into()));
    }
    Ok(api.ctx.pool.get(&hash).map(|pooled| pooled.tx().encoded_2718().into()))
}

fn raw_by_hash(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let hash = args.req(0, params::hash)?;
    match raw_transaction(api, hash)? {
        Some(raw) => json(&raw),
        None => json(&Bytes::new()),
    }
}

fn raw_at(api: &Api, id: BlockId, index: u64) -> ApiResult<Json> {
    match at_index(api, id, index)? {
        Some((tx, _)) => json(&Bytes::from(tx.encoded_2718())),
        None => json(&Bytes::new()),
    }
}

fn raw_by_block_hash_and_index(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let hash = args.req(0, params::hash)?;
    raw_at(api, BlockId::Hash { hash, require_canonical: false }, args.req(1, params::index)?)
}

fn raw_by_block_number_and_index(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let tag = args.req(0, BlockTag::parse)?;
    raw_at(api, BlockId::Tag(tag), args.req(1, params::index)?)
}

fn get_transaction_receipt(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let hash = args.req(0, params::hash)?;
    let snapshot = api.snapshot()?;
    let Some(location) = snapshot.transaction_location(hash)? else { return json(&()) };
    let missing =
        |what: &str| ApiError::internal(format!("{what} of block {} missing", location.block_number));
    let header = snapshot.header(location.block_hash)?.ok_or_else(|| missing("header"))?;
    let body = snapshot.body(location.block_hash)?.ok_or_else(|| missing("body"))?;
    let receipts = snapshot.receipts(location.block_hash)?.ok_or_else(|| missing("receipts"))?;
    let index = location.index as usize;
    let tx = body.transactions.get(index).ok_or_else(|| missing("transaction"))?;
    let input = BlockReceiptsInput {
        header: &header,
        hash: location.block_hash,
        txs: &body.transactions,
        receipts: &receipts,
        blob_base_fee: blob_base_fee(api, &header),
    };
    json(&receipt_at(&input, index, sender(tx)?))
}

fn send_raw_transaction(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let raw = args.req(0, params::bytes)?;
    let snapshot = Arc::new(api.snapshot()?);
    let head = snapshot.require_head()?;
    let header = Api::header(&snapshot, head)?;
    let pool_head = PoolHead::from_header(&api.ctx.spec, &header);
    let state = LatestState::new(snapshot);
    let hash = api
        .ctx
        .pool
        .add_raw(&raw, &pool_head, &state)
        .map_err(|e| ApiError::new(e.rpc_code(), e.to_string()))?;
    (api.ctx.on_new_tx)();
    json(&hash)
}
