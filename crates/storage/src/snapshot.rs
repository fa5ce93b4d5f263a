//! A consistent read view of the store (one redb read transaction with its
//! tables opened), and the state reads on it: latest values from the flat
//! tables, and values as of a past block from the history index and the
//! changesets. The view is `Send + Sync`; many threads may read through one.

use crate::{
    StoreError, StoreResult,
    code_cache::CodeCache,
    codec::{
        StoredAccount, account_change_key, account_history_key, block_suffix, decode_opt_account,
        decode_value, storage_change_key, storage_history_key, storage_key,
    },
    store::{BlockRef, read_head, read_history_start},
    tables::*,
};
use alloy_primitives::{Address, B256, Bytes, U256};
use mosaic_executor::Bytecode;
use redb::{ReadOnlyTable, ReadTransaction};
use std::sync::Arc;

/// The opened tables of a read transaction (each keeps the transaction
/// alive).
pub struct Snapshot {
    pub(crate) accounts: ReadOnlyTable<&'static [u8; 20], &'static [u8]>,
    pub(crate) storage: ReadOnlyTable<&'static [u8; 52], &'static [u8]>,
    pub(crate) bytecodes: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    pub(crate) hashed_accounts: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    pub(crate) hashed_storage: ReadOnlyTable<&'static [u8; 64], &'static [u8]>,
    pub(crate) account_trie: ReadOnlyTable<&'static [u8], &'static [u8]>,
    pub(crate) storage_trie: ReadOnlyTable<&'static [u8], &'static [u8]>,
    pub(crate) headers: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    pub(crate) block_numbers: ReadOnlyTable<&'static [u8; 32], u64>,
    pub(crate) canonical: ReadOnlyTable<u64, &'static [u8; 32]>,
    pub(crate) bodies: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    pub(crate) receipts: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    pub(crate) tx_lookup: ReadOnlyTable<&'static [u8; 32], (u64, u32)>,
    account_changes: ReadOnlyTable<&'static [u8; 28], &'static [u8]>,
    storage_changes: ReadOnlyTable<&'static [u8; 60], &'static [u8]>,
    account_history: ReadOnlyTable<&'static [u8; 28], ()>,
    storage_history: ReadOnlyTable<&'static [u8; 60], ()>,
    pub(crate) account_trie_changes: ReadOnlyTable<&'static [u8], &'static [u8]>,
    pub(crate) storage_trie_changes: ReadOnlyTable<&'static [u8], &'static [u8]>,
    pub(crate) hashed_account_history: ReadOnlyTable<&'static [u8; 40], &'static [u8]>,
    pub(crate) hashed_storage_history: ReadOnlyTable<&'static [u8; 72], &'static [u8]>,
    pub(crate) account_trie_history: ReadOnlyTable<&'static [u8], ()>,
    pub(crate) storage_trie_history: ReadOnlyTable<&'static [u8], ()>,
    head: Option<BlockRef>,
    history_start: u64,
    codes: Arc<CodeCache>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").field("head", &self.head).finish_non_exhaustive()
    }
}

impl Snapshot {
    pub(crate) fn new(txn: ReadTransaction, codes: Arc<CodeCache>) -> StoreResult<Self> {
        let meta = txn.open_table(META)?;
        let head = read_head(&meta)?;
        let history_start = read_history_start(&meta)?;
        Ok(Self {
            accounts: txn.open_table(ACCOUNTS)?,
            storage: txn.open_table(STORAGE)?,
            bytecodes: txn.open_table(BYTECODES)?,
            hashed_accounts: txn.open_table(HASHED_ACCOUNTS)?,
            hashed_storage: txn.open_table(HASHED_STORAGE)?,
            account_trie: txn.open_table(ACCOUNT_TRIE)?,
            storage_trie: txn.open_table(STORAGE_TRIE)?,
            headers: txn.open_table(HEADERS)?,
            block_numbers: txn.open_table(BLOCK_NUMBERS)?,
            canonical: txn.open_table(CANONICAL)?,
            bodies: txn.open_table(BODIES)?,
            receipts: txn.open_table(RECEIPTS)?,
            tx_lookup: txn.open_table(TX_LOOKUP)?,
            account_changes: txn.open_table(ACCOUNT_CHANGES)?,
            storage_changes: txn.open_table(STORAGE_CHANGES)?,
            account_history: txn.open_table(ACCOUNT_HISTORY)?,
            storage_history: txn.open_table(STORAGE_HISTORY)?,
            account_trie_changes: txn.open_table(ACCOUNT_TRIE_CHANGES)?,
            storage_trie_changes: txn.open_table(STORAGE_TRIE_CHANGES)?,
            hashed_account_history: txn.open_table(HASHED_ACCOUNT_HISTORY)?,
            hashed_storage_history: txn.open_table(HASHED_STORAGE_HISTORY)?,
            account_trie_history: txn.open_table(ACCOUNT_TRIE_HISTORY)?,
            storage_trie_history: txn.open_table(STORAGE_TRIE_HISTORY)?,
            head,
            history_start,
            codes,
        })
    }

    /// The head block of this view, `None` before genesis.
    pub const fn head(&self) -> Option<BlockRef> {
        self.head
    }

    /// The head block, or [`StoreError::Empty`].
    pub fn require_head(&self) -> StoreResult<BlockRef> {
        self.head.ok_or(StoreError::Empty)
    }

    /// The oldest block whose post-state can still be read (and unwound to).
    pub const fn oldest_readable_block(&self) -> u64 {
        self.history_start.saturating_sub(1)
    }

    /// Checks that the post-state of `block` is readable.
    pub fn check_readable(&self, block: u64) -> StoreResult<()> {
        let head = self.require_head()?;
        let oldest = self.oldest_readable_block();
        if block > head.number || block < oldest {
            return Err(StoreError::OutsideHistory { requested: block, oldest, head: head.number });
        }
        Ok(())
    }

    /// The latest account at `address`.
    pub fn account(&self, address: Address) -> StoreResult<Option<StoredAccount>> {
        match self.accounts.get(&address.0.0)? {
            Some(bytes) => StoredAccount::decode(bytes.value(), "accounts").map(Some),
            None => Ok(None),
        }
    }

    /// The latest value of a storage slot (zero if unset).
    pub fn storage(&self, address: Address, slot: U256) -> StoreResult<U256> {
        match self.storage.get(&storage_key(&address, &slot))? {
            Some(bytes) => decode_value(bytes.value(), "storage"),
            None => Ok(U256::ZERO),
        }
    }

    /// The account at `address` after block `block` (checked with
    /// [`Snapshot::check_readable`] by the caller).
    pub fn account_at(&self, address: Address, block: u64) -> StoreResult<Option<StoredAccount>> {
        let Some(after) = block.checked_add(1) else { return self.account(address) };
        let from = account_history_key(&address, after);
        let to = account_history_key(&address, u64::MAX);
        let first = self.account_history.range::<&[u8; 28]>(&from..=&to)?.next().transpose()?;
        match first {
            Some((key, _)) => {
                let changed = block_suffix(key.value());
                let Some(old) = self.account_changes.get(&account_change_key(changed, &address))? else {
                    return Err(StoreError::corrupt("account_changes", format!("{address} at {changed}")));
                };
                decode_opt_account(old.value(), "account_changes")
            }
            None => self.account(address),
        }
    }

    /// The value of a storage slot after block `block`.
    pub fn storage_at(&self, address: Address, slot: U256, block: u64) -> StoreResult<U256> {
        let Some(after) = block.checked_add(1) else { return self.storage(address, slot) };
        let from = storage_history_key(&address, &slot, after);
        let to = storage_history_key(&address, &slot, u64::MAX);
        let first = self.storage_history.range::<&[u8; 60]>(&from..=&to)?.next().transpose()?;
        match first {
            Some((key, _)) => {
                let changed = block_suffix(key.value());
                let Some(old) = self.storage_changes.get(&storage_change_key(changed, &address, &slot))?
                else {
                    return Err(StoreError::corrupt(
                        "storage_changes",
                        format!("{address} {slot} at {changed}"),
                    ));
                };
                decode_value(old.value(), "storage_changes")
            }
            None => self.storage(address, slot),
        }
    }

    /// Bytecode by hash.
    pub fn code(&self, hash: B256) -> StoreResult<Option<Bytecode>> {
        if hash == mosaic_trie::KECCAK_EMPTY {
            return Ok(Some(Bytecode::default()));
        }
        if let Some(code) = self.codes.get(&hash) {
            return Ok(Some(code));
        }
        let Some(bytes) = self.bytecodes.get(&hash.0)? else { return Ok(None) };
        let raw = Bytes::copy_from_slice(bytes.value());
        let code = Bytecode::new_raw_checked(raw.clone()).unwrap_or_else(|_| Bytecode::new_legacy(raw));
        self.codes.insert(hash, &code);
        Ok(Some(code))
    }

    /// The canonical block hash at `number`.
    pub fn block_hash(&self, number: u64) -> StoreResult<Option<B256>> {
        Ok(self.canonical.get(number)?.map(|hash| B256::from(*hash.value())))
    }
}

/// Folds every entry of a table into a running hash.
fn fold_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    table: &ReadOnlyTable<K, V>,
    acc: &mut Vec<u8>,
) -> StoreResult<()> {
    use redb::ReadableTable;
    for entry in table.iter()? {
        let (key, value) = entry?;
        let (key, value) = (key.value(), value.value());
        let (key, value) = (K::as_bytes(&key), V::as_bytes(&value));
        let mut item = Vec::with_capacity(64 + key.as_ref().len() + value.as_ref().len());
        item.extend_from_slice(acc);
        item.extend_from_slice(&(key.as_ref().len() as u64).to_be_bytes());
        item.extend_from_slice(key.as_ref());
        item.extend_from_slice(value.as_ref());
        *acc = alloy_primitives::keccak256(&item).to_vec();
    }
    Ok(())
}

impl Snapshot {
    /// A hash of the current state: plain and hashed accounts and storage and
    /// both trie node tables (not code, history or blocks). Two stores
    /// holding the same state, however they got there, have the same
    /// fingerprint. Reads every entry; meant for tests and diagnostics.
    pub fn state_fingerprint(&self) -> StoreResult<B256> {
        let mut acc = Vec::new();
        fold_table(&self.accounts, &mut acc)?;
        fold_table(&self.storage, &mut acc)?;
        fold_table(&self.hashed_accounts, &mut acc)?;
        fold_table(&self.hashed_storage, &mut acc)?;
        acc.push(1);
        fold_table(&self.account_trie, &mut acc)?;
        acc.push(2);
        fold_table(&self.storage_trie, &mut acc)?;
        Ok(alloy_primitives::keccak256(&acc))
    }

    /// Number of entries of every table, by table name.
    pub fn entry_counts(&self) -> StoreResult<Vec<(&'static str, u64)>> {
        use redb::ReadableTableMetadata;
        Ok(vec![
            ("accounts", self.accounts.len()?),
            ("storage", self.storage.len()?),
            ("bytecodes", self.bytecodes.len()?),
            ("hashed_accounts", self.hashed_accounts.len()?),
            ("hashed_storage", self.hashed_storage.len()?),
            ("account_trie", self.account_trie.len()?),
            ("storage_trie", self.storage_trie.len()?),
            ("headers", self.headers.len()?),
            ("canonical", self.canonical.len()?),
            ("tx_lookup", self.tx_lookup.len()?),
            ("account_changes", self.account_changes.len()?),
            ("storage_changes", self.storage_changes.len()?),
            ("account_history", self.account_history.len()?),
            ("storage_history", self.storage_history.len()?),
            ("account_trie_changes", self.account_trie_changes.len()?),
            ("storage_trie_changes", self.storage_trie_changes.len()?),
            ("hashed_account_history", self.hashed_account_history.len()?),
            ("hashed_storage_history", self.hashed_storage_history.len()?),
            ("account_trie_history", self.account_trie_history.len()?),
            ("storage_trie_history", self.storage_trie_history.len()?),
        ])
    }
}
