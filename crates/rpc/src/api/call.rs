//! `eth_call`, `eth_estimateGas` and `eth_createAccessList`: a call object,
//! a block (latest by default), state overrides and block overrides, run by
//! [`crate::exec`] on the execution threads under the gas cap and timeout.

use super::{Api, Json, Kind, Method, json};
use crate::{
    error::ApiResult,
    exec::{
        self, CallSetup,
        evm::CallBlock,
        overrides::{OverrideState, parse_block_overrides, parse_state_overrides},
        request::CallRequest,
    },
    params::Args,
};
use alloy_eips::eip2930::AccessList;
use alloy_primitives::U64;
use jsonrpsee::types::Params;
use mosaic_executor::StateProvider;
use serde::Serialize;

pub(crate) const METHODS: [(&str, Kind, Method); 3] = [
    ("eth_call", Kind::Heavy, eth_call),
    ("eth_estimateGas", Kind::Heavy, estimate_gas),
    ("eth_createAccessList", Kind::Heavy, create_access_list),
];

/// The decoded arguments of a call method and the state they select.
struct Prepared {
    request: CallRequest,
    block: CallBlock,
    state: OverrideState<super::BlockState>,
}

fn prepare(api: &Api, params: &Params<'_>) -> ApiResult<Prepared> {
    let args = Args::new(params, 4)?;
    let request = args.req(0, CallRequest::parse)?;
    let id = args.block_or_latest(1)?;
    let overrides = args.opt(2, parse_state_overrides)?.unwrap_or_default();
    let block_overrides = args.opt(3, parse_block_overrides)?.unwrap_or_default();
    let at = api.state_at(id)?;
    Ok(Prepared {
        request,
        block: CallBlock { header: at.header, overrides: block_overrides },
        state: OverrideState::new(at.state, overrides),
    })
}

fn setup<'a>(api: &'a Api, prepared: &'a Prepared) -> CallSetup<'a> {
    CallSetup {
        spec: &api.ctx.spec,
        block: prepared.block.clone(),
        state: &prepared.state,
        gas_cap: api.config.gas_cap,
        timeout: Some(api.config.call_timeout),
        deadline: None,
    }
    .start()
}

fn eth_call(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let prepared = prepare(api, params)?;
    let setup = setup(api, &prepared);
    let output = api.heavy(|| exec::call(&setup, &prepared.request))?;
    json(&output)
}

fn estimate_gas(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let prepared = prepare(api, params)?;
    let setup = setup(api, &prepared);
    let gas = api.heavy(|| exec::estimate_gas(&setup, &prepared.request))?;
    json(&U64::from(gas))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccessListJson {
    access_list: AccessList,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    gas_used: U64,
}

fn create_access_list(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let prepared = prepare(api, params)?;
    let setup = setup(api, &prepared);
    let from = prepared.request.sender();
    let nonce = match prepared.request.nonce {
        Some(nonce) => nonce,
        None => prepared.state.account(from)?.map(|a| a.nonce).unwrap_or_default(),
    };
    let result = api.heavy(|| exec::create_access_list(&setup, &prepared.request, nonce))?;
    json(&AccessListJson {
        access_list: result.access_list,
        error: result.error,
        gas_used: U64::from(result.gas_used),
    })
}
