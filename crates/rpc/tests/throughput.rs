//! Requests per second of a few methods against a local server (ignored:
//! a measurement, not a check; run with `--release -- --ignored
//! --nocapture`). Each client thread keeps one HTTP connection.

#![allow(clippy::unwrap_used)]
mod support;

use mosaic_rpc::compat::client::HttpClient;
use serde_json::json;
use std::{net::SocketAddr, time::Instant};
use support::{extra_keys, node, raw, transfer_from};

/// Runs `per_client` requests on each of `clients` connections; prints the
/// rate and asserts every answer is a result.
fn rate(
    addr: SocketAddr,
    label: &str,
    clients: usize,
    per_client: usize,
    make: impl Fn(usize, usize) -> String + Sync,
) {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for c in 0..clients {
            let make = &make;
            scope.spawn(move || {
                let mut client = HttpClient::new(addr);
                for i in 0..per_client {
                    let reply = client.post(&make(c, i)).unwrap();
                    assert!(reply.contains(r#""result""#), "{label}: {reply}");
                }
            });
        }
    });
    let total = clients * per_client;
    let per_second = total as f64 / started.elapsed().as_secs_f64();
    println!("{label:<26} {clients} clients: {per_second:>8.0} req/s ({total} requests)");
}

#[test]
#[ignore = "measurement"]
fn requests_per_second() {
    let node = node();
    let addr = node.handle.http_addr();
    println!("nproc {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    let from = node.address;
    for clients in [1, 4] {
        rate(addr, "eth_chainId", clients, 2000, |_, i| {
            json!({"jsonrpc":"2.0","id":i,"method":"eth_chainId"}).to_string()
        });
        rate(addr, "eth_getBalance", clients, 2000, |_, i| {
            json!({"jsonrpc":"2.0","id":i,"method":"eth_getBalance","params":[from, "latest"]}).to_string()
        });
        rate(addr, "eth_call (transfer)", clients, 500, |_, i| {
            let call = json!({"from": from, "to": from, "value": "0x1"});
            json!({"jsonrpc":"2.0","id":i,"method":"eth_call","params":[call]}).to_string()
        });
    }
    // 32 senders x 64 nonces, each client sending for 8 senders.
    let txs: Vec<Vec<String>> =
        extra_keys().iter().map(|k| (0..64).map(|n| raw(&transfer_from(k, n, 1))).collect()).collect();
    let flat: Vec<&String> = txs.iter().flatten().collect();
    let per_client = flat.len() / 4;
    rate(addr, "eth_sendRawTransaction", 4, per_client, |c, i| {
        let tx = flat[c * per_client + i];
        json!({"jsonrpc":"2.0","id":i,"method":"eth_sendRawTransaction","params":[tx]}).to_string()
    });
    assert_eq!(node.pool.status().pending, flat.len());
}
