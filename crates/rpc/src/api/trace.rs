//! The tracing methods of the `debug_` namespace: `debug_traceTransaction`
//! (the block's earlier transactions replayed on the parent's state, then
//! the transaction traced), `debug_traceBlockByNumber` and
//! `debug_traceBlockByHash` (every transaction traced in order, each on the
//! state the previous ones left), and `debug_traceCall` (a call object
//! traced on the state after a block, with state and block overrides). All
//! run on the execution threads under the call timeout.

use super::{Api, BlockState, CachedBlock, Json, Kind, Method, json};
use crate::{
    error::{ApiError, ApiResult},
    exec::{
        evm::{CallBlock, CallError, environment, invalid},
        overrides::{OverrideState, parse_block_overrides, parse_state_overrides},
        request::CallRequest,
    },
    params::{self, Args, At, BlockId, BlockTag, kind, type_error},
    trace::{TraceOptions, field, replay::Tracing},
};
use alloy_primitives::B256;
use jsonrpsee::types::Params;
use mosaic_executor::{BlockContext, tx_env_from_envelope};
use mosaic_storage::BlockRef;
use revm::context::{TxEnv, result::InvalidTransaction};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

pub(crate) const METHODS: [(&str, Kind, Method); 4] = [
    ("debug_traceTransaction", Kind::Heavy, trace_transaction),
    ("debug_traceBlockByNumber", Kind::Heavy, trace_block_by_number),
    ("debug_traceBlockByHash", Kind::Heavy, trace_block_by_hash),
    ("debug_traceCall", Kind::Heavy, trace_call),
];

/// One transaction's trace in a block trace.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TxTrace {
    tx_hash: B256,
    result: Json,
}

fn invalid_in_block(error: &InvalidTransaction, _tx: &TxEnv) -> ApiError {
    ApiError::server(format!("tracing failed: {error}"))
}

fn invalid_call(error: &InvalidTransaction, tx: &TxEnv) -> ApiError {
    match invalid(error, tx) {
        CallError::Invalid(_, message) => ApiError::server(format!("tracing failed: {message}")),
        CallError::Timeout => ApiError::server("execution timeout"),
        CallError::State(message) => ApiError::internal(message),
    }
}

/// The most bytes of struct logs one request may produce.
fn max_bytes(api: &Api) -> usize {
    api.config.limits.max_response_bytes as usize
}

/// An EVM on the parent's state of `block` with the block's system calls
/// done, and the block's transactions.
fn block_tracing(
    api: &Api,
    block: &CachedBlock,
    options: &TraceOptions,
) -> ApiResult<(Tracing<BlockState>, Vec<TxEnv>)> {
    let Some(parent) = block.block.number.checked_sub(1) else {
        return Err(ApiError::server("genesis is not traceable"));
    };
    let timeout = options.timeout(api.config.call_timeout)?;
    let spec = &api.ctx.spec;
    let state = api.state_at(BlockId::Tag(BlockTag::Number(parent)))?.state;
    let body = &block.body;
    let context = BlockContext::from_header(
        &block.header,
        &body.ommers,
        body.withdrawals.as_ref().map(|w| w.as_slice()),
    );
    let mut tracing =
        Tracing::new(state, context.cfg_env(spec), context.block_env(spec), timeout, max_bytes(api));
    tracing.system_calls(spec, &context)?;
    let senders = block.senders()?;
    let txs =
        body.transactions.iter().zip(senders.iter()).map(|(tx, s)| tx_env_from_envelope(tx, *s)).collect();
    Ok((tracing, txs))
}

/// Traces every transaction of `block`.
fn trace_block(api: &Api, block: &CachedBlock, options: &TraceOptions) -> ApiResult<Json> {
    if block.block.number == 0 {
        return Err(ApiError::server("genesis is not traceable"));
    }
    let tracer = options.tracer()?;
    let traces = api.heavy(|| {
        let (mut tracing, txs) = block_tracing(api, block, options)?;
        let mut traces = Vec::with_capacity(txs.len());
        for (tx, envelope) in txs.into_iter().zip(&block.body.transactions) {
            let result = tracing.trace(tx, tracer, invalid_in_block)?;
            traces.push(TxTrace { tx_hash: *envelope.tx_hash(), result });
        }
        Ok::<_, ApiError>(traces)
    })?;
    json(&traces)
}

fn options_at(args: &Args, i: usize) -> ApiResult<TraceOptions> {
    Ok(args.opt(i, TraceOptions::parse)?.unwrap_or_default())
}

fn trace_transaction(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let hash = args.req(0, params::hash)?;
    let options = options_at(&args, 1)?;
    let snapshot = api.snapshot()?;
    let Some(location) = snapshot.transaction_location(hash)? else {
        return Err(ApiError::server("transaction not found"));
    };
    if location.block_number == 0 {
        return Err(ApiError::server("genesis is not traceable"));
    }
    let at = BlockRef { number: location.block_number, hash: location.block_hash };
    let block = api.blocks.get(&snapshot, at)?.ok_or_else(|| ApiError::server("transaction not found"))?;
    let tracer = options.tracer()?;
    let index = location.index as usize;
    api.heavy(|| {
        let (mut tracing, txs) = block_tracing(api, &block, &options)?;
        let mut txs = txs.into_iter().zip(&block.body.transactions).take(index + 1);
        for (tx, envelope) in txs.by_ref().take(index) {
            tracing.replay(tx, *envelope.tx_hash())?;
        }
        let (tx, _) = txs.next().ok_or_else(|| ApiError::server("transaction not found"))?;
        tracing.trace(tx, tracer, invalid_in_block)
    })
}

fn trace_block_by_number(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let tag = args.req(0, BlockTag::parse)?;
    let options = options_at(&args, 1)?;
    let snapshot = api.snapshot()?;
    let number = Api::tag_number(&snapshot, tag)?;
    let block = api
        .block(&snapshot, BlockId::Tag(BlockTag::Number(number)))?
        .ok_or_else(|| ApiError::server(format!("block #{number} not found")))?;
    trace_block(api, &block, &options)
}

fn trace_block_by_hash(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let hash = args.req(0, params::hash)?;
    let options = options_at(&args, 1)?;
    let snapshot = api.snapshot()?;
    let block = api
        .block(&snapshot, BlockId::Hash { hash, require_canonical: false })?
        .ok_or_else(|| ApiError::server(format!("block {hash} not found")))?;
    trace_block(api, &block, &options)
}

/// geth's `TraceCallConfig`: a `TraceConfig` with state and block overrides.
fn call_options(value: &Value) -> Result<(TraceOptions, Value, Value), String> {
    let options = TraceOptions::parse(value)?;
    let Value::Object(object) = value else {
        return Err(type_error(kind(value), "tracers.TraceCallConfig", At::Value));
    };
    if field(object, "txIndex").is_some() {
        return Err("txIndex is not supported".into());
    }
    let state = field(object, "stateOverrides").cloned().unwrap_or(Value::Null);
    let block = field(object, "blockOverrides").cloned().unwrap_or(Value::Null);
    Ok((options, state, block))
}

fn trace_call(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 3)?;
    let request = args.req(0, CallRequest::parse)?;
    let id = args.req(1, BlockId::parse)?;
    let (options, state_overrides, block_overrides) =
        args.opt(2, call_options)?.unwrap_or((TraceOptions::default(), Value::Null, Value::Null));
    let bad = |e: String| ApiError::invalid_params(format!("invalid argument 2: {e}"));
    let state_overrides = if state_overrides.is_null() {
        Default::default()
    } else {
        parse_state_overrides(&state_overrides).map_err(bad)?
    };
    let block_overrides = if block_overrides.is_null() {
        Default::default()
    } else {
        parse_block_overrides(&block_overrides).map_err(bad)?
    };
    let spec = Arc::clone(&api.ctx.spec);
    request.check(spec.chain_id).map_err(ApiError::server)?;
    let tracer = options.tracer()?;
    let timeout = options.timeout(api.config.call_timeout)?;
    let at = api.state_at(id)?;
    let block = CallBlock { header: at.header, overrides: block_overrides };
    let state = OverrideState::new(at.state, state_overrides);
    let cap = if api.config.gas_cap == 0 { u64::MAX / 2 } else { api.config.gas_cap };
    let gas = request.gas.map_or(cap, |gas| gas.min(cap));
    let base_fee = block.header.base_fee_per_gas;
    let tx = request.tx_env(gas, base_fee, spec.chain_id);
    let zero_fee = request.effective_gas_price(base_fee).is_zero();
    let (cfg, block_env) = environment(&spec, &block, &tx, zero_fee);
    api.heavy(|| {
        let mut tracing = Tracing::new(state, cfg, block_env, timeout, max_bytes(api));
        tracing.trace(tx, tracer, invalid_call)
    })
}
