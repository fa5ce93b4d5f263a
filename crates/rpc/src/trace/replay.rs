//! Re-execution for tracing: an EVM over a [`BlockOverlay`] of some state,
//! in which a block's pre-transaction system calls run ([`Tracing::system_calls`],
//! never traced, as in geth), earlier transactions are replayed untraced and
//! committed ([`Tracing::replay`]), and a transaction is traced and then
//! committed too ([`Tracing::trace`]), so that a whole block can be traced
//! in one pass. One deadline covers the whole request; struct logs share
//! one byte budget.

use super::{
    Stop, Traced, TracerKind, TxTracer,
    call::CallTracer,
    prestate::{PrestateTracer, TxAccounts},
    struct_log::StructLogger,
};
use crate::{
    api::{Json, json},
    error::{ApiError, ApiResult},
};
use alloy_primitives::{Address, B256, Bytes, TxKind};
use mosaic_executor::{
    BEACON_ROOTS_ADDRESS, BlockContext, BlockOverlay, HISTORY_STORAGE_ADDRESS, StateError, StateProvider,
};
use mosaic_primitives::{ChainSpec, Hardfork};
use revm::{
    Context, ExecuteEvm, InspectEvm, MainBuilder, MainContext, SystemCallEvm,
    context::{
        BlockEnv, CfgEnv, TxEnv,
        either::Either,
        result::{EVMError, InvalidTransaction},
    },
    handler::{MainnetContext, MainnetEvm, system_call::SYSTEM_ADDRESS},
    state::EvmState,
};
use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

/// The EVM tracing runs in.
type TraceEvm<S> = MainnetEvm<MainnetContext<BlockOverlay<S>>, Traced>;

/// geth's answer when tracing runs out of time.
fn timeout_error() -> ApiError {
    ApiError::server("execution timeout")
}

/// Turns a transaction revm refused into an error.
pub(crate) type InvalidTx = fn(&InvalidTransaction, &TxEnv) -> ApiError;

/// An EVM for tracing on top of some state.
pub(crate) struct Tracing<S: StateProvider> {
    evm: TraceEvm<S>,
    deadline: Instant,
    /// Bytes the struct logs may still take.
    bytes_left: usize,
}

impl<S: StateProvider> std::fmt::Debug for Tracing<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracing").field("bytes_left", &self.bytes_left).finish_non_exhaustive()
    }
}

impl<S: StateProvider> Tracing<S> {
    /// An EVM over `state` with `cfg` and `block`, that gives up after
    /// `timeout` or when struct logs pass `max_bytes`.
    pub(crate) fn new(state: S, cfg: CfgEnv, block: BlockEnv, timeout: Duration, max_bytes: usize) -> Self {
        let evm = Context::mainnet()
            .with_db(BlockOverlay::new(state))
            .with_cfg(cfg)
            .with_block(block)
            .build_mainnet_with_inspector(Traced::new(TxTracer::Noop, None));
        Self { evm, deadline: Instant::now() + timeout, bytes_left: max_bytes }
    }

    fn overlay(&mut self) -> &mut BlockOverlay<S> {
        &mut self.evm.ctx.journaled_state.database
    }

    fn commit(&mut self, state: EvmState) -> ApiResult<()> {
        Ok(self.overlay().commit_changes(state)?)
    }

    fn check_deadline(&self) -> ApiResult<()> {
        if Instant::now() >= self.deadline { Err(timeout_error()) } else { Ok(()) }
    }

    /// The system calls before a block's first transaction (EIP-4788 beacon
    /// root, EIP-2935 block-hash history), committed, untraced.
    pub(crate) fn system_calls(&mut self, spec: &ChainSpec, block: &BlockContext) -> ApiResult<()> {
        let (n, t) = (block.number, block.timestamp);
        let mut calls: Vec<(Address, Bytes)> = Vec::new();
        if spec.is_active(Hardfork::Cancun, n, t) && n > 0 {
            let root = block.parent_beacon_block_root.unwrap_or_default();
            calls.push((BEACON_ROOTS_ADDRESS, root.0.to_vec().into()));
        }
        if spec.is_active(Hardfork::Prague, n, t) && n > 0 {
            calls.push((HISTORY_STORAGE_ADDRESS, block.parent_hash.0.to_vec().into()));
        }
        for (address, data) in calls {
            let out =
                self.evm.system_call_with_caller(SYSTEM_ADDRESS, address, data).map_err(|e| match e {
                    EVMError::Database(e) => ApiError::from(e),
                    other => ApiError::internal(format!("system call to {address} failed: {other}")),
                })?;
            self.commit(out.state)?;
        }
        Ok(())
    }

    /// Executes and commits a transaction without tracing it.
    pub(crate) fn replay(&mut self, tx: TxEnv, hash: B256) -> ApiResult<()> {
        self.check_deadline()?;
        let out = self.evm.transact(tx).map_err(|e| match e {
            EVMError::Database(e) => ApiError::from(e),
            other => ApiError::internal(format!("transaction {hash} failed: {other}")),
        })?;
        self.commit(out.state)
    }

    /// The accounts geth's prestate tracer looks up before `tx` runs.
    fn tx_accounts(&mut self, tx: &TxEnv) -> Result<TxAccounts, StateError> {
        let to = match tx.kind {
            TxKind::Call(to) => to,
            TxKind::Create => {
                let nonce = self.overlay().account(tx.caller)?.map(|a| a.nonce).unwrap_or_default();
                tx.caller.create(nonce)
            }
        };
        let authorities = tx
            .authorization_list
            .iter()
            .filter_map(|auth| match auth {
                Either::Left(signed) => signed.recover_authority().ok(),
                Either::Right(recovered) => recovered.authority(),
            })
            .collect();
        let coinbase = self.evm.ctx.block.beneficiary;
        Ok(TxAccounts { from: tx.caller, to, coinbase, authorities })
    }

    /// Traces `tx` with the tracer `kind` names, commits it, and returns
    /// the tracer's answer; `invalid` words a transaction revm refuses.
    pub(crate) fn trace(&mut self, tx: TxEnv, kind: TracerKind, invalid: InvalidTx) -> ApiResult<Json> {
        self.check_deadline()?;
        let tracer = match kind {
            TracerKind::StructLog(config) => {
                TxTracer::StructLog(Box::new(StructLogger::new(config, self.bytes_left)))
            }
            TracerKind::Call(config) => TxTracer::Call(Box::new(CallTracer::new(config))),
            TracerKind::Prestate(config) => {
                TxTracer::Prestate(PrestateTracer::new(config, &self.tx_accounts(&tx)?))
            }
            TracerKind::Noop => TxTracer::Noop,
        };
        self.evm.inspector = Traced::new(tracer, Some(self.deadline));
        let gas_limit = tx.gas_limit;
        let out = self.evm.inspect_tx(tx.clone());
        let traced = std::mem::replace(&mut self.evm.inspector, Traced::new(TxTracer::Noop, None));
        match traced.stopped {
            Some(Stop::Timeout) => return Err(timeout_error()),
            Some(Stop::TooLarge) => {
                return Err(ApiError::limit("trace larger than the response size limit"));
            }
            None => {}
        }
        let out = out.map_err(|e| match e {
            EVMError::Transaction(e) => invalid(&e, &tx),
            EVMError::Database(e) => ApiError::from(e),
            other => ApiError::server(format!("tracing failed: {other}")),
        })?;
        let gas_used = out.result.tx_gas_used();
        Ok(match traced.tracer {
            TxTracer::StructLog(logger) => {
                let answer = logger.finish(gas_used, &out.result)?;
                self.bytes_left = self.bytes_left.saturating_sub(answer.get().len());
                self.commit(out.state)?;
                answer
            }
            TxTracer::Call(tracer) => {
                self.commit(out.state)?;
                tracer.finish(gas_limit, gas_used)?
            }
            TxTracer::Prestate(tracer) => {
                let deleted: BTreeSet<Address> =
                    out.state.iter().filter(|(_, a)| a.is_selfdestructed()).map(|(a, _)| *a).collect();
                let pre = tracer.read_pre(self.overlay())?;
                self.commit(out.state)?;
                pre.finish(self.overlay(), &deleted)?
            }
            TxTracer::Noop => {
                self.commit(out.state)?;
                json(&serde_json::json!({}))?
            }
        })
    }
}
