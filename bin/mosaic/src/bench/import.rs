//! `mosaic bench import`: throughput of verified, persisted block import
//! (execution, incremental state root, one redb commit per block) over a
//! generated chain, sequential vs parallel executor in one run.

use crate::chaingen::{GenChainArgs, generate};
use eyre::{Result, eyre};
use mosaic_chain::{ImportError, RlpBlocks, StoredChain};
use mosaic_executor::{Engine, ExecOptions};
use mosaic_primitives::ChainSpec;
use mosaic_storage::StoreOptions;
use std::time::{Duration, Instant};

/// Arguments of `mosaic bench import`.
#[derive(Debug, clap::Args)]
pub(crate) struct ImportBenchArgs {
    /// Blocks in the generated chain.
    #[arg(long, default_value_t = 1000)]
    blocks: u64,
    /// Transactions per block.
    #[arg(long, default_value_t = 200)]
    txs: usize,
    /// Threads for the parallel run (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

struct Run {
    secs: f64,
    gas: u64,
    txs: u64,
}

fn import_once(dir: &std::path::Path, gen_dir: &std::path::Path, options: ExecOptions) -> Result<Run> {
    let genesis: alloy_genesis::Genesis =
        serde_json::from_slice(&std::fs::read(gen_dir.join("genesis.json"))?)?;
    let spec = ChainSpec::from_genesis(&genesis).map_err(|e| eyre!("{e}"))?;
    let data = std::fs::read(gen_dir.join("chain.rlp"))?;
    let store = StoreOptions::new().durable(false).create(dir.join("mosaic.redb"))?;
    StoredChain::init_genesis(&store, &genesis, &spec)?;
    let chain =
        StoredChain::new(store, spec).with_options(options).with_flush_interval(Duration::from_secs(1));
    let blocks = RlpBlocks::new(&data).map(|b| b.map(|(block, _)| block).map_err(ImportError::from));
    let started = Instant::now();
    let stats = chain.import_pipelined(blocks, |_| {}).map_err(|f| eyre!("import failed: {}", f.error))?;
    Ok(Run { secs: started.elapsed().as_secs_f64(), gas: stats.gas, txs: stats.txs })
}

/// Runs the benchmark.
pub(crate) fn run(args: &ImportBenchArgs) -> Result<bool> {
    let tmp = tempfile::tempdir()?;
    let gen_dir = tmp.path().join("chain");
    let gen_args =
        GenChainArgs { blocks: args.blocks, txs: args.txs, senders: 2000, seed: 7, out: gen_dir.clone() };
    let started = Instant::now();
    generate(&gen_args)?;
    let gen_secs = started.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let seq_dir = tempfile::tempdir()?;
    let par_dir = tempfile::tempdir()?;
    let seq = import_once(
        seq_dir.path(),
        &gen_dir,
        ExecOptions { engine: Engine::Sequential, ..Default::default() },
    )?;
    let par = import_once(
        par_dir.path(),
        &gen_dir,
        ExecOptions { engine: Engine::Parallel, threads: args.threads, ..Default::default() },
    )?;
    let mgas = |r: &Run| r.gas as f64 / 1e6 / r.secs;
    let db_size = std::fs::metadata(seq_dir.path().join("mosaic.redb")).map_or(0, |m| m.len());
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "blocks": args.blocks, "txs": seq.txs, "gas": seq.gas, "nproc": cores,
                "threads": if args.threads == 0 { cores } else { args.threads },
                "sequential_s": seq.secs, "parallel_s": par.secs,
                "sequential_mgas_s": mgas(&seq), "parallel_mgas_s": mgas(&par),
                "speedup": seq.secs / par.secs, "db_bytes": db_size,
            })
        );
    } else {
        println!(
            "chain: {} blocks, {} txs, {:.1} Mgas (generated in {gen_secs:.1} s); nproc {cores}",
            args.blocks,
            seq.txs,
            seq.gas as f64 / 1e6
        );
        println!(
            "sequential import: {:.2} s, {:.1} Mgas/s, {:.0} tx/s",
            seq.secs,
            mgas(&seq),
            seq.txs as f64 / seq.secs
        );
        println!(
            "parallel import:   {:.2} s, {:.1} Mgas/s, {:.0} tx/s",
            par.secs,
            mgas(&par),
            par.txs as f64 / par.secs
        );
        println!(
            "speedup {:.2}x; database {:.1} MiB",
            seq.secs / par.secs,
            db_size as f64 / (1 << 20) as f64
        );
    }
    Ok(true)
}
