//! The crate's error type. Incremental roots and proofs read the parent state
//! through a [`TrieReader`](crate::TrieReader); what can go wrong is that the
//! read itself fails (retry or stop), that what was read cannot be decoded or
//! does not form a valid trie (the store is corrupt: stop), or that the input
//! change set contradicts the parent state (reject the input).

use alloy_primitives::B256;
use alloy_trie::Nibbles;

/// Which trie of the state an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrieKind {
    /// The account (state) trie.
    Account,
    /// The storage trie of the account with this hashed address.
    Storage(B256),
}

impl core::fmt::Display for TrieKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Account => f.write_str("account trie"),
            Self::Storage(hashed_address) => write!(f, "storage trie of {hashed_address}"),
        }
    }
}

/// Errors of incremental root computation, proofs and the store encodings.
#[derive(Debug, thiserror::Error)]
pub enum TrieError {
    /// The underlying store failed to read (I/O, database error).
    #[error("trie store read failed: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A stored value or key could not be decoded.
    #[error("cannot decode stored {what}: {reason}")]
    Decode {
        /// What was being decoded (`"trie node"`, `"nibble path"`, ...).
        what: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The stored nodes and leaves do not form a valid trie.
    #[error("inconsistent {trie} at path {path:?}: {reason}")]
    Inconsistent {
        /// The trie in which the inconsistency was found.
        trie: TrieKind,
        /// Nibble path at which it was found.
        path: Nibbles,
        /// What was expected and not found.
        reason: &'static str,
    },
    /// The change set changes storage of an account that neither exists in
    /// the parent state nor is created by the change set.
    #[error("storage changes for account {hashed_address}, which does not exist")]
    StorageWithoutAccount {
        /// `keccak256` of the account's address.
        hashed_address: B256,
    },
}

impl TrieError {
    /// Wraps a store (database) error.
    pub fn store<E>(error: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Self::Store(Box::new(error))
    }
}

/// Result alias of this crate.
pub type TrieResult<T> = Result<T, TrieError>;
