//! The server against bad input and its transports: malformed JSON, invalid
//! requests, unknown methods, wrong parameter types, oversized bodies and
//! batches, a few hundred random requests — each answered with the
//! JSON-RPC error code the spec uses, the server answering normally after
//! all of them; calls with timeouts, gas caps, overrides and revert data;
//! WebSocket subscriptions; CORS only when configured.

#![allow(clippy::unwrap_used)]
mod support;

use alloy_primitives::{Address, B256};
use mosaic_rpc::{RpcConfig, RpcLimits};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{LOOP, call, node, node_with, post, raw, transfer};

fn error_code(reply: &Value) -> Option<i64> {
    reply.get("error").and_then(|e| e.get("code")).and_then(Value::as_i64)
}

fn still_answers(addr: std::net::SocketAddr) {
    let reply = call(addr, "eth_chainId", json!([]));
    assert_eq!(reply["result"], "0x539", "{reply}");
}

#[test]
fn malformed_requests_get_spec_error_codes() {
    let node = node_with(RpcConfig {
        limits: RpcLimits { max_request_bytes: 64 * 1024, max_batch_len: 50, ..RpcLimits::default() },
        ..RpcConfig::default()
    });
    let addr = node.handle.http_addr();
    let body = |b: &[u8]| serde_json::from_str::<Value>(&post(addr, b).body).unwrap_or(Value::Null);
    assert_eq!(error_code(&body(b"{\"jsonrpc\":")), Some(-32700));
    assert_eq!(error_code(&body(b"[1, 2")), Some(-32700));
    assert_eq!(error_code(&body(br#"{"jsonrpc":"2.0","id":1}"#)), Some(-32600));
    assert_eq!(
        error_code(&body(br#"{"jsonrpc":"2.0","id":1,"method":"eth_nope","params":[]}"#)),
        Some(-32601)
    );
    assert_eq!(
        error_code(&body(br#"{"jsonrpc":"2.0","id":1,"method":"admin_peers","params":[]}"#)),
        Some(-32601)
    );
    assert_eq!(
        error_code(&body(br#"{"jsonrpc":"2.0","id":1,"method":"personal_listAccounts"}"#)),
        Some(-32601)
    );
    for params in
        [json!([123]), json!(["0xzz"]), json!({"a": 1}), json!([null]), json!(["0x00", "latest", 1])]
    {
        let reply = call(addr, "eth_getBalance", params.clone());
        assert_eq!(error_code(&reply), Some(-32602), "{params}: {reply}");
    }
    let reply = call(addr, "eth_getBlockByNumber", json!(["2", false]));
    assert_eq!(reply["error"]["message"], "invalid argument 0: hex string without 0x prefix");
    let reply = call(addr, "eth_sendRawTransaction", json!(["0x1234"]));
    assert_eq!(error_code(&reply), Some(-32000), "{reply}");
    // A batch answers each member; too large a batch is refused whole.
    let batch = json!([
        {"jsonrpc":"2.0","id":1,"method":"eth_chainId"},
        {"jsonrpc":"2.0","id":2,"method":"eth_nope"},
        {"jsonrpc":"2.0","id":3,"method":"eth_getBalance","params":[5]},
    ]);
    let answers: Vec<Value> = serde_json::from_str(&post(addr, batch.to_string().as_bytes()).body).unwrap();
    let codes: Vec<_> = answers.iter().map(error_code).collect();
    assert_eq!(codes.len(), 3);
    assert!(codes.contains(&None) && codes.contains(&Some(-32601)) && codes.contains(&Some(-32602)));
    let huge: Vec<Value> = (0..51).map(|i| json!({"jsonrpc":"2.0","id":i,"method":"eth_chainId"})).collect();
    let reply = body(serde_json::to_string(&huge).unwrap().as_bytes());
    assert!(error_code(&reply).is_some(), "{reply}");
    // An oversized body is refused before it is parsed.
    let big =
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["{}"]}}"#, "a".repeat(100_000));
    let reply = post(addr, big.as_bytes());
    assert!(
        reply.status == 413
            || error_code(&serde_json::from_str(&reply.body).unwrap_or(Value::Null)).is_some()
    );
    still_answers(addr);
}

/// Random JSON of bounded depth.
fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random::<i64>()),
        3 => json!(format!("0x{:x}", rng.random::<u64>())),
        4 => {
            let strings = ["latest", "pending", "0x", "0x0", "", "earliest", "0x01", "zz"];
            json!(strings[rng.random_range(0..strings.len())])
        }
        5 => Value::Array((0..rng.random_range(0..4)).map(|_| random_json(rng, depth - 1)).collect()),
        _ => {
            let keys = ["from", "to", "data", "gas", "address", "topics", "blockHash", "fromBlock", "value"];
            let mut object = serde_json::Map::new();
            for _ in 0..rng.random_range(0..4) {
                object.insert(keys[rng.random_range(0..keys.len())].into(), random_json(rng, depth - 1));
            }
            Value::Object(object)
        }
    }
}

#[test]
fn random_requests_never_break_the_server() {
    let node = node();
    let addr = node.handle.http_addr();
    let seed = std::env::var("RPC_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("RPC_FUZZ_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let methods = [
        "eth_chainId",
        "eth_blockNumber",
        "eth_getBalance",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_getStorageValues",
        "eth_getTransactionCount",
        "eth_getProof",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getBlockReceipts",
        "eth_getTransactionByHash",
        "eth_getTransactionReceipt",
        "eth_getLogs",
        "eth_call",
        "eth_estimateGas",
        "eth_createAccessList",
        "eth_feeHistory",
        "eth_gasPrice",
        "eth_sendRawTransaction",
        "eth_config",
        "txpool_content",
        "txpool_contentFrom",
        "debug_getRawBlock",
        "debug_getRawHeader",
        "debug_getRawReceipts",
        "debug_getRawTransaction",
        "debug_traceTransaction",
        "debug_traceBlockByNumber",
        "debug_traceBlockByHash",
        "debug_traceCall",
        "eth_subscribe",
        "net_version",
        "eth_getTransactionByBlockNumberAndIndex",
        "eth_getUncleByBlockHashAndIndex",
        "web3_sha3",
        "eth_x",
    ];
    let allowed = [-32700, -32600, -32601, -32602, -32000, -32005, 3];
    for i in 0..300 {
        let body = if i % 10 == 9 {
            (0..rng.random_range(1..200)).map(|_| rng.random::<u8>()).collect::<Vec<u8>>()
        } else {
            let method = methods[rng.random_range(0..methods.len())];
            let params = if rng.random_bool(0.8) {
                Value::Array((0..rng.random_range(0..4)).map(|_| random_json(&mut rng, 2)).collect())
            } else {
                random_json(&mut rng, 2)
            };
            json!({"jsonrpc": "2.0", "id": i, "method": method, "params": params}).to_string().into_bytes()
        };
        let reply = post(addr, &body);
        let value: Value = serde_json::from_str(&reply.body)
            .unwrap_or_else(|e| panic!("seed {seed}, request {i}: not JSON ({e}): {:?}", reply.body));
        if let Some(code) = error_code(&value) {
            assert!(
                allowed.contains(&code),
                "seed {seed}, request {}: {value}",
                String::from_utf8_lossy(&body)
            );
        } else {
            assert!(value.get("result").is_some(), "seed {seed}: {value}");
        }
    }
    still_answers(addr);
}

#[test]
fn calls_honour_timeout_gas_cap_overrides_and_revert_data() {
    let node = node_with(RpcConfig {
        call_timeout: Duration::from_millis(200),
        gas_cap: 1_000_000_000,
        ..RpcConfig::default()
    });
    let addr = node.handle.http_addr();
    let started = Instant::now();
    let reply = call(addr, "eth_call", json!([{"to": LOOP}, "latest"]));
    assert_eq!(reply["error"]["message"], "execution aborted (timeout = 0.2s)", "{reply}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let reply = call(addr, "eth_call", json!([{"to": LOOP, "gas": "0x7530"}]));
    assert_eq!(reply["error"]["message"], "out of gas", "{reply}");
    // A contract that reverts with 0xdeadbeef, installed by a state override.
    let target = Address::with_last_byte(0xbb);
    let overrides = json!({target.to_string(): {"code": "0x63deadbeef6000526004601cfd"}});
    let reply = call(addr, "eth_call", json!([{"to": target}, "latest", overrides]));
    assert_eq!(reply["error"], json!({"code": 3, "message": "execution reverted", "data": "0xdeadbeef"}));
    let reply = call(addr, "eth_estimateGas", json!([{"to": target}, "latest", overrides]));
    assert_eq!(reply["error"]["code"], 3, "{reply}");
    // Balance override: a poor sender becomes rich.
    let poor = Address::with_last_byte(0xcc);
    let send =
        json!({"from": poor, "to": Address::with_last_byte(0x42), "value": "0x64", "gasPrice": "0x3b9aca00"});
    assert_eq!(error_code(&call(addr, "eth_call", json!([send.clone()]))), Some(-32000));
    let rich = json!({poor.to_string(): {"balance": "0xffffffffffffffffff"}});
    assert_eq!(call(addr, "eth_call", json!([send.clone(), "latest", rich]))["result"], "0x");
    assert_eq!(call(addr, "eth_estimateGas", json!([send, "latest", rich]))["result"], "0x5208");
    // Unknown blocks.
    let reply = call(addr, "eth_call", json!([{"to": LOOP}, "0x99"]));
    assert_eq!(reply["error"]["message"], "header not found");
    let reply = call(addr, "eth_getBalance", json!([poor, B256::repeat_byte(9)]));
    assert_eq!(reply["error"]["message"], "header for hash not found");
}

#[test]
fn send_raw_transaction_pools_and_reports_geth_errors() {
    let node = node();
    let addr = node.handle.http_addr();
    let tx = transfer(&node, 0, 1);
    let reply = call(addr, "eth_sendRawTransaction", json!([raw(&tx)]));
    assert_eq!(reply["result"], json!(tx.tx_hash()), "{reply}");
    assert_eq!(node.new_txs.load(std::sync::atomic::Ordering::Relaxed), 1);
    let reply = call(addr, "eth_sendRawTransaction", json!([raw(&tx)]));
    assert_eq!(reply["error"], json!({"code": -32000, "message": "already known"}));
    assert_eq!(call(addr, "eth_getTransactionCount", json!([node.address, "pending"]))["result"], "0x1");
    assert_eq!(call(addr, "eth_getTransactionCount", json!([node.address, "latest"]))["result"], "0x0");
    let pending = call(addr, "eth_getTransactionByHash", json!([tx.tx_hash()]));
    assert_eq!(pending["result"]["blockHash"], Value::Null);
    assert_eq!(pending["result"]["from"], json!(node.address));
    assert_eq!(call(addr, "eth_getTransactionReceipt", json!([tx.tx_hash()]))["result"], Value::Null);
    assert_eq!(call(addr, "txpool_status", json!([]))["result"], json!({"pending": "0x1", "queued": "0x0"}));
}

#[test]
fn websocket_subscriptions() {
    let node = node();
    let mut ws = support::ws::WsClient::connect(node.handle.ws_addr()).unwrap();
    let request = |ws: &mut support::ws::WsClient, id: u64, method: &str, params: Value| -> Value {
        ws.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string())
            .unwrap();
        loop {
            let message: Value = serde_json::from_str(&ws.recv().unwrap()).unwrap();
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
        }
    };
    let heads = request(&mut ws, 1, "eth_subscribe", json!(["newHeads"]))["result"].clone();
    assert!(heads.as_str().is_some_and(|id| id.starts_with("0x")), "{heads}");
    let pending = request(&mut ws, 2, "eth_subscribe", json!(["newPendingTransactions"]))["result"].clone();
    let unknown = request(&mut ws, 3, "eth_subscribe", json!(["nope"]));
    assert!(unknown.get("error").is_some(), "{unknown}");
    let head = node.store.head().unwrap().unwrap();
    node.handle.notify_new_block(head);
    let tx = transfer(&node, 0, 5);
    let sent = call(node.handle.http_addr(), "eth_sendRawTransaction", json!([raw(&tx)]));
    assert_eq!(sent["result"], json!(tx.tx_hash()));
    let (mut saw_head, mut saw_tx) = (false, false);
    while !(saw_head && saw_tx) {
        let message: Value = serde_json::from_str(&ws.recv().unwrap()).unwrap();
        assert_eq!(message["method"], "eth_subscription", "{message}");
        let params = &message["params"];
        if params["subscription"] == heads {
            assert_eq!(params["result"]["number"], "0x0");
            assert_eq!(params["result"]["hash"], json!(head.hash));
            saw_head = true;
        } else if params["subscription"] == pending {
            assert_eq!(params["result"], json!(tx.tx_hash()));
            saw_tx = true;
        }
    }
    assert_eq!(request(&mut ws, 4, "eth_unsubscribe", json!([heads]))["result"], true);
    // Calls work over WebSocket too.
    assert_eq!(request(&mut ws, 5, "eth_chainId", json!([]))["result"], "0x539");
}

#[test]
fn cors_headers_only_when_configured() {
    let preflight = |addr: std::net::SocketAddr| {
        let request = format!(
            "OPTIONS / HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://app.example\r\n\
             Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\
             Connection: close\r\n\r\n"
        );
        support::http_raw(addr, request.as_bytes()).unwrap().headers.to_ascii_lowercase()
    };
    let closed = node();
    assert!(!preflight(closed.handle.http_addr()).contains("access-control-allow-origin"));
    let open = node_with(RpcConfig { cors: Some(vec!["http://app.example".into()]), ..RpcConfig::default() });
    assert!(preflight(open.handle.http_addr()).contains("access-control-allow-origin: http://app.example"));
}

#[test]
fn websocket_origins_checked() {
    let handshake = |addr: std::net::SocketAddr, origin: &str| {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{origin}\r\n"
        );
        let stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut reader = std::io::BufReader::new(stream);
        std::io::Write::write_all(reader.get_mut(), request.as_bytes()).unwrap();
        let mut status = String::new();
        std::io::BufRead::read_line(&mut reader, &mut status).unwrap();
        status.split_whitespace().nth(1).unwrap_or_default().to_owned()
    };
    let node = node();
    let ws = node.handle.ws_addr();
    assert_eq!(handshake(ws, ""), "101");
    assert_eq!(handshake(ws, "Origin: http://localhost:5173\r\n"), "101");
    assert_eq!(handshake(ws, "Origin: https://evil.example\r\n"), "403");
    let listed =
        node_with(RpcConfig { ws_origins: Some(vec!["https://app.example".into()]), ..RpcConfig::default() });
    assert_eq!(handshake(listed.handle.ws_addr(), "Origin: https://app.example\r\n"), "101");
    assert_eq!(handshake(listed.handle.ws_addr(), "Origin: http://localhost\r\n"), "403");
}
