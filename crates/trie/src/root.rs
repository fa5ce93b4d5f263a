//! Root computations: the public entry points of the crate.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, HashBuilder, Nibbles};

use crate::{TrieAccount, nodes};

/// Longest key, in bytes, that `alloy_trie`'s fixed-size `Nibbles` can hold.
const HASH_BUILDER_MAX_KEY: usize = 32;

/// Root of a contract's storage trie.
///
/// Each slot is keyed by `keccak256` of its 32-byte big-endian index and
/// stores the RLP encoding of its value. Slots whose value is zero are absent
/// from the trie; when a slot appears more than once the last value wins.
/// Input order does not matter. No slots give [`EMPTY_ROOT_HASH`].
pub fn storage_root<I>(slots: I) -> B256
where
    I: IntoIterator<Item = (U256, U256)>,
{
    let mut leaves = BTreeMap::new();
    for (slot, value) in slots {
        leaves.insert(keccak256(slot.to_be_bytes::<32>()), value);
    }
    hash_sorted_leaves(
        leaves
            .into_iter()
            .filter(|(_, value)| !value.is_zero())
            .map(|(key, value)| (key, alloy_rlp::encode(value))),
    )
}

/// Root of the account (state) trie.
///
/// Each account is keyed by `keccak256(address)` and stores the RLP encoding
/// of its [`TrieAccount`]. When an address appears more than once the last
/// account wins. Input order does not matter. No accounts give
/// [`EMPTY_ROOT_HASH`].
pub fn state_root<I>(accounts: I) -> B256
where
    I: IntoIterator<Item = (Address, TrieAccount)>,
{
    let mut leaves = BTreeMap::new();
    for (address, account) in accounts {
        leaves.insert(keccak256(address), account);
    }
    hash_sorted_leaves(leaves.into_iter().map(|(key, account)| (key, alloy_rlp::encode(account))))
}

/// Root of a trie over raw keys (no hashing), as in Ethereum's plain
/// (non-secure) trie; hash the keys first if a secure trie is wanted, or call
/// [`secure_trie_root`].
///
/// Values are stored as given (encode them first if they need RLP). An empty
/// value means "absent", as in Ethereum's trie, so such entries are skipped;
/// when a key appears more than once the last value wins. Keys may have any
/// length and may be prefixes of one another (their values then sit in branch
/// nodes). Input order does not matter. No entries give [`EMPTY_ROOT_HASH`].
pub fn trie_root<I>(entries: I) -> B256
where
    I: IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
{
    let map: BTreeMap<Vec<u8>, Vec<u8>> = entries.into_iter().collect();
    let leaves: Vec<(Vec<u8>, Vec<u8>)> = map.into_iter().filter(|(_, value)| !value.is_empty()).collect();
    if fits_hash_builder(&leaves) { hash_sorted_leaves(leaves) } else { nodes::root_of_sorted(&leaves) }
}

/// Root of a secure trie: like [`trie_root`] but every key is replaced by its
/// `keccak256` first. An empty value means "absent"; when a key appears more
/// than once the last value wins.
pub fn secure_trie_root<I>(entries: I) -> B256
where
    I: IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
{
    let mut leaves = BTreeMap::new();
    for (key, value) in entries {
        leaves.insert(keccak256(&key), value);
    }
    hash_sorted_leaves(leaves.into_iter().filter(|(_, value)| !value.is_empty()))
}

/// Whether sorted, deduplicated keys can be fed to `HashBuilder`: each key
/// non-empty and at most 32 bytes, and none a prefix of another. In sorted order a key that is
/// a prefix of some later key is also a prefix of its immediate successor, so
/// checking neighbours is enough.
pub(crate) fn fits_hash_builder<K: AsRef<[u8]>, V>(sorted: &[(K, V)]) -> bool {
    sorted.iter().all(|(key, _)| (1..=HASH_BUILDER_MAX_KEY).contains(&key.as_ref().len()))
        && sorted.windows(2).all(|pair| !pair[1].0.as_ref().starts_with(pair[0].0.as_ref()))
}

/// Feeds leaves, sorted by key, prefix-free and with keys of at most 32 bytes,
/// to `alloy_trie::HashBuilder` and returns the root.
pub(crate) fn hash_sorted_leaves<K, V, I>(leaves: I) -> B256
where
    K: AsRef<[u8]>,
    V: AsRef<[u8]>,
    I: IntoIterator<Item = (K, V)>,
{
    let mut builder = HashBuilder::default();
    let mut any = false;
    for (key, value) in leaves {
        builder.add_leaf(Nibbles::unpack(key.as_ref()), value.as_ref());
        any = true;
    }
    if any { builder.root() } else { EMPTY_ROOT_HASH }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_inputs_give_empty_root() {
        assert_eq!(trie_root(Vec::new()), EMPTY_ROOT_HASH);
        assert_eq!(secure_trie_root(Vec::new()), EMPTY_ROOT_HASH);
        assert_eq!(storage_root(Vec::new()), EMPTY_ROOT_HASH);
        assert_eq!(state_root(Vec::new()), EMPTY_ROOT_HASH);
        assert_eq!(storage_root([(U256::from(1), U256::ZERO)]), EMPTY_ROOT_HASH);
        assert_eq!(trie_root([(b"a".to_vec(), Vec::new())]), EMPTY_ROOT_HASH);
    }

    #[test]
    fn last_value_wins() {
        let once = trie_root([(b"dog".to_vec(), b"puppy".to_vec())]);
        let twice = trie_root([(b"dog".to_vec(), b"cat".to_vec()), (b"dog".to_vec(), b"puppy".to_vec())]);
        assert_eq!(once, twice);
        let cleared = storage_root([(U256::from(3), U256::from(9)), (U256::from(3), U256::ZERO)]);
        assert_eq!(cleared, EMPTY_ROOT_HASH);
    }

    #[test]
    fn prefix_free_check() {
        let ok = [(b"ab".to_vec(), ()), (b"b".to_vec(), ())];
        assert!(fits_hash_builder(&ok));
        let prefix = [(b"do".to_vec(), ()), (b"dog".to_vec(), ())];
        assert!(!fits_hash_builder(&prefix));
        let long = [(vec![0u8; 33], ())];
        assert!(!fits_hash_builder(&long));
        let empty = [(Vec::new(), ())];
        assert!(!fits_hash_builder(&empty));
    }

    #[test]
    fn storage_root_matches_alloy() {
        let slots = [(U256::from(1), U256::from(2)), (U256::from(300), U256::MAX)];
        let theirs = alloy_trie::root::storage_root_unhashed(
            slots.iter().map(|(slot, value)| (B256::from(*slot), *value)),
        );
        assert_eq!(storage_root(slots), theirs);
    }
}
