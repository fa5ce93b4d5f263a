//! Glue between the block executor and the parallel engine: the parallel
//! part runs over the overlay left by the pre-block system calls, and its
//! final state is folded back into that overlay.

use crate::{
    AccountDiff, BlockContext, BlockExecutionError, ExecMode, ExecTx, ParallelStats, StateError,
    StateProvider, TxOutcome,
    overlay::OverlayView,
    parallel,
    sequential::{block_gas_rule, outcome, skipped},
    system::SeqEvm,
};
use alloy_consensus::TxType;
use alloy_primitives::Address;
use revm::context::result::ExecutionResult;
use revm::{context::ContextTr, primitives::eip4844::GAS_PER_BLOB};
use std::{
    collections::BTreeMap,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
};

type Outcomes = (Vec<TxOutcome>, u64, u64, ParallelStats);

/// A transaction's place in the block once the gas rules are applied.
enum Checked {
    /// Executed: its result, gas, cumulative gas and blob gas.
    Included(ExecutionResult, TxType, u64, u64, u64),
    /// Skipped in build mode: why, and the block's gas so far.
    Skipped(String, u64),
}

impl Checked {
    fn into_outcome(self) -> TxOutcome {
        match self {
            Self::Included(result, ty, gas, cumulative, blob_gas) => {
                outcome(result, ty, gas, cumulative, blob_gas)
            }
            Self::Skipped(reason, cumulative) => skipped(reason, cumulative),
        }
    }
}

/// The block so far: checked transactions, gas, blob gas, dependencies.
type Ordered = (Vec<Checked>, u64, u64, Vec<Vec<u32>>);

/// Applies the block-level gas rules in order. `Ok(None)`: build mode must
/// fall back to the sequential path.
fn check(
    block: &BlockContext,
    txs: &[ExecTx],
    runs: Vec<parallel::TxRun>,
    max_blob_gas: Option<u64>,
    mode: ExecMode,
) -> Result<Option<Ordered>, BlockExecutionError> {
    let mut checked = Vec::with_capacity(txs.len());
    let (mut gas_used, mut blob_gas_used) = (0u64, 0u64);
    let mut dependencies = Vec::with_capacity(txs.len());
    for (index, (tx, r)) in txs.iter().zip(runs).enumerate() {
        dependencies.push(r.dependencies.iter().map(|d| *d as u32).collect());
        let tx_blob_gas = tx.env.blob_hashes.len() as u64 * GAS_PER_BLOB;
        let block_rule = block_gas_rule(tx, block.gas_limit, gas_used, blob_gas_used, max_blob_gas);
        if let Some(reason) = block_rule {
            return match mode {
                ExecMode::Import => {
                    Err(BlockExecutionError::InvalidTransaction { index, hash: tx.hash, reason })
                }
                ExecMode::Build => Ok(None),
            };
        }
        match r.result {
            Err(reason) => match mode {
                ExecMode::Import => {
                    return Err(BlockExecutionError::InvalidTransaction { index, hash: tx.hash, reason });
                }
                ExecMode::Build => checked.push(Checked::Skipped(reason, gas_used)),
            },
            Ok(result) => {
                let tx_gas = result.tx_gas_used();
                gas_used += tx_gas;
                blob_gas_used += tx_blob_gas;
                checked.push(Checked::Included(result, tx.tx_type, tx_gas, gas_used, tx_blob_gas));
            }
        }
    }
    Ok(Some((checked, gas_used, blob_gas_used, dependencies)))
}

/// Turns checked transactions into outcomes (receipts and their blooms)
/// on `threads` threads; `side` runs on one of them meanwhile. The work is
/// cut into small pieces that the threads take in turn, so the side job
/// and the conversions balance whatever their costs.
fn convert<T: Send>(
    checked: Vec<Checked>,
    threads: usize,
    side: impl FnOnce() -> T + Send,
) -> Result<(Vec<TxOutcome>, T), StateError> {
    let all = |part: Vec<Checked>| part.into_iter().map(Checked::into_outcome).collect::<Vec<_>>();
    if threads <= 1 {
        return Ok((all(checked), side()));
    }
    let pieces = checked.len().div_ceil(512).clamp(1, 64);
    let size = checked.len().div_ceil(pieces).max(1);
    let mut parts: Vec<Mutex<Vec<Checked>>> = Vec::with_capacity(pieces);
    let mut rest = checked;
    while rest.len() > size {
        let tail = rest.split_off(size);
        parts.push(Mutex::new(rest));
        rest = tail;
    }
    parts.push(Mutex::new(rest));
    let done: Vec<Mutex<Vec<TxOutcome>>> = parts.iter().map(|_| Mutex::new(Vec::new())).collect();
    let side = Mutex::new(Some(side));
    let side_out = Mutex::new(None);
    let next = AtomicUsize::new(0);
    let work = || {
        loop {
            match next.fetch_add(1, Ordering::Relaxed) {
                0 => {
                    if let Some(f) = lock(&side).take() {
                        *lock(&side_out) = Some(f());
                    }
                }
                i if i <= parts.len() => {
                    let part = std::mem::take(&mut *lock(&parts[i - 1]));
                    *lock(&done[i - 1]) = all(part);
                }
                _ => return,
            }
        }
    };
    parallel::fan_out(threads, |_| work());
    let side = side_out.into_inner().unwrap_or_else(PoisonError::into_inner);
    let side = side.ok_or_else(|| StateError::Backend("outcome conversion panicked".into()))?;
    let outcomes =
        done.into_iter().flat_map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner)).collect();
    Ok((outcomes, side))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the transactions in parallel. `Ok(None)` means the block-level gas
/// rules skipped a transaction in build mode, which the caller resolves
/// sequentially.
pub(crate) fn run_transactions<S: StateProvider>(
    evm: &mut SeqEvm<S>,
    block: &BlockContext,
    txs: &[ExecTx],
    threads: usize,
    max_blob_gas: Option<u64>,
    mode: ExecMode,
) -> Result<Option<Outcomes>, BlockExecutionError> {
    let cfg = evm.ctx.cfg().clone();
    let block_env = evm.ctx.block().clone();
    let mut run = {
        let overlay = &evm.ctx.journaled_state.database;
        let view = OverlayView::new(overlay);
        let cached = |a: &Address| view.is_cached(a);
        parallel::run(&view, txs, &cfg, &block_env, threads, &cached)?
    };
    let t0 = std::time::Instant::now();
    let diffs = std::mem::take(&mut run.state.diffs);
    let build_layer = move || -> BTreeMap<Address, AccountDiff> { diffs.into_iter().flatten().collect() };
    let Some((checked, gas_used, blob_gas_used, dependencies)) =
        check(block, txs, run.runs, max_blob_gas, mode)?
    else {
        return Ok(None);
    };
    // The layer's tree is built while the outcomes are converted.
    let (outcomes, layer) = convert(checked, threads, build_layer)?;
    let t = std::time::Instant::now();
    let overlay = &mut evm.ctx.journaled_state.database;
    for (hash, code) in run.codes {
        overlay.insert_code(hash, code);
    }
    for account in run.state.cached {
        overlay.apply_final(account.address, account.info, account.wiped, &account.storage)?;
    }
    overlay.install_layer(layer);
    if std::env::var_os("MOSAIC_TIMINGS").is_some() {
        eprintln!("parallel: outcomes+layer {:?}, apply {:?}", t - t0, t.elapsed());
    }
    let stats = ParallelStats { threads, reexecutions: run.reexecutions, dependencies };
    Ok(Some((outcomes, gas_used, blob_gas_used, stats)))
}
