//! The public incremental-root and proof API with plain addresses and slot
//! indices, checked against `state_root`/`storage_root` computed from
//! scratch, alloy-trie's own root helpers and its proof verifier; and the
//! errors a bad store or a bad change set give.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_trie::{Nibbles, proof::verify_proof};
use mosaic_trie::{
    Account, EMPTY_ROOT_HASH, HashedPostState, KECCAK_EMPTY, MemoryTrieStore, StoredNode, TrieError,
    account_proof, build_state, state_root, state_root_incremental, storage_root,
};

/// Plain state: address to fields and slot index to value.
type Plain = BTreeMap<Address, (Account, BTreeMap<U256, U256>)>;

fn plain_root(state: &Plain) -> B256 {
    state_root(state.iter().map(|(address, (account, slots))| {
        (*address, account.with_storage_root(storage_root(slots.iter().map(|(s, v)| (*s, *v)))))
    }))
}

fn post_state_of(state: &Plain) -> HashedPostState {
    let mut post = HashedPostState::new();
    for (address, (account, slots)) in state {
        post.insert_account(*address, Some(*account));
        post.insert_storage(*address, false, slots.iter().map(|(s, v)| (*s, *v)));
    }
    post
}

fn account(nonce: u64) -> Account {
    Account { nonce, balance: U256::from(nonce * 1000), code_hash: KECCAK_EMPTY }
}

fn genesis() -> Plain {
    (1u8..=40)
        .map(|i| {
            let slots = (0..u64::from(i % 5) * 3).map(|s| (U256::from(s), U256::from(s + 1))).collect();
            (Address::repeat_byte(i), (account(u64::from(i)), slots))
        })
        .collect()
}

#[test]
fn blocks_of_plain_changes_match_roots_from_scratch() {
    let mut plain = genesis();
    let (root, mut store) = MemoryTrieStore::from_post_state(&post_state_of(&plain)).unwrap();
    assert_eq!(root, plain_root(&plain));

    // Block 1: update, create, delete, change storage without touching the account.
    let mut post = HashedPostState::new();
    post.insert_account(Address::repeat_byte(1), Some(account(99)));
    post.insert_account(Address::repeat_byte(200), Some(account(1)));
    post.insert_account(Address::repeat_byte(3), None);
    post.insert_storage(
        Address::repeat_byte(4),
        false,
        [(U256::from(0), U256::ZERO), (U256::from(77), U256::from(5))],
    );
    plain.insert(Address::repeat_byte(1), (account(99), plain[&Address::repeat_byte(1)].1.clone()));
    plain.insert(Address::repeat_byte(200), (account(1), BTreeMap::new()));
    plain.remove(&Address::repeat_byte(3));
    let slots = &mut plain.get_mut(&Address::repeat_byte(4)).unwrap().1;
    slots.remove(&U256::from(0));
    slots.insert(U256::from(77), U256::from(5));
    let (root, updates) = state_root_incremental(&store, &post).unwrap();
    assert_eq!(root, plain_root(&plain));
    assert!(updates.storages[&keccak256(Address::repeat_byte(3))].wiped);
    store.apply(&updates);

    // Block 2: wipe storage (re-creation) and delete every slot of another.
    let mut post = HashedPostState::new();
    post.insert_account(Address::repeat_byte(9), Some(account(9)));
    post.insert_storage(Address::repeat_byte(9), true, [(U256::from(5), U256::from(6))]);
    post.insert_storage(Address::repeat_byte(14), false, (0..12).map(|s| (U256::from(s), U256::ZERO)));
    plain.insert(Address::repeat_byte(9), (account(9), [(U256::from(5), U256::from(6))].into()));
    plain.get_mut(&Address::repeat_byte(14)).unwrap().1.clear();
    let (root, updates) = state_root_incremental(&store, &post).unwrap();
    assert_eq!(root, plain_root(&plain));
    assert_eq!(updates.storage_root(&keccak256(Address::repeat_byte(14))), Some(EMPTY_ROOT_HASH));
    store.apply(&updates);
    let (_, fresh) = MemoryTrieStore::from_post_state(&post_state_of(&plain)).unwrap();
    assert_eq!(store, fresh);

    // An empty change set keeps the root.
    let (same, updates) = state_root_incremental(&store, &HashedPostState::new()).unwrap();
    assert_eq!(same, root);
    assert_eq!(updates.node_count(), 0);
}

#[test]
fn matches_alloy_root_helpers() {
    let plain = genesis();
    let (root, _) = build_state(&post_state_of(&plain)).unwrap();
    let theirs = alloy_trie::root::state_root_unhashed(plain.iter().map(|(address, (account, slots))| {
        let storage =
            alloy_trie::root::storage_root_unhashed(slots.iter().map(|(s, v)| (B256::from(*s), *v)));
        let account = alloy_trie::TrieAccount {
            nonce: account.nonce,
            balance: account.balance,
            storage_root: storage,
            code_hash: account.code_hash,
        };
        (*address, account)
    }));
    assert_eq!(root, theirs);
}

#[test]
fn emptying_and_refilling_the_state() {
    let plain = genesis();
    let (_, mut store) = MemoryTrieStore::from_post_state(&post_state_of(&plain)).unwrap();
    let mut post = HashedPostState::new();
    for address in plain.keys() {
        post.insert_account(*address, None);
    }
    let (root, updates) = state_root_incremental(&store, &post).unwrap();
    assert_eq!(root, EMPTY_ROOT_HASH);
    store.apply(&updates);
    assert_eq!(store, MemoryTrieStore::new());
    let (root, updates) = state_root_incremental(&store, &post_state_of(&plain)).unwrap();
    assert_eq!(root, plain_root(&plain));
    store.apply(&updates);
    let (single, _) = state_root_incremental(&store, &{
        let mut post = HashedPostState::new();
        for address in plain.keys().skip(1) {
            post.insert_account(*address, None);
        }
        post
    })
    .unwrap();
    let first = plain.iter().take(1).map(|(a, v)| (*a, v.clone())).collect();
    assert_eq!(single, plain_root(&first));
}

#[test]
fn proofs_verify_for_present_and_absent_keys() {
    let plain = genesis();
    let (root, store) = MemoryTrieStore::from_post_state(&post_state_of(&plain)).unwrap();
    let slots: Vec<B256> = [0u64, 1, 7, 1000].map(|s| B256::from(U256::from(s))).to_vec();
    for address in [Address::repeat_byte(4), Address::repeat_byte(5), Address::repeat_byte(250)] {
        let proof = account_proof(&store, address, &slots).unwrap();
        let expected = plain.get(&address).map(|(account, slots)| {
            account.with_storage_root(storage_root(slots.iter().map(|(s, v)| (*s, *v))))
        });
        assert_eq!(proof.account, expected);
        let key = Nibbles::unpack(keccak256(address));
        verify_proof(root, key, expected.map(alloy_rlp::encode), &proof.proof).unwrap();
        for storage in &proof.storage_proofs {
            let value = plain.get(&address).and_then(|(_, s)| s.get(&U256::from_be_bytes(storage.slot.0)));
            assert_eq!(storage.value, value.copied().unwrap_or_default());
            let key = Nibbles::unpack(keccak256(storage.slot));
            let leaf = value.map(alloy_rlp::encode);
            verify_proof(proof.storage_root(), key, leaf, &storage.proof).unwrap();
        }
    }
    // The empty state proves every key absent with an empty proof.
    let proof = account_proof(&MemoryTrieStore::new(), Address::ZERO, &slots).unwrap();
    assert!(proof.proof.is_empty() && proof.account.is_none());
    verify_proof(EMPTY_ROOT_HASH, Nibbles::unpack(keccak256(Address::ZERO)), None, &proof.proof).unwrap();
}

#[test]
fn storage_of_a_missing_account_is_rejected() {
    let mut post = HashedPostState::new();
    post.insert_storage(Address::repeat_byte(1), false, [(U256::from(1), U256::from(1))]);
    let error = state_root_incremental(&MemoryTrieStore::new(), &post).unwrap_err();
    assert!(matches!(error, TrieError::StorageWithoutAccount { .. }));
    // Clearing slots of a missing account is a no-op, not an error.
    let mut post = HashedPostState::new();
    post.insert_storage(Address::repeat_byte(1), true, [(U256::from(1), U256::ZERO)]);
    let (root, _) = state_root_incremental(&MemoryTrieStore::new(), &post).unwrap();
    assert_eq!(root, EMPTY_ROOT_HASH);
}

#[test]
fn corrupt_store_is_reported_not_panicking() {
    let plain = genesis();
    let (_, store) = MemoryTrieStore::from_post_state(&post_state_of(&plain)).unwrap();
    let mut changed = plain.clone();
    for (account, _) in changed.values_mut() {
        account.nonce += 1;
    }
    let post = post_state_of(&changed);

    // A child branch that the tree mask promises is missing.
    let mut missing = store.clone();
    let (&root_path, _) = missing.account_nodes.iter().next().unwrap();
    let deeper: Vec<Nibbles> =
        missing.account_nodes.keys().filter(|p| p.len() > root_path.len()).copied().collect();
    for path in deeper {
        missing.account_nodes.remove(&path);
    }
    let root_node: &StoredNode = &missing.account_nodes[&root_path];
    assert!(!root_node.tree_mask.is_empty());
    let error = state_root_incremental(&missing, &post).unwrap_err();
    assert!(matches!(error, TrieError::Inconsistent { .. }), "{error}");

    // Leaves gone while the nodes remain.
    let mut leafless = store;
    leafless.accounts.clear();
    let error = state_root_incremental(&leafless, &post).unwrap_err();
    assert!(matches!(error, TrieError::Inconsistent { .. }), "{error}");
    assert!(account_proof(&leafless, Address::repeat_byte(2), &[]).is_err());
}
