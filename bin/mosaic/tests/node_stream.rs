//! Every accepted transaction is mined: in each of many rounds, the ten dev
//! accounts send two transfers each to `mosaic node --dev`, the second while
//! the first may be being mined, so that admissions race block commits (a
//! transaction checked against the state of the block before the one that
//! just mined its predecessor). Every round must end with all its
//! transactions included; one stuck in the pool fails the test with the
//! pool's content. `MOSAIC_STREAM_ROUNDS` sets the rounds (100).

#![allow(clippy::unwrap_used)]

mod common;

use alloy_primitives::{Address, B256};
use common::{http_address, rpc as call, signed_transfer};
use mosaic_chain::DEV_ACCOUNTS;
use mosaic_rpc::compat::client::HttpClient;
use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_mosaic");

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
    let addr = http_address(stdout);
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
                            let (raw, hash) =
                                signed_transfer(sender, nonce, Address::with_last_byte(0xee), 1);
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
