//! Execution for the RPC: `eth_call` ([`call`]), geth's gas estimator
//! ([`estimate_gas`]: try 21000 for plain transfers, run at the cap, then
//! binary-search from the gas used with geth's optimistic first guess and
//! 1.5% tolerance) and `eth_createAccessList` ([`create_access_list`]: trace,
//! re-run with the list, until the list stops changing). Calls read through
//! [`overrides::OverrideState`] and never commit.

pub(crate) mod access_list;
pub(crate) mod evm;
pub(crate) mod overrides;
pub(crate) mod request;

use crate::error::{ApiError, ApiResult};
use access_list::AccessTracer;
use alloy_eips::eip2930::AccessList;
use alloy_primitives::{Address, Bytes, U256};
use evm::{CallBlock, CallError, CallInspector, InvalidKind};
use mosaic_executor::StateProvider;
use mosaic_primitives::{ChainSpec, Hardfork};
use request::CallRequest;
use revm::context::result::{ExecutionResult, HaltReason, Output};
use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

/// EIP-7825's per-transaction gas cap (Osaka).
const MAX_TX_GAS: u64 = 1 << 24;
/// The plain transfer cost.
const TX_GAS: u64 = 21_000;
/// geth's `CallStipend`.
const CALL_STIPEND: u64 = 2_300;
/// geth's estimation tolerance.
const ESTIMATE_ERROR_RATIO: f64 = 0.015;

/// What a call runs against.
pub(crate) struct CallSetup<'a> {
    pub spec: &'a ChainSpec,
    pub block: CallBlock,
    pub state: &'a dyn StateProvider,
    /// geth's `--rpc.gascap` (0: none).
    pub gas_cap: u64,
    /// Wall-clock limit of the whole request, estimation probes together
    /// (`None`: none).
    pub timeout: Option<Duration>,
    /// When the limit runs out (set from `timeout` by [`CallSetup::start`]).
    pub deadline: Option<Instant>,
}

/// The reason in ABI-encoded revert data: `Error(string)` or `Panic(uint)`.
pub(crate) fn revert_reason(output: &[u8]) -> Option<String> {
    let (selector, body) = (output.get(..4)?, output.get(4..)?);
    match selector {
        [0x08, 0xc3, 0x79, 0xa0] => {
            let offset = usize::try_from(U256::from_be_slice(body.get(..32)?)).ok()?;
            let length_word = body.get(offset..offset.checked_add(32)?)?;
            let length = usize::try_from(U256::from_be_slice(length_word)).ok()?;
            let start = offset + 32;
            let text = body.get(start..start.checked_add(length)?)?;
            String::from_utf8(text.to_vec()).ok()
        }
        [0x4e, 0x48, 0x7b, 0x71] => {
            let code = U256::from_be_slice(body.get(..32)?);
            let known = match u64::try_from(code).unwrap_or(u64::MAX) {
                0x00 => "generic panic",
                0x01 => "assert(false)",
                0x11 => "arithmetic underflow or overflow",
                0x12 => "division or modulo by zero",
                0x21 => "enum overflow",
                0x22 => "invalid encoded storage byte array accessed",
                0x31 => "out-of-bounds array access; popping on an empty array",
                0x32 => "out-of-bounds access of an array or bytesN",
                0x41 => "out of memory",
                0x51 => "uninitialized function",
                _ => return Some(format!("unknown panic code: {code:#x}")),
            };
            Some(known.to_owned())
        }
        _ => None,
    }
}

/// geth's text for an exceptional halt.
pub(crate) fn halt_message(reason: &HaltReason) -> String {
    match reason {
        HaltReason::OutOfGas(_) => "out of gas".into(),
        HaltReason::OpcodeNotFound | HaltReason::NotActivated => "invalid opcode".into(),
        HaltReason::InvalidFEOpcode => "invalid opcode: INVALID".into(),
        HaltReason::InvalidJump => "invalid jump destination".into(),
        HaltReason::StackUnderflow => "stack underflow".into(),
        HaltReason::StackOverflow => "stack limit reached 1024".into(),
        HaltReason::OutOfOffset => "return data out of bounds".into(),
        HaltReason::CreateCollision => "contract address collision".into(),
        HaltReason::PrecompileError | HaltReason::PrecompileErrorWithContext(_) => {
            "precompiled contract failed".into()
        }
        HaltReason::NonceOverflow => "nonce uint64 overflow".into(),
        HaltReason::CreateContractSizeLimit => "max code size exceeded".into(),
        HaltReason::CreateContractStartingWithEF => "invalid code: must not begin with 0xef".into(),
        HaltReason::CreateInitCodeSizeLimit => "max initcode size exceeded".into(),
        HaltReason::StateChangeDuringStaticCall | HaltReason::CallNotAllowedInsideStatic => {
            "write protection".into()
        }
        HaltReason::OutOfFunds => "insufficient balance for transfer".into(),
        HaltReason::CallTooDeep => "max call depth exceeded".into(),
        HaltReason::OverflowPayment => "gas uint64 overflow".into(),
    }
}

fn timeout_error(timeout: Option<Duration>) -> ApiError {
    let secs = timeout.map(|t| t.as_secs_f64()).unwrap_or_default();
    ApiError::server(format!("execution aborted (timeout = {secs}s)"))
}

impl CallSetup<'_> {
    /// Starts the clock.
    pub(crate) fn start(mut self) -> Self {
        self.deadline = self.timeout.map(|t| Instant::now() + t);
        self
    }

    fn base_fee(&self) -> Option<u64> {
        self.block.header.base_fee_per_gas
    }

    fn is_osaka(&self) -> bool {
        let h = &self.block.header;
        let number = self.block.overrides.number.unwrap_or(h.number);
        let time = self.block.overrides.time.unwrap_or(h.timestamp);
        self.spec.is_active(Hardfork::Osaka, number, time)
    }

    /// Runs `request` with `gas`.
    fn run(
        &self,
        request: &CallRequest,
        gas: u64,
        access: Option<AccessTracer>,
    ) -> (Result<ExecutionResult, CallError>, Option<AccessTracer>) {
        let mut inspector = CallInspector::new(self.deadline, access);
        let tx = request.tx_env(gas, self.base_fee(), self.spec.chain_id);
        let zero_fee = request.effective_gas_price(self.base_fee()).is_zero();
        let result = evm::run(self.spec, &self.block, self.state, tx, zero_fee, &mut inspector);
        (result, inspector.access)
    }

    /// The gas an `eth_call` gets: the request's, capped.
    fn call_gas(&self, request: &CallRequest) -> u64 {
        let cap = if self.gas_cap == 0 { u64::MAX / 2 } else { self.gas_cap };
        request.gas.map_or(cap, |gas| gas.min(cap))
    }
}

fn call_failure(error: CallError, gas: u64, timeout: Option<Duration>) -> ApiError {
    match error {
        CallError::Invalid(_, message) => ApiError::server(format!("err: {message} (supplied gas {gas})")),
        CallError::Timeout => timeout_error(timeout),
        CallError::State(message) => ApiError::internal(message),
    }
}

/// `eth_call`: the return data, or the revert / halt as an error.
pub(crate) fn call(setup: &CallSetup<'_>, request: &CallRequest) -> ApiResult<Bytes> {
    request.check(setup.spec.chain_id).map_err(ApiError::server)?;
    let gas = setup.call_gas(request);
    match setup.run(request, gas, None).0 {
        Ok(ExecutionResult::Success { output, .. }) => Ok(match output {
            Output::Call(bytes) | Output::Create(bytes, _) => bytes,
        }),
        Ok(ExecutionResult::Revert { output, .. }) => Err(ApiError::reverted(output)),
        Ok(ExecutionResult::Halt { reason, .. }) => Err(ApiError::server(halt_message(&reason))),
        Err(error) => Err(call_failure(error, gas, setup.timeout)),
    }
}

/// One estimator probe: `Ok(None)` when the gas is too low or too high for
/// the transaction to be valid, else whether it failed and the result.
fn probe(
    setup: &CallSetup<'_>,
    request: &CallRequest,
    gas: u64,
) -> ApiResult<(bool, Option<ExecutionResult>)> {
    match setup.run(request, gas, None).0 {
        Ok(result) => Ok((!result.is_success(), Some(result))),
        Err(CallError::Invalid(InvalidKind::IntrinsicGas | InvalidKind::GasLimitTooHigh, _)) => {
            Ok((true, None))
        }
        Err(CallError::Invalid(_, message)) => {
            Err(ApiError::server(format!("failed with {gas} gas: {message}")))
        }
        Err(CallError::Timeout) => Err(timeout_error(setup.timeout)),
        Err(CallError::State(message)) => Err(ApiError::internal(message)),
    }
}

/// `eth_estimateGas`, geth's `gasestimator.Estimate`.
pub(crate) fn estimate_gas(setup: &CallSetup<'_>, request: &CallRequest) -> ApiResult<u64> {
    request.check(setup.spec.chain_id).map_err(ApiError::server)?;
    let mut hi = match request.gas {
        Some(gas) if gas >= TX_GAS => gas,
        _ => setup.block.overrides.gas_limit.unwrap_or(setup.block.header.gas_limit),
    };
    if hi > MAX_TX_GAS && setup.is_osaka() {
        hi = MAX_TX_GAS;
    }
    let fee_cap = request.fee_cap();
    if !fee_cap.is_zero() {
        let from = request.sender();
        let balance = setup.state.account(from)?.map(|a| a.balance).unwrap_or_default();
        let mut available = balance;
        let value = request.value.unwrap_or_default();
        if value >= available {
            return Err(ApiError::server("insufficient funds for transfer"));
        }
        available -= value;
        if let Some(blobs) = request.blob_versioned_hashes.as_ref().filter(|b| !b.is_empty()) {
            let blob_fee = U256::from(blobs.len() as u64 * revm::primitives::eip4844::GAS_PER_BLOB)
                * request.max_fee_per_blob_gas.unwrap_or_default();
            if blob_fee >= available {
                return Err(ApiError::server("insufficient funds for gas * price + value"));
            }
            available -= blob_fee;
        }
        let allowance = available / fee_cap;
        if let Ok(allowance) = u64::try_from(allowance)
            && hi > allowance
        {
            hi = allowance;
        }
    }
    if setup.gas_cap != 0 && hi > setup.gas_cap {
        hi = setup.gas_cap;
    }
    // A plain transfer: try the transfer cost first.
    if request.input.as_ref().is_none_or(|input| input.is_empty())
        && let Some(to) = request.to
    {
        let code_size = match setup.state.account(to)? {
            Some(account) => setup.state.code_by_hash(account.code_hash)?.original_byte_slice().len(),
            None => 0,
        };
        if code_size == 0 && matches!(probe(setup, request, TX_GAS), Ok((false, _))) {
            return Ok(TX_GAS);
        }
    }
    let (failed, result) = probe(setup, request, hi)?;
    if failed {
        return Err(match result {
            Some(ExecutionResult::Revert { output, .. }) => ApiError::reverted(output),
            Some(ExecutionResult::Halt { reason: HaltReason::OutOfGas(_), .. }) | None => {
                ApiError::server(format!("gas required exceeds allowance ({hi})"))
            }
            Some(ExecutionResult::Halt { reason, .. }) => ApiError::server(halt_message(&reason)),
            Some(ExecutionResult::Success { .. }) => {
                ApiError::internal("estimator: success reported as failure")
            }
        });
    }
    let gas = result.as_ref().map(|r| *r.gas()).unwrap_or_default();
    let mut lo = gas.tx_gas_used().saturating_sub(1);
    let max_used = gas.total_gas_spent().max(gas.floor_gas());
    let optimistic =
        u64::try_from((u128::from(max_used) + u128::from(CALL_STIPEND)) * 64 / 63).unwrap_or(u64::MAX);
    if optimistic < hi {
        if probe(setup, request, optimistic)?.0 {
            lo = optimistic;
        } else {
            hi = optimistic;
        }
    }
    while lo + 1 < hi {
        if ((hi - lo) as f64 / hi as f64) < ESTIMATE_ERROR_RATIO {
            break;
        }
        let mut mid = lo + (hi - lo) / 2;
        if mid > lo.saturating_mul(2) {
            mid = lo * 2;
        }
        if probe(setup, request, mid)?.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

/// The result of `eth_createAccessList`.
#[derive(Debug, Clone)]
pub(crate) struct AccessListResult {
    pub access_list: AccessList,
    pub gas_used: u64,
    /// The failure of the last run (`execution reverted`, a halt).
    pub error: Option<String>,
}

/// `eth_createAccessList`: trace the accesses, re-run with them as the
/// access list, until the list is stable.
pub(crate) fn create_access_list(
    setup: &CallSetup<'_>,
    request: &CallRequest,
    nonce: u64,
) -> ApiResult<AccessListResult> {
    request.check(setup.spec.chain_id).map_err(ApiError::server)?;
    let from = request.sender();
    let to = request.to.unwrap_or_else(|| from.create(nonce));
    let mut excluded: BTreeSet<Address> = BTreeSet::from([from, to]);
    let spec_id = setup.spec.spec_id(setup.block.header.number, setup.block.header.timestamp);
    excluded.extend(
        revm::precompile::Precompiles::new(revm::precompile::PrecompileSpecId::from_spec_id(spec_id))
            .addresses()
            .copied(),
    );
    let gas = setup.call_gas(request);
    let mut previous = AccessTracer::new(&request.access_list.clone().unwrap_or_default(), excluded.clone());
    for _ in 0..16 {
        let list = previous.access_list();
        let mut attempt = request.clone();
        attempt.access_list = Some(list.clone());
        let tracer = AccessTracer::new(&list, excluded.clone());
        let (result, tracer) = setup.run(&attempt, gas, Some(tracer));
        let result = result.map_err(|e| match e {
            CallError::Invalid(_, message) => {
                ApiError::server(format!("failed to apply transaction: err: {message}"))
            }
            other => call_failure(other, gas, setup.timeout),
        })?;
        let tracer = tracer.ok_or_else(|| ApiError::internal("access tracer lost"))?;
        if tracer == previous {
            let error = match &result {
                ExecutionResult::Success { .. } => None,
                ExecutionResult::Revert { .. } => Some("execution reverted".to_owned()),
                ExecutionResult::Halt { reason, .. } => Some(halt_message(reason)),
            };
            return Ok(AccessListResult { access_list: list, gas_used: result.tx_gas_used(), error });
        }
        previous = tracer;
    }
    Err(ApiError::server("access list did not converge"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;

    #[test]
    fn revert_reasons() {
        let error = hex!(
            "08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000a75736572206572726f72"
        );
        assert_eq!(revert_reason(&error).as_deref(), Some("user error"));
        let panic = hex!("4e487b710000000000000000000000000000000000000000000000000000000000000001");
        assert_eq!(revert_reason(&panic).as_deref(), Some("assert(false)"));
        assert_eq!(revert_reason(b"wrong-calldatasize"), None);
        assert_eq!(revert_reason(&error[..40]), None);
    }
}
