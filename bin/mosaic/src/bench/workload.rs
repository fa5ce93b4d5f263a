//! Benchmark blocks for `mosaic bench gigagas`. The builders live in the
//! `mosaic-bench` crate, which the criterion benches share; this module picks
//! one from the command line and checks that its transactions succeed.

use super::gigagas::Workload;
use mosaic_bench::{Erc20Params, MixedParams, RawParams, UniswapParams};
use mosaic_executor::BlockOutput;

pub(crate) use mosaic_bench::Prepared;

/// Builds `workload`'s block: `txs` transactions (default: about 1 Ggas),
/// swaps spread over `pools` pools, a share `hot_ratio` on the hot spots.
pub(crate) fn build(
    workload: Workload,
    txs: Option<usize>,
    pools: usize,
    hot_ratio: f64,
) -> eyre::Result<Prepared> {
    Ok(match workload {
        Workload::Raw => {
            mosaic_bench::raw(RawParams { txs: txs.unwrap_or(RawParams::default().txs), hot_ratio })?
        }
        Workload::Erc20 => {
            mosaic_bench::erc20(Erc20Params { txs: txs.unwrap_or(Erc20Params::default().txs), hot_ratio })?
        }
        Workload::Uniswap => {
            let swaps = txs.unwrap_or(UniswapParams::default().swaps);
            mosaic_bench::uniswap(UniswapParams { swaps, pools, hot_ratio })?
        }
        Workload::Mixed => {
            let txs = txs.unwrap_or(MixedParams::default().txs);
            mosaic_bench::mixed(MixedParams { txs, pools, hot_ratio })?
        }
    })
}

/// Prints how many transactions of each kind succeeded in `out` (to stderr
/// with `--json`, whose stdout is JSON lines) and returns whether all did.
pub(crate) fn check_successes(p: &Prepared, out: &BlockOutput, json: bool) -> bool {
    let counts = p.success_counts(out);
    let parts: Vec<String> = counts
        .iter()
        .map(|c| format!("{} {}/{} (hot {})", c.class.name(), c.succeeded, c.total, c.hot))
        .collect();
    let line = format!("succeeded: {}", parts.join(", "));
    let all = counts.iter().all(|c| c.succeeded == c.total);
    if !all {
        eprintln!("error: some benchmark transactions failed; {line}");
    } else if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    all
}
