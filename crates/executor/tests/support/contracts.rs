//! The contracts the generated blocks call, written with [`Asm`], and their
//! fixed addresses.

use super::asm::{Asm, initcode, op::*};
use alloy_primitives::{Address, address};

/// `slot[calldata[0]] += 1`, logs the new value, returns it.
pub(crate) const COUNTER: Address = address!("0x00000000000000000000000000000000c0c0c001");
/// Reads its slot 0, increments it and writes a different slot depending on
/// the parity (so the write set changes between incarnations).
pub(crate) const BRANCH: Address = address!("0x00000000000000000000000000000000c0c0c002");
/// Writes, calls the counter, then reverts (or, with calldata, makes an inner
/// reverting self-call and succeeds).
pub(crate) const REVERTER: Address = address!("0x00000000000000000000000000000000c0c0c003");
/// Writes a hot slot, then writes slots 1..=n in a loop (OOG with a small gas
/// limit).
pub(crate) const LOOPER: Address = address!("0x00000000000000000000000000000000c0c0c004");
/// Stores balances (coinbase, self, an argument), EXTCODEHASH/EXTCODESIZE of
/// the argument and a block hash.
pub(crate) const PROBE: Address = address!("0x00000000000000000000000000000000c0c0c005");
/// CREATE2 / CREATE of [`child_initcode`]; mode 1 creates and destroys the
/// child in one transaction.
pub(crate) const FACTORY: Address = address!("0x00000000000000000000000000000000c0c0c006");
/// Calls an address with value, then STATICCALLs [`VIEW`] for its balance.
pub(crate) const RELAY: Address = address!("0x00000000000000000000000000000000c0c0c007");
/// Returns `BALANCE(calldata[0])` (read-only).
pub(crate) const VIEW: Address = address!("0x00000000000000000000000000000000c0c0c008");

/// Runtime of [`COUNTER`].
pub(crate) fn counter() -> Vec<u8> {
    let mut a = Asm::new();
    a.ops(&[PUSH0, CALLDATALOAD]) // key
        .ops(&[DUP1, SLOAD])
        .push(1)
        .ops(&[ADD]) // key, v+1
        .ops(&[DUP1, DUP3, SSTORE]) // slot[key] = v+1
        .ops(&[PUSH0, MSTORE]) // mem[0] = v+1; key
        .push(32)
        .ops(&[PUSH0, LOG1]) // LOG1(0, 32, key)
        .push(32)
        .ops(&[PUSH0, RETURN]);
    a.build()
}

/// Runtime of [`BRANCH`].
pub(crate) fn branch() -> Vec<u8> {
    let mut a = Asm::new();
    a.ops(&[PUSH0, SLOAD]) // v
        .ops(&[DUP1])
        .push(1)
        .ops(&[ADD])
        .sstore_to(0) // slot0 = v+1; v
        .ops(&[DUP1])
        .push(2)
        .ops(&[SWAP1, MOD]) // v, v%2
        .jumpi("odd")
        // even: slot1 = CALLER
        .ops(&[CALLER])
        .sstore_to(1)
        .ops(&[STOP])
        .label("odd")
        // slot[v + 100] = 1: a new location every time
        .push(1)
        .ops(&[SWAP1])
        .push(100)
        .ops(&[ADD, SSTORE])
        // pay the caller 1 wei if there is something to pay
        .ops(&[SELFBALANCE, ISZERO])
        .jumpi("end")
        .ops(&[PUSH0, PUSH0, PUSH0, PUSH0])
        .push(1)
        .ops(&[CALLER, GAS, CALL, POP])
        .label("end")
        .ops(&[STOP]);
    a.build()
}

/// Runtime of [`REVERTER`].
pub(crate) fn reverter() -> Vec<u8> {
    let mut a = Asm::new();
    a.ops(&[CALLDATASIZE]).jumpi("outer");
    // Empty calldata: write, call the counter, revert everything.
    a.ops(&[PUSH0, SLOAD])
        .push(1)
        .ops(&[ADD])
        .sstore_to(0)
        .ops(&[PUSH0, PUSH0, PUSH0, PUSH0, PUSH0])
        .push_addr(COUNTER)
        .ops(&[GAS, CALL, POP])
        .ops(&[CALLER])
        .sstore_to(1)
        .ops(&[PUSH0, PUSH0, REVERT]);
    // With calldata: write slot 5, make the reverting self-call, succeed.
    a.label("outer")
        .ops(&[CALLER])
        .sstore_to(5)
        .ops(&[PUSH0, PUSH0, PUSH0, PUSH0, PUSH0, ADDRESS, GAS, CALL])
        .sstore_to(6)
        .ops(&[STOP]);
    a.build()
}

/// Runtime of [`LOOPER`]: `slot0 += 1`, then `slot[i] = i` for i in 1..=n
/// (n = calldata[0]).
pub(crate) fn looper() -> Vec<u8> {
    let mut a = Asm::new();
    a.ops(&[PUSH0, SLOAD]).push(1).ops(&[ADD]).sstore_to(0);
    a.ops(&[PUSH0]) // i
        .label("loop")
        .push(1)
        .ops(&[ADD]) // i+1
        .ops(&[DUP1, DUP1, SSTORE]) // slot[i] = i
        .ops(&[DUP1, PUSH0, CALLDATALOAD, GT]) // n > i
        .jumpi("loop")
        .ops(&[STOP]);
    a.build()
}

/// Runtime of [`PROBE`].
pub(crate) fn probe() -> Vec<u8> {
    let mut a = Asm::new();
    a.ops(&[COINBASE, BALANCE])
        .sstore_to(0)
        .ops(&[SELFBALANCE])
        .sstore_to(1)
        .ops(&[PUSH0, CALLDATALOAD, BALANCE])
        .sstore_to(2)
        .ops(&[PUSH0, CALLDATALOAD, EXTCODEHASH])
        .sstore_to(3)
        .ops(&[PUSH0, CALLDATALOAD, EXTCODESIZE])
        .sstore_to(4)
        .push(1)
        .ops(&[NUMBER, SUB, BLOCKHASH])
        .sstore_to(6)
        .ops(&[STOP]);
    a.build()
}

/// Runtime of [`VIEW`].
pub(crate) fn view() -> Vec<u8> {
    let mut a = Asm::new();
    a.ops(&[PUSH0, CALLDATALOAD, BALANCE, PUSH0, MSTORE]).push(32).ops(&[PUSH0, RETURN]);
    a.build()
}

/// Runtime of [`RELAY`]: calldata = (target, value).
pub(crate) fn relay() -> Vec<u8> {
    let mut a = Asm::new();
    a.ops(&[PUSH0, PUSH0, PUSH0, PUSH0])
        .push(32)
        .ops(&[CALLDATALOAD]) // value
        .ops(&[PUSH0, CALLDATALOAD, GAS, CALL]) // success
        .push(1)
        .ops(&[ADD])
        .ops(&[PUSH0, CALLDATALOAD, SSTORE]) // slot[target] = success + 1
        .ops(&[PUSH0, CALLDATALOAD, PUSH0, MSTORE])
        .push(32)
        .ops(&[PUSH0])
        .push(32)
        .ops(&[PUSH0])
        .push_addr(VIEW)
        .ops(&[GAS, STATICCALL, POP])
        .ops(&[PUSH0, MLOAD])
        .sstore_to(1)
        .ops(&[STOP]);
    a.build()
}

/// Runtime of the factory's children: empty calldata selfdestructs to the
/// coinbase, one byte of calldata bumps slot 2, anything longer selfdestructs
/// to the address in calldata[0].
pub(crate) fn child_runtime() -> Vec<u8> {
    let mut a = Asm::new();
    a.ops(&[CALLDATASIZE, ISZERO]).jumpi("to_coinbase");
    a.ops(&[CALLDATASIZE]).push(1).ops(&[EQ]).jumpi("bump");
    a.ops(&[PUSH0, CALLDATALOAD, SELFDESTRUCT]);
    a.label("to_coinbase").ops(&[COINBASE, SELFDESTRUCT]);
    a.label("bump").ops(&[PUSH0]).push(2).ops(&[SLOAD]);
    // stack: 0, slot2 — slot2 + 1 into slot 2
    a.push(1).ops(&[ADD]).sstore_to(2).ops(&[POP, STOP]);
    a.build()
}

/// Initcode of the factory's children: writes two slots, deploys
/// [`child_runtime`].
pub(crate) fn child_initcode() -> Vec<u8> {
    let mut c = Asm::new();
    c.push(1).sstore_to(0).ops(&[CALLVALUE]).sstore_to(1);
    initcode(&c.build(), &child_runtime())
}

/// Initcode whose constructor selfdestructs to the coinbase (created and
/// destroyed in one transaction).
pub(crate) fn suicidal_initcode() -> Vec<u8> {
    let mut c = Asm::new();
    c.push(7).sstore_to(3).ops(&[COINBASE, SELFDESTRUCT]);
    c.build()
}

/// Initcode deploying a copy of [`counter`].
pub(crate) fn counter_initcode() -> Vec<u8> {
    let mut c = Asm::new();
    c.ops(&[CALLER]).sstore_to(9);
    initcode(&c.build(), &counter())
}

/// Runtime of [`FACTORY`]: calldata = (mode, salt). Mode 0: CREATE2; mode 1:
/// CREATE2 and call the child (it selfdestructs in the creating
/// transaction); mode 2: CREATE. The new address goes to slot 1 (CREATE2) or
/// slot 2 (CREATE), zero on failure or collision.
pub(crate) fn factory() -> Vec<u8> {
    let init = child_initcode();
    let len = init.len() as u64;
    let mut a = Asm::new();
    a.push(len).push_label("init").ops(&[PUSH0, CODECOPY]); // mem[0..len] = initcode
    a.ops(&[PUSH0, CALLDATALOAD]).push(2).ops(&[EQ]).jumpi("create");
    a.push(32)
        .ops(&[CALLDATALOAD]) // salt
        .push(len)
        .ops(&[PUSH0, CALLVALUE, CREATE2]) // address
        .ops(&[DUP1])
        .sstore_to(1)
        .ops(&[PUSH0, CALLDATALOAD])
        .push(1)
        .ops(&[EQ])
        .jumpi("destroy")
        .ops(&[STOP]);
    a.label("destroy")
        // CALL(gas, address, 0, 0, 0, 0, 0) with the address on the stack
        .ops(&[PUSH0, PUSH0, PUSH0, PUSH0, PUSH0])
        .ops(&[0x85]) // DUP6: the address
        .ops(&[GAS, CALL])
        .sstore_to(4)
        .ops(&[STOP]);
    a.label("create").push(len).ops(&[PUSH0, CALLVALUE, CREATE]).sstore_to(2).ops(&[STOP]);
    a.mark("init").ops(&init);
    a.build()
}

/// Stand-in for the EIP-4788 / EIP-2935 system contracts: stores
/// calldata[0] at slot `TIMESTAMP % 8191`.
pub(crate) fn ring_buffer() -> Vec<u8> {
    let mut a = Asm::new();
    a.ops(&[PUSH0, CALLDATALOAD]).push(8191).ops(&[TIMESTAMP, MOD, SSTORE, STOP]);
    a.build()
}

/// Stand-in for the EIP-7002 / EIP-7251 system contracts: returns nothing.
pub(crate) fn empty_queue() -> Vec<u8> {
    vec![STOP]
}
