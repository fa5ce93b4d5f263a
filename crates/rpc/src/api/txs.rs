//! Transactions: lookups by hash and by block position (mined ones first,
//! then the pool's), receipts, raw encodings, and `eth_sendRawTransaction`
//! into the pool.

use super::{Api, CachedBlock, Json, Kind, Method, blocks::blob_base_fee, json};
use crate::{
    error::{ApiError, ApiResult},
    params::{self, Args, BlockId, BlockTag},
    types::{BlockReceiptsInput, RpcTransaction, TxBlock, receipt_at},
};
use alloy_consensus::Header;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{B256, Bytes};
use jsonrpsee::types::Params;
use mosaic_chain::PoolHead;
use mosaic_storage::{BlockRef, LatestState, Snapshot};
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
    if let Some((block, index)) = mined(api, &snapshot, hash)?
        && let Some(tx) = block.body.transactions.get(index)
    {
        let at = tx_block(&block.header, block.block.hash, index as u64);
        return json(&RpcTransaction::new(tx, block.sender_of(index)?, Some(at)));
    }
    match api.ctx.pool.get(&hash) {
        Some(pooled) => json(&RpcTransaction::new(pooled.tx(), pooled.sender(), None)),
        None => json(&()),
    }
}

/// The block holding a mined transaction and its position.
fn mined(api: &Api, snapshot: &Snapshot, hash: B256) -> ApiResult<Option<(Arc<CachedBlock>, usize)>> {
    let Some(location) = snapshot.transaction_location(hash)? else { return Ok(None) };
    let block = BlockRef { number: location.block_number, hash: location.block_hash };
    Ok(api.blocks.get(snapshot, block)?.map(|b| (b, location.index as usize)))
}

/// The block `id` names and `index` if it has such a transaction.
fn at_index(api: &Api, id: BlockId, index: u64) -> ApiResult<Option<(Arc<CachedBlock>, usize)>> {
    let snapshot = api.snapshot()?;
    let Some(block) = api.block(&snapshot, id)? else { return Ok(None) };
    match usize::try_from(index) {
        Ok(i) if i < block.body.transactions.len() => Ok(Some((block, i))),
        _ => Ok(None),
    }
}

fn by_position(api: &Api, id: BlockId, index: u64) -> ApiResult<Json> {
    let Some((block, i)) = at_index(api, id, index)? else { return json(&()) };
    let Some(tx) = block.body.transactions.get(i) else { return json(&()) };
    let at = tx_block(&block.header, block.block.hash, index);
    json(&RpcTransaction::new(tx, block.sender_of(i)?, Some(at)))
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
    if let Some((block, index)) = mined(api, &snapshot, hash)?
        && let Some(tx) = block.body.transactions.get(index)
    {
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
    let tx = at_index(api, id, index)?
        .and_then(|(block, i)| block.body.transactions.get(i).map(Encodable2718::encoded_2718));
    json(&Bytes::from(tx.unwrap_or_default()))
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
    let Some((block, index)) = mined(api, &snapshot, hash)? else { return json(&()) };
    let receipts = block.receipts(&snapshot)?;
    let input = BlockReceiptsInput {
        header: &block.header,
        hash: block.block.hash,
        txs: &block.body.transactions,
        receipts: &receipts,
        blob_base_fee: blob_base_fee(api, &block.header),
    };
    json(&receipt_at(&input, index, block.sender_of(index)?))
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
