//! Durability of `mosaic node --dev` under SIGKILL: transfers are sent over
//! JSON-RPC, what the node reports as committed (head block, receipts,
//! balances at that block) is recorded, and the process is killed with
//! SIGKILL — after all receipts arrived in some rounds, in the middle of
//! block production in others. After each restart on the same datadir
//! every recorded block, receipt and balance must be there unchanged, the
//! head must be the recorded one when the node was idle (never older), and
//! the chain must go on. At the end a SIGTERM must stop the node with exit
//! status 0 and the head's state root must match the stored trie.
//!
//! `MOSAIC_NODE_KILL_SEED` replays a run.

#![allow(clippy::unwrap_used)]

mod common;

use alloy_primitives::{Address, B256, U256};
use common::{http_address, rpc, signed_transfer as transfer};
use mosaic_chain::DEV_ACCOUNTS;
use mosaic_rpc::compat::client::HttpClient;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_mosaic");
const SENDERS: usize = 5;

struct Node {
    child: Child,
    addr: SocketAddr,
    rpc: HttpClient,
}

impl Node {
    /// Starts the dev node on `datadir` with OS-chosen ports.
    fn start(datadir: &Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["node", "--dev", "--http.port", "0", "--ws.port", "0", "--datadir"])
            .arg(datadir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = http_address(child.stdout.take().unwrap());
        Self { child, addr, rpc: HttpClient::new(addr) }
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        rpc(&mut self.rpc, method, params)
    }

    fn head(&mut self) -> (u64, String) {
        let block = self.call("eth_getBlockByNumber", json!(["latest", false]));
        (quantity(&block["number"]), block["hash"].as_str().unwrap().to_owned())
    }

    fn balance(&mut self, address: Address, block: u64) -> U256 {
        let value = self.call("eth_getBalance", json!([address, format!("{block:#x}")]));
        value.as_str().unwrap().parse().unwrap()
    }

    fn sigkill(mut self) {
        self.child.kill().unwrap(); // SIGKILL on Unix
        self.child.wait().unwrap();
    }
}

fn quantity(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// Sends `count` transfers round-robin from the first [`SENDERS`] dev
/// accounts, starting at `nonces`, to fresh recipients (added to
/// `recipients`); returns their hashes.
fn send_transfers(
    client: &mut HttpClient,
    nonces: &[u64],
    count: usize,
    rng: &mut StdRng,
    recipients: &mut Vec<Address>,
) -> Result<Vec<B256>, String> {
    let mut sent = Vec::with_capacity(count);
    for i in 0..count {
        let to = Address::from(rng.random::<[u8; 20]>());
        let sender = i % SENDERS;
        let (raw, hash) =
            transfer(sender, nonces[sender] + (i / SENDERS) as u64, to, rng.random_range(1..1000));
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [raw]});
        let answer: Value = serde_json::from_str(&client.post(&body.to_string()).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        if answer["result"] != json!(hash) {
            return Err(format!("eth_sendRawTransaction: {answer}"));
        }
        recipients.push(to);
        sent.push(hash);
    }
    Ok(sent)
}

/// What the node reported as committed before it was killed.
#[derive(Default)]
struct Committed {
    head: (u64, String),
    /// Block hash of every receipt seen.
    receipts: BTreeMap<B256, String>,
    /// Balances at `head.0`.
    balances: BTreeMap<Address, U256>,
}

/// Everything recorded so far is still there.
fn check_committed(node: &mut Node, committed: &Committed, exact_head: bool, seed: u64, round: usize) {
    let (number, hash) = committed.head.clone();
    let head = node.head();
    if exact_head {
        assert_eq!(head, (number, hash.clone()), "seed {seed} round {round}: head after restart");
    } else {
        assert!(head.0 >= number, "seed {seed} round {round}: head {} older than committed {number}", head.0);
    }
    let block = node.call("eth_getBlockByNumber", json!([format!("{number:#x}"), false]));
    assert_eq!(block["hash"], json!(hash), "seed {seed} round {round}: block {number}");
    for (tx, block_hash) in &committed.receipts {
        let receipt = node.call("eth_getTransactionReceipt", json!([tx]));
        assert_eq!(receipt["blockHash"], json!(block_hash), "seed {seed} round {round}: receipt of {tx}");
    }
    for (address, balance) in &committed.balances {
        assert_eq!(
            node.balance(*address, number),
            *balance,
            "seed {seed} round {round}: balance of {address}"
        );
    }
}

#[test]
fn node_keeps_committed_blocks_after_sigkill() {
    let seed =
        std::env::var("MOSAIC_NODE_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            now.as_nanos() as u64 ^ u64::from(std::process::id())
        });
    eprintln!("node kill test seed {seed} (MOSAIC_NODE_KILL_SEED={seed} to replay)");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("data");
    let mut committed = Committed::default();
    let mut recipients: Vec<Address> = Vec::new();
    for round in 0..6 {
        let idle = round % 2 == 0;
        let mut node = Node::start(&datadir);
        if round > 0 {
            check_committed(&mut node, &committed, !idle, seed, round);
        }
        // Transfers from the first dev accounts to fresh recipients.
        let nonces: Vec<u64> = (0..SENDERS)
            .map(|s| quantity(&node.call("eth_getTransactionCount", json!([DEV_ACCOUNTS[s].0, "latest"]))))
            .collect();
        let (sent, streamer) = if idle {
            // A burst, then every receipt: the node is idle when killed.
            let mut client = HttpClient::new(node.addr);
            let count = rng.random_range(20..80);
            let sent = send_transfers(&mut client, &nonces, count, &mut rng, &mut recipients).unwrap();
            let deadline = Instant::now() + Duration::from_secs(60);
            while sent.iter().any(|h| node.call("eth_getTransactionReceipt", json!([h])).is_null()) {
                assert!(Instant::now() < deadline, "seed {seed} round {round}: receipts missing after 60 s");
                std::thread::sleep(Duration::from_millis(20));
            }
            (sent, None)
        } else {
            // A stream from another thread, still going when the node is
            // recorded and killed.
            let (tx, rx) = mpsc::channel();
            let (addr, mut stream_rng) = (node.addr, StdRng::seed_from_u64(rng.random()));
            let streamer = std::thread::spawn(move || {
                let mut client = HttpClient::new(addr);
                let mut nonces = nonces;
                let mut recipients = Vec::new();
                // Ends when the node is gone.
                while let Ok(sent) =
                    send_transfers(&mut client, &nonces, SENDERS, &mut stream_rng, &mut recipients)
                {
                    nonces.iter_mut().for_each(|n| *n += 1);
                    if tx.send((sent, std::mem::take(&mut recipients))).is_err() {
                        break;
                    }
                }
            });
            std::thread::sleep(Duration::from_micros(rng.random_range(5_000..150_000)));
            let mut sent = Vec::new();
            for (hashes, to) in rx.try_iter() {
                sent.extend(hashes);
                recipients.extend(to);
            }
            (sent, Some(streamer))
        };
        committed.head = node.head();
        for hash in &sent {
            let receipt = node.call("eth_getTransactionReceipt", json!([hash]));
            if !receipt.is_null() {
                assert_eq!(receipt["status"], json!("0x1"));
                committed.receipts.insert(*hash, receipt["blockHash"].as_str().unwrap().to_owned());
            }
        }
        let watched = DEV_ACCOUNTS.iter().take(SENDERS).map(|(a, _)| *a).chain(recipients.iter().copied());
        let number = committed.head.0;
        committed.balances = watched.map(|a| (a, node.balance(a, number))).collect();
        eprintln!(
            "round {round}: SIGKILL {} at head {number}, {} receipts recorded",
            if idle { "when idle" } else { "while producing" },
            committed.receipts.len()
        );
        node.sigkill();
        if let Some(streamer) = streamer {
            streamer.join().unwrap();
        }
        // An idle node's head is exactly the recorded one after the restart.
        if idle {
            let mut node = Node::start(&datadir);
            check_committed(&mut node, &committed, true, seed, round);
            node.sigkill();
        }
    }
    // A last start, then a clean shutdown.
    let mut node = Node::start(&datadir);
    check_committed(&mut node, &committed, false, seed, 6);
    let (raw, hash) = transfer(
        0,
        quantity(&node.call("eth_getTransactionCount", json!([DEV_ACCOUNTS[0].0, "latest"]))),
        Address::ZERO,
        1,
    );
    assert_eq!(node.call("eth_sendRawTransaction", json!([raw])), json!(hash));
    let deadline = Instant::now() + Duration::from_secs(60);
    while node.call("eth_getTransactionReceipt", json!([hash])).is_null() {
        assert!(Instant::now() < deadline, "seed {seed}: the restarted node produced no block");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill").args(["-TERM", &node.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(node.child.wait().unwrap().success(), "seed {seed}: SIGTERM exit status");
    let store = mosaic_storage::Store::open(datadir.join("mosaic.redb")).unwrap();
    let snapshot = store.snapshot().unwrap();
    let head = snapshot.head().unwrap();
    let header = snapshot.header(head.hash).unwrap().unwrap();
    assert_eq!(store.latest_state().unwrap().state_root().unwrap(), header.state_root, "seed {seed}");
}
