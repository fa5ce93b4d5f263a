//! `mosaic blocktest`: BlockchainTests through block import.

use crate::{
    blocktest_store::StoreRunner,
    runner::{Report, json_files},
    statetest::{PreAccount, pre_state},
};
use alloy_consensus::{Block, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rlp::Decodable;
use mosaic_chain::{MemoryChain, state_root};
use mosaic_executor::InMemoryState;
use mosaic_primitives::ChainSpec;
use rayon::prelude::*;
use serde::Deserialize;
use std::{collections::BTreeMap, path::PathBuf};

/// Arguments of `mosaic blocktest`.
#[derive(Debug, clap::Args)]
pub(crate) struct BlockTestArgs {
    /// Fixture files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print every skipped case with its reason.
    #[arg(long)]
    list_skips: bool,
    /// Print passing cases too.
    #[arg(long, short)]
    verbose: bool,
    /// Import through the persistent store (redb in a temporary directory,
    /// incremental state roots, reorgs by unwind) instead of memory.
    #[arg(long)]
    store: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Unit {
    network: String,
    #[serde(rename = "genesisRLP")]
    genesis_rlp: Bytes,
    pre: BTreeMap<Address, PreAccount>,
    #[serde(default)]
    post_state: Option<BTreeMap<Address, PreAccount>>,
    #[serde(default)]
    post_state_hash: Option<B256>,
    lastblockhash: B256,
    blocks: Vec<BlockEntry>,
    #[serde(default)]
    config: Option<Config>,
}

#[derive(Debug, Deserialize)]
struct Config {
    #[serde(default)]
    chainid: Option<U256>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockEntry {
    /// Hex RLP; kept as a string because invalid-block fixtures may carry
    /// malformed hex.
    rlp: String,
    #[serde(default)]
    expect_exception: Option<String>,
}

fn decode_hex(s: &str) -> Result<Vec<u8>, String> {
    alloy_primitives::hex::decode(s).map_err(|e| format!("bad hex: {e}"))
}

fn run_unit(unit: &Unit, verbose: bool, store: bool) -> Result<(), String> {
    let mut spec = ChainSpec::from_fork_name(&unit.network).map_err(|e| e.to_string())?;
    if let Some(id) = unit.config.as_ref().and_then(|c| c.chainid) {
        spec.chain_id = u64::try_from(id).map_err(|_| "chain id too large")?;
    }
    let pre = pre_state(&unit.pre)?;
    let genesis = Block::<TxEnvelope>::decode(&mut unit.genesis_rlp.as_ref())
        .map_err(|e| format!("genesis RLP: {e}"))?
        .header;
    let root = state_root(&pre);
    if root != genesis.state_root {
        return Err(format!("genesis state root {root}, header says {}", genesis.state_root));
    }
    if store {
        return run_unit_stored(unit, spec, &genesis, &pre, verbose);
    }
    let mut chain = MemoryChain::new(spec, genesis, pre).with_options(crate::exec_options());
    import_blocks(unit, verbose, |rlp| chain.import_rlp(rlp).map_err(|e| e.to_string()))?;
    if chain.head() != unit.lastblockhash {
        return Err(format!("head {}, expected {}", chain.head(), unit.lastblockhash));
    }
    let head = chain.block(&chain.head()).ok_or("head block missing")?;
    if let Some(post) = &unit.post_state {
        compare_state(&head.state, &pre_state(post)?)?;
    }
    if let Some(hash) = unit.post_state_hash
        && hash != head.header.state_root
    {
        return Err(format!("post state root {}, expected {hash}", head.header.state_root));
    }
    Ok(())
}

/// Imports the unit's blocks in order, checking each against its expected
/// exception.
fn import_blocks(
    unit: &Unit,
    verbose: bool,
    mut import: impl FnMut(&[u8]) -> Result<B256, String>,
) -> Result<(), String> {
    for (i, block) in unit.blocks.iter().enumerate() {
        let result = decode_hex(&block.rlp).and_then(|rlp| import(&rlp));
        match (result, &block.expect_exception) {
            (Ok(hash), Some(expected)) => {
                return Err(format!("block {i} ({hash}) imported, expected exception {expected}"));
            }
            (Err(e), None) => return Err(format!("block {i} rejected: {e}")),
            (Err(e), Some(expected)) if verbose => {
                println!("     block {i} rejected as expected ({expected}): {e}")
            }
            _ => {}
        }
    }
    Ok(())
}

/// [`run_unit`] through the persistent store.
fn run_unit_stored(
    unit: &Unit,
    spec: ChainSpec,
    genesis: &alloy_consensus::Header,
    pre: &InMemoryState,
    verbose: bool,
) -> Result<(), String> {
    let mut chain = StoreRunner::new(spec, genesis, pre)?;
    import_blocks(unit, verbose, |rlp| chain.import_rlp(rlp))?;
    let head = chain.head()?;
    if head != unit.lastblockhash {
        return Err(format!("head {head}, expected {}", unit.lastblockhash));
    }
    if let Some(post) = &unit.post_state {
        chain.check_post_state(&pre_state(post)?)?;
    }
    let header = chain.head_header()?;
    if let Some(hash) = unit.post_state_hash
        && hash != header.state_root
    {
        return Err(format!("post state root {}, expected {hash}", header.state_root));
    }
    Ok(())
}

/// Compares two states account by account, naming the first difference.
fn compare_state(got: &InMemoryState, expected: &InMemoryState) -> Result<(), String> {
    let mut addresses: Vec<_> = got.accounts.keys().chain(expected.accounts.keys()).copied().collect();
    addresses.sort();
    addresses.dedup();
    for address in addresses {
        match (got.accounts.get(&address), expected.accounts.get(&address)) {
            (Some(g), Some(e)) if g == e => {}
            (g, e) => return Err(format!("post-state differs at {address}: got {g:?}, expected {e:?}")),
        }
    }
    Ok(())
}

fn run_file(path: &std::path::Path, report: &Report, verbose: bool, store: bool) {
    let file = path.display().to_string();
    let units: BTreeMap<String, Unit> = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(u) => u,
        Err(e) => return report.fail(&file, &format!("cannot read fixture: {e}")),
    };
    for (name, unit) in &units {
        let case = format!("{file}::{name}");
        if ChainSpec::from_fork_name(&unit.network).is_err() {
            report.skip(&case, &format!("unknown network {}", unit.network));
            continue;
        }
        match run_unit(unit, verbose, store) {
            Ok(()) => report.pass(&case),
            Err(e) => report.fail(&case, &e),
        }
    }
    report.file_done(path);
}

/// Runs the command; returns whether every test passed.
pub(crate) fn run(args: &BlockTestArgs) -> eyre::Result<bool> {
    let files = json_files(&args.paths)?;
    let report = Report::new(files.len(), args.verbose);
    files.par_iter().for_each(|path| run_file(path, &report, args.verbose, args.store));
    Ok(report.finish(args.list_skips))
}
