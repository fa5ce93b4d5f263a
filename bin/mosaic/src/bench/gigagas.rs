//! `mosaic bench gigagas`: a ~1 Ggas block, sequential vs parallel.

use super::workload::{self, Prepared};
use mosaic_executor::{BlockOutput, Engine, ExecMode, ExecOptions, execute_block};
use std::time::{Duration, Instant};

/// The block contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Workload {
    /// 47,620 transfers of 21,000 gas between distinct accounts.
    Raw,
    /// ~37,000 OpenZeppelin ERC-20 transfers between distinct holders.
    Erc20,
    /// 6,400 Uniswap V3 swaps (router `exactInputSingle`) by distinct
    /// traders over `--pools` pools.
    Uniswap,
    /// raw + erc20 + uniswap in one block, about a third of the gas each.
    Mixed,
}

/// Arguments of `mosaic bench gigagas`.
#[derive(Debug, clap::Args)]
pub(crate) struct GigagasArgs {
    /// Which block to build.
    #[arg(long, value_enum, default_value = "raw")]
    workload: Workload,
    /// Thread counts to measure, comma separated (default: 1, 2, 4 … up to
    /// the core count; the global `--threads N` measures just N).
    #[arg(long, value_delimiter = ',')]
    thread_counts: Vec<usize>,
    /// Timed runs per configuration (the fastest is reported).
    #[arg(long, default_value_t = 3)]
    iters: usize,
    /// Transactions in the block (default: the workload's ~1 Ggas count).
    #[arg(long)]
    txs: Option<usize>,
    /// Share (0..1) of transactions on the hot spots: one transfer
    /// recipient, one ERC-20 holder, Uniswap pool 0.
    #[arg(long, default_value_t = 0.0)]
    hot_ratio: f64,
    /// Uniswap pools the swaps are spread over (uniswap, mixed).
    #[arg(long, default_value_t = 32)]
    pools: usize,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    /// Time only the parallel runs (for profilers and `perf stat`); the
    /// results are then not compared with the sequential ones.
    #[arg(long)]
    skip_sequential: bool,
    /// Also time the automatic engine choice (`Engine::Auto` with all
    /// cores): one more row, `auto:N` with the threads it picked (`auto:1`
    /// = sequential).
    #[arg(long)]
    auto: bool,
    /// Also draw speedup over thread count as an SVG chart into FILE.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<std::path::PathBuf>,
}

/// Runs the block once with `options`.
fn time_once(p: &Prepared, options: &ExecOptions) -> eyre::Result<(Duration, BlockOutput)> {
    let start = Instant::now();
    let out = execute_block(&p.spec, &p.block, &p.txs, &p.state, options)
        .map_err(|e| eyre::eyre!("benchmark block failed: {e}"))?;
    Ok((start.elapsed(), out))
}

/// The fastest time of each configuration and its last output. The
/// configurations take turns (round `i` runs each once), so a slow spell of
/// the machine falls on all of them and the ratios stay comparable.
fn time_rounds(
    p: &Prepared,
    configs: &[ExecOptions],
    iters: usize,
) -> eyre::Result<Vec<(Duration, BlockOutput)>> {
    let mut best: Vec<Option<(Duration, BlockOutput)>> = configs.iter().map(|_| None).collect();
    for _ in 0..iters.max(1) {
        for (options, best) in configs.iter().zip(&mut best) {
            let (t, out) = time_once(p, options)?;
            let fastest = best.as_ref().map_or(t, |(b, _)| t.min(*b));
            *best = Some((fastest, out));
        }
    }
    best.into_iter().map(|b| b.ok_or_else(|| eyre::eyre!("no run"))).collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs the benchmark.
pub(crate) fn run(args: &GigagasArgs) -> eyre::Result<bool> {
    let prepared = workload::build(args.workload, args.txs, args.pools, args.hot_ratio)?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let global = crate::exec_options().threads;
    let counts: Vec<usize> = if !args.thread_counts.is_empty() {
        args.thread_counts.clone()
    } else if global > 0 {
        vec![global]
    } else {
        std::iter::successors(Some(1usize), |t| (t * 2 <= cores).then_some(t * 2)).collect()
    };
    let name = format!("{:?}", args.workload).to_lowercase();
    let base = ExecOptions { mode: ExecMode::Import, ..Default::default() };
    let sequential = ExecOptions { engine: Engine::Sequential, ..base };
    let mut configs: Vec<(Engine, usize)> = counts.into_iter().map(|t| (Engine::Parallel, t)).collect();
    if args.auto {
        configs.push((Engine::Auto, global));
    }
    let mut options: Vec<ExecOptions> =
        configs.iter().map(|&(engine, threads)| ExecOptions { engine, threads, ..base }).collect();
    if !args.skip_sequential {
        options.insert(0, sequential);
    }
    let mut timed = time_rounds(&prepared, &options, args.iters)?.into_iter();
    let (seq_time, seq_out) = if args.skip_sequential {
        (Duration::ZERO, None)
    } else {
        timed.next().map(|(t, out)| (t, Some(out))).ok_or_else(|| eyre::eyre!("no run"))?
    };
    let gas_used = seq_out.as_ref().map_or(0, |o| o.gas_used);
    let succeeded = seq_out.as_ref().is_none_or(|s| workload::check_successes(&prepared, s, args.json));
    if !args.json {
        println!(
            "workload {name}: {} txs, {} gas, nproc {cores}; sequential {:.1} ms ({:.2} Ggas/s)",
            prepared.txs.len(),
            gas_used,
            ms(seq_time),
            gas_used as f64 / seq_time.as_secs_f64() / 1e9
        );
        println!(
            "{:>7} {:>13} {:>11} {:>8} {:>7} {:>12}",
            "threads", "parallel_ms", "speedup", "Ggas/s", "reexec", "same_result"
        );
    }
    let mut all_same = true;
    let mut points = Vec::new();
    for (&(engine, threads), (par_time, out)) in configs.iter().zip(timed) {
        let used = out.parallel.as_ref().map_or(1, |p| p.threads);
        let (label, engine_name) = match engine {
            Engine::Auto => (format!("auto:{used}"), "auto"),
            _ => (threads.to_string(), "parallel"),
        };
        let same = seq_out.as_ref().is_none_or(|s| out.same_result(s));
        all_same &= same;
        let reexecutions = out.parallel.as_ref().map_or(0, |p| p.reexecutions);
        let speedup = seq_time.as_secs_f64() / par_time.as_secs_f64();
        let ggas = out.gas_used as f64 / par_time.as_secs_f64() / 1e9;
        if engine == Engine::Parallel {
            points.push((threads, speedup));
        }
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "workload": name, "engine": engine_name, "threads": used, "txs": prepared.txs.len(),
                    "gas": out.gas_used,
                    "sequential_ms": ms(seq_time), "parallel_ms": ms(par_time), "speedup": speedup,
                    "ggas_per_s": ggas, "reexecutions": reexecutions, "nproc": cores, "same_result": same,
                })
            );
        } else {
            println!(
                "{label:>7} {:>13.1} {speedup:>10.2}x {ggas:>8.2} {reexecutions:>7} {same:>12}",
                ms(par_time)
            );
        }
    }
    if let Some(path) = &args.plot {
        if args.skip_sequential {
            eyre::bail!("--plot needs the sequential runs (drop --skip-sequential)");
        }
        let title = format!("mosaic bench gigagas --workload {name} (nproc {cores})");
        std::fs::write(path, super::plot::speedup_svg(&title, &points))
            .map_err(|e| eyre::eyre!("cannot write {}: {e}", path.display()))?;
        if !args.json {
            println!("plot written to {}", path.display());
        }
    }
    if !all_same {
        eprintln!("error: parallel result differs from sequential");
    }
    Ok(all_same && succeeded)
}
