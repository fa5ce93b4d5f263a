//! Property tests of the incremental root: random states and random blocks of
//! changes (new, updated and deleted accounts and slots, wiped storage, keys
//! sharing long prefixes), checked after every block against roots computed
//! from scratch by `HashBuilder` and by the naive reference trie, against the
//! nodes a from-scratch build stores, and against alloy-trie's proof
//! verifier. `PROPTEST_CASES` raises the number of cases.

use std::collections::BTreeMap;

use alloy_primitives::{B256, U256};
use alloy_trie::{HashBuilder, KECCAK_EMPTY, Nibbles, nodes::RlpNode, proof::verify_proof};
use proptest::{prelude::*, sample::Index};

use super::{AccountTrie, StorageTrie};
use crate::{
    Account, HashedPostState, MemoryTrieStore, StoredNode, TrieAccount, naive, proof::prove, root,
    state_root_incremental,
};

/// Keys that often share long prefixes with one of a few bases.
fn key() -> impl Strategy<Value = B256> {
    const BASES: [[u8; 32]; 3] = [[0; 32], [0x5a; 32], [0xff; 32]];
    prop_oneof![
        1 => any::<[u8; 32]>().prop_map(B256::from),
        2 => (0..BASES.len(), 0usize..=64, any::<[u8; 32]>()).prop_map(|(base, shared, noise)| {
            let mut nibbles = Nibbles::unpack(BASES[base]).slice(..shared);
            nibbles.extend(&Nibbles::unpack(noise).slice(shared..));
            let mut key = B256::ZERO;
            nibbles.pack_to(key.as_mut_slice());
            key
        }),
    ]
}

fn value() -> impl Strategy<Value = U256> {
    prop_oneof![1 => Just(U256::ZERO), 3 => (1u64..1000).prop_map(U256::from), 1 => any::<[u8; 32]>().prop_map(U256::from_be_bytes)]
}

fn account() -> impl Strategy<Value = Account> {
    (any::<u64>(), value(), any::<bool>()).prop_map(|(nonce, balance, code)| Account {
        nonce,
        balance,
        code_hash: if code { B256::repeat_byte(0xc0) } else { KECCAK_EMPTY },
    })
}

fn slots(max: usize) -> impl Strategy<Value = BTreeMap<B256, U256>> {
    prop::collection::btree_map(key(), value(), 0..max)
}

/// A key: one that exists already or a new one.
#[derive(Debug, Clone)]
enum Pick {
    Existing(Index),
    Fresh(B256),
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![any::<Index>().prop_map(Pick::Existing), key().prop_map(Pick::Fresh)]
}

fn choose(pick: &Pick, existing: &[B256]) -> B256 {
    match pick {
        Pick::Existing(index) if !existing.is_empty() => *index.get(existing),
        Pick::Existing(_) => B256::ZERO,
        Pick::Fresh(key) => *key,
    }
}

#[derive(Debug, Clone)]
enum Op {
    SetAccount(Pick, Account),
    DeleteAccount(Index),
    SetSlot(Index, Pick, U256),
    Wipe(Index, BTreeMap<B256, U256>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (pick(), account()).prop_map(|(p, a)| Op::SetAccount(p, a)),
        1 => any::<Index>().prop_map(Op::DeleteAccount),
        4 => (any::<Index>(), pick(), value()).prop_map(|(a, p, v)| Op::SetSlot(a, p, v)),
        1 => (any::<Index>(), slots(4)).prop_map(|(a, s)| Op::Wipe(a, s)),
    ]
}

/// The reference state: hashed address to fields and non-zero slots.
#[derive(Debug, Clone, Default)]
struct Model(BTreeMap<B256, (Account, BTreeMap<B256, U256>)>);

impl Model {
    fn new(accounts: BTreeMap<B256, (Account, BTreeMap<B256, U256>)>) -> Self {
        let mut model = Self::default();
        model.apply(&Self(accounts).post_state());
        model
    }

    fn storage_root(slots: &BTreeMap<B256, U256>) -> B256 {
        root::hash_sorted_leaves(slots.iter().map(|(slot, value)| (slot, alloy_rlp::encode(value))))
    }

    fn leaves(&self) -> BTreeMap<B256, TrieAccount> {
        self.0
            .iter()
            .map(|(key, (account, slots))| (*key, account.with_storage_root(Self::storage_root(slots))))
            .collect()
    }

    /// `HashBuilder`'s root, and the naive trie's.
    fn roots(&self) -> (B256, B256) {
        let leaves = self.leaves();
        let built =
            root::hash_sorted_leaves(leaves.iter().map(|(key, account)| (key, alloy_rlp::encode(account))));
        let naive = naive::trie_root(self.0.iter().map(|(key, (account, slots))| {
            let storage = naive::trie_root(slots.iter().map(|(s, v)| (s.to_vec(), alloy_rlp::encode(v))));
            (key.to_vec(), alloy_rlp::encode(account.with_storage_root(storage)))
        }));
        (built, naive)
    }

    /// The change set that creates this state from nothing.
    fn post_state(&self) -> HashedPostState {
        let mut post = HashedPostState::new();
        for (key, (account, slots)) in &self.0 {
            post.accounts.insert(*key, Some(*account));
            post.storages.entry(*key).or_default().slots = slots.clone();
        }
        post
    }

    fn apply(&mut self, post: &HashedPostState) {
        for (key, change) in &post.accounts {
            match change {
                None => drop(self.0.remove(key)),
                Some(account) => self.0.entry(*key).or_default().0 = *account,
            }
        }
        for (key, storage) in &post.storages {
            let Some((_, slots)) = self.0.get_mut(key) else { continue };
            if storage.wiped {
                slots.clear();
            }
            for (slot, value) in &storage.slots {
                if value.is_zero() {
                    slots.remove(slot);
                } else {
                    slots.insert(*slot, *value);
                }
            }
        }
    }

    /// Turns random operations into a consistent change set for this state.
    fn block(&self, ops: &[Op]) -> HashedPostState {
        let mut post = HashedPostState::new();
        for op in ops {
            let live: Vec<B256> = self
                .0
                .keys()
                .chain(post.accounts.keys())
                .filter(|key| post.accounts.get(*key).is_none_or(Option::is_some))
                .copied()
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            match op {
                Op::SetAccount(pick, account) => {
                    post.accounts.insert(choose(pick, &live), Some(*account));
                }
                Op::DeleteAccount(index) if !live.is_empty() => {
                    let key = *index.get(&live);
                    post.accounts.insert(key, None);
                    let storage = post.storages.entry(key).or_default();
                    storage.wiped = true;
                    storage.slots.clear();
                }
                Op::SetSlot(index, pick, value) if !live.is_empty() => {
                    let key = *index.get(&live);
                    let storage = post.storages.entry(key).or_default();
                    let existing: Vec<B256> = match self.0.get(&key) {
                        Some((_, slots)) if !storage.wiped => slots.keys().copied().collect(),
                        _ => Vec::new(),
                    };
                    storage.slots.insert(choose(pick, &existing), *value);
                }
                Op::Wipe(index, slots) if !live.is_empty() => {
                    let storage = post.storages.entry(*index.get(&live)).or_default();
                    storage.wiped = true;
                    storage.slots = slots.clone();
                }
                _ => {}
            }
        }
        post
    }
}

/// Checks stored nodes against `HashBuilder`'s branch nodes for the same
/// leaves: same paths, same child masks, same child hashes.
fn check_nodes(
    leaves: Vec<(B256, Vec<u8>)>,
    nodes: Option<&BTreeMap<Nibbles, StoredNode>>,
) -> Result<(), TestCaseError> {
    let mut builder = HashBuilder::default().with_updates(true).with_all_branch_nodes(true);
    for (key, value) in &leaves {
        builder.add_leaf(Nibbles::unpack(key), value);
    }
    builder.root();
    let (_, theirs) = builder.split();
    let empty = BTreeMap::new();
    let nodes = nodes.unwrap_or(&empty);
    prop_assert_eq!(theirs.len(), nodes.len());
    for (path, compact) in theirs {
        let Some(node) = nodes.get(&path) else {
            return Err(TestCaseError::fail(format!("missing node {path:?}")));
        };
        prop_assert_eq!(node.state_mask, compact.state_mask);
        for nibble in 0..16 {
            if compact.hash_mask.is_bit_set(nibble) {
                prop_assert_eq!(
                    node.child(nibble),
                    Some(&RlpNode::word_rlp(&compact.hash_for_nibble(nibble)))
                );
            }
        }
    }
    Ok(())
}

/// Checks the store after a block against the model.
fn check(store: &MemoryTrieStore, model: &Model, root: B256) -> Result<(), TestCaseError> {
    let (built, naive) = model.roots();
    prop_assert_eq!(root, built);
    prop_assert_eq!(root, naive);
    let (fresh_root, fresh) = MemoryTrieStore::from_post_state(&model.post_state()).unwrap();
    prop_assert_eq!(fresh_root, root);
    prop_assert_eq!(&fresh, store);
    let leaves = model.leaves().into_iter().map(|(key, account)| (key, alloy_rlp::encode(account))).collect();
    check_nodes(leaves, Some(&store.account_nodes))?;
    for (key, (_, slots)) in &model.0 {
        let leaves = slots.iter().map(|(slot, value)| (*slot, alloy_rlp::encode(value))).collect();
        check_nodes(leaves, store.storage_nodes.get(key))?;
    }
    Ok(())
}

/// Proves some present and absent keys and verifies them with alloy-trie.
fn check_proofs(
    store: &MemoryTrieStore,
    model: &Model,
    root: B256,
    probes: &[B256],
) -> Result<(), TestCaseError> {
    let leaves = model.leaves();
    for key in leaves.keys().take(4).chain(probes) {
        let (value, proof) = prove(&AccountTrie(store), *key).unwrap();
        let expected = leaves.get(key).map(alloy_rlp::encode);
        prop_assert_eq!(&value, &expected);
        prop_assert!(verify_proof(root, Nibbles::unpack(key), expected, &proof).is_ok());
        let Some((account, (_, slots))) = leaves.get(key).zip(model.0.get(key)) else { continue };
        for slot in slots.keys().take(3).chain(probes) {
            let (value, proof) = prove(&StorageTrie { reader: store, hashed_address: *key }, *slot).unwrap();
            let expected = slots.get(slot).map(alloy_rlp::encode);
            prop_assert_eq!(&value, &expected);
            prop_assert!(verify_proof(account.storage_root, Nibbles::unpack(slot), expected, &proof).is_ok());
        }
    }
    Ok(())
}

fn initial_state() -> impl Strategy<Value = BTreeMap<B256, (Account, BTreeMap<B256, U256>)>> {
    prop::collection::btree_map(key(), (account(), prop_oneof![3 => slots(3), 1 => slots(24)]), 0..24)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(128)
    ))]

    #[test]
    fn incremental_root_matches_from_scratch(
        initial in initial_state(),
        blocks in prop::collection::vec(prop::collection::vec(op(), 1..10), 1..6),
        probes in prop::collection::vec(key(), 2),
    ) {
        let mut model = Model::new(initial);
        let (mut root, mut store) = MemoryTrieStore::from_post_state(&model.post_state()).unwrap();
        check(&store, &model, root)?;
        for ops in &blocks {
            let post = model.block(ops);
            let (new_root, updates) = state_root_incremental(&store, &post).unwrap();
            for (key, storage) in &updates.storages {
                let expected = model.0.get(key).map_or(alloy_trie::EMPTY_ROOT_HASH, |(_, s)| Model::storage_root(s));
                let mut after = model.clone();
                after.apply(&post);
                let expected_after = after.0.get(key).map_or(alloy_trie::EMPTY_ROOT_HASH, |(_, s)| Model::storage_root(s));
                prop_assert!(storage.root == expected_after, "storage root of {key}: {} (before {expected})", storage.root);
            }
            store.apply(&updates);
            model.apply(&post);
            root = new_root;
            check(&store, &model, root)?;
        }
        check_proofs(&store, &model, root, &probes)?;
    }
}
