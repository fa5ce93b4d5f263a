//! `mosaic blocktest --store`: the same fixtures through the persistent
//! import path (redb store, incremental state root, one commit per block).
//!
//! The store keeps one canonical chain, so a fixture block on another branch
//! is a reorganisation: unwind to the fork point, re-import the branch's
//! earlier blocks (kept in memory from when they were first accepted), then
//! the block. If that block is invalid, the previous branch is restored, so
//! the head is always the last block accepted, as in the in-memory runner.

use alloy_consensus::{Block, Header, TxEnvelope};
use alloy_primitives::{B256, map::HashMap};
use alloy_rlp::Decodable;
use mosaic_chain::{ImportError, StoredChain};
use mosaic_executor::{InMemoryState, StateProvider};
use mosaic_primitives::ChainSpec;
use mosaic_storage::Store;

/// A chain in a temporary store plus every block it ever accepted.
pub(crate) struct StoreRunner {
    chain: StoredChain,
    accepted: HashMap<B256, Block<TxEnvelope>>,
    genesis: B256,
    _dir: tempfile::TempDir,
}

impl StoreRunner {
    /// A fresh store holding `pre` under `genesis`.
    pub(crate) fn new(spec: ChainSpec, genesis: &Header, pre: &InMemoryState) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let store = Store::create(dir.path().join("mosaic.redb")).map_err(|e| e.to_string())?;
        let head = store.init_genesis(pre, genesis).map_err(|e| e.to_string())?;
        let chain = StoredChain::new(store, spec).with_options(crate::exec_options());
        Ok(Self { chain, accepted: HashMap::default(), genesis: head.hash, _dir: dir })
    }

    /// The head hash.
    pub(crate) fn head(&self) -> Result<B256, String> {
        self.chain.head().map(|h| h.hash).map_err(|e| e.to_string())
    }

    /// Decodes and imports a block, reorganising if its parent is not the
    /// head.
    pub(crate) fn import_rlp(&mut self, mut rlp: &[u8]) -> Result<B256, String> {
        let block = Block::<TxEnvelope>::decode(&mut rlp).map_err(|e| format!("malformed block RLP: {e}"))?;
        if !rlp.is_empty() {
            return Err(format!("malformed block RLP: {} trailing bytes", rlp.len()));
        }
        let old_head = self.head()?;
        if block.header.parent_hash != old_head {
            self.switch_to(block.header.parent_hash)?;
        }
        match self.chain.import(&block) {
            Ok(done) => {
                self.accepted.insert(done.head.hash, block);
                Ok(done.head.hash)
            }
            Err(error) => {
                if self.head()? != old_head {
                    self.switch_to(old_head)?;
                }
                Err(error.to_string())
            }
        }
    }

    /// Makes `target` (an accepted block or the genesis) the head.
    fn switch_to(&mut self, target: B256) -> Result<(), String> {
        let snapshot = self.chain.store().snapshot().map_err(|e| e.to_string())?;
        // Walk back from the target to the canonical chain.
        let mut path = Vec::new();
        let mut cursor = target;
        let fork = loop {
            if cursor == self.genesis {
                break 0;
            }
            let block =
                self.accepted.get(&cursor).ok_or_else(|| ImportError::UnknownParent(cursor).to_string())?;
            let number = block.header.number;
            if snapshot.block_hash(number).map_err(|e| e.to_string())? == Some(cursor) {
                break number;
            }
            path.push(cursor);
            cursor = block.header.parent_hash;
        };
        drop(snapshot);
        self.chain.store().unwind_to(fork).map_err(|e| e.to_string())?;
        for hash in path.into_iter().rev() {
            let block = &self.accepted[&hash];
            self.chain.import(block).map_err(|e| format!("re-importing {hash} after a reorg: {e}"))?;
        }
        Ok(())
    }

    /// Compares the expected accounts with the stored head state (the
    /// state root was checked at import, which covers the rest).
    pub(crate) fn check_post_state(&self, expected: &InMemoryState) -> Result<(), String> {
        let state = self.chain.store().latest_state().map_err(|e| e.to_string())?;
        for (address, want) in &expected.accounts {
            let got = state.account(*address).map_err(|e| e.to_string())?;
            let Some(got) = got else { return Err(format!("post-state: {address} missing")) };
            if (got.nonce, got.balance, got.code_hash) != (want.nonce, want.balance, want.code_hash) {
                return Err(format!("post-state differs at {address}: got {got:?}, expected {want:?}"));
            }
            for (slot, value) in &want.storage {
                let stored = state.storage(*address, *slot).map_err(|e| e.to_string())?;
                if stored != *value {
                    return Err(format!("post-state {address} slot {slot}: got {stored}, expected {value}"));
                }
            }
        }
        Ok(())
    }

    /// The head header.
    pub(crate) fn head_header(&self) -> Result<Header, String> {
        let snapshot = self.chain.store().snapshot().map_err(|e| e.to_string())?;
        let head = snapshot.require_head().map_err(|e| e.to_string())?;
        snapshot.header(head.hash).map_err(|e| e.to_string())?.ok_or_else(|| "head header missing".into())
    }
}
