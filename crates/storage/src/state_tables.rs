//! The state tables opened in a write transaction, with the few operations
//! every writer (block commit, unwind, genesis) is built from. Plain and
//! hashed tables are always written together here, so they cannot drift
//! apart; changesets and the history index are written together too.

use crate::{
    StoreResult,
    codec::{
        StoredAccount, account_change_key, account_history_key, decode_value, encode_opt_account,
        encode_value, hashed_account_history_key, hashed_storage_history_key, hashed_storage_key,
        storage_change_key, storage_history_key, storage_key,
    },
    tables::*,
};
use alloy_primitives::{Address, B256, U256, keccak256};
use mosaic_executor::Bytecode;
use redb::{ReadableTable, Table, WriteTransaction};

/// Flat and hashed accounts, storage and code.
pub(crate) struct StateTables<'t> {
    pub(crate) accounts: Table<'t, &'static [u8; 20], &'static [u8]>,
    pub(crate) storage: Table<'t, &'static [u8; 52], &'static [u8]>,
    pub(crate) bytecodes: Table<'t, &'static [u8; 32], &'static [u8]>,
    pub(crate) hashed_accounts: Table<'t, &'static [u8; 32], &'static [u8]>,
    pub(crate) hashed_storage: Table<'t, &'static [u8; 64], &'static [u8]>,
}

impl<'t> StateTables<'t> {
    pub(crate) fn open(txn: &'t WriteTransaction) -> StoreResult<Self> {
        Ok(Self {
            accounts: txn.open_table(ACCOUNTS)?,
            storage: txn.open_table(STORAGE)?,
            bytecodes: txn.open_table(BYTECODES)?,
            hashed_accounts: txn.open_table(HASHED_ACCOUNTS)?,
            hashed_storage: txn.open_table(HASHED_STORAGE)?,
        })
    }

    /// The account at `address`.
    pub(crate) fn account(&self, address: &Address) -> StoreResult<Option<StoredAccount>> {
        match self.accounts.get(&address.0.0)? {
            Some(bytes) => StoredAccount::decode(bytes.value(), "accounts").map(Some),
            None => Ok(None),
        }
    }

    /// Writes (or with `None` deletes) an account in the plain and hashed
    /// tables; returns the account it replaced.
    pub(crate) fn put_account(
        &mut self,
        address: &Address,
        hashed: &B256,
        account: Option<&StoredAccount>,
    ) -> StoreResult<Option<StoredAccount>> {
        let old = match account {
            Some(account) => {
                let bytes = account.encode();
                self.hashed_accounts.insert(&hashed.0, bytes.as_slice())?;
                self.accounts.insert(&address.0.0, bytes.as_slice())?.map(|old| old.value().to_vec())
            }
            None => {
                self.hashed_accounts.remove(&hashed.0)?;
                self.accounts.remove(&address.0.0)?.map(|old| old.value().to_vec())
            }
        };
        old.map(|bytes| StoredAccount::decode(&bytes, "accounts")).transpose()
    }

    /// Writes a slot in the plain and hashed tables (zero deletes it);
    /// returns the value it replaced.
    pub(crate) fn put_slot(
        &mut self,
        address: &Address,
        hashed: &B256,
        slot: &U256,
        value: U256,
    ) -> StoreResult<U256> {
        let plain = storage_key(address, slot);
        let hashed = hashed_storage_key(hashed, &keccak256(slot.to_be_bytes::<32>()));
        let old = if value.is_zero() {
            self.hashed_storage.remove(&hashed)?;
            self.storage.remove(&plain)?.map(|old| decode_value(old.value(), "storage")).transpose()?
        } else {
            let bytes = encode_value(value);
            self.hashed_storage.insert(&hashed, bytes.as_slice())?;
            self.storage
                .insert(&plain, bytes.as_slice())?
                .map(|old| decode_value(old.value(), "storage"))
                .transpose()?
        };
        Ok(old.unwrap_or_default())
    }

    /// Deletes every slot of an account (plain and hashed) and returns the
    /// deleted slots with their values.
    pub(crate) fn wipe_storage(
        &mut self,
        address: &Address,
        hashed: &B256,
    ) -> StoreResult<Vec<(U256, U256)>> {
        let from = storage_key(address, &U256::ZERO);
        let to = storage_key(address, &U256::MAX);
        let mut removed = Vec::new();
        let mut extracted = self.storage.extract_from_if::<&[u8; 52], _>(&from..=&to, |_, _| true)?;
        for entry in &mut extracted {
            let (key, value) = entry?;
            let slot = U256::from_be_slice(&key.value()[20..]);
            removed.push((slot, decode_value(value.value(), "storage")?));
        }
        extracted.close()?;
        for (slot, _) in &removed {
            let key = hashed_storage_key(hashed, &keccak256(slot.to_be_bytes::<32>()));
            self.hashed_storage.remove(&key)?;
        }
        Ok(removed)
    }

    /// Stores a bytecode unless already present.
    pub(crate) fn put_code(&mut self, hash: &B256, code: &Bytecode) -> StoreResult<()> {
        if self.bytecodes.get(&hash.0)?.is_none() {
            self.bytecodes.insert(&hash.0, code.original_byte_slice())?;
        }
        Ok(())
    }
}

/// Changesets (old values by block), the history index (blocks by key) and
/// the hashed histories (old values by hashed key and block).
pub(crate) struct HistoryTables<'t> {
    pub(crate) account_changes: Table<'t, &'static [u8; 28], &'static [u8]>,
    pub(crate) storage_changes: Table<'t, &'static [u8; 60], &'static [u8]>,
    pub(crate) account_history: Table<'t, &'static [u8; 28], ()>,
    pub(crate) storage_history: Table<'t, &'static [u8; 60], ()>,
    hashed_account_history: Table<'t, &'static [u8; 40], &'static [u8]>,
    hashed_storage_history: Table<'t, &'static [u8; 72], &'static [u8]>,
}

impl<'t> HistoryTables<'t> {
    pub(crate) fn open(txn: &'t WriteTransaction) -> StoreResult<Self> {
        Ok(Self {
            account_changes: txn.open_table(ACCOUNT_CHANGES)?,
            storage_changes: txn.open_table(STORAGE_CHANGES)?,
            account_history: txn.open_table(ACCOUNT_HISTORY)?,
            storage_history: txn.open_table(STORAGE_HISTORY)?,
            hashed_account_history: txn.open_table(HASHED_ACCOUNT_HISTORY)?,
            hashed_storage_history: txn.open_table(HASHED_STORAGE_HISTORY)?,
        })
    }

    /// Records the account before `block` changed it (`hashed` is
    /// `keccak256(address)`).
    pub(crate) fn record_account(
        &mut self,
        block: u64,
        address: &Address,
        hashed: &B256,
        old: Option<&StoredAccount>,
    ) -> StoreResult<()> {
        let old = encode_opt_account(old);
        self.account_changes.insert(&account_change_key(block, address), old.as_slice())?;
        self.account_history.insert(&account_history_key(address, block), ())?;
        self.hashed_account_history.insert(&hashed_account_history_key(hashed, block), old.as_slice())?;
        Ok(())
    }

    /// Records a slot's value before `block` changed it.
    pub(crate) fn record_slot(
        &mut self,
        block: u64,
        address: &Address,
        hashed: &B256,
        slot: &U256,
        old: U256,
    ) -> StoreResult<()> {
        let old = encode_value(old);
        self.storage_changes.insert(&storage_change_key(block, address, slot), old.as_slice())?;
        self.storage_history.insert(&storage_history_key(address, slot, block), ())?;
        let hashed_slot = keccak256(slot.to_be_bytes::<32>());
        self.hashed_storage_history
            .insert(&hashed_storage_history_key(hashed, &hashed_slot, block), old.as_slice())?;
        Ok(())
    }

    /// Drops the index entries of an account change of `block` (unwind,
    /// pruning); the changeset entry is removed by the caller.
    pub(crate) fn forget_account(&mut self, block: u64, address: &Address, hashed: &B256) -> StoreResult<()> {
        self.account_history.remove(&account_history_key(address, block))?;
        self.hashed_account_history.remove(&hashed_account_history_key(hashed, block))?;
        Ok(())
    }

    /// Drops the index entries of a slot change of `block`.
    pub(crate) fn forget_slot(
        &mut self,
        block: u64,
        address: &Address,
        hashed: &B256,
        slot: &U256,
    ) -> StoreResult<()> {
        self.storage_history.remove(&storage_history_key(address, slot, block))?;
        let hashed_slot = keccak256(slot.to_be_bytes::<32>());
        self.hashed_storage_history.remove(&hashed_storage_history_key(hashed, &hashed_slot, block))?;
        Ok(())
    }
}
