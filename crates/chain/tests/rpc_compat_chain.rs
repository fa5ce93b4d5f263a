//! Imports the rpc-compat fixture chain (pre-merge through Osaka and BPO2)
//! into memory and checks that it reaches the head named by `headfcu.json`.

use alloy_genesis::Genesis;
use alloy_primitives::B256;
use mosaic_chain::{MemoryChain, RlpBlocks, genesis_header, genesis_state};
use mosaic_primitives::ChainSpec;
use std::path::PathBuf;

fn fixture(name: &str) -> Option<PathBuf> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/rpc-compat").join(name);
    path.exists().then_some(path)
}

#[test]
fn imports_rpc_compat_chain_in_memory() {
    let (Some(genesis), Some(chain), Some(fcu)) =
        (fixture("genesis.json"), fixture("chain.rlp"), fixture("headfcu.json"))
    else {
        eprintln!("rpc-compat fixtures not found; skipping");
        return;
    };
    let genesis: Genesis = serde_json::from_slice(&std::fs::read(genesis).unwrap()).unwrap();
    let spec = ChainSpec::from_genesis(&genesis).unwrap();
    let state = genesis_state(&genesis);
    let header = genesis_header(&genesis, &spec, &state);
    let mut memory = MemoryChain::new(spec, header, state);
    let data = std::fs::read(chain).unwrap();
    let mut count = 0;
    for block in RlpBlocks::new(&data) {
        let (block, _) = block.unwrap();
        let number = block.header.number;
        memory.import(block).unwrap_or_else(|e| panic!("block {number}: {e}"));
        count += 1;
    }
    let fcu: serde_json::Value = serde_json::from_slice(&std::fs::read(fcu).unwrap()).unwrap();
    let head: B256 = fcu["params"][0]["headBlockHash"].as_str().unwrap().parse().unwrap();
    assert!(count > 30, "only {count} blocks");
    assert_eq!(memory.head(), head);
}
