//! One transaction run on top of a block's state without committing, as
//! geth's `doCall` runs it: the block's own header as context, no nonce or
//! sender-code check, no block gas limit, a zero base fee when the call
//! offers no fee. An inspector aborts a call past its deadline and can trace
//! the accessed addresses and slots ([`AccessTracer`]).

use super::access_list::AccessTracer;
use alloy_consensus::Header;
use mosaic_executor::{BlockContext, BlockOverlay, StateError, StateProvider};
use mosaic_primitives::ChainSpec;
use revm::{
    Context, InspectEvm, Inspector, MainBuilder, MainContext,
    context::{
        BlockEnv, CfgEnv, TxEnv,
        result::{EVMError, ExecutionResult, InvalidTransaction},
    },
    context_interface::block::BlobExcessGasAndPrice,
    interpreter::{InstructionResult, Interpreter, interpreter::EthInterpreter},
};
use std::time::Instant;

use super::overrides::BlockOverrides;

/// Why a call did not produce an execution result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallError {
    /// The transaction is invalid in this context (geth's message).
    Invalid(InvalidKind, String),
    /// The deadline passed.
    Timeout,
    /// Reading the state failed.
    State(String),
}

/// What kind of invalid transaction (the estimator treats some as "more
/// gas needed").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvalidKind {
    /// Gas below the intrinsic cost or the EIP-7623 floor.
    IntrinsicGas,
    /// Gas above a cap.
    GasLimitTooHigh,
    /// Anything else.
    Other,
}

/// The block a call runs in.
#[derive(Debug, Clone)]
pub(crate) struct CallBlock {
    /// The header whose state and context the call uses.
    pub header: Header,
    /// Replaced block fields.
    pub overrides: BlockOverrides,
}

/// revm's configuration and block for `call` with `tx`.
pub(crate) fn environment(
    spec: &ChainSpec,
    block: &CallBlock,
    tx: &TxEnv,
    zero_fee: bool,
) -> (CfgEnv, BlockEnv) {
    let mut context = BlockContext::from_header(&block.header, &[], None);
    let o = &block.overrides;
    if let Some(n) = o.number {
        context.number = n;
    }
    if let Some(t) = o.time {
        context.timestamp = t;
    }
    let mut cfg = context.cfg_env(spec);
    cfg.disable_nonce_check = true;
    cfg.disable_eip3607 = true;
    cfg.disable_block_gas_limit = true;
    cfg.tx_gas_limit_cap = Some(u64::MAX);
    let mut env = context.block_env(spec);
    if let Some(limit) = o.gas_limit {
        env.gas_limit = limit;
    }
    if let Some(recipient) = o.fee_recipient {
        env.beneficiary = recipient;
    }
    if let Some(randao) = o.prev_randao {
        env.prevrandao = Some(randao);
    }
    if let Some(fee) = o.base_fee {
        env.basefee = fee;
    }
    if zero_fee {
        env.basefee = 0;
    }
    if let Some(blob) = env.blob_excess_gas_and_price.as_mut() {
        if let Some(price) = o.blob_base_fee {
            blob.blob_gasprice = price;
        }
        if !tx.blob_hashes.is_empty() && tx.max_fee_per_blob_gas == 0 {
            *blob = BlobExcessGasAndPrice { excess_blob_gas: blob.excess_blob_gas, blob_gasprice: 0 };
        }
    }
    (cfg, env)
}

/// The inspector of a call: deadline, optional access tracing.
#[derive(Debug)]
pub(crate) struct CallInspector {
    deadline: Option<Instant>,
    steps: u32,
    timed_out: bool,
    /// Accessed addresses and slots, when tracing.
    pub access: Option<AccessTracer>,
}

impl CallInspector {
    /// An inspector that stops execution after `deadline`.
    pub(crate) const fn new(deadline: Option<Instant>, access: Option<AccessTracer>) -> Self {
        Self { deadline, steps: 0, timed_out: false, access }
    }
}

impl<CTX> Inspector<CTX, EthInterpreter> for CallInspector {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        if let Some(access) = &mut self.access {
            access.step(interp);
        }
        if let Some(deadline) = self.deadline {
            self.steps = self.steps.wrapping_add(1);
            if !self.timed_out && self.steps.is_multiple_of(1024) && Instant::now() >= deadline {
                self.timed_out = true;
            }
            if self.timed_out {
                // Every frame halts at its next step, so the call unwinds.
                interp.halt(InstructionResult::OutOfGas);
            }
        }
    }
}

pub(crate) fn invalid(error: &InvalidTransaction, tx: &TxEnv) -> CallError {
    let from = tx.caller.to_checksum(None);
    match error {
        InvalidTransaction::CallGasCostMoreThanGasLimit { initial_gas, gas_limit } => CallError::Invalid(
            InvalidKind::IntrinsicGas,
            format!("intrinsic gas too low: have {gas_limit}, want {initial_gas}"),
        ),
        InvalidTransaction::GasFloorMoreThanGasLimit { gas_floor, gas_limit } => CallError::Invalid(
            InvalidKind::IntrinsicGas,
            format!("insufficient gas for floor data gas cost: have {gas_limit}, want {gas_floor}"),
        ),
        InvalidTransaction::TxGasLimitGreaterThanCap { gas_limit, cap } => CallError::Invalid(
            InvalidKind::GasLimitTooHigh,
            format!("transaction gas limit too high (cap: {cap}, tx: {gas_limit})"),
        ),
        InvalidTransaction::CallerGasLimitMoreThanBlock => {
            CallError::Invalid(InvalidKind::GasLimitTooHigh, "gas limit reached".into())
        }
        InvalidTransaction::LackOfFundForMaxFee { fee, balance } => CallError::Invalid(
            InvalidKind::Other,
            format!("insufficient funds for gas * price + value: address {from} have {balance} want {fee}"),
        ),
        InvalidTransaction::GasPriceLessThanBasefee => CallError::Invalid(
            InvalidKind::Other,
            format!(
                "max fee per gas less than block base fee: address {from}, maxFeePerGas: {}",
                tx.gas_price
            ),
        ),
        InvalidTransaction::PriorityFeeGreaterThanMaxFee => CallError::Invalid(
            InvalidKind::Other,
            format!(
                "max priority fee per gas higher than max fee per gas: address {from}, maxPriorityFeePerGas: {}, maxFeePerGas: {}",
                tx.gas_priority_fee.unwrap_or_default(),
                tx.gas_price
            ),
        ),
        InvalidTransaction::BlobCreateTransaction => {
            CallError::Invalid(InvalidKind::Other, "blob transaction of type create".into())
        }
        InvalidTransaction::EmptyAuthorizationList => {
            CallError::Invalid(InvalidKind::Other, "EIP-7702 transaction with empty auth list".into())
        }
        InvalidTransaction::EmptyBlobs => {
            CallError::Invalid(InvalidKind::Other, "blob transaction missing blob hashes".into())
        }
        other => CallError::Invalid(InvalidKind::Other, other.to_string()),
    }
}

/// Runs `tx` on `state` in `block`'s context; `zero_fee` lowers the base fee
/// to zero (the call offers no fee).
pub(crate) fn run<S: StateProvider>(
    spec: &ChainSpec,
    block: &CallBlock,
    state: S,
    tx: TxEnv,
    zero_fee: bool,
    inspector: &mut CallInspector,
) -> Result<ExecutionResult, CallError> {
    let (cfg, block_env) = environment(spec, block, &tx, zero_fee);
    let insp = std::mem::replace(inspector, CallInspector::new(None, None));
    let mut evm = Context::mainnet()
        .with_db(BlockOverlay::new(state))
        .with_cfg(cfg)
        .with_block(block_env)
        .build_mainnet_with_inspector(insp);
    let result = evm.inspect_one_tx(tx.clone());
    *inspector = std::mem::replace(&mut evm.inspector, CallInspector::new(None, None));
    if inspector.timed_out {
        return Err(CallError::Timeout);
    }
    match result {
        Ok(result) => Ok(result),
        Err(EVMError::Transaction(e)) => Err(invalid(&e, &tx)),
        Err(EVMError::Database(e)) => Err(CallError::State(state_error(&e))),
        Err(EVMError::Header(e)) => Err(CallError::Invalid(InvalidKind::Other, e.to_string())),
        Err(other) => Err(CallError::Invalid(InvalidKind::Other, other.to_string())),
    }
}

fn state_error(error: &StateError) -> String {
    format!("state read failed: {error}")
}
