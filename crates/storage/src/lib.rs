//! The embedded database of Mosaic, on redb: flat accounts, storage and code
//! for O(1) state reads; hashed accounts and storage plus stored branch nodes
//! for the trie crate's incremental roots ([`mosaic_trie::TrieReader`]);
//! headers, bodies, receipts and a transaction index; and per-block
//! changesets of old values with a history index, so that the state after
//! any retained block can be read ([`HistoricalState`]) and the head can be
//! unwound ([`Store::unwind_to`]). One redb write transaction commits one
//! block ([`Store::commit_block`]). The executor reads through
//! [`LatestState`] / [`HistoricalState`], which implement
//! [`mosaic_executor::StateProvider`]; both also implement
//! [`mosaic_trie::TrieReader`], so state roots and EIP-1186 proofs
//! ([`HistoricalState::account_proof`]) work at the head and at any retained
//! past block (trie nodes are stored for the head only; key-ordered histories
//! of hashed leaves and node changes give their values after any block).
//! [`LatestState::full_state_root`] recomputes a root from every leaf, the
//! baseline and cross-check of the incremental one. Nothing above this crate
//! sees redb. Table layouts and value encodings are documented in `tables`
//! and `codec`.
//!
//! ```no_run
//! use alloy_consensus::{Block, ReceiptEnvelope, TxEnvelope};
//! use mosaic_executor::StateDiff;
//! use mosaic_storage::{BlockCommit, Store, StoreResult};
//!
//! fn import(
//!     store: &Store,
//!     block: &Block<TxEnvelope>,
//!     receipts: &[ReceiptEnvelope],
//!     diff: &StateDiff,
//! ) -> StoreResult<()> {
//!     // `latest` is the executor's `StateProvider` and the trie's `TrieReader`.
//!     let latest = store.latest_state()?;
//!     // ... execute `block` against `latest`, giving `receipts` and `diff` ...
//!     let (root, trie) = latest.trie_updates(diff)?;
//!     assert_eq!(root, block.header.state_root);
//!     store.commit_block(BlockCommit { block, receipts, diff, trie: &trie })?;
//!     Ok(())
//! }
//! ```

mod blocks;
mod code_cache;
mod codec;
mod commit;
mod error;
mod full_root;
mod genesis;
mod history_trie;
mod provider;
mod snapshot;
mod state_tables;
mod store;
mod tables;
mod trie_builder;
mod trie_reader;
mod trie_tables;
mod unwind;

pub use blocks::{Body, TxLocation};
pub use codec::StoredAccount;
pub use commit::BlockCommit;
pub use error::{StoreError, StoreResult};
pub use genesis::GenesisWriter;
pub use provider::{HistoricalState, LatestState};
pub use snapshot::Snapshot;
pub use store::{BlockRef, Store, StoreOptions};
pub use tables::FORMAT_VERSION;
pub use trie_reader::hashed_post_state;
