//! [`TrieReader`] for the state after a past block ([`HistoricalState`]), so
//! that roots and EIP-1186 proofs work at any retained block. Only the head's
//! leaves and nodes are stored; a key's value after block N is the value
//! before its first change in a later block (the key-ordered history tables
//! find that change in one range scan), or its current value if it has not
//! changed since. A seek "first key `>=` k after block N" merges the current
//! table with the history index from k: the smaller candidate key wins if it
//! existed after N, otherwise the merge moves past it (it was created later,
//! or deleted by then).

use crate::{
    HistoricalState, Snapshot, StoreError, StoreResult,
    codec::{
        StoredAccount, block_suffix, decode_opt_account, decode_value, hashed_account_history_key,
        hashed_storage_history_key, hashed_storage_key, node_change_key, node_history_prefix,
        node_key_from_history,
    },
    trie_reader::storage_node_key,
};
use alloy_primitives::{Address, B256, U256};
use mosaic_trie::{
    AccountProof, HashedPostState, Nibbles, StoredNode, TrieAccount, TrieError, TrieReader, TrieResult,
    account_proof, state_root_incremental,
    store::{decode_path, encode_path},
};
use redb::{AccessGuard, ReadOnlyTable};
use std::{borrow::Borrow, ops::Bound};

/// The first entry with key `>= from` in the state after a past block.
/// `current(lower)` gives the first current entry from `lower`, `changed(lower)`
/// the first key from `lower` with history entries, and `before(key)` the
/// value of `key` before its first change after the block (`None` if it did
/// not change since; `Some(None)` if it was absent).
fn seek_as_of<K: Ord + Clone, V>(
    from: &K,
    mut current: impl FnMut(Bound<&K>) -> StoreResult<Option<(K, V)>>,
    mut changed: impl FnMut(Bound<&K>) -> StoreResult<Option<K>>,
    mut before: impl FnMut(&K) -> StoreResult<Option<Option<V>>>,
) -> StoreResult<Option<(K, V)>> {
    let mut cur = current(Bound::Included(from))?;
    let mut hist = changed(Bound::Included(from))?;
    loop {
        let candidate = match (&cur, &hist) {
            (None, None) => return Ok(None),
            (Some((key, _)), None) | (None, Some(key)) => key.clone(),
            (Some((c, _)), Some(h)) => c.min(h).clone(),
        };
        let in_current = cur.as_ref().is_some_and(|(key, _)| *key == candidate);
        let in_history = hist.as_ref().is_some_and(|key| *key == candidate);
        let old = if in_history { before(&candidate)? } else { None };
        let now = if in_current { cur.take().map(|(_, value)| value) } else { None };
        if let Some(value) = old.unwrap_or(now) {
            return Ok(Some((candidate, value)));
        }
        if in_current {
            cur = current(Bound::Excluded(&candidate))?;
        }
        if in_history {
            hist = changed(Bound::Excluded(&candidate))?;
        }
    }
}

/// The first entry of `table` within `bounds`.
fn first<'a, K, V, KR>(
    table: &ReadOnlyTable<K, V>,
    bounds: (Bound<KR>, Bound<KR>),
) -> StoreResult<Option<Entry<K, V>>>
where
    K: redb::Key + 'static,
    V: redb::Value + 'static,
    KR: Borrow<K::SelfType<'a>>,
{
    Ok(table.range::<KR>(bounds)?.next().transpose()?)
}

type Entry<K, V> = (AccessGuard<'static, K>, AccessGuard<'static, V>);

/// A lower bound on history entries of keys from `lower`: entry keys are
/// `key ++ block`, so "after `key`" is "after `key ++ u64::MAX`".
fn history_lower(lower: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    match lower {
        Bound::Excluded(mut key) => {
            key.extend_from_slice(&u64::MAX.to_be_bytes());
            Bound::Excluded(key)
        }
        other => other,
    }
}

/// `(from, to)` of the history entries of one key after `block`.
fn entries_after(prefix: &[u8], block: u64) -> Option<(Vec<u8>, Vec<u8>)> {
    let after = block.checked_add(1)?;
    Some(([prefix, &after.to_be_bytes()].concat(), [prefix, &u64::MAX.to_be_bytes()].concat()))
}

impl Snapshot {
    /// The value before the first change after `block` of a node key.
    fn node_before(&self, storage: bool, key: &[u8], block: u64) -> StoreResult<Option<Option<StoredNode>>> {
        let (history, changes, raw, table) = if storage {
            (&self.storage_trie_history, &self.storage_trie_changes, 32, "storage_trie_changes")
        } else {
            (&self.account_trie_history, &self.account_trie_changes, 0, "account_trie_changes")
        };
        let Some((from, to)) = entries_after(&node_history_prefix(key, raw), block) else { return Ok(None) };
        let bounds = (Bound::Included(from.as_slice()), Bound::Included(to.as_slice()));
        let Some((entry, _)) = first(history, bounds)? else { return Ok(None) };
        let changed = block_suffix(entry.value());
        let Some(old) = changes.get(node_change_key(changed, key).as_slice())? else {
            return Err(StoreError::corrupt(table, format!("no record of {key:?} at block {changed}")));
        };
        let old = old.value();
        Ok(Some(if old.is_empty() { None } else { Some(StoredNode::decode(old)?) }))
    }

    /// The first node key `>= from` (within `[scope, scope ++ 0xff)`) of the
    /// trie node table in the state after `block`.
    fn node_at(
        &self,
        storage: bool,
        scope: &[u8],
        from: Vec<u8>,
        block: u64,
    ) -> StoreResult<Option<(Vec<u8>, StoredNode)>> {
        let (nodes, history, raw, table) = if storage {
            (&self.storage_trie, &self.storage_trie_history, 32, "storage_trie_history")
        } else {
            (&self.account_trie, &self.account_trie_history, 0, "account_trie_history")
        };
        let end = [scope, &[0xff]].concat();
        let upper = if scope.is_empty() { Bound::Unbounded } else { Bound::Excluded(end.as_slice()) };
        let current = |lower: Bound<&Vec<u8>>| -> StoreResult<Option<(Vec<u8>, StoredNode)>> {
            let Some((key, value)) = first(nodes, (lower.map(Vec::as_slice), upper))? else {
                return Ok(None);
            };
            Ok(Some((key.value().to_vec(), StoredNode::decode(value.value())?)))
        };
        let changed = |lower: Bound<&Vec<u8>>| -> StoreResult<Option<Vec<u8>>> {
            let lower = history_lower(lower.map(|key| node_history_prefix(key, raw)));
            let Some((entry, _)) = first(history, (lower.as_ref().map(Vec::as_slice), upper))? else {
                return Ok(None);
            };
            let key = node_key_from_history(entry.value(), raw)
                .ok_or_else(|| StoreError::corrupt(table, "malformed entry"))?;
            Ok(Some(key))
        };
        let before = |key: &Vec<u8>| self.node_before(storage, key, block);
        seek_as_of(&from, current, changed, before)
    }

    /// The first account leaf `>= from` in the state after `block`.
    pub(crate) fn account_leaf_at(
        &self,
        from: B256,
        block: u64,
    ) -> StoreResult<Option<(B256, StoredAccount)>> {
        let current = |lower: Bound<&B256>| -> StoreResult<Option<(B256, StoredAccount)>> {
            let bounds = (lower.map(|key| &key.0), Bound::Unbounded);
            let Some((key, value)) = first(&self.hashed_accounts, bounds)? else { return Ok(None) };
            Ok(Some((B256::from(*key.value()), StoredAccount::decode(value.value(), "hashed_accounts")?)))
        };
        let changed = |lower: Bound<&B256>| -> StoreResult<Option<B256>> {
            let lower = match lower {
                Bound::Included(key) => Bound::Included(hashed_account_history_key(key, 0)),
                Bound::Excluded(key) => Bound::Excluded(hashed_account_history_key(key, u64::MAX)),
                Bound::Unbounded => Bound::Unbounded,
            };
            let Some((entry, _)) = first(&self.hashed_account_history, (lower.as_ref(), Bound::Unbounded))?
            else {
                return Ok(None);
            };
            Ok(Some(B256::from_slice(&entry.value()[..32])))
        };
        let before = |key: &B256| -> StoreResult<Option<Option<StoredAccount>>> {
            let Some(after) = block.checked_add(1) else { return Ok(None) };
            let from = hashed_account_history_key(key, after);
            let to = hashed_account_history_key(key, u64::MAX);
            let bounds = (Bound::Included(&from), Bound::Included(&to));
            let Some((_, old)) = first(&self.hashed_account_history, bounds)? else { return Ok(None) };
            decode_opt_account(old.value(), "hashed_account_history").map(Some)
        };
        seek_as_of(&from, current, changed, before)
    }

    /// The first non-zero slot `>= from` of one account in the state after
    /// `block`.
    pub(crate) fn storage_leaf_at(
        &self,
        hashed_address: &B256,
        from: B256,
        block: u64,
    ) -> StoreResult<Option<(B256, U256)>> {
        let last = hashed_storage_key(hashed_address, &B256::repeat_byte(0xff));
        let last_entry = hashed_storage_history_key(hashed_address, &B256::repeat_byte(0xff), u64::MAX);
        let current = |lower: Bound<&B256>| -> StoreResult<Option<(B256, U256)>> {
            let lower = lower.map(|slot| hashed_storage_key(hashed_address, slot));
            let Some((key, value)) = first(&self.hashed_storage, (lower.as_ref(), Bound::Included(&last)))?
            else {
                return Ok(None);
            };
            Ok(Some((B256::from_slice(&key.value()[32..]), decode_value(value.value(), "hashed_storage")?)))
        };
        let changed = |lower: Bound<&B256>| -> StoreResult<Option<B256>> {
            let lower = match lower {
                Bound::Included(slot) => Bound::Included(hashed_storage_history_key(hashed_address, slot, 0)),
                Bound::Excluded(slot) => {
                    Bound::Excluded(hashed_storage_history_key(hashed_address, slot, u64::MAX))
                }
                Bound::Unbounded => Bound::Unbounded,
            };
            let bounds = (lower.as_ref(), Bound::Included(&last_entry));
            let Some((entry, _)) = first(&self.hashed_storage_history, bounds)? else { return Ok(None) };
            Ok(Some(B256::from_slice(&entry.value()[32..64])))
        };
        let before = |slot: &B256| -> StoreResult<Option<Option<U256>>> {
            let Some(after) = block.checked_add(1) else { return Ok(None) };
            let from = hashed_storage_history_key(hashed_address, slot, after);
            let to = hashed_storage_history_key(hashed_address, slot, u64::MAX);
            let bounds = (Bound::Included(&from), Bound::Included(&to));
            let Some((_, old)) = first(&self.hashed_storage_history, bounds)? else { return Ok(None) };
            let old = decode_value(old.value(), "hashed_storage_history")?;
            Ok(Some((!old.is_zero()).then_some(old)))
        };
        seek_as_of(&from, current, changed, before)
    }
}

/// A store error as the trie crate's error (decoding errors stay as they are).
fn trie_error(error: StoreError) -> TrieError {
    match error {
        StoreError::Trie(error) => error,
        other => TrieError::store(other),
    }
}

impl HistoricalState {
    /// Whether this is the head's state (then the current tables are read
    /// directly).
    fn at_head(&self) -> bool {
        self.snapshot().head().is_some_and(|head| head.number == self.block())
    }

    /// The state root after this block, recomputed from the stored nodes as
    /// they were then (equal to the block header's state root).
    pub fn state_root(&self) -> StoreResult<B256> {
        Ok(state_root_incremental(self, &HashedPostState::new())?.0)
    }

    /// The EIP-1186 proof of `address` and its `slots` after this block.
    pub fn account_proof(&self, address: Address, slots: &[B256]) -> StoreResult<AccountProof> {
        Ok(account_proof(self, address, slots)?)
    }
}

impl TrieReader for HistoricalState {
    fn seek_account(&self, hashed_address: B256) -> TrieResult<Option<(B256, TrieAccount)>> {
        if self.at_head() {
            return self.snapshot().seek_account(hashed_address);
        }
        let found = self.snapshot().account_leaf_at(hashed_address, self.block()).map_err(trie_error)?;
        Ok(found.map(|(key, account)| (key, account.trie_account())))
    }

    fn seek_storage(&self, hashed_address: B256, hashed_slot: B256) -> TrieResult<Option<(B256, U256)>> {
        if self.at_head() {
            return self.snapshot().seek_storage(hashed_address, hashed_slot);
        }
        self.snapshot().storage_leaf_at(&hashed_address, hashed_slot, self.block()).map_err(trie_error)
    }

    fn seek_account_node(&self, path: &Nibbles) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        if self.at_head() {
            return self.snapshot().seek_account_node(path);
        }
        let found =
            self.snapshot().node_at(false, &[], encode_path(path), self.block()).map_err(trie_error)?;
        found.map(|(key, node)| Ok((decode_path(&key)?, node))).transpose()
    }

    fn seek_storage_node(
        &self,
        hashed_address: B256,
        path: &Nibbles,
    ) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        if self.at_head() {
            return self.snapshot().seek_storage_node(hashed_address, path);
        }
        let from = storage_node_key(&hashed_address, path);
        let found = self
            .snapshot()
            .node_at(true, hashed_address.as_slice(), from, self.block())
            .map_err(trie_error)?;
        found.map(|(key, node)| Ok((decode_path(&key[32..])?, node))).transpose()
    }
}
