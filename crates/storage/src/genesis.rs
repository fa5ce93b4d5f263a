//! Genesis: filling an empty store with a whole state, its trie nodes and
//! block 0, in one write transaction. Accounts stream in one at a time (each
//! with all its storage); each account's storage trie is built as it
//! arrives, and the account trie is built at the end by scanning the hashed
//! accounts table in key order, so memory stays bounded by the largest single
//! account's storage, not by the size of the state.

use crate::{
    Store, StoreError, StoreResult,
    blocks::{Body, write_block},
    codec::StoredAccount,
    state_tables::StateTables,
    store::{BlockRef, read_head, write_head},
    tables::{ACCOUNT_TRIE, HASHED_ACCOUNTS, META, STORAGE_TRIE},
    trie_builder::StreamingTrie,
    trie_reader::storage_node_key,
};
use alloy_consensus::{Block, Header};
use alloy_primitives::{Address, B256, U256, keccak256};
use mosaic_executor::{AccountFields, Bytecode, InMemoryState};
use mosaic_trie::store::encode_path;
use redb::{ReadableTable, ReadableTableMetadata, Table, WriteTransaction};

/// Inserts the genesis state; handed to the closure of
/// [`Store::init_genesis_with`].
pub struct GenesisWriter<'t> {
    state: StateTables<'t>,
    storage_trie: Table<'t, &'static [u8], &'static [u8]>,
    accounts: u64,
}

impl std::fmt::Debug for GenesisWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenesisWriter").field("accounts", &self.accounts).finish_non_exhaustive()
    }
}

impl<'t> GenesisWriter<'t> {
    /// Opens the tables of an empty store.
    fn open(txn: &'t WriteTransaction) -> StoreResult<Self> {
        if let Some(head) = read_head(&txn.open_table(META)?)? {
            return Err(StoreError::AlreadyInitialized { head: head.number });
        }
        let writer =
            Self { state: StateTables::open(txn)?, storage_trie: txn.open_table(STORAGE_TRIE)?, accounts: 0 };
        if !writer.state.accounts.is_empty()? {
            return Err(StoreError::corrupt("accounts", "state without a head (interrupted import?)"));
        }
        Ok(writer)
    }

    /// Stores a bytecode (accounts refer to it by hash).
    pub fn insert_code(&mut self, hash: B256, code: &Bytecode) -> StoreResult<()> {
        self.state.put_code(&hash, code)
    }

    /// Inserts an account with all of its storage (zero values are skipped).
    /// Each address may be inserted once.
    pub fn insert_account(
        &mut self,
        address: Address,
        fields: AccountFields,
        storage: impl IntoIterator<Item = (U256, U256)>,
    ) -> StoreResult<()> {
        if self.state.account(&address)?.is_some() {
            return Err(StoreError::DuplicateAccount(address));
        }
        let hashed = keccak256(address);
        let mut leaves = Vec::new();
        for (slot, value) in storage {
            if value.is_zero() {
                continue;
            }
            self.state.put_slot(&address, &hashed, &slot, value)?;
            leaves.push((keccak256(slot.to_be_bytes::<32>()), value));
        }
        leaves.sort_unstable_by_key(|(key, _)| *key);
        leaves.dedup_by_key(|(key, _)| *key);
        let storage_trie = &mut self.storage_trie;
        let mut builder = StreamingTrie::new(|path, node| {
            storage_trie.insert(storage_node_key(&hashed, path).as_slice(), node.encode().as_slice())?;
            Ok(())
        });
        for (key, value) in leaves {
            builder.add_leaf(key, alloy_rlp::encode(value))?;
        }
        let storage_root = builder.finish()?;
        self.state.put_account(&address, &hashed, Some(&StoredAccount::new(&fields, storage_root)))?;
        self.accounts += 1;
        Ok(())
    }

    /// Number of accounts inserted so far.
    pub const fn accounts(&self) -> u64 {
        self.accounts
    }
}

/// Computes the account trie, writes block 0 and the head, and commits.
fn finish_genesis(
    txn: WriteTransaction,
    header: impl FnOnce(B256) -> Header,
) -> StoreResult<(BlockRef, B256)> {
    let root = build_account_trie(&txn)?;
    let header = header(root);
    if header.state_root != root {
        return Err(StoreError::StateRootMismatch { computed: root, expected: header.state_root });
    }
    let body = Body {
        transactions: Vec::new(),
        ommers: Vec::new(),
        withdrawals: header.withdrawals_root.map(|_| Default::default()),
    };
    let hash = header.hash_slow();
    let number = header.number;
    write_block(&txn, &Block { header, body }, hash, &[])?;
    let head = BlockRef { number, hash };
    write_head(&mut txn.open_table(META)?, head)?;
    txn.commit()?;
    Ok((head, root))
}

/// Builds the account trie from the hashed accounts table; returns the root.
fn build_account_trie(txn: &WriteTransaction) -> StoreResult<B256> {
    let hashed_accounts = txn.open_table(HASHED_ACCOUNTS)?;
    let mut account_trie = txn.open_table(ACCOUNT_TRIE)?;
    let mut builder = StreamingTrie::new(|path, node| {
        account_trie.insert(encode_path(path).as_slice(), node.encode().as_slice())?;
        Ok(())
    });
    for entry in hashed_accounts.iter()? {
        let (key, value) = entry?;
        let account = StoredAccount::decode(value.value(), "hashed_accounts")?;
        builder.add_leaf(B256::from(*key.value()), alloy_rlp::encode(account.trie_account()))?;
    }
    builder.finish()
}

impl Store {
    /// Initializes an empty store: `fill` inserts the state through a
    /// [`GenesisWriter`], then the state root is computed, `header` turns it
    /// into the genesis header (whose `state_root` must equal it), and block
    /// 0 becomes the head. One transaction: on any error nothing is stored.
    /// Returns the head and the state root.
    pub fn init_genesis_with<E: From<StoreError>>(
        &self,
        fill: impl FnOnce(&mut GenesisWriter<'_>) -> Result<(), E>,
        header: impl FnOnce(B256) -> Header,
    ) -> Result<(BlockRef, B256), E> {
        // Always durable: one huge transaction, which redb handles far faster
        // written through than held in its buffer by a non-durable commit.
        let txn = self.db.begin_write().map_err(StoreError::from)?;
        {
            let mut writer = GenesisWriter::open(&txn)?;
            fill(&mut writer)?;
        }
        Ok(finish_genesis(txn, header)?)
    }

    /// Initializes an empty store from an in-memory state and its genesis
    /// header (whose state root is checked).
    pub fn init_genesis(&self, state: &InMemoryState, header: &Header) -> StoreResult<BlockRef> {
        let fill = |writer: &mut GenesisWriter<'_>| -> StoreResult<()> {
            for (hash, code) in &state.codes {
                writer.insert_code(*hash, code)?;
            }
            for (address, account) in &state.accounts {
                let fields = AccountFields {
                    nonce: account.nonce,
                    balance: account.balance,
                    code_hash: account.code_hash,
                };
                writer.insert_account(*address, fields, account.storage.iter().map(|(k, v)| (*k, *v)))?;
            }
            Ok(())
        };
        Ok(self.init_genesis_with(fill, |_| header.clone())?.0)
    }
}
