//! Differential tests: the parallel engine must produce exactly what the
//! sequential reference produces, on randomized blocks built to collide.
//!
//! - `differential_blocks`: `MOSAIC_DIFF_BLOCKS` (default 1000) seeded blocks
//!   from `MOSAIC_DIFF_SEED` (default fixed), each run sequentially and in
//!   parallel at 1, 2, 4 and 8 threads, in import and build mode.
//! - `stress_short` / `stress_same_blocks` (ignored): the same contentious
//!   blocks many times (`MOSAIC_STRESS_ROUNDS`) to shake out races.
//! - `minimize_seed` (ignored): narrows a failing seed
//!   (`MOSAIC_DIFF_MINIMIZE=<seed>`, optional `MOSAIC_DIFF_THREADS`,
//!   `MOSAIC_DIFF_MODE=import|build`) to a minimal set of transactions.
//!
//! Reproduce a failure with `MOSAIC_DIFF_SEED=<seed> MOSAIC_DIFF_BLOCKS=1`.

mod support;

use mosaic_executor::{Engine, ExecMode};
use std::time::Instant;
use support::{
    blockgen::{Profile, Scenario, generate},
    compare::first_difference,
    run::{MODES, Mismatch, Stats, check, disagrees, execute},
};

const DEFAULT_SEED: u64 = 0x6d6f_7361_6963_0001;
const THREADS: [usize; 4] = [1, 2, 4, 8];

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        }
        Err(_) => default,
    }
}

/// Prints the mismatches (the first few in full) and fails.
fn fail(mismatches: &[(Mismatch, Scenario)]) -> ! {
    for (m, s) in mismatches.iter().take(5) {
        eprintln!("{}", m.report(s));
    }
    eprintln!("all mismatches:");
    for (m, _) in mismatches {
        let first = m.difference.lines().collect::<Vec<_>>().join(" | ");
        eprintln!("  seed {} x{} {:?}: {first}", m.seed, m.threads, m.mode);
    }
    let mut seeds: Vec<u64> = mismatches.iter().map(|(m, _)| m.seed).collect();
    seeds.dedup();
    panic!(
        "{} mismatches in {} blocks; seeds: {seeds:?} (rerun one with MOSAIC_DIFF_SEED=<seed> MOSAIC_DIFF_BLOCKS=1)",
        mismatches.len(),
        seeds.len()
    );
}

#[test]
fn differential_blocks() {
    let base = env_u64("MOSAIC_DIFF_SEED", DEFAULT_SEED);
    let count = env_u64("MOSAIC_DIFF_BLOCKS", 1000);
    println!("differential_blocks: base seed {base} ({base:#x}), {count} blocks");
    let start = Instant::now();
    let mut stats = Stats::default();
    let mut mismatches = Vec::new();
    for i in 0..count {
        let seed = base.wrapping_add(i);
        let scenario = generate(seed, Profile::Mixed);
        let found = check(seed, &scenario, &THREADS, &mut stats);
        if let Some(first) = found.into_iter().next() {
            // One report per seed is enough to narrow it down.
            mismatches.push((first, scenario));
        }
    }
    println!("differential_blocks: {stats:?} in {:.1?}", start.elapsed());
    if !mismatches.is_empty() {
        fail(&mismatches);
    }
    assert_meaningful(&stats, count >= 100);
}

/// The generator must actually produce conflicts and invalid transactions,
/// else agreement proves little.
fn assert_meaningful(stats: &Stats, with_invalid: bool) {
    assert!(stats.parallel_runs > 0, "no block ran on the parallel engine: {stats:?}");
    assert!(stats.reexecutions > 0, "no re-executions: the blocks have no conflicts: {stats:?}");
    assert!(stats.dependency_edges > 0, "no dependencies recorded: {stats:?}");
    if with_invalid {
        assert!(stats.invalid_blocks > 0, "no import-mode block was invalid: {stats:?}");
        assert!(stats.skipped_txs > 0, "no build-mode transaction was skipped: {stats:?}");
        assert!(stats.failed_txs > 0, "no transaction reverted or halted: {stats:?}");
    }
}

/// The blocks the stress tests repeat: contentious blocks plus a few large
/// mixed ones.
fn stress_blocks() -> Vec<(u64, Scenario)> {
    let contentious = (0..6u64).map(|s| (0x5_7e55 + s, generate(0x5_7e55 + s, Profile::Contentious)));
    let mixed = (0..200u64)
        .map(|s| (DEFAULT_SEED + s, generate(DEFAULT_SEED + s, Profile::Mixed)))
        .filter(|(_, b)| b.txs.len() > 100)
        .take(2);
    contentious.chain(mixed).collect()
}

fn stress(rounds: u64) {
    let blocks = stress_blocks();
    println!("stress: {} blocks x {rounds} rounds", blocks.len());
    let start = Instant::now();
    let mut stats = Stats::default();
    let mut mismatches = Vec::new();
    for (seed, s) in &blocks {
        for mode in MODES {
            let reference = execute(s, Engine::Sequential, 1, mode);
            let mut found = None;
            'rounds: for _ in 0..rounds {
                for threads in [2, 4, 8] {
                    let result = execute(s, Engine::Parallel, threads, mode);
                    if let Ok(out) = &result
                        && let Some(p) = &out.parallel
                    {
                        stats.parallel_runs += 1;
                        stats.reexecutions += p.reexecutions;
                        stats.dependency_edges += p.dependencies.iter().map(Vec::len).sum::<usize>();
                    }
                    if let Some(difference) = first_difference(&reference, &result) {
                        found = Some(Mismatch { seed: *seed, threads, mode, difference });
                        break 'rounds;
                    }
                }
            }
            if let Some(m) = found {
                mismatches.push((m, generate(*seed, profile_of(*seed))));
            }
        }
    }
    println!("stress: {stats:?} in {:.1?}", start.elapsed());
    if !mismatches.is_empty() {
        fail(&mismatches);
    }
    assert_meaningful(&stats, false);
}

fn profile_of(seed: u64) -> Profile {
    if (0x5_7e55..0x5_7e55 + 6).contains(&seed) { Profile::Contentious } else { Profile::Mixed }
}

#[test]
fn stress_short() {
    stress(20);
}

#[test]
#[ignore = "long: MOSAIC_STRESS_ROUNDS rounds (default 200)"]
fn stress_same_blocks() {
    stress(env_u64("MOSAIC_STRESS_ROUNDS", 200));
}

/// Greedily drops transactions from a failing seed while the engines still
/// disagree, and prints what is left.
#[test]
#[ignore = "a tool: MOSAIC_DIFF_MINIMIZE=<seed>"]
fn minimize_seed() {
    let Ok(seed) = std::env::var("MOSAIC_DIFF_MINIMIZE") else {
        println!("set MOSAIC_DIFF_MINIMIZE=<seed>");
        return;
    };
    let seed: u64 = seed.trim().parse().expect("seed");
    let full = generate(seed, profile_of(seed));
    let threads = env_u64("MOSAIC_DIFF_THREADS", 0) as usize;
    let mode = std::env::var("MOSAIC_DIFF_MODE").ok();
    let tries = 5;
    // The first configuration that fails, unless one was given.
    let configs: Vec<(usize, ExecMode)> = MODES
        .into_iter()
        .filter(|m| mode.as_deref().is_none_or(|s| format!("{m:?}").eq_ignore_ascii_case(s)))
        .flat_map(|m| THREADS.into_iter().filter(|t| threads == 0 || *t == threads).map(move |t| (t, m)))
        .collect();
    let Some((threads, mode)) = configs.into_iter().find(|(t, m)| disagrees(&full, *t, *m, tries)) else {
        println!("seed {seed}: no disagreement found");
        return;
    };
    let mut keep: Vec<usize> = (0..full.txs.len()).collect();
    let mut chunk = keep.len().div_ceil(2);
    while chunk > 0 {
        let mut at = 0;
        while at < keep.len() {
            let candidate: Vec<usize> = keep
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < at || *i >= at + chunk)
                .map(|(_, t)| *t)
                .collect();
            if !candidate.is_empty() && disagrees(&full.subset(&candidate), threads, mode, tries) {
                keep = candidate;
            } else {
                at += chunk;
            }
        }
        chunk /= 2;
    }
    let small = full.subset(&keep);
    let reference = execute(&small, Engine::Sequential, 1, mode);
    let difference = (0..20)
        .find_map(|_| first_difference(&reference, &execute(&small, Engine::Parallel, threads, mode)))
        .unwrap_or_else(|| "(flaky: no difference on the last check)".into());
    let m = Mismatch { seed, threads, mode, difference };
    println!("minimal ({} of {} txs):\n{}", keep.len(), full.txs.len(), m.report(&small));
}
