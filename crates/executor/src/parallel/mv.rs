//! Multi-version memory: for every location, the values written by each
//! transaction of the block (by index), as Block-STM keeps them.
//!
//! One table entry per account holds the versions of its nonce/code and
//! its balance, so a transaction publishes or reads an account with one
//! lookup; storage slots have their own table, and so do the rare wipes
//! (kept out of the account entries, which every sender and recipient
//! writes: an entry is a fresh allocation the size of its versions). Most
//! locations have one writer, whose version is kept inline.

use super::{
    fees::{Fee, Fees},
    filter::Filter,
    lock,
    table::Table,
};
use alloy_primitives::{Address, B256, U256, map::FbBuildHasher};
use std::{
    hash::{BuildHasher, Hash, Hasher},
    sync::{
        MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
};

/// A piece of state that transactions read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loc {
    /// Existence, nonce and code hash of an account.
    Account(Address),
    /// Balance of an account (kept apart so credits can be lazy).
    Balance(Address),
    /// One storage slot.
    Storage(Address, U256),
    /// Marks that an account's storage was wiped (destruction, re-creation).
    Wipe(Address),
}

impl Loc {
    /// The account the location belongs to.
    pub(crate) const fn address(&self) -> &Address {
        match self {
            Self::Account(a) | Self::Balance(a) | Self::Storage(a, _) | Self::Wipe(a) => a,
        }
    }
}

/// Nonce and code of an existing account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) nonce: u64,
    pub(crate) code_hash: B256,
}

/// A value written by one incarnation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// The writer was aborted; its next incarnation will likely write here.
    Estimate,
    /// `Loc::Account`: `None` = the account does not exist.
    Account(Option<Meta>),
    /// `Loc::Balance`: an absolute value.
    Balance(U256),
    /// `Loc::Balance`: a credit added to whatever was there (lazy update);
    /// a credited account that did not exist comes into existence.
    Credit(U256),
    /// `Loc::Storage`.
    Storage(U256),
    /// `Loc::Wipe`.
    Wipe,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) incarnation: u32,
    pub(crate) value: Written,
}

/// What a read resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved<T> {
    /// Nothing written below the reader: read the base state.
    Base,
    /// The highest lower writer and its value.
    Written(usize, T),
    /// The highest lower writer is an ESTIMATE of this transaction.
    Blocked(usize),
}

/// Balance read: the newest absolute value below the reader (or base) plus
/// the credits above it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BalanceRead {
    /// Writer (index, incarnation) of the absolute value, `None` for base.
    pub(crate) absolute: Option<(usize, u32, U256)>,
    /// Sum of credits above it.
    pub(crate) credit: U256,
    /// Writers of those credits (index, incarnation).
    pub(crate) creditors: Vec<(usize, u32)>,
}

/// Versions of one location sorted by transaction index; most locations
/// have a single writer (kept inline, no allocation), and writers mostly
/// arrive in order.
#[derive(Debug, Default)]
enum Versions {
    #[default]
    Empty,
    One((u32, Entry)),
    Many(Vec<(u32, Entry)>),
}

impl Versions {
    fn as_slice(&self) -> &[(u32, Entry)] {
        match self {
            Self::Empty => &[],
            Self::One(v) => std::slice::from_ref(v),
            Self::Many(v) => v,
        }
    }

    fn insert(&mut self, tx: u32, entry: Entry) {
        match self {
            Self::Empty => *self = Self::One((tx, entry)),
            Self::One((i, e)) if *i == tx => *e = entry,
            Self::One(first) => {
                let first = *first;
                let pair = if first.0 < tx { [first, (tx, entry)] } else { [(tx, entry), first] };
                let mut v = Vec::with_capacity(4);
                v.extend(pair);
                *self = Self::Many(v);
            }
            Self::Many(v) => match v.last() {
                Some((last, _)) if *last < tx => v.push((tx, entry)),
                _ => match v.binary_search_by_key(&tx, |(i, _)| *i) {
                    Ok(i) => v[i].1 = entry,
                    Err(i) => v.insert(i, (tx, entry)),
                },
            },
        }
    }

    fn get_mut(&mut self, tx: u32) -> Option<&mut Entry> {
        match self {
            Self::Empty => None,
            Self::One((i, e)) => (*i == tx).then_some(e),
            Self::Many(v) => v.binary_search_by_key(&tx, |(i, _)| *i).ok().map(|i| &mut v[i].1),
        }
    }

    fn remove(&mut self, tx: u32) {
        match self {
            Self::Empty => {}
            Self::One((i, _)) => {
                if *i == tx {
                    *self = Self::Empty;
                }
            }
            Self::Many(v) => {
                if let Ok(i) = v.binary_search_by_key(&tx, |(i, _)| *i) {
                    v.remove(i);
                }
            }
        }
    }

    /// Entries below `tx`, newest first.
    fn below(&self, tx: usize) -> impl Iterator<Item = (usize, &Entry)> {
        let all = self.as_slice();
        let end = all.partition_point(|(i, _)| (*i as usize) < tx);
        all[..end].iter().rev().map(|(i, e)| (*i as usize, e))
    }

    /// The newest write below `tx`.
    fn read(&self, tx: usize) -> Resolved<(u32, Written)> {
        match self.below(tx).next() {
            None => Resolved::Base,
            Some((idx, e)) if e.value == Written::Estimate => Resolved::Blocked(idx),
            Some((idx, e)) => Resolved::Written(idx, (e.incarnation, e.value)),
        }
    }

    /// Credits summed down to the newest absolute value below `tx`.
    fn read_balance(&self, tx: usize) -> Result<BalanceRead, usize> {
        let mut out = BalanceRead::default();
        for (idx, e) in self.below(tx) {
            match e.value {
                Written::Credit(c) => {
                    out.credit = out.credit.saturating_add(c);
                    out.creditors.push((idx, e.incarnation));
                }
                Written::Balance(b) => {
                    out.absolute = Some((idx, e.incarnation, b));
                    break;
                }
                Written::Estimate => return Err(idx),
                _ => break,
            }
        }
        Ok(out)
    }
}

/// The versions of an account's nonce/code and balance.
#[derive(Debug, Default)]
struct AccountVersions {
    meta: Versions,
    balance: Versions,
}

impl AccountVersions {
    /// The versions of `Loc::Account` or `Loc::Balance`.
    fn of(&mut self, loc: &Loc) -> &mut Versions {
        if matches!(loc, Loc::Account(_)) { &mut self.meta } else { &mut self.balance }
    }
}

/// A storage slot as a table key, hashed as fixed-width words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SlotKey(Address, U256);

impl Hash for SlotKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let bytes = &self.0.0.0;
        let word = |at: usize, len: usize| {
            let mut w = [0u8; 8];
            w[..len].copy_from_slice(&bytes[at..at + len]);
            u64::from_le_bytes(w)
        };
        state.write_u64(word(0, 8) ^ word(16, 4));
        state.write_u64(word(8, 8));
        for limb in self.1.as_limbs() {
            state.write_u64(*limb);
        }
    }
}

type SlotHasher = alloy_primitives::map::DefaultHashBuilder;

/// The multi-version data structure.
pub(crate) struct MvMemory {
    accounts: Table<Address, AccountVersions>,
    slots: Table<SlotKey, Versions>,
    wipes: Table<Address, Versions>,
    /// Some transaction wrote a wipe (reads of wipes look in `wipes` only
    /// then).
    any_wipe: AtomicBool,
    /// The block beneficiary, whose balance also has a credit per
    /// transaction in `fees`.
    beneficiary: Address,
    fees: Fees,
    /// Which accounts and slots may have an entry (most reads are of
    /// locations nobody wrote, answered here without a table lookup).
    account_filter: Filter,
    slot_filter: Filter,
    account_hasher: FbBuildHasher<20>,
    slot_hasher: SlotHasher,
}

impl MvMemory {
    /// Memory for a block of `txs` transactions written by `workers`
    /// workers (the tables' buckets are sized up front).
    pub(crate) fn new(txs: usize, beneficiary: Address, workers: usize) -> Self {
        Self {
            accounts: Table::new(txs * 2, workers),
            // Two slots per transaction: a token transfer writes two
            // balances.
            slots: Table::new(txs * 2, workers),
            // Creations and destructions: rare, but a block may deploy many
            // contracts.
            wipes: Table::new(txs / 8, workers),
            any_wipe: AtomicBool::new(false),
            beneficiary,
            fees: Fees::new(txs),
            account_filter: Filter::new(txs * 2),
            slot_filter: Filter::new(txs * 2),
            account_hasher: FbBuildHasher::default(),
            slot_hasher: SlotHasher::default(),
        }
    }

    /// The entry of an account, if some transaction may have written it.
    fn account(&self, address: &Address) -> Option<MutexGuard<'_, AccountVersions>> {
        let hash = self.account_hasher.hash_one(address);
        if !self.account_filter.may_contain(hash) {
            return None;
        }
        self.accounts.get(address, hash).map(lock)
    }

    /// The wipes of an account, if some transaction wrote one.
    fn wipe(&self, address: &Address) -> Option<MutexGuard<'_, Versions>> {
        if !self.any_wipe.load(Ordering::Acquire) {
            return None;
        }
        self.wipes.get(address, self.account_hasher.hash_one(address)).map(lock)
    }

    /// The entry of a slot, if some transaction may have written it.
    fn slot(&self, key: &SlotKey) -> Option<MutexGuard<'_, Versions>> {
        let hash = self.slot_hasher.hash_one(key);
        if !self.slot_filter.may_contain(hash) {
            return None;
        }
        self.slots.get(key, hash).map(lock)
    }

    /// Records the fee `tx`'s incarnation owes the beneficiary (a credit
    /// not in its write set).
    pub(crate) fn pay_fee(&self, tx: usize, incarnation: u32, fee: U256) {
        self.fees.pay(tx, incarnation, fee);
    }

    /// Adds the fees of the transactions between the newest absolute
    /// balance and `tx` to a read of the beneficiary's balance. Creditors
    /// stay newest first; a transaction's own credit comes before its fee.
    fn add_fees(&self, mut read: BalanceRead, tx: usize) -> Result<BalanceRead, usize> {
        let from = read.absolute.map_or(0, |(i, _, _)| i + 1);
        let written = std::mem::take(&mut read.creditors);
        let mut written = written.into_iter().peekable();
        for i in (from..tx).rev() {
            while let Some(c) = written.next_if(|(w, _)| *w >= i) {
                read.creditors.push(c);
            }
            match self.fees.get(i) {
                Fee::Unset => {}
                Fee::Estimate => return Err(i),
                Fee::Paid(_, fee) if fee.is_zero() => {}
                Fee::Paid(incarnation, fee) => {
                    read.credit = read.credit.saturating_add(fee);
                    read.creditors.push((i, incarnation));
                }
            }
        }
        read.creditors.extend(written);
        Ok(read)
    }

    /// Publishes the writes of `tx`'s incarnation (run by `worker`), sorted
    /// by address with an account's own locations before its slots: one
    /// table lookup per written account.
    pub(crate) fn write(&self, worker: usize, tx: usize, incarnation: u32, writes: &[(Loc, Written)]) {
        let tx = tx as u32;
        let mut i = 0;
        while let Some((loc, value)) = writes.get(i) {
            if let Loc::Storage(address, key) = loc {
                let key = SlotKey(*address, *key);
                let hash = self.slot_hasher.hash_one(key);
                lock(self.slots.get_or_insert(worker, key, hash))
                    .insert(tx, Entry { incarnation, value: *value });
                self.slot_filter.insert(hash);
                i += 1;
                continue;
            }
            let address = *loc.address();
            let hash = self.account_hasher.hash_one(address);
            if let Loc::Wipe(_) = loc {
                // Published before the flag that lets readers look.
                lock(self.wipes.get_or_insert(worker, address, hash))
                    .insert(tx, Entry { incarnation, value: *value });
                self.any_wipe.store(true, Ordering::Release);
                i += 1;
                continue;
            }
            let mut account = lock(self.accounts.get_or_insert(worker, address, hash));
            while let Some((loc, value)) = writes.get(i)
                && matches!(loc, Loc::Account(_) | Loc::Balance(_))
                && *loc.address() == address
            {
                account.of(loc).insert(tx, Entry { incarnation, value: *value });
                i += 1;
            }
            drop(account);
            self.account_filter.insert(hash);
        }
    }

    /// Removes `tx`'s entry at `loc`.
    pub(crate) fn remove(&self, loc: &Loc, tx: usize) {
        let tx = tx as u32;
        match loc {
            Loc::Storage(address, key) => {
                if let Some(mut v) = self.slot(&SlotKey(*address, *key)) {
                    v.remove(tx);
                }
            }
            Loc::Wipe(address) => {
                if let Some(mut v) = self.wipe(address) {
                    v.remove(tx);
                }
            }
            Loc::Account(address) | Loc::Balance(address) => {
                if let Some(mut account) = self.account(address) {
                    account.of(loc).remove(tx);
                }
            }
        }
    }

    /// Turns `tx`'s entries at `writes` and its fee into ESTIMATEs.
    pub(crate) fn mark_estimate(&self, tx: usize, writes: &[(Loc, Written)]) {
        self.fees.mark_estimate(tx);
        let tx = tx as u32;
        for (loc, _) in writes {
            let estimate = |v: &mut Versions| {
                if let Some(entry) = v.get_mut(tx) {
                    entry.value = Written::Estimate;
                }
            };
            match loc {
                Loc::Storage(address, key) => {
                    if let Some(mut v) = self.slot(&SlotKey(*address, *key)) {
                        estimate(&mut v);
                    }
                }
                Loc::Wipe(address) => {
                    if let Some(mut v) = self.wipe(address) {
                        estimate(&mut v);
                    }
                }
                Loc::Account(address) | Loc::Balance(address) => {
                    if let Some(mut account) = self.account(address) {
                        estimate(account.of(loc));
                    }
                }
            }
        }
    }

    /// The newest write below `tx` at a location that is not a balance,
    /// with the writer's incarnation.
    pub(crate) fn read(&self, loc: &Loc, tx: usize) -> Resolved<(u32, Written)> {
        match loc {
            Loc::Storage(address, key) => {
                self.slot(&SlotKey(*address, *key)).map_or(Resolved::Base, |v| v.read(tx))
            }
            Loc::Wipe(a) => self.wipe(a).map_or(Resolved::Base, |v| v.read(tx)),
            Loc::Account(a) | Loc::Balance(a) => {
                let Some(mut account) = self.account(a) else { return Resolved::Base };
                account.of(loc).read(tx)
            }
        }
    }

    /// The balance below `tx`: credits are summed down to the newest
    /// absolute value. `Err` names a blocking ESTIMATE.
    pub(crate) fn read_balance(&self, address: Address, tx: usize) -> Result<BalanceRead, usize> {
        let read = self.account(&address).map_or(Ok(BalanceRead::default()), |a| a.balance.read_balance(tx));
        if address == self.beneficiary { self.add_fees(read?, tx) } else { read }
    }

    /// The account meta and balance below `tx`, with one lookup.
    pub(crate) fn read_account(
        &self,
        address: Address,
        tx: usize,
    ) -> (Resolved<(u32, Written)>, Result<BalanceRead, usize>) {
        let (meta, balance) = match self.account(&address) {
            None => (Resolved::Base, Ok(BalanceRead::default())),
            Some(a) => (a.meta.read(tx), a.balance.read_balance(tx)),
        };
        if address == self.beneficiary {
            (meta, balance.and_then(|b| self.add_fees(b, tx)))
        } else {
            (meta, balance)
        }
    }
}
