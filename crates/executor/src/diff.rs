//! The state change of a block, in a canonical form.

use alloy_primitives::{Address, B256, U256};
use revm::bytecode::Bytecode;
use std::collections::BTreeMap;

/// The final account fields after a block (code is referenced by hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountFields {
    /// Nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Code hash.
    pub code_hash: B256,
}

/// How one account changed over a block.
///
/// Canonical: an entry exists only if something observable changed, and
/// `storage` holds only slots whose value differs from the value before the
/// block (or from zero when `storage_wiped`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDiff {
    /// The account after the block; `None` if it does not exist (destroyed or
    /// cleared as empty by EIP-161).
    pub info: Option<AccountFields>,
    /// The account existed before the block and all of its storage was
    /// deleted during it (selfdestruct, or re-creation at the address). Apply
    /// the wipe before `storage`.
    pub storage_wiped: bool,
    /// Slots written, with their value after the block (zero = deleted).
    pub storage: BTreeMap<U256, U256>,
}

impl AccountDiff {
    /// Whether the account was destroyed (existed before, gone after).
    pub const fn is_destroyed(&self) -> bool {
        self.info.is_none()
    }
}

/// The state change of a block, ordered so that two equal diffs compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateDiff {
    /// Changed accounts.
    pub accounts: BTreeMap<Address, AccountDiff>,
    /// Code deployed during the block, by hash.
    pub codes: BTreeMap<B256, Bytecode>,
}

impl StateDiff {
    /// Number of changed storage slots over all accounts.
    pub fn changed_slots(&self) -> usize {
        self.accounts.values().map(|a| a.storage.len()).sum()
    }
}
