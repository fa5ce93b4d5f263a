//! `mosaic bench rpc`: sustained transactions per second and
//! submission-to-inclusion latency of the JSON-RPC path, Mosaic against
//! anvil in one run. Each node is started on its own (the other is not
//! running), gets the same load ([`super::rpc_load`]) and is stopped; the
//! ratio of the two throughputs is printed, or one JSON object with
//! `--json`. `scripts/bench-rpc.sh` installs anvil from npm and runs this.

use super::{
    rpc_load::{LoadConfig, LoadResult, run_load},
    rpc_node::{NodeProcess, find_anvil},
};
use eyre::{Context, Result};
use std::path::PathBuf;

/// Arguments of `mosaic bench rpc`.
#[derive(Debug, clap::Args)]
pub(crate) struct RpcBenchArgs {
    /// Signed transfers to send to each node.
    #[arg(long, default_value_t = 10_000)]
    txs: usize,
    /// Distinct senders (funded from the dev accounts first); Mosaic's pool
    /// holds at most 64 transactions per sender, more wait and are resent.
    #[arg(long, default_value_t = 400)]
    senders: usize,
    /// Concurrent HTTP connections sending transactions.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Transactions per batched JSON-RPC request (at most senders /
    /// connections: one transaction per sender in a batch).
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Most transactions in flight (sent, not yet seen in a block) at any
    /// time; 0 sends everything at once. With 1000 in flight anvil 1.7.1
    /// stopped mining in about half the runs here (busy, memory growing),
    /// hence 500.
    #[arg(long, default_value_t = 500)]
    window: usize,
    /// Seed of the sender keys.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Load a Mosaic dev node already running at this URL instead of
    /// starting one.
    #[arg(long)]
    mosaic_url: Option<String>,
    /// Load an anvil already running at this URL instead of starting one.
    #[arg(long)]
    anvil_url: Option<String>,
    /// anvil binary (default: the one scripts/bench-rpc.sh installs under
    /// bench/node_modules, else `anvil` on the PATH).
    #[arg(long)]
    anvil_bin: Option<PathBuf>,
    /// Measure Mosaic only.
    #[arg(long)]
    no_anvil: bool,
    /// Extra argument for the started `mosaic node` (repeatable), e.g.
    /// `--mosaic-arg=--block-time --mosaic-arg=100`.
    #[arg(long, allow_hyphen_values = true)]
    mosaic_arg: Vec<String>,
    /// Arguments for the started anvil (repeatable), replacing the default
    /// `--prune-history` (`--anvil-arg=` for none): without it anvil keeps
    /// every block's state in memory and runs this load about half as fast.
    #[arg(long, allow_hyphen_values = true, default_value = "--prune-history")]
    anvil_arg: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the benchmark.
pub(crate) fn run(args: &RpcBenchArgs) -> Result<bool> {
    let senders = args.senders.clamp(1, args.txs.max(1));
    let connections = args.connections.clamp(1, senders);
    let cfg = LoadConfig {
        txs: args.txs,
        senders,
        connections,
        batch: args.batch.clamp(1, senders / connections),
        window: args.window,
        seed: args.seed,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let anvil_args: Vec<String> = args.anvil_arg.iter().filter(|a| !a.is_empty()).cloned().collect();
    if !args.json {
        println!(
            "rpc load: {} transfers from {} senders over {} connections, {} per batch, at most {} in \
             flight (nproc {threads})",
            cfg.txs, cfg.senders, cfg.connections, cfg.batch, cfg.window
        );
    }
    let mosaic = {
        let node = match &args.mosaic_url {
            Some(url) => NodeProcess::running(url)?,
            None => NodeProcess::start_mosaic(&args.mosaic_arg)?,
        };
        run_load(node.addr, cfg).context("mosaic")?
    };
    if !args.json {
        print_result("mosaic", &mosaic);
    }
    let anvil = if args.no_anvil {
        None
    } else {
        let node = match &args.anvil_url {
            Some(url) => NodeProcess::running(url)?,
            None => {
                let bin = find_anvil(args.anvil_bin.as_deref());
                NodeProcess::start_anvil(&bin, &anvil_args).with_context(|| {
                    format!("starting anvil ({}); run scripts/bench-rpc.sh", bin.display())
                })?
            }
        };
        Some(run_load(node.addr, cfg).context("anvil")?)
    };
    if let Some(anvil) = &anvil
        && !args.json
    {
        print_result("anvil", anvil);
        if args.anvil_url.is_none() {
            println!("        (anvil {})", anvil_args.join(" "));
        }
        println!("mosaic / anvil: {:.2}x tx/s", mosaic.tps() / anvil.tps());
    }
    if args.json {
        let mut report = report_json(cfg, threads, &mosaic, anvil.as_ref());
        report["anvil_args"] = serde_json::json!(anvil_args);
        println!("{report}");
    }
    Ok(true)
}

fn print_result(name: &str, r: &LoadResult) {
    println!(
        "{name:>6}: {} txs in {:.3} s = {:.0} tx/s (all submitted after {:.3} s), \
         latency p50 {:.1} ms p99 {:.1} ms, {} blocks",
        r.txs,
        r.elapsed.as_secs_f64(),
        r.tps(),
        r.submit.as_secs_f64(),
        r.latency_ms(0.5),
        r.latency_ms(0.99),
        r.blocks
    );
}

fn report_json(
    cfg: LoadConfig,
    threads: usize,
    mosaic: &LoadResult,
    anvil: Option<&LoadResult>,
) -> serde_json::Value {
    let round = |x: f64| (x * 10.0).round() / 10.0;
    serde_json::json!({
        "txs": cfg.txs,
        "senders": cfg.senders,
        "connections": cfg.connections,
        "batch": cfg.batch,
        "window": cfg.window,
        "nproc": threads,
        "mosaic_tps": round(mosaic.tps()),
        "mosaic_p50_ms": round(mosaic.latency_ms(0.5)),
        "mosaic_p99_ms": round(mosaic.latency_ms(0.99)),
        "mosaic_elapsed_s": mosaic.elapsed.as_secs_f64(),
        "mosaic_blocks": mosaic.blocks,
        "anvil_tps": anvil.map(|a| round(a.tps())),
        "anvil_p50_ms": anvil.map(|a| round(a.latency_ms(0.5))),
        "anvil_p99_ms": anvil.map(|a| round(a.latency_ms(0.99))),
        "anvil_elapsed_s": anvil.map(|a| a.elapsed.as_secs_f64()),
        "anvil_blocks": anvil.map(|a| a.blocks),
        "ratio": anvil.map(|a| (mosaic.tps() / a.tps() * 100.0).round() / 100.0),
    })
}
