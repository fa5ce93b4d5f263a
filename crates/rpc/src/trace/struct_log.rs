//! geth's default tracer, the struct logger: one entry per executed opcode
//! with the program counter, geth's opcode name, the gas left before the
//! step and geth's cost of it, the call depth, and on request the stack,
//! memory (32-byte words), return data of the last call, the storage slots
//! this contract has read or written so far (a snapshot at each `SLOAD` and
//! `SSTORE`, the value read or about to be written included), the refund
//! counter when not zero, and the error of a step that failed before it
//! ran (stack check or out of gas), as geth reports it.
//!
//! Costs are revm's gas difference over the step, except where geth counts
//! differently: `CREATE`/`CREATE2` exclude the gas handed to the new frame,
//! and an out-of-gas step reports what the step would have cost.

use super::opcodes;
use crate::error::{ApiError, ApiResult};
use alloy_primitives::{Address, B256, Bytes, U256};
use revm::{
    Inspector,
    bytecode::opcode,
    context::result::ExecutionResult,
    interpreter::{
        CallInputs, CallOutcome, CreateInputs, CreateOutcome, InstructionResult, Interpreter,
        InterpreterAction,
        interpreter::EthInterpreter,
        interpreter_types::{InputsTr, Jumps, LegacyBytecode, LoopControl, ReturnData, RuntimeFlag},
    },
};
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashMap};

/// geth's `logger.Config`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LogConfig {
    pub enable_memory: bool,
    pub disable_stack: bool,
    pub disable_storage: bool,
    pub enable_return_data: bool,
    /// Stop recording once the entries take more than this many bytes (0:
    /// no limit).
    pub limit: usize,
}

/// The state before a step, completed when it ends.
#[derive(Debug)]
struct Step {
    pc: u64,
    op: u8,
    gas: u64,
    depth: u64,
    refund: u64,
    spec: revm::primitives::hardfork::SpecId,
    memory_len: usize,
    /// The whole stack (or only the top seven items when the stack is not
    /// recorded: enough for cost computations).
    stack: Vec<U256>,
    memory: Option<Vec<u8>>,
    return_data: Option<Bytes>,
    stack_error: Option<String>,
    /// The contract and slot of an `SLOAD`/`SSTORE`, and the value stored.
    slot: Option<(Address, B256, Option<B256>)>,
}

/// One entry as geth writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    pc: u64,
    op: &'a str,
    gas: u64,
    gas_cost: u64,
    depth: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stack: Option<&'a [U256]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_data: Option<&'a Bytes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<Vec<B256>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage: Option<&'a BTreeMap<B256, B256>>,
    #[serde(skip_serializing_if = "is_zero")]
    refund: u64,
}

const fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// The struct logger.
#[derive(Debug, Default)]
pub(crate) struct StructLogger {
    config: LogConfig,
    /// Most bytes the entries may take before the trace is abandoned.
    max_bytes: usize,
    entries: Vec<Box<RawValue>>,
    size: usize,
    overflow: bool,
    storage: HashMap<Address, BTreeMap<B256, B256>>,
    step: Option<Step>,
    /// A `CREATE` step waiting for the gas it hands to the new frame.
    create: Option<(Step, u64)>,
    /// Refund counter of the enclosing frames when each frame started.
    refund_bases: Vec<i64>,
    last_refund: i64,
    error: Option<String>,
}

impl StructLogger {
    /// A logger with `config`, giving up past `max_bytes` of entries.
    pub(crate) fn new(config: LogConfig, max_bytes: usize) -> Self {
        Self { config, max_bytes, ..Self::default() }
    }

    /// Whether the entries outgrew the size cap.
    pub(crate) const fn overflowed(&self) -> bool {
        self.overflow
    }

    fn record(&mut self, step: Step, cost: u64, error: Option<&str>) {
        if self.config.limit != 0 && self.size > self.config.limit {
            return;
        }
        let storage = step.slot.filter(|_| !self.config.disable_storage).map(|(address, key, value)| {
            let slots = self.storage.entry(address).or_default();
            if let Some(value) = value {
                slots.insert(key, value);
            }
            &*slots
        });
        let memory = step.memory.as_ref().map(|m| m.chunks_exact(32).map(B256::from_slice).collect());
        let name = opcodes::name(step.op);
        let entry = Entry {
            pc: step.pc,
            op: &name,
            gas: step.gas,
            gas_cost: cost,
            depth: step.depth,
            error,
            stack: (!self.config.disable_stack).then_some(step.stack.as_slice()),
            return_data: step.return_data.as_ref().filter(|d| !d.is_empty()),
            memory: memory.filter(|m: &Vec<B256>| !m.is_empty()),
            storage: storage.filter(|s| !s.is_empty()),
            refund: step.refund,
        };
        match serde_json::value::to_raw_value(&entry) {
            Ok(raw) => {
                self.size += raw.get().len();
                self.entries.push(raw);
                if self.max_bytes != 0 && self.size > self.max_bytes {
                    self.overflow = true;
                }
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn flush_create(&mut self) {
        if let Some((step, cost)) = self.create.take() {
            self.record(step, cost, None);
        }
    }

    /// The answer: gas used by the transaction, whether it failed, its
    /// return (or revert) data and the entries.
    pub(crate) fn finish(mut self, gas_used: u64, result: &ExecutionResult) -> ApiResult<Box<RawValue>> {
        self.flush_create();
        if let Some(error) = self.error {
            return Err(ApiError::internal(format!("encoding the trace: {error}")));
        }
        let return_value = match result {
            ExecutionResult::Success { output, .. } => output.data().clone(),
            ExecutionResult::Revert { output, .. } => output.clone(),
            ExecutionResult::Halt { .. } => Bytes::new(),
        };
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Answer {
            gas: u64,
            failed: bool,
            return_value: Bytes,
            struct_logs: Vec<Box<RawValue>>,
        }
        let answer =
            Answer { gas: gas_used, failed: !result.is_success(), return_value, struct_logs: self.entries };
        crate::api::json(&answer)
    }
}

/// The cost geth reports for a step that revm halted with `result`, and its
/// error text, when the failure is one geth detects before running the op.
fn failure(result: InstructionResult, step: &Step) -> Option<(u64, &'static str)> {
    match result {
        InstructionResult::ReentrancySentryOOG => {
            Some((0, "out of gas: not enough gas for reentrancy sentry"))
        }
        InstructionResult::OutOfGas
        | InstructionResult::MemoryOOG
        | InstructionResult::MemoryLimitOOG
        | InstructionResult::InvalidOperandOOG => {
            let top = &step.stack;
            Some((opcodes::out_of_gas_cost(step.op, top, step.memory_len, step.spec), "out of gas"))
        }
        _ => None,
    }
}

impl<CTX> Inspector<CTX, EthInterpreter> for StructLogger {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        self.flush_create();
        if interp.bytecode.bytecode_len() == 0 {
            // geth runs no code for an empty contract; revm steps over its
            // padding `STOP`.
            return;
        }
        let op = interp.bytecode.opcode();
        let data = interp.stack.data();
        let stack = if self.config.disable_stack {
            data[data.len().saturating_sub(7)..].to_vec()
        } else {
            data.clone()
        };
        let refund = self.refund_bases.last().copied().unwrap_or_default() + interp.gas.refunded();
        self.last_refund = refund;
        let memory = interp.memory.context_memory();
        let target = interp.input.target_address();
        let top = |i: usize| data.len().checked_sub(i + 1).map(|at| B256::from(data[at]));
        let slot = match op {
            opcode::SLOAD => top(0).map(|key| (target, key, None)),
            opcode::SSTORE => top(0).zip(top(1)).map(|(key, value)| (target, key, Some(value))),
            _ => None,
        };
        self.step = Some(Step {
            pc: interp.bytecode.pc() as u64,
            op,
            gas: interp.gas.remaining(),
            depth: interp.input.depth() as u64 + 1,
            refund: u64::try_from(refund).unwrap_or_default(),
            spec: interp.runtime_flag.spec_id(),
            memory_len: memory.len(),
            memory: self.config.enable_memory.then(|| memory.to_vec()),
            return_data: self.config.enable_return_data.then(|| interp.return_data.buffer().clone()),
            stack_error: opcodes::stack_error(op, data.len()),
            stack,
            slot,
        });
    }

    fn step_end(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        let Some(mut step) = self.step.take() else { return };
        if let Some(error) = step.stack_error.take() {
            let cost = opcodes::constant_gas(step.op, step.spec);
            self.record(step, cost, Some(&error));
            return;
        }
        let result = interp.bytecode.instruction_result();
        if let Some((cost, error)) = result.and_then(|r| failure(r, &step)) {
            // geth snapshots the storage of a failing SSTORE too; the value
            // a failing SLOAD would have read is not known here.
            if step.op == opcode::SLOAD {
                step.slot = None;
            }
            self.record(step, cost, Some(error));
            return;
        }
        let cost = step.gas.saturating_sub(interp.gas.remaining());
        if step.op == opcode::SLOAD {
            // The value read is on top of the stack now.
            let value = interp.stack.data().last().copied().map(B256::from);
            step.slot = match (step.slot, value, result) {
                (Some((address, key, _)), Some(value), None) => Some((address, key, Some(value))),
                _ => None,
            };
        }
        let creates = matches!(step.op, opcode::CREATE | opcode::CREATE2)
            && matches!(interp.bytecode.action(), Some(InterpreterAction::NewFrame(_)));
        if creates {
            self.create = Some((step, cost));
        } else {
            self.record(step, cost, None);
        }
    }

    fn call(&mut self, _context: &mut CTX, _inputs: &mut CallInputs) -> Option<CallOutcome> {
        self.refund_bases.push(self.last_refund);
        None
    }

    fn call_end(&mut self, _context: &mut CTX, _inputs: &CallInputs, _outcome: &mut CallOutcome) {
        self.refund_bases.pop();
    }

    fn create(&mut self, _context: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        if let Some((_, cost)) = self.create.as_mut() {
            *cost = cost.saturating_sub(inputs.gas_limit());
        }
        self.flush_create();
        self.refund_bases.push(self.last_refund);
        None
    }

    fn create_end(&mut self, _context: &mut CTX, _inputs: &CreateInputs, _outcome: &mut CreateOutcome) {
        self.refund_bases.pop();
    }
}
