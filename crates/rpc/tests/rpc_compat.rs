//! The rpc-compat conformance suite (execution-apis `tests/`, replayed as
//! hive does) against a server on a store holding the suite's chain, with a
//! fresh pool and no block production: sent transactions stay pending, as
//! the expected answers assume. `RPC_COMPAT_FILTER=eth_call` runs a subset.

#![allow(clippy::unwrap_used)]
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
const MIN_PASSED: usize = 124;

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
    let ctx = RpcContext { store, pool, spec, on_new_tx: Arc::new(|| {}) };
    let handle = start(ctx, RpcConfig::ephemeral()).unwrap();
    let filter = std::env::var("RPC_COMPAT_FILTER").ok();
    let summary = run_compat_suite(&dir, handle.http_addr(), filter.as_deref());
    println!("{summary} ({} speconly by shape only)", summary.shape_only);
    if filter.is_none() {
        historical_proofs(handle.http_addr());
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
