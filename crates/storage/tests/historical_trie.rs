//! Roots and EIP-1186 proofs at every retained block, read through the
//! historical [`TrieReader`] of `HistoricalState`, against independent
//! references: the state root from the model's leaves (and the stored
//! header), `alloy_trie`'s proof verification, and a fresh store built at
//! genesis from the model of that block, whose seeks must return exactly
//! what the historical reader returns.

mod common;

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_trie::{Nibbles, proof::verify_proof};
use common::{Chain, Pool, reference_root, rng, seeds};
use mosaic_executor::InMemoryState;
use mosaic_storage::{HistoricalState, Snapshot, Store, StoreError};
use mosaic_trie::{
    EMPTY_ROOT_HASH, HashedPostState, StoredNode, TrieAccount, TrieReader, account_proof,
    state_root_incremental,
};
use rand::{Rng, rngs::StdRng};

/// A chain of `blocks` random blocks over a pool large enough for a trie
/// several branches deep, some blocks touching many accounts.
fn chain(rng: &mut StdRng, dir: &std::path::Path, blocks: usize) -> Chain {
    let pool = Pool::new(rng, 300, 24);
    let mut chain = Chain::new(&dir.join("db"), rng, pool);
    for _ in 0..blocks {
        let max = if rng.random_bool(0.3) { 80 } else { 10 };
        chain.commit_random_sized(rng, max);
    }
    chain
}

/// The model's account leaf (with its storage root) and storage.
fn expected_leaf(model: &InMemoryState, address: &Address) -> Option<TrieAccount> {
    model.accounts.get(address).map(|account| TrieAccount {
        nonce: account.nonce,
        balance: account.balance,
        storage_root: mosaic_trie::storage_root(account.storage.iter().map(|(k, v)| (*k, *v))),
        code_hash: account.code_hash,
    })
}

/// Proves a random third of the pool's accounts (present and absent) with a
/// mix of present and absent slots against `root`, checking values and
/// proofs against the model.
fn check_proofs(state: &HistoricalState, model: &InMemoryState, pool: &Pool, root: B256, rng: &mut StdRng) {
    let number = state.block();
    let chosen: Vec<Address> = pool.addresses.iter().copied().filter(|_| rng.random_bool(0.33)).collect();
    for address in &chosen {
        let mut slots: Vec<B256> = model
            .accounts
            .get(address)
            .map(|account| account.storage.keys().map(|slot| B256::from(*slot)).collect())
            .unwrap_or_default();
        slots.extend((0..3).map(|_| B256::from(pool.slots[rng.random_range(0..pool.slots.len())])));
        let proof = account_proof(state, *address, &slots).expect("proof");
        assert_eq!(proof, state.account_proof(*address, &slots).expect("proof"));
        let expected = expected_leaf(model, address);
        assert_eq!(proof.account, expected, "block {number}: account {address}");
        let key = Nibbles::unpack(keccak256(address));
        verify_proof(root, key, expected.map(alloy_rlp::encode), &proof.proof)
            .unwrap_or_else(|e| panic!("block {number}: proof of {address}: {e}"));
        let storage_root = expected.map_or(EMPTY_ROOT_HASH, |account| account.storage_root);
        assert_eq!(proof.storage_proofs.len(), slots.len());
        for (slot, slot_proof) in slots.iter().zip(&proof.storage_proofs) {
            let value = model
                .accounts
                .get(address)
                .and_then(|account| account.storage.get(&U256::from_be_bytes(slot.0)))
                .copied()
                .unwrap_or_default();
            assert_eq!(
                (slot_proof.slot, slot_proof.value),
                (*slot, value),
                "block {number}: {address} {slot}"
            );
            let leaf = (!value.is_zero()).then(|| alloy_rlp::encode(value));
            verify_proof(storage_root, Nibbles::unpack(keccak256(slot)), leaf, &slot_proof.proof)
                .unwrap_or_else(|e| panic!("block {number}: proof of {address} slot {slot}: {e}"));
        }
    }
}

#[test]
fn roots_and_proofs_at_every_retained_block() {
    for seed in seeds(&[41, 42]) {
        let mut rng = rng(seed);
        let dir = tempfile::tempdir().expect("tempdir");
        let chain = chain(&mut rng, dir.path(), 24);
        let head = chain.models.len() as u64 - 1;
        let snapshot = chain.store.snapshot().expect("snapshot");
        for number in 0..=head {
            let model = &chain.models[number as usize];
            let state = chain.store.state_at(number).expect("state at");
            let header = snapshot.header_by_number(number).expect("header").expect("stored header");
            let (root, updates) = state_root_incremental(&state, &HashedPostState::new()).expect("root");
            assert_eq!(root, header.state_root, "seed {seed}: block {number}: root from history");
            assert_eq!(root, reference_root(model), "seed {seed}: block {number}: reference root");
            assert_eq!(updates.node_count(), 0, "an empty change set rewrites nothing");
            assert_eq!(state.state_root().expect("root"), root);
            check_proofs(&state, model, &chain.pool, root, &mut rng);
        }
    }
}

/// Every entry of the account trie, in order, found by successive seeks.
fn account_nodes(reader: &impl TrieReader) -> Vec<(Nibbles, StoredNode)> {
    let mut out = Vec::new();
    let mut from = Nibbles::new();
    while let Some((path, node)) = reader.seek_account_node(&from).expect("seek") {
        assert!(path >= from, "seek went backwards");
        from = path;
        from.push(0);
        out.push((path, node));
    }
    out
}

fn storage_nodes(reader: &impl TrieReader, hashed: B256) -> Vec<(Nibbles, StoredNode)> {
    let mut out = Vec::new();
    let mut from = Nibbles::new();
    while let Some((path, node)) = reader.seek_storage_node(hashed, &from).expect("seek") {
        from = path;
        from.push(0);
        out.push((path, node));
    }
    out
}

/// The key right after `key`, `None` at the end.
fn successor(key: B256) -> Option<B256> {
    let value = U256::from_be_bytes(key.0).checked_add(U256::from(1))?;
    Some(B256::from(value))
}

fn leaves<T>(mut seek: impl FnMut(B256) -> Option<(B256, T)>) -> Vec<(B256, T)> {
    let mut out = Vec::new();
    let mut from = Some(B256::ZERO);
    while let Some(key) = from
        && let Some((found, value)) = seek(key)
    {
        from = successor(found);
        out.push((found, value));
    }
    out
}

/// A random nibble path near `keys`.
fn random_path(rng: &mut StdRng, keys: &[B256]) -> Nibbles {
    let len = rng.random_range(0..8);
    let mut path = match keys.get(rng.random_range(0..keys.len().max(1))) {
        Some(key) if rng.random_bool(0.7) => Nibbles::unpack(key).slice(..len),
        _ => Nibbles::new(),
    };
    while path.len() < len {
        path.push(rng.random_range(0..16));
    }
    if rng.random_bool(0.3) && !path.is_empty() {
        let last = path.get_unchecked(path.len() - 1);
        path.pop();
        path.push((last + 1) % 16);
    }
    path
}

/// Compares every seek of `state` with `fresh` (the same state built at
/// genesis): whole tables by successive seeks, and random seeks.
fn compare_seeks(state: &HistoricalState, fresh: &Snapshot, pool: &Pool, rng: &mut StdRng) {
    let number = state.block();
    let accounts = leaves(|key| state.seek_account(key).expect("seek"));
    assert_eq!(accounts, leaves(|key| fresh.seek_account(key).expect("seek")), "block {number}: accounts");
    assert_eq!(account_nodes(state), account_nodes(fresh), "block {number}: account trie");
    let keys: Vec<B256> = accounts.iter().map(|(key, _)| *key).collect();
    let mut hashed: Vec<B256> = pool.addresses.iter().map(keccak256).collect();
    hashed.extend(&keys);
    for hashed in &hashed {
        let slots = leaves(|slot| state.seek_storage(*hashed, slot).expect("seek"));
        assert_eq!(slots, leaves(|slot| fresh.seek_storage(*hashed, slot).expect("seek")), "block {number}");
        assert_eq!(storage_nodes(state, *hashed), storage_nodes(fresh, *hashed), "block {number}: {hashed}");
    }
    for _ in 0..200 {
        let key = if rng.random_bool(0.5) && !keys.is_empty() {
            let near = keys[rng.random_range(0..keys.len())];
            B256::from(U256::from_be_bytes(near.0).wrapping_add(U256::from(rng.random_range(0u8..3))))
        } else {
            B256::from(rng.random::<[u8; 32]>())
        };
        assert_eq!(state.seek_account(key).expect("seek"), fresh.seek_account(key).expect("seek"));
        let path = random_path(rng, &keys);
        assert_eq!(
            state.seek_account_node(&path).expect("seek"),
            fresh.seek_account_node(&path).expect("seek")
        );
        let account = hashed[rng.random_range(0..hashed.len())];
        assert_eq!(
            state.seek_storage(account, key).expect("seek"),
            fresh.seek_storage(account, key).expect("seek")
        );
        assert_eq!(
            state.seek_storage_node(account, &path).expect("seek"),
            fresh.seek_storage_node(account, &path).expect("seek"),
            "block {number}: storage node seek {path:?} of {account}"
        );
    }
}

#[test]
fn historical_seeks_equal_a_fresh_store_of_that_state() {
    for seed in seeds(&[51, 52]) {
        let mut rng = rng(seed);
        let dir = tempfile::tempdir().expect("tempdir");
        let chain = chain(&mut rng, dir.path(), 16);
        let head = chain.models.len() as u64 - 1;
        for number in 0..=head {
            let model = &chain.models[number as usize];
            let path = dir.path().join(format!("fresh-{number}"));
            let fresh = Store::create(&path).expect("create");
            let header = common::header(0, B256::ZERO, reference_root(model));
            fresh.init_genesis(model, &header).expect("genesis");
            let state = chain.store.state_at(number).expect("state at");
            compare_seeks(&state, &fresh.snapshot().expect("snapshot"), &chain.pool, &mut rng);
        }
    }
}

#[test]
fn history_survives_unwind_and_pruning() {
    let mut rng = rng(seeds(&[61])[0]);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain(&mut rng, dir.path(), 12);
    chain.store.unwind_to(7).expect("unwind");
    chain.truncate(7);
    for _ in 0..6 {
        chain.commit_random_sized(&mut rng, 40);
    }
    chain.store.prune_history(5).expect("prune");
    let head = chain.models.len() as u64 - 1;
    for number in 0..=head {
        let state = chain.store.state_at(number);
        if number < 4 {
            assert!(matches!(state, Err(StoreError::OutsideHistory { oldest: 4, .. })), "block {number}");
            continue;
        }
        let state = state.expect("state at");
        let model = &chain.models[number as usize];
        let root = state.state_root().expect("root");
        assert_eq!(root, reference_root(model), "block {number}");
        check_proofs(&state, model, &chain.pool, root, &mut rng);
    }
}
