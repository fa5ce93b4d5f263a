//! The `txpool_` namespace: counts (`txpool_status`), contents by sender and
//! nonce (`txpool_content`, `txpool_contentFrom`) and geth's one-line
//! summaries (`txpool_inspect`). Senders are keyed by checksummed address
//! and nonces by decimal string, as geth does.

use super::{Api, Json, Kind, Method, json};
use crate::{
    error::ApiResult,
    params::{self, Args},
    types::RpcTransaction,
};
use alloy_consensus::Transaction;
use alloy_primitives::{Address, U64};
use jsonrpsee::types::Params;
use mosaic_chain::PooledTx;
use serde::Serialize;
use std::{collections::BTreeMap, sync::Arc};

pub(crate) const METHODS: [(&str, Kind, Method); 4] = [
    ("txpool_status", Kind::Quick, status),
    ("txpool_content", Kind::Blocking, content),
    ("txpool_contentFrom", Kind::Quick, content_from),
    ("txpool_inspect", Kind::Blocking, inspect),
];

type ByNonce<T> = BTreeMap<String, T>;

#[derive(Serialize)]
struct Grouped<T> {
    pending: BTreeMap<String, ByNonce<T>>,
    queued: BTreeMap<String, ByNonce<T>>,
}

#[derive(Serialize)]
struct SenderGroup<T> {
    pending: ByNonce<T>,
    queued: ByNonce<T>,
}

fn by_nonce<T>(txs: &BTreeMap<u64, Arc<PooledTx>>, view: &impl Fn(&PooledTx) -> T) -> ByNonce<T> {
    txs.iter().map(|(nonce, tx)| (nonce.to_string(), view(tx))).collect()
}

fn by_sender<T>(
    groups: &BTreeMap<Address, BTreeMap<u64, Arc<PooledTx>>>,
    view: &impl Fn(&PooledTx) -> T,
) -> BTreeMap<String, ByNonce<T>> {
    groups.iter().map(|(sender, txs)| (sender.to_checksum(None), by_nonce(txs, view))).collect()
}

fn full(tx: &PooledTx) -> RpcTransaction {
    RpcTransaction::new(tx.tx(), tx.sender(), None)
}

fn summary(tx: &PooledTx) -> String {
    let tx = tx.tx();
    let to = tx.to().map_or_else(|| "contract creation".to_owned(), |to| to.to_checksum(None));
    let price = tx.gas_price().unwrap_or_else(|| tx.max_fee_per_gas());
    format!("{to}: {} wei + {} gas × {price} wei", tx.value(), tx.gas_limit())
}

fn status(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    let status = api.ctx.pool.status();
    json(&serde_json::json!({
        "pending": U64::from(status.pending),
        "queued": U64::from(status.queued),
    }))
}

fn content(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    let content = api.ctx.pool.content();
    json(&Grouped { pending: by_sender(&content.pending, &full), queued: by_sender(&content.queued, &full) })
}

fn content_from(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let sender = args.req(0, params::address)?;
    let content = api.ctx.pool.content_from(sender);
    json(&SenderGroup {
        pending: by_nonce(&content.pending, &full),
        queued: by_nonce(&content.queued, &full),
    })
}

fn inspect(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    let content = api.ctx.pool.content();
    json(&Grouped {
        pending: by_sender(&content.pending, &summary),
        queued: by_sender(&content.queued, &summary),
    })
}
