//! Writing trie nodes: applying a block's [`TrieUpdates`] node changes while
//! recording each node's previous bytes under the block (so unwind restores
//! them exactly, without recomputing any root), and reverting a block from
//! those records.

use crate::{StoreResult, tables::*, trie_reader::storage_node_key};
use alloy_primitives::B256;
use mosaic_trie::{NodeUpdates, TrieUpdates, store::encode_path};
use redb::{ReadableTable, Table, WriteTransaction};

type BytesTable<'t> = Table<'t, &'static [u8], &'static [u8]>;

/// Account and storage trie nodes, and their per-block old values.
pub(crate) struct TrieTables<'t> {
    account_trie: BytesTable<'t>,
    storage_trie: BytesTable<'t>,
    account_changes: BytesTable<'t>,
    storage_changes: BytesTable<'t>,
}

/// `block ++ key`.
fn change_key(block: u64, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + key.len());
    out.extend_from_slice(&block.to_be_bytes());
    out.extend_from_slice(key);
    out
}

/// Puts (or deletes) `key` in `nodes`, saving the bytes it replaces under
/// `block` in `changes`. With `keep_first`, a record the block already made
/// (when a wipe deleted the node earlier in the block) is kept.
fn put_node(
    nodes: &mut BytesTable<'_>,
    changes: &mut BytesTable<'_>,
    block: Option<u64>,
    keep_first: bool,
    key: &[u8],
    value: Option<&[u8]>,
) -> StoreResult<()> {
    let old = match value {
        Some(value) => nodes.insert(key, value)?.map(|old| old.value().to_vec()),
        None => nodes.remove(key)?.map(|old| old.value().to_vec()),
    };
    if let Some(block) = block {
        let record = change_key(block, key);
        if !keep_first || changes.get(record.as_slice())?.is_none() {
            changes.insert(record.as_slice(), old.as_deref().unwrap_or_default())?;
        }
    }
    Ok(())
}

impl<'t> TrieTables<'t> {
    pub(crate) fn open(txn: &'t WriteTransaction) -> StoreResult<Self> {
        Ok(Self {
            account_trie: txn.open_table(ACCOUNT_TRIE)?,
            storage_trie: txn.open_table(STORAGE_TRIE)?,
            account_changes: txn.open_table(ACCOUNT_TRIE_CHANGES)?,
            storage_changes: txn.open_table(STORAGE_TRIE_CHANGES)?,
        })
    }

    /// Applies the node changes of `updates` (leaves are written by the
    /// state writer). With `block`, old node bytes are recorded for unwind.
    pub(crate) fn apply(&mut self, block: Option<u64>, updates: &TrieUpdates) -> StoreResult<()> {
        self.apply_account_nodes(block, &updates.account_nodes)?;
        for (hashed, storage) in &updates.storages {
            if storage.wiped {
                self.wipe_storage_trie(block, hashed)?;
            }
            self.apply_storage_nodes(block, storage.wiped, hashed, &storage.nodes)?;
        }
        Ok(())
    }

    pub(crate) fn apply_account_nodes(&mut self, block: Option<u64>, nodes: &NodeUpdates) -> StoreResult<()> {
        for (path, node) in nodes {
            let value = node.as_ref().map(|node| node.encode());
            put_node(
                &mut self.account_trie,
                &mut self.account_changes,
                block,
                false,
                &encode_path(path),
                value.as_deref(),
            )?;
        }
        Ok(())
    }

    pub(crate) fn apply_storage_nodes(
        &mut self,
        block: Option<u64>,
        wiped: bool,
        hashed: &B256,
        nodes: &NodeUpdates,
    ) -> StoreResult<()> {
        for (path, node) in nodes {
            let value = node.as_ref().map(|node| node.encode());
            let key = storage_node_key(hashed, path);
            put_node(
                &mut self.storage_trie,
                &mut self.storage_changes,
                block,
                wiped,
                &key,
                value.as_deref(),
            )?;
        }
        Ok(())
    }

    /// Deletes every node of one storage trie, recording them under `block`.
    fn wipe_storage_trie(&mut self, block: Option<u64>, hashed: &B256) -> StoreResult<()> {
        let from = hashed.to_vec();
        // Path bytes are nibbles (< 0x10), so every key of this trie sorts below `hashed ++ 0xff`.
        let mut to = from.clone();
        to.push(0xff);
        let mut removed = Vec::new();
        let mut extracted = self.storage_trie.extract_from_if(from.as_slice()..to.as_slice(), |_, _| true)?;
        for entry in &mut extracted {
            let (key, value) = entry?;
            removed.push((key.value().to_vec(), value.value().to_vec()));
        }
        extracted.close()?;
        if let Some(block) = block {
            // The first change of this trie in the block: nothing of it is recorded yet.
            for (key, old) in removed {
                self.storage_changes.insert(change_key(block, &key).as_slice(), old.as_slice())?;
            }
        }
        Ok(())
    }

    /// Restores every node `block` changed to its bytes before the block and
    /// drops the block's records.
    pub(crate) fn revert(&mut self, block: u64) -> StoreResult<()> {
        for (changes, nodes) in [
            (&mut self.account_changes, &mut self.account_trie),
            (&mut self.storage_changes, &mut self.storage_trie),
        ] {
            let from = block.to_be_bytes();
            let records = match block.checked_add(1) {
                Some(next) => {
                    let to = next.to_be_bytes();
                    take_range(changes, Some(from.as_slice()), Some(to.as_slice()))?
                }
                None => take_range(changes, Some(from.as_slice()), None)?,
            };
            for (record, old) in records {
                let key = &record[8..];
                if old.is_empty() {
                    nodes.remove(key)?;
                } else {
                    nodes.insert(key, old.as_slice())?;
                }
            }
        }
        Ok(())
    }

    /// Drops the records of blocks before `before` (history pruning).
    pub(crate) fn forget_before(&mut self, before: u64) -> StoreResult<()> {
        let to = before.to_be_bytes();
        take_range(&mut self.account_changes, None, Some(to.as_slice()))?;
        take_range(&mut self.storage_changes, None, Some(to.as_slice()))?;
        Ok(())
    }
}

/// Removes and returns the entries with `from <= key < to`.
fn take_range(
    table: &mut BytesTable<'_>,
    from: Option<&[u8]>,
    to: Option<&[u8]>,
) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
    use std::ops::Bound;
    let lower = from.map_or(Bound::Unbounded, Bound::Included);
    let upper = to.map_or(Bound::Unbounded, Bound::Excluded);
    let mut out = Vec::new();
    let mut extracted = table.extract_from_if::<&[u8], _>((lower, upper), |_, _| true)?;
    for entry in &mut extracted {
        let (key, value) = entry?;
        out.push((key.value().to_vec(), value.value().to_vec()));
    }
    extracted.close()?;
    Ok(out)
}
