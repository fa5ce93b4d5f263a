//! Times the incremental state root against a from-scratch build:
//! `cargo run --release -p mosaic-trie --example state_root -- [ACCOUNTS] [CHANGED] [THREADS]`.

use mosaic_trie::{StateRootBench, bench_state_root};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|arg| arg.parse::<usize>());
    let defaults = StateRootBench::default();
    let accounts = args.next().transpose()?.unwrap_or(defaults.accounts);
    let changed_accounts = args.next().transpose()?.unwrap_or(defaults.changed_accounts);
    let threads = args.next().transpose()?.unwrap_or(0);
    let config = StateRootBench { accounts, changed_accounts, ..defaults };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let report = pool.install(|| bench_state_root(&config))?;
    println!(
        "accounts {} (slots/contract {}), changed {} (slots {}), threads {}: build {:.1} ms, \
         incremental {:.2} ms, full {:.1} ms, ratio {:.0}x, nodes updated {}, roots match {}",
        config.accounts,
        config.slots_per_contract,
        config.changed_accounts,
        config.changed_slots,
        report.threads,
        report.build.as_secs_f64() * 1e3,
        report.incremental.as_secs_f64() * 1e3,
        report.full.as_secs_f64() * 1e3,
        report.full.as_secs_f64() / report.incremental.as_secs_f64().max(1e-9),
        report.nodes_updated,
        report.roots_match,
    );
    Ok(())
}
