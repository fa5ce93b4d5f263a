//! The rpc-compat conformance suite (execution-apis `tests/`, replayed as
//! hive does) against a server on a store holding the suite's chain, with a
//! fresh pool and no block production: sent transactions stay pending, as
//! the expected answers assume. `RPC_COMPAT_FILTER=eth_call` runs a subset.

#![allow(clippy::unwrap_used)]
mod support;

use alloy_genesis::Genesis;
use alloy_primitives::{B256, Bytes, U256, keccak256};
use mosaic_chain::{ImportError, PoolConfig, RlpBlocks, StoredChain, TxPool};
use mosaic_primitives::ChainSpec;
use mosaic_rpc::compat::client::HttpClient;
use mosaic_rpc::{RpcConfig, RpcContext, run_compat_suite, start};
use mosaic_storage::Store;
use serde_json::{Value, json};
use std::{path::PathBuf, sync::Arc};

/// The least number of passing tests; raise it as methods improve.
const MIN_PASSED: usize = 137;

fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/rpc-compat");
    dir.join("chain.rlp").exists().then_some(dir)
}

/// A store with the suite's chain imported, and the spec.
fn chain(dir: &std::path::Path, db: &std::path::Path) -> (Arc<Store>, Arc<ChainSpec>) {
    let genesis: Genesis = serde_json::from_slice(&std::fs::read(dir.join("genesis.json")).unwrap()).unwrap();
    let spec = ChainSpec::from_genesis(&genesis).unwrap();
    let store = Store::create(db).unwrap();
    StoredChain::init_genesis(&store, &genesis, &spec).unwrap();
    let chain = StoredChain::new(store, spec.clone());
    let data = std::fs::read(dir.join("chain.rlp")).unwrap();
    let blocks = RlpBlocks::new(&data).map(|b| b.map(|(block, _)| block).map_err(ImportError::from));
    chain.import_pipelined(blocks, |_| {}).unwrap();
    (Arc::clone(chain.store()), Arc::new(spec))
}

#[test]
fn rpc_compat_suite() {
    let Some(dir) = fixtures() else {
        eprintln!("rpc-compat fixtures not found; skipping");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (store, spec) = chain(&dir, &tmp.path().join("db.redb"));
    let pool = Arc::new(TxPool::new(Arc::clone(&spec), PoolConfig::default()));
    let store_for_subs = Arc::clone(&store);
    let ctx = RpcContext { store, pool, spec, on_new_tx: Arc::new(|| {}) };
    let handle = start(ctx, RpcConfig::ephemeral()).unwrap();
    let filter = std::env::var("RPC_COMPAT_FILTER").ok();
    let summary = run_compat_suite(&dir, handle.http_addr(), filter.as_deref());
    println!("{summary} ({} speconly by shape only)", summary.shape_only);
    if filter.is_none() {
        historical_proofs(handle.http_addr());
        traces_of_the_whole_chain(handle.http_addr());
        subscriptions(&handle, &store_for_subs);
    }
    handle.stop();
    if filter.is_none() {
        assert!(summary.passed >= MIN_PASSED, "{summary}; failures: {:?}", summary.failures);
        assert_eq!(summary.failed, 0, "failures: {:?}", summary.failures);
    }
}

fn rpc(client: &mut HttpClient, method: &str, params: Value) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let reply: Value = serde_json::from_str(&client.post(&request.to_string()).unwrap()).unwrap();
    assert!(reply.get("error").is_none(), "{method} {params}: {reply}");
    reply["result"].clone()
}

fn quantity(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap())
}

/// Every block of the chain traced with each tracer: each transaction's gas
/// and outcome agree with its receipt, gas falls by each step's cost along a
/// frame, and a transaction traced alone (its block replayed up to it) gives
/// what the block trace gave.
fn traces_of_the_whole_chain(addr: std::net::SocketAddr) {
    let mut client = HttpClient::new(addr);
    let head = quantity(&rpc(&mut client, "eth_blockNumber", json!([])));
    let mut traced = 0;
    for n in 1..=head {
        let number = format!("{n:#x}");
        let receipts = rpc(&mut client, "eth_getBlockReceipts", json!([number]));
        let receipts = receipts.as_array().unwrap();
        let logs = rpc(&mut client, "debug_traceBlockByNumber", json!([number, {"disableStack": true}]));
        let calls = rpc(&mut client, "debug_traceBlockByNumber", json!([number, {"tracer": "callTracer"}]));
        let diff = json!([number, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}]);
        let states = rpc(&mut client, "debug_traceBlockByNumber", diff);
        assert_eq!(logs.as_array().unwrap().len(), receipts.len(), "block {n}");
        for (i, receipt) in receipts.iter().enumerate() {
            let (log, call) = (&logs[i], &calls[i]);
            assert_eq!(log["txHash"], receipt["transactionHash"], "block {n} tx {i}");
            let gas_used = quantity(&receipt["gasUsed"]);
            let failed = receipt["status"] == "0x0";
            assert_eq!(
                (log["result"]["gas"].as_u64(), log["result"]["failed"].as_bool()),
                (Some(gas_used), Some(failed))
            );
            assert_eq!(quantity(&call["result"]["gasUsed"]), gas_used, "block {n} tx {i}");
            assert_eq!(call["result"].get("error").is_some(), failed, "block {n} tx {i}: {}", call["result"]);
            let sender = receipt["from"].as_str().unwrap();
            assert!(states[i]["result"]["pre"].get(sender).is_some(), "block {n} tx {i}: {}", states[i]);
            let steps = log["result"]["structLogs"].as_array().unwrap();
            for pair in steps.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                let op = a["op"].as_str().unwrap();
                if a["depth"] == b["depth"]
                    && a.get("error").is_none()
                    && !op.contains("CALL")
                    && !op.starts_with("CREATE")
                {
                    assert_eq!(
                        quantity(&b["gas"]),
                        quantity(&a["gas"]) - quantity(&a["gasCost"]),
                        "{a} -> {b}"
                    );
                }
            }
            traced += 1;
        }
        if let Some(last) = receipts.last() {
            let alone = rpc(
                &mut client,
                "debug_traceTransaction",
                json!([last["transactionHash"], {"tracer": "callTracer"}]),
            );
            assert_eq!(alone, calls[receipts.len() - 1]["result"], "block {n}");
        }
    }
    assert!(traced > 0);
}

/// Proofs at past blocks: the first account-proof node hashes to the
/// block's state root, the first storage-proof node to the account's
/// storage root, and the proven values are what the plain reads give.
fn historical_proofs(addr: std::net::SocketAddr) {
    let mut client = HttpClient::new(addr);
    let account = "0x7dcd17433742f4c0ca53122ab541d0ba67fc27df";
    let parse = |v: &Value| -> Bytes { v.as_str().unwrap().parse().unwrap() };
    for block in ["0x2", "0x10", "0x1b", "0x2d", "0x35", "latest"] {
        let header = rpc(&mut client, "eth_getBlockByNumber", json!([block, false]));
        let proof = rpc(&mut client, "eth_getProof", json!([account, ["0x0"], block]));
        let root: B256 = header["stateRoot"].as_str().unwrap().parse().unwrap();
        assert_eq!(keccak256(parse(&proof["accountProof"][0])), root, "block {block}");
        let balance = rpc(&mut client, "eth_getBalance", json!([account, block]));
        assert_eq!(proof["balance"], balance, "block {block}");
        let slot = rpc(&mut client, "eth_getStorageAt", json!([account, "0x0", block]));
        let slot: U256 = slot.as_str().unwrap().parse().unwrap();
        let proven: U256 = proof["storageProof"][0]["value"].as_str().unwrap().parse().unwrap();
        assert_eq!(proven, slot, "block {block}");
        let storage_root: B256 = proof["storageHash"].as_str().unwrap().parse().unwrap();
        if let Some(first) = proof["storageProof"][0]["proof"].get(0) {
            assert_eq!(keccak256(parse(first)), storage_root, "block {block}");
        }
    }
}

/// New heads and logs over WebSocket match what HTTP reads give, and an
/// announcement after a gap also delivers the blocks in between.
fn subscriptions(handle: &mosaic_rpc::RpcHandle, store: &Store) {
    let mut http = HttpClient::new(handle.http_addr());
    let mut ws = support::ws::WsClient::connect(handle.ws_addr()).unwrap();
    let mut subscribe = |id: u64, params: Value| -> Value {
        ws.send(
            &json!({"jsonrpc": "2.0", "id": id, "method": "eth_subscribe", "params": params}).to_string(),
        )
        .unwrap();
        let reply: Value = serde_json::from_str(&ws.recv().unwrap()).unwrap();
        reply["result"].clone()
    };
    let heads = subscribe(1, json!(["newHeads"]));
    let emitter = "0xb1917d669e2a9307d342d04ab74e68ea94c4d11c";
    let logs = subscribe(2, json!(["logs", {"address": emitter}]));
    let head = store.head().unwrap().unwrap();
    let before = mosaic_storage::BlockRef {
        number: head.number - 2,
        hash: store.snapshot().unwrap().block_hash(head.number - 2).unwrap().unwrap(),
    };
    handle.notify_new_block(before);
    handle.notify_new_block(head);
    let want_logs = rpc(&mut http, "eth_getLogs", json!([{"blockHash": head.hash, "address": emitter}]));
    let want_logs = want_logs.as_array().unwrap().clone();
    assert!(!want_logs.is_empty());
    let mut got_heads = Vec::new();
    let mut got_logs = Vec::new();
    while got_heads.len() < 3 || !got_logs.ends_with(&want_logs) {
        let message: Value = serde_json::from_str(&ws.recv().unwrap()).unwrap();
        let params = &message["params"];
        if params["subscription"] == heads {
            got_heads.push(params["result"].clone());
        } else if params["subscription"] == logs {
            got_logs.push(params["result"].clone());
        }
    }
    let numbers: Vec<_> = got_heads.iter().map(|h| h["number"].as_str().unwrap().to_owned()).collect();
    let expect: Vec<_> = (head.number - 2..=head.number).map(|n| format!("{n:#x}")).collect();
    assert_eq!(numbers, expect);
    let want_head = rpc(&mut http, "eth_getBlockByNumber", json!(["latest", false]));
    for (field, value) in got_heads[2].as_object().unwrap() {
        assert_eq!(&want_head[field], value, "newHeads field {field}");
    }
    assert!(got_logs.iter().all(|log| log["address"] == emitter));
}
