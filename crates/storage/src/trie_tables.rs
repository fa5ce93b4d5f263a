//! Writing trie nodes: applying a block's [`TrieUpdates`] node changes while
//! recording each node's previous bytes under the block (so unwind restores
//! them exactly, without recomputing any root) and the block under the node's
//! key (so the node as of a past block is one range scan), reverting a block
//! from those records, and dropping the records of pruned blocks.

use crate::{
    StoreResult,
    codec::{block_suffix, node_change_key as change_key, node_history_key},
    tables::*,
    trie_reader::storage_node_key,
};
use alloy_primitives::B256;
use mosaic_trie::{NodeUpdates, TrieUpdates, store::encode_path};
use redb::{ReadableTable, Table, WriteTransaction};

type BytesTable<'t> = Table<'t, &'static [u8], &'static [u8]>;

/// One trie node table with its per-block old values and key-ordered index.
struct NodeTables<'t> {
    nodes: BytesTable<'t>,
    changes: BytesTable<'t>,
    history: Table<'t, &'static [u8], ()>,
    /// Bytes in front of the nibble path of a key (32 for storage tries).
    raw: usize,
}

impl NodeTables<'_> {
    /// Puts (or deletes) `key`, saving the bytes it replaces under `block`.
    /// With `keep_first`, a record the block already made (when a wipe
    /// deleted the node earlier in the block) is kept.
    fn put(
        &mut self,
        block: Option<u64>,
        keep_first: bool,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> StoreResult<()> {
        let old = match value {
            Some(value) => self.nodes.insert(key, value)?.map(|old| old.value().to_vec()),
            None => self.nodes.remove(key)?.map(|old| old.value().to_vec()),
        };
        if let Some(block) = block {
            let record = change_key(block, key);
            if !keep_first || self.changes.get(record.as_slice())?.is_none() {
                self.record(block, key, old.as_deref().unwrap_or_default())?;
            }
        }
        Ok(())
    }

    /// Records `old` as the bytes of `key` before `block`.
    fn record(&mut self, block: u64, key: &[u8], old: &[u8]) -> StoreResult<()> {
        self.changes.insert(change_key(block, key).as_slice(), old)?;
        self.history.insert(node_history_key(key, self.raw, block).as_slice(), ())?;
        Ok(())
    }

    /// Restores every node `block` changed and drops the block's records.
    fn revert(&mut self, block: u64) -> StoreResult<()> {
        let from = block.to_be_bytes();
        let records = match block.checked_add(1) {
            Some(next) => {
                take_range(&mut self.changes, Some(from.as_slice()), Some(next.to_be_bytes().as_slice()))?
            }
            None => take_range(&mut self.changes, Some(from.as_slice()), None)?,
        };
        for (record, old) in records {
            let key = &record[8..];
            if old.is_empty() {
                self.nodes.remove(key)?;
            } else {
                self.nodes.insert(key, old.as_slice())?;
            }
            self.history.remove(node_history_key(key, self.raw, block).as_slice())?;
        }
        Ok(())
    }

    /// Drops the records of blocks before `before`.
    fn forget_before(&mut self, before: u64) -> StoreResult<()> {
        let to = before.to_be_bytes();
        for (record, _) in take_range(&mut self.changes, None, Some(to.as_slice()))? {
            let block = block_suffix(&record[..8]);
            self.history.remove(node_history_key(&record[8..], self.raw, block).as_slice())?;
        }
        Ok(())
    }
}

/// Account and storage trie nodes, and their history.
pub(crate) struct TrieTables<'t> {
    account: NodeTables<'t>,
    storage: NodeTables<'t>,
}

impl<'t> TrieTables<'t> {
    pub(crate) fn open(txn: &'t WriteTransaction) -> StoreResult<Self> {
        Ok(Self {
            account: NodeTables {
                nodes: txn.open_table(ACCOUNT_TRIE)?,
                changes: txn.open_table(ACCOUNT_TRIE_CHANGES)?,
                history: txn.open_table(ACCOUNT_TRIE_HISTORY)?,
                raw: 0,
            },
            storage: NodeTables {
                nodes: txn.open_table(STORAGE_TRIE)?,
                changes: txn.open_table(STORAGE_TRIE_CHANGES)?,
                history: txn.open_table(STORAGE_TRIE_HISTORY)?,
                raw: 32,
            },
        })
    }

    /// Applies the node changes of `updates` (leaves are written by the
    /// state writer). With `block`, old node bytes are recorded for unwind
    /// and history.
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
            self.account.put(block, false, &encode_path(path), value.as_deref())?;
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
            self.storage.put(block, wiped, &storage_node_key(hashed, path), value.as_deref())?;
        }
        Ok(())
    }

    /// Deletes every node of one storage trie, recording them under `block`.
    fn wipe_storage_trie(&mut self, block: Option<u64>, hashed: &B256) -> StoreResult<()> {
        let from = hashed.to_vec();
        // Path bytes are nibbles (< 0x10), so every key of this trie sorts below `hashed ++ 0xff`.
        let mut to = from.clone();
        to.push(0xff);
        let removed = take_range(&mut self.storage.nodes, Some(from.as_slice()), Some(to.as_slice()))?;
        if let Some(block) = block {
            // The first change of this trie in the block: nothing of it is recorded yet.
            for (key, old) in removed {
                self.storage.record(block, &key, &old)?;
            }
        }
        Ok(())
    }

    /// Restores every node `block` changed to its bytes before the block and
    /// drops the block's records.
    pub(crate) fn revert(&mut self, block: u64) -> StoreResult<()> {
        self.account.revert(block)?;
        self.storage.revert(block)
    }

    /// Drops the records of blocks before `before` (history pruning).
    pub(crate) fn forget_before(&mut self, before: u64) -> StoreResult<()> {
        self.account.forget_before(before)?;
        self.storage.forget_before(before)
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
