//! Glue between the block executor and the parallel engine: the parallel
//! part runs over the overlay left by the pre-block system calls, and its
//! final state is folded back into that overlay.

use crate::{
    AccountDiff, BlockContext, BlockExecutionError, ExecMode, ExecTx, ParallelStats, StateError,
    StateProvider, TxOutcome,
    overlay::OverlayView,
    parallel,
    sequential::{block_gas_rule, skipped},
    system::SeqEvm,
};
use alloy_primitives::Address;
use revm::context::ContextTr;
use std::collections::BTreeMap;

type Outcomes = (Vec<TxOutcome>, u64, u64, ParallelStats);

/// The block so far: outcomes, gas, blob gas, dependencies.
type Ordered = (Vec<TxOutcome>, u64, u64, Vec<Vec<u32>>);

/// Applies the block-level gas rules in order and fills in the cumulative
/// gas. `Ok(None)`: build mode must fall back to the sequential path.
fn check(
    block: &BlockContext,
    txs: &[ExecTx],
    runs: &mut [parallel::RunSlot],
    max_blob_gas: Option<u64>,
    mode: ExecMode,
) -> Result<Option<Ordered>, BlockExecutionError> {
    let mut outcomes = Vec::with_capacity(txs.len());
    let (mut gas_used, mut blob_gas_used) = (0u64, 0u64);
    let mut dependencies = Vec::with_capacity(txs.len());
    for (index, (tx, slot)) in txs.iter().zip(runs).enumerate() {
        let Some(r) = parallel::slot_run(slot) else {
            return Err(StateError::Backend("a transaction was never executed".into()).into());
        };
        // Only the outcome and the dependencies are taken; the rest of the
        // run is freed with it.
        dependencies.push(std::mem::take(&mut r.dependencies));
        let result = std::mem::replace(&mut r.result, Err(String::new()));
        let block_rule = block_gas_rule(tx, block.gas_limit, gas_used, blob_gas_used, max_blob_gas);
        if let Some(reason) = block_rule {
            return match mode {
                ExecMode::Import => {
                    Err(BlockExecutionError::InvalidTransaction { index, hash: tx.hash, reason })
                }
                ExecMode::Build => Ok(None),
            };
        }
        match result {
            Err(reason) => match mode {
                ExecMode::Import => {
                    return Err(BlockExecutionError::InvalidTransaction { index, hash: tx.hash, reason });
                }
                ExecMode::Build => outcomes.push(skipped(reason, gas_used)),
            },
            Ok(mut outcome) => {
                gas_used += outcome.gas_used;
                blob_gas_used += outcome.blob_gas_used;
                outcome.cumulative_gas_used = gas_used;
                if let Some(receipt) = outcome.receipt.as_mut().and_then(|r| r.as_receipt_with_bloom_mut()) {
                    receipt.receipt.cumulative_gas_used = gas_used;
                }
                outcomes.push(outcome);
            }
        }
    }
    Ok(Some((outcomes, gas_used, blob_gas_used, dependencies)))
}

/// Frees `waste` on a thread of its own when the block runs on several
/// threads (nothing waits for it), here otherwise.
fn free_beside(waste: Box<dyn Send>, threads: usize) {
    if threads > 1 {
        // If no thread can be started, `waste` is dropped here.
        let _ = std::thread::Builder::new().name("mosaic-free".into()).spawn(move || drop(waste));
    } else {
        drop(waste);
    }
}

/// The assembled diffs as one map. The lists are sorted and each below the
/// next: appended to the first, they collect into the map without another
/// copy of the first.
fn collect_layer(diffs: Vec<Vec<(Address, AccountDiff)>>) -> BTreeMap<Address, AccountDiff> {
    let mut lists = diffs.into_iter();
    let mut sorted = lists.next().unwrap_or_default();
    lists.for_each(|list| sorted.extend(list));
    sorted.into_iter().collect()
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
    // The in-order check and the layer's map do not depend on each other:
    // on several threads the map is built beside the check, and what the
    // parallel part leaves to free (mostly other threads' memory, the
    // allocator's slow path) is freed after the map, on the same thread.
    // A thread of its own for it was a third thread beside the two: on a
    // 2-core machine the check then lost its core for whole time slices
    // (erc20, 2 threads: check 3.5-12.8 ms).
    let (layer, checked) = if threads > 1 {
        let waste = run.waste;
        std::thread::scope(|s| {
            let layer = s.spawn(move || {
                let layer = collect_layer(diffs);
                drop(waste);
                layer
            });
            let checked = check(block, txs, &mut run.runs, max_blob_gas, mode);
            match layer.join() {
                Ok(layer) => (layer, checked),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    } else {
        drop(run.waste);
        (collect_layer(diffs), check(block, txs, &mut run.runs, max_blob_gas, mode))
    };
    let Some((outcomes, gas_used, blob_gas_used, dependencies)) = checked? else {
        return Ok(None);
    };
    free_beside(Box::new(run.runs), threads);
    let t = std::time::Instant::now();
    let overlay = &mut evm.ctx.journaled_state.database;
    for (hash, code) in run.codes {
        overlay.insert_code(hash, code);
    }
    for account in run.state.cached {
        overlay.apply_final(account.address, account.info, account.wiped, &account.storage)?;
    }
    overlay.install_layer(layer);
    if crate::timings() {
        eprintln!("parallel: layer and check {:?}, apply {:?}", t - t0, t.elapsed());
    }
    let stats = ParallelStats { threads, reexecutions: run.reexecutions, dependencies };
    Ok(Some((outcomes, gas_used, blob_gas_used, stats)))
}
