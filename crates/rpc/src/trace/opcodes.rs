//! What geth's struct logger says about an opcode that revm does not tell
//! an inspector directly: its name (`opcode 0xef not defined` for unknown
//! bytes), the stack check geth makes before charging gas (and its error
//! text), and the cost geth reports for a step that runs out of gas — the
//! constant part plus memory expansion and per-word charges, computed from
//! the stack because revm stops charging at the first shortfall.

use alloy_primitives::U256;
use revm::{
    bytecode::opcode::{self, OpCode},
    interpreter::instructions::gas_table_spec,
    primitives::hardfork::SpecId,
};
use std::borrow::Cow;

/// The EVM stack limit.
const STACK_LIMIT: usize = 1024;

/// geth's name of `op`.
pub(crate) fn name(op: u8) -> Cow<'static, str> {
    match OpCode::new(op) {
        Some(code) => Cow::Borrowed(code.as_str()),
        None => Cow::Owned(format!("opcode {op:#x} not defined")),
    }
}

/// geth's stack validation before an operation: `stack underflow (LEN <=>
/// MIN)` or `stack limit reached LEN (MAX)`.
pub(crate) fn stack_error(op: u8, stack_len: usize) -> Option<String> {
    let code = OpCode::new(op)?;
    let (inputs, outputs) = (usize::from(code.inputs()), usize::from(code.outputs()));
    let max = (STACK_LIMIT + inputs).saturating_sub(outputs);
    if stack_len < inputs {
        Some(format!("stack underflow ({stack_len} <=> {inputs})"))
    } else if stack_len > max {
        Some(format!("stack limit reached {stack_len} ({max})"))
    } else {
        None
    }
}

/// The constant gas of `op` under `spec` (what geth reports for a step that
/// fails its stack check).
pub(crate) fn constant_gas(op: u8, spec: SpecId) -> u64 {
    u64::from(gas_table_spec(spec)[usize::from(op)])
}

/// The memory cost of `words` words (yellow paper `C_mem`).
fn memory_cost(words: u64) -> u64 {
    words.saturating_mul(3).saturating_add(words.saturating_mul(words) / 512)
}

fn words(bytes: u64) -> u64 {
    bytes.div_ceil(32)
}

/// The stack item `i` from the top.
fn arg(stack: &[U256], i: usize) -> Option<U256> {
    stack.len().checked_sub(i + 1).and_then(|at| stack.get(at)).copied()
}

fn small(value: U256) -> Option<u64> {
    u64::try_from(value).ok().filter(|v| *v < (1 << 32))
}

/// The end of the memory region `offset..offset+size` (zero when empty);
/// `None` when it cannot be addressed.
fn region(stack: &[U256], offset: usize, size: usize) -> Option<u64> {
    let size = small(arg(stack, size)?)?;
    if size == 0 {
        return Some(0);
    }
    Some(small(arg(stack, offset)?)? + size)
}

/// What geth would have charged for `op` on a step that ran out of gas:
/// the constant gas plus the memory expansion to the largest region the
/// operation touches and its per-word and per-byte charges. Account-access
/// surcharges (cold accounts, new accounts) are not included.
pub(crate) fn out_of_gas_cost(op: u8, stack: &[U256], memory_len: usize, spec: SpecId) -> u64 {
    let constant = constant_gas(op, spec);
    let dynamic = dynamic_cost(op, stack, memory_len as u64, spec).unwrap_or(0);
    constant.saturating_add(dynamic)
}

fn dynamic_cost(op: u8, stack: &[U256], memory_len: u64, spec: SpecId) -> Option<u64> {
    let current = memory_cost(words(memory_len));
    let expansion = |end: u64| memory_cost(words(end).max(words(memory_len))).saturating_sub(current);
    let size_words = |i: usize| small(arg(stack, i)?).map(words);
    Some(match op {
        opcode::MLOAD | opcode::MSTORE => expansion(small(arg(stack, 0)?)? + 32),
        opcode::MSTORE8 => expansion(small(arg(stack, 0)?)? + 1),
        opcode::KECCAK256 => expansion(region(stack, 0, 1)?) + 6 * size_words(1)?,
        opcode::CALLDATACOPY | opcode::CODECOPY | opcode::RETURNDATACOPY => {
            expansion(region(stack, 0, 2)?) + 3 * size_words(2)?
        }
        opcode::EXTCODECOPY => expansion(region(stack, 1, 3)?) + 3 * size_words(3)?,
        opcode::MCOPY => expansion(region(stack, 0, 2)?.max(region(stack, 1, 2)?)) + 3 * size_words(2)?,
        opcode::LOG0..=opcode::LOG4 => {
            let topics = u64::from(op - opcode::LOG0);
            expansion(region(stack, 0, 1)?) + 375 * topics + 8 * small(arg(stack, 1)?)?
        }
        opcode::RETURN | opcode::REVERT => expansion(region(stack, 0, 1)?),
        opcode::EXP => {
            let exponent = arg(stack, 1)?;
            let per_byte = if spec.is_enabled_in(SpecId::SPURIOUS_DRAGON) { 50 } else { 10 };
            per_byte * exponent.byte_len() as u64
        }
        opcode::CREATE | opcode::CREATE2 => {
            let init_words = size_words(2)?;
            let mut cost = expansion(region(stack, 1, 2)?);
            if spec.is_enabled_in(SpecId::SHANGHAI) {
                cost += 2 * init_words;
            }
            if op == opcode::CREATE2 {
                cost += 6 * init_words;
            }
            cost
        }
        opcode::CALL | opcode::CALLCODE => {
            let end = region(stack, 3, 4)?.max(region(stack, 5, 6)?);
            let transfer = if arg(stack, 2)?.is_zero() { 0 } else { 9_000 };
            expansion(end) + transfer
        }
        opcode::DELEGATECALL | opcode::STATICCALL => {
            expansion(region(stack, 2, 3)?.max(region(stack, 4, 5)?))
        }
        _ => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_stack_checks() {
        assert_eq!(name(opcode::KECCAK256), "KECCAK256");
        assert_eq!(name(opcode::PUSH1), "PUSH1");
        assert_eq!(name(0xfe), "INVALID");
        assert_eq!(name(0x0c), "opcode 0xc not defined");
        assert_eq!(stack_error(opcode::ADD, 1).as_deref(), Some("stack underflow (1 <=> 2)"));
        assert_eq!(stack_error(opcode::ADD, 2), None);
        assert_eq!(stack_error(opcode::PUSH1, 1024).as_deref(), Some("stack limit reached 1024 (1023)"));
        assert_eq!(stack_error(opcode::DUP1, 1023), None);
        assert_eq!(stack_error(opcode::SWAP1, 1), Some("stack underflow (1 <=> 2)".into()));
    }

    #[test]
    fn out_of_gas_costs() {
        let spec = SpecId::PRAGUE;
        assert_eq!(out_of_gas_cost(opcode::PUSH1, &[], 0, spec), 3);
        // MSTORE at 0 with empty memory: 3 + one word (3).
        let stack = [U256::from(1), U256::ZERO];
        assert_eq!(out_of_gas_cost(opcode::MSTORE, &stack, 0, spec), 6);
        assert_eq!(out_of_gas_cost(opcode::MSTORE, &stack, 32, spec), 3);
        // KECCAK256 of 64 bytes at 0: 30 + 6 (memory) + 12 (words).
        let stack = [U256::from(64), U256::ZERO];
        assert_eq!(out_of_gas_cost(opcode::KECCAK256, &stack, 0, spec), 48);
        // LOG1 of 32 bytes: 375 + 375 + 256 + 3.
        let stack = [U256::ZERO, U256::from(32), U256::ZERO];
        assert_eq!(out_of_gas_cost(opcode::LOG1, &stack, 0, spec), 1009);
        // An exponent of two bytes.
        let stack = [U256::from(0x1234), U256::from(2)];
        assert_eq!(out_of_gas_cost(opcode::EXP, &stack, 0, spec), 110);
    }
}
