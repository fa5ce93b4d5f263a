//! Seeded generator of adversarial blocks: a pre-state and up to 200
//! transactions built to collide on senders, recipients, storage slots, the
//! beneficiary, created/destroyed accounts and EIP-7702 delegations.

use super::contracts::{self as c, BRANCH, COUNTER, FACTORY, LOOPER, PROBE, RELAY, REVERTER, VIEW};
use alloy_consensus::TxType;
use alloy_eips::{
    eip4895::Withdrawal,
    eip7702::{Authorization, RecoveredAuthority, RecoveredAuthorization},
};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256, map::HashMap};
use mosaic_executor::{
    BEACON_ROOTS_ADDRESS, BlockContext, CONSOLIDATION_REQUEST_ADDRESS, ExecTx, HISTORY_STORAGE_ADDRESS,
    InMemoryState, WITHDRAWAL_REQUEST_ADDRESS,
};
use mosaic_primitives::ChainSpec;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use revm::{
    context::{
        TxEnv,
        either::Either,
        transaction::{AccessList, AccessListItem},
    },
    primitives::TxKind,
};

/// Chain id of the generated chain.
pub(crate) const CHAIN_ID: u64 = 1;
const GWEI: u64 = 1_000_000_000;
/// Blobs allowed in one Prague block.
const MAX_BLOBS: usize = 9;

/// What kind of block to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// Every kind of transaction, blocks of 1–200 transactions, some invalid.
    Mixed,
    /// Large blocks of valid transactions hammering a few locations.
    Contentious,
}

/// A generated block with everything needed to execute it.
pub(crate) struct Scenario {
    pub(crate) spec: ChainSpec,
    pub(crate) block: BlockContext,
    pub(crate) state: InMemoryState,
    pub(crate) txs: Vec<ExecTx>,
    /// One line per transaction saying what it is.
    pub(crate) labels: Vec<String>,
    /// Whether the block runs without system calls and withdrawals.
    pub(crate) transactions_only: bool,
}

impl Scenario {
    /// The same block with only the transactions at `keep` (for narrowing
    /// down a failure).
    /// Nonces are shifted down by the number of dropped earlier transactions
    /// of the same sender, so that the kept ones stay valid.
    pub(crate) fn subset(&self, keep: &[usize]) -> Self {
        let mut dropped: HashMap<Address, u64> = HashMap::default();
        let mut txs = Vec::with_capacity(keep.len());
        for (i, tx) in self.txs.iter().enumerate() {
            if !keep.contains(&i) {
                *dropped.entry(tx.env.caller).or_default() += 1;
                continue;
            }
            let mut tx = tx.clone();
            let shift = |a: &Address| dropped.get(a).copied().unwrap_or_default();
            tx.env.nonce = tx.env.nonce.saturating_sub(shift(&tx.env.caller));
            for auth in &mut tx.env.authorization_list {
                if let Either::Right(r) = auth {
                    let (mut inner, authority) = r.clone().into_parts();
                    if let Some(a) = authority.address() {
                        inner.nonce = inner.nonce.saturating_sub(shift(&a));
                    }
                    *r = RecoveredAuthorization::new_unchecked(inner, authority);
                }
            }
            txs.push(tx);
        }
        Self {
            spec: self.spec.clone(),
            block: self.block.clone(),
            state: self.state.clone(),
            txs,
            labels: keep.iter().map(|i| format!("(was {i}) {}", self.labels[*i])).collect(),
            transactions_only: self.transactions_only,
        }
    }
}

fn addr(tag: u64) -> Address {
    Address::left_padding_from(&tag.to_be_bytes())
}

fn short(a: Address) -> String {
    let known = [
        (COUNTER, "counter"),
        (BRANCH, "branch"),
        (REVERTER, "reverter"),
        (LOOPER, "looper"),
        (PROBE, "probe"),
        (FACTORY, "factory"),
        (RELAY, "relay"),
        (VIEW, "view"),
        (BEACON_ROOTS_ADDRESS, "beacon-roots"),
        (Address::ZERO, "zero"),
    ];
    if let Some((_, name)) = known.iter().find(|(k, _)| *k == a) {
        return (*name).to_string();
    }
    let s = alloy_primitives::hex::encode(a);
    format!("0x{}..{}", &s[..4], &s[s.len() - 4..])
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Transfer,
    Counter,
    Branch,
    Revert,
    Oog,
    Probe,
    Factory,
    CallChild,
    Create,
    Relay,
    Precompile,
    Blob,
    SetCode,
    CallDelegated,
    SystemContract,
}

struct Gen {
    rng: StdRng,
    profile: Profile,
    /// Whether this block deliberately contains invalid transactions.
    faulty: bool,
    base_fee: u64,
    /// Model of each account's next nonce, assuming every transaction so far
    /// was valid.
    nonces: HashMap<Address, u64>,
    senders: Vec<Address>,
    eoas: Vec<Address>,
    fresh: Vec<Address>,
    empties: Vec<Address>,
    authorities: Vec<Address>,
    children: Vec<Address>,
    created: Vec<Address>,
    beneficiary: Address,
    blobs: usize,
    txs: Vec<ExecTx>,
    labels: Vec<String>,
}

/// Generates the block for `seed`.
pub(crate) fn generate(seed: u64, profile: Profile) -> Scenario {
    let mut rng = StdRng::seed_from_u64(seed);
    let faulty = profile == Profile::Mixed && rng.random_bool(0.35);
    let base_fee = *[0, 1, 7, GWEI, 30 * GWEI].choose(&mut rng).expect("non-empty");
    let mut g = Gen {
        rng,
        profile,
        faulty,
        base_fee,
        nonces: HashMap::default(),
        senders: Vec::new(),
        eoas: Vec::new(),
        fresh: Vec::new(),
        empties: Vec::new(),
        authorities: Vec::new(),
        children: Vec::new(),
        created: Vec::new(),
        beneficiary: Address::ZERO,
        blobs: 0,
        txs: Vec::new(),
        labels: Vec::new(),
    };
    let mut state = InMemoryState::default();
    g.populate(&mut state);
    let transactions_only = !g.rng.random_bool(0.3);
    g.beneficiary = g.pick_beneficiary();

    let n = match profile {
        Profile::Contentious => g.rng.random_range(100..=200),
        Profile::Mixed => match g.rng.random_range(0..100) {
            0..55 => g.rng.random_range(1..=30),
            55..85 => g.rng.random_range(31..=100),
            _ => g.rng.random_range(101..=200),
        },
    };
    while g.txs.len() < n {
        g.next_tx(transactions_only);
    }
    g.add_squatters(&mut state);

    let number = g.rng.random_range(1..1_000_000u64);
    state.block_hashes.insert(number - 1, B256::from(g.rng.random::<[u8; 32]>()));
    let limits: u64 = g.txs.iter().map(|t| t.env.gas_limit).sum();
    let gas_limit = if g.rng.random_bool(if faulty { 0.3 } else { 0.05 }) {
        // Near exhaustion: some transactions will not fit.
        g.rng.random_range(limits / 4..=limits.max(1))
    } else {
        limits.max(30_000_000) + g.rng.random_range(0..1_000_000)
    };
    let withdrawals = (0..g.rng.random_range(0..4))
        .map(|i| Withdrawal {
            index: i,
            validator_index: g.rng.random_range(0..1000),
            address: g.any_address(),
            amount: *[0, 1, 1_000_000].choose(&mut g.rng).expect("non-empty"),
        })
        .collect();
    let block = BlockContext {
        number,
        timestamp: 1_700_000_000 + g.rng.random_range(0..1_000_000),
        beneficiary: g.beneficiary,
        gas_limit,
        base_fee: Some(base_fee),
        difficulty: U256::ZERO,
        mix_hash: B256::from(g.rng.random::<[u8; 32]>()),
        parent_hash: B256::from(g.rng.random::<[u8; 32]>()),
        parent_beacon_block_root: Some(B256::from(g.rng.random::<[u8; 32]>())),
        excess_blob_gas: Some(0),
        ommers: vec![],
        withdrawals: Some(withdrawals),
    };
    let mut spec = ChainSpec::from_fork_name("Prague").expect("Prague is a known fork");
    spec.chain_id = CHAIN_ID;
    Scenario { spec, block, state, txs: g.txs, labels: g.labels, transactions_only }
}

impl Gen {
    fn populate(&mut self, state: &mut InMemoryState) {
        let rich = U256::from(10u128.pow(24));
        let (n_senders, n_eoas) = match self.profile {
            Profile::Contentious => (self.rng.random_range(2..=4), 2),
            Profile::Mixed => (self.rng.random_range(2..=12), self.rng.random_range(1..=4)),
        };
        for i in 0..n_senders {
            let a = addr(0xa000 + i);
            let nonce = self.rng.random_range(0..3);
            let balance = if self.faulty && self.rng.random_bool(0.3) {
                // Poor: runs out somewhere in the block.
                U256::from(self.rng.random_range(0..10u128.pow(17)))
            } else {
                rich
            };
            state.insert_account(a, nonce, balance, &[], []);
            self.nonces.insert(a, nonce);
            self.senders.push(a);
        }
        for i in 0..n_eoas {
            let a = addr(0xb000 + i);
            state.insert_account(a, self.rng.random_range(0..2), U256::from(10u64.pow(18)), &[], []);
            self.eoas.push(a);
        }
        self.fresh = (0..3).map(|i| addr(0xd000 + i)).collect();
        for i in 0..self.rng.random_range(0..3) {
            // Empty accounts (nonce 0, no balance, no code): touching one
            // deletes it (EIP-161).
            let a = addr(0xe000 + i);
            state.insert_account(a, 0, U256::ZERO, &[], []);
            self.empties.push(a);
        }
        for i in 0..self.rng.random_range(1..=3) {
            let a = addr(0xf000 + i);
            let nonce = self.rng.random_range(0..2);
            let code = match self.rng.random_range(0..3) {
                0 => delegation(COUNTER),
                _ => Vec::new(),
            };
            state.insert_account(a, nonce, rich, &code, []);
            self.nonces.insert(a, nonce);
            self.authorities.push(a);
        }
        // Authorities send transactions too.
        self.senders.extend(self.authorities.clone());

        let contract_balance = |rng: &mut StdRng| {
            if rng.random_bool(0.5) { U256::ZERO } else { U256::from(rng.random_range(1..10u64.pow(18))) }
        };
        let hot = |rng: &mut StdRng| -> Vec<(U256, U256)> {
            (0..rng.random_range(0..3)).map(|i| (U256::from(i), U256::from(rng.random_range(0..5)))).collect()
        };
        for (a, code) in [
            (COUNTER, c::counter()),
            (BRANCH, c::branch()),
            (REVERTER, c::reverter()),
            (LOOPER, c::looper()),
            (PROBE, c::probe()),
            (FACTORY, c::factory()),
            (RELAY, c::relay()),
            (VIEW, c::view()),
        ] {
            let balance = contract_balance(&mut self.rng);
            let storage = hot(&mut self.rng);
            state.insert_account(a, 1, balance, &code, storage);
        }
        let init_hash = keccak256(c::child_initcode());
        self.children = (0..3u64).map(|s| FACTORY.create2(B256::from(U256::from(s)), init_hash)).collect();
        if self.rng.random_bool(0.3) {
            // A child that already exists before the block.
            let child = self.children[2];
            state.insert_account(child, 1, U256::from(5u64), &c::child_runtime(), [(U256::ZERO, U256::ONE)]);
        }
        for (a, code) in [
            (BEACON_ROOTS_ADDRESS, c::ring_buffer()),
            (HISTORY_STORAGE_ADDRESS, c::ring_buffer()),
            (WITHDRAWAL_REQUEST_ADDRESS, c::empty_queue()),
            (CONSOLIDATION_REQUEST_ADDRESS, c::empty_queue()),
        ] {
            state.insert_account(a, 1, U256::ZERO, &code, []);
        }
    }

    fn pick_beneficiary(&mut self) -> Address {
        let rng = &mut self.rng;
        let pick = |v: &[Address], rng: &mut StdRng| *v.choose(rng).unwrap_or(&FRESH_BENEFICIARY);
        match rng.random_range(0..100) {
            0..25 => FRESH_BENEFICIARY,
            25..45 => pick(&self.senders, rng),
            45..52 => pick(&self.eoas, rng),
            52..62 => PROBE,
            62..67 => COUNTER,
            67..72 => pick(&self.children, rng),
            72..82 => pick(&self.authorities, rng),
            82..88 => pick(&self.empties, rng),
            88..92 => pick(&self.fresh, rng),
            92..95 => RELAY,
            _ => Address::with_last_byte(4),
        }
    }

    /// Any address a transaction might touch.
    fn any_address(&mut self) -> Address {
        let rng = &mut self.rng;
        let pools: [&[Address]; 7] = [
            &self.senders,
            &self.eoas,
            &self.fresh,
            &self.empties,
            &self.authorities,
            &self.children,
            &self.created,
        ];
        for _ in 0..8 {
            if let Some(a) = pools.choose(rng).and_then(|p| p.choose(rng)) {
                return *a;
            }
        }
        *[self.beneficiary, COUNTER, PROBE, FACTORY, Address::with_last_byte(2)]
            .choose(rng)
            .expect("non-empty")
    }

    fn sender(&mut self) -> Address {
        if self.rng.random_bool(0.4) {
            // A hot sender: long chains of consecutive nonces.
            self.senders[0]
        } else if self.rng.random_bool(0.1) && self.senders.contains(&self.beneficiary) {
            self.beneficiary
        } else {
            *self.senders.choose(&mut self.rng).expect("senders")
        }
    }

    fn value(&mut self) -> U256 {
        U256::from(
            *[0u128, 0, 1, 1_000_000_000, 10u128.pow(15), 10u128.pow(17)].choose(&mut self.rng).expect("v"),
        )
    }

    fn next_tx(&mut self, transactions_only: bool) {
        use Kind::*;
        let weights: &[(Kind, u32)] = match self.profile {
            Profile::Mixed => &[
                (Transfer, 20),
                (Counter, 12),
                (Branch, 6),
                (Revert, 4),
                (Oog, 4),
                (Probe, 7),
                (Factory, 6),
                (CallChild, 5),
                (Create, 4),
                (Relay, 6),
                (Precompile, 4),
                (Blob, 3),
                (SetCode, 5),
                (CallDelegated, 6),
                (SystemContract, if transactions_only { 0 } else { 2 }),
            ],
            Profile::Contentious => &[
                (Transfer, 30),
                (Counter, 25),
                (Branch, 10),
                (Probe, 10),
                (Relay, 8),
                (Factory, 4),
                (CallChild, 3),
                (SetCode, 3),
                (CallDelegated, 5),
                (Revert, 2),
            ],
        };
        let total: u32 = weights.iter().map(|(_, w)| w).sum();
        let mut roll = self.rng.random_range(0..total);
        let kind = weights
            .iter()
            .find(|(_, w)| {
                if roll < *w {
                    return true;
                }
                roll -= w;
                false
            })
            .map(|(k, _)| *k)
            .expect("weights");
        // Sometimes one sender sends a burst.
        let burst = if self.rng.random_bool(0.15) { self.rng.random_range(2..=5) } else { 1 };
        let sender = self.sender();
        for _ in 0..burst {
            self.make(kind, sender);
        }
    }

    fn make(&mut self, kind: Kind, sender: Address) {
        let rng_word = |g: &mut Self, max: u64| {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&g.rng.random_range(0..max).to_be_bytes());
            w
        };
        match kind {
            Kind::Transfer => {
                let plain: Vec<Address> =
                    [&self.eoas[..], &self.fresh, &self.empties, &self.senders].concat();
                let to = match self.rng.random_range(0..10) {
                    0..5 => {
                        if self.rng.random_bool(0.5) {
                            plain[0]
                        } else {
                            *plain.choose(&mut self.rng).expect("plain")
                        }
                    }
                    5 => self.beneficiary,
                    6 => *[COUNTER, BRANCH, PROBE, RELAY].choose(&mut self.rng).expect("c"),
                    7 => *self.authorities.choose(&mut self.rng).expect("authorities"),
                    8 => *self.children.choose(&mut self.rng).expect("children"),
                    _ => self.any_address(),
                };
                let value = self.value();
                let gas = if plain.contains(&to) && self.rng.random_bool(0.7) { 21_000 } else { 120_000 };
                self.push_call(
                    sender,
                    to,
                    value,
                    Vec::new(),
                    gas,
                    format!("transfer {value} to {}", short(to)),
                );
            }
            Kind::Counter => {
                let key = if self.rng.random_bool(0.7) { 0 } else { self.rng.random_range(1..4) };
                let data =
                    if key == 0 && self.rng.random_bool(0.5) { Vec::new() } else { word(key).to_vec() };
                let value = if self.rng.random_bool(0.2) { self.value() } else { U256::ZERO };
                self.push_call(sender, COUNTER, value, data, 90_000, format!("counter slot {key}"));
            }
            Kind::Branch => self.push_call(sender, BRANCH, U256::ZERO, Vec::new(), 120_000, "branch".into()),
            Kind::Revert => {
                let nested = self.rng.random_bool(0.5);
                let data = if nested { vec![1] } else { Vec::new() };
                let label = if nested { "reverter (inner revert)" } else { "reverter (revert)" };
                self.push_call(sender, REVERTER, U256::ZERO, data, 200_000, label.into());
            }
            Kind::Oog => {
                let n = self.rng.random_range(1..10u64);
                let gas = self.rng.random_range(30_000..150_000);
                self.push_call(
                    sender,
                    LOOPER,
                    U256::ZERO,
                    word(n).to_vec(),
                    gas,
                    format!("looper n={n} gas={gas}"),
                );
            }
            Kind::Probe => {
                let target = self.any_address();
                let value = if self.rng.random_bool(0.2) { self.value() } else { U256::ZERO };
                self.push_call(
                    sender,
                    PROBE,
                    value,
                    word_addr(target).to_vec(),
                    250_000,
                    format!("probe {}", short(target)),
                );
            }
            Kind::Factory => {
                let mode = *[0u64, 0, 1, 1, 2].choose(&mut self.rng).expect("mode");
                let salt = self.rng.random_range(0..3u64);
                let mut data = word(mode).to_vec();
                data.extend_from_slice(&word(salt));
                let value = if self.rng.random_bool(0.3) { U256::from(1000u64) } else { U256::ZERO };
                let label = match mode {
                    0 => format!("factory CREATE2 salt {salt}"),
                    1 => format!("factory CREATE2+destroy salt {salt}"),
                    _ => "factory CREATE".into(),
                };
                self.push_call(sender, FACTORY, value, data, 400_000, label);
            }
            Kind::CallChild => {
                let child = *self.children.choose(&mut self.rng).expect("children");
                let (data, what) = match self.rng.random_range(0..3) {
                    0 => (Vec::new(), "selfdestruct to coinbase".to_string()),
                    1 => (vec![1], "bump".to_string()),
                    _ => {
                        let to = self.any_address();
                        (word_addr(to).to_vec(), format!("selfdestruct to {}", short(to)))
                    }
                };
                let value = if self.rng.random_bool(0.3) { U256::from(77u64) } else { U256::ZERO };
                self.push_call(
                    sender,
                    child,
                    value,
                    data,
                    150_000,
                    format!("call child {} ({what})", short(child)),
                );
            }
            Kind::Create => {
                let (init, what) = match self.rng.random_range(0..3) {
                    0 => (c::child_initcode(), "child"),
                    1 => (c::suicidal_initcode(), "self-destructing"),
                    _ => (c::counter_initcode(), "counter copy"),
                };
                let value = if self.rng.random_bool(0.3) { U256::from(5000u64) } else { U256::ZERO };
                let nonce = self.nonces.get(&sender).copied().unwrap_or_default();
                let predicted = sender.create(nonce);
                self.created.push(predicted);
                let mut env = self.env(sender, TxKind::Create, value, init, 300_000, TxType::Eip1559);
                let ty = self.plain_type();
                self.set_type(&mut env, ty);
                self.push(env, ty, format!("CREATE {what} at {}", short(predicted)));
            }
            Kind::Relay => {
                let target = match self.rng.random_range(0..4) {
                    0 => COUNTER,
                    1 => *self.children.choose(&mut self.rng).expect("children"),
                    2 => Address::with_last_byte(*[1u8, 2, 4].choose(&mut self.rng).expect("p")),
                    _ => self.any_address(),
                };
                let inner = *[0u64, 1, 1000].choose(&mut self.rng).expect("inner");
                let mut data = word_addr(target).to_vec();
                data.extend_from_slice(&word(inner));
                let value = if self.rng.random_bool(0.4) { U256::from(1000u64) } else { U256::ZERO };
                self.push_call(
                    sender,
                    RELAY,
                    value,
                    data,
                    250_000,
                    format!("relay {inner} to {}", short(target)),
                );
            }
            Kind::Precompile => {
                let p = *[1u8, 2, 4].choose(&mut self.rng).expect("p");
                let len = self.rng.random_range(0..128);
                let data: Vec<u8> = (0..len).map(|_| self.rng.random()).collect();
                let value = if self.rng.random_bool(0.4) { self.value() } else { U256::ZERO };
                let to = Address::with_last_byte(p);
                self.push_call(sender, to, value, data, 60_000, format!("precompile {p} value {value}"));
            }
            Kind::Blob => {
                let max = if self.faulty { 6 } else { MAX_BLOBS.saturating_sub(self.blobs).min(3) };
                if max == 0 {
                    return self.make(Kind::Transfer, sender);
                }
                let count = self.rng.random_range(1..=max);
                self.blobs += count;
                let to = self.any_address();
                let mut env =
                    self.env(sender, TxKind::Call(to), U256::ZERO, Vec::new(), 50_000, TxType::Eip4844);
                env.blob_hashes = (0..count)
                    .map(|_| {
                        let mut h = self.rng.random::<[u8; 32]>();
                        h[0] = 0x01;
                        B256::from(h)
                    })
                    .collect();
                env.max_fee_per_blob_gas = if self.fault(0.1) { 0 } else { self.rng.random_range(1..10) };
                self.push(env, TxType::Eip4844, format!("blob x{count} to {}", short(to)));
            }
            Kind::SetCode => self.set_code(sender),
            Kind::CallDelegated => {
                let a = *self.authorities.choose(&mut self.rng).expect("authorities");
                let data = match self.rng.random_range(0..3) {
                    0 => Vec::new(),
                    1 => rng_word(self, 3).to_vec(),
                    _ => word_addr(self.beneficiary).to_vec(),
                };
                let value = if self.rng.random_bool(0.3) { self.value() } else { U256::ZERO };
                self.push_call(sender, a, value, data, 200_000, format!("call delegated {}", short(a)));
            }
            Kind::SystemContract => {
                let data = rng_word(self, 1000).to_vec();
                self.push_call(
                    sender,
                    BEACON_ROOTS_ADDRESS,
                    U256::ZERO,
                    data,
                    80_000,
                    "call beacon-roots".into(),
                );
            }
        }
    }

    /// An EIP-7702 transaction setting, changing or clearing delegations.
    fn set_code(&mut self, sender: Address) {
        let mut env =
            self.env(sender, TxKind::Call(Address::ZERO), U256::ZERO, Vec::new(), 0, TxType::Eip7702);
        let mut parts = Vec::new();
        let mut list = Vec::new();
        for _ in 0..self.rng.random_range(1..=2) {
            let authority = if self.rng.random_bool(0.2) {
                sender
            } else {
                *self.authorities.choose(&mut self.rng).expect("authorities")
            };
            let target = *[COUNTER, COUNTER, PROBE, BRANCH, Address::ZERO].choose(&mut self.rng).expect("t");
            let chain_id = *[CHAIN_ID, CHAIN_ID, CHAIN_ID, 0, 5].choose(&mut self.rng).expect("c");
            let current = self.nonces.get(&authority).copied().unwrap_or_default();
            let nonce = if self.rng.random_bool(0.1) { current + 1 } else { current };
            let valid = !self.rng.random_bool(0.05);
            let applies = valid && nonce == current && (chain_id == 0 || chain_id == CHAIN_ID);
            if applies {
                self.nonces.insert(authority, current + 1);
            }
            parts.push(format!(
                "{}->{}{}",
                short(authority),
                short(target),
                if applies { "" } else { " (skipped)" }
            ));
            let auth = Authorization { chain_id: U256::from(chain_id), address: target, nonce };
            let authority =
                if valid { RecoveredAuthority::Valid(authority) } else { RecoveredAuthority::Invalid };
            list.push(Either::Right(RecoveredAuthorization::new_unchecked(auth, authority)));
        }
        let to = match self.rng.random_range(0..3) {
            0 => *self.authorities.choose(&mut self.rng).expect("authorities"),
            1 => COUNTER,
            _ => self.any_address(),
        };
        env.kind = TxKind::Call(to);
        env.gas_limit = 100_000 + 25_000 * list.len() as u64 + 50_000;
        env.authorization_list = list;
        env.value = if self.rng.random_bool(0.2) { self.value() } else { U256::ZERO };
        env.data = if self.rng.random_bool(0.5) { Bytes::from(word(0).to_vec()) } else { Bytes::new() };
        self.push(env, TxType::Eip7702, format!("set code [{}] then call {}", parts.join(", "), short(to)));
    }

    /// Whether to inject a fault here (only in faulty blocks).
    fn fault(&mut self, p: f64) -> bool {
        self.faulty && self.rng.random_bool(p)
    }

    fn plain_type(&mut self) -> TxType {
        *[TxType::Legacy, TxType::Eip2930, TxType::Eip1559, TxType::Eip1559]
            .choose(&mut self.rng)
            .expect("ty")
    }

    fn push_call(
        &mut self,
        sender: Address,
        to: Address,
        value: U256,
        data: Vec<u8>,
        gas: u64,
        label: String,
    ) {
        let ty = self.plain_type();
        let mut env = self.env(sender, TxKind::Call(to), value, data, gas, ty);
        self.set_type(&mut env, ty);
        if ty == TxType::Eip2930 && self.rng.random_bool(0.5) {
            // Warm the hot locations.
            env.access_list = AccessList(vec![
                AccessListItem { address: COUNTER, storage_keys: vec![B256::ZERO] },
                AccessListItem { address: self.beneficiary, storage_keys: vec![] },
            ]);
            env.gas_limit += 10_000;
        }
        self.push(env, ty, label);
    }

    /// Fees of a transaction of type `ty` (legacy-style or EIP-1559-style).
    fn set_type(&mut self, env: &mut TxEnv, ty: TxType) {
        env.tx_type = ty as u8;
        if matches!(ty, TxType::Legacy | TxType::Eip2930) {
            env.gas_price = env.gas_price.min(self.base_fee as u128 + env.gas_priority_fee.unwrap_or(0));
            env.gas_priority_fee = None;
            if ty == TxType::Legacy && self.rng.random_bool(0.3) {
                env.chain_id = None;
            }
        }
    }

    /// A transaction environment with nonce and fees (EIP-1559 style).
    fn env(
        &mut self,
        caller: Address,
        kind: TxKind,
        value: U256,
        data: Vec<u8>,
        gas: u64,
        ty: TxType,
    ) -> TxEnv {
        let next = self.nonces.entry(caller).or_default();
        let mut nonce = *next;
        *next += 1;
        if self.fault(0.03) {
            // A gap: this one is invalid, the next one is fine again.
            nonce += 1;
        } else if nonce > 0 && self.fault(0.02) {
            nonce -= 1;
        }
        let priority = *[0u128, 0, 1, 1000, GWEI as u128, 3 * GWEI as u128].choose(&mut self.rng).expect("p");
        let mut max_fee =
            self.base_fee as u128 + priority + *[0u128, 0, 5, GWEI as u128].choose(&mut self.rng).expect("m");
        if self.base_fee > 0 && self.fault(0.03) {
            max_fee = self.base_fee as u128 - 1;
        }
        let gas = if self.fault(0.02) { 20_000 } else { gas };
        TxEnv {
            tx_type: ty as u8,
            caller,
            gas_limit: gas,
            gas_price: max_fee,
            kind,
            value,
            data: data.into(),
            nonce,
            chain_id: Some(CHAIN_ID),
            access_list: AccessList::default(),
            gas_priority_fee: Some(priority),
            blob_hashes: Vec::new(),
            max_fee_per_blob_gas: 0,
            authorization_list: Vec::new(),
        }
    }

    fn push(&mut self, env: TxEnv, tx_type: TxType, label: String) {
        let index = self.txs.len() as u64;
        let sender = short(env.caller);
        self.txs.push(ExecTx { env, tx_type, hash: B256::from(U256::from(index + 1)) });
        self.labels.push(format!("{sender}: {label}"));
    }

    /// Accounts already sitting at addresses that CREATE will use.
    fn add_squatters(&mut self, state: &mut InMemoryState) {
        for a in self.created.clone() {
            if state.accounts.contains_key(&a) {
                continue;
            }
            match self.rng.random_range(0..8) {
                // Nonce set: the creation collides.
                0 => state.insert_account(a, 1, U256::ZERO, &[], []),
                // Only a balance: the creation keeps it.
                1 => state.insert_account(a, 0, U256::from(123u64), &[], []),
                // Only storage.
                2 => state.insert_account(a, 0, U256::ZERO, &[], [(U256::from(3), U256::from(9))]),
                _ => {}
            }
        }
    }
}

/// Where a beneficiary nobody else uses lives.
const FRESH_BENEFICIARY: Address = alloy_primitives::address!("0x00000000000000000000000000000000000c0ffe");

/// The EIP-7702 delegation designator for `to`.
fn delegation(to: Address) -> Vec<u8> {
    let mut code = vec![0xef, 0x01, 0x00];
    code.extend_from_slice(to.as_slice());
    code
}

fn word(v: u64) -> [u8; 32] {
    U256::from(v).to_be_bytes()
}

fn word_addr(a: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}
