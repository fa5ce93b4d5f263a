//! The transaction pool through its public API, with signed transactions:
//! geth's error messages, replacement, nonce gaps, the builder's order,
//! eviction, limits, block commits, concurrency, the stateless verdicts
//! against `validate_transaction`, and the rpc-compat fixture's raw
//! transactions (KZG-checked blob sidecar included).

mod pool_support;

use std::sync::Arc;

use alloy_consensus::{Signed, TxEip1559, TxEip2930, TxEip4844Variant, TxEip7702, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use mosaic_chain::{PoolConfig, PoolError, PoolHead, RemovalReason, TxPool, tx_rules};
use mosaic_primitives::{
    Hardfork,
    transaction::{decode_transaction, validate_transaction},
};
use pool_support::{Env, Rng, dynamic, key, legacy, sign, transfer};

#[test]
fn error_messages_match_geth() {
    let env = Env::new(Hardfork::Prague, PoolConfig::default());
    let alice = key(1);
    let msg = |result: Result<B256, PoolError>| {
        let err = result.expect_err("must be refused");
        assert_eq!(err.rpc_code(), -32000);
        err.to_string()
    };
    let raw = |bytes: &[u8]| msg(env.pool.add_raw(bytes, &env.head, &env.state));
    let add = |tx: TxEnvelope| msg(env.pool.add(tx, &env.head, &env.state));

    assert_eq!(raw(&[]), "typed transaction too short");
    assert_eq!(raw(&[0x09, 0xc0]), "transaction type not supported");
    assert_eq!(raw(&[0x02, 0xc1]), "rlp: input too short");
    let good = transfer(&alice, 0, 100, 2).encoded_2718();
    assert_eq!(raw(&[&good[..], &[0x80]].concat()), "rlp: input contains more than one value");

    let big = dynamic(&alice, TxEip1559 { input: Bytes::from(vec![1; 140_000]), ..Env::call(0) });
    assert!(add(big).starts_with("oversized data: transaction size 140"));
    let unprotected = sign(&alice, TxLegacy { chain_id: None, ..legacy_call(0, 100) });
    assert_eq!(add(unprotected), "only replay-protected (EIP-155) transactions allowed over RPC");
    let other_chain = dynamic(&alice, TxEip1559 { chain_id: 1, ..Env::call(0) });
    assert_eq!(add(other_chain), "invalid sender: invalid chain id for signer: have 1 want 1337");
    let mut tampered = transfer(&alice, 0, 100, 2).encoded_2718();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    // A tampered `s` recovers another address (which has no funds) or none.
    let tampered = raw(&tampered);
    assert!(
        tampered.starts_with("insufficient funds") || tampered.starts_with("invalid sender"),
        "{tampered}"
    );
    let greedy = dynamic(&alice, TxEip1559 { gas_limit: 30_000_001, ..Env::call(0) });
    assert_eq!(add(greedy), "exceeds block gas limit");
    let short = dynamic(&alice, TxEip1559 { gas_limit: 20_999, ..Env::call(0) });
    assert_eq!(add(short), "intrinsic gas too low: gas 20999, minimum needed 21000");
    let floor =
        dynamic(&alice, TxEip1559 { gas_limit: 22_600, input: Bytes::from(vec![0xff; 100]), ..Env::call(0) });
    assert_eq!(add(floor), "insufficient gas for floor data gas cost: gas 22600, minimum needed 25000");
    let tips = dynamic(&alice, TxEip1559 { max_priority_fee_per_gas: 101, ..Env::call(0) });
    assert_eq!(add(tips), "max priority fee per gas higher than max fee per gas");
    let set_code = sign(&alice, TxEip7702 { chain_id: 1337, gas_limit: 50_000, ..Default::default() });
    assert_eq!(add(set_code), "set code tx must have at least one authorization tuple");
    let broke = transfer(&key(99), 0, 100, 2);
    assert_eq!(
        add(broke),
        "insufficient funds for gas * price + value: balance 0, tx cost 2100001, overshot 2100001"
    );

    env.pool.add(transfer(&alice, 0, 100, 2), &env.head, &env.state).expect("admitted");
    assert_eq!(add(transfer(&alice, 0, 100, 2)), "already known");
    assert_eq!(add(transfer(&alice, 0, 105, 3)), "replacement transaction underpriced");
    let mut later = Env::new(Hardfork::Prague, PoolConfig::default());
    later.state.insert_account(alice.address, 1, U256::from(10u64).pow(U256::from(21)), &[], []);
    let err = later.add(transfer(&alice, 0, 500, 50)).expect_err("consumed nonce");
    assert_eq!(err.to_string(), "nonce too low: next nonce 1, tx nonce 0");

    // Fork rules at the head.
    let cancun = Env::new(Hardfork::Cancun, PoolConfig::default());
    let set_code = sign(&alice, TxEip7702 { chain_id: 1337, gas_limit: 50_000, ..Default::default() });
    let err = cancun.pool.add(set_code, &cancun.head, &cancun.state).expect_err("not yet");
    assert_eq!(err.to_string(), "transaction type not supported: type 4 rejected, pool not yet in Prague");
    let istanbul = Env::new(Hardfork::Istanbul, PoolConfig::default());
    let typed =
        sign(&alice, TxEip2930 { chain_id: 1337, gas_limit: 21_000, gas_price: 5, ..Default::default() });
    let err = istanbul.pool.add(typed, &istanbul.head, &istanbul.state).expect_err("not yet");
    assert_eq!(err.to_string(), "transaction type not supported: type 1 rejected, pool not yet in Berlin");
    // Minimum tip and the per-sender limit.
    let strict = Env::new(
        Hardfork::Prague,
        PoolConfig { min_priority_fee: 3, max_account_txs: 2, ..Default::default() },
    );
    let err = strict.pool.add(transfer(&alice, 0, 100, 2), &strict.head, &strict.state).expect_err("cheap");
    assert_eq!(err.to_string(), "transaction gas price below minimum: gas tip cap 2, minimum needed 3");
    for nonce in [0, 5] {
        strict.pool.add(transfer(&alice, nonce, 100, 3), &strict.head, &strict.state).expect("admitted");
    }
    let err = strict.pool.add(transfer(&alice, 1, 100, 3), &strict.head, &strict.state).expect_err("limit");
    assert_eq!(err.to_string(), "account limit exceeded: pooled 2 txs");
    // A replacement is not a new slot.
    strict.pool.add(transfer(&alice, 5, 200, 30), &strict.head, &strict.state).expect("replaces");
}

fn legacy_call(nonce: u64, gas_price: u128) -> TxLegacy {
    TxLegacy {
        chain_id: Some(1337),
        nonce,
        gas_price,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0xaa)),
        value: U256::from(1),
        ..Default::default()
    }
}

#[test]
fn replacement_needs_a_ten_percent_bump() {
    let env = Env::new(Hardfork::Prague, PoolConfig::default());
    let alice = key(1);
    let first = env.add(transfer(&alice, 0, 1_000, 100)).expect("admitted");
    assert_eq!(
        env.add(transfer(&alice, 0, 1_090, 110)).map_err(|e| e.to_string()),
        Err("replacement transaction underpriced".into())
    );
    assert_eq!(
        env.add(transfer(&alice, 0, 1_100, 109)).map_err(|e| e.to_string()),
        Err("replacement transaction underpriced".into())
    );
    let second = env.add(transfer(&alice, 0, 1_100, 110)).expect("exactly 10% on both fees");
    assert!(env.pool.get(&first).is_none());
    assert_eq!(env.pool.get(&second).map(|tx| tx.max_fee_per_gas()), Some(1_100));
    // Legacy: the gas price is both fee cap and tip.
    let bob = key(2);
    env.add(legacy(&bob, 0, 100)).expect("admitted");
    assert!(env.add(legacy(&bob, 0, 109)).is_err());
    env.add(legacy(&bob, 0, 110)).expect("10% bump");
    assert_eq!(env.pool.status().pending, 2);
}

#[test]
fn nonce_gap_is_queued_until_filled() {
    let env = Env::new(Hardfork::Prague, PoolConfig::default());
    let alice = key(1);
    let pending = env.pool.subscribe_pending();
    let two = env.add(transfer(&alice, 2, 100, 1)).expect("queued");
    let one = env.add(transfer(&alice, 1, 100, 1)).expect("queued");
    assert_eq!((env.pool.status().pending, env.pool.status().queued), (0, 2));
    assert_eq!(env.pool.content().queued[&alice.address].keys().copied().collect::<Vec<_>>(), [1, 2]);
    assert!(pending.try_recv().is_err());
    assert_eq!(env.pool.best_transactions(0, None).count(), 0);
    let zero = env.add(transfer(&alice, 0, 100, 1)).expect("fills the gap");
    assert_eq!((env.pool.status().pending, env.pool.status().queued), (3, 0));
    assert_eq!(pending.try_iter().collect::<Vec<_>>(), [zero, one, two]);
    let from = env.pool.content_from(alice.address);
    assert_eq!(from.pending.keys().copied().collect::<Vec<_>>(), [0, 1, 2]);
    assert!(from.queued.is_empty());
    assert_eq!(env.pool.next_nonce(alice.address), Some(3));
    assert_eq!(env.pool.next_nonce(key(2).address), None);
}

#[test]
fn best_transactions_order_by_effective_tip() {
    let env = Env::new(Hardfork::Prague, PoolConfig::default());
    let (a, b, c, d) = (key(1), key(2), key(3), key(4));
    // At base fee 100: a pays 5 then 50, b pays 20 (cap-bound), c 10, d is below the base fee.
    let a0 = env.add(transfer(&a, 0, 200, 5)).expect("a0");
    let a1 = env.add(transfer(&a, 1, 200, 50)).expect("a1");
    let b0 = env.add(transfer(&b, 0, 120, 90)).expect("b0");
    let c0 = env.add(legacy(&c, 0, 110)).expect("c0");
    let c1 = env.add(legacy(&c, 1, 99)).expect("c1 is below the base fee");
    let d0 = env.add(transfer(&d, 0, 99, 99)).expect("admitted though below the base fee");
    let order: Vec<B256> = env.pool.best_transactions(100, None).map(|tx| tx.hash()).collect();
    assert_eq!(order, [b0, c0, a0, a1]);
    // At base fee 0 tips are uncapped: c's 110, then c1 and d tie at 99 (c1 came first),
    // b's 90, and a's 5 before its 50 (nonce order).
    let order: Vec<B256> = env.pool.best_transactions(0, None).map(|tx| tx.hash()).collect();
    assert_eq!(order, [c0, c1, d0, b0, a0, a1]);
    // Marking a sender invalid skips its later nonces.
    let mut best = env.pool.best_transactions(100, None);
    let mut taken = Vec::new();
    while let Some(tx) = best.next() {
        if tx.hash() == a0 {
            best.mark_invalid(tx.sender());
        }
        taken.push(tx.hash());
    }
    assert_eq!(taken, [b0, c0, a0]);
}

#[test]
fn full_pool_evicts_the_cheapest() {
    let config = PoolConfig { max_pending: 3, max_queued: 1, ..Default::default() };
    let env = Env::new(Hardfork::Prague, config);
    let keys: Vec<_> = (1..=6).map(key).collect();
    let cheap = env.add(transfer(&keys[0], 0, 100, 1)).expect("1");
    env.add(transfer(&keys[1], 0, 100, 3)).expect("2");
    env.add(transfer(&keys[2], 0, 100, 5)).expect("3");
    let err = env.add(transfer(&keys[3], 0, 100, 1)).expect_err("no better than the cheapest");
    assert_eq!(err.to_string(), "transaction underpriced");
    let rich = env.add(transfer(&keys[3], 0, 100, 2)).expect("evicts the cheapest");
    assert!(env.pool.get(&cheap).is_none() && env.pool.get(&rich).is_some());
    assert_eq!(env.pool.status().pending, 3);
    // The queued limit is separate.
    env.add(transfer(&keys[4], 5, 100, 1)).expect("queued");
    let err = env.add(transfer(&keys[5], 5, 100, 1)).expect_err("queue full, equal price");
    assert_eq!(err.to_string(), "transaction underpriced");
    env.add(transfer(&keys[5], 5, 100, 9)).expect("evicts the queued one");
    assert_eq!((env.pool.status().pending, env.pool.status().queued), (3, 1));
    // Nothing to evict but the sender's own transactions.
    let solo = Env::new(Hardfork::Prague, PoolConfig { max_pending: 1, ..Default::default() });
    solo.add(transfer(&keys[0], 0, 100, 1)).expect("1");
    let err = solo.add(transfer(&keys[0], 1, 100, 50)).expect_err("own tail is not evicted");
    assert_eq!(err.to_string(), "txpool is full");
}

#[test]
fn block_commit_removes_included_stale_and_unaffordable() {
    let mut env = Env::new(Hardfork::Prague, PoolConfig::default());
    let (a, b) = (key(1), key(2));
    let a_txs: Vec<B256> = (0..4).map(|n| env.add(transfer(&a, n, 100, 1)).expect("a")).collect();
    let b0 = env.add(transfer(&b, 0, 100, 1)).expect("b0");
    let b2 = env.add(transfer(&b, 2, 100, 1)).expect("b2 queued");
    // A block includes a0, a1 and b0 (b's nonce moves to 2, promoting b2); a's balance drops
    // below a3's cost.
    env.state.insert_account(a.address, 2, U256::from(2_100_001u64), &[], []);
    env.state.insert_account(b.address, 2, U256::from(10u64).pow(U256::from(21)), &[], []);
    env.head.number += 1;
    let update = env.pool.on_block_committed(&env.head, [a.address, b.address], &env.state).expect("state");
    let mut removed: Vec<_> = update.removed.iter().map(|(tx, why)| (tx.hash(), *why)).collect();
    removed.sort_by_key(|(hash, _)| *hash);
    let mut want = vec![
        (a_txs[0], RemovalReason::NonceConsumed),
        (a_txs[1], RemovalReason::NonceConsumed),
        (b0, RemovalReason::NonceConsumed),
    ];
    want.sort_by_key(|(hash, _)| *hash);
    // a2 (cost 2_100_001) still fits, a3 then waits queued behind nothing: it fits too.
    assert_eq!(removed, want);
    assert_eq!(update.promoted, [b2]);
    assert_eq!((env.pool.status().pending, env.pool.status().queued), (3, 0));
    // A lower balance drops a2; a3 becomes queued behind the gap.
    env.state.insert_account(a.address, 2, U256::from(1u64), &[], []);
    let update = env.pool.on_block_committed(&env.head, [a.address], &env.state).expect("state");
    assert_eq!(update.removed.len(), 2);
    assert!(update.removed.iter().all(|(_, why)| *why == RemovalReason::InsufficientFunds));
    // The builder reports b2 invalid.
    assert_eq!(env.pool.remove(&[b2]).len(), 1);
    assert!(env.pool.is_empty());
}

#[test]
fn concurrent_adds_from_many_threads() {
    let env = Arc::new(Env::new(Hardfork::Prague, PoolConfig::default()));
    let txs: Vec<Vec<TxEnvelope>> =
        (0..4).map(|t| (0..10).map(|n| transfer(&key(t + 1), n, 100 + u128::from(t), 1)).collect()).collect();
    let handles: Vec<_> = txs
        .into_iter()
        .map(|batch| {
            let env = env.clone();
            std::thread::spawn(move || {
                batch.into_iter().map(|tx| env.add(tx).is_ok()).filter(|ok| *ok).count()
            })
        })
        .collect();
    let admitted: usize = handles.into_iter().map(|h| h.join().expect("thread")).sum();
    assert_eq!(admitted, 40);
    assert_eq!((env.pool.status().pending, env.pool.status().queued), (40, 0));
    assert_eq!(env.pool.best_transactions(0, None).count(), 40);
}

#[test]
fn add_many_recovers_in_parallel_and_matches_add() {
    let batch: Vec<TxEnvelope> =
        (0..24).map(|i| transfer(&key(i % 6 + 1), i / 6, 100, 1 + u128::from(i))).collect();
    let bad = dynamic(&key(1), TxEip1559 { chain_id: 7, ..Env::call(9) });
    let mut all = batch.clone();
    all.push(bad);
    all.push(batch[0].clone());
    let many = Env::new(Hardfork::Prague, PoolConfig::default());
    let got: Vec<_> = many.pool.add_many(all.clone(), &many.head, &many.state);
    let one = Env::new(Hardfork::Prague, PoolConfig::default());
    let want: Vec<_> = all.into_iter().map(|tx| one.add(tx)).collect();
    let show = |r: &Vec<Result<B256, PoolError>>| r.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>();
    assert_eq!(show(&got), show(&want));
    assert_eq!(many.pool.status(), one.pool.status());
    let raws: Vec<Vec<u8>> = batch.iter().map(|tx| tx.encoded_2718()).collect();
    let again = many.pool.add_raw_many(&raws, &many.head, &many.state);
    assert!(again.iter().all(|r| matches!(r, Err(PoolError::AlreadyKnown))));
}

/// The pool's stateless verdict equals the block rules' verdict
/// (`validate_transaction`) for random, often broken, signed transactions.
#[test]
fn stateless_verdicts_match_validate_transaction() {
    let seed = std::env::var("POOL_DIFF_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed);
    println!("seed {seed}");
    let mut rng = Rng(seed);
    let config = PoolConfig { allow_unprotected: true, max_tx_size: usize::MAX, ..Default::default() };
    let mut disagreements = Vec::new();
    let (mut accepted, mut reasons) = (0, std::collections::BTreeSet::new());
    for fork in [Hardfork::Berlin, Hardfork::Cancun, Hardfork::Osaka] {
        let env = Env::new(fork, config.clone());
        let rules = tx_rules(&env.spec, env.head.number, env.head.timestamp);
        for i in 0..60 {
            let tx = pool_support::random_tx(&mut rng, i);
            let reference = validate_transaction(&tx, &rules).map(|_| ()).map_err(|e| e.to_string());
            let pool = env.pool.add(tx.clone(), &env.head, &env.state);
            // Past the stateless checks, only the state or the pool can refuse.
            let stateless_ok = pool.is_ok()
                || matches!(
                    pool,
                    Err(PoolError::NonceTooLow { .. }
                        | PoolError::AlreadyKnown
                        | PoolError::InsufficientFunds(_)
                        | PoolError::ReplaceUnderpriced)
                );
            accepted += usize::from(reference.is_ok());
            reasons.insert(
                reference.as_ref().err().map(|e| e.split([' ', ':']).take(2).collect::<Vec<_>>().join(" ")),
            );
            if stateless_ok != reference.is_ok() {
                disagreements.push(format!("{fork:?} #{i}: pool {pool:?}, reference {reference:?}"));
            }
        }
    }
    assert!(disagreements.is_empty(), "seed {seed}:\n{}", disagreements.join("\n"));
    println!("{accepted} of 180 valid; verdicts {reasons:?}");
    assert!((30..150).contains(&accepted) && reasons.len() > 7, "too little variety");
}

#[test]
fn rpc_compat_raw_transactions_are_accepted() {
    let Some(fixture) = pool_support::RpcCompat::load() else {
        eprintln!("rpc-compat fixtures not found; skipping");
        return;
    };
    let pool = TxPool::new(Arc::new(fixture.spec.clone()), PoolConfig::default());
    let head = PoolHead::from_header(&fixture.spec, &fixture.header);
    for (name, raw, expected) in &fixture.sends {
        let got = pool.add_raw(raw, &head, fixture.state.as_ref()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, *expected, "{name}");
    }
    // geth answers txpool_status with six pending transactions after these sends.
    assert_eq!((pool.status().pending, pool.status().queued), (6, 0));
    let blob = pool.get(&fixture.blob_hash).expect("blob transaction pooled");
    assert!(blob.is_blob() && blob.sidecar().is_some());
    assert_eq!(blob.tx().encoded_2718().len(), blob.size());

    // The same blob transaction with a broken proof, without its sidecar, or
    // to a pool that takes no blobs.
    let (_, raw, _) = fixture.sends.iter().find(|(name, ..)| name.contains("blob")).expect("blob send");
    let fresh = || TxPool::new(Arc::new(fixture.spec.clone()), PoolConfig::default());
    let mut broken = raw.clone();
    let last = broken.len() - 1;
    broken[last] ^= 0x01;
    let err = fresh().add_raw(&broken, &head, fixture.state.as_ref()).expect_err("bad proof");
    assert!(err.to_string().starts_with("KZG verification error: "), "{err}");
    let TxEnvelope::Eip4844(signed) = decode_transaction(raw).expect("decodes") else {
        panic!("not a blob tx")
    };
    let (variant, signature, hash) = signed.into_parts();
    let bare = TxEip4844Variant::TxEip4844(variant.tx().clone());
    let bare = TxEnvelope::Eip4844(Signed::new_unchecked(bare, signature, hash));
    let err = fresh().add(bare, &head, fixture.state.as_ref()).expect_err("no sidecar");
    assert_eq!(err.to_string(), "missing sidecar in blob transaction");
    let no_blobs = TxPool::new(
        Arc::new(fixture.spec.clone()),
        PoolConfig { accept_blob_txs: false, ..PoolConfig::default() },
    );
    let err = no_blobs.add_raw(raw, &head, fixture.state.as_ref()).expect_err("refused");
    assert_eq!(err.to_string(), "transaction type not supported: tx type 3 not supported by this pool");
}

/// Admission throughput (run with `--profile ci -- --ignored --nocapture`):
/// 10,000 signed transfers from 2,000 senders, one by one and in batches.
#[test]
#[ignore = "measurement, not a check"]
fn admission_throughput() {
    let keys: Vec<_> = (1..=2_000).map(key).collect();
    let txs: Vec<TxEnvelope> =
        (0..5).flat_map(|n| keys.iter().map(move |k| transfer(k, n, 100, 1))).collect();
    let mut env = Env::new(Hardfork::Prague, PoolConfig::default());
    for k in &keys {
        env.state.insert_account(k.address, 0, U256::from(10u64).pow(U256::from(21)), &[], []);
    }
    let start = std::time::Instant::now();
    let admitted = txs.iter().filter(|tx| env.add((*tx).clone()).is_ok()).count();
    let one_by_one = start.elapsed();
    let best = std::time::Instant::now();
    let taken = env.pool.best_transactions(0, None).count();
    let best = best.elapsed();
    let batch_env = Env { pool: TxPool::new(Arc::new(env.spec.clone()), PoolConfig::default()), ..env };
    let start = std::time::Instant::now();
    let batched = batch_env.pool.add_many(txs.clone(), &batch_env.head, &batch_env.state);
    let batch = start.elapsed();
    assert_eq!((admitted, taken, batched.iter().filter(|r| r.is_ok()).count()), (10_000, 10_000, 10_000));
    let rate = |d: std::time::Duration| 10_000.0 / d.as_secs_f64();
    println!(
        "threads {}: add {:.0} tx/s, add_many {:.0} tx/s, best_transactions over 10k: {:?}",
        rayon::current_num_threads(),
        rate(one_by_one),
        rate(batch),
        best
    );
}
