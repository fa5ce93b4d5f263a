//! State roots of in-memory states.

use alloy_primitives::B256;
use mosaic_executor::{InMemoryState, MemAccount};
use mosaic_trie::TrieAccount;
use rayon::prelude::*;

/// The storage root of one account.
pub fn storage_root_of(account: &MemAccount) -> B256 {
    mosaic_trie::storage_root(account.storage.iter().map(|(k, v)| (*k, *v)))
}

/// The state root of a whole in-memory state; storage roots are computed in
/// parallel.
pub fn state_root(state: &InMemoryState) -> B256 {
    let accounts: Vec<_> = state
        .accounts
        .par_iter()
        .map(|(address, a)| {
            (
                *address,
                TrieAccount {
                    nonce: a.nonce,
                    balance: a.balance,
                    storage_root: storage_root_of(a),
                    code_hash: a.code_hash,
                },
            )
        })
        .collect();
    mosaic_trie::state_root(accounts)
}
