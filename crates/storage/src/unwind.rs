//! Unwinding the head to an earlier block, and pruning old history. Unwind
//! walks the blocks from the head down, putting back the old values each
//! block's changesets recorded (accounts, slots and trie nodes alike), and
//! deletes the blocks' data, all in one write transaction. Pruning drops the
//! changesets and index entries of blocks below a bound.

use crate::{
    Store, StoreError, StoreResult,
    blocks::delete_block,
    codec::{
        account_change_key, decode_opt_account, decode_value, split_storage_change_key, storage_change_key,
    },
    state_tables::{HistoryTables, StateTables},
    store::{BlockRef, read_head, read_history_start, write_head},
    tables::{CANONICAL, HISTORY_START_KEY, META},
    trie_tables::TrieTables,
};
use alloy_primitives::{Address, B256, U256, keccak256};
use redb::{ReadableTable, WriteTransaction};

/// `keccak256` of the last address asked for (storage changes come grouped
/// by address).
#[derive(Default)]
struct HashCache(Option<(Address, B256)>);

impl HashCache {
    fn get(&mut self, address: Address) -> B256 {
        match self.0 {
            Some((cached, hash)) if cached == address => hash,
            _ => {
                let hash = keccak256(address);
                self.0 = Some((address, hash));
                hash
            }
        }
    }
}

/// Account changes of `block`, removed from the changeset table.
fn take_account_changes(history: &mut HistoryTables<'_>, block: u64) -> StoreResult<Vec<(Address, Vec<u8>)>> {
    let from = account_change_key(block, &Address::ZERO);
    let to = account_change_key(block, &Address::repeat_byte(0xff));
    let mut out = Vec::new();
    let mut extracted = history.account_changes.extract_from_if::<&[u8; 28], _>(&from..=&to, |_, _| true)?;
    for entry in &mut extracted {
        let (key, value) = entry?;
        out.push((Address::from_slice(&key.value()[8..]), value.value().to_vec()));
    }
    extracted.close()?;
    Ok(out)
}

/// Storage changes of `block`, removed from the changeset table.
fn take_storage_changes(
    history: &mut HistoryTables<'_>,
    block: u64,
) -> StoreResult<Vec<(Address, U256, Vec<u8>)>> {
    let from = storage_change_key(block, &Address::ZERO, &U256::ZERO);
    let to = storage_change_key(block, &Address::repeat_byte(0xff), &U256::MAX);
    let mut out = Vec::new();
    let mut extracted = history.storage_changes.extract_from_if::<&[u8; 60], _>(&from..=&to, |_, _| true)?;
    for entry in &mut extracted {
        let (key, value) = entry?;
        let (address, slot) = split_storage_change_key(key.value());
        out.push((address, slot, value.value().to_vec()));
    }
    extracted.close()?;
    Ok(out)
}

/// Puts back the state before `block` and drops its changesets and index
/// entries.
fn revert_block(txn: &WriteTransaction, block: u64) -> StoreResult<()> {
    let mut state = StateTables::open(txn)?;
    let mut history = HistoryTables::open(txn)?;
    for (address, old) in take_account_changes(&mut history, block)? {
        let old = decode_opt_account(&old, "account_changes")?;
        let hashed = keccak256(address);
        state.put_account(&address, &hashed, old.as_ref())?;
        history.forget_account(block, &address, &hashed)?;
    }
    let mut hashed = HashCache::default();
    for (address, slot, old) in take_storage_changes(&mut history, block)? {
        let hashed_address = hashed.get(address);
        let old = decode_value(&old, "storage_changes")?;
        state.put_slot(&address, &hashed_address, &slot, old)?;
        history.forget_slot(block, &address, &hashed_address, &slot)?;
    }
    TrieTables::open(txn)?.revert(block)?;
    delete_block(txn, block)
}

impl Store {
    /// Reverts the state, trie nodes, block data and head to what they were
    /// after block `target`, in one transaction; returns the new head.
    pub fn unwind_to(&self, target: u64) -> StoreResult<BlockRef> {
        let txn = self.begin_write()?;
        let (head, history_start) = {
            let meta = txn.open_table(META)?;
            (read_head(&meta)?.ok_or(StoreError::Empty)?, read_history_start(&meta)?)
        };
        let oldest = history_start.saturating_sub(1);
        if target > head.number || target < oldest {
            return Err(StoreError::OutsideHistory { requested: target, oldest, head: head.number });
        }
        for block in (target + 1..=head.number).rev() {
            revert_block(&txn, block)?;
        }
        let hash = txn.open_table(CANONICAL)?.get(target)?.map(|h| B256::from(*h.value()));
        let new_head = BlockRef { number: target, hash: hash.ok_or(StoreError::MissingBlock(target))? };
        write_head(&mut txn.open_table(META)?, new_head)?;
        txn.commit()?;
        Ok(new_head)
    }

    /// Drops the history (changesets and index) of blocks below `before`, so
    /// that states after blocks `before - 1` and later stay readable; returns
    /// the oldest readable block. A no-op if that history is already gone.
    pub fn prune_history(&self, before: u64) -> StoreResult<u64> {
        let txn = self.begin_write()?;
        let (head, start) = {
            let meta = txn.open_table(META)?;
            (read_head(&meta)?.ok_or(StoreError::Empty)?, read_history_start(&meta)?)
        };
        let before = before.min(head.number + 1);
        if before <= start {
            return Ok(start.saturating_sub(1));
        }
        {
            let mut history = HistoryTables::open(&txn)?;
            for block in start..before {
                for (address, _) in take_account_changes(&mut history, block)? {
                    history.forget_account(block, &address, &keccak256(address))?;
                }
                let mut hashed = HashCache::default();
                for (address, slot, _) in take_storage_changes(&mut history, block)? {
                    history.forget_slot(block, &address, &hashed.get(address), &slot)?;
                }
            }
            TrieTables::open(&txn)?.forget_before(before)?;
            txn.open_table(META)?.insert(HISTORY_START_KEY, before.to_be_bytes().as_slice())?;
        }
        txn.commit()?;
        Ok(before - 1)
    }
}
