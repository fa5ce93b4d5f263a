//! State over many random blocks against an `InMemoryState` model kept for
//! every height: latest and historical reads, incremental roots against a
//! from-scratch reference, unwind back to exact earlier tables, pruning.

mod common;

use common::{Chain, Pool, assert_state, reference_root, rng, seeds};
use mosaic_executor::StateProvider;
use mosaic_storage::{Store, StoreError};
use rand::Rng;

#[test]
fn random_blocks_match_model_at_every_height() {
    for seed in seeds(&[1, 2, 3]) {
        let mut rng = rng(seed);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        let pool = Pool::new(&mut rng, 24, 12);
        let mut chain = Chain::new(&path, &mut rng, pool);
        for _ in 0..25 {
            chain.commit_random(&mut rng);
            let latest = chain.store.latest_state().expect("latest");
            assert_state(&latest, chain.models.last().expect("model"), &chain.pool, "latest");
        }
        let head = chain.models.len() as u64 - 1;
        // Historical reads at every height, from one snapshot.
        for number in 0..=head {
            let past = chain.store.state_at(number).expect("state at");
            assert_state(&past, &chain.models[number as usize], &chain.pool, &format!("block {number}"));
            for earlier in 0..=number {
                assert_eq!(past.block_hash(earlier).expect("hash"), chain.hashes[earlier as usize]);
            }
            assert!(past.block_hash(number + 1).is_err(), "no hash beyond the state's block");
        }
        assert!(matches!(chain.store.state_at(head + 1), Err(StoreError::OutsideHistory { .. })));

        // Reopen: same head, same state, same root.
        let Chain { store, models, hashes, pool, .. } = chain;
        drop(store);
        let store = Store::open(&path).expect("reopen");
        let head_ref = store.head().expect("head").expect("some head");
        assert_eq!((head_ref.number, head_ref.hash), (head, hashes[head as usize]));
        let latest = store.latest_state().expect("latest");
        assert_state(&latest, &models[head as usize], &pool, "reopened");
        assert_eq!(latest.state_root().expect("root"), reference_root(&models[head as usize]));
    }
}

#[test]
fn unwind_restores_exact_tables_and_chain_goes_on() {
    for seed in seeds(&[11, 12]) {
        let mut rng = rng(seed);
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = Pool::new(&mut rng, 20, 10);
        let mut chain = Chain::new(&dir.path().join("db"), &mut rng, pool);
        for round in 0..3 {
            for _ in 0..rng.random_range(3..10) {
                chain.commit_random(&mut rng);
            }
            let head = chain.models.len() as u64 - 1;
            let target = rng.random_range(0..head);
            let new_head = chain.store.unwind_to(target).expect("unwind");
            assert_eq!((new_head.number, new_head.hash), (target, chain.hashes[target as usize]));
            chain.truncate(target);
            let snapshot = chain.store.snapshot().expect("snapshot");
            assert_eq!(
                snapshot.state_fingerprint().expect("fingerprint"),
                chain.fingerprints[target as usize],
                "round {round}: tables after unwinding to {target} differ from when it was the head"
            );
            // Bytecodes are kept by unwind (content-addressed, harmless); every other table,
            // changesets and history indexes included, is back to its size at `target`.
            let without_code = |counts: &[(&str, u64)]| -> Vec<(String, u64)> {
                counts
                    .iter()
                    .filter(|(name, _)| *name != "bytecodes")
                    .map(|(n, c)| (n.to_string(), *c))
                    .collect()
            };
            assert_eq!(
                without_code(&snapshot.entry_counts().expect("counts")),
                without_code(&chain.counts[target as usize]),
                "round {round}: history or block tables after unwinding to {target} differ"
            );
            for gone in target + 1..=head {
                assert_eq!(snapshot.block_hash(gone).expect("hash"), None);
                assert!(snapshot.header_by_number(gone).expect("header").is_none());
            }
            let latest = chain.store.latest_state().expect("latest");
            assert_state(&latest, &chain.models[target as usize], &chain.pool, "unwound");
            assert_eq!(latest.state_root().expect("root"), reference_root(&chain.models[target as usize]));
            // History below the unwind point still reads right.
            for number in 0..=target {
                let past = chain.store.state_at(number).expect("state at");
                assert_state(&past, &chain.models[number as usize], &chain.pool, &format!("block {number}"));
            }
        }
        // The chain goes on from the unwound state with matching roots
        // (`commit_random` checks every root against the reference).
        for _ in 0..5 {
            chain.commit_random(&mut rng);
        }
    }
}

#[test]
fn incremental_tables_equal_a_fresh_genesis_of_the_same_state() {
    let mut rng = rng(seeds(&[21])[0]);
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = Pool::new(&mut rng, 30, 12);
    let mut chain = Chain::new(&dir.path().join("db"), &mut rng, pool);
    for _ in 0..15 {
        chain.commit_random(&mut rng);
    }
    let model = chain.models.last().expect("model");
    let fresh = Store::create(dir.path().join("fresh")).expect("create");
    let header = common::header(0, Default::default(), reference_root(model));
    fresh.init_genesis(model, &header).expect("genesis");
    assert_eq!(
        fresh.snapshot().expect("snapshot").state_fingerprint().expect("fingerprint"),
        *chain.fingerprints.last().expect("fingerprint"),
        "a state reached block by block must be stored exactly as the same state built at once"
    );
}

#[test]
fn pruned_history_is_refused_and_the_rest_still_reads() {
    let mut rng = rng(seeds(&[31])[0]);
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = Pool::new(&mut rng, 16, 8);
    let mut chain = Chain::new(&dir.path().join("db"), &mut rng, pool);
    for _ in 0..12 {
        chain.commit_random(&mut rng);
    }
    assert_eq!(chain.store.prune_history(6).expect("prune"), 5);
    for number in 0..5 {
        assert!(matches!(chain.store.state_at(number), Err(StoreError::OutsideHistory { oldest: 5, .. })));
    }
    for number in 5..=12 {
        let past = chain.store.state_at(number).expect("state at");
        assert_state(&past, &chain.models[number as usize], &chain.pool, &format!("block {number}"));
    }
    assert!(matches!(chain.store.unwind_to(4), Err(StoreError::OutsideHistory { .. })));
    chain.store.unwind_to(5).expect("unwind to the oldest readable block");
    chain.truncate(5);
    let latest = chain.store.latest_state().expect("latest");
    assert_state(&latest, &chain.models[5], &chain.pool, "unwound to oldest");
    assert_eq!(chain.store.snapshot().expect("snap").state_fingerprint().expect("fp"), chain.fingerprints[5]);
    let counts = chain.store.snapshot().expect("snap").entry_counts().expect("counts");
    let count = |name: &str| counts.iter().find(|(n, _)| *n == name).map(|(_, c)| *c);
    assert_eq!(count("account_changes"), Some(0), "no changesets left at or below the head");
    for table in [
        "account_history",
        "storage_history",
        "storage_changes",
        "account_trie_changes",
        "storage_trie_changes",
        "hashed_account_history",
        "hashed_storage_history",
        "account_trie_history",
        "storage_trie_history",
    ] {
        assert_eq!(count(table), Some(0), "{table} after pruning and unwinding to the oldest block");
    }
}

#[test]
fn snapshots_are_isolated_and_shared_by_threads() {
    let mut rng = rng(seeds(&[61])[0]);
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = Pool::new(&mut rng, 16, 8);
    let mut chain = Chain::new(&dir.path().join("db"), &mut rng, pool);
    chain.commit_random(&mut rng);
    let before = chain.store.latest_state().expect("latest");
    let model_before = chain.models[1].clone();
    let pool = chain.pool.clone();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let (before, model, pool) = (before.clone(), &model_before, &pool);
            scope.spawn(move || {
                for _ in 0..5 {
                    assert_state(&before, model, pool, "shared snapshot");
                }
            });
        }
        // Meanwhile the writer commits more blocks.
        for _ in 0..5 {
            chain.commit_random(&mut rng);
        }
    });
    // The old view still sees block 1; a new one sees the head.
    assert_state(&before, &model_before, &chain.pool, "old snapshot after commits");
    let latest = chain.store.latest_state().expect("latest");
    assert_state(&latest, chain.models.last().expect("model"), &chain.pool, "new snapshot");
}
