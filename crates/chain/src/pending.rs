//! State that is not committed yet: a base state plus the diffs of blocks
//! (or transactions) executed on top of it.
//!
//! [`PendingState`] lets the import pipeline execute block N+1 while block N
//! is still being merklized and written, and lets pre-Byzantium receipts
//! replay a block one transaction at a time. Diffs are merged with
//! [`merge_diff`], which keeps the meaning of [`StateDiff`]: a storage wipe
//! (or the account disappearing in between) drops the slots written before
//! it.

use alloy_primitives::{Address, B256, U256};
use mosaic_executor::{
    AccountDiff, AccountInfo, Bytecode, StateDiff, StateError, StateProvider, info_without_code,
};

/// Folds `next` (a diff on top of the state after `acc`) into `acc`, so that
/// `acc` becomes the diff of both.
pub fn merge_diff(acc: &mut StateDiff, next: &StateDiff) {
    for (hash, code) in &next.codes {
        acc.codes.insert(*hash, code.clone());
    }
    for (address, change) in &next.accounts {
        match acc.accounts.get_mut(address) {
            None => {
                acc.accounts.insert(*address, change.clone());
            }
            Some(prev) => {
                let gone_between = prev.info.is_none();
                if change.storage_wiped || gone_between || change.info.is_none() {
                    prev.storage.clear();
                    prev.storage_wiped = true;
                }
                prev.info = change.info;
                prev.storage.extend(change.storage.iter().map(|(k, v)| (*k, *v)));
            }
        }
    }
}

/// A base state with uncommitted diffs on top.
#[derive(Debug, Clone)]
pub struct PendingState<S> {
    base: S,
    diff: StateDiff,
    block_hashes: Vec<(u64, B256)>,
}

impl<S: StateProvider> PendingState<S> {
    /// `base` with nothing on top.
    pub fn new(base: S) -> Self {
        Self { base, diff: StateDiff::default(), block_hashes: Vec::new() }
    }

    /// Adds a diff on top.
    pub fn push(&mut self, diff: &StateDiff) {
        merge_diff(&mut self.diff, diff);
    }

    /// Makes `hash` the hash of block `number` for BLOCKHASH, overriding the
    /// base (a block not committed yet).
    pub fn push_block_hash(&mut self, number: u64, hash: B256) {
        self.block_hashes.push((number, hash));
    }

    /// The merged diff relative to the base.
    pub const fn diff(&self) -> &StateDiff {
        &self.diff
    }

    /// The base state.
    pub const fn base(&self) -> &S {
        &self.base
    }

    fn changed(&self, address: &Address) -> Option<&AccountDiff> {
        self.diff.accounts.get(address)
    }
}

impl<S: StateProvider> StateProvider for PendingState<S> {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        match self.changed(&address) {
            Some(change) => Ok(change
                .info
                .as_ref()
                .map(|info| info_without_code(info.balance, info.nonce, info.code_hash))),
            None => self.base.account(address),
        }
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        match self.changed(&address) {
            Some(change) => match change.storage.get(&slot) {
                Some(value) => Ok(*value),
                None if change.storage_wiped || change.info.is_none() => Ok(U256::ZERO),
                None => self.base.storage(address, slot),
            },
            None => self.base.storage(address, slot),
        }
    }

    fn code_by_hash(&self, hash: B256) -> Result<Bytecode, StateError> {
        match self.diff.codes.get(&hash) {
            Some(code) => Ok(code.clone()),
            None => self.base.code_by_hash(hash),
        }
    }

    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        match self.block_hashes.iter().rev().find(|(n, _)| *n == number) {
            Some((_, hash)) => Ok(*hash),
            None => self.base.block_hash(number),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mosaic_executor::{AccountFields, InMemoryState};

    fn fields(nonce: u64) -> Option<AccountFields> {
        Some(AccountFields { nonce, balance: U256::from(nonce), code_hash: mosaic_trie::KECCAK_EMPTY })
    }

    fn change(info: Option<AccountFields>, wiped: bool, slots: &[(u64, u64)]) -> AccountDiff {
        AccountDiff {
            info,
            storage_wiped: wiped,
            storage: slots.iter().map(|(k, v)| (U256::from(*k), U256::from(*v))).collect(),
        }
    }

    fn diff(address: Address, change: AccountDiff) -> StateDiff {
        let mut diff = StateDiff::default();
        diff.accounts.insert(address, change);
        diff
    }

    /// Merged diffs applied once give the same state as the diffs applied
    /// one after another, through destruction and re-creation.
    #[test]
    fn merge_equals_sequential_apply() {
        let a = Address::repeat_byte(1);
        let mut base = InMemoryState::default();
        base.insert_account(a, 1, U256::from(1), &[], [(U256::from(1), U256::from(10))]);
        let steps = [
            diff(a, change(fields(2), false, &[(2, 20)])),
            diff(a, change(None, false, &[])),
            diff(a, change(fields(1), false, &[(3, 30)])),
            diff(a, change(fields(2), true, &[(4, 40)])),
            diff(a, change(fields(3), false, &[(4, 0), (5, 50)])),
        ];
        for n in 1..=steps.len() {
            let mut one_by_one = base.clone();
            let mut pending = PendingState::new(base.clone());
            for step in &steps[..n] {
                one_by_one.apply(step);
                pending.push(step);
            }
            let mut merged = base.clone();
            merged.apply(pending.diff());
            assert_eq!(merged.accounts, one_by_one.accounts, "after {n} steps");
            for slot in 0..6 {
                let slot = U256::from(slot);
                assert_eq!(pending.storage(a, slot).unwrap(), one_by_one.storage(a, slot).unwrap());
            }
            assert_eq!(
                pending.account(a).unwrap().map(|i| i.nonce),
                one_by_one.account(a).unwrap().map(|i| i.nonce)
            );
        }
    }
}
