//! The pool against a naive model: random admissions, blocks and removals.
//!
//! The model keeps a flat list of transactions and recomputes everything
//! (pending runs, funds, tails, prices, the builder's order) from scratch on
//! every step; the pool's results, contents, counts and best-transaction
//! order must match it after every step. Transactions are built unsigned with
//! a chosen sender and admitted past the stateless checks (signatures are
//! covered by `tests/pool.rs`). The seed is printed; set `POOL_MODEL_SEED` to
//! replay one, `POOL_MODEL_RUNS` for more runs.

use std::sync::Arc;

use alloy_consensus::{Signed, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use mosaic_executor::InMemoryState;
use mosaic_primitives::{ChainSpec, Hardfork};

use super::{PoolConfig, PoolHead, PooledTx, TxPool, inner::Account};

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const GAS: u64 = 21_000;

/// An unsigned-but-hashable transaction of `sender` (the sender is part of
/// the input, so equal fields mean an equal hash only for one sender).
fn pooled(sender: Address, nonce: u64, cap: u128, tip: u128, value: u64) -> PooledTx {
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: GAS,
        max_fee_per_gas: cap,
        max_priority_fee_per_gas: tip,
        to: TxKind::Call(Address::ZERO),
        value: U256::from(value),
        input: Bytes::copy_from_slice(sender.as_slice()),
        ..Default::default()
    };
    let sig = Signature::new(U256::from(1), U256::from(1), false);
    PooledTx::new(TxEnvelope::Eip1559(Signed::new_unhashed(tx, sig)), None, sender, 0)
}

#[derive(Clone, Debug)]
struct ModelTx {
    hash: B256,
    sender: Address,
    nonce: u64,
    cap: u128,
    tip: u128,
    cost: U256,
    arrival: u64,
}

struct Model {
    config: PoolConfig,
    accounts: Vec<(Address, Account)>,
    txs: Vec<ModelTx>,
    base_fee: u64,
    arrivals: u64,
}

impl Model {
    fn account(&self, sender: Address) -> Account {
        self.accounts.iter().find(|(a, _)| *a == sender).map(|(_, acc)| *acc).unwrap_or_default()
    }

    /// (pending, queued) of a sender, by nonce.
    fn split(&self, sender: Address) -> (Vec<ModelTx>, Vec<ModelTx>) {
        let mut own: Vec<_> = self.txs.iter().filter(|tx| tx.sender == sender).cloned().collect();
        own.sort_by_key(|tx| tx.nonce);
        let mut next = self.account(sender).nonce;
        let run = own.iter().take_while(|tx| (tx.nonce == next).then(|| next += 1).is_some()).count();
        let queued = own.split_off(run);
        (own, queued)
    }

    fn senders(&self) -> Vec<Address> {
        self.accounts.iter().map(|(a, _)| *a).collect()
    }

    fn totals(&self) -> (usize, usize) {
        self.senders()
            .iter()
            .map(|s| self.split(*s))
            .fold((0, 0), |(p, q), (sp, sq)| (p + sp.len(), q + sq.len()))
    }

    /// (effective tip or shortfall, cap, tip): the eviction order.
    fn price(&self, tx: &ModelTx) -> (i128, u128, u128) {
        let base = u128::from(self.base_fee);
        let effective =
            if tx.cap >= base { (tx.cap - base).min(tx.tip) as i128 } else { -((base - tx.cap) as i128) };
        (effective, tx.cap, tx.tip)
    }

    fn cheapest_tail(
        &self,
        pending: bool,
        exclude_sender: Option<Address>,
        exclude_hash: B256,
    ) -> Option<ModelTx> {
        self.senders()
            .into_iter()
            .filter(|s| Some(*s) != exclude_sender)
            .filter_map(|s| {
                let (p, q) = self.split(s);
                if pending { p.last().cloned() } else { q.last().cloned() }
            })
            .filter(|tx| tx.hash != exclude_hash)
            .min_by_key(|tx| (self.price(tx), std::cmp::Reverse(tx.arrival)))
    }

    fn add(&mut self, tx: &PooledTx) -> Result<(), String> {
        let new = ModelTx {
            hash: tx.hash(),
            sender: tx.sender(),
            nonce: tx.nonce(),
            cap: tx.max_fee_per_gas(),
            tip: tx.max_priority_fee_per_gas(),
            cost: tx.cost(),
            arrival: 0,
        };
        if self.txs.iter().any(|t| t.hash == new.hash) {
            return Err("already known".into());
        }
        let account = self.account(new.sender);
        if new.nonce < account.nonce {
            return Err("nonce too low".into());
        }
        if account.balance < new.cost {
            return Err("insufficient funds for gas * price + value".into());
        }
        let (pending, queued) = self.split(new.sender);
        let spent: U256 = pending.iter().map(|t| t.cost).sum();
        let existing = self.txs.iter().find(|t| t.sender == new.sender && t.nonce == new.nonce).cloned();
        let need = match existing.iter().find(|old| pending.iter().any(|p| p.hash == old.hash)) {
            Some(old) => spent - old.cost + new.cost,
            None => spent + new.cost,
        };
        if account.balance < need {
            return Err("insufficient funds for gas * price + value".into());
        }
        if existing.is_none() && pending.len() + queued.len() >= self.config.max_account_txs {
            return Err("account limit exceeded".into());
        }
        if let Some(old) = &existing {
            let bump =
                |o: u128, n: u128| n > o && n >= o * u128::from(100 + self.config.price_bump_percent) / 100;
            if !(bump(old.cap, new.cap) && bump(old.tip, new.tip)) {
                return Err("replacement transaction underpriced".into());
            }
            self.txs.retain(|t| t.hash != old.hash);
        } else {
            let lands_pending = new.nonce == account.nonce + pending.len() as u64;
            let (p, q) = self.totals();
            let full = if lands_pending { p >= self.config.max_pending } else { q >= self.config.max_queued };
            if full {
                let victim = self.cheapest_tail(lands_pending, Some(new.sender), B256::ZERO);
                let victim = victim.ok_or("txpool is full")?;
                if self.price(&victim) >= self.price(&new) {
                    return Err("transaction underpriced".into());
                }
                self.txs.retain(|t| t.hash != victim.hash);
            }
        }
        self.arrivals += 1;
        self.txs.push(ModelTx { arrival: self.arrivals, ..new.clone() });
        while self.totals().0 > self.config.max_pending {
            let Some(victim) = self.cheapest_tail(true, None, new.hash) else { break };
            self.txs.retain(|t| t.hash != victim.hash);
        }
        Ok(())
    }

    fn set_account(&mut self, sender: Address, account: Account) {
        if let Some(entry) = self.accounts.iter_mut().find(|(a, _)| *a == sender) {
            entry.1 = account;
        }
        self.txs.retain(|t| t.sender != sender || (t.nonce >= account.nonce && t.cost <= account.balance));
    }

    /// The builder's order at `base_fee`, marking a sender invalid whenever
    /// `invalid` says so for the transaction just taken.
    fn best(&self, base_fee: u64, invalid: &mut dyn FnMut(&B256) -> bool) -> Vec<B256> {
        let mut runs: Vec<Vec<ModelTx>> = self
            .senders()
            .into_iter()
            .map(|s| self.split(s).0.into_iter().take_while(|t| t.cap >= u128::from(base_fee)).collect())
            .collect();
        let mut out = Vec::new();
        loop {
            let tip = |t: &ModelTx| (t.cap - u128::from(base_fee)).min(t.tip);
            let Some(best) = (0..runs.len())
                .filter(|i| !runs[*i].is_empty())
                .max_by_key(|i| (tip(&runs[*i][0]), std::cmp::Reverse(runs[*i][0].arrival)))
            else {
                return out;
            };
            let tx = runs[best].remove(0);
            out.push(tx.hash);
            if invalid(&tx.hash) {
                runs[best].clear();
            }
        }
    }
}

fn head(base_fee: u64) -> PoolHead {
    PoolHead { number: 1, timestamp: 1, gas_limit: 30_000_000, next_base_fee: base_fee }
}

fn check_same(pool: &TxPool, model: &Model, step: usize) {
    let content = pool.content();
    for sender in model.senders() {
        let (pending, queued) = model.split(sender);
        let hashes = |txs: Option<&std::collections::BTreeMap<u64, Arc<PooledTx>>>| {
            txs.map(|m| m.values().map(|t| t.hash()).collect::<Vec<_>>()).unwrap_or_default()
        };
        let want_pending: Vec<_> = pending.iter().map(|t| t.hash).collect();
        let want_queued: Vec<_> = queued.iter().map(|t| t.hash).collect();
        assert_eq!(hashes(content.pending.get(&sender)), want_pending, "step {step}: pending of {sender}");
        assert_eq!(hashes(content.queued.get(&sender)), want_queued, "step {step}: queued of {sender}");
    }
    let (p, q) = model.totals();
    let status = pool.status();
    assert_eq!((status.pending, status.queued), (p, q), "step {step}: status");
    assert_eq!(pool.len(), model.txs.len(), "step {step}: len");
}

fn run_model(seed: u64) -> std::collections::BTreeMap<String, usize> {
    let mut outcomes = std::collections::BTreeMap::new();
    let mut rng = Rng(seed);
    let config = PoolConfig { max_account_txs: 5, max_pending: 8, max_queued: 4, ..PoolConfig::default() };
    let spec = Arc::new(ChainSpec::with_fork_at_genesis(1337, Hardfork::Prague));
    let pool = TxPool::new(spec, config.clone());
    let senders: Vec<Address> = (1..=5u8).map(Address::repeat_byte).collect();
    let rich = U256::from(GAS) * U256::from(40u64) * U256::from(6u64);
    let accounts = senders.iter().map(|s| (*s, Account { nonce: 0, balance: rich })).collect();
    let mut model = Model { config: config.clone(), accounts, txs: Vec::new(), base_fee: 10, arrivals: 0 };
    let mut state = InMemoryState::default();
    for sender in &senders {
        state.insert_account(*sender, 0, rich, &[], []);
    }
    let mut sent: Vec<PooledTx> = Vec::new();
    let mut number = 1;
    for step in 0..400 {
        let op = rng.below(100);
        if op < 70 {
            let tx = if op < 4 && !sent.is_empty() {
                sent[rng.below(sent.len() as u64) as usize].clone()
            } else {
                let sender = senders[rng.below(senders.len() as u64) as usize];
                let account = model.account(sender);
                let nonce = (account.nonce + rng.below(7)).saturating_sub(1);
                let cap = 1 + u128::from(rng.below(40));
                let tip = u128::from(rng.below(cap as u64 + 1));
                pooled(sender, nonce, cap, tip, rng.below(3) * 100_000)
            };
            sent.push(tx.clone());
            let account = model.account(tx.sender());
            let want = model.add(&tx);
            let got = pool.write().insert(tx, account, &head(model.base_fee), &config);
            let got =
                got.map(|_| ()).map_err(|e| e.to_string().split(':').next().unwrap_or_default().to_string());
            assert_eq!(got, want, "step {step}: admission");
            *outcomes.entry(got.err().unwrap_or_else(|| "admitted".into())).or_insert(0) += 1;
        } else if op < 85 {
            number += 1;
            let base_fee = [0, 5, 10, 20][rng.below(4) as usize];
            let mut changed = Vec::new();
            for sender in &senders {
                if rng.chance(40) {
                    let old = model.account(*sender);
                    let nonce = old.nonce + rng.below(4);
                    let balance = if rng.chance(20) {
                        U256::from(GAS * (1 + rng.below(40)) + rng.below(3) * 100_000)
                    } else {
                        rich
                    };
                    state.insert_account(*sender, nonce, balance, &[], []);
                    model.set_account(*sender, Account { nonce, balance });
                    changed.push(*sender);
                }
            }
            model.base_fee = base_fee;
            let new_head = PoolHead { number, next_base_fee: base_fee, ..head(base_fee) };
            pool.on_block_committed(&new_head, changed, &state).expect("in-memory state");
        } else if op < 92 {
            if let Some(tx) = model.txs.get(rng.below(model.txs.len().max(1) as u64) as usize).cloned() {
                assert_eq!(pool.remove(&[tx.hash]).len(), 1, "step {step}: remove");
                model.txs.retain(|t| t.hash != tx.hash);
            }
        } else {
            let base_fee = [0, 5, 10, 20, 30][rng.below(5) as usize];
            let marks: Vec<bool> = (0..64).map(|_| rng.chance(15)).collect();
            let mut i = 0;
            let want = model.best(base_fee, &mut |_| {
                i += 1;
                marks[(i - 1) % marks.len()]
            });
            let mut best = pool.best_transactions(base_fee, None);
            let mut got = Vec::new();
            while let Some(tx) = best.next() {
                if marks[got.len() % marks.len()] {
                    best.mark_invalid(tx.sender());
                }
                got.push(tx.hash());
            }
            assert_eq!(got, want, "step {step}: best transactions at base fee {base_fee}");
        }
        check_same(&pool, &model, step);
    }
    outcomes
}

#[test]
fn pool_matches_model() {
    let runs: u64 = std::env::var("POOL_MODEL_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let first: u64 =
        std::env::var("POOL_MODEL_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let mut outcomes = std::collections::BTreeMap::new();
    for run in 0..runs {
        let seed = first.wrapping_add(run);
        println!("pool model seed {seed}");
        let result = std::panic::catch_unwind(|| run_model(seed));
        let Ok(counts) = result else {
            panic!("pool diverged from the model; replay with POOL_MODEL_SEED={seed} POOL_MODEL_RUNS=1");
        };
        for (outcome, count) in counts {
            *outcomes.entry(outcome).or_insert(0) += count;
        }
    }
    println!("admission outcomes: {outcomes:?}");
}
