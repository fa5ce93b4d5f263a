//! The output of an incremental root besides the root itself: everything a
//! store must write so that its tables (see [`crate::store`]) describe the new
//! state, the account trie's and each changed storage trie's.

use std::collections::BTreeMap;

use alloy_primitives::{B256, U256};
use alloy_trie::Nibbles;

use crate::{StoredNode, TrieAccount};

/// Writes (`Some`) and deletions (`None`) of stored nodes, by nibble path.
pub type NodeUpdates = BTreeMap<Nibbles, Option<StoredNode>>;

/// Changes to one account's storage trie and storage leaves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageTrieUpdates {
    /// Delete every stored leaf and node of this trie before applying the
    /// rest (the account was deleted, or its storage wiped).
    pub wiped: bool,
    /// New storage leaves by hashed slot; zero deletes.
    pub slots: BTreeMap<B256, U256>,
    /// Node writes and deletions of this storage trie.
    pub nodes: NodeUpdates,
    /// The new storage root.
    pub root: B256,
}

/// Everything an incremental root computation changed, ready to apply to a
/// store: leaves and nodes of the account trie and of each changed storage
/// trie.
///
/// Apply it in the same write transaction as the block's other data:
///
/// 1. for each entry of `accounts`: put the hashed account leaf (`Some`) or
///    delete it (`None`);
/// 2. for each entry of `storages` with `wiped`: delete every storage leaf and
///    every storage trie node of that hashed address; then, for every entry,
///    put the non-zero `slots` and delete the zero ones, and put (`Some`) or
///    delete (`None`) each of `nodes`;
/// 3. put or delete each of `account_nodes`.
///
/// [`MemoryTrieStore::apply`](crate::MemoryTrieStore::apply) is the
/// reference.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrieUpdates {
    /// New account leaves by hashed address, storage roots included; `None`
    /// deletes the account.
    pub accounts: BTreeMap<B256, Option<TrieAccount>>,
    /// Node writes and deletions of the account trie.
    pub account_nodes: NodeUpdates,
    /// Changes of each storage trie that changed, by hashed address.
    pub storages: BTreeMap<B256, StorageTrieUpdates>,
}

impl TrieUpdates {
    /// The new storage root of `hashed_address`, if its storage changed.
    pub fn storage_root(&self, hashed_address: &B256) -> Option<B256> {
        self.storages.get(hashed_address).map(|storage| storage.root)
    }

    /// Number of node writes and deletions in all tries.
    pub fn node_count(&self) -> usize {
        self.account_nodes.len() + self.storages.values().map(|storage| storage.nodes.len()).sum::<usize>()
    }
}
