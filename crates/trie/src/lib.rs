//! Merkle Patricia trie roots for Mosaic. This crate turns key/value sets into
//! Ethereum trie roots: the account trie ([`state_root`], keyed by
//! `keccak256(address)`), per-account storage tries ([`storage_root`], keyed by
//! `keccak256(slot)`), and generic tries over raw or hashed keys
//! ([`trie_root`], [`secure_trie_root`]). Sorted, prefix-free keys of at most
//! 32 bytes (every secure trie) go through `alloy_trie::HashBuilder`; raw keys
//! that are prefixes of one another, or longer than 32 bytes, go through a small
//! recursive builder in this crate. For a persisted state it also computes the
//! root incrementally ([`state_root_incremental`]) from a block's
//! [`HashedPostState`], reading the parent state through the small
//! [`TrieReader`] trait (see [`store`] for the tables a backend keeps), with
//! storage tries in parallel, and returns the [`TrieUpdates`] to write back;
//! [`build_state`] fills an empty store, [`account_proof`] answers EIP-1186
//! proofs from the same tables, [`MemoryTrieStore`] is an in-memory backend
//! and [`bench_state_root`] times incremental against full. With the
//! `test-utils` feature (always in this crate's own tests) the `naive` module
//! offers an independent reference implementation that the property tests
//! compare against.

mod account;
mod bench;
mod error;
mod incremental;
mod memory;
mod nodes;
mod post_state;
mod proof;
mod root;
pub mod store;
mod updates;

#[cfg(any(test, feature = "test-utils"))]
pub mod naive;

#[cfg(test)]
mod proptests;

pub use account::TrieAccount;
pub use alloy_trie::{EMPTY_ROOT_HASH, KECCAK_EMPTY, Nibbles, TrieMask, nodes::RlpNode};
pub use bench::{StateRootBench, StateRootBenchReport, bench_state_root};
pub use error::{TrieError, TrieKind, TrieResult};
pub use incremental::{build_state, state_root_incremental, storage_root_incremental};
pub use memory::MemoryTrieStore;
pub use post_state::{Account, HashedPostState, HashedStorage};
pub use proof::{AccountProof, StorageProof, account_proof};
pub use root::{secure_trie_root, state_root, storage_root, trie_root};
pub use store::{StoredNode, TrieReader};
pub use updates::{NodeUpdates, StorageTrieUpdates, TrieUpdates};
