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
}
