//! Genesis of a large state through the streaming writer, checked against
//! the trie crate's from-scratch root. Ignored by default (slow); run with
//! `MOSAIC_STORAGE_ACCOUNTS=1000000 cargo test --release -p mosaic-storage
//! --test large_genesis -- --ignored --nocapture`.

use alloy_primitives::{Address, B256, U256, keccak256};
use mosaic_executor::AccountFields;
use mosaic_storage::{StoreError, StoreOptions};
use mosaic_trie::{KECCAK_EMPTY, TrieAccount};
use std::time::Instant;

fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib / 1024)
}

fn account(i: u64) -> (Address, AccountFields, Vec<(U256, U256)>) {
    let address = Address::from_slice(&keccak256(i.to_be_bytes())[12..]);
    let fields = AccountFields {
        nonce: i % 7,
        balance: U256::from(i) * U256::from(1_000_000_007u64),
        code_hash: KECCAK_EMPTY,
    };
    let storage = if i.is_multiple_of(100) {
        (0..10u64).map(|s| (U256::from(s), U256::from(i + s + 1))).collect()
    } else {
        Vec::new()
    };
    (address, fields, storage)
}

#[test]
#[ignore = "slow: builds a large store"]
fn large_genesis_streams_with_bounded_memory() {
    let accounts: u64 =
        std::env::var("MOSAIC_STORAGE_ACCOUNTS").ok().and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let store = StoreOptions::new().cache_bytes(256 << 20).create(&path).expect("create");
    let start = Instant::now();
    let fill = |writer: &mut mosaic_storage::GenesisWriter<'_>| -> Result<(), StoreError> {
        for i in 0..accounts {
            let (address, fields, storage) = account(i);
            writer.insert_account(address, fields, storage)?;
        }
        eprintln!("inserted {accounts} accounts in {:.1?}", start.elapsed());
        Ok(())
    };
    let (head, root) = store
        .init_genesis_with(fill, |root| alloy_consensus::Header { state_root: root, ..Default::default() })
        .expect("genesis");
    let elapsed = start.elapsed();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or_default();
    eprintln!(
        "{accounts} accounts: genesis in {:.1?}, file {} MiB, peak RSS {:?} MiB, head {head:?}",
        elapsed,
        size >> 20,
        peak_rss_mib()
    );
    if accounts <= 1_000_000 {
        let reference = mosaic_trie::state_root((0..accounts).map(|i| {
            let (address, fields, storage) = account(i);
            let storage_root = mosaic_trie::storage_root(storage);
            (
                address,
                TrieAccount {
                    nonce: fields.nonce,
                    balance: fields.balance,
                    storage_root,
                    code_hash: fields.code_hash,
                },
            )
        }));
        assert_eq!(root, reference);
    }
    let latest = store.latest_state().expect("latest");
    assert_eq!(latest.state_root().expect("root"), root);
    let counts = store.snapshot().expect("snapshot").entry_counts().expect("counts");
    eprintln!("{counts:?}");
    assert_ne!(root, B256::ZERO);
}

/// Times `trie_updates` and `commit_block` for blocks touching many accounts
/// on a large state. Ignored by default; run in release with `--nocapture`.
#[test]
#[ignore = "slow: builds a large store"]
fn large_block_commit_timing() {
    use alloy_consensus::{Block, Header, TxEnvelope};
    use mosaic_executor::{AccountDiff, StateDiff};
    use mosaic_storage::{BlockCommit, Body};
    use std::collections::BTreeMap;
    let accounts: u64 =
        std::env::var("MOSAIC_STORAGE_ACCOUNTS").ok().and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let test_start = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let durable = std::env::var_os("MOSAIC_STORAGE_NONDURABLE").is_none();
    let store = StoreOptions::new().durable(durable).create(dir.path().join("db")).expect("create");
    let fill = |writer: &mut mosaic_storage::GenesisWriter<'_>| -> Result<(), StoreError> {
        for i in 0..accounts {
            let (address, fields, storage) = account(i);
            writer.insert_account(address, fields, storage)?;
        }
        Ok(())
    };
    let started = Instant::now();
    let (mut head, _) = store
        .init_genesis_with(fill, |root| Header { state_root: root, ..Default::default() })
        .expect("genesis");
    eprintln!("genesis of {accounts} accounts: {:.1?}", started.elapsed());
    for round in 1..=5u64 {
        let mut diff = StateDiff::default();
        for k in 0..5_000u64 {
            let i = (k * 7919 + round * 104_729) % accounts;
            let (address, mut fields, _) = account(i);
            fields.nonce += round;
            let storage = if k % 2 == 0 {
                (0..4u64).map(|s| (U256::from(s + round * 10), U256::from(round * 1000 + s))).collect()
            } else {
                BTreeMap::new()
            };
            diff.accounts.insert(address, AccountDiff { info: Some(fields), storage_wiped: false, storage });
        }
        let started = Instant::now();
        let latest = store.latest_state().expect("latest");
        let (root, trie) = latest.trie_updates(&diff).expect("trie");
        let merklized = started.elapsed();
        let header = Header { number: round, parent_hash: head.hash, state_root: root, ..Default::default() };
        let block: Block<TxEnvelope> = Block { header, body: Body::default() };
        let started = Instant::now();
        head = store
            .commit_block(BlockCommit { block: &block, receipts: &[], diff: &diff, trie: &trie })
            .expect("commit");
        eprintln!(
            "block {round}: {} accounts, {} slots, {} trie nodes: trie_updates {merklized:.1?}, commit {:.1?}",
            diff.accounts.len(),
            diff.changed_slots(),
            trie.node_count(),
            started.elapsed()
        );
    }
    let started = Instant::now();
    store.flush().expect("flush");
    eprintln!("flush: {:.1?}", started.elapsed());
    let started = Instant::now();
    drop(store);
    eprintln!("close: {:.1?}", started.elapsed());
    drop(dir);
    eprintln!("whole test: {:.1?}", test_start.elapsed());
}
