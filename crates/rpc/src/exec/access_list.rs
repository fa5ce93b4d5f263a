//! `eth_createAccessList`'s tracer, as geth's `AccessListTracer`: every slot
//! read or written (`SLOAD`, `SSTORE`) with its contract, and every address
//! that an account-reading opcode or a call touches, except the sender, the
//! recipient and the precompiles. The list is sorted by address and slot.

use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{Address, B256};
use revm::{
    bytecode::opcode,
    interpreter::{Interpreter, interpreter::EthInterpreter, interpreter_types::Jumps},
};
use std::collections::{BTreeMap, BTreeSet};

/// Collected accesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessTracer {
    excluded: BTreeSet<Address>,
    list: BTreeMap<Address, BTreeSet<B256>>,
}

impl AccessTracer {
    /// A tracer starting from `initial`, never listing `excluded` addresses
    /// unless they have slots.
    pub(crate) fn new(initial: &AccessList, excluded: BTreeSet<Address>) -> Self {
        let mut tracer = Self { excluded, list: BTreeMap::new() };
        for item in initial.iter() {
            tracer.add_address(item.address);
            for slot in &item.storage_keys {
                tracer.list.entry(item.address).or_default().insert(*slot);
            }
        }
        tracer
    }

    fn add_address(&mut self, address: Address) {
        if !self.excluded.contains(&address) {
            self.list.entry(address).or_default();
        }
    }

    /// Records what the opcode about to run accesses.
    pub(crate) fn step(&mut self, interp: &Interpreter<EthInterpreter>) {
        let op = interp.bytecode.opcode();
        let stack = interp.stack.data();
        let top = |n: usize| stack.len().checked_sub(n + 1).map(|i| stack[i]);
        match op {
            opcode::SLOAD | opcode::SSTORE => {
                if let Some(slot) = top(0) {
                    let address = interp.input.target_address;
                    self.list.entry(address).or_default().insert(B256::from(slot));
                }
            }
            opcode::EXTCODECOPY
            | opcode::EXTCODEHASH
            | opcode::EXTCODESIZE
            | opcode::BALANCE
            | opcode::SELFDESTRUCT => {
                if let Some(word) = top(0) {
                    self.add_address(Address::from_word(B256::from(word)));
                }
            }
            opcode::DELEGATECALL | opcode::CALL | opcode::STATICCALL | opcode::CALLCODE => {
                if stack.len() >= 5
                    && let Some(word) = top(1)
                {
                    self.add_address(Address::from_word(B256::from(word)));
                }
            }
            _ => {}
        }
    }

    /// The list, sorted.
    pub(crate) fn access_list(&self) -> AccessList {
        AccessList(
            self.list
                .iter()
                .map(|(address, slots)| AccessListItem {
                    address: *address,
                    storage_keys: slots.iter().copied().collect(),
                })
                .collect(),
        )
    }
}
