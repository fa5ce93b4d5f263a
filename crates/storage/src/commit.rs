//! Committing a block: its state diff (flat and hashed state, changesets and
//! history index), its trie node updates, its block data and the new head,
//! all in one redb write transaction. Any error before the final commit drops
//! the transaction, which leaves the store exactly as it was.

use crate::{
    Store, StoreError, StoreResult,
    blocks::write_block,
    codec::StoredAccount,
    state_tables::{HistoryTables, StateTables},
    store::{BlockRef, read_head, write_head},
    tables::META,
    trie_tables::TrieTables,
};
use alloy_consensus::{Block, ReceiptEnvelope, TxEnvelope};
use alloy_primitives::{Address, B256, U256, keccak256};
use mosaic_executor::{AccountDiff, StateDiff};
use mosaic_trie::{EMPTY_ROOT_HASH, TrieUpdates};
use std::collections::{BTreeMap, BTreeSet};

/// Everything stored for one block.
#[derive(Debug, Clone, Copy)]
pub struct BlockCommit<'a> {
    /// The block (header and body). Its number must be head + 1 and its
    /// parent hash the head's hash.
    pub block: &'a Block<TxEnvelope>,
    /// Receipts of the block's transactions, in order.
    pub receipts: &'a [ReceiptEnvelope],
    /// The block's state change, as the executor produced it.
    pub diff: &'a StateDiff,
    /// The trie crate's output for this diff against the head state: node
    /// changes and the new account leaves (whose storage roots the store
    /// keeps with each account).
    pub trie: &'a TrieUpdates,
}

impl Store {
    /// Commits one block atomically (see [`BlockCommit`]); returns the new
    /// head.
    pub fn commit_block(&self, commit: BlockCommit<'_>) -> StoreResult<BlockRef> {
        let header = &commit.block.header;
        let txn = self.begin_write()?;
        let head = read_head(&txn.open_table(META)?)?.ok_or(StoreError::Empty)?;
        if header.number != head.number + 1 || header.parent_hash != head.hash {
            return Err(StoreError::NotNextBlock {
                number: header.number,
                parent_hash: header.parent_hash,
                head_number: head.number,
                head_hash: head.hash,
            });
        }
        let number = header.number;
        {
            let mut state = StateTables::open(&txn)?;
            let mut history = HistoryTables::open(&txn)?;
            apply_diff(&mut state, &mut history, number, commit.diff, commit.trie)?;
            TrieTables::open(&txn)?.apply(Some(number), commit.trie)?;
        }
        let hash = header.hash_slow();
        write_block(&txn, commit.block, hash, commit.receipts)?;
        let new_head = BlockRef { number, hash };
        write_head(&mut txn.open_table(META)?, new_head)?;
        txn.commit()?;
        Ok(new_head)
    }
}

/// Applies a diff to the state tables, recording old values under `block`.
fn apply_diff(
    state: &mut StateTables<'_>,
    history: &mut HistoryTables<'_>,
    block: u64,
    diff: &StateDiff,
    trie: &TrieUpdates,
) -> StoreResult<()> {
    for (hash, code) in &diff.codes {
        state.put_code(hash, code)?;
    }
    let mut hashed_addresses = BTreeSet::new();
    for (address, change) in &diff.accounts {
        let hashed = keccak256(address);
        hashed_addresses.insert(hashed);
        for (slot, old_value) in apply_storage(state, address, &hashed, change)? {
            history.record_slot(block, address, &hashed, &slot, old_value)?;
        }
        let new = new_account(state, address, &hashed, change, trie)?;
        let old = state.put_account(address, &hashed, new.as_ref())?;
        history.record_account(block, address, &hashed, old.as_ref())?;
    }
    if let Some(extra) = trie.accounts.keys().find(|hashed| !hashed_addresses.contains(*hashed)) {
        return Err(StoreError::TrieMismatch {
            hashed_address: *extra,
            reason: "account leaf not in the diff",
        });
    }
    Ok(())
}

/// Writes one account's storage changes; returns the slots that changed with
/// their values before the block (every slot of a wiped account included).
fn apply_storage(
    state: &mut StateTables<'_>,
    address: &Address,
    hashed: &B256,
    change: &AccountDiff,
) -> StoreResult<BTreeMap<U256, U256>> {
    let wiped = change.storage_wiped || change.info.is_none();
    let mut old_values: BTreeMap<U256, U256> =
        if wiped { state.wipe_storage(address, hashed)?.into_iter().collect() } else { BTreeMap::new() };
    for (slot, value) in &change.storage {
        if change.info.is_some() {
            // After a wipe the plain table no longer has the slot: `replaced` is zero, and the
            // value before the block (if any) is already in `old_values`.
            let replaced = state.put_slot(address, hashed, slot, *value)?;
            old_values.entry(*slot).or_insert(replaced);
        } else {
            // A destroyed account: its slots are all wiped, nothing is written.
            old_values.entry(*slot).or_insert(U256::ZERO);
        }
    }
    Ok(old_values)
}

/// The account after the block, its storage root taken from the trie
/// updates (or kept, when its storage did not change).
fn new_account(
    state: &StateTables<'_>,
    address: &Address,
    hashed: &B256,
    change: &AccountDiff,
    trie: &TrieUpdates,
) -> StoreResult<Option<StoredAccount>> {
    let mismatch = |reason| StoreError::TrieMismatch { hashed_address: *hashed, reason };
    let Some(fields) = &change.info else {
        return match trie.accounts.get(hashed) {
            Some(Some(_)) => Err(mismatch("the trie keeps an account the diff deletes")),
            _ => Ok(None),
        };
    };
    match trie.accounts.get(hashed) {
        Some(Some(leaf)) => {
            if leaf.nonce != fields.nonce
                || leaf.balance != fields.balance
                || leaf.code_hash != fields.code_hash
            {
                return Err(mismatch("account leaf fields differ from the diff"));
            }
            Ok(Some(StoredAccount::new(fields, leaf.storage_root)))
        }
        Some(None) => Err(mismatch("the trie deletes an account the diff keeps")),
        None => {
            let storage_changed = change.storage_wiped || !change.storage.is_empty();
            let old = state.account(address)?;
            let root = match (trie.storage_root(hashed), old) {
                (Some(root), _) => root,
                (None, Some(old)) if !storage_changed => old.storage_root,
                (None, None) if !storage_changed => EMPTY_ROOT_HASH,
                (None, _) => return Err(StoreError::MissingStorageRoot { address: *address }),
            };
            Ok(Some(StoredAccount::new(fields, root)))
        }
    }
}
