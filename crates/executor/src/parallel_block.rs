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
use alloy_primitives::Address;
use revm::{context::ContextTr, primitives::eip4844::GAS_PER_BLOB};
use std::collections::BTreeMap;

type Outcomes = (Vec<TxOutcome>, u64, u64, ParallelStats);

/// Outcomes, gas, blob gas and the dependency lists.
type Checked = (Vec<TxOutcome>, u64, u64, Vec<Vec<u32>>);

/// Applies the block-level gas rules in order and turns the final
/// incarnations' results into outcomes. `Ok(None)`: build mode must fall
/// back to the sequential path.
fn outcomes(
    block: &BlockContext,
    txs: &[ExecTx],
    runs: Vec<parallel::TxRun>,
    max_blob_gas: Option<u64>,
    mode: ExecMode,
) -> Result<Option<Checked>, BlockExecutionError> {
    let mut outcomes = Vec::with_capacity(txs.len());
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
                ExecMode::Build => outcomes.push(skipped(reason, gas_used)),
            },
            Ok(result) => {
                let tx_gas = result.tx_gas_used();
                gas_used += tx_gas;
                blob_gas_used += tx_blob_gas;
                outcomes.push(outcome(result, tx.tx_type, tx_gas, gas_used, tx_blob_gas));
            }
        }
    }
    Ok(Some((outcomes, gas_used, blob_gas_used, dependencies)))
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
    // The layer's tree is built beside the outcomes when there is a second
    // thread to spare.
    let (checked, layer) = if threads > 1 {
        std::thread::scope(|s| {
            let helper = s.spawn(build_layer);
            let checked = outcomes(block, txs, run.runs, max_blob_gas, mode);
            (checked, helper.join().map_err(|_| StateError::Backend("layer builder panicked".into())))
        })
    } else {
        (outcomes(block, txs, run.runs, max_blob_gas, mode), Ok(build_layer()))
    };
    let Some((outcomes, gas_used, blob_gas_used, dependencies)) = checked? else { return Ok(None) };
    let layer = layer?;
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
