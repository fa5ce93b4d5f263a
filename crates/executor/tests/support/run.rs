//! Running one generated block on both engines and checking that they agree.

use super::{
    blockgen::Scenario,
    compare::{first_difference, named_index},
};
use mosaic_executor::{
    BlockExecutionError, BlockOutput, Engine, ExecMode, ExecOptions, ExecStatus, execute_block,
};
use std::fmt::Write as _;

pub(crate) const MODES: [ExecMode; 2] = [ExecMode::Import, ExecMode::Build];

pub(crate) type BlockResult = Result<BlockOutput, BlockExecutionError>;

/// Executes `s` with one engine.
pub(crate) fn execute(s: &Scenario, engine: Engine, threads: usize, mode: ExecMode) -> BlockResult {
    let options =
        ExecOptions { engine, threads, mode, transactions_only: s.transactions_only, block_reward: None };
    execute_block(&s.spec, &s.block, &s.txs, &s.state, &options)
}

/// What the runs saw, to check that the generator produces conflicts.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) blocks: usize,
    pub(crate) txs: usize,
    pub(crate) parallel_runs: usize,
    pub(crate) reexecutions: usize,
    pub(crate) dependency_edges: usize,
    /// Import-mode blocks rejected because of a transaction.
    pub(crate) invalid_blocks: usize,
    /// Build-mode transactions skipped as invalid.
    pub(crate) skipped_txs: usize,
    /// Transactions that reverted or halted.
    pub(crate) failed_txs: usize,
    /// Parallel runs that handed the block back to the sequential engine.
    pub(crate) fallbacks: usize,
}

impl Stats {
    fn record_reference(&mut self, mode: ExecMode, r: &BlockResult) {
        match r {
            Err(BlockExecutionError::InvalidTransaction { .. }) => self.invalid_blocks += 1,
            Err(_) => {}
            Ok(out) => {
                for o in &out.outcomes {
                    match o.status {
                        ExecStatus::Skipped(_) => self.skipped_txs += 1,
                        ExecStatus::Revert | ExecStatus::Halt(_) if mode == ExecMode::Build => {
                            self.failed_txs += 1;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// A disagreement between the engines.
#[derive(Debug)]
pub(crate) struct Mismatch {
    pub(crate) seed: u64,
    pub(crate) threads: usize,
    pub(crate) mode: ExecMode,
    pub(crate) difference: String,
}

impl Mismatch {
    /// A report with the block's shape and the transactions involved.
    pub(crate) fn report(&self, s: &Scenario) -> String {
        let mut out = format!(
            "seed {} ({} txs, transactions_only {}, beneficiary {}, base fee {:?}, gas limit {}): \
             parallel x{} in {:?} mode differs from sequential\n{}\n",
            self.seed,
            s.txs.len(),
            s.transactions_only,
            s.block.beneficiary,
            s.block.base_fee,
            s.block.gas_limit,
            self.threads,
            self.mode,
            self.difference,
        );
        let range = match named_index(&self.difference) {
            Some(i) if s.txs.len() > 40 => i.saturating_sub(8)..(i + 3).min(s.txs.len()),
            _ => 0..s.txs.len().min(40),
        };
        for i in range.clone() {
            let _ = writeln!(out, "  tx {i:>3}: {}", s.labels[i]);
        }
        if range.end < s.txs.len() {
            let _ = writeln!(out, "  ... {} more", s.txs.len() - range.end);
        }
        out
    }
}

/// Checks the engine invariants of a parallel result: one dependency list
/// per transaction, each naming only lower transactions, and no
/// re-execution on one thread (a lone worker runs every transaction after
/// all lower ones are final; its incarnations keep no reads to validate).
fn check_stats(out: &BlockOutput, txs: usize, stats: &mut Stats) -> Option<String> {
    let Some(p) = &out.parallel else {
        stats.fallbacks += 1;
        return None;
    };
    stats.parallel_runs += 1;
    stats.reexecutions += p.reexecutions;
    if p.threads == 1 && p.reexecutions > 0 {
        return Some(format!("{} re-executions on one thread", p.reexecutions));
    }
    if p.dependencies.len() != txs {
        return Some(format!("{} dependency lists for {txs} transactions", p.dependencies.len()));
    }
    for (i, deps) in p.dependencies.iter().enumerate() {
        stats.dependency_edges += deps.len();
        if let Some(d) = deps.iter().find(|d| **d as usize >= i) {
            return Some(format!("transaction {i} depends on transaction {d}, not a lower one"));
        }
    }
    None
}

/// Runs `s` sequentially, in parallel at each of `threads` and with the
/// automatic engine choice, in both modes.
pub(crate) fn check(seed: u64, s: &Scenario, threads: &[usize], stats: &mut Stats) -> Vec<Mismatch> {
    stats.blocks += 1;
    stats.txs += s.txs.len();
    let mut mismatches = Vec::new();
    for mode in MODES {
        let reference = execute(s, Engine::Sequential, 1, mode);
        stats.record_reference(mode, &reference);
        for &t in threads {
            let result = execute(s, Engine::Parallel, t, mode);
            let difference = first_difference(&reference, &result)
                .or_else(|| result.as_ref().ok().and_then(|out| check_stats(out, s.txs.len(), stats)));
            if let Some(difference) = difference {
                mismatches.push(Mismatch { seed, threads: t, mode, difference });
            }
        }
        // `Engine::Auto` picks an engine and a thread count per block.
        if let Some(difference) = first_difference(&reference, &execute(s, Engine::Auto, 2, mode)) {
            mismatches.push(Mismatch { seed, threads: 0, mode, difference: format!("auto: {difference}") });
        }
    }
    mismatches
}

/// Whether parallel at `threads` in `mode` disagrees with sequential on `s`
/// in any of `tries` attempts (races need several).
pub(crate) fn disagrees(s: &Scenario, threads: usize, mode: ExecMode, tries: usize) -> bool {
    let reference = execute(s, Engine::Sequential, 1, mode);
    (0..tries).any(|_| first_difference(&reference, &execute(s, Engine::Parallel, threads, mode)).is_some())
}
