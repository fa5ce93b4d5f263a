//! Error types of the executor.

use alloy_primitives::{Address, B256};

/// A failure of the state backend: the executor cannot go on, and the block
/// is neither valid nor invalid.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StateError {
    /// Code referenced by an account is not in the store.
    #[error("missing bytecode {0}")]
    MissingCode(B256),
    /// A BLOCKHASH lookup the backend cannot answer.
    #[error("missing hash of block {0}")]
    MissingBlockHash(u64),
    /// Any other backend failure.
    #[error("state backend: {0}")]
    Backend(String),
}

impl revm::database_interface::DBErrorMarker for StateError {}

/// Why a block could not be executed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BlockExecutionError {
    /// A transaction is invalid in this block (import mode rejects the block).
    #[error("transaction {index} ({hash}) invalid: {reason}")]
    InvalidTransaction {
        /// Position in the block.
        index: usize,
        /// Transaction hash (zero when unknown).
        hash: B256,
        /// What was wrong.
        reason: String,
    },
    /// A block-level rule broken during execution (system contract missing,
    /// malformed deposit log, ...).
    #[error("invalid block: {0}")]
    InvalidBlock(String),
    /// The state backend failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// revm reported an internal error.
    #[error("evm error at {address:?}: {message}")]
    Evm {
        /// The address being processed, if known.
        address: Option<Address>,
        /// revm's message.
        message: String,
    },
}

impl BlockExecutionError {
    /// Whether this error means the block (not the node) is at fault.
    pub const fn is_invalid_block(&self) -> bool {
        matches!(self, Self::InvalidTransaction { .. } | Self::InvalidBlock(_))
    }
}
