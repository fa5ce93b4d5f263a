//! The load of `mosaic bench rpc`, the same against any node: fund `S`
//! senders (keys derived from a seed) from the dev accounts, pre-sign `N`
//! EIP-1559 transfers (one wei each to a fresh address), then send them as
//! batched `eth_sendRawTransaction` calls over several concurrent
//! connections while a poller watches new blocks. A transaction counts as
//! done when the first block containing it is visible over RPC (its receipt
//! is then readable); afterwards every receipt is fetched and must have
//! status 1. Throughput is N over the time from the first submission to the
//! last inclusion; latency is per transaction, submission to inclusion.

use super::rpc_node::{JsonRpc, quantity};
use crate::chaingen::{address_of, key, sign};
use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, TxKind, U256, keccak256};
use eyre::{Result, bail, eyre};
use k256::ecdsa::SigningKey;
use mosaic_chain::DEV_ACCOUNTS;
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    time::{Duration, Instant},
};

/// Shape of the load.
#[derive(Debug, Clone, Copy)]
pub(super) struct LoadConfig {
    /// Transfers to send.
    pub(super) txs: usize,
    /// Distinct senders.
    pub(super) senders: usize,
    /// Concurrent HTTP connections sending.
    pub(super) connections: usize,
    /// Transactions per batched request.
    pub(super) batch: usize,
    /// Most transactions sent but not yet included (0: no limit).
    pub(super) window: usize,
    /// Seed of the sender keys.
    pub(super) seed: u64,
}

/// What one node did under the load.
#[derive(Debug, Clone)]
pub(super) struct LoadResult {
    /// Transactions included.
    pub(super) txs: usize,
    /// First submission to last inclusion.
    pub(super) elapsed: Duration,
    /// First submission to the last submission's answer.
    pub(super) submit: Duration,
    /// Blocks produced while the load ran.
    pub(super) blocks: u64,
    /// Submission-to-inclusion latencies, sorted.
    latencies: Vec<Duration>,
}

impl LoadResult {
    /// Sustained transactions per second.
    pub(super) fn tps(&self) -> f64 {
        self.txs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`-quantile (0..=1) latency in milliseconds.
    pub(super) fn latency_ms(&self, p: f64) -> f64 {
        let rank = ((p * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len().max(1));
        self.latencies.get(rank - 1).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    }
}

/// A pre-signed transaction.
struct Signed {
    raw: String,
    hash: B256,
}

/// Fees every transaction of the run offers.
#[derive(Clone, Copy)]
struct Fees {
    chain_id: u64,
    max_fee: u128,
    priority: u128,
}

fn transfer(from: &SigningKey, nonce: u64, to: Address, value: U256, fees: Fees) -> Result<Signed> {
    let tx = TxEip1559 {
        chain_id: fees.chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: fees.max_fee,
        max_priority_fee_per_gas: fees.priority,
        to: TxKind::Call(to),
        value,
        ..Default::default()
    };
    let envelope = sign(from, tx)?;
    let raw = format!("0x{}", alloy_primitives::hex::encode(envelope.encoded_2718()));
    Ok(Signed { raw, hash: *envelope.tx_hash() })
}

/// Runs the load against the node at `addr`.
pub(super) fn run_load(addr: SocketAddr, cfg: LoadConfig) -> Result<LoadResult> {
    let mut rpc = JsonRpc::new(addr);
    let chain_id = quantity(&rpc.call("eth_chainId", json!([]))?)?;
    let latest = rpc.call("eth_getBlockByNumber", json!(["latest", false]))?;
    let base_fee = latest.get("baseFeePerGas").map(quantity).transpose()?.unwrap_or(0) as u128;
    // Room for the base fee to rise while full blocks follow one another.
    let fees = Fees { chain_id, max_fee: (base_fee * 50).max(50_000_000_000), priority: 1_000_000_000 };
    let keys: Vec<SigningKey> = (0..cfg.senders).map(|i| key(cfg.seed, i)).collect();
    let per_sender = cfg.txs.div_ceil(cfg.senders.max(1)) as u128;
    let budget = per_sender * (21_000 * fees.max_fee + 1) + 10_000_000_000_000_000;
    fund(&mut rpc, fees, &keys, U256::from(budget))?;

    let calls: Vec<_> =
        keys.iter().map(|k| ("eth_getTransactionCount", json!([address_of(k), "pending"]))).collect();
    let nonces = rpc
        .batch(&calls)?
        .into_iter()
        .map(|r| quantity(&r.map_err(|e| eyre!(e))?))
        .collect::<Result<Vec<u64>>>()?;
    // Round-robin over the senders, each sender's nonces in order.
    let mut txs = Vec::with_capacity(cfg.txs);
    let mut owner = Vec::with_capacity(cfg.txs);
    'rounds: for round in 0.. {
        for (s, key) in keys.iter().enumerate() {
            if txs.len() == cfg.txs {
                break 'rounds;
            }
            let to = Address::from_word(keccak256(
                [cfg.seed.to_be_bytes(), (txs.len() as u64).to_be_bytes()].concat(),
            ));
            txs.push(transfer(key, nonces[s] + round, to, U256::from(1), fees)?);
            owner.push(s);
        }
    }
    let start_head = quantity(&rpc.call("eth_blockNumber", json!([]))?)?;
    measure(addr, cfg, &txs, &owner, start_head)
}

/// Funds every key with `amount` from the dev accounts, at most 50 pending
/// transactions per dev account at a time, and waits for the receipts.
fn fund(rpc: &mut JsonRpc, fees: Fees, keys: &[SigningKey], amount: U256) -> Result<()> {
    let funders: Vec<SigningKey> = DEV_ACCOUNTS
        .iter()
        .map(|(_, k)| SigningKey::from_slice(k.as_slice()).map_err(|e| eyre!("dev key: {e}")))
        .collect::<Result<_>>()?;
    let calls: Vec<_> =
        DEV_ACCOUNTS.iter().map(|(a, _)| ("eth_getTransactionCount", json!([a, "pending"]))).collect();
    let mut nonces = rpc
        .batch(&calls)?
        .into_iter()
        .map(|r| quantity(&r.map_err(|e| eyre!(e))?))
        .collect::<Result<Vec<u64>>>()?;
    for chunk in keys.chunks(funders.len() * 50) {
        let mut signed = Vec::with_capacity(chunk.len());
        for (j, key) in chunk.iter().enumerate() {
            let f = j % funders.len();
            signed.push(transfer(&funders[f], nonces[f], address_of(key), amount, fees)?);
            nonces[f] += 1;
        }
        for part in signed.chunks(100) {
            let calls: Vec<_> = part.iter().map(|t| ("eth_sendRawTransaction", json!([t.raw]))).collect();
            for (answer, tx) in rpc.batch(&calls)?.into_iter().zip(part) {
                answer.map_err(|e| eyre!("funding transaction {} refused: {e}", tx.hash))?;
            }
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut waiting: Vec<B256> = signed.iter().map(|t| t.hash).collect();
        while !waiting.is_empty() {
            if Instant::now() > deadline {
                bail!("{} funding transactions not mined in 60 s", waiting.len());
            }
            std::thread::sleep(Duration::from_millis(20));
            let calls: Vec<_> = waiting.iter().map(|h| ("eth_getTransactionReceipt", json!([h]))).collect();
            let answers = rpc.batch(&calls)?;
            let mut still = Vec::new();
            for (hash, answer) in waiting.iter().zip(answers) {
                match answer {
                    Ok(Value::Null) | Err(_) => still.push(*hash),
                    Ok(receipt) if receipt.get("status") != Some(&json!("0x1")) => {
                        bail!("funding transaction {hash} failed: {receipt}")
                    }
                    Ok(_) => {}
                }
            }
            waiting = still;
        }
    }
    Ok(())
}

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
fn measure(
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
    let mut latencies: Vec<Duration> =
        seen.iter().zip(&submitted).map(|(s, at)| s.saturating_sub(*at)).collect();
    latencies.sort_unstable();
    check_receipts(addr, txs)?;
    Ok(LoadResult {
        txs: txs.len(),
        elapsed: last - first,
        submit: last_submit - first,
        blocks: last_block - start_head,
        latencies,
    })
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
    let deadline = t0 + Duration::from_secs(60) + Duration::from_millis(index.len() as u64 * 10);
    while count < index.len() {
        progress.check()?;
        if Instant::now() > deadline {
            bail!("only {count} of {} transactions included before the deadline", index.len());
        }
        let head = quantity(&rpc.call("eth_blockNumber", json!([]))?)?;
        let now = t0.elapsed();
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
                    progress.included.store(count, Ordering::SeqCst);
                }
            }
        }
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
