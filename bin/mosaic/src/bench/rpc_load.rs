//! The load of `mosaic bench rpc`, the same against any node: fund `S`
//! senders (keys derived from a seed) from the dev accounts, pre-sign `N`
//! EIP-1559 transfers (one wei each to a fresh address), then send them as
//! batched `eth_sendRawTransaction` calls over several concurrent
//! connections while a poller watches new blocks. A transaction counts as
//! done when the first block containing it is visible over RPC (its receipt
//! is then readable); afterwards every receipt is fetched and must have
//! status 1. Throughput is N over the time from the first submission to the
//! last inclusion; latency is per transaction, submission to inclusion
//! (the timed part is in `rpc_send`).

use super::{
    rpc_node::{JsonRpc, quantity},
    rpc_send::measure,
};
use crate::chaingen::{address_of, key, sign};
use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, TxKind, U256, keccak256};
use eyre::{Result, bail, eyre};
use k256::ecdsa::SigningKey;
use mosaic_chain::DEV_ACCOUNTS;
use serde_json::{Value, json};
use std::{
    net::SocketAddr,
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
    /// Transactions per batched request. A batch never holds two
    /// transactions of one sender, so at most `senders / connections`:
    /// with consecutive nonces of a sender in one batch, some stayed queued
    /// in anvil 1.7.1 for good (it seems to admit a batch's calls in any
    /// order).
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
    /// A result from its timings (latencies in any order).
    pub(super) fn new(
        elapsed: Duration,
        submit: Duration,
        blocks: u64,
        mut latencies: Vec<Duration>,
    ) -> Self {
        latencies.sort_unstable();
        Self { txs: latencies.len(), elapsed, submit, blocks, latencies }
    }

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
pub(super) struct Signed {
    /// EIP-2718 encoding, `0x` hex.
    pub(super) raw: String,
    /// Transaction hash.
    pub(super) hash: B256,
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
        // One transaction per funder in a batch: see `LoadConfig::batch`.
        for part in signed.chunks(funders.len()) {
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
