//! The tables of the database and the format marker. Every table is created
//! when the store is, so readers can open all of them unconditionally.
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | `meta` | name | bytes (format marker, head, history start) |
//! | `accounts` | address (20) | account (see `codec`) |
//! | `storage` | address ++ slot (52) | non-zero value |
//! | `bytecodes` | code hash (32) | raw code |
//! | `hashed_accounts` | keccak(address) (32) | account |
//! | `hashed_storage` | keccak(address) ++ keccak(slot) (64) | non-zero value |
//! | `account_trie` | nibble path, one nibble per byte | node bytes (trie crate's encoding) |
//! | `storage_trie` | keccak(address) ++ nibble path | node bytes |
//! | `headers` | block hash | header RLP |
//! | `block_numbers` | block hash | number |
//! | `canonical` | number | block hash |
//! | `bodies` | block hash | body RLP (`[txs, ommers, withdrawals?]`) |
//! | `receipts` | block hash | RLP list of receipts (network encoding) |
//! | `tx_lookup` | tx hash | (block number, index) |
//! | `account_changes` | block ++ address (28) | account before the block, empty if absent |
//! | `storage_changes` | block ++ address ++ slot (60) | value before the block, empty if zero |
//! | `account_history` | address ++ block (28) | () : the account changed in that block |
//! | `storage_history` | address ++ slot ++ block (60) | () |
//! | `account_trie_changes` | block ++ path | node before the block, empty if absent |
//! | `storage_trie_changes` | block ++ keccak(address) ++ path | node before the block |
//! | `hashed_account_history` | keccak(address) ++ block (40) | account before the block, empty if absent |
//! | `hashed_storage_history` | keccak(address) ++ keccak(slot) ++ block (72) | value before the block, empty if zero |
//! | `account_trie_history` | history path ++ block | () : the node changed in that block |
//! | `storage_trie_history` | keccak(address) ++ history path ++ block | () |
//!
//! The `*_changes` tables are ordered by block (unwind and pruning visit one
//! block); the `*_history` tables by key, so that a value as of block N is
//! one range scan: the first entry of the key after N holds (or, for trie
//! nodes, points to) the value before that change, which is the value after
//! N. The hashed histories carry the old value itself, since the plain
//! changesets cannot be found from a hashed key. A history path is the node
//! path with every nibble stored as `nibble + 1` and a `0` terminator, so
//! that the block suffix of one path never sorts among the entries of a
//! longer path while paths keep their nibble order.

use redb::{TableDefinition, WriteTransaction};

/// Format marker prefix stored under [`FORMAT_KEY`].
pub(crate) const FORMAT_MAGIC: &[u8] = b"mosaic-db";
/// The format version this build reads and writes.
///
/// Version 2 added the key-ordered histories of hashed state and trie nodes
/// (historical roots and proofs); version 1 files are refused.
pub const FORMAT_VERSION: u32 = 2;

/// `meta` key of the format marker: `FORMAT_MAGIC ++ version (u32 BE)`.
pub(crate) const FORMAT_KEY: &str = "format";
/// `meta` key of the head: `number (u64 BE) ++ hash`.
pub(crate) const HEAD_KEY: &str = "head";
/// `meta` key of the first block whose changesets are kept (u64 BE).
pub(crate) const HISTORY_START_KEY: &str = "history_start";

pub(crate) const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");
pub(crate) const ACCOUNTS: TableDefinition<'_, &[u8; 20], &[u8]> = TableDefinition::new("accounts");
pub(crate) const STORAGE: TableDefinition<'_, &[u8; 52], &[u8]> = TableDefinition::new("storage");
pub(crate) const BYTECODES: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("bytecodes");
pub(crate) const HASHED_ACCOUNTS: TableDefinition<'_, &[u8; 32], &[u8]> =
    TableDefinition::new("hashed_accounts");
pub(crate) const HASHED_STORAGE: TableDefinition<'_, &[u8; 64], &[u8]> =
    TableDefinition::new("hashed_storage");
pub(crate) const ACCOUNT_TRIE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("account_trie");
pub(crate) const STORAGE_TRIE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("storage_trie");
pub(crate) const HEADERS: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("headers");
pub(crate) const BLOCK_NUMBERS: TableDefinition<'_, &[u8; 32], u64> = TableDefinition::new("block_numbers");
pub(crate) const CANONICAL: TableDefinition<'_, u64, &[u8; 32]> = TableDefinition::new("canonical");
pub(crate) const BODIES: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("bodies");
pub(crate) const RECEIPTS: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("receipts");
pub(crate) const TX_LOOKUP: TableDefinition<'_, &[u8; 32], (u64, u32)> = TableDefinition::new("tx_lookup");
pub(crate) const ACCOUNT_CHANGES: TableDefinition<'_, &[u8; 28], &[u8]> =
    TableDefinition::new("account_changes");
pub(crate) const STORAGE_CHANGES: TableDefinition<'_, &[u8; 60], &[u8]> =
    TableDefinition::new("storage_changes");
pub(crate) const ACCOUNT_HISTORY: TableDefinition<'_, &[u8; 28], ()> =
    TableDefinition::new("account_history");
pub(crate) const STORAGE_HISTORY: TableDefinition<'_, &[u8; 60], ()> =
    TableDefinition::new("storage_history");
pub(crate) const ACCOUNT_TRIE_CHANGES: TableDefinition<'_, &[u8], &[u8]> =
    TableDefinition::new("account_trie_changes");
pub(crate) const STORAGE_TRIE_CHANGES: TableDefinition<'_, &[u8], &[u8]> =
    TableDefinition::new("storage_trie_changes");
pub(crate) const HASHED_ACCOUNT_HISTORY: TableDefinition<'_, &[u8; 40], &[u8]> =
    TableDefinition::new("hashed_account_history");
pub(crate) const HASHED_STORAGE_HISTORY: TableDefinition<'_, &[u8; 72], &[u8]> =
    TableDefinition::new("hashed_storage_history");
pub(crate) const ACCOUNT_TRIE_HISTORY: TableDefinition<'_, &[u8], ()> =
    TableDefinition::new("account_trie_history");
pub(crate) const STORAGE_TRIE_HISTORY: TableDefinition<'_, &[u8], ()> =
    TableDefinition::new("storage_trie_history");

/// Creates every table (a no-op for those that exist).
pub(crate) fn create_all(txn: &WriteTransaction) -> Result<(), redb::TableError> {
    fn touch<K: redb::Key + 'static, V: redb::Value + 'static>(
        txn: &WriteTransaction,
        def: TableDefinition<'_, K, V>,
    ) -> Result<(), redb::TableError> {
        txn.open_table(def).map(drop)
    }
    touch(txn, META)?;
    touch(txn, ACCOUNTS)?;
    touch(txn, STORAGE)?;
    touch(txn, BYTECODES)?;
    touch(txn, HASHED_ACCOUNTS)?;
    touch(txn, HASHED_STORAGE)?;
    touch(txn, ACCOUNT_TRIE)?;
    touch(txn, STORAGE_TRIE)?;
    touch(txn, HEADERS)?;
    touch(txn, BLOCK_NUMBERS)?;
    touch(txn, CANONICAL)?;
    touch(txn, BODIES)?;
    touch(txn, RECEIPTS)?;
    touch(txn, TX_LOOKUP)?;
    touch(txn, ACCOUNT_CHANGES)?;
    touch(txn, STORAGE_CHANGES)?;
    touch(txn, ACCOUNT_HISTORY)?;
    touch(txn, STORAGE_HISTORY)?;
    touch(txn, ACCOUNT_TRIE_CHANGES)?;
    touch(txn, STORAGE_TRIE_CHANGES)?;
    touch(txn, HASHED_ACCOUNT_HISTORY)?;
    touch(txn, HASHED_STORAGE_HISTORY)?;
    touch(txn, ACCOUNT_TRIE_HISTORY)?;
    touch(txn, STORAGE_TRIE_HISTORY)
}
