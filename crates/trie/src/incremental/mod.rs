//! Incremental state root: the parent state's stored nodes and leaves (read
//! through a [`TrieReader`]) plus a [`HashedPostState`] give the new root and
//! the [`TrieUpdates`] to write back. Storage tries of the changed accounts
//! are updated in parallel (rayon), then the account trie, whose own subtrees
//! are also updated in parallel when many accounts changed. Only paths under
//! changed keys are read and re-hashed.

mod item;
#[cfg(test)]
mod proptests;
mod walk;

use alloy_primitives::{B256, U256};
use alloy_trie::{EMPTY_ROOT_HASH, Nibbles};
use rayon::prelude::*;

pub(crate) use walk::{Hint, Old, TrieSource, open};

use crate::{
    HashedPostState, HashedStorage, NodeUpdates, StorageTrieUpdates, StoredNode, TrieAccount, TrieError,
    TrieKind, TrieReader, TrieResult, TrieUpdates,
};
use walk::{Change, update};

/// The account trie of a [`TrieReader`].
pub(crate) struct AccountTrie<'a, R: ?Sized>(pub(crate) &'a R);

impl<R: TrieReader + ?Sized> TrieSource for AccountTrie<'_, R> {
    fn kind(&self) -> TrieKind {
        TrieKind::Account
    }

    fn seek_node(&self, path: &Nibbles) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        self.0.seek_account_node(path)
    }

    fn seek_leaf(&self, key: B256) -> TrieResult<Option<(B256, Vec<u8>)>> {
        Ok(self.0.seek_account(key)?.map(|(key, account)| (key, alloy_rlp::encode(account))))
    }
}

/// One storage trie of a [`TrieReader`].
pub(crate) struct StorageTrie<'a, R: ?Sized> {
    pub(crate) reader: &'a R,
    pub(crate) hashed_address: B256,
}

impl<R: TrieReader + ?Sized> TrieSource for StorageTrie<'_, R> {
    fn kind(&self) -> TrieKind {
        TrieKind::Storage(self.hashed_address)
    }

    fn seek_node(&self, path: &Nibbles) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        self.reader.seek_storage_node(self.hashed_address, path)
    }

    fn seek_leaf(&self, key: B256) -> TrieResult<Option<(B256, Vec<u8>)>> {
        Ok(self
            .reader
            .seek_storage(self.hashed_address, key)?
            .map(|(key, value)| (key, alloy_rlp::encode(value))))
    }
}

/// A parent state with nothing in it.
struct EmptyReader;

impl TrieReader for EmptyReader {
    fn seek_account(&self, _: B256) -> TrieResult<Option<(B256, TrieAccount)>> {
        Ok(None)
    }

    fn seek_storage(&self, _: B256, _: B256) -> TrieResult<Option<(B256, U256)>> {
        Ok(None)
    }

    fn seek_account_node(&self, _: &Nibbles) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        Ok(None)
    }

    fn seek_storage_node(&self, _: B256, _: &Nibbles) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        Ok(None)
    }
}

/// Updates one trie from its root; returns the new root and the node changes.
fn update_trie<S: TrieSource>(src: &S, hint: Hint, changes: &[Change]) -> TrieResult<(B256, NodeUpdates)> {
    let mut log = item::NodeLog::new();
    let mut buf = Vec::with_capacity(600);
    let item = update(src, &Nibbles::new(), hint, changes, &mut log, &mut buf)?;
    Ok((item::root_hash(item.as_ref(), &mut buf), item::into_updates(log)))
}

/// The new storage trie of the account `hashed_address` after `storage`,
/// read from `reader`'s parent state (nothing is read when `storage.wiped`).
pub fn storage_root_incremental<R: TrieReader + ?Sized>(
    reader: &R,
    hashed_address: B256,
    storage: &HashedStorage,
) -> TrieResult<StorageTrieUpdates> {
    let changes: Vec<Change> = storage
        .slots
        .iter()
        .map(|(slot, value)| Change {
            key: Nibbles::unpack(slot),
            value: (!value.is_zero()).then(|| alloy_rlp::encode(value)),
            existed: false,
        })
        .collect();
    let src = StorageTrie { reader, hashed_address };
    let hint = if storage.wiped { Hint::Empty } else { Hint::Unknown };
    let (root, nodes) = update_trie(&src, hint, &changes)?;
    Ok(StorageTrieUpdates { wiped: storage.wiped, slots: storage.slots.clone(), nodes, root })
}

/// One changed account: its new leaf (`None`: deleted), storage changes, and
/// whether it is known to exist in the parent state.
type AccountOutcome = (B256, Option<TrieAccount>, Option<StorageTrieUpdates>, bool);

/// Works out the new leaf and storage trie of one changed account.
fn account_outcome<R: TrieReader + ?Sized>(
    reader: &R,
    post_state: &HashedPostState,
    hashed_address: B256,
) -> TrieResult<Option<AccountOutcome>> {
    let change = post_state.accounts.get(&hashed_address);
    if let Some(None) = change {
        let wiped = StorageTrieUpdates { wiped: true, root: EMPTY_ROOT_HASH, ..Default::default() };
        return Ok(Some((hashed_address, None, Some(wiped), false)));
    }
    let storage = post_state.storages.get(&hashed_address).filter(|s| s.wiped || !s.slots.is_empty());
    if change.is_none() && storage.is_none() {
        return Ok(None);
    }
    let (fields, old_root, existed) = match change {
        Some(Some(account)) if storage.is_some() => (*account, EMPTY_ROOT_HASH, false),
        Some(Some(account)) => match reader.account_leaf(hashed_address)? {
            Some(old) => (*account, old.storage_root, true),
            None => (*account, EMPTY_ROOT_HASH, false),
        },
        _ => match reader.account_leaf(hashed_address)? {
            Some(old) => (old.into(), old.storage_root, true),
            None if storage.is_none_or(|s| s.slots.values().all(U256::is_zero)) => return Ok(None),
            None => return Err(TrieError::StorageWithoutAccount { hashed_address }),
        },
    };
    let storage = storage.map(|s| storage_root_incremental(reader, hashed_address, s)).transpose()?;
    let root = storage.as_ref().map_or(old_root, |s| s.root);
    Ok(Some((hashed_address, Some(fields.with_storage_root(root)), storage, existed)))
}

/// The new state root after `post_state`, read from `reader`'s parent state,
/// and the [`TrieUpdates`] that take the store to the new state.
///
/// Storage tries of changed accounts are updated in parallel on the rayon
/// pool, then the account trie. Storage changes of an account that is not in
/// `post_state.accounts` keep its other fields; they are an error
/// ([`TrieError::StorageWithoutAccount`]) when the account does not exist.
pub fn state_root_incremental<R: TrieReader + ?Sized>(
    reader: &R,
    post_state: &HashedPostState,
) -> TrieResult<(B256, TrieUpdates)> {
    let mut keys: Vec<B256> = post_state.accounts.keys().chain(post_state.storages.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let outcomes = keys
        .par_iter()
        .map(|hashed_address| account_outcome(reader, post_state, *hashed_address))
        .collect::<TrieResult<Vec<_>>>()?;

    // Outcomes come in key order: the maps are built in bulk, not by insertion.
    let mut changes = Vec::with_capacity(outcomes.len());
    let mut accounts = Vec::with_capacity(outcomes.len());
    let mut storages = Vec::new();
    for (hashed_address, account, storage, existed) in outcomes.into_iter().flatten() {
        let value = account.map(alloy_rlp::encode);
        changes.push(Change { key: Nibbles::unpack(hashed_address), value, existed });
        accounts.push((hashed_address, account));
        storages.extend(storage.map(|storage| (hashed_address, storage)));
    }
    let mut updates = TrieUpdates {
        accounts: accounts.into_iter().collect(),
        storages: storages.into_iter().collect(),
        ..TrieUpdates::default()
    };
    let (root, account_nodes) = update_trie(&AccountTrie(reader), Hint::Unknown, &changes)?;
    updates.account_nodes = account_nodes;
    Ok((root, updates))
}

/// Builds a state from nothing: the root of the state `post_state` creates
/// (every account `Some`, storage as given) and the [`TrieUpdates`] that
/// fill an empty store with its leaves and every node, e.g. at genesis.
pub fn build_state(post_state: &HashedPostState) -> TrieResult<(B256, TrieUpdates)> {
    state_root_incremental(&EmptyReader, post_state)
}
