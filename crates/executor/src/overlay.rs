//! The block-level cache that sequential execution commits each
//! transaction into, and the source of the block's [`StateDiff`].

use crate::{
    AccountDiff, StateDiff, StateProvider, diff::AccountFields, error::StateError, state::info_without_code,
};
use alloy_primitives::{
    Address, B256, U256,
    map::{AddressSet, HashMap},
};
use revm::{
    Database, DatabaseCommit,
    bytecode::Bytecode,
    primitives::{AddressMap, KECCAK_EMPTY, StorageKey, StorageValue},
    state::{Account, AccountInfo},
};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Value before the block (meaningless once the account is wiped).
    original: U256,
    current: U256,
}

#[derive(Debug, Clone)]
struct CachedAccount {
    original: Option<AccountInfo>,
    current: Option<AccountInfo>,
    storage: HashMap<U256, Slot>,
    /// All storage that existed before the block is gone.
    wiped: bool,
}

/// A copy-on-write view of the parent state for one block.
///
/// Implements revm's [`Database`] (reads fall through to the provider and are
/// cached) and [`DatabaseCommit`] (a transaction's changes are applied with
/// the post-EIP-161 rules; revm's journal already adjusts pre-EIP-161 blocks).
#[derive(Debug)]
pub struct BlockOverlay<S> {
    base: S,
    accounts: HashMap<Address, CachedAccount>,
    codes: HashMap<B256, Bytecode>,
    new_codes: HashMap<B256, Bytecode>,
    /// Canonical diffs of the accounts the parallel engine changed that are
    /// not in the cache (an account moves to the cache when loaded). An
    /// account absent from the cache and from the layer is unchanged.
    layer: BTreeMap<Address, AccountDiff>,
}

impl<S: StateProvider> BlockOverlay<S> {
    /// An empty overlay over `base`.
    pub fn new(base: S) -> Self {
        Self {
            base,
            accounts: HashMap::default(),
            codes: HashMap::default(),
            new_codes: HashMap::default(),
            layer: BTreeMap::new(),
        }
    }

    /// Drops the cache and returns the provider.
    pub fn into_base(self) -> S {
        self.base
    }

    /// The provider underneath.
    pub const fn base(&self) -> &S {
        &self.base
    }

    fn load(&mut self, address: Address) -> Result<&mut CachedAccount, StateError> {
        if !self.accounts.contains_key(&address) {
            let mut original = self.base.account(address)?;
            if let Some(info) = &mut original {
                info.code = None;
            }
            let mut cached = CachedAccount {
                current: original.clone(),
                original,
                storage: HashMap::default(),
                wiped: false,
            };
            if let Some(diff) = self.layer.remove(&address) {
                // A wipe of an account that did not exist changes nothing
                // that reads can see, so `storage_wiped` is enough.
                cached.current = diff.info.map(|f| info_without_code(f.balance, f.nonce, f.code_hash));
                cached.wiped = diff.storage_wiped;
                let read_base = !cached.wiped && cached.original.is_some();
                for (key, value) in diff.storage {
                    let original = if read_base { self.base.storage(address, key)? } else { U256::ZERO };
                    cached.storage.insert(key, Slot { original, current: value });
                }
            }
            self.accounts.insert(address, cached);
        }
        self.accounts.get_mut(&address).ok_or(StateError::Backend("account cache".into()))
    }

    /// The current account, as the next transaction would see it.
    pub fn account(&mut self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(self.load(address)?.current.clone())
    }

    /// Adds `amount` to a balance outside the EVM (rewards, withdrawals).
    ///
    /// Follows geth's state semantics: the account is created if missing,
    /// and an account left empty is removed when `clear_empty` (EIP-161).
    pub fn increment_balance(
        &mut self,
        address: Address,
        amount: U256,
        clear_empty: bool,
    ) -> Result<(), StateError> {
        let account = self.load(address)?;
        let info = account.current.get_or_insert_with(AccountInfo::default);
        info.balance = info.balance.saturating_add(amount);
        info.code = None;
        if clear_empty && info.is_empty() {
            account.current = None;
            account.storage.clear();
            account.wiped = true;
        }
        Ok(())
    }

    /// Overwrites an account's balance outside the EVM (the DAO fork).
    pub fn set_balance(&mut self, address: Address, balance: U256) -> Result<(), StateError> {
        let account = self.load(address)?;
        let info = account.current.get_or_insert_with(AccountInfo::default);
        info.balance = balance;
        Ok(())
    }

    /// The change since the block started, in canonical form. Hands over
    /// the parallel engine's precomputed diffs, so call it once, at the end.
    pub fn diff(&mut self) -> StateDiff {
        let mut entries: Vec<(Address, AccountDiff)> = Vec::with_capacity(self.accounts.len());
        for (address, account) in &self.accounts {
            let fields = |i: &AccountInfo| AccountFields {
                nonce: i.nonce,
                balance: i.balance,
                code_hash: i.code_hash,
            };
            let info = account.current.as_ref().map(fields);
            let info_changed = account.original.as_ref().map(fields) != info;
            let wiped = account.wiped && account.original.is_some();
            let storage: std::collections::BTreeMap<_, _> = account
                .storage
                .iter()
                .filter(|(_, s)| if account.wiped { !s.current.is_zero() } else { s.current != s.original })
                .map(|(k, s)| (*k, s.current))
                .collect();
            if !info_changed && !wiped && storage.is_empty() {
                continue;
            }
            let storage = if info.is_some() { storage } else { Default::default() };
            entries.push((*address, AccountDiff { info, storage_wiped: wiped, storage }));
        }
        entries.sort_unstable_by_key(|(a, _)| *a);
        let mut accounts = std::mem::take(&mut self.layer);
        if accounts.is_empty() {
            accounts = entries.into_iter().collect();
        } else {
            accounts.extend(entries);
        }
        let mut diff = StateDiff { accounts, ..Default::default() };
        if !self.new_codes.is_empty() {
            let used: std::collections::HashSet<B256> =
                diff.accounts.values().filter_map(|a| a.info.map(|i| i.code_hash)).collect();
            for (hash, code) in &self.new_codes {
                if used.contains(hash) {
                    diff.codes.insert(*hash, code.clone());
                }
            }
        }
        diff
    }

    fn commit_account(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        if !account.is_touched() {
            return Ok(());
        }
        let entry = self.load(address)?;
        if account.is_selfdestructed() || (!account.is_created() && account.is_empty()) {
            entry.current = None;
            entry.storage.clear();
            entry.wiped = true;
            return Ok(());
        }
        let created = account.is_created();
        if created {
            entry.storage.clear();
            entry.wiped = true;
        }
        let mut info = account.info;
        let code_changed = created || entry.current.as_ref().is_none_or(|c| c.code_hash != info.code_hash);
        if let Some(code) = info.code.take()
            && info.code_hash != KECCAK_EMPTY
            && code_changed
        {
            self.codes.entry(info.code_hash).or_insert_with(|| code.clone());
            self.new_codes.insert(info.code_hash, code);
        }
        let entry = self.load(address)?;
        entry.current = Some(info);
        for (key, slot) in account.storage {
            if !slot.is_changed() && !created {
                continue;
            }
            entry
                .storage
                .entry(key)
                .or_insert(Slot { original: slot.original_value, current: slot.original_value })
                .current = slot.present_value;
        }
        Ok(())
    }

    /// Applies a transaction's changes; fails only if the backend does.
    pub fn commit_changes(&mut self, changes: AddressMap<Account>) -> Result<(), StateError> {
        for (address, account) in changes {
            self.commit_account(address, account)?;
        }
        Ok(())
    }
}

impl<S: StateProvider> BlockOverlay<S> {
    /// Sets an account's state after the parallel part of a block.
    pub(crate) fn apply_final(
        &mut self,
        address: Address,
        info: Option<AccountInfo>,
        wiped: bool,
        slots: &[(U256, U256)],
    ) -> Result<(), StateError> {
        let entry = self.load(address)?;
        if wiped {
            entry.storage.clear();
            entry.wiped = true;
        }
        entry.current = info;
        let read_base = !entry.wiped && entry.original.is_some();
        for (key, value) in slots {
            let entry = self.load(address)?;
            if let Some(slot) = entry.storage.get_mut(key) {
                slot.current = *value;
                continue;
            }
            let original = if read_base { self.base.storage(address, *key)? } else { U256::ZERO };
            let entry = self.load(address)?;
            entry.storage.insert(*key, Slot { original, current: *value });
        }
        Ok(())
    }

    /// Installs the canonical diffs of the accounts the parallel part
    /// changed that are not cached.
    pub(crate) fn install_layer(&mut self, diffs: BTreeMap<Address, AccountDiff>) {
        debug_assert!(self.layer.is_empty(), "one parallel part per block");
        self.layer = diffs;
    }

    /// Records code deployed by the parallel part.
    pub(crate) fn insert_code(&mut self, hash: B256, code: Bytecode) {
        self.codes.entry(hash).or_insert_with(|| code.clone());
        self.new_codes.insert(hash, code);
    }
}

/// A `&self` view of an overlay: what the parallel engine reads as its base.
///
/// Most addresses a block touches are not in the overlay's cache (it holds
/// what the system calls touched); a small set with a fixed-width hasher
/// tells so without hashing the address into the cache's map.
pub(crate) struct OverlayView<'a, S> {
    overlay: &'a BlockOverlay<S>,
    cached: AddressSet,
}

impl<'a, S> OverlayView<'a, S> {
    pub(crate) fn new(overlay: &'a BlockOverlay<S>) -> Self {
        Self { cached: overlay.accounts.keys().copied().collect(), overlay }
    }

    /// Whether the overlay caches `address`.
    pub(crate) fn is_cached(&self, address: &Address) -> bool {
        self.cached.contains(address)
    }
}

impl<S: StateProvider> StateProvider for OverlayView<'_, S> {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        if !self.is_cached(&address) {
            return self.overlay.base.account(address);
        }
        match self.overlay.accounts.get(&address) {
            Some(a) => Ok(a.current.clone()),
            None => self.overlay.base.account(address),
        }
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        if !self.is_cached(&address) {
            return self.overlay.base.storage(address, slot);
        }
        match self.overlay.accounts.get(&address) {
            Some(a) => match a.storage.get(&slot) {
                Some(s) => Ok(s.current),
                None if a.wiped || a.original.is_none() => Ok(U256::ZERO),
                None => self.overlay.base.storage(address, slot),
            },
            None => self.overlay.base.storage(address, slot),
        }
    }

    fn code_by_hash(&self, hash: B256) -> Result<Bytecode, StateError> {
        if hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        match self.overlay.codes.get(&hash) {
            Some(c) => Ok(c.clone()),
            None => self.overlay.base.code_by_hash(hash),
        }
    }

    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        self.overlay.base.block_hash(number)
    }
}

impl<S: StateProvider> Database for BlockOverlay<S> {
    type Error = StateError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        self.account(address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, StateError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        if let Some(code) = self.codes.get(&code_hash) {
            return Ok(code.clone());
        }
        let code = self.base.code_by_hash(code_hash)?;
        self.codes.insert(code_hash, code.clone());
        Ok(code)
    }

    fn storage(&mut self, address: Address, index: StorageKey) -> Result<StorageValue, StateError> {
        let account = self.load(address)?;
        if let Some(slot) = account.storage.get(&index) {
            return Ok(slot.current);
        }
        let value = if account.wiped || account.original.is_none() {
            U256::ZERO
        } else {
            self.base.storage(address, index)?
        };
        let account = self.load(address)?;
        account.storage.insert(index, Slot { original: value, current: value });
        Ok(value)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, StateError> {
        self.base.block_hash(number)
    }
}

impl<S: StateProvider> DatabaseCommit for BlockOverlay<S> {
    fn commit(&mut self, changes: AddressMap<Account>) {
        // `DatabaseCommit` cannot fail; every touched account was loaded
        // through `basic` first, so `load` does not reach the backend here.
        let _ = self.commit_changes(changes);
    }
}
