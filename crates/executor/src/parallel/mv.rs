//! Multi-version memory: for every location, the values written by each
//! transaction of the block (by index), as Block-STM keeps them.

use alloy_primitives::{Address, B256, U256};
use dashmap::DashMap;

/// A piece of state that transactions read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

type Hasher = alloy_primitives::map::DefaultHashBuilder;

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

/// The multi-version data structure.
/// Versions of one location sorted by transaction index; most locations
/// have a single writer, and writers mostly arrive in order.
#[derive(Debug, Default)]
struct Versions(Vec<(usize, Entry)>);

impl Versions {
    fn insert(&mut self, tx: usize, entry: Entry) {
        match self.0.last() {
            None => self.0.push((tx, entry)),
            Some((last, _)) if *last < tx => self.0.push((tx, entry)),
            _ => match self.0.binary_search_by_key(&tx, |(i, _)| *i) {
                Ok(i) => self.0[i].1 = entry,
                Err(i) => self.0.insert(i, (tx, entry)),
            },
        }
    }

    fn get_mut(&mut self, tx: usize) -> Option<&mut Entry> {
        self.0.binary_search_by_key(&tx, |(i, _)| *i).ok().map(|i| &mut self.0[i].1)
    }

    fn remove(&mut self, tx: usize) {
        if let Ok(i) = self.0.binary_search_by_key(&tx, |(i, _)| *i) {
            self.0.remove(i);
        }
    }

    /// Entries below `tx`, newest first.
    fn below(&self, tx: usize) -> impl Iterator<Item = &(usize, Entry)> {
        let end = self.0.partition_point(|(i, _)| *i < tx);
        self.0[..end].iter().rev()
    }
}

#[derive(Debug, Default)]
pub(crate) struct MvMemory {
    data: DashMap<Loc, Versions, Hasher>,
}

impl MvMemory {
    /// Records a write of `tx`'s incarnation.
    pub(crate) fn write(&self, loc: Loc, tx: usize, incarnation: u32, value: Written) {
        self.data.entry(loc).or_default().insert(tx, Entry { incarnation, value });
    }

    /// Removes `tx`'s entry at `loc`.
    pub(crate) fn remove(&self, loc: &Loc, tx: usize) {
        if let Some(mut e) = self.data.get_mut(loc) {
            e.remove(tx);
        }
    }

    /// Turns `tx`'s entry at `loc` into an ESTIMATE.
    pub(crate) fn mark_estimate(&self, loc: &Loc, tx: usize) {
        if let Some(mut e) = self.data.get_mut(loc)
            && let Some(entry) = e.get_mut(tx)
        {
            entry.value = Written::Estimate;
        }
    }

    /// The newest write below `tx` at a location that is not a balance,
    /// with the writer's incarnation.
    pub(crate) fn read(&self, loc: &Loc, tx: usize) -> Resolved<(u32, Written)> {
        let Some(versions) = self.data.get(loc) else { return Resolved::Base };
        match versions.below(tx).next() {
            None => Resolved::Base,
            Some((idx, e)) if e.value == Written::Estimate => Resolved::Blocked(*idx),
            Some((idx, e)) => Resolved::Written(*idx, (e.incarnation, e.value)),
        }
    }

    /// The balance below `tx`: credits are summed down to the newest
    /// absolute value. `Err` names a blocking ESTIMATE.
    pub(crate) fn read_balance(&self, address: Address, tx: usize) -> Result<BalanceRead, usize> {
        let mut out = BalanceRead::default();
        let Some(versions) = self.data.get(&Loc::Balance(address)) else { return Ok(out) };
        for (idx, e) in versions.below(tx) {
            match e.value {
                Written::Credit(c) => {
                    out.credit = out.credit.saturating_add(c);
                    out.creditors.push((*idx, e.incarnation));
                }
                Written::Balance(b) => {
                    out.absolute = Some((*idx, e.incarnation, b));
                    break;
                }
                Written::Estimate => return Err(*idx),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Every location written by some transaction.
    pub(crate) fn locations(&self) -> Vec<Loc> {
        self.data.iter().filter(|e| !e.value().0.is_empty()).map(|e| *e.key()).collect()
    }
}
