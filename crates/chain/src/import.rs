//! Importing blocks into a chain held in memory.

use crate::{BlockError, ImportError, recover_senders, state_root, validate_body, validate_header};
use alloy_consensus::{Block, Header, TxEnvelope};
use alloy_primitives::{B256, map::HashMap};
use alloy_rlp::Decodable;
use mosaic_executor::{BlockContext, BlockOutput, ExecOptions, ExecTx, InMemoryState, execute_block};
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
    let header = &block.header;
    validate_header(spec, header, &parent.header)?;
    validate_body(spec, block)?;
    let senders = recover_senders(spec, header.number, header.timestamp, &block.body.transactions)?;
    let txs: Vec<ExecTx> = block
        .body
        .transactions
        .iter()
        .zip(senders)
        .map(|(tx, sender)| ExecTx::from_envelope(tx, sender))
        .collect();
    let ctx = BlockContext::from_header(
        header,
        &block.body.ommers,
        block.body.withdrawals.as_ref().map(|w| w.as_slice()),
    );
    let output = execute_block(spec, &ctx, &txs, &*parent.state, options)?;
    if std::env::var_os("MOSAIC_CROSSCHECK").is_some() {
        let seq = mosaic_executor::ExecOptions { engine: mosaic_executor::Engine::Sequential, ..*options };
        let reference = execute_block(spec, &ctx, &txs, &*parent.state, &seq)?;
        if !reference.same_result(&output) {
            eprintln!(
                "CROSSCHECK block {}: outcomes {} gas {} codes {} requests {}",
                header.number,
                reference.outcomes == output.outcomes,
                reference.gas_used == output.gas_used,
                reference.diff.codes == output.diff.codes,
                reference.requests == output.requests
            );
            eprintln!(
                "  codes seq {:?} par {:?}",
                reference.diff.codes.keys().collect::<Vec<_>>(),
                output.diff.codes.keys().collect::<Vec<_>>()
            );
            for (a, d) in &reference.diff.accounts {
                if output.diff.accounts.get(a) != Some(d) {
                    eprintln!("  {a}: seq {d:?}\n     par {:?}", output.diff.accounts.get(a));
                }
            }
            for (a, d) in &output.diff.accounts {
                if !reference.diff.accounts.contains_key(a) {
                    eprintln!("  {a}: only par {d:?}");
                }
            }
        }
    }
    check_output(header, &output)?;
    let mut state = (*parent.state).clone();
    state.apply(&output.diff);
    let root = state_root(&state);
    if root != header.state_root {
        return Err(BlockError::mismatch("state root", header.state_root, root));
    }
    state.block_hashes.insert(header.number, header.hash_slow());
    Ok(state)
}

/// Compares execution results with the header's commitments.
fn check_output(header: &Header, output: &BlockOutput) -> Result<(), BlockError> {
    if output.gas_used != header.gas_used {
        return Err(BlockError::mismatch("gas used", header.gas_used, output.gas_used));
    }
    if let Some(expected) = header.blob_gas_used
        && expected != output.blob_gas_used
    {
        return Err(BlockError::mismatch("blob gas used", expected, output.blob_gas_used));
    }
    let receipts_root = output.receipts_root();
    if receipts_root != header.receipts_root {
        return Err(BlockError::mismatch("receipts root", header.receipts_root, receipts_root));
    }
    let bloom = output.logs_bloom();
    if bloom != header.logs_bloom {
        return Err(BlockError::mismatch("logs bloom", header.logs_bloom, bloom));
    }
    if let Some(expected) = header.requests_hash {
        let got = output.requests.as_ref().map(|r| r.requests_hash()).unwrap_or_default();
        if got != expected {
            return Err(BlockError::mismatch("requests hash", expected, got));
        }
    }
    Ok(())
}
