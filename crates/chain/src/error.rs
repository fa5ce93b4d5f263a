//! Errors of block validation and import.

use alloy_primitives::B256;
use mosaic_executor::BlockExecutionError;

/// Why a block is invalid.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BlockError {
    /// A header field breaks a consensus rule.
    #[error("invalid header: {0}")]
    Header(String),
    /// The body does not match the header (roots, counts, forbidden parts).
    #[error("invalid body: {0}")]
    Body(String),
    /// A transaction could not be decoded or its signature is invalid.
    #[error("invalid transaction {index}: {reason}")]
    Transaction {
        /// Position in the block.
        index: usize,
        /// What was wrong.
        reason: String,
    },
    /// Execution rejected the block.
    #[error(transparent)]
    Execution(#[from] BlockExecutionError),
    /// A result of execution differs from what the header commits to.
    #[error("{field} mismatch: header {expected}, computed {got}")]
    Mismatch {
        /// Which field.
        field: &'static str,
        /// Value in the header.
        expected: String,
        /// Value computed.
        got: String,
    },
}

impl BlockError {
    pub(crate) fn mismatch(
        field: &'static str,
        expected: impl std::fmt::Display,
        got: impl std::fmt::Display,
    ) -> Self {
        Self::Mismatch { field, expected: expected.to_string(), got: got.to_string() }
    }
}

/// Why importing a block failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImportError {
    /// The bytes are not a block.
    #[error("malformed block RLP: {0}")]
    Decode(String),
    /// The parent is not known.
    #[error("unknown parent {0}")]
    UnknownParent(B256),
    /// The block is invalid.
    #[error("block {number} ({hash}) invalid: {error}")]
    Invalid {
        /// Block number.
        number: u64,
        /// Block hash.
        hash: B256,
        /// The reason.
        error: BlockError,
    },
    /// The block does not extend the stored chain's head (a gap, a fork, or
    /// a different chain).
    #[error("block {number} ({hash}) does not extend the stored chain (head {head_number} {head_hash})")]
    NotNext {
        /// Block number.
        number: u64,
        /// Block hash.
        hash: B256,
        /// Head number.
        head_number: u64,
        /// Head hash.
        head_hash: B256,
    },
    /// The store holds another chain's genesis.
    #[error("the datadir holds another chain: genesis {}, this genesis.json gives {expected}", stored.map_or("none".to_string(), |h| h.to_string()))]
    GenesisMismatch {
        /// Genesis hash of the given genesis.json.
        expected: B256,
        /// Genesis hash in the store.
        stored: Option<B256>,
    },
    /// A block file is truncated or corrupt.
    #[error(transparent)]
    File(#[from] crate::BlockFileError),
    /// The store failed (I/O, corruption); nothing partial was committed.
    #[error("store: {0}")]
    Store(std::sync::Arc<mosaic_storage::StoreError>),
    /// A pipeline thread panicked.
    #[error("import thread panicked")]
    Panicked,
}
