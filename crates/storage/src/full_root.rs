//! The state root from scratch: every account and slot leaf of the head
//! state, with a change set merged in, streamed in key order through the
//! genesis trie builder; no stored trie node is read, every storage root is
//! recomputed. The key space is cut into the 16 subtries below the root
//! (first nibble of the hashed address), built in parallel on the rayon pool
//! and joined by the root branch. This is the baseline the incremental root
//! is measured against, and an independent check of the stored trie.

use crate::{
    LatestState, Snapshot, StoreResult,
    codec::{StoredAccount, decode_value, hashed_storage_key},
    trie_builder::StreamingTrie,
    trie_reader::hashed_post_state,
};
use alloy_primitives::{B256, U256, keccak256};
use mosaic_executor::StateDiff;
use mosaic_trie::{
    Account, EMPTY_ROOT_HASH, HashedPostState, HashedStorage, Nibbles, StoredNode, TrieError, TrieMask,
};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// The builder of a trie whose nodes are not kept.
type Builder = StreamingTrie<fn(&Nibbles, &StoredNode) -> StoreResult<()>>;

fn builder() -> Builder {
    StreamingTrie::new(|_, _| Ok(()))
}

/// The stored slots of a range of accounts, read in key order.
struct StoredSlots {
    range: redb::Range<'static, &'static [u8; 64], &'static [u8]>,
    peeked: Option<(B256, B256, U256)>,
}

impl StoredSlots {
    fn next_entry(&mut self) -> StoreResult<Option<(B256, B256, U256)>> {
        if let Some(entry) = self.peeked.take() {
            return Ok(Some(entry));
        }
        let Some(entry) = self.range.next() else { return Ok(None) };
        let (key, value) = entry?;
        let key = key.value();
        let value = decode_value(value.value(), "hashed_storage")?;
        Ok(Some((B256::from_slice(&key[..32]), B256::from_slice(&key[32..]), value)))
    }

    /// The slots of `hashed_address`, skipping those of accounts before it.
    fn take(&mut self, hashed_address: &B256) -> StoreResult<Vec<(B256, U256)>> {
        let mut out = Vec::new();
        while let Some(entry) = self.next_entry()? {
            if entry.0 < *hashed_address {
                continue;
            }
            if entry.0 > *hashed_address {
                self.peeked = Some(entry);
                break;
            }
            out.push((entry.1, entry.2));
        }
        Ok(out)
    }
}

/// The storage root of stored slots after `change`.
fn storage_root(stored: Vec<(B256, U256)>, change: Option<&HashedStorage>) -> StoreResult<B256> {
    let mut trie = builder();
    match change {
        None => {
            for (slot, value) in stored {
                trie.add_leaf(slot, alloy_rlp::encode(value))?;
            }
        }
        Some(change) => {
            let mut slots: BTreeMap<B256, U256> =
                if change.wiped { BTreeMap::new() } else { stored.into_iter().collect() };
            slots.extend(change.slots.iter().map(|(slot, value)| (*slot, *value)));
            for (slot, value) in slots.into_iter().filter(|(_, value)| !value.is_zero()) {
                trie.add_leaf(slot, alloy_rlp::encode(value))?;
            }
        }
    }
    trie.finish()
}

/// The stored accounts of a range, read in key order.
struct StoredAccounts {
    range: redb::Range<'static, &'static [u8; 32], &'static [u8]>,
    peeked: Option<(B256, StoredAccount)>,
}

impl StoredAccounts {
    fn peek(&mut self) -> StoreResult<Option<B256>> {
        if self.peeked.is_none()
            && let Some(entry) = self.range.next()
        {
            let (key, value) = entry?;
            let account = StoredAccount::decode(value.value(), "hashed_accounts")?;
            self.peeked = Some((B256::from(*key.value()), account));
        }
        Ok(self.peeked.as_ref().map(|(key, _)| *key))
    }
}

impl Snapshot {
    /// The account trie leaves of the accounts whose hashed address starts
    /// with `nibble`, after `post`, added to a builder.
    fn full_subtrie(&self, nibble: u8, post: &HashedPostState) -> StoreResult<Builder> {
        let mut from = B256::ZERO;
        from[0] = nibble << 4;
        let mut to = B256::repeat_byte(0xff);
        to[0] = (nibble << 4) | 0x0f;
        let mut stored =
            StoredAccounts { range: self.hashed_accounts.range::<&[u8; 32]>(&from.0..=&to.0)?, peeked: None };
        let (slots_from, slots_to) = (hashed_storage_key(&from, &B256::ZERO), hashed_storage_key(&to, &to));
        let range = self.hashed_storage.range::<&[u8; 64]>(&slots_from..=&slots_to)?;
        let mut slots = StoredSlots { range, peeked: None };
        let mut changed: Vec<B256> = post.accounts.range(from..=to).map(|(key, _)| *key).collect();
        changed.extend(post.storages.range(from..=to).map(|(key, _)| *key));
        changed.sort_unstable();
        changed.dedup();
        let mut changed = changed.into_iter().peekable();
        let mut trie = builder();
        loop {
            let next_stored = stored.peek()?;
            let key = match (next_stored, changed.peek()) {
                (None, None) => break,
                (Some(key), None) => key,
                (None, Some(key)) => *key,
                (Some(a), Some(b)) => a.min(*b),
            };
            let old = if next_stored == Some(key) { stored.peeked.take().map(|(_, old)| old) } else { None };
            changed.next_if_eq(&key);
            let stored_slots = slots.take(&key)?;
            let storage = post.storages.get(&key);
            let fields = match (post.accounts.get(&key), old) {
                (Some(None), _) => continue,
                (Some(Some(account)), _) => *account,
                (None, Some(old)) => {
                    Account { nonce: old.nonce, balance: old.balance, code_hash: old.code_hash }
                }
                (None, None) => {
                    if storage.is_some_and(|s| s.slots.values().any(|value| !value.is_zero())) {
                        return Err(TrieError::StorageWithoutAccount { hashed_address: key }.into());
                    }
                    continue;
                }
            };
            let leaf = fields.with_storage_root(storage_root(stored_slots, storage)?);
            trie.add_leaf(key, alloy_rlp::encode(leaf))?;
        }
        Ok(trie)
    }

    /// The state root of this snapshot's head state after `post`, computed
    /// from every leaf (see the module docs); equal to the incremental root
    /// of the same change set.
    pub fn full_state_root(&self, post: &HashedPostState) -> StoreResult<B256> {
        let subtries = (0..16u8)
            .into_par_iter()
            .map(|nibble| self.full_subtrie(nibble, post))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut subtries: Vec<(u8, Builder)> =
            (0..16u8).zip(subtries).filter(|(_, trie)| !trie.is_empty()).collect();
        if subtries.len() <= 1 {
            return subtries.pop().map_or(Ok(EMPTY_ROOT_HASH), |(_, trie)| trie.finish());
        }
        let mut root = StoredNode {
            state_mask: TrieMask::default(),
            tree_mask: TrieMask::default(),
            children: Vec::new(),
        };
        for (nibble, trie) in subtries {
            let Some((child, is_branch)) = trie.finish_child(1)? else { continue };
            root.state_mask.set_bit(nibble);
            if is_branch {
                root.tree_mask.set_bit(nibble);
            }
            root.children.push(child);
        }
        let rlp = root.rlp(&mut Vec::with_capacity(600));
        Ok(rlp.as_hash().unwrap_or_else(|| keccak256(&rlp)))
    }
}

impl LatestState {
    /// The state root after `diff` from scratch ([`Snapshot::full_state_root`]);
    /// slower than [`LatestState::trie_updates`], which it cross-checks.
    pub fn full_state_root(&self, diff: &StateDiff) -> StoreResult<B256> {
        self.snapshot().full_state_root(&hashed_post_state(diff))
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use alloy_consensus::Header;
    use alloy_primitives::{Address, U256, keccak256};
    use mosaic_executor::{AccountDiff, AccountFields, InMemoryState, StateDiff};
    use mosaic_trie::KECCAK_EMPTY;

    /// Addresses whose hashes start with the nibbles asked for.
    fn address_in(nibble: u8, skip: usize) -> Address {
        (0u64..)
            .map(|i| Address::with_last_byte(7).create(i))
            .filter(|address| keccak256(address)[0] >> 4 == nibble)
            .nth(skip)
            .unwrap_or_default()
    }

    /// Tiny states (empty, one leaf, everything below one nibble) go through
    /// the single-subtrie path; diffs with deletions and storage through the
    /// merge. Each is compared with the root from the stored nodes.
    #[test]
    fn tiny_and_one_sided_states() {
        let layouts: [&[(u8, usize)]; 5] =
            [&[], &[(3, 0)], &[(3, 0), (3, 1)], &[(0, 0), (15, 0)], &[(9, 0), (9, 1), (9, 2), (2, 0)]];
        for layout in layouts {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::create(dir.path().join("db")).expect("create");
            let mut state = InMemoryState::default();
            for (n, (nibble, skip)) in layout.iter().enumerate() {
                let slots = (0..n as u64).map(|s| (U256::from(s), U256::from(s + 1)));
                state.insert_account(address_in(*nibble, *skip), n as u64, U256::from(n), &[], slots);
            }
            let (_, root) = store
                .init_genesis_with::<crate::StoreError>(
                    |writer| {
                        for (address, account) in &state.accounts {
                            let fields = AccountFields {
                                nonce: account.nonce,
                                balance: account.balance,
                                code_hash: account.code_hash,
                            };
                            writer.insert_account(*address, fields, account.storage.clone())?;
                        }
                        Ok(())
                    },
                    |root| Header { state_root: root, ..Default::default() },
                )
                .expect("genesis");
            let latest = store.latest_state().expect("latest");
            assert_eq!(latest.full_state_root(&StateDiff::default()).expect("full"), root, "{layout:?}");
            // Delete the first account, add storage to the last, create one elsewhere.
            let mut diff = StateDiff::default();
            let addresses: Vec<Address> = state.accounts.keys().copied().collect();
            if let Some(first) = addresses.first() {
                diff.accounts.insert(
                    *first,
                    AccountDiff { info: None, storage_wiped: true, storage: Default::default() },
                );
            }
            if let Some(last) = addresses.last().filter(|_| addresses.len() > 1) {
                let fields = AccountFields { nonce: 9, balance: U256::from(9), code_hash: KECCAK_EMPTY };
                let storage = [(U256::from(0), U256::ZERO), (U256::from(77), U256::from(5))].into();
                diff.accounts
                    .insert(*last, AccountDiff { info: Some(fields), storage_wiped: false, storage });
            }
            let (expected, _) = latest.trie_updates(&diff).expect("incremental");
            assert_eq!(latest.full_state_root(&diff).expect("full"), expected, "{layout:?} after a diff");
        }
    }
}
