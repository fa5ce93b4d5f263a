//! Merkle Patricia trie roots for Mosaic: the state root over accounts, the
//! storage root of one account, and plain/secure roots over raw key-value
//! pairs, all built with `alloy-trie`'s `HashBuilder` from sorted leaves.

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rlp::{Encodable, RlpEncodable};
use alloy_trie::{EMPTY_ROOT_HASH, HashBuilder, Nibbles};

/// An account leaf as the state trie stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable)]
pub struct TrieAccount {
    /// Nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Root of the account's storage trie.
    pub storage_root: B256,
    /// Hash of the account's code.
    pub code_hash: B256,
}

/// Root of a trie whose keys are already in their final (possibly hashed)
/// form. Keys may come in any order; later duplicates win.
pub fn trie_root<I: IntoIterator<Item = (Vec<u8>, Vec<u8>)>>(entries: I) -> B256 {
    let mut leaves: Vec<(Vec<u8>, Vec<u8>)> = entries.into_iter().collect();
    leaves.sort_by(|a, b| a.0.cmp(&b.0));
    leaves.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            std::mem::swap(later, earlier);
            true
        } else {
            false
        }
    });
    if leaves.is_empty() {
        return EMPTY_ROOT_HASH;
    }
    let mut builder = HashBuilder::default();
    for (key, value) in &leaves {
        builder.add_leaf(Nibbles::unpack(key), value);
    }
    builder.root()
}

/// Root of a trie whose keys are hashed with keccak256 first.
pub fn secure_trie_root<I: IntoIterator<Item = (Vec<u8>, Vec<u8>)>>(entries: I) -> B256 {
    trie_root(entries.into_iter().map(|(k, v)| (keccak256(k).to_vec(), v)))
}

/// Storage root from slot → value pairs; zero values are not stored.
pub fn storage_root<I: IntoIterator<Item = (U256, U256)>>(slots: I) -> B256 {
    trie_root(slots.into_iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| {
        let mut out = Vec::with_capacity(33);
        v.encode(&mut out);
        (keccak256(k.to_be_bytes::<32>()).to_vec(), out)
    }))
}

/// State root from address → account pairs.
pub fn state_root<I: IntoIterator<Item = (Address, TrieAccount)>>(accounts: I) -> B256 {
    trie_root(accounts.into_iter().map(|(address, account)| {
        let mut out = Vec::with_capacity(110);
        account.encode(&mut out);
        (keccak256(address).to_vec(), out)
    }))
}
