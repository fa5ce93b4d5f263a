//! Errors of the store. Variants are sorted by what a caller does with them:
//! fix the input (a block that does not extend the head, an unwind target
//! above the head), refuse the file (foreign or newer format, corruption), or
//! stop (an I/O failure of the database engine).

use alloy_primitives::{Address, B256};
use std::path::PathBuf;

/// Result of the store's operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database engine failed (I/O, a corrupt page it detected, a file
    /// opened twice).
    #[error("database: {0}")]
    Db(#[from] Box<redb::Error>),
    /// A file-system operation outside the database engine failed.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// `create` found a non-empty file at the path.
    #[error("{0}: already exists")]
    AlreadyExists(PathBuf),
    /// `open` found no file at the path.
    #[error("{0}: no such database")]
    NotFound(PathBuf),
    /// The file is not a Mosaic database (not redb, or redb without Mosaic's
    /// format marker).
    #[error("{path}: not a Mosaic database ({reason})")]
    NotMosaic {
        /// The file concerned.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// The file is a Mosaic database of a format version this build cannot
    /// read (written by a newer or an incompatible release).
    #[error("{path}: database format version {found}, this build reads version {supported}")]
    UnsupportedVersion {
        /// The file concerned.
        path: PathBuf,
        /// Version recorded in the file.
        found: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// A stored entry does not decode.
    #[error("corrupt entry in table {table}: {reason}")]
    Corrupt {
        /// Table holding the entry.
        table: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The store has no blocks yet (genesis not initialized).
    #[error("the store is empty: initialize genesis first")]
    Empty,
    /// Genesis was already written.
    #[error("genesis already initialized (head is block {head})")]
    AlreadyInitialized {
        /// Current head number.
        head: u64,
    },
    /// A block to commit does not extend the current head.
    #[error("block {number} (parent {parent_hash}) does not extend head {head_number} ({head_hash})")]
    NotNextBlock {
        /// Number of the rejected block.
        number: u64,
        /// Its parent hash.
        parent_hash: B256,
        /// Head number of the store.
        head_number: u64,
        /// Head hash of the store.
        head_hash: B256,
    },
    /// An account's storage changed but no new storage root was given.
    #[error("account {address} changed storage but no storage root was given")]
    MissingStorageRoot {
        /// The account.
        address: Address,
    },
    /// The trie updates given with a block contradict its state diff.
    #[error("trie updates do not match the state diff at hashed account {hashed_address}: {reason}")]
    TrieMismatch {
        /// `keccak256` of the account concerned.
        hashed_address: B256,
        /// What disagrees.
        reason: &'static str,
    },
    /// The state root computed by the store differs from the header's.
    #[error("state root mismatch: computed {computed}, header says {expected}")]
    StateRootMismatch {
        /// Root the store computed.
        computed: B256,
        /// Root in the header.
        expected: B256,
    },
    /// An account appears twice in a genesis import.
    #[error("genesis account {0} inserted twice")]
    DuplicateAccount(Address),
    /// Genesis accounts were inserted after the state root was computed.
    #[error("genesis state already sealed by computing its root")]
    GenesisSealed,
    /// Requested state or unwind target lies outside the retained history.
    #[error("block {requested} is outside the retained history (blocks {oldest}..={head})")]
    OutsideHistory {
        /// The block asked for.
        requested: u64,
        /// Oldest block whose post-state can be read.
        oldest: u64,
        /// Head block.
        head: u64,
    },
    /// A canonical block expected by the store's own invariants is missing.
    #[error("canonical block {0} missing")]
    MissingBlock(u64),
    /// The trie computation failed (it could not read or decode the stored
    /// trie, or the diff contradicts the stored state).
    #[error("trie: {0}")]
    Trie(#[from] mosaic_trie::TrieError),
}

impl StoreError {
    /// Whether the error says the file itself is unusable (foreign, newer, or
    /// corrupt) rather than the request being wrong.
    pub const fn is_bad_file(&self) -> bool {
        matches!(self, Self::NotMosaic { .. } | Self::UnsupportedVersion { .. } | Self::Corrupt { .. })
    }

    /// A corrupt-entry error.
    pub(crate) fn corrupt(table: &'static str, reason: impl Into<String>) -> Self {
        Self::Corrupt { table, reason: reason.into() }
    }
}

macro_rules! from_redb {
    ($($ty:ty),*) => {$(
        impl From<$ty> for StoreError {
            fn from(error: $ty) -> Self {
                Self::Db(Box::new(redb::Error::from(error)))
            }
        }
    )*};
}

from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

impl From<StoreError> for mosaic_executor::StateError {
    fn from(error: StoreError) -> Self {
        Self::Backend(error.to_string())
    }
}
