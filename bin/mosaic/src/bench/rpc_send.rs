//! The timed part of `mosaic bench rpc`: pre-signed transactions go out as
//! batched `eth_sendRawTransaction` calls over several connections (each
//! sender's transactions on one connection, in nonce order, never two in one
//! batch), at most a window of them in flight, while one more connection
//! polls new blocks and notes when each transaction was first seen in one.
//! Then every receipt is fetched and must have status 1.

use super::{
    rpc_load::{LoadConfig, LoadResult, Signed},
    rpc_node::{JsonRpc, quantity},
};
use alloy_primitives::B256;
use eyre::{Result, bail, eyre};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    time::{Duration, Instant},
};

/// Shared between the sending threads and the block poller.
#[derive(Debug, Default)]
struct Progress {
    /// Set when any thread failed: the others stop.
    abort: AtomicBool,
    /// Transactions sent (first attempts).
    sent: AtomicUsize,
    /// Transactions seen in blocks.
    included: AtomicUsize,
}

impl Progress {
    fn check(&self) -> Result<()> {
        if self.abort.load(Ordering::SeqCst) { Err(eyre!(ABORTED)) } else { Ok(()) }
    }
}

const ABORTED: &str = "aborted";

/// Sends `txs` (sender `owner[i]` for the i-th) over `cfg.connections`
/// connections while polling blocks; returns the timings.
pub(super) fn measure(
    addr: SocketAddr,
    cfg: LoadConfig,
    txs: &[Signed],
    owner: &[usize],
    start_head: u64,
) -> Result<LoadResult> {
    let connections = cfg.connections.max(1);
    let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); connections];
    for (i, s) in owner.iter().enumerate() {
        lanes[s % connections].push(i);
    }
    let index: HashMap<B256, usize> = txs.iter().enumerate().map(|(i, t)| (t.hash, i)).collect();
    let progress = Progress::default();
    let t0 = Instant::now();
    let (submitted, polled) = std::thread::scope(|scope| {
        let poller = scope.spawn(|| {
            let result = poll_blocks(addr, &index, start_head, t0, &progress);
            progress.abort.store(true, Ordering::SeqCst);
            result
        });
        let senders: Vec<_> = lanes
            .iter()
            .map(|lane| {
                scope.spawn(|| {
                    let result = send_lane(addr, txs, lane, cfg, t0, &progress);
                    if result.is_err() {
                        progress.abort.store(true, Ordering::SeqCst);
                    }
                    result
                })
            })
            .collect();
        let mut submitted = vec![Duration::ZERO; txs.len()];
        let mut errors = Vec::new();
        for sender in senders {
            match sender.join().map_err(|_| eyre!("sender thread panicked")).and_then(|r| r) {
                Ok(times) => times.into_iter().for_each(|(i, at)| submitted[i] = at),
                Err(e) => errors.push(e),
            }
        }
        let polled = poller.join().map_err(|_| eyre!("poller thread panicked")).and_then(|r| r);
        // Report the error that stopped the others, not their "aborted".
        match polled {
            Ok(polled) if errors.is_empty() => Ok((submitted, polled)),
            Ok(_) => Err(errors.remove(0)),
            Err(e) => Err(errors.into_iter().find(|e| e.to_string() != ABORTED).unwrap_or(e)),
        }
    })?;
    let (seen, last_block) = polled;
    let first = submitted.iter().min().copied().unwrap_or_default();
    let last_submit = submitted.iter().max().copied().unwrap_or_default();
    let last = seen.iter().max().copied().unwrap_or_default();
    let latencies = seen.iter().zip(&submitted).map(|(s, at)| s.saturating_sub(*at)).collect();
    check_receipts(addr, txs)?;
    Ok(LoadResult::new(last - first, last_submit - first, last_block - start_head, latencies))
}

/// Sends the transactions `lane` indexes in batches, keeping at most
/// `cfg.window` transactions of the whole run sent but not yet included;
/// returns when each was first submitted. Refused ones (a full pool, a
/// sender over its limit) are sent again until accepted.
fn send_lane(
    addr: SocketAddr,
    txs: &[Signed],
    lane: &[usize],
    cfg: LoadConfig,
    t0: Instant,
    progress: &Progress,
) -> Result<Vec<(usize, Duration)>> {
    let mut rpc = JsonRpc::new(addr);
    let mut times = Vec::with_capacity(lane.len());
    let mut pending: Vec<usize> = lane.to_vec();
    let window = if cfg.window == 0 { usize::MAX } else { cfg.window.max(cfg.batch) };
    for attempt in 0.. {
        let mut refused = Vec::new();
        for part in pending.chunks(cfg.batch.max(1)) {
            if attempt == 0 {
                while progress.sent.load(Ordering::SeqCst) + part.len()
                    > progress.included.load(Ordering::SeqCst).saturating_add(window)
                {
                    progress.check()?;
                    std::thread::sleep(Duration::from_micros(500));
                }
                progress.sent.fetch_add(part.len(), Ordering::SeqCst);
            }
            progress.check()?;
            let at = t0.elapsed();
            let calls: Vec<_> =
                part.iter().map(|&i| ("eth_sendRawTransaction", json!([txs[i].raw]))).collect();
            let answers = rpc.batch(&calls)?;
            for (&i, answer) in part.iter().zip(answers) {
                if attempt == 0 {
                    times.push((i, at));
                }
                match answer {
                    Ok(hash) if hash == json!(txs[i].hash) => {}
                    Ok(other) => bail!("eth_sendRawTransaction answered {other}, expected {}", txs[i].hash),
                    // geth's and anvil's words for a duplicate of an accepted one.
                    Err(message) if attempt > 0 && is_duplicate(&message) => {}
                    Err(message) => refused.push((i, message)),
                }
            }
        }
        if refused.is_empty() {
            break;
        }
        if attempt == 400 {
            let (i, message) = &refused[0];
            bail!("transaction {} still refused after {attempt} tries: {message}", txs[*i].hash);
        }
        if attempt == 0 {
            eprintln!("{} transactions refused, sending them again (first: {})", refused.len(), refused[0].1);
        }
        pending = refused.into_iter().map(|(i, _)| i).collect();
        std::thread::sleep(Duration::from_millis(25));
    }
    Ok(times)
}

fn is_duplicate(message: &str) -> bool {
    message.contains("already known") || message.contains("already imported")
}

/// How long the poller waits for a new block before it gives up.
const STALL: Duration = Duration::from_secs(20);

/// Polls new blocks until every transaction in `index` was seen; returns
/// when each was (relative to `t0`) and the last block number.
fn poll_blocks(
    addr: SocketAddr,
    index: &HashMap<B256, usize>,
    start_head: u64,
    t0: Instant,
    progress: &Progress,
) -> Result<(Vec<Duration>, u64)> {
    let mut rpc = JsonRpc::new(addr);
    let mut seen: Vec<Option<Duration>> = vec![None; index.len()];
    let mut count = 0;
    let mut last = start_head;
    let mut last_progress = Instant::now();
    while count < index.len() {
        progress.check()?;
        let head = quantity(&rpc.call("eth_blockNumber", json!([]))?)?;
        let now = t0.elapsed();
        if head > last {
            last_progress = Instant::now();
        } else if last_progress.elapsed() > STALL {
            bail!(
                "stalled: no new block for {} s with {count} of {} transactions included",
                STALL.as_secs(),
                index.len()
            );
        }
        for from in (last + 1..=head).step_by(100) {
            let calls: Vec<_> = (from..=head.min(from + 99))
                .map(|n| ("eth_getBlockByNumber", json!([format!("{n:#x}"), false])))
                .collect();
            for block in rpc.batch(&calls)? {
                let block = block.map_err(|e| eyre!("eth_getBlockByNumber: {e}"))?;
                let hashes = block.get("transactions").and_then(Value::as_array).cloned().unwrap_or_default();
                for hash in hashes {
                    let Some(&i) =
                        hash.as_str().and_then(|h| h.parse::<B256>().ok()).and_then(|h| index.get(&h))
                    else {
                        continue;
                    };
                    if seen[i].is_none() {
                        seen[i] = Some(now);
                        count += 1;
                    }
                }
            }
        }
        progress.included.store(count, Ordering::SeqCst);
        last = head;
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok((seen.into_iter().map(Option::unwrap_or_default).collect(), last))
}

/// Every transaction has a receipt with status 1.
fn check_receipts(addr: SocketAddr, txs: &[Signed]) -> Result<()> {
    let mut rpc = JsonRpc::new(addr);
    for part in txs.chunks(200) {
        let calls: Vec<_> = part.iter().map(|t| ("eth_getTransactionReceipt", json!([t.hash]))).collect();
        for (answer, tx) in rpc.batch(&calls)?.into_iter().zip(part) {
            let receipt = answer.map_err(|e| eyre!("receipt of {}: {e}", tx.hash))?;
            if receipt.get("status") != Some(&json!("0x1")) {
                bail!("transaction {} has no successful receipt: {receipt}", tx.hash);
            }
        }
    }
    Ok(())
}
