//! geth's `callTracer`: the tree of call frames of a transaction — type
//! (`CALL`, `STATICCALL`, `DELEGATECALL`, `CALLCODE`, `CREATE`, `CREATE2`,
//! `SELFDESTRUCT`), from, to, value, gas given and used, input, output, the
//! error and the decoded revert reason — with `onlyTopCall` (no children)
//! and `withLog` (each frame's logs, with their position among its calls;
//! logs of failed frames and of their children dropped).

use super::opcodes;
use crate::{
    error::{ApiError, ApiResult},
    exec::revert_reason,
};
use alloy_primitives::{Address, B256, Bytes, Log, U64, U256};
use revm::{
    Inspector,
    context::ContextTr,
    interpreter::{
        CallInputs, CallOutcome, CallScheme, CreateInputs, CreateOutcome, InstructionResult, Interpreter,
        InterpreterResult, interpreter::EthInterpreter, interpreter_types::Jumps,
    },
};
use serde::Serialize;
use serde_json::value::RawValue;

/// The tracer's options (`tracerConfig`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CallConfig {
    pub only_top_call: bool,
    pub with_log: bool,
}

/// A log in a frame.
#[derive(Debug, Serialize)]
struct CallLog {
    address: Address,
    topics: Vec<B256>,
    data: Bytes,
    /// How many calls of the frame came before it.
    position: U64,
}

/// A call frame as geth writes it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Frame {
    #[serde(rename = "type")]
    kind: &'static str,
    from: Address,
    gas: U64,
    gas_used: U64,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<Address>,
    input: Bytes,
    #[serde(skip_serializing_if = "is_empty")]
    output: Bytes,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revert_reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    calls: Vec<Self>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logs: Vec<CallLog>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<U256>,
}

fn is_empty(bytes: &Bytes) -> bool {
    bytes.is_empty()
}

impl Frame {
    fn new(kind: &'static str, from: Address, to: Option<Address>, input: Bytes, gas: u64) -> Self {
        Self {
            kind,
            from,
            gas: U64::from(gas),
            gas_used: U64::ZERO,
            to,
            input,
            output: Bytes::new(),
            error: None,
            revert_reason: None,
            calls: Vec::new(),
            logs: Vec::new(),
            value: None,
        }
    }

    /// geth's `processOutput`: output on success; on failure the error, and
    /// for a revert its data and decoded reason.
    fn end(&mut self, result: &InterpreterResult, error: Option<String>) {
        self.gas_used = U64::from(result.gas.total_gas_spent());
        let Some(error) = error else {
            self.output = result.output.clone();
            return;
        };
        self.error = Some(error);
        if matches!(self.kind, "CREATE" | "CREATE2") {
            self.to = None;
        }
        if result.result.is_revert() && !result.output.is_empty() {
            self.output = result.output.clone();
            if result.output.len() >= 4 {
                self.revert_reason = revert_reason(&result.output);
            }
        }
    }

    /// geth's `clearFailedLogs`: no logs in a failed frame or below it.
    fn clear_failed_logs(&mut self, parent_failed: bool) {
        let failed = parent_failed || self.error.is_some();
        if failed {
            self.logs.clear();
        }
        for call in &mut self.calls {
            call.clear_failed_logs(failed);
        }
    }
}

/// geth's error text for a frame that ended with `result`; `last` is the
/// frame's last opcode and stack height (for stack errors).
pub(crate) fn frame_error(result: InstructionResult, last: (u8, usize)) -> Option<String> {
    use InstructionResult as R;
    Some(match result {
        R::Stop | R::Return | R::SelfDestruct | R::Suspend => return None,
        R::Revert => "execution reverted".into(),
        R::CallTooDeep => "max call depth exceeded".into(),
        R::OutOfFunds => "insufficient balance for transfer".into(),
        R::OutOfGas | R::MemoryOOG | R::MemoryLimitOOG | R::InvalidOperandOOG | R::PrecompileOOG => {
            "out of gas".into()
        }
        R::ReentrancySentryOOG => "out of gas: not enough gas for reentrancy sentry".into(),
        R::OpcodeNotFound | R::NotActivated => format!("invalid opcode: {}", opcodes::name(last.0)),
        R::InvalidFEOpcode => "invalid opcode: INVALID".into(),
        R::InvalidJump => "invalid jump destination".into(),
        R::CallNotAllowedInsideStatic | R::StateChangeDuringStaticCall => "write protection".into(),
        R::StackUnderflow | R::StackOverflow => {
            opcodes::stack_error(last.0, last.1).unwrap_or_else(|| "stack underflow".into())
        }
        R::OutOfOffset => "return data out of bounds".into(),
        R::CreateCollision => "contract address collision".into(),
        R::OverflowPayment => "gas uint64 overflow".into(),
        R::PrecompileError => "precompiled contract failed".into(),
        R::NonceOverflow => "nonce uint64 overflow".into(),
        R::CreateContractSizeLimit => "max code size exceeded".into(),
        R::CreateContractStartingWithEF | R::CreateInitCodeStartingEF00 => {
            "invalid code: must not begin with 0xef".into()
        }
        R::CreateInitCodeSizeLimit => "max initcode size exceeded".into(),
        other => format!("{other:?}"),
    })
}

/// The call tracer.
#[derive(Debug, Default)]
pub(crate) struct CallTracer {
    config: CallConfig,
    /// Open frames (only the top one under `onlyTopCall`).
    stack: Vec<Frame>,
    /// Open frames, recorded or not.
    depth: usize,
    root: Option<Frame>,
    /// The last opcode and stack height seen.
    last: (u8, usize),
}

impl CallTracer {
    /// A tracer with `config`.
    pub(crate) fn new(config: CallConfig) -> Self {
        Self { config, ..Self::default() }
    }

    fn records(&self) -> bool {
        !self.config.only_top_call || self.depth == 0
    }

    fn enter(&mut self, frame: Frame) {
        if self.records() {
            self.stack.push(frame);
        }
        self.depth += 1;
    }

    fn exit(&mut self, result: &InterpreterResult, to: Option<Address>) {
        self.depth = self.depth.saturating_sub(1);
        if !self.records() {
            return;
        }
        let Some(mut frame) = self.stack.pop() else { return };
        if to.is_some() {
            frame.to = to;
        }
        frame.end(result, frame_error(result.result, self.last));
        match self.stack.last_mut() {
            Some(parent) => parent.calls.push(frame),
            None => self.root = Some(frame),
        }
    }

    /// The answer: the root frame with the transaction's gas limit and the
    /// gas it used.
    pub(crate) fn finish(self, gas_limit: u64, gas_used: u64) -> ApiResult<Box<RawValue>> {
        let mut root = self.root.ok_or_else(|| ApiError::internal("call tracer: no top-level frame"))?;
        root.gas = U64::from(gas_limit);
        root.gas_used = U64::from(gas_used);
        if self.config.with_log {
            root.clear_failed_logs(false);
        }
        crate::api::json(&root)
    }
}

impl<CTX: ContextTr> Inspector<CTX, EthInterpreter> for CallTracer {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        self.last = (interp.bytecode.opcode(), interp.stack.len());
    }

    fn log(&mut self, _context: &mut CTX, log: Log) {
        if !self.config.with_log || (self.config.only_top_call && self.depth > 1) {
            return;
        }
        if let Some(frame) = self.stack.last_mut() {
            let position = U64::from(frame.calls.len());
            let (topics, data) = log.data.split();
            frame.logs.push(CallLog { address: log.address, topics, data, position });
        }
    }

    fn call(&mut self, context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        let (kind, from, to) = match inputs.scheme {
            CallScheme::Call => ("CALL", inputs.caller, inputs.target_address),
            CallScheme::StaticCall => ("STATICCALL", inputs.caller, inputs.target_address),
            CallScheme::CallCode => ("CALLCODE", inputs.target_address, inputs.bytecode_address),
            CallScheme::DelegateCall => ("DELEGATECALL", inputs.target_address, inputs.bytecode_address),
        };
        let mut frame = Frame::new(kind, from, Some(to), inputs.input.bytes(context), inputs.gas_limit);
        if inputs.scheme != CallScheme::StaticCall {
            frame.value = Some(inputs.value.get());
        }
        self.enter(frame);
        None
    }

    fn call_end(&mut self, _context: &mut CTX, _inputs: &CallInputs, outcome: &mut CallOutcome) {
        self.exit(&outcome.result, None);
    }

    fn create(&mut self, _context: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        let kind = match inputs.scheme() {
            revm::context_interface::CreateScheme::Create2 { .. } => "CREATE2",
            _ => "CREATE",
        };
        let mut frame =
            Frame::new(kind, inputs.caller(), None, inputs.init_code().clone(), inputs.gas_limit());
        frame.value = Some(inputs.value());
        self.enter(frame);
        None
    }

    fn create_end(&mut self, _context: &mut CTX, _inputs: &CreateInputs, outcome: &mut CreateOutcome) {
        self.exit(&outcome.result, outcome.address);
    }

    fn selfdestruct(&mut self, contract: Address, target: Address, value: U256) {
        if self.config.only_top_call {
            return;
        }
        if let Some(parent) = self.stack.last_mut() {
            let mut frame = Frame::new("SELFDESTRUCT", contract, Some(target), Bytes::new(), 0);
            frame.value = Some(value);
            parent.calls.push(frame);
        }
    }
}
