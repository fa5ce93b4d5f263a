//! The sequential reference executor: plain revm, one transaction after
//! another.

use crate::{
    BlockContext, BlockExecutionError, BlockOutput, BlockOverlay, ExecStatus, ExecTx, StateProvider,
    TxOutcome,
    system::{self, SeqEvm, overlay},
};
use alloy_consensus::{Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom, TxType};
use alloy_primitives::{Bytes, U256};
use mosaic_primitives::{ChainSpec, Hardfork};
use revm::{
    Context, ExecuteEvm, MainBuilder, MainContext,
    context::result::{EVMError, ExecutionResult, Output},
    primitives::eip4844::GAS_PER_BLOB,
};

/// What to do with a transaction that is invalid at its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecMode {
    /// Importing a block: an invalid transaction makes the block invalid.
    #[default]
    Import,
    /// Building a block: an invalid transaction is skipped and recorded as
    /// [`ExecStatus::Skipped`]; the rest of the block still executes.
    Build,
}

/// Which engine runs the transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// Parallel, with a thread count chosen per block, when the block is
    /// large enough and not one chain of dependent transactions (see
    /// `auto.rs`); sequential otherwise.
    #[default]
    Auto,
    /// Always the sequential reference.
    Sequential,
    /// Always Block-STM, even for one transaction.
    Parallel,
}

/// Options of [`execute_block`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecOptions {
    /// Engine choice.
    pub engine: Engine,
    /// Threads for the parallel engine (0 = all cores).
    pub threads: usize,
    /// Import or build.
    pub mode: ExecMode,
    /// Run only the transactions: no system calls, rewards, withdrawals or
    /// requests (state tests).
    pub transactions_only: bool,
    /// Replace the fork's PoW block reward (`Some(0)` disables rewards).
    pub block_reward: Option<U256>,
}

/// Executes a block sequentially on top of `state` (the parent's state).
pub fn execute_block<S: StateProvider>(
    spec: &ChainSpec,
    block: &BlockContext,
    txs: &[ExecTx],
    state: S,
    options: &ExecOptions,
) -> Result<BlockOutput, BlockExecutionError> {
    let cfg = block.cfg_env(spec);
    let block_env = block.block_env(spec);
    let mut evm: SeqEvm<S> = Context::mainnet()
        .with_db(BlockOverlay::new(state))
        .with_cfg(cfg)
        .with_block(block_env)
        .build_mainnet();
    if !options.transactions_only {
        system::pre_block(&mut evm, spec, block)?;
    }
    let max_blob_gas = spec.blob_schedule(block.number, block.timestamp).map(|b| b.max_blob_gas());
    let threads = match options.engine {
        Engine::Sequential => 0,
        Engine::Parallel => resolve_threads(options.threads),
        Engine::Auto => match crate::auto::threads_for(txs, resolve_threads(options.threads)) {
            1 => 0,
            n => n,
        },
    };
    let use_parallel = threads > 0;
    if use_parallel {
        match crate::parallel_block::run_transactions(
            &mut evm,
            block,
            txs,
            threads,
            max_blob_gas,
            options.mode,
        )? {
            Some((outcomes, gas_used, blob_gas_used, stats)) => {
                return finish(
                    &mut evm,
                    spec,
                    block,
                    options,
                    outcomes,
                    gas_used,
                    blob_gas_used,
                    Some(stats),
                );
            }
            // Build mode hit the block gas limit mid-block: the reference
            // path decides which transactions fit.
            None => {
                return execute_block(
                    spec,
                    block,
                    txs,
                    evm.ctx.journaled_state.database.into_base(),
                    &ExecOptions { engine: Engine::Sequential, ..*options },
                );
            }
        }
    }
    let mut outcomes = Vec::with_capacity(txs.len());
    let (mut gas_used, mut blob_gas_used) = (0u64, 0u64);
    for (index, tx) in txs.iter().enumerate() {
        let invalid =
            |reason: String| BlockExecutionError::InvalidTransaction { index, hash: tx.hash, reason };
        let tx_blob_gas = tx.env.blob_hashes.len() as u64 * GAS_PER_BLOB;
        let precheck = block_gas_rule(tx, block.gas_limit, gas_used, blob_gas_used, max_blob_gas);
        let result = match precheck {
            Some(reason) => Err(reason),
            None => match evm.transact(tx.env.clone()) {
                Ok(r) => Ok(r),
                Err(EVMError::Transaction(e)) => Err(e.to_string()),
                Err(EVMError::Header(e)) => return Err(BlockExecutionError::InvalidBlock(e.to_string())),
                Err(EVMError::Database(e)) => return Err(e.into()),
                Err(e) => {
                    return Err(BlockExecutionError::Evm {
                        address: Some(tx.env.caller),
                        message: e.to_string(),
                    });
                }
            },
        };
        let out = match result {
            Ok(out) => out,
            Err(reason) => match options.mode {
                ExecMode::Import => return Err(invalid(reason)),
                ExecMode::Build => {
                    outcomes.push(skipped(reason, gas_used));
                    continue;
                }
            },
        };
        overlay(&mut evm).commit_changes(out.state)?;
        let tx_gas = out.result.tx_gas_used();
        gas_used += tx_gas;
        blob_gas_used += tx_blob_gas;
        outcomes.push(outcome(out.result, tx.tx_type, tx_gas, gas_used, tx_blob_gas));
    }
    finish(&mut evm, spec, block, options, outcomes, gas_used, blob_gas_used, None)
}

/// Threads to use for a request of `n` (0 = all cores).
pub(crate) fn resolve_threads(n: usize) -> usize {
    if n > 0 {
        return n;
    }
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Post-block work and the output.
#[allow(clippy::too_many_arguments)]
fn finish<S: StateProvider>(
    evm: &mut SeqEvm<S>,
    spec: &ChainSpec,
    block: &BlockContext,
    options: &ExecOptions,
    outcomes: Vec<TxOutcome>,
    gas_used: u64,
    blob_gas_used: u64,
    parallel: Option<crate::ParallelStats>,
) -> Result<BlockOutput, BlockExecutionError> {
    let mut requests = None;
    if !options.transactions_only {
        system::apply_rewards(overlay(evm), spec, block, options.block_reward)?;
        system::apply_withdrawals(overlay(evm), block)?;
        if spec.is_active(Hardfork::Prague, block.number, block.timestamp) {
            let logs: Vec<_> = outcomes.iter().flat_map(|o| o.logs.iter().cloned()).collect();
            requests = Some(system::collect_requests(evm, spec, logs.iter())?);
        }
    }
    let t = std::time::Instant::now();
    let diff = overlay(evm).diff();
    if crate::timings() {
        eprintln!("diff {:?}", t.elapsed());
    }
    Ok(BlockOutput { outcomes, gas_used, blob_gas_used, diff, requests, parallel })
}

/// The block-level gas rules a transaction must meet at its position: its
/// gas limit fits in the gas left, and the block's blob gas stays under the
/// maximum. Returns why it does not.
pub(crate) fn block_gas_rule(
    tx: &ExecTx,
    block_gas_limit: u64,
    gas_used: u64,
    blob_gas_used: u64,
    max_blob_gas: Option<u64>,
) -> Option<String> {
    let gas_left = block_gas_limit.saturating_sub(gas_used);
    let tx_blob_gas = tx.env.blob_hashes.len() as u64 * GAS_PER_BLOB;
    if tx.env.gas_limit > gas_left {
        Some(format!(
            "gas limit reached: tx gas limit {} exceeds block gas left {gas_left}",
            tx.env.gas_limit
        ))
    } else if max_blob_gas.is_some_and(|max| blob_gas_used + tx_blob_gas > max) {
        Some(format!("blob gas used {} exceeds the block maximum", blob_gas_used + tx_blob_gas))
    } else {
        None
    }
}

pub(crate) fn skipped(reason: String, cumulative_gas_used: u64) -> TxOutcome {
    TxOutcome {
        status: ExecStatus::Skipped(reason),
        gas_used: 0,
        cumulative_gas_used,
        blob_gas_used: 0,
        logs: Vec::new(),
        output: Bytes::new(),
        contract_address: None,
        receipt: None,
    }
}

/// Turns revm's result into an outcome with its receipt.
pub(crate) fn outcome(
    result: ExecutionResult,
    tx_type: TxType,
    gas_used: u64,
    cumulative_gas_used: u64,
    blob_gas_used: u64,
) -> TxOutcome {
    let (status, logs, output, contract_address) = match result {
        ExecutionResult::Success { logs, output, .. } => {
            let created = match &output {
                Output::Create(_, address) => *address,
                Output::Call(_) => None,
            };
            (ExecStatus::Success, logs, output.into_data(), created)
        }
        ExecutionResult::Revert { logs, output, .. } => (ExecStatus::Revert, logs, output, None),
        ExecutionResult::Halt { reason, logs, .. } => {
            (ExecStatus::Halt(format!("{reason:?}")), logs, Bytes::new(), None)
        }
    };
    let receipt = Receipt {
        status: Eip658Value::Eip658(status == ExecStatus::Success),
        cumulative_gas_used,
        logs: logs.clone(),
    };
    let with_bloom = ReceiptWithBloom::from(receipt);
    let receipt = match tx_type {
        TxType::Legacy => ReceiptEnvelope::Legacy(with_bloom),
        TxType::Eip2930 => ReceiptEnvelope::Eip2930(with_bloom),
        TxType::Eip1559 => ReceiptEnvelope::Eip1559(with_bloom),
        TxType::Eip4844 => ReceiptEnvelope::Eip4844(with_bloom),
        TxType::Eip7702 => ReceiptEnvelope::Eip7702(with_bloom),
    };
    TxOutcome {
        status,
        gas_used,
        cumulative_gas_used,
        blob_gas_used,
        logs,
        output,
        contract_address,
        receipt: Some(receipt),
    }
}
