//! Shared helpers of the storage tests: seeded random states and diffs, an
//! independent state-root reference, blocks with transactions and receipts,
//! and a chain driver that commits random blocks while keeping the
//! `InMemoryState` model of every height.

#![allow(dead_code, unreachable_pub)]

use alloy_consensus::{
    Block, Eip658Value, Header, Receipt, ReceiptEnvelope, ReceiptWithBloom, Signed, TxEnvelope, TxLegacy,
};
use alloy_primitives::{Address, B256, Bloom, Bytes, Signature, TxKind, U256, keccak256};
use mosaic_executor::{AccountDiff, AccountFields, Bytecode, InMemoryState, StateDiff, StateProvider};
use mosaic_storage::{BlockCommit, BlockRef, Body, Store};
use mosaic_trie::{KECCAK_EMPTY, TrieAccount};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::collections::BTreeMap;

/// Seeds to run: `MOSAIC_STORAGE_SEED` if set, else the given defaults.
pub fn seeds(defaults: &[u64]) -> Vec<u64> {
    match std::env::var("MOSAIC_STORAGE_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => defaults.to_vec(),
    }
}

/// A seeded generator; prints the seed so a failure can be replayed.
pub fn rng(seed: u64) -> StdRng {
    eprintln!("seed {seed} (replay with MOSAIC_STORAGE_SEED={seed})");
    StdRng::seed_from_u64(seed)
}

/// The state root of a model, from the trie crate's from-scratch functions
/// (independent of the incremental algorithm and of the store).
pub fn reference_root(state: &InMemoryState) -> B256 {
    mosaic_trie::state_root(state.accounts.iter().map(|(address, account)| {
        let storage_root = mosaic_trie::storage_root(account.storage.iter().map(|(k, v)| (*k, *v)));
        (
            *address,
            TrieAccount {
                nonce: account.nonce,
                balance: account.balance,
                storage_root,
                code_hash: account.code_hash,
            },
        )
    }))
}

/// Addresses and slots the random states draw from.
#[derive(Debug, Clone)]
pub struct Pool {
    pub addresses: Vec<Address>,
    pub slots: Vec<U256>,
}

impl Pool {
    pub fn new(rng: &mut StdRng, addresses: usize, slots: usize) -> Self {
        Self {
            addresses: (0..addresses).map(|_| Address::from(rng.random::<[u8; 20]>())).collect(),
            // Small slot indices plus a few large ones (mapping-like).
            slots: (0..slots)
                .map(
                    |i| {
                        if i % 4 == 3 { U256::from_be_bytes(rng.random::<[u8; 32]>()) } else { U256::from(i) }
                    },
                )
                .collect(),
        }
    }

    fn value(rng: &mut StdRng) -> U256 {
        if rng.random_bool(0.2) {
            U256::from_be_bytes(rng.random::<[u8; 32]>())
        } else {
            U256::from(rng.random_range(1u64..1000))
        }
    }
}

fn random_code(rng: &mut StdRng) -> Bytecode {
    let len = rng.random_range(1..40);
    Bytecode::new_legacy(Bytes::from((0..len).map(|_| rng.random::<u8>()).collect::<Vec<u8>>()))
}

/// A random genesis state over the pool.
pub fn random_genesis(rng: &mut StdRng, pool: &Pool, accounts: usize) -> InMemoryState {
    let mut state = InMemoryState::default();
    for address in pool.addresses.iter().take(accounts) {
        let code = if rng.random_bool(0.3) { random_code(rng).original_bytes().to_vec() } else { Vec::new() };
        let slots: Vec<(U256, U256)> = (0..rng.random_range(0..6))
            .map(|_| (pool.slots[rng.random_range(0..pool.slots.len())], Pool::value(rng)))
            .collect();
        state.insert_account(
            *address,
            rng.random_range(0..5),
            U256::from(rng.random_range(0u64..10_000)),
            &code,
            slots,
        );
    }
    state
}

/// A random canonical diff against `model`: updates, creations, storage
/// writes and deletions, wipes and destructions, new code.
pub fn random_diff(rng: &mut StdRng, model: &InMemoryState, pool: &Pool) -> StateDiff {
    random_diff_sized(rng, model, pool, 8)
}

/// [`random_diff`] touching fewer than `max_accounts` accounts.
pub fn random_diff_sized(
    rng: &mut StdRng,
    model: &InMemoryState,
    pool: &Pool,
    max_accounts: usize,
) -> StateDiff {
    let mut diff = StateDiff::default();
    for _ in 0..rng.random_range(0..max_accounts) {
        let address = pool.addresses[rng.random_range(0..pool.addresses.len())];
        if diff.accounts.contains_key(&address) {
            continue;
        }
        let existing = model.accounts.get(&address);
        let action = rng.random_range(0..10);
        if existing.is_some() && action == 0 {
            let change =
                AccountDiff { info: None, storage_wiped: rng.random_bool(0.5), storage: BTreeMap::new() };
            diff.accounts.insert(address, change);
            continue;
        }
        let wiped = existing.is_some_and(|a| !a.storage.is_empty()) && action == 1;
        let mut fields = existing
            .map_or(AccountFields { nonce: 0, balance: U256::ZERO, code_hash: KECCAK_EMPTY }, |a| {
                AccountFields { nonce: a.nonce, balance: a.balance, code_hash: a.code_hash }
            });
        fields.nonce += u64::from(rng.random_bool(0.5));
        fields.balance = U256::from(rng.random_range(0u64..10_000));
        if rng.random_bool(0.1) {
            let code = random_code(rng);
            fields.code_hash = keccak256(code.original_byte_slice());
            diff.codes.insert(fields.code_hash, code);
        }
        let mut storage = BTreeMap::new();
        for _ in 0..rng.random_range(0..6) {
            let slot = pool.slots[rng.random_range(0..pool.slots.len())];
            let value = if rng.random_bool(0.3) { U256::ZERO } else { Pool::value(rng) };
            let old = if wiped {
                U256::ZERO
            } else {
                existing.and_then(|a| a.storage.get(&slot).copied()).unwrap_or_default()
            };
            if value != old {
                storage.insert(slot, value);
            } else {
                storage.remove(&slot);
            }
        }
        diff.accounts.insert(address, AccountDiff { info: Some(fields), storage_wiped: wiped, storage });
    }
    diff
}

/// A header at `number` on top of `parent`.
pub fn header(number: u64, parent_hash: B256, state_root: B256) -> Header {
    Header {
        number,
        parent_hash,
        state_root,
        gas_limit: 30_000_000,
        timestamp: 1_000 + number * 12,
        ..Default::default()
    }
}

/// A block with `txs` legacy transactions and their receipts.
pub fn block_with_txs(
    header: Header,
    txs: usize,
    rng: &mut StdRng,
) -> (Block<TxEnvelope>, Vec<ReceiptEnvelope>) {
    let mut transactions = Vec::new();
    let mut receipts = Vec::new();
    for i in 0..txs {
        let tx = TxLegacy {
            chain_id: Some(1337),
            nonce: rng.random_range(0..1000),
            gas_price: 1_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(Address::from(rng.random::<[u8; 20]>())),
            value: U256::from(rng.random_range(0u64..1_000_000)),
            input: Bytes::new(),
        };
        let signature = Signature::new(
            U256::from(rng.random::<u64>() | 1),
            U256::from(rng.random::<u64>() | 1),
            rng.random(),
        );
        transactions.push(TxEnvelope::Legacy(Signed::new_unhashed(tx, signature)));
        let receipt = Receipt {
            status: Eip658Value::Eip658(i % 3 != 0),
            cumulative_gas_used: 21_000 * (i as u64 + 1),
            logs: vec![],
        };
        receipts.push(ReceiptEnvelope::Legacy(ReceiptWithBloom::new(receipt, Bloom::ZERO)));
    }
    (Block { header, body: Body { transactions, ommers: Vec::new(), withdrawals: None } }, receipts)
}

/// Asserts that `provider` reads the same accounts, slots and codes as
/// `model` over the pool.
pub fn assert_state(provider: &impl StateProvider, model: &InMemoryState, pool: &Pool, what: &str) {
    for address in &pool.addresses {
        let got = provider.account(*address).expect("account read");
        let expected = model.accounts.get(address);
        match (got, expected) {
            (None, None) => {}
            (Some(got), Some(expected)) => {
                assert_eq!(
                    (got.nonce, got.balance, got.code_hash),
                    (expected.nonce, expected.balance, expected.code_hash),
                    "{what}: account {address}"
                );
                let code = provider.code_by_hash(got.code_hash).expect("code read");
                let expected_code = model.code_by_hash(expected.code_hash).expect("model code");
                assert_eq!(
                    code.original_bytes(),
                    expected_code.original_bytes(),
                    "{what}: code of {address}"
                );
            }
            (got, expected) => panic!("{what}: account {address}: store {got:?}, model {expected:?}"),
        }
        for slot in &pool.slots {
            let expected = expected.and_then(|a| a.storage.get(slot).copied()).unwrap_or_default();
            assert_eq!(
                provider.storage(*address, *slot).expect("slot read"),
                expected,
                "{what}: {address} slot {slot}"
            );
        }
    }
}

/// A store plus the model state after every block it committed.
pub struct Chain {
    pub store: Store,
    pub pool: Pool,
    /// Model state after block `i`.
    pub models: Vec<InMemoryState>,
    /// Hash of block `i`.
    pub hashes: Vec<B256>,
    /// State fingerprint after block `i`.
    pub fingerprints: Vec<B256>,
    /// Entry count of every table after block `i`.
    pub counts: Vec<Vec<(&'static str, u64)>>,
}

impl Chain {
    /// A store at `path` initialized with a random genesis.
    pub fn new(path: &std::path::Path, rng: &mut StdRng, pool: Pool) -> Self {
        let genesis = random_genesis(rng, &pool, pool.addresses.len() / 2);
        let store = Store::create(path).expect("create");
        let header = header(0, B256::ZERO, reference_root(&genesis));
        let head = store.init_genesis(&genesis, &header).expect("genesis");
        assert_eq!(head, BlockRef { number: 0, hash: header.hash_slow() });
        let snapshot = store.snapshot().expect("snapshot");
        let fingerprint = snapshot.state_fingerprint().expect("fingerprint");
        let counts = snapshot.entry_counts().expect("counts");
        drop(snapshot);
        Self {
            store,
            pool,
            models: vec![genesis],
            hashes: vec![head.hash],
            fingerprints: vec![fingerprint],
            counts: vec![counts],
        }
    }

    /// Commits one random block, checking its root against the reference.
    pub fn commit_random(&mut self, rng: &mut StdRng) -> BlockRef {
        let model = self.models.last().expect("genesis").clone();
        let diff = random_diff(rng, &model, &self.pool);
        self.commit_diff(rng, model, &diff)
    }

    /// Commits one random block touching fewer than `max_accounts` accounts.
    pub fn commit_random_sized(&mut self, rng: &mut StdRng, max_accounts: usize) -> BlockRef {
        let model = self.models.last().expect("genesis").clone();
        let diff = random_diff_sized(rng, &model, &self.pool, max_accounts);
        self.commit_diff(rng, model, &diff)
    }

    /// Commits `diff` on top of the head.
    pub fn commit_diff(&mut self, rng: &mut StdRng, mut model: InMemoryState, diff: &StateDiff) -> BlockRef {
        let latest = self.store.latest_state().expect("latest");
        let (root, trie) = latest.trie_updates(diff).expect("trie updates");
        assert_eq!(latest.full_state_root(diff).expect("full root"), root, "from-scratch root differs");
        model.apply(diff);
        assert_eq!(root, reference_root(&model), "incremental root differs from reference");
        let number = self.models.len() as u64;
        let header = header(number, *self.hashes.last().expect("genesis"), root);
        let hash = header.hash_slow();
        let txs = rng.random_range(0..4);
        let (block, receipts) = block_with_txs(header, txs, rng);
        let head = self
            .store
            .commit_block(BlockCommit { block: &block, receipts: &receipts, diff, trie: &trie })
            .expect("commit");
        assert_eq!(head, BlockRef { number, hash });
        self.models.push(model);
        self.hashes.push(hash);
        let snapshot = self.store.snapshot().expect("snapshot");
        self.fingerprints.push(snapshot.state_fingerprint().expect("fingerprint"));
        self.counts.push(snapshot.entry_counts().expect("counts"));
        head
    }

    /// Forgets the models above `number` (after an unwind).
    pub fn truncate(&mut self, number: u64) {
        let keep = number as usize + 1;
        self.models.truncate(keep);
        self.hashes.truncate(keep);
        self.fingerprints.truncate(keep);
        self.counts.truncate(keep);
    }
}
