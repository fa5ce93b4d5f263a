//! A tiny EVM assembler: opcodes, minimal pushes, and named labels that are
//! resolved to two-byte offsets when the code is built.

use alloy_primitives::Address;
use std::collections::HashMap;

/// The opcodes the test contracts use.
#[allow(dead_code)]
pub(crate) mod op {
    pub(crate) const STOP: u8 = 0x00;
    pub(crate) const ADD: u8 = 0x01;
    pub(crate) const SUB: u8 = 0x03;
    pub(crate) const MOD: u8 = 0x06;
    pub(crate) const LT: u8 = 0x10;
    pub(crate) const GT: u8 = 0x11;
    pub(crate) const EQ: u8 = 0x14;
    pub(crate) const ISZERO: u8 = 0x15;
    pub(crate) const AND: u8 = 0x16;
    pub(crate) const ADDRESS: u8 = 0x30;
    pub(crate) const BALANCE: u8 = 0x31;
    pub(crate) const CALLER: u8 = 0x33;
    pub(crate) const CALLVALUE: u8 = 0x34;
    pub(crate) const CALLDATALOAD: u8 = 0x35;
    pub(crate) const CALLDATASIZE: u8 = 0x36;
    pub(crate) const CODECOPY: u8 = 0x39;
    pub(crate) const EXTCODESIZE: u8 = 0x3b;
    pub(crate) const EXTCODEHASH: u8 = 0x3f;
    pub(crate) const BLOCKHASH: u8 = 0x40;
    pub(crate) const COINBASE: u8 = 0x41;
    pub(crate) const TIMESTAMP: u8 = 0x42;
    pub(crate) const NUMBER: u8 = 0x43;
    pub(crate) const SELFBALANCE: u8 = 0x47;
    pub(crate) const POP: u8 = 0x50;
    pub(crate) const MLOAD: u8 = 0x51;
    pub(crate) const MSTORE: u8 = 0x52;
    pub(crate) const SLOAD: u8 = 0x54;
    pub(crate) const SSTORE: u8 = 0x55;
    pub(crate) const JUMP: u8 = 0x56;
    pub(crate) const JUMPI: u8 = 0x57;
    pub(crate) const GAS: u8 = 0x5a;
    pub(crate) const JUMPDEST: u8 = 0x5b;
    pub(crate) const PUSH0: u8 = 0x5f;
    pub(crate) const PUSH1: u8 = 0x60;
    pub(crate) const PUSH2: u8 = 0x61;
    pub(crate) const DUP1: u8 = 0x80;
    pub(crate) const DUP2: u8 = 0x81;
    pub(crate) const DUP3: u8 = 0x82;
    pub(crate) const SWAP1: u8 = 0x90;
    pub(crate) const LOG1: u8 = 0xa1;
    pub(crate) const CREATE: u8 = 0xf0;
    pub(crate) const CALL: u8 = 0xf1;
    pub(crate) const RETURN: u8 = 0xf3;
    pub(crate) const CREATE2: u8 = 0xf5;
    pub(crate) const STATICCALL: u8 = 0xfa;
    pub(crate) const REVERT: u8 = 0xfd;
    pub(crate) const SELFDESTRUCT: u8 = 0xff;
}

/// Code under construction.
#[derive(Debug, Default)]
pub(crate) struct Asm {
    code: Vec<u8>,
    labels: HashMap<&'static str, usize>,
    /// Positions of two-byte label references still to fill in.
    fixups: Vec<(usize, &'static str)>,
}

impl Asm {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends opcodes as they are.
    pub(crate) fn ops(&mut self, ops: &[u8]) -> &mut Self {
        self.code.extend_from_slice(ops);
        self
    }

    /// Pushes `bytes` with the shortest PUSH (PUSH0 for zero).
    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) -> &mut Self {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        let bytes = &bytes[start..];
        assert!(bytes.len() <= 32, "push of more than 32 bytes");
        if bytes.is_empty() {
            return self.ops(&[op::PUSH0]);
        }
        self.code.push(op::PUSH1 + bytes.len() as u8 - 1);
        self.code.extend_from_slice(bytes);
        self
    }

    pub(crate) fn push(&mut self, value: u64) -> &mut Self {
        self.push_bytes(&value.to_be_bytes())
    }

    /// Pushes a full 20-byte address (PUSH20, even with leading zeros).
    pub(crate) fn push_addr(&mut self, address: Address) -> &mut Self {
        self.code.push(op::PUSH1 + 19);
        self.code.extend_from_slice(address.as_slice());
        self
    }

    /// Pushes the offset of `label` (PUSH2, resolved by [`Asm::build`]).
    pub(crate) fn push_label(&mut self, label: &'static str) -> &mut Self {
        self.code.push(op::PUSH2);
        self.fixups.push((self.code.len(), label));
        self.code.extend_from_slice(&[0, 0]);
        self
    }

    /// Jumps to `label` if the top of the stack is non-zero (and pops it).
    pub(crate) fn jumpi(&mut self, label: &'static str) -> &mut Self {
        self.push_label(label).ops(&[op::JUMPI])
    }

    /// A jump target.
    pub(crate) fn label(&mut self, label: &'static str) -> &mut Self {
        self.mark(label).ops(&[op::JUMPDEST])
    }

    /// Names the current offset without a JUMPDEST (for appended data).
    pub(crate) fn mark(&mut self, label: &'static str) -> &mut Self {
        let previous = self.labels.insert(label, self.code.len());
        assert!(previous.is_none(), "label {label} defined twice");
        self
    }

    /// `SSTORE(key, <top of stack>)`: pops the value.
    pub(crate) fn sstore_to(&mut self, key: u64) -> &mut Self {
        self.push(key).ops(&[op::SSTORE])
    }

    /// Resolves the labels and returns the code.
    pub(crate) fn build(&self) -> Vec<u8> {
        let mut code = self.code.clone();
        for (at, label) in &self.fixups {
            let target = *self.labels.get(label).unwrap_or_else(|| panic!("undefined label {label}"));
            let target = u16::try_from(target).expect("code longer than 64 KiB");
            code[*at..*at + 2].copy_from_slice(&target.to_be_bytes());
        }
        code
    }
}

/// Initcode that runs `constructor` and then returns `runtime` as the code
/// to deploy.
pub(crate) fn initcode(constructor: &[u8], runtime: &[u8]) -> Vec<u8> {
    // The trailer has a fixed size: PUSH2 len, PUSH2 offset, PUSH0, CODECOPY,
    // PUSH2 len, PUSH0, RETURN.
    const TRAILER: usize = 3 + 3 + 1 + 1 + 3 + 1 + 1;
    let len = u16::try_from(runtime.len()).expect("runtime too long");
    let offset = u16::try_from(constructor.len() + TRAILER).expect("constructor too long");
    let mut code = constructor.to_vec();
    code.push(op::PUSH2);
    code.extend_from_slice(&len.to_be_bytes());
    code.push(op::PUSH2);
    code.extend_from_slice(&offset.to_be_bytes());
    code.extend_from_slice(&[op::PUSH0, op::CODECOPY, op::PUSH2]);
    code.extend_from_slice(&len.to_be_bytes());
    code.extend_from_slice(&[op::PUSH0, op::RETURN]);
    debug_assert_eq!(code.len(), constructor.len() + TRAILER);
    code.extend_from_slice(runtime);
    code
}
