//! The state a block executes against, read through `&self`.

use crate::{StateDiff, error::StateError};
use alloy_primitives::{Address, B256, U256, keccak256, map::HashMap};
use revm::{bytecode::Bytecode, primitives::KECCAK_EMPTY, state::AccountInfo};
use std::sync::Arc;

/// Read access to the state at the parent of the block being executed.
///
/// Every method takes `&self` so that one provider can be shared by all the
/// threads of a parallel engine.
pub trait StateProvider: Send + Sync {
    /// The account at `address`, `None` if it does not exist. The returned
    /// info may leave `code` empty; code is then fetched with
    /// [`StateProvider::code_by_hash`].
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError>;
    /// The value of a storage slot (zero if unset).
    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError>;
    /// Bytecode by its hash.
    fn code_by_hash(&self, hash: B256) -> Result<Bytecode, StateError>;
    /// The hash of an ancestor block, for BLOCKHASH.
    fn block_hash(&self, number: u64) -> Result<B256, StateError>;
}

impl<T: StateProvider + ?Sized> StateProvider for &T {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        (**self).account(address)
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        (**self).storage(address, slot)
    }
    fn code_by_hash(&self, hash: B256) -> Result<Bytecode, StateError> {
        (**self).code_by_hash(hash)
    }
    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        (**self).block_hash(number)
    }
}

impl<T: StateProvider + ?Sized> StateProvider for Arc<T> {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        (**self).account(address)
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        (**self).storage(address, slot)
    }
    fn code_by_hash(&self, hash: B256) -> Result<Bytecode, StateError> {
        (**self).code_by_hash(hash)
    }
    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        (**self).block_hash(number)
    }
}

/// Account info without code (fetched by hash when needed). Built field by
/// field: `AccountInfo::default()` clones a shared empty bytecode, an
/// atomic reference count that threads would fight over.
pub const fn info_without_code(balance: U256, nonce: u64, code_hash: B256) -> AccountInfo {
    AccountInfo { balance, nonce, code_hash, account_id: None, code: None }
}

/// An account of [`InMemoryState`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemAccount {
    /// Nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Hash of the code ([`KECCAK_EMPTY`] for none).
    pub code_hash: B256,
    /// Non-zero storage slots.
    pub storage: HashMap<U256, U256>,
}

impl MemAccount {
    fn info(&self) -> AccountInfo {
        info_without_code(self.balance, self.nonce, self.code_hash)
    }
}

/// A whole state in memory: the fixture runners' and tests' backend.
#[derive(Debug, Clone, Default)]
pub struct InMemoryState {
    /// Accounts by address.
    pub accounts: HashMap<Address, MemAccount>,
    /// Bytecode by hash.
    pub codes: HashMap<B256, Bytecode>,
    /// Known block hashes by number.
    pub block_hashes: HashMap<u64, B256>,
}

impl InMemoryState {
    /// Inserts an account with code and storage (zero slots are dropped).
    pub fn insert_account(
        &mut self,
        address: Address,
        nonce: u64,
        balance: U256,
        code: &[u8],
        storage: impl IntoIterator<Item = (U256, U256)>,
    ) {
        let code_hash = if code.is_empty() {
            KECCAK_EMPTY
        } else {
            let hash = keccak256(code);
            let bytecode = Bytecode::new_raw_checked(code.to_vec().into())
                .unwrap_or_else(|_| Bytecode::new_legacy(code.to_vec().into()));
            self.codes.insert(hash, bytecode);
            hash
        };
        let storage = storage.into_iter().filter(|(_, v)| !v.is_zero()).collect();
        self.accounts.insert(address, MemAccount { nonce, balance, code_hash, storage });
    }

    /// Applies a block's diff.
    pub fn apply(&mut self, diff: &StateDiff) {
        for (hash, code) in &diff.codes {
            self.codes.insert(*hash, code.clone());
        }
        for (address, change) in &diff.accounts {
            let Some(info) = &change.info else {
                self.accounts.remove(address);
                continue;
            };
            let account = self.accounts.entry(*address).or_default();
            if change.storage_wiped {
                account.storage.clear();
            }
            account.nonce = info.nonce;
            account.balance = info.balance;
            account.code_hash = info.code_hash;
            for (slot, value) in &change.storage {
                if value.is_zero() {
                    account.storage.remove(slot);
                } else {
                    account.storage.insert(*slot, *value);
                }
            }
        }
    }
}

impl StateProvider for InMemoryState {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(self.accounts.get(&address).map(MemAccount::info))
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        Ok(self.accounts.get(&address).and_then(|a| a.storage.get(&slot).copied()).unwrap_or_default())
    }
    fn code_by_hash(&self, hash: B256) -> Result<Bytecode, StateError> {
        if hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        self.codes.get(&hash).cloned().ok_or(StateError::MissingCode(hash))
    }
    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        self.block_hashes.get(&number).copied().ok_or(StateError::MissingBlockHash(number))
    }
}
