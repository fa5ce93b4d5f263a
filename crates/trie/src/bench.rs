//! A state-root benchmark for `mosaic bench state-root`: build an in-memory
//! store of `accounts` accounts, apply a change set touching
//! `changed_accounts` of them, and time the incremental root against a
//! from-scratch build of the whole new state. Inputs are generated from a
//! seed, so runs are repeatable. Both computations use the rayon pool; run
//! inside `ThreadPool::install` to choose the thread count.

use std::time::{Duration, Instant};

use alloy_primitives::{B256, U256, keccak256};
use alloy_trie::KECCAK_EMPTY;

use crate::{Account, HashedPostState, MemoryTrieStore, TrieResult, build_state, state_root_incremental};

/// What [`bench_state_root`] builds and changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRootBench {
    /// Accounts in the parent state.
    pub accounts: usize,
    /// Storage slots of every eighth account (a "contract"); others have none.
    pub slots_per_contract: usize,
    /// Accounts the change set touches: about 90% updated, 8% created, 2%
    /// deleted.
    pub changed_accounts: usize,
    /// Slots written in each changed contract (half existing, half new).
    pub changed_slots: usize,
    /// Seed of the generated keys and values.
    pub seed: u64,
}

impl Default for StateRootBench {
    fn default() -> Self {
        Self { accounts: 100_000, slots_per_contract: 32, changed_accounts: 1_000, changed_slots: 4, seed: 1 }
    }
}

/// Timings and sizes measured by [`bench_state_root`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRootBenchReport {
    /// The configuration measured.
    pub config: StateRootBench,
    /// Building the parent store from nothing (roots and every node).
    pub build: Duration,
    /// The incremental root of the change set over the parent store.
    pub incremental: Duration,
    /// The new state's root from scratch (same builder, all leaves).
    pub full: Duration,
    /// The new state root.
    pub root: B256,
    /// Whether the incremental and the from-scratch roots are equal.
    pub roots_match: bool,
    /// Node writes and deletions of the incremental update.
    pub nodes_updated: usize,
    /// Threads of the rayon pool the run used.
    pub threads: usize,
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn key(seed: u64, kind: u8, index: u64, sub: u64) -> B256 {
    let mut bytes = [0u8; 25];
    bytes[..8].copy_from_slice(&seed.to_be_bytes());
    bytes[8] = kind;
    bytes[9..17].copy_from_slice(&index.to_be_bytes());
    bytes[17..].copy_from_slice(&sub.to_be_bytes());
    keccak256(bytes)
}

fn account(rng: &mut Rng, contract: bool) -> Account {
    Account {
        nonce: rng.next() % 1000,
        balance: U256::from(rng.next()),
        code_hash: if contract { keccak256(rng.next().to_be_bytes()) } else { KECCAK_EMPTY },
    }
}

/// The parent state, as the change set that creates it.
fn genesis(config: &StateRootBench) -> HashedPostState {
    let mut rng = Rng(config.seed);
    let mut post = HashedPostState::new();
    for i in 0..config.accounts as u64 {
        let contract = i.is_multiple_of(8);
        let hashed = key(config.seed, 0, i, 0);
        post.accounts.insert(hashed, Some(account(&mut rng, contract)));
        if contract && config.slots_per_contract > 0 {
            let slots = &mut post.storages.entry(hashed).or_default().slots;
            for s in 0..config.slots_per_contract as u64 {
                slots.insert(key(config.seed, 1, i, s), U256::from(rng.next() | 1));
            }
        }
    }
    post
}

/// The change set of one "block".
fn block(config: &StateRootBench) -> HashedPostState {
    let mut rng = Rng(config.seed ^ 0x5eed);
    let mut post = HashedPostState::new();
    for n in 0..config.changed_accounts as u64 {
        let roll = rng.below(100);
        if roll < 8 || config.accounts == 0 {
            let fresh = key(config.seed, 2, n, 0);
            post.accounts.insert(fresh, Some(account(&mut rng, false)));
            continue;
        }
        let i = rng.below(config.accounts) as u64;
        let hashed = key(config.seed, 0, i, 0);
        if roll < 10 {
            post.accounts.insert(hashed, None);
            continue;
        }
        let contract = i.is_multiple_of(8);
        post.accounts.insert(hashed, Some(account(&mut rng, contract)));
        if contract {
            let slots = &mut post.storages.entry(hashed).or_default().slots;
            for s in 0..config.changed_slots as u64 {
                let slot = if s.is_multiple_of(2) && config.slots_per_contract > 0 {
                    key(config.seed, 1, i, rng.below(config.slots_per_contract) as u64)
                } else {
                    key(config.seed, 3, i, rng.next())
                };
                slots.insert(slot, U256::from(rng.next()));
            }
        }
    }
    post
}

/// Runs the benchmark described by `config` on the current rayon pool.
pub fn bench_state_root(config: &StateRootBench) -> TrieResult<StateRootBenchReport> {
    let parent = genesis(config);
    let start = Instant::now();
    let (_, store) = MemoryTrieStore::from_post_state(&parent)?;
    let build = start.elapsed();

    let change = block(config);
    let start = Instant::now();
    let (root, updates) = state_root_incremental(&store, &change)?;
    let incremental = start.elapsed();

    let mut whole = parent;
    whole.extend(change);
    // A from-scratch build wants only the accounts that exist.
    whole.accounts.retain(|_, account| account.is_some());
    whole.storages.retain(|hashed, _| whole.accounts.contains_key(hashed));
    for storage in whole.storages.values_mut() {
        storage.wiped = false;
    }
    let start = Instant::now();
    let (full_root, _) = build_state(&whole)?;
    let full = start.elapsed();

    Ok(StateRootBenchReport {
        config: *config,
        build,
        incremental,
        full,
        root,
        roots_match: root == full_root,
        nodes_updated: updates.node_count(),
        threads: rayon::current_num_threads(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bench_roots_match() {
        let config = StateRootBench {
            accounts: 500,
            slots_per_contract: 8,
            changed_accounts: 60,
            changed_slots: 4,
            seed: 7,
        };
        let report = bench_state_root(&config).expect("in-memory store cannot fail");
        assert!(report.roots_match);
        assert!(report.nodes_updated > 0);
    }
}
