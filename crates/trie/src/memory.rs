//! An in-memory [`TrieReader`]: the four tables of [`crate::store`] as
//! `BTreeMap`s. It is the model the property tests check the incremental
//! root against, and the store behind [`crate::bench`]; a database-backed
//! store behaves the same way, table for table.

use std::{collections::BTreeMap, ops::Bound};

use alloy_primitives::{B256, U256};
use alloy_trie::Nibbles;

use crate::{HashedPostState, StoredNode, TrieAccount, TrieReader, TrieResult, TrieUpdates, build_state};

/// A whole state trie held in memory: hashed leaves and every stored node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemoryTrieStore {
    /// Account leaves by hashed address.
    pub accounts: BTreeMap<B256, TrieAccount>,
    /// Non-zero storage leaves by hashed address, then hashed slot.
    pub storages: BTreeMap<B256, BTreeMap<B256, U256>>,
    /// Stored nodes of the account trie by path.
    pub account_nodes: BTreeMap<Nibbles, StoredNode>,
    /// Stored nodes of each storage trie by hashed address, then path.
    pub storage_nodes: BTreeMap<B256, BTreeMap<Nibbles, StoredNode>>,
}

impl MemoryTrieStore {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding the state `post_state` creates from nothing (see
    /// [`build_state`]), and its root.
    pub fn from_post_state(post_state: &HashedPostState) -> TrieResult<(B256, Self)> {
        let (root, updates) = build_state(post_state)?;
        let mut store = Self::new();
        store.apply(&updates);
        Ok((root, store))
    }

    /// Writes `updates` (as the [`TrieUpdates`] docs describe), taking
    /// the store from the parent state to the new one.
    pub fn apply(&mut self, updates: &TrieUpdates) {
        for (hashed_address, account) in &updates.accounts {
            match account {
                Some(account) => self.accounts.insert(*hashed_address, *account),
                None => self.accounts.remove(hashed_address),
            };
        }
        for (hashed_address, storage) in &updates.storages {
            if storage.wiped {
                self.storages.remove(hashed_address);
                self.storage_nodes.remove(hashed_address);
            }
            let leaves = self.storages.entry(*hashed_address).or_default();
            for (slot, value) in &storage.slots {
                if value.is_zero() {
                    leaves.remove(slot);
                } else {
                    leaves.insert(*slot, *value);
                }
            }
            if leaves.is_empty() {
                self.storages.remove(hashed_address);
            }
            let nodes = self.storage_nodes.entry(*hashed_address).or_default();
            apply_nodes(nodes, &storage.nodes);
            if nodes.is_empty() {
                self.storage_nodes.remove(hashed_address);
            }
        }
        apply_nodes(&mut self.account_nodes, &updates.account_nodes);
    }
}

fn apply_nodes(nodes: &mut BTreeMap<Nibbles, StoredNode>, updates: &crate::NodeUpdates) {
    for (path, node) in updates {
        match node {
            Some(node) => nodes.insert(*path, node.clone()),
            None => nodes.remove(path),
        };
    }
}

/// First entry of `map` with key `>= key`.
fn seek<K: Ord + Copy, V: Clone>(map: &BTreeMap<K, V>, key: &K) -> Option<(K, V)> {
    map.range((Bound::Included(key), Bound::Unbounded)).next().map(|(k, v)| (*k, v.clone()))
}

impl TrieReader for MemoryTrieStore {
    fn seek_account(&self, hashed_address: B256) -> TrieResult<Option<(B256, TrieAccount)>> {
        Ok(seek(&self.accounts, &hashed_address))
    }

    fn seek_storage(&self, hashed_address: B256, hashed_slot: B256) -> TrieResult<Option<(B256, U256)>> {
        Ok(self.storages.get(&hashed_address).and_then(|slots| seek(slots, &hashed_slot)))
    }

    fn seek_account_node(&self, path: &Nibbles) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        Ok(seek(&self.account_nodes, path))
    }

    fn seek_storage_node(
        &self,
        hashed_address: B256,
        path: &Nibbles,
    ) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        Ok(self.storage_nodes.get(&hashed_address).and_then(|nodes| seek(nodes, path)))
    }
}
