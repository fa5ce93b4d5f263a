//! Imports the rpc-compat fixture chain (pre-merge through Osaka and BPO2)
//! in memory and into the store, and checks that both reach the head named
//! by `headfcu.json`, that re-running the import is a no-op, and that
//! exporting gives back the same file.

#![allow(clippy::unwrap_used)]
use alloy_genesis::Genesis;
use alloy_primitives::B256;
use mosaic_chain::{ImportError, MemoryChain, RlpBlocks, StoredChain, genesis_header, genesis_state};
use mosaic_primitives::ChainSpec;
use mosaic_storage::Store;
use std::path::PathBuf;

struct Fixture {
    genesis: Genesis,
    spec: ChainSpec,
    chain: Vec<u8>,
    head: B256,
}

fn fixture() -> Option<Fixture> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/rpc-compat");
    if !dir.join("chain.rlp").exists() {
        eprintln!("rpc-compat fixtures not found; skipping");
        return None;
    }
    let genesis: Genesis = serde_json::from_slice(&std::fs::read(dir.join("genesis.json")).unwrap()).unwrap();
    let spec = ChainSpec::from_genesis(&genesis).unwrap();
    let fcu: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("headfcu.json")).unwrap()).unwrap();
    let head = fcu["params"][0]["headBlockHash"].as_str().unwrap().parse().unwrap();
    Some(Fixture { genesis, spec, chain: std::fs::read(dir.join("chain.rlp")).unwrap(), head })
}

fn blocks(data: &[u8]) -> impl Iterator<Item = Result<mosaic_chain::FileBlock, ImportError>> + '_ {
    RlpBlocks::new(data).map(|b| b.map(|(block, _)| block).map_err(ImportError::from))
}

#[test]
fn imports_rpc_compat_chain_in_memory() {
    let Some(f) = fixture() else { return };
    let state = genesis_state(&f.genesis);
    let header = genesis_header(&f.genesis, &f.spec, &state);
    let mut memory = MemoryChain::new(f.spec, header, state);
    let mut count = 0;
    for block in blocks(&f.chain) {
        let block = block.unwrap();
        let number = block.header.number;
        memory.import(block).unwrap_or_else(|e| panic!("block {number}: {e}"));
        count += 1;
    }
    assert!(count > 30, "only {count} blocks");
    assert_eq!(memory.head(), f.head);
}

#[test]
fn imports_rpc_compat_chain_into_the_store() {
    let Some(f) = fixture() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.redb");
    let store = Store::create(&path).unwrap();
    StoredChain::init_genesis(&store, &f.genesis, &f.spec).unwrap();
    let chain = StoredChain::new(store, f.spec.clone());
    let mut commits = 0;
    let stats = chain.import_pipelined(blocks(&f.chain), |_| commits += 1).unwrap();
    assert_eq!(stats.imported, commits);
    assert_eq!(chain.head().unwrap().hash, f.head);
    let state_root = chain.store().latest_state().unwrap().state_root().unwrap();
    let head = chain.store().snapshot().unwrap().header(f.head).unwrap().unwrap();
    assert_eq!(state_root, head.state_root);

    // Export gives back the input file.
    let mut exported = Vec::new();
    assert_eq!(chain.export(&mut exported, None, None).unwrap(), stats.imported);
    assert!(exported == f.chain, "export differs from chain.rlp");
    drop(chain);

    // Reopen: the same genesis is accepted, a re-run imports nothing.
    let store = Store::open(&path).unwrap();
    StoredChain::init_genesis(&store, &f.genesis, &f.spec).unwrap();
    let chain = StoredChain::new(store, f.spec.clone());
    let again = chain.import_pipelined(blocks(&f.chain), |_| {}).unwrap();
    assert_eq!((again.imported, again.known), (0, stats.imported));

    // Another genesis is refused.
    let mut other = f.genesis.clone();
    other.timestamp += 1;
    let err = StoredChain::init_genesis(chain.store(), &other, &f.spec).unwrap_err();
    assert!(matches!(err, ImportError::GenesisMismatch { .. }), "{err}");
}

#[test]
fn stops_at_the_last_valid_block() {
    let Some(f) = fixture() else { return };
    let store = Store::create(tempfile::tempdir().unwrap().path().join("db.redb")).unwrap();
    StoredChain::init_genesis(&store, &f.genesis, &f.spec).unwrap();
    let chain = StoredChain::new(store, f.spec.clone());
    // Corrupt the state root of block 10: blocks 1..=9 commit, then a clear error.
    let mut all: Vec<_> = blocks(&f.chain).map(Result::unwrap).collect();
    all[9].header.state_root = B256::repeat_byte(7);
    let bad_hash = all[9].header.hash_slow();
    let failure = chain.import_pipelined(all.into_iter().map(Ok), |_| {}).unwrap_err();
    assert_eq!(failure.stats.imported, 9);
    match *failure.error {
        ImportError::Invalid { number: 10, hash, .. } => assert_eq!(hash, bad_hash),
        e => panic!("unexpected error {e}"),
    }
    assert_eq!(chain.head().unwrap().number, 9);
    // A truncated file stops with the file error after the blocks before it.
    let cut = &f.chain[..f.chain.len() - 10];
    let failure = chain.import_pipelined(blocks(cut), |_| {}).unwrap_err();
    assert!(matches!(*failure.error, ImportError::File(_)), "{}", failure.error);
}
