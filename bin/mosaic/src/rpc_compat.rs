//! `mosaic rpc-compat DIR`: the execution-apis rpc-compat suite against
//! Mosaic, as hive's simulator runs it. A node starts on a temporary datadir
//! from `DIR/genesis.json`, imports `DIR/chain.rlp` (fully verified), serves
//! JSON-RPC on a free loopback port without producing blocks (sent
//! transactions stay pending, as the suite expects), and every `DIR/**/*.io`
//! exchange is replayed and compared for JSON equality. Prints `FAIL
//! METHOD/TEST` with a diff per failure; the last line is `N passed, M
//! failed, K skipped`.

use clap::Args;
use eyre::{Context, Result, eyre};
use mosaic_chain::{ImportError, PoolConfig, RlpBlocks, StoredChain, TxPool};
use mosaic_primitives::ChainSpec;
use mosaic_rpc::{RpcConfig, RpcContext};
use mosaic_storage::StoreOptions;
use std::{
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::Arc,
};

/// Arguments of `mosaic rpc-compat`.
#[derive(Debug, Args)]
pub(crate) struct RpcCompatArgs {
    /// The suite: genesis.json, chain.rlp and METHOD/TEST.io files.
    dir: PathBuf,
    /// Run only tests whose `METHOD/TEST` name contains this.
    #[arg(long)]
    filter: Option<String>,
}

/// Runs the command; returns whether every test passed.
pub(crate) fn run(args: &RpcCompatArgs) -> Result<bool> {
    let genesis_path = args.dir.join("genesis.json");
    let genesis: alloy_genesis::Genesis = serde_json::from_slice(
        &std::fs::read(&genesis_path).with_context(|| format!("reading {}", genesis_path.display()))?,
    )
    .with_context(|| format!("parsing {}", genesis_path.display()))?;
    let spec = ChainSpec::from_genesis(&genesis).map_err(|e| eyre!("{}: {e}", genesis_path.display()))?;
    let datadir = tempfile::tempdir()?;
    let store =
        Arc::new(StoreOptions::new().durable(false).create(datadir.path().join(crate::datadir::DB_FILE))?);
    StoredChain::init_genesis(&store, &genesis, &spec)?;
    let chain = StoredChain::new(store.clone(), spec.clone()).with_options(crate::exec_options());
    let chain_path = args.dir.join("chain.rlp");
    let data = std::fs::read(&chain_path).with_context(|| format!("reading {}", chain_path.display()))?;
    let blocks = RlpBlocks::new(&data).map(|b| b.map(|(block, _)| block).map_err(ImportError::from));
    let stats =
        chain.import_pipelined(blocks, |_| {}).map_err(|f| eyre!("importing chain.rlp: {}", f.error))?;
    let head = chain.head()?;
    eprintln!("imported {} blocks, head {} {}", stats.imported, head.number, head.hash);

    let pool = Arc::new(TxPool::new(Arc::new(spec.clone()), PoolConfig::default()));
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let config = RpcConfig { http_addr: loopback, ws_addr: loopback, ..RpcConfig::default() };
    let ctx = RpcContext { store, pool, spec: Arc::new(spec), on_new_tx: Arc::new(|| {}) };
    let rpc = mosaic_rpc::start(ctx, config)?;
    let summary = mosaic_rpc::run_compat_suite(&args.dir, rpc.http_addr(), args.filter.as_deref());
    rpc.stop();
    println!("{} passed, {} failed, {} skipped", summary.passed, summary.failed, summary.skipped);
    Ok(summary.failed == 0)
}
