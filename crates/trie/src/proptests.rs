//! Property tests: every root function against the naive reference trie.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256, keccak256};
use proptest::prelude::*;

use crate::{TrieAccount, naive, nodes, root};

/// Bytes from a small alphabet whose nibbles collide a lot, so that random
/// keys share prefixes and produce extension and branch nodes.
fn clustered_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => prop::sample::select(vec![0x00u8, 0x01, 0x10, 0x11, 0x1f, 0xf1, 0xff]),
        1 => any::<u8>(),
    ]
}

/// Keys of varied length: mostly short (prefixes of one another happen),
/// sometimes longer than the 32 bytes `HashBuilder` can take.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(clustered_byte(), 0..5),
        1 => prop::collection::vec(clustered_byte(), 30..40),
    ]
}

/// Values, mostly short so that nodes are inlined; sometimes empty (absent).
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => Just(Vec::new()),
        6 => prop::collection::vec(any::<u8>(), 1..4),
        3 => prop::collection::vec(any::<u8>(), 4..80),
    ]
}

fn entries() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    prop::collection::vec((key(), value()), 0..40)
}

/// Prefix-free entries: equal-length keys over a clustered alphabet.
fn fixed_length_entries() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    (1usize..=32).prop_flat_map(|len| {
        prop::collection::vec(
            (prop::collection::vec(clustered_byte(), len), prop::collection::vec(any::<u8>(), 1..40)),
            0..30,
        )
    })
}

fn u256() -> impl Strategy<Value = U256> {
    prop_oneof![
        2 => Just(U256::ZERO),
        3 => (0u64..300).prop_map(U256::from),
        3 => any::<[u8; 32]>().prop_map(U256::from_be_bytes),
    ]
}

fn account() -> impl Strategy<Value = TrieAccount> {
    (any::<u64>(), u256(), any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(
        |(nonce, balance, storage_root, code_hash)| TrieAccount {
            nonce,
            balance,
            storage_root: B256::from(storage_root),
            code_hash: B256::from(code_hash),
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn trie_root_matches_naive(entries in entries()) {
        prop_assert_eq!(crate::trie_root(entries.clone()), naive::trie_root(entries));
    }

    #[test]
    fn both_builders_agree_on_prefix_free_keys(entries in fixed_length_entries()) {
        let sorted: Vec<(Vec<u8>, Vec<u8>)> =
            entries.iter().cloned().collect::<BTreeMap<_, _>>().into_iter().collect();
        prop_assert!(root::fits_hash_builder(&sorted));
        let expected = naive::trie_root(entries.clone());
        prop_assert_eq!(root::hash_sorted_leaves(sorted.clone()), expected);
        prop_assert_eq!(nodes::root_of_sorted(&sorted), expected);
        prop_assert_eq!(crate::trie_root(entries), expected);
    }

    #[test]
    fn hash_builder_handles_mixed_length_prefix_free_keys(entries in entries()) {
        // Drop empty values and every key that is a prefix of a later one.
        let map: BTreeMap<Vec<u8>, Vec<u8>> =
            entries.into_iter().filter(|(k, v)| !v.is_empty() && (1..=32).contains(&k.len())).collect();
        let sorted: Vec<(Vec<u8>, Vec<u8>)> = map.into_iter().collect();
        let free: Vec<(Vec<u8>, Vec<u8>)> = sorted
            .iter()
            .enumerate()
            .filter(|(i, (key, _))| sorted.get(i + 1).is_none_or(|(next, _)| !next.starts_with(key)))
            .map(|(_, entry)| entry.clone())
            .collect();
        prop_assert!(root::fits_hash_builder(&free));
        let expected = naive::trie_root(free.clone());
        prop_assert_eq!(root::hash_sorted_leaves(free.clone()), expected);
        prop_assert_eq!(nodes::root_of_sorted(&free), expected);
    }

    #[test]
    fn secure_trie_root_is_trie_root_of_hashed_keys(entries in entries()) {
        let hashed: Vec<(Vec<u8>, Vec<u8>)> =
            entries.iter().map(|(k, v)| (keccak256(k).to_vec(), v.clone())).collect();
        prop_assert_eq!(crate::secure_trie_root(entries), naive::trie_root(hashed));
    }

    #[test]
    fn storage_root_is_secure_trie_of_rlp_values(
        slots in prop::collection::vec((u256(), u256()), 0..30)
    ) {
        // Last value per slot wins; zero values are absent.
        let latest: BTreeMap<U256, U256> = slots.iter().copied().collect();
        let encoded = latest
            .iter()
            .filter(|(_, value)| !value.is_zero())
            .map(|(slot, value)| (slot.to_be_bytes::<32>().to_vec(), alloy_rlp::encode(value)));
        prop_assert_eq!(crate::storage_root(slots), crate::secure_trie_root(encoded));
    }

    #[test]
    fn state_root_is_secure_trie_of_rlp_accounts(
        accounts in prop::collection::vec((any::<[u8; 20]>(), account()), 0..20)
    ) {
        let accounts: Vec<(Address, TrieAccount)> =
            accounts.into_iter().map(|(a, acc)| (Address::from(a), acc)).collect();
        let encoded: Vec<(Vec<u8>, Vec<u8>)> = accounts
            .iter()
            .map(|(address, account)| (address.to_vec(), alloy_rlp::encode(account)))
            .collect();
        let hashed: Vec<(Vec<u8>, Vec<u8>)> =
            encoded.iter().map(|(k, v)| (keccak256(k).to_vec(), v.clone())).collect();
        let expected = naive::trie_root(hashed);
        prop_assert_eq!(crate::secure_trie_root(encoded), expected);
        prop_assert_eq!(crate::state_root(accounts), expected);
    }
}
