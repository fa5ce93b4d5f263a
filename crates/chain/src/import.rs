//! Importing blocks into a chain held in memory.

use crate::{BlockError, ImportError, state_root, verify_block};
use alloy_consensus::{Block, Header, TxEnvelope};
use alloy_primitives::{B256, map::HashMap};
use alloy_rlp::Decodable;
use mosaic_executor::{ExecOptions, InMemoryState, StateDiff};
use mosaic_primitives::ChainSpec;
use std::sync::Arc;

/// A block that passed import, with its post-state.
#[derive(Debug, Clone)]
pub struct ImportedBlock {
    /// The header.
    pub header: Header,
    /// The state after the block.
    pub state: Arc<InMemoryState>,
}

/// A chain of blocks and their states in memory, branches included. The
/// head is the last block imported (post-merge fork choice is external).
#[derive(Debug)]
pub struct MemoryChain {
    spec: ChainSpec,
    blocks: HashMap<B256, ImportedBlock>,
    head: B256,
    options: ExecOptions,
}

impl MemoryChain {
    /// A chain with only its genesis block.
    pub fn new(spec: ChainSpec, genesis: Header, mut state: InMemoryState) -> Self {
        let hash = genesis.hash_slow();
        state.block_hashes.insert(genesis.number, hash);
        let mut blocks = HashMap::default();
        blocks.insert(hash, ImportedBlock { header: genesis, state: Arc::new(state) });
        Self { spec, blocks, head: hash, options: ExecOptions::default() }
    }

    /// Uses these executor options (engine, threads) for every block.
    pub const fn with_options(mut self, options: ExecOptions) -> Self {
        self.options = options;
        self
    }

    /// The chain specification.
    pub const fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// Hash of the head block.
    pub const fn head(&self) -> B256 {
        self.head
    }

    /// A known block.
    pub fn block(&self, hash: &B256) -> Option<&ImportedBlock> {
        self.blocks.get(hash)
    }

    /// Decodes and imports one RLP-encoded block.
    pub fn import_rlp(&mut self, mut rlp: &[u8]) -> Result<B256, ImportError> {
        let block = Block::<TxEnvelope>::decode(&mut rlp).map_err(|e| ImportError::Decode(e.to_string()))?;
        if !rlp.is_empty() {
            return Err(ImportError::Decode(format!("{} trailing bytes after the block", rlp.len())));
        }
        self.import(block)
    }

    /// Validates, executes and stores a block; it becomes the head.
    pub fn import(&mut self, block: Block<TxEnvelope>) -> Result<B256, ImportError> {
        let hash = block.header.hash_slow();
        let number = block.header.number;
        let parent = self
            .blocks
            .get(&block.header.parent_hash)
            .ok_or(ImportError::UnknownParent(block.header.parent_hash))?;
        let invalid = |error: BlockError| ImportError::Invalid { number, hash, error };
        let state = execute_and_check(&self.spec, &block, parent, &self.options).map_err(invalid)?;
        self.blocks.insert(hash, ImportedBlock { header: block.header, state: Arc::new(state) });
        self.head = hash;
        Ok(hash)
    }
}

/// Runs every check of a block on top of its parent and returns the
/// post-state.
fn execute_and_check(
    spec: &ChainSpec,
    block: &Block<TxEnvelope>,
    parent: &ImportedBlock,
    options: &ExecOptions,
) -> Result<InMemoryState, BlockError> {
    let root_after = |diff: &StateDiff| {
        let mut state = (*parent.state).clone();
        state.apply(diff);
        state_root(&state)
    };
    let executed = verify_block(spec, block, &parent.header, &*parent.state, options, root_after)?;
    let header = &block.header;
    let mut state = (*parent.state).clone();
    state.apply(&executed.output.diff);
    let root = state_root(&state);
    if root != header.state_root {
        return Err(BlockError::mismatch("state root", header.state_root, root));
    }
    state.block_hashes.insert(header.number, header.hash_slow());
    Ok(state)
}
