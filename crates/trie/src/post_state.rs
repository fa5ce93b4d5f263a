//! The input of an incremental root: what a block (or several) changed,
//! keyed by hashed address and hashed slot as the tries are. Build it from
//! plain addresses and slot indices with [`HashedPostState::insert_account`]
//! and [`HashedPostState::insert_storage`] so callers never hash by hand.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256, keccak256};

use crate::TrieAccount;

/// An account's fields other than its storage root, which the trie computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Account {
    /// Number of transactions sent (or contracts created) by the account.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Keccak-256 of the account's code (`KECCAK_EMPTY` when it has none).
    pub code_hash: B256,
}

impl Account {
    /// The trie leaf of this account with the given storage root.
    pub const fn with_storage_root(self, storage_root: B256) -> TrieAccount {
        TrieAccount { nonce: self.nonce, balance: self.balance, storage_root, code_hash: self.code_hash }
    }
}

impl From<TrieAccount> for Account {
    fn from(account: TrieAccount) -> Self {
        Self { nonce: account.nonce, balance: account.balance, code_hash: account.code_hash }
    }
}

/// Changed storage of one account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HashedStorage {
    /// Every slot the account had before is gone (self-destruct, or the
    /// account was re-created) before `slots` apply.
    pub wiped: bool,
    /// New values by `keccak256(slot)`; zero deletes the slot.
    pub slots: BTreeMap<B256, U256>,
}

/// Changed accounts and storage, keyed by `keccak256(address)`.
///
/// `accounts` maps to `Some` for an account that exists after the change
/// (created or updated) and `None` for one that was deleted; a deleted
/// account's storage is gone whatever `storages` says. `storages` may name
/// accounts missing from `accounts`: their fields stay and only their storage
/// root changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HashedPostState {
    /// Account changes by hashed address.
    pub accounts: BTreeMap<B256, Option<Account>>,
    /// Storage changes by hashed address.
    pub storages: BTreeMap<B256, HashedStorage>,
}

impl HashedPostState {
    /// An empty change set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.storages.is_empty()
    }

    /// Sets the account at `address` (`None`: deleted), replacing an earlier
    /// change of the same account.
    pub fn insert_account(&mut self, address: Address, account: Option<Account>) -> &mut Self {
        self.accounts.insert(keccak256(address), account);
        self
    }

    /// Records storage changes of `address`: slot index to new value (zero
    /// deletes). With `wiped`, every earlier slot (in the parent state and in
    /// earlier calls) is dropped first; otherwise the slots are merged over
    /// earlier calls.
    pub fn insert_storage<I>(&mut self, address: Address, wiped: bool, slots: I) -> &mut Self
    where
        I: IntoIterator<Item = (U256, U256)>,
    {
        let storage = self.storages.entry(keccak256(address)).or_default();
        if wiped {
            storage.wiped = true;
            storage.slots.clear();
        }
        for (slot, value) in slots {
            storage.slots.insert(keccak256(slot.to_be_bytes::<32>()), value);
        }
        self
    }

    /// Applies `later` (the change set of a following block) on top of this
    /// one, so that the result takes the parent of `self` to the state after
    /// `later`.
    pub fn extend(&mut self, later: Self) {
        for (hashed_address, account) in later.accounts {
            if account.is_none() {
                // Deleted: its storage is gone too, including what `self` wrote.
                let storage = self.storages.entry(hashed_address).or_default();
                storage.wiped = true;
                storage.slots.clear();
            }
            self.accounts.insert(hashed_address, account);
        }
        for (hashed_address, storage) in later.storages {
            let mine = self.storages.entry(hashed_address).or_default();
            if storage.wiped {
                mine.wiped = true;
                mine.slots.clear();
            }
            mine.slots.extend(storage.slots);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_inputs_are_hashed() {
        let address = Address::repeat_byte(7);
        let mut state = HashedPostState::new();
        state.insert_account(address, Some(Account { nonce: 1, ..Account::default() }));
        state.insert_storage(address, false, [(U256::from(1), U256::from(5))]);
        let key = keccak256(address);
        assert_eq!(state.accounts[&key].map(|a| a.nonce), Some(1));
        let slot = keccak256(U256::from(1).to_be_bytes::<32>());
        assert_eq!(state.storages[&key].slots[&slot], U256::from(5));
        state.insert_storage(address, true, [(U256::from(2), U256::from(6))]);
        assert!(state.storages[&key].wiped);
        assert_eq!(state.storages[&key].slots.len(), 1);
    }

    #[test]
    fn extend_wipes_storage_of_deleted_accounts() {
        let address = Address::repeat_byte(1);
        let mut first = HashedPostState::new();
        first.insert_storage(address, false, [(U256::from(1), U256::from(1))]);
        let mut second = HashedPostState::new();
        second.insert_account(address, None);
        first.extend(second);
        let storage = &first.storages[&keccak256(address)];
        assert!(storage.wiped && storage.slots.is_empty());
        let mut third = HashedPostState::new();
        third.insert_storage(address, false, [(U256::from(2), U256::from(2))]);
        first.extend(third);
        let storage = &first.storages[&keccak256(address)];
        assert!(storage.wiped && storage.slots.len() == 1);
    }
}
