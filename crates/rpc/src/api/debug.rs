//! The raw encodings of the `debug_` namespace: `debug_getRawHeader` (header
//! RLP), `debug_getRawBlock` (block RLP), `debug_getRawReceipts` (each
//! receipt's EIP-2718 encoding) and `debug_getRawTransaction`.

use super::{Api, Json, Kind, Method, json, txs::raw_transaction};
use crate::{
    error::{ApiError, ApiResult},
    params::{self, Args, BlockId},
};
use alloy_consensus::Block;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::Bytes;
use jsonrpsee::types::Params;

pub(crate) const METHODS: [(&str, Kind, Method); 4] = [
    ("debug_getRawHeader", Kind::Quick, raw_header),
    ("debug_getRawBlock", Kind::Blocking, raw_block),
    ("debug_getRawReceipts", Kind::Blocking, raw_receipts),
    ("debug_getRawTransaction", Kind::Blocking, raw_tx),
];

fn raw_header(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let id = args.req(0, BlockId::parse)?;
    let snapshot = api.snapshot()?;
    let block = Api::resolve(&snapshot, id)?.ok_or_else(|| ApiError::server("header not found"))?;
    json(&Bytes::from(alloy_rlp::encode(Api::header(&snapshot, block)?)))
}

fn raw_block(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let id = args.req(0, BlockId::parse)?;
    let snapshot = api.snapshot()?;
    let block = api.block(&snapshot, id)?.ok_or_else(|| ApiError::server("block not found"))?;
    json(&Bytes::from(Block::rlp_encoded_from_parts(&block.header, &block.body)))
}

fn raw_receipts(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let id = args.req(0, BlockId::parse)?;
    let snapshot = api.snapshot()?;
    let block = api.block(&snapshot, id)?.ok_or_else(|| ApiError::server("block not found"))?;
    let receipts = block.receipts(&snapshot)?;
    let encoded: Vec<Bytes> = receipts.iter().map(|r| Bytes::from(r.encoded_2718())).collect();
    json(&encoded)
}

fn raw_tx(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let hash = args.req(0, params::hash)?;
    json(&raw_transaction(api, hash)?.unwrap_or_default())
}
