//! Every accepted transaction is mined: in each of many rounds, the ten dev
//! accounts send two transfers each to `mosaic node --dev`, the second while
//! the first may be being mined, so that admissions race block commits (a
//! transaction checked against the state of the block before the one that
//! just mined its predecessor). Every round must end with all its
//! transactions included; one stuck in the pool fails the test with the
//! pool's content. `MOSAIC_STREAM_ROUNDS` sets the rounds (100).

#![allow(clippy::unwrap_used)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Signature, TxKind, U256};
use mosaic_chain::DEV_ACCOUNTS;
use mosaic_rpc::compat::client::HttpClient;
use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_mosaic");

fn call(client: &mut HttpClient, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let answer: Value = serde_json::from_str(&client.post(&body).unwrap()).unwrap();
    assert!(answer.get("error").is_none(), "{method} {params}: {answer}");
    answer["result"].clone()
}

fn transfer(sender: usize, nonce: u64) -> (String, B256) {
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::with_last_byte(0xee)),
        value: U256::from(1),
        ..Default::default()
    };
    let key = k256::ecdsa::SigningKey::from_slice(DEV_ACCOUNTS[sender].1.as_slice()).unwrap();
    let (sig, recovery) = key.sign_prehash_recoverable(tx.signature_hash().as_slice()).unwrap();
    let envelope: TxEnvelope =
        tx.into_signed(Signature::from_signature_and_parity(sig, recovery.is_y_odd())).into();
    (format!("0x{}", alloy_primitives::hex::encode(envelope.encoded_2718())), *envelope.tx_hash())
}

#[test]
fn streamed_transactions_are_all_mined() {
    let rounds: u64 = std::env::var("MOSAIC_STREAM_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["node", "--dev", "--http.port", "0", "--ws.port", "0", "--datadir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let repairs = std::thread::spawn(move || {
        let lines = BufReader::new(stderr).lines().map_while(Result::ok);
        lines.filter(|line| line.contains("became pending on a re-read")).count()
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("HTTP JSON-RPC on http://") {
                let _ = tx.send(addr.trim().parse::<SocketAddr>().unwrap());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).expect("node printed no HTTP address");
    let mut client = HttpClient::new(addr);
    for round in 0..rounds {
        // Each dev account sends nonces 2k and 2k+1, the second a moment
        // after the first was accepted, while the first may be being mined.
        let sent: Vec<B256> = std::thread::scope(|scope| {
            let streams: Vec<_> = (0..DEV_ACCOUNTS.len())
                .map(|sender| {
                    scope.spawn(move || {
                        let mut client = HttpClient::new(addr);
                        let mut sent = Vec::new();
                        for nonce in [2 * round, 2 * round + 1] {
                            let (raw, hash) = transfer(sender, nonce);
                            assert_eq!(
                                call(&mut client, "eth_sendRawTransaction", json!([raw])),
                                json!(hash)
                            );
                            sent.push(hash);
                            std::thread::sleep(Duration::from_micros(
                                (round * 7 + sender as u64 * 13) % 3000,
                            ));
                        }
                        sent
                    })
                })
                .collect();
            streams.into_iter().flat_map(|s| s.join().unwrap()).collect()
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        for hash in &sent {
            while call(&mut client, "eth_getTransactionReceipt", json!([hash])).is_null() {
                if Instant::now() > deadline {
                    let pool = call(&mut client, "txpool_inspect", json!([]));
                    let _ = child.kill();
                    panic!(
                        "round {round}: transaction {hash} not mined 5 s after it was sent; txpool {pool}"
                    );
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    let nonces: Vec<Value> = DEV_ACCOUNTS
        .iter()
        .map(|(address, _)| call(&mut client, "eth_getTransactionCount", json!([address, "latest"])))
        .collect();
    assert!(nonces.iter().all(|n| *n == json!(format!("{:#x}", 2 * rounds))), "{nonces:?}");
    let _ = child.kill();
    let _ = child.wait();
    eprintln!("{rounds} rounds; the node repaired raced admissions {} times", repairs.join().unwrap());
}
