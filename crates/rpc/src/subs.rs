//! WebSocket subscriptions (`eth_subscribe` / `eth_unsubscribe`): `newHeads`
//! (each new canonical header), `logs` (each matching log of a new block)
//! and `newPendingTransactions` (hashes, or full transactions with `true`).
//! New blocks arrive through [`Events::new_block`] (from
//! [`crate::RpcHandle::notify_new_block`]); they are read from the store in
//! order, once for all subscribers, and fanned out on broadcast channels.

use crate::{
    api::{Api, logs::LogFilter},
    error::ApiError,
    params::{self, BlockId, BlockTag},
    types::{BlockReceiptsInput, RpcHeader, RpcLog, RpcTransaction, block_logs},
};
use alloy_primitives::B256;
use jsonrpsee::{PendingSubscriptionSink, RpcModule, server::IdProvider, types::SubscriptionId};
use mosaic_storage::BlockRef;
use serde_json::{Value, value::RawValue};
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
use tokio::sync::{broadcast, mpsc};

/// How many blocks back a notification fills in when earlier ones were not
/// announced.
const MAX_GAP: u64 = 64;
const CHANNEL_CAPACITY: usize = 1024;

/// A new block as subscribers see it.
#[derive(Debug)]
pub(crate) struct NewBlock {
    header: Box<RawValue>,
    logs: Vec<RpcLog>,
}

/// The channels subscriptions read from.
#[derive(Debug, Clone)]
pub(crate) struct Events {
    blocks: broadcast::Sender<Arc<NewBlock>>,
    pending: broadcast::Sender<B256>,
    announce: mpsc::UnboundedSender<BlockRef>,
}

impl Events {
    /// Announces a new head.
    pub(crate) fn new_block(&self, head: BlockRef) {
        let _ = self.announce.send(head);
    }
}

/// Geth-style subscription ids: `0x` and 16 random bytes in hex.
#[derive(Debug)]
pub(crate) struct HexIds;

impl IdProvider for HexIds {
    fn next_id(&self) -> SubscriptionId<'static> {
        let bytes: [u8; 16] = rand::random();
        SubscriptionId::Str(format!("0x{}", alloy_primitives::hex::encode(bytes)).into())
    }
}

/// Reads blocks `from..=to` for the subscribers (they enter the block
/// cache: receipts of new blocks are what clients ask for next).
fn load_blocks(api: &Api, from: u64, to: u64) -> Vec<Arc<NewBlock>> {
    let Ok(snapshot) = api.snapshot() else { return Vec::new() };
    let mut out = Vec::new();
    for number in from..=to {
        let Ok(Some(block)) = api.block(&snapshot, BlockId::Tag(BlockTag::Number(number))) else { continue };
        let Ok(receipts) = block.receipts(&snapshot) else { continue };
        let input = BlockReceiptsInput {
            header: &block.header,
            hash: block.block.hash,
            txs: &block.body.transactions,
            receipts: &receipts,
            blob_base_fee: None,
        };
        let Ok(header) = serde_json::value::to_raw_value(&RpcHeader::new(&block.header, block.block.hash))
        else {
            continue;
        };
        out.push(Arc::new(NewBlock { header, logs: block_logs(&input) }));
    }
    out
}

/// Starts the event plumbing on the current runtime: the block announcer
/// task and the pool bridge thread (until `stop` is set).
pub(crate) fn start(api: Arc<Api>, stop: Arc<AtomicBool>) -> Events {
    let (blocks, _) = broadcast::channel(CHANNEL_CAPACITY);
    let (pending, _) = broadcast::channel(CHANNEL_CAPACITY * 4);
    let (announce, mut announced) = mpsc::unbounded_channel::<BlockRef>();
    let events = Events { blocks: blocks.clone(), pending: pending.clone(), announce };
    let block_api = Arc::clone(&api);
    tokio::spawn(async move {
        let mut last: Option<u64> = None;
        while let Some(head) = announced.recv().await {
            let from = match last {
                Some(n) if n < head.number && head.number - n <= MAX_GAP => n + 1,
                _ => head.number,
            };
            last = Some(head.number);
            if blocks.receiver_count() == 0 {
                continue;
            }
            let api = Arc::clone(&block_api);
            let Ok(loaded) = tokio::task::spawn_blocking(move || load_blocks(&api, from, head.number)).await
            else {
                continue;
            };
            for block in loaded {
                let _ = blocks.send(block);
            }
        }
    });
    let receiver = api.ctx.pool.subscribe_pending();
    let spawned = std::thread::Builder::new().name("rpc-pending".into()).spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match receiver.recv_timeout(std::time::Duration::from_millis(200)) {
                Ok(hash) => {
                    let _ = pending.send(hash);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    });
    drop(spawned);
    events
}

/// What a subscription delivers.
enum Kind {
    Heads,
    Logs(LogFilter),
    Pending { full: bool },
}

fn parse(params: &jsonrpsee::types::Params<'_>) -> Result<Kind, ApiError> {
    let args = params::Args::new(params, 2)?;
    let name =
        args.req(0, |v| v.as_str().map(str::to_owned).ok_or_else(|| "invalid subscription name".to_owned()))?;
    match name.as_str() {
        "newHeads" => Ok(Kind::Heads),
        "logs" => {
            let filter = match args.get(1) {
                None => LogFilter::default(),
                Some(Value::Object(object)) => LogFilter::parse(object)
                    .map_err(|e| ApiError::invalid_params(format!("invalid argument 1: {e}")))?,
                Some(_) => return Err(ApiError::invalid_params("invalid argument 1: invalid filter")),
            };
            Ok(Kind::Logs(filter))
        }
        "newPendingTransactions" => {
            Ok(Kind::Pending { full: args.opt(1, params::boolean)?.unwrap_or(false) })
        }
        other => Err(ApiError::new(
            crate::error::METHOD_NOT_FOUND,
            format!("no {other:?} subscription in eth namespace"),
        )),
    }
}

async fn serve(pending: PendingSubscriptionSink, kind: Kind, api: Arc<Api>, events: Events) {
    // Listen before the client learns its subscription id, so that a block
    // announced right after the reply is not missed.
    let blocks = matches!(kind, Kind::Heads | Kind::Logs(_)).then(|| events.blocks.subscribe());
    let hashes = matches!(kind, Kind::Pending { .. }).then(|| events.pending.subscribe());
    let Ok(sink) = pending.accept().await else { return };
    match kind {
        Kind::Heads | Kind::Logs(_) => {
            let Some(mut blocks) = blocks else { return };
            loop {
                let block = tokio::select! {
                    _ = sink.closed() => return,
                    block = blocks.recv() => block,
                };
                let block = match block {
                    Ok(block) => block,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let messages: Vec<Box<RawValue>> = match &kind {
                    Kind::Heads => vec![block.header.clone()],
                    Kind::Logs(filter) => block
                        .logs
                        .iter()
                        .filter(|log| filter.matches(&log.address, &log.topics))
                        .filter_map(|log| serde_json::value::to_raw_value(log).ok())
                        .collect(),
                    Kind::Pending { .. } => Vec::new(),
                };
                for message in messages {
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
            }
        }
        Kind::Pending { full } => {
            let Some(mut hashes) = hashes else { return };
            loop {
                let hash = tokio::select! {
                    _ = sink.closed() => return,
                    hash = hashes.recv() => hash,
                };
                let hash = match hash {
                    Ok(hash) => hash,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let message = if full {
                    let Some(tx) = api.ctx.pool.get(&hash) else { continue };
                    serde_json::value::to_raw_value(&RpcTransaction::new(tx.tx(), tx.sender(), None))
                } else {
                    serde_json::value::to_raw_value(&hash)
                };
                let Ok(message) = message else { continue };
                if sink.send(message).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Registers `eth_subscribe` / `eth_unsubscribe` on `module`.
pub(crate) fn register(module: &mut RpcModule<Api>, events: Events) -> Result<(), crate::RpcError> {
    module
        .register_subscription::<(), _, _>(
            "eth_subscribe",
            "eth_subscription",
            "eth_unsubscribe",
            move |params, pending, api, _| {
                let events = events.clone();
                let api = Arc::clone(&api);
                async move {
                    match parse(&params) {
                        Ok(kind) => serve(pending, kind, api, events).await,
                        Err(error) => pending.reject(error).await,
                    }
                }
            },
        )
        .map_err(|e| crate::RpcError::Register(e.to_string()))?;
    Ok(())
}
