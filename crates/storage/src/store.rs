//! Opening and creating the database, the format check, and the head
//! pointer. A store is one redb file; `create` writes the format marker and
//! every table in its first transaction, `open` refuses any file whose marker
//! is missing, foreign or of another version before anything else reads it.

use crate::{
    StoreError, StoreResult,
    code_cache::CodeCache,
    snapshot::Snapshot,
    tables::{self, FORMAT_KEY, FORMAT_MAGIC, FORMAT_VERSION, HEAD_KEY, HISTORY_START_KEY, META},
};
use alloy_primitives::B256;
use redb::{Database, ReadableDatabase, ReadableTable, Table};
use std::{
    io::Read,
    path::{Path, PathBuf},
    sync::Arc,
};

/// The first bytes of every redb file.
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];

/// A block number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

impl BlockRef {
    pub(crate) fn encode(&self) -> [u8; 40] {
        let mut out = [0u8; 40];
        out[..8].copy_from_slice(&self.number.to_be_bytes());
        out[8..].copy_from_slice(self.hash.as_slice());
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> StoreResult<Self> {
        let Some((number, hash)) = bytes.split_first_chunk::<8>() else {
            return Err(StoreError::corrupt("meta", "head shorter than 8 bytes"));
        };
        if hash.len() != 32 {
            return Err(StoreError::corrupt("meta", format!("head of {} bytes", bytes.len())));
        }
        Ok(Self { number: u64::from_be_bytes(*number), hash: B256::from_slice(hash) })
    }
}

/// Settings for opening or creating a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    cache_bytes: Option<usize>,
    durable: bool,
    verify: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { cache_bytes: None, durable: true, verify: false }
    }
}

impl StoreOptions {
    /// Default settings: redb's default cache, every commit durable.
    pub fn new() -> Self {
        Self::default()
    }

    /// Page cache size in bytes (redb's default is 1 GiB).
    pub const fn cache_bytes(mut self, bytes: usize) -> Self {
        self.cache_bytes = Some(bytes);
        self
    }

    /// Whether every commit waits for the data to reach the disk (default
    /// true). With false, commits are atomic and visible at once but a crash
    /// may lose the latest ones; [`Store::flush`] makes them durable.
    pub const fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// Whether `open` verifies the checksum of every page first (default
    /// false). Without it, damage that opening does not reach is only found
    /// when read, and a flipped bit inside a value may go unnoticed; with it,
    /// opening reads the whole file.
    pub const fn verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }

    fn builder(&self) -> redb::Builder {
        let mut builder = Database::builder();
        if let Some(bytes) = self.cache_bytes {
            builder.set_cache_size(bytes);
        }
        builder
    }

    /// Creates a new store; fails if a non-empty file is at `path`.
    pub fn create(&self, path: impl AsRef<Path>) -> StoreResult<Store> {
        let path = path.as_ref().to_path_buf();
        match std::fs::metadata(&path) {
            Ok(meta) if meta.len() > 0 => return Err(StoreError::AlreadyExists(path)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(StoreError::Io { path, source }),
        }
        let db = self.builder().create(&path)?;
        let txn = db.begin_write()?;
        tables::create_all(&txn)?;
        {
            let mut meta = txn.open_table(META)?;
            let mut marker = FORMAT_MAGIC.to_vec();
            marker.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
            meta.insert(FORMAT_KEY, marker.as_slice())?;
            meta.insert(HISTORY_START_KEY, 1u64.to_be_bytes().as_slice())?;
        }
        txn.commit()?;
        Ok(Store { db, path, durable: self.durable, codes: Arc::default() })
    }

    /// Opens an existing store, refusing foreign, newer and corrupt files.
    pub fn open(&self, path: impl AsRef<Path>) -> StoreResult<Store> {
        let path = path.as_ref().to_path_buf();
        check_redb_magic(&path)?;
        let opened = std::panic::catch_unwind(|| -> StoreResult<Database> {
            let mut db = self.builder().open(&path).map_err(|e| match e {
                redb::DatabaseError::Storage(redb::StorageError::Corrupted(reason)) => {
                    StoreError::corrupt("(file)", reason)
                }
                other => other.into(),
            })?;
            check_format(&db, &path)?;
            if self.verify && !db.check_integrity()? {
                return Err(StoreError::corrupt(
                    "(file)",
                    "failed its integrity check (redb rolled it back to its last intact commit)",
                ));
            }
            Ok(db)
        });
        let db = opened.map_err(|_| StoreError::corrupt("(file)", "the database engine failed on it"))??;
        Ok(Store { db, path, durable: self.durable, codes: Arc::default() })
    }

    /// Opens the store at `path`, creating it if there is none.
    pub fn open_or_create(&self, path: impl AsRef<Path>) -> StoreResult<Store> {
        let path = path.as_ref();
        match std::fs::metadata(path) {
            Ok(meta) if meta.len() > 0 => self.open(path),
            _ => self.create(path),
        }
    }
}

/// Refuses a file that is not redb before the engine touches it.
fn check_redb_magic(path: &Path) -> StoreResult<()> {
    let mut file = std::fs::File::open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => StoreError::NotFound(path.to_path_buf()),
        _ => StoreError::Io { path: path.to_path_buf(), source },
    })?;
    let mut magic = [0u8; REDB_MAGIC.len()];
    let mut read = 0;
    while read < magic.len() {
        match file.read(&mut magic[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => return Err(StoreError::Io { path: path.to_path_buf(), source }),
        }
    }
    if read < magic.len() || magic != REDB_MAGIC {
        return Err(StoreError::NotMosaic { path: path.to_path_buf(), reason: "not a redb file".into() });
    }
    Ok(())
}

/// Checks the format marker of an opened redb file.
fn check_format(db: &Database, path: &Path) -> StoreResult<()> {
    let not_mosaic = |reason: &str| StoreError::NotMosaic { path: path.to_path_buf(), reason: reason.into() };
    let txn = db.begin_read()?;
    let meta = match txn.open_table(META) {
        Ok(meta) => meta,
        Err(redb::TableError::TableDoesNotExist(_)) => return Err(not_mosaic("no meta table")),
        Err(redb::TableError::TableTypeMismatch { .. } | redb::TableError::TypeDefinitionChanged { .. }) => {
            return Err(not_mosaic("meta table of another type"));
        }
        Err(e) => return Err(e.into()),
    };
    let Some(marker) = meta.get(FORMAT_KEY)? else { return Err(not_mosaic("no format marker")) };
    let marker = marker.value();
    let Some(version) = marker.strip_prefix(FORMAT_MAGIC) else {
        return Err(not_mosaic("foreign format marker"));
    };
    let version: [u8; 4] = version.try_into().map_err(|_| not_mosaic("malformed format marker"))?;
    let found = u32::from_be_bytes(version);
    if found != FORMAT_VERSION {
        return Err(StoreError::UnsupportedVersion {
            path: path.to_path_buf(),
            found,
            supported: FORMAT_VERSION,
        });
    }
    Ok(())
}

/// The Mosaic database: flat and hashed state, trie nodes, blocks and
/// history in one redb file. Share it between threads behind an `Arc`;
/// readers take [`Snapshot`]s, writers serialize on redb's write lock.
#[derive(Debug)]
pub struct Store {
    pub(crate) db: Database,
    path: PathBuf,
    pub(crate) durable: bool,
    codes: Arc<CodeCache>,
}

impl Store {
    /// Creates a new store with default options (see [`StoreOptions::create`]).
    pub fn create(path: impl AsRef<Path>) -> StoreResult<Self> {
        StoreOptions::new().create(path)
    }

    /// Opens an existing store with default options (see [`StoreOptions::open`]).
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        StoreOptions::new().open(path)
    }

    /// The file of the store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A consistent read view of everything committed so far.
    pub fn snapshot(&self) -> StoreResult<Snapshot> {
        Snapshot::new(self.db.begin_read()?, Arc::clone(&self.codes))
    }

    /// The head block, `None` before genesis.
    pub fn head(&self) -> StoreResult<Option<BlockRef>> {
        Ok(self.snapshot()?.head())
    }

    /// Makes every commit so far durable (useful with
    /// [`StoreOptions::durable`] false).
    pub fn flush(&self) -> StoreResult<()> {
        let txn = self.db.begin_write()?;
        txn.commit()?;
        Ok(())
    }

    /// Checks every page checksum of the file (slow: reads the whole file).
    /// `Ok(true)` if intact; redb repairs what it can otherwise.
    pub fn check_integrity(&mut self) -> StoreResult<bool> {
        Ok(self.db.check_integrity()?)
    }

    /// Starts a write transaction with the store's durability.
    pub(crate) fn begin_write(&self) -> StoreResult<redb::WriteTransaction> {
        let mut txn = self.db.begin_write()?;
        if !self.durable {
            txn.set_durability(redb::Durability::None)?;
        }
        Ok(txn)
    }
}

/// Reads the head from an open `meta` table.
pub(crate) fn read_head(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> StoreResult<Option<BlockRef>> {
    match meta.get(HEAD_KEY)? {
        Some(bytes) => BlockRef::decode(bytes.value()).map(Some),
        None => Ok(None),
    }
}

/// Reads the first block with retained changesets.
pub(crate) fn read_history_start(meta: &impl ReadableTable<&'static str, &'static [u8]>) -> StoreResult<u64> {
    let Some(bytes) = meta.get(HISTORY_START_KEY)? else {
        return Err(StoreError::corrupt("meta", "history start missing"));
    };
    let bytes: [u8; 8] =
        bytes.value().try_into().map_err(|_| StoreError::corrupt("meta", "history start not 8 bytes"))?;
    Ok(u64::from_be_bytes(bytes))
}

/// Writes the head.
pub(crate) fn write_head(
    meta: &mut Table<'_, &'static str, &'static [u8]>,
    head: BlockRef,
) -> StoreResult<()> {
    meta.insert(HEAD_KEY, head.encode().as_slice())?;
    Ok(())
}
