//! A chain kept in the store: genesis initialization, one-block import, and
//! the pipelined import of block files.
//!
//! Every block is fully verified ([`verify_block`]), its state root is
//! computed incrementally from the store's trie nodes and compared with the
//! header, and block, receipts, state and trie nodes are committed in one
//! write transaction. [`StoredChain::import_pipelined`] overlaps the two
//! halves: the calling thread executes block N+1 on the committed state plus
//! the diffs not committed yet ([`PendingState`]) while a second thread
//! merklizes and commits block N. An invalid block stops the import after
//! the blocks before it are committed; the store never holds a block whose
//! state root was not checked.

use crate::{
    BlockError, FileBlock, ImportError, PendingState, genesis_header, genesis_state, merge_diff,
    verify::{VerifiedBlock, verify_block},
};
use alloy_genesis::Genesis;
use alloy_primitives::B256;
use mosaic_executor::{ExecOptions, StateDiff};
use mosaic_primitives::ChainSpec;
use mosaic_storage::{BlockCommit, BlockRef, LatestState, Store, StoreError};
use std::{
    collections::VecDeque,
    sync::{Arc, mpsc},
    time::{Duration, Instant},
};

/// A committed block, reported to import progress callbacks.
#[derive(Debug, Clone, Copy)]
pub struct Committed {
    /// The new head.
    pub head: BlockRef,
    /// Transactions in the block.
    pub txs: usize,
    /// Gas used by the block.
    pub gas_used: u64,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportStats {
    /// Blocks committed.
    pub imported: u64,
    /// Blocks skipped because the store already had them.
    pub known: u64,
    /// Transactions committed.
    pub txs: u64,
    /// Gas committed.
    pub gas: u64,
}

/// Why an import stopped early: what was committed, and the error.
#[derive(Debug)]
pub struct ImportFailure {
    /// What was committed before the error.
    pub stats: ImportStats,
    /// The error.
    pub error: Box<ImportError>,
}

/// A chain whose blocks and state live in a [`Store`].
#[derive(Debug)]
pub struct StoredChain {
    store: Arc<Store>,
    spec: ChainSpec,
    options: ExecOptions,
    flush_interval: Option<Duration>,
}

impl StoredChain {
    /// A chain over `store`, which must hold a genesis block of `spec`'s chain
    /// (see [`StoredChain::init_genesis`]).
    pub fn new(store: impl Into<Arc<Store>>, spec: ChainSpec) -> Self {
        Self { store: store.into(), spec, options: ExecOptions::default(), flush_interval: None }
    }

    /// For a store opened with non-durable commits: during a pipelined
    /// import, make the commits durable at most this long apart, and at the
    /// end. A crash then loses at most that much work, never consistency.
    pub const fn with_flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = Some(interval);
        self
    }

    /// Uses these executor options for every block.
    pub const fn with_options(mut self, options: ExecOptions) -> Self {
        self.options = options;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The executor options used for every block.
    pub const fn options(&self) -> &ExecOptions {
        &self.options
    }

    /// The chain specification.
    pub const fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// Writes the genesis block of `genesis` into an empty store, or checks
    /// that a store that has one holds this genesis. Returns the genesis
    /// block.
    pub fn init_genesis(store: &Store, genesis: &Genesis, spec: &ChainSpec) -> Result<BlockRef, ImportError> {
        let state = genesis_state(genesis);
        let header = genesis_header(genesis, spec, &state);
        let hash = header.hash_slow();
        let snapshot = store.snapshot().map_err(ImportError::store)?;
        if snapshot.head().is_none() {
            return store.init_genesis(&state, &header).map_err(ImportError::store);
        }
        match snapshot.block_hash(header.number).map_err(ImportError::store)? {
            Some(stored) if stored == hash => Ok(BlockRef { number: header.number, hash }),
            stored => Err(ImportError::GenesisMismatch { expected: hash, stored }),
        }
    }

    /// The head block.
    pub fn head(&self) -> Result<BlockRef, ImportError> {
        self.store.snapshot().and_then(|s| s.require_head()).map_err(ImportError::store)
    }

    /// Verifies and commits one block on top of the head.
    pub fn import(&self, block: &FileBlock) -> Result<Committed, ImportError> {
        let hash = block.header.hash_slow();
        let state = LatestState::new(Arc::new(self.store.snapshot().map_err(ImportError::store)?));
        self.check_extends(&state, block, hash)?;
        let parent = parent_header(&state, block)?;
        let pending = PendingState::new(state.clone());
        let verified = self.verify(block, hash, &parent, &pending, &StateDiff::default())?;
        commit(&self.store, block, hash, &verified)
    }

    /// Imports `blocks` in order with execution of each block overlapping the
    /// merklization and commit of the one before. Blocks the store already
    /// has are skipped. `on_commit` runs on the committing thread after each
    /// commit. Stops at the first bad block (or file error) with everything
    /// before it committed.
    pub fn import_pipelined<I>(
        &self,
        blocks: I,
        mut on_commit: impl FnMut(&Committed) + Send,
    ) -> Result<ImportStats, ImportFailure>
    where
        I: IntoIterator<Item = Result<FileBlock, ImportError>>,
    {
        let (tx, rx) = mpsc::sync_channel::<(FileBlock, B256, VerifiedBlock)>(1);
        let store = &self.store;
        let flush_interval = self.flush_interval;
        std::thread::scope(|scope| {
            let committer = scope.spawn(move || {
                let mut stats = ImportStats::default();
                let mut last_flush = Instant::now();
                let flush = |stats: &ImportStats| {
                    store
                        .flush()
                        .map_err(|e| ImportFailure { stats: *stats, error: Box::new(ImportError::store(e)) })
                };
                for (block, hash, verified) in rx {
                    match commit(store, &block, hash, &verified) {
                        Ok(done) => {
                            stats.imported += 1;
                            stats.txs += done.txs as u64;
                            stats.gas += done.gas_used;
                            on_commit(&done);
                        }
                        Err(error) => {
                            if flush_interval.is_some() {
                                flush(&stats)?;
                            }
                            return Err(ImportFailure { stats, error: Box::new(error) });
                        }
                    }
                    if flush_interval.is_some_and(|every| last_flush.elapsed() >= every) {
                        flush(&stats)?;
                        last_flush = Instant::now();
                    }
                }
                if flush_interval.is_some() {
                    flush(&stats)?;
                }
                Ok(stats)
            });
            let produced = self.produce(blocks, tx);
            let committed = committer.join().unwrap_or_else(|_| {
                Err(ImportFailure { stats: ImportStats::default(), error: Box::new(ImportError::Panicked) })
            });
            match (committed, produced) {
                (Err(failure), _) => Err(ImportFailure {
                    stats: ImportStats { known: failure.stats.known, ..failure.stats },
                    error: failure.error,
                }),
                (Ok(stats), Ok(known)) => Ok(ImportStats { known, ..stats }),
                (Ok(stats), Err((known, error))) => {
                    Err(ImportFailure { stats: ImportStats { known, ..stats }, error: Box::new(error) })
                }
            }
        })
    }

    /// The executing half of the pipeline; returns how many blocks were
    /// already known, or stops at the first error.
    fn produce<I>(
        &self,
        blocks: I,
        tx: mpsc::SyncSender<(FileBlock, B256, VerifiedBlock)>,
    ) -> Result<u64, (u64, ImportError)>
    where
        I: IntoIterator<Item = Result<FileBlock, ImportError>>,
    {
        let mut known = 0;
        // Blocks sent to the committer and not yet seen in a snapshot.
        let mut in_flight: VecDeque<(FileBlock, B256, StateDiff)> = VecDeque::new();
        for block in blocks {
            let block = block.map_err(|e| (known, e))?;
            let hash = block.header.hash_slow();
            let snapshot = self.store.snapshot().map_err(|e| (known, ImportError::store(e)))?;
            let base = LatestState::new(Arc::new(snapshot));
            let committed = base.snapshot().require_head().map_err(|e| (known, ImportError::store(e)))?;
            while in_flight.front().is_some_and(|(b, _, _)| b.header.number <= committed.number) {
                in_flight.pop_front();
            }
            let top = in_flight
                .back()
                .map_or(committed, |(b, h, _)| BlockRef { number: b.header.number, hash: *h });
            if in_flight.is_empty() && block.header.number <= committed.number {
                // Already stored (re-running an import): skip it if it is ours.
                self.check_extends(&base, &block, hash).map_err(|e| (known, e))?;
                known += 1;
                continue;
            }
            if block.header.number != top.number + 1 || block.header.parent_hash != top.hash {
                return Err((known, not_next(&block, hash, top)));
            }
            let parent = match in_flight.back() {
                Some((b, _, _)) => b.header.clone(),
                None => parent_header(&base, &block).map_err(|e| (known, e))?,
            };
            let mut pending = PendingState::new(base);
            let mut uncommitted = StateDiff::default();
            for (b, h, diff) in &in_flight {
                pending.push(diff);
                pending.push_block_hash(b.header.number, *h);
                merge_diff(&mut uncommitted, diff);
            }
            let verified =
                self.verify(&block, hash, &parent, &pending, &uncommitted).map_err(|e| (known, e))?;
            in_flight.push_back((block.clone(), hash, verified.output.diff.clone()));
            if tx.send((block, hash, verified)).is_err() {
                // The committer stopped on an error; it reports it.
                return Ok(known);
            }
        }
        Ok(known)
    }

    /// Checks that a block at or below the head is the stored one.
    fn check_extends(&self, state: &LatestState, block: &FileBlock, hash: B256) -> Result<(), ImportError> {
        let head = state.snapshot().require_head().map_err(ImportError::store)?;
        if block.header.number > head.number {
            if block.header.number != head.number + 1 || block.header.parent_hash != head.hash {
                return Err(not_next(block, hash, head));
            }
            return Ok(());
        }
        match state.snapshot().block_hash(block.header.number).map_err(ImportError::store)? {
            Some(stored) if stored == hash => Ok(()),
            _ => Err(not_next(block, hash, head)),
        }
    }

    /// Verifies a block on `state` (the parent's post-state: the committed
    /// head plus `uncommitted`, the diff of the blocks in between).
    fn verify(
        &self,
        block: &FileBlock,
        hash: B256,
        parent: &alloy_consensus::Header,
        state: &PendingState<LatestState>,
        uncommitted: &StateDiff,
    ) -> Result<VerifiedBlock, ImportError> {
        let number = block.header.number;
        let invalid = |error: BlockError| ImportError::Invalid { number, hash, error };
        let mut root_error = None;
        let root_after = |diff: &StateDiff| {
            let mut merged = uncommitted.clone();
            merge_diff(&mut merged, diff);
            match state.base().trie_updates(&merged) {
                Ok((root, _)) => root,
                Err(e) => {
                    root_error.get_or_insert(e);
                    B256::ZERO
                }
            }
        };
        let verified = verify_block(&self.spec, block, parent, state, &self.options, root_after);
        if let Some(e) = root_error {
            return Err(ImportError::store(e));
        }
        verified.map_err(invalid)
    }
}

/// Merklizes a verified block on the committed head, checks its state root
/// and commits it.
fn commit(
    store: &Store,
    block: &FileBlock,
    hash: B256,
    verified: &VerifiedBlock,
) -> Result<Committed, ImportError> {
    let header = &block.header;
    let started = Instant::now();
    let state = store.latest_state().map_err(ImportError::store)?;
    let (root, trie) = state.trie_updates(&verified.output.diff).map_err(ImportError::store)?;
    if root != header.state_root {
        let error = BlockError::Mismatch {
            field: "state root",
            expected: header.state_root.to_string(),
            got: root.to_string(),
        };
        return Err(ImportError::Invalid { number: header.number, hash, error });
    }
    let commit =
        BlockCommit { block, receipts: &verified.receipts, diff: &verified.output.diff, trie: &trie };
    let head = store.commit_block(commit).map_err(ImportError::store)?;
    if std::env::var_os("MOSAIC_TIMINGS").is_some() {
        eprintln!("block {}: root+commit {:?}", header.number, started.elapsed());
    }
    Ok(Committed { head, txs: block.body.transactions.len(), gas_used: header.gas_used })
}

fn parent_header(state: &LatestState, block: &FileBlock) -> Result<alloy_consensus::Header, ImportError> {
    state
        .snapshot()
        .header(block.header.parent_hash)
        .map_err(ImportError::store)?
        .ok_or(ImportError::UnknownParent(block.header.parent_hash))
}

fn not_next(block: &FileBlock, hash: B256, head: BlockRef) -> ImportError {
    ImportError::NotNext { number: block.header.number, hash, head_number: head.number, head_hash: head.hash }
}

impl ImportError {
    /// Wraps a store error.
    pub fn store(error: StoreError) -> Self {
        Self::Store(Arc::new(error))
    }
}

impl StoredChain {
    /// Writes the canonical blocks `first..=last` (default: 1 to the head)
    /// as a block file, the format [`crate::RlpBlocks`] reads. Returns the
    /// number of blocks written.
    pub fn export(
        &self,
        out: &mut impl std::io::Write,
        first: Option<u64>,
        last: Option<u64>,
    ) -> Result<u64, ExportError> {
        let snapshot = self.store.snapshot()?;
        let head = snapshot.require_head()?;
        let last = last.unwrap_or(head.number).min(head.number);
        let mut buf = Vec::new();
        let mut written = 0;
        for number in first.unwrap_or(1)..=last {
            let block = snapshot.block_by_number(number)?.ok_or(ExportError::Missing(number))?;
            buf.clear();
            crate::write_block(&mut buf, &block);
            out.write_all(&buf)?;
            written += 1;
        }
        out.flush()?;
        Ok(written)
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A canonical block is missing from the store.
    #[error("canonical block {0} is missing from the store")]
    Missing(u64),
    /// Writing the file failed.
    #[error("write: {0}")]
    Io(#[from] std::io::Error),
}
