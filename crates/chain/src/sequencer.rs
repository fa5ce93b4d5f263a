//! The sequencer's block production: pending transactions from the pool,
//! best first, become a block on the head, which is merklized and committed
//! in one write transaction; then the pool moves to the new head.
//!
//! Candidates are picked by [`TxPool::best_transactions`] up to the block
//! gas limit (by their gas limits), executed in build mode (parallel engine
//! when it pays, see `ExecOptions`), and the ones that turn out invalid at
//! their position are logged and dropped from the pool; reverted and
//! out-of-gas transactions are included and pay.

use crate::{
    BlockAttributes, BlockError, BuiltBlock, ImportError, PoolHead, StoredChain, TxPool, build_block,
    expected_excess_blob_gas,
};
use alloy_consensus::Header;
use alloy_primitives::{Address, B256};
use mosaic_executor::StateDiff;
use mosaic_primitives::{ChainSpec, Hardfork};
use mosaic_storage::{BlockCommit, BlockRef, LatestState};
use mosaic_trie::TrieUpdates;
use std::sync::Arc;

/// What the sequencer produced.
#[derive(Debug, Clone)]
pub struct Produced {
    /// The new head.
    pub head: BlockRef,
    /// Transactions included.
    pub txs: usize,
    /// Gas used.
    pub gas_used: u64,
    /// Candidates dropped from the pool, with the reason.
    pub dropped: Vec<(B256, String)>,
}

/// Builds blocks from a pool onto a stored chain.
#[derive(Debug)]
pub struct Sequencer {
    chain: StoredChain,
    pool: Arc<TxPool>,
    beneficiary: Address,
}

impl Sequencer {
    /// A sequencer for `chain`, paying fees to `beneficiary`.
    pub const fn new(chain: StoredChain, pool: Arc<TxPool>, beneficiary: Address) -> Self {
        Self { chain, pool, beneficiary }
    }

    /// The chain.
    pub const fn chain(&self) -> &StoredChain {
        &self.chain
    }

    /// The pool.
    pub const fn pool(&self) -> &Arc<TxPool> {
        &self.pool
    }

    /// The pool's view of the current head.
    pub fn pool_head(&self) -> Result<PoolHead, ImportError> {
        let header = self.head_header()?;
        Ok(PoolHead::from_header(self.chain.spec(), &header))
    }

    fn head_header(&self) -> Result<Header, ImportError> {
        let snapshot = self.chain.store().snapshot().map_err(ImportError::store)?;
        let head = snapshot.require_head().map_err(ImportError::store)?;
        snapshot.header(head.hash).map_err(ImportError::store)?.ok_or(ImportError::UnknownParent(head.hash))
    }

    /// Produces one block from the pool's pending transactions (possibly
    /// empty) with the given timestamp (raised to parent + 1 if not above
    /// the parent's).
    pub fn produce(&self, timestamp: u64) -> Result<Produced, ImportError> {
        let spec = self.chain.spec();
        let parent = self.head_header()?;
        let number = parent.number + 1;
        let timestamp = timestamp.max(parent.timestamp + 1);
        let state = self.chain.store().latest_state().map_err(ImportError::store)?;
        let attrs = BlockAttributes {
            timestamp,
            beneficiary: self.beneficiary,
            gas_limit: parent.gas_limit,
            prev_randao: parent.mix_hash,
            parent_beacon_block_root: Some(B256::ZERO),
            ..Default::default()
        };
        let candidates = self.candidates(spec, &parent, number, timestamp);
        let invalid = |error: BlockError| ImportError::Invalid { number, hash: B256::ZERO, error };
        let mut trie: Option<TrieUpdates> = None;
        let root = |diff: &StateDiff| {
            let (root, updates) =
                state.trie_updates(diff).map_err(|e| BlockError::Header(format!("state root: {e}")))?;
            trie = Some(updates);
            Ok(root)
        };
        let built = build_block(spec, &parent, &state, &attrs, candidates, self.chain.options(), root)
            .map_err(invalid)?;
        let trie = trie.ok_or_else(|| invalid(BlockError::Header("no state root computed".into())))?;
        let head = self.commit(&built, &trie)?;
        let dropped = self.after_commit(&built, &head)?;
        Ok(Produced {
            head,
            txs: built.block.body.transactions.len(),
            gas_used: built.block.header.gas_used,
            dropped,
        })
    }

    /// Best pending transactions that fit the gas limit by their limits.
    fn candidates(
        &self,
        spec: &ChainSpec,
        parent: &Header,
        number: u64,
        timestamp: u64,
    ) -> Vec<(alloy_consensus::TxEnvelope, Address)> {
        let base_fee = crate::expected_base_fee(spec, parent, number, timestamp).unwrap_or(0);
        let blob_fee = spec.is_active(Hardfork::Cancun, number, timestamp).then(|| {
            let excess = expected_excess_blob_gas(spec, parent, number, timestamp).unwrap_or(0);
            let fraction = spec.blob_schedule(number, timestamp).map_or(1, |s| s.update_fraction);
            alloy_eips::eip4844::fake_exponential(
                alloy_eips::eip4844::BLOB_TX_MIN_BLOB_GASPRICE,
                excess as u128,
                fraction as u128,
            )
        });
        let mut room = parent.gas_limit;
        let mut picked = Vec::new();
        let mut best = self.pool.best_transactions(base_fee, blob_fee);
        while let Some(tx) = best.next() {
            let gas = tx.gas_limit();
            if gas > room {
                // No room for this sender's next transaction in this block.
                best.mark_invalid(tx.sender());
                if room < 21_000 {
                    break;
                }
                continue;
            }
            room -= gas;
            picked.push((tx.tx().clone(), tx.sender()));
        }
        picked
    }

    fn commit(&self, built: &BuiltBlock, trie: &TrieUpdates) -> Result<BlockRef, ImportError> {
        let commit =
            BlockCommit { block: &built.block, receipts: &built.receipts, diff: &built.output.diff, trie };
        self.chain.store().commit_block(commit).map_err(ImportError::store)
    }

    /// Moves the pool to the new head and drops what the builder skipped.
    fn after_commit(&self, built: &BuiltBlock, head: &BlockRef) -> Result<Vec<(B256, String)>, ImportError> {
        let dropped: Vec<(B256, String)> = built.skipped.iter().map(|s| (s.hash, s.reason.clone())).collect();
        let hashes: Vec<B256> = dropped.iter().map(|(h, _)| *h).collect();
        self.pool.remove(&hashes);
        let state: LatestState = self.chain.store().latest_state().map_err(ImportError::store)?;
        let pool_head = PoolHead::from_header(self.chain.spec(), &built.block.header);
        let changed = built.output.diff.accounts.keys().copied().chain(built.senders.iter().copied());
        self.pool.on_block_committed(&pool_head, changed, &state).map_err(|e| ImportError::Invalid {
            number: head.number,
            hash: head.hash,
            error: BlockError::Execution(e.into()),
        })?;
        Ok(dropped)
    }
}
