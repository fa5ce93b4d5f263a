//! Blocks: `eth_getBlockByNumber` / `ByHash` (transaction hashes or full
//! objects), `eth_getBlockTransactionCountBy*`, `eth_getUncleCountBy*`,
//! `eth_getUncleByBlock*AndIndex` and `eth_getBlockReceipts`. An unknown
//! block is `null`, as in geth.

use super::{Api, CachedBlock, Json, Kind, Method, json};
use crate::{
    error::ApiResult,
    params::{self, Args, BlockId, BlockTag},
    types::{
        BlockReceiptsInput, BlockTransactions, RpcBlock, RpcHeader, RpcTransaction, TxBlock, block_receipts,
    },
};
use alloy_consensus::{Block, Header, TxEnvelope};
use alloy_primitives::{B256, U64};
use jsonrpsee::types::Params;
use mosaic_storage::Body;

pub(crate) const METHODS: [(&str, Kind, Method); 11] = [
    ("eth_getBlockByNumber", Kind::Blocking, get_block_by_number),
    ("eth_getBlockByHash", Kind::Blocking, get_block_by_hash),
    ("eth_getBlockTransactionCountByNumber", Kind::Quick, tx_count_by_number),
    ("eth_getBlockTransactionCountByHash", Kind::Quick, tx_count_by_hash),
    ("eth_getUncleCountByBlockNumber", Kind::Quick, uncle_count_by_number),
    ("eth_getUncleCountByBlockHash", Kind::Quick, uncle_count_by_hash),
    ("eth_getUncleByBlockNumberAndIndex", Kind::Quick, uncle_by_number),
    ("eth_getUncleByBlockHashAndIndex", Kind::Quick, uncle_by_hash),
    ("eth_getBlockReceipts", Kind::Blocking, get_block_receipts),
    ("eth_getHeaderByNumber", Kind::Quick, get_header_by_number),
    ("eth_getHeaderByHash", Kind::Quick, get_header_by_hash),
];

/// The blob base fee of a block, `None` before Cancun.
pub(crate) fn blob_base_fee(api: &Api, header: &Header) -> Option<u128> {
    let schedule = api.ctx.spec.blob_schedule(header.number, header.timestamp)?;
    Some(alloy_eips::eip4844::fake_exponential(
        1,
        u128::from(header.excess_blob_gas.unwrap_or_default()),
        u128::from(schedule.update_fraction),
    ))
}

fn block_json(block: &CachedBlock, full: bool) -> ApiResult<RpcBlock> {
    let header = &block.header;
    let txs = &block.body.transactions;
    let transactions = if full {
        let senders = block.senders()?;
        BlockTransactions::Full(
            txs.iter()
                .zip(senders.iter())
                .enumerate()
                .map(|(index, (tx, from))| {
                    let at = TxBlock {
                        hash: block.block.hash,
                        number: header.number,
                        timestamp: header.timestamp,
                        base_fee: header.base_fee_per_gas,
                        index: index as u64,
                    };
                    RpcTransaction::new(tx, *from, Some(at))
                })
                .collect(),
        )
    } else {
        BlockTransactions::Hashes(txs.iter().map(|tx| *tx.tx_hash()).collect())
    };
    Ok(RpcBlock {
        header: RpcHeader::new(header, block.block.hash),
        size: U64::from(Block::rlp_length_for(header, &block.body)),
        transactions,
        uncles: block.body.ommers.iter().map(Header::hash_slow).collect(),
        withdrawals: block.body.withdrawals.as_ref().map(|w| w.to_vec()),
    })
}

fn block_by(api: &Api, id: BlockId, full: bool) -> ApiResult<Json> {
    let snapshot = api.snapshot()?;
    match api.block(&snapshot, id)? {
        Some(block) => json(&block_json(&block, full)?),
        None => json(&()),
    }
}

fn get_block_by_number(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let tag = args.req(0, BlockTag::parse)?;
    let full = args.opt(1, params::boolean)?.unwrap_or(false);
    block_by(api, BlockId::Tag(tag), full)
}

fn get_block_by_hash(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let hash = args.req(0, params::hash)?;
    let full = args.opt(1, params::boolean)?.unwrap_or(false);
    block_by(api, BlockId::Hash { hash, require_canonical: false }, full)
}

fn count(api: &Api, id: BlockId, of: impl Fn(&Body) -> usize) -> ApiResult<Json> {
    let snapshot = api.snapshot()?;
    match api.block(&snapshot, id)? {
        Some(block) => json(&U64::from(of(&block.body))),
        None => json(&()),
    }
}

fn tx_count_by_number(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    count(api, BlockId::Tag(args.req(0, BlockTag::parse)?), |b| b.transactions.len())
}

fn tx_count_by_hash(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let hash = args.req(0, params::hash)?;
    count(api, BlockId::Hash { hash, require_canonical: false }, |b| b.transactions.len())
}

fn uncle_count_by_number(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    count(api, BlockId::Tag(args.req(0, BlockTag::parse)?), |b| b.ommers.len())
}

fn uncle_count_by_hash(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let hash = args.req(0, params::hash)?;
    count(api, BlockId::Hash { hash, require_canonical: false }, |b| b.ommers.len())
}

fn uncle_at(api: &Api, id: BlockId, index: u64) -> ApiResult<Json> {
    let snapshot = api.snapshot()?;
    let Some(block) = api.block(&snapshot, id)? else { return json(&()) };
    match usize::try_from(index).ok().and_then(|i| block.body.ommers.get(i)) {
        Some(uncle) => {
            let hash = uncle.hash_slow();
            let empty = Block::<TxEnvelope> { header: uncle.clone(), body: Default::default() };
            json(&RpcBlock {
                header: RpcHeader::new(uncle, hash),
                size: U64::from(alloy_rlp::Encodable::length(&empty)),
                transactions: BlockTransactions::Hashes(Vec::new()),
                uncles: Vec::new(),
                withdrawals: None,
            })
        }
        None => json(&()),
    }
}

fn uncle_by_number(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let tag = args.req(0, BlockTag::parse)?;
    uncle_at(api, BlockId::Tag(tag), args.req(1, params::index)?)
}

fn uncle_by_hash(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let hash = args.req(0, params::hash)?;
    uncle_at(api, BlockId::Hash { hash, require_canonical: false }, args.req(1, params::index)?)
}

fn get_block_receipts(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let id = args.req(0, BlockId::parse)?;
    let snapshot = api.snapshot()?;
    let Some(block) = api.block(&snapshot, id)? else { return json(&()) };
    let receipts = block.receipts(&snapshot)?;
    let from = block.senders()?;
    let input = BlockReceiptsInput {
        header: &block.header,
        hash: block.block.hash,
        txs: &block.body.transactions,
        receipts: &receipts,
        blob_base_fee: blob_base_fee(api, &block.header),
    };
    json(&block_receipts(&input, &from))
}

fn header_by(api: &Api, id: BlockId) -> ApiResult<Json> {
    let snapshot = api.snapshot()?;
    let Some(block) = Api::resolve(&snapshot, id)? else { return json(&()) };
    json(&RpcHeader::new(&Api::header(&snapshot, block)?, block.hash))
}

fn get_header_by_number(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    header_by(api, BlockId::Tag(args.req(0, BlockTag::parse)?))
}

fn get_header_by_hash(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let hash: B256 = args.req(0, params::hash)?;
    header_by(api, BlockId::Hash { hash, require_canonical: false })
}
