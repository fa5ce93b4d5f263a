//! Block data round trips, head checks, and the atomicity of a failed commit.

mod common;

use alloy_primitives::{B256, U256, keccak256};
use common::{Chain, Pool, block_with_txs, header, random_diff, rng, seeds};
use mosaic_executor::{AccountDiff, AccountFields, StateDiff};
use mosaic_storage::{BlockCommit, Store, StoreError};
use mosaic_trie::{KECCAK_EMPTY, TrieUpdates};
use std::collections::BTreeMap;

#[test]
fn blocks_receipts_and_transactions_round_trip_and_survive_reopen() {
    let mut rng = rng(seeds(&[41])[0]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let pool = Pool::new(&mut rng, 10, 4);
    let mut chain = Chain::new(&path, &mut rng, pool);
    // Commit blocks with transactions, remembering what went in.
    let mut committed = Vec::new();
    for number in 1..=6u64 {
        let model = chain.models.last().expect("model").clone();
        let diff = random_diff(&mut rng, &model, &chain.pool);
        let latest = chain.store.latest_state().expect("latest");
        let (root, trie) = latest.trie_updates(&diff).expect("trie");
        let (block, receipts) =
            block_with_txs(header(number, chain.hashes[number as usize - 1], root), 3, &mut rng);
        let hash = block.header.hash_slow();
        chain
            .store
            .commit_block(BlockCommit { block: &block, receipts: &receipts, diff: &diff, trie: &trie })
            .expect("commit");
        let mut next = model;
        next.apply(&diff);
        chain.models.push(next);
        chain.hashes.push(hash);
        committed.push((block, receipts, hash));
    }
    drop(chain.store);
    let store = Store::open(&path).expect("reopen");
    let snapshot = store.snapshot().expect("snapshot");
    assert_eq!(snapshot.head().map(|h| h.number), Some(6));
    let genesis = snapshot.block_by_number(0).expect("read").expect("genesis block");
    assert_eq!(genesis.header.hash_slow(), chain.hashes[0]);
    for (block, receipts, hash) in &committed {
        let number = block.header.number;
        assert_eq!(snapshot.block_hash(number).expect("hash"), Some(*hash));
        assert_eq!(snapshot.block_number(*hash).expect("number"), Some(number));
        assert_eq!(snapshot.header(*hash).expect("header").as_ref(), Some(&block.header));
        assert_eq!(snapshot.header_by_number(number).expect("header").as_ref(), Some(&block.header));
        assert_eq!(snapshot.body(*hash).expect("body").as_ref(), Some(&block.body));
        assert_eq!(snapshot.block(*hash).expect("block").as_ref(), Some(block));
        assert_eq!(snapshot.receipts(*hash).expect("receipts").as_ref(), Some(receipts));
        for (index, tx) in block.body.transactions.iter().enumerate() {
            let (found, location, receipt) =
                snapshot.transaction(*tx.tx_hash()).expect("tx").expect("indexed");
            assert_eq!(&found, tx);
            assert_eq!(
                (location.block_number, location.block_hash, location.index),
                (number, *hash, index as u32)
            );
            assert_eq!(receipt.as_ref(), Some(&receipts[index]));
        }
    }
    assert_eq!(snapshot.header(B256::repeat_byte(9)).expect("read"), None);
    assert_eq!(snapshot.transaction_location(B256::repeat_byte(9)).expect("read"), None);

    // Unwinding drops the blocks' data and transaction index.
    store.unwind_to(3).expect("unwind");
    let snapshot = store.snapshot().expect("snapshot");
    for (block, _, hash) in &committed[3..] {
        assert_eq!(snapshot.header(*hash).expect("header"), None);
        assert_eq!(snapshot.receipts(*hash).expect("receipts"), None);
        assert_eq!(snapshot.block_number(*hash).expect("number"), None);
        for tx in &block.body.transactions {
            assert_eq!(snapshot.transaction_location(*tx.tx_hash()).expect("tx"), None);
        }
    }
    let (_, _, kept) = &committed[2];
    assert!(snapshot.block(*kept).expect("block").is_some());
}

#[test]
fn commits_must_extend_the_head() {
    let mut rng = rng(seeds(&[42])[0]);
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = Pool::new(&mut rng, 6, 4);
    let chain = Chain::new(&dir.path().join("db"), &mut rng, pool);
    let diff = StateDiff::default();
    let trie = TrieUpdates::default();
    for (number, parent) in [(2, chain.hashes[0]), (1, B256::repeat_byte(1)), (0, B256::ZERO)] {
        let (block, receipts) = block_with_txs(header(number, parent, B256::ZERO), 0, &mut rng);
        let result = chain.store.commit_block(BlockCommit {
            block: &block,
            receipts: &receipts,
            diff: &diff,
            trie: &trie,
        });
        assert!(matches!(result, Err(StoreError::NotNextBlock { head_number: 0, .. })), "{result:?}");
    }
    assert_eq!(chain.store.head().expect("head").map(|h| h.hash), Some(chain.hashes[0]));

    let empty = tempfile::tempdir().expect("tempdir");
    let store = Store::create(empty.path().join("db")).expect("create");
    let (block, receipts) = block_with_txs(header(1, B256::ZERO, B256::ZERO), 0, &mut rng);
    let result =
        store.commit_block(BlockCommit { block: &block, receipts: &receipts, diff: &diff, trie: &trie });
    assert!(matches!(result, Err(StoreError::Empty)));
    assert!(matches!(store.unwind_to(0), Err(StoreError::Empty)));
}

#[test]
fn a_commit_failing_midway_leaves_the_previous_head_and_state() {
    let mut rng = rng(seeds(&[43])[0]);
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = Pool::new(&mut rng, 10, 6);
    let mut chain = Chain::new(&dir.path().join("db"), &mut rng, pool);
    chain.commit_random(&mut rng);
    let before = chain.store.snapshot().expect("snapshot");
    let fingerprint = before.state_fingerprint().expect("fingerprint");
    let counts = before.entry_counts().expect("counts");
    drop(before);

    // Two changed accounts with real trie updates, then the second account's
    // leaf is falsified: the first account (and its slots, changesets and
    // history) is already written when the commit fails.
    let [first, second] = [chain.pool.addresses[0], chain.pool.addresses[1]];
    let fields = |nonce| AccountFields { nonce, balance: U256::from(5), code_hash: KECCAK_EMPTY };
    let mut diff = StateDiff::default();
    let storage = BTreeMap::from([(U256::from(1), U256::from(77))]);
    let (low, high) = if first < second { (first, second) } else { (second, first) };
    diff.accounts.insert(low, AccountDiff { info: Some(fields(100)), storage_wiped: false, storage });
    diff.accounts.insert(
        high,
        AccountDiff { info: Some(fields(200)), storage_wiped: false, storage: BTreeMap::new() },
    );
    let (root, mut trie) = chain.store.latest_state().expect("latest").trie_updates(&diff).expect("trie");
    let leaf = trie.accounts.get_mut(&keccak256(high)).expect("leaf").as_mut().expect("exists");
    leaf.nonce = 201;
    let (block, receipts) = block_with_txs(header(2, chain.hashes[1], root), 2, &mut rng);
    let hash = block.header.hash_slow();
    let result = chain.store.commit_block(BlockCommit {
        block: &block,
        receipts: &receipts,
        diff: &diff,
        trie: &trie,
    });
    assert!(matches!(result, Err(StoreError::TrieMismatch { .. })), "{result:?}");

    let after = chain.store.snapshot().expect("snapshot");
    assert_eq!(after.head().map(|h| (h.number, h.hash)), Some((1, chain.hashes[1])));
    assert_eq!(after.state_fingerprint().expect("fingerprint"), fingerprint);
    assert_eq!(after.entry_counts().expect("counts"), counts);
    assert_eq!(after.header(hash).expect("header"), None);
    common::assert_state(
        &chain.store.latest_state().expect("latest"),
        &chain.models[1],
        &chain.pool,
        "after abort",
    );

    // The same block with honest trie updates then commits.
    let (_, trie) = chain.store.latest_state().expect("latest").trie_updates(&diff).expect("trie");
    chain
        .store
        .commit_block(BlockCommit { block: &block, receipts: &receipts, diff: &diff, trie: &trie })
        .expect("commit");
}

#[test]
fn non_durable_commits_are_visible_and_flush_makes_them_stick() {
    let mut rng = rng(seeds(&[44])[0]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let pool = Pool::new(&mut rng, 8, 4);
    let genesis = common::random_genesis(&mut rng, &pool, 4);
    let store = mosaic_storage::StoreOptions::new().durable(false).create(&path).expect("create");
    let header = header(0, B256::ZERO, common::reference_root(&genesis));
    let head = store.init_genesis(&genesis, &header).expect("genesis");
    assert_eq!(store.head().expect("head"), Some(head));
    store.flush().expect("flush");
    drop(store);
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.head().expect("head"), Some(head));
    common::assert_state(&store.latest_state().expect("latest"), &genesis, &pool, "after flush");
}
