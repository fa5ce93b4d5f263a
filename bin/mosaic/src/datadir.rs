//! `mosaic import` and `mosaic export`: block files in and out of a datadir.
//!
//! A datadir holds `mosaic.redb` (the store) and `genesis.json` (the chain it
//! was created for, so later commands need no `--genesis`).

use clap::Args;
use eyre::{Context, Result, bail, eyre};
use indicatif::{ProgressBar, ProgressStyle};
use mosaic_chain::{ImportError, RlpBlocks, StoredChain};
use mosaic_primitives::ChainSpec;
use mosaic_storage::{Store, StoreOptions};
use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// File name of the store inside a datadir.
pub(crate) const DB_FILE: &str = "mosaic.redb";
/// File name of the datadir's genesis.
pub(crate) const GENESIS_FILE: &str = "genesis.json";

/// Arguments of `mosaic import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Data directory (created if missing).
    #[arg(long, default_value = "./mosaic-data")]
    datadir: PathBuf,
    /// geth-format genesis.json; required for a new datadir, checked against
    /// the datadir's chain otherwise.
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// Make commits durable (fsync) at most this many milliseconds apart
    /// and at the end; 0 makes every block's commit durable. A crash loses
    /// at most this much work, never consistency.
    #[arg(long, default_value_t = 1000)]
    flush_ms: u64,
    /// Block files: RLP blocks back to back (geth `export` format).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Arguments of `mosaic export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Data directory.
    #[arg(long, default_value = "./mosaic-data")]
    datadir: PathBuf,
    /// First block to write (default 1).
    #[arg(long)]
    first: Option<u64>,
    /// Last block to write (default: the head).
    #[arg(long)]
    last: Option<u64>,
    /// Output file.
    file: PathBuf,
}

/// Opens (or with `genesis`, creates) the chain in `datadir`.
pub(crate) fn open_chain(datadir: &Path, genesis: Option<&Path>, flush_ms: u64) -> Result<StoredChain> {
    let db = datadir.join(DB_FILE);
    let saved = datadir.join(GENESIS_FILE);
    let genesis_path = match genesis {
        Some(path) => path.to_path_buf(),
        None if saved.exists() => saved.clone(),
        None => bail!("{} has no chain yet: pass --genesis genesis.json", datadir.display()),
    };
    let text = std::fs::read(&genesis_path).with_context(|| format!("reading {}", genesis_path.display()))?;
    let genesis: alloy_genesis::Genesis =
        serde_json::from_slice(&text).with_context(|| format!("parsing {}", genesis_path.display()))?;
    let spec = ChainSpec::from_genesis(&genesis).map_err(|e| eyre!("{}: {e}", genesis_path.display()))?;
    std::fs::create_dir_all(datadir).with_context(|| format!("creating {}", datadir.display()))?;
    // Commits are atomic either way; non-durable ones are made durable
    // every `flush_ms` and at the end (see `with_flush_interval`).
    let store = StoreOptions::new().durable(flush_ms == 0).open_or_create(&db)?;
    StoredChain::init_genesis(&store, &genesis, &spec)?;
    if !saved.exists() {
        std::fs::write(&saved, &text).with_context(|| format!("writing {}", saved.display()))?;
    }
    let chain = StoredChain::new(store, spec).with_options(crate::exec_options());
    Ok(if flush_ms == 0 { chain } else { chain.with_flush_interval(Duration::from_millis(flush_ms)) })
}

/// `mosaic import`.
pub(crate) fn import(args: &ImportArgs) -> Result<bool> {
    let chain = open_chain(&args.datadir, args.genesis.as_deref(), args.flush_ms)?;
    let mut data = Vec::new();
    for path in &args.files {
        data.push((path, std::fs::read(path).with_context(|| format!("reading {}", path.display()))?));
    }
    let blocks = data.iter().flat_map(|(path, bytes)| {
        RlpBlocks::new(bytes).map(move |b| {
            b.map(|(block, _)| block).map_err(|e| {
                eprintln!("error: {}: {e}", path.display());
                ImportError::from(e)
            })
        })
    });
    let bar = progress_bar();
    let started = Instant::now();
    let (mut txs, mut gas) = (0u64, 0u64);
    let result = chain.import_pipelined(blocks, |done| {
        txs += done.txs as u64;
        gas += done.gas_used;
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!(
            "block {} | {:.0} tx/s | {:.1} Mgas/s",
            done.head.number,
            txs as f64 / secs,
            gas as f64 / secs / 1e6
        ));
        bar.inc(1);
    });
    bar.finish_and_clear();
    let (stats, ok) = match result {
        Ok(stats) => (stats, true),
        Err(failure) => {
            // File damage was reported with the file's name as it was met.
            if !matches!(*failure.error, ImportError::File(_)) {
                eprintln!("error: {}", failure.error);
            }
            (failure.stats, false)
        }
    };
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} blocks already present; {} txs, {:.1} Mgas in {:.2} s ({:.1} Mgas/s)",
        stats.known,
        stats.txs,
        stats.gas as f64 / 1e6,
        secs,
        stats.gas as f64 / 1e6 / secs.max(1e-9)
    );
    let head = chain.head()?;
    println!("imported {} blocks, head {} {}", stats.imported, head.number, head.hash);
    Ok(ok)
}

/// `mosaic export`.
pub(crate) fn export(args: &ExportArgs) -> Result<bool> {
    let db = args.datadir.join(DB_FILE);
    let store = Store::open(&db)?;
    let genesis = args.datadir.join(GENESIS_FILE);
    let text = std::fs::read(&genesis).with_context(|| format!("reading {}", genesis.display()))?;
    let genesis: alloy_genesis::Genesis = serde_json::from_slice(&text)?;
    let spec = ChainSpec::from_genesis(&genesis).map_err(|e| eyre!("{e}"))?;
    let chain = StoredChain::new(store, spec);
    let file =
        std::fs::File::create(&args.file).with_context(|| format!("creating {}", args.file.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let written = chain.export(&mut out, args.first, args.last)?;
    let head = chain.head()?;
    println!("exported {written} blocks to {}, head {} {}", args.file.display(), head.number, head.hash);
    Ok(true)
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} blocks {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar
}
