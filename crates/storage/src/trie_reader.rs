//! [`TrieReader`] over a [`Snapshot`]: the parent state the trie crate's
//! incremental root and proofs read. Every method is one range scan ("first
//! key `>=` k") on the hashed-state or trie-node tables of the snapshot, which
//! is `Send + Sync`, so storage roots can be computed from several threads.

use crate::{
    LatestState, Snapshot, StoreError, StoreResult,
    codec::{StoredAccount, decode_value, hashed_storage_key},
};
use alloy_primitives::{B256, U256, keccak256};
use mosaic_executor::StateDiff;
use mosaic_trie::{
    Account, HashedPostState, HashedStorage, Nibbles, StoredNode, TrieAccount, TrieError, TrieReader,
    TrieResult, TrieUpdates, state_root_incremental,
    store::{decode_path, encode_path},
};
use rayon::prelude::*;

/// The trie crate's input for a block's diff: every changed account (`None`
/// when destroyed) and the storage changes of the accounts that still exist.
/// Addresses and slots are hashed on the rayon pool.
pub fn hashed_post_state(diff: &StateDiff) -> HashedPostState {
    let entries: Vec<(B256, Option<Account>, Option<HashedStorage>)> = diff
        .accounts
        .par_iter()
        .map(|(address, change)| {
            let account = change.info.map(|fields| Account {
                nonce: fields.nonce,
                balance: fields.balance,
                code_hash: fields.code_hash,
            });
            let storage =
                (account.is_some() && (change.storage_wiped || !change.storage.is_empty())).then(|| {
                    let slots = change
                        .storage
                        .iter()
                        .map(|(slot, value)| (keccak256(slot.to_be_bytes::<32>()), *value));
                    HashedStorage { wiped: change.storage_wiped, slots: slots.collect() }
                });
            (keccak256(address), account, storage)
        })
        .collect();
    let mut post = HashedPostState::new();
    post.accounts = entries.iter().map(|(hashed, account, _)| (*hashed, *account)).collect();
    post.storages = entries.into_iter().filter_map(|(hashed, _, storage)| Some((hashed, storage?))).collect();
    post
}

impl LatestState {
    /// The state root after applying `diff` to this state, and the trie
    /// updates to pass to [`crate::Store::commit_block`] with it.
    pub fn trie_updates(&self, diff: &StateDiff) -> StoreResult<(B256, TrieUpdates)> {
        Ok(state_root_incremental(self, &hashed_post_state(diff))?)
    }

    /// The state root of this state, from its stored trie nodes.
    pub fn state_root(&self) -> StoreResult<B256> {
        Ok(state_root_incremental(self, &HashedPostState::new())?.0)
    }
}

/// The key of a storage trie node: `hashed address ++ path`.
pub(crate) fn storage_node_key(hashed_address: &B256, path: &Nibbles) -> Vec<u8> {
    let mut key = Vec::with_capacity(32 + path.len());
    key.extend_from_slice(hashed_address.as_slice());
    key.extend_from_slice(&encode_path(path));
    key
}

fn store_error(error: StoreError) -> TrieError {
    TrieError::store(error)
}

fn redb_error(error: redb::StorageError) -> TrieError {
    store_error(error.into())
}

impl TrieReader for Snapshot {
    fn seek_account(&self, hashed_address: B256) -> TrieResult<Option<(B256, TrieAccount)>> {
        let mut range = self.hashed_accounts.range::<&[u8; 32]>(&hashed_address.0..).map_err(redb_error)?;
        let Some(entry) = range.next() else { return Ok(None) };
        let (key, value) = entry.map_err(redb_error)?;
        let account = StoredAccount::decode(value.value(), "hashed_accounts").map_err(store_error)?;
        Ok(Some((B256::from(*key.value()), account.trie_account())))
    }

    fn account_leaf(&self, hashed_address: B256) -> TrieResult<Option<TrieAccount>> {
        let Some(value) = self.hashed_accounts.get(&hashed_address.0).map_err(redb_error)? else {
            return Ok(None);
        };
        let account = StoredAccount::decode(value.value(), "hashed_accounts").map_err(store_error)?;
        Ok(Some(account.trie_account()))
    }

    fn seek_storage(&self, hashed_address: B256, hashed_slot: B256) -> TrieResult<Option<(B256, U256)>> {
        let from = hashed_storage_key(&hashed_address, &hashed_slot);
        let to = hashed_storage_key(&hashed_address, &B256::repeat_byte(0xff));
        let mut range = self.hashed_storage.range::<&[u8; 64]>(&from..=&to).map_err(redb_error)?;
        let Some(entry) = range.next() else { return Ok(None) };
        let (key, value) = entry.map_err(redb_error)?;
        let value = decode_value(value.value(), "hashed_storage").map_err(store_error)?;
        Ok(Some((B256::from_slice(&key.value()[32..]), value)))
    }

    fn seek_account_node(&self, path: &Nibbles) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        let from = encode_path(path);
        let mut range = self.account_trie.range(from.as_slice()..).map_err(redb_error)?;
        let Some(entry) = range.next() else { return Ok(None) };
        let (key, value) = entry.map_err(redb_error)?;
        Ok(Some((decode_path(key.value())?, StoredNode::decode(value.value())?)))
    }

    fn seek_storage_node(
        &self,
        hashed_address: B256,
        path: &Nibbles,
    ) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        let from = storage_node_key(&hashed_address, path);
        let mut range = self.storage_trie.range(from.as_slice()..).map_err(redb_error)?;
        let Some(entry) = range.next() else { return Ok(None) };
        let (key, value) = entry.map_err(redb_error)?;
        let Some(path) = key.value().strip_prefix(hashed_address.as_slice()) else { return Ok(None) };
        Ok(Some((decode_path(path)?, StoredNode::decode(value.value())?)))
    }
}

impl TrieReader for LatestState {
    fn seek_account(&self, hashed_address: B256) -> TrieResult<Option<(B256, TrieAccount)>> {
        self.snapshot().seek_account(hashed_address)
    }
    fn account_leaf(&self, hashed_address: B256) -> TrieResult<Option<TrieAccount>> {
        self.snapshot().account_leaf(hashed_address)
    }
    fn seek_storage(&self, hashed_address: B256, hashed_slot: B256) -> TrieResult<Option<(B256, U256)>> {
        self.snapshot().seek_storage(hashed_address, hashed_slot)
    }
    fn seek_account_node(&self, path: &Nibbles) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        self.snapshot().seek_account_node(path)
    }
    fn seek_storage_node(
        &self,
        hashed_address: B256,
        path: &Nibbles,
    ) -> TrieResult<Option<(Nibbles, StoredNode)>> {
        self.snapshot().seek_storage_node(hashed_address, path)
    }
}
