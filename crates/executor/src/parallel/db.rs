//! The state one transaction incarnation sees: multi-version memory over the
//! block's base state, with every read recorded for validation.

use super::mv::{Loc, Meta, MvMemory, Resolved, Written};
use crate::{StateError, StateProvider};
use alloy_primitives::{Address, B256, U256, map::HashMap};
use dashmap::DashMap;
use revm::{
    Database,
    bytecode::Bytecode,
    database_interface::DBErrorMarker,
    primitives::{KECCAK_EMPTY, StorageKey, StorageValue},
    state::AccountInfo,
};

/// Why a read could not complete.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ReadError {
    /// The value depends on an aborted lower transaction.
    #[error("blocked by transaction {0}")]
    Blocked(usize),
    /// The base state failed.
    #[error(transparent)]
    State(#[from] StateError),
}

impl DBErrorMarker for ReadError {}

/// A version: the writing transaction and its incarnation.
pub(crate) type Version = (usize, u32);

/// A recorded read: where the value came from. Validation checks that the
/// same versions would be read now (the base state never changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Observed {
    /// `Account`: the writer, or `None` for the base state.
    Account(Option<Version>),
    /// `Balance`: the writer of the absolute value and the credits above it.
    Balance(Option<Version>, Vec<Version>),
    /// `Storage`: the slot's writer and the newest wipe below the reader.
    Storage(Option<Version>, Option<Version>),
}

/// Per-incarnation view; reset between transactions.
pub(crate) struct TxDb<'a, S> {
    pub(crate) base: &'a S,
    pub(crate) mv: &'a MvMemory,
    pub(crate) new_codes: &'a DashMap<B256, Bytecode, alloy_primitives::map::DefaultHashBuilder>,
    pub(crate) tx: usize,
    /// Reads in order, with the lower transactions they came from.
    pub(crate) reads: Vec<(Loc, Observed)>,
    pub(crate) sources: Vec<usize>,
    /// What `basic` returned per address (the pre-transaction view).
    pub(crate) loaded: HashMap<Address, Option<AccountInfo>>,
    /// Accounts that exist only through lazy credits (no account write):
    /// a write to them must record their existence.
    pub(crate) credit_born: Vec<Address>,
    /// A recipient whose credit is applied lazily, if eligible.
    pub(crate) lazy_candidate: Option<Address>,
    /// Set once the candidate was served lazily.
    pub(crate) lazy_active: bool,
}

impl<'a, S: StateProvider> TxDb<'a, S> {
    pub(crate) fn reset(&mut self, tx: usize, lazy_candidate: Option<Address>) {
        self.tx = tx;
        self.reads.clear();
        self.sources.clear();
        self.loaded.clear();
        self.credit_born.clear();
        self.lazy_candidate = lazy_candidate;
        self.lazy_active = false;
    }
}

/// Account meta, the base balance when read from the base state, and the
/// writer's version.
pub(crate) type MetaRead = (Option<Meta>, Option<U256>, Option<Version>);

/// A slot's writer with its value, and the newest wipe.
type StorageOrigin = (Option<(usize, u32, U256)>, Option<Version>);

/// Resolves the account meta below `tx`; from the base state it also
/// returns the base balance.
pub(crate) fn resolve_meta<S: StateProvider>(
    mv: &MvMemory,
    base: &S,
    address: Address,
    tx: usize,
) -> Result<MetaRead, ReadError> {
    match mv.read(&Loc::Account(address), tx) {
        Resolved::Blocked(b) => Err(ReadError::Blocked(b)),
        Resolved::Written(idx, (inc, Written::Account(meta))) => Ok((meta, None, Some((idx, inc)))),
        _ => {
            let info = base.account(address)?;
            let meta = info.as_ref().map(|i| Meta { nonce: i.nonce, code_hash: i.code_hash });
            Ok((meta, Some(info.map_or(U256::ZERO, |i| i.balance)), None))
        }
    }
}

/// Resolves the balance below `tx`; `base_balance` is used when no absolute
/// value was written (read from the base state if `None`). Returns the
/// balance, whether credits alone created the account, and the origin.
pub(crate) fn resolve_balance<S: StateProvider>(
    mv: &MvMemory,
    base: &S,
    address: Address,
    tx: usize,
    base_balance: Option<U256>,
) -> Result<(U256, bool, Observed), ReadError> {
    let read = mv.read_balance(address, tx).map_err(ReadError::Blocked)?;
    let (start, absolute) = match read.absolute {
        Some((idx, inc, v)) => (v, Some((idx, inc))),
        None => match base_balance {
            Some(b) => (b, None),
            None => (base.account(address)?.map_or(U256::ZERO, |i| i.balance), None),
        },
    };
    let by_credit = !read.credit.is_zero();
    Ok((start.saturating_add(read.credit), by_credit, Observed::Balance(absolute, read.creditors)))
}

/// Origins of a storage read (slot writer, wipe writer).
fn storage_origin(
    mv: &MvMemory,
    address: Address,
    slot: U256,
    tx: usize,
) -> Result<StorageOrigin, ReadError> {
    let wipe = match mv.read(&Loc::Wipe(address), tx) {
        Resolved::Blocked(b) => return Err(ReadError::Blocked(b)),
        Resolved::Written(idx, (inc, _)) => Some((idx, inc)),
        Resolved::Base => None,
    };
    let slot = match mv.read(&Loc::Storage(address, slot), tx) {
        Resolved::Blocked(b) => return Err(ReadError::Blocked(b)),
        Resolved::Written(idx, (inc, Written::Storage(v))) => Some((idx, inc, v)),
        _ => None,
    };
    Ok((slot, wipe))
}

/// Resolves a storage slot below `tx`, honoring wipes (a transaction's own
/// wipe precedes its own slot writes).
pub(crate) fn resolve_storage<S: StateProvider>(
    mv: &MvMemory,
    base: &S,
    address: Address,
    slot: U256,
    tx: usize,
) -> Result<(U256, Observed), ReadError> {
    let (written, wipe) = storage_origin(mv, address, slot, tx)?;
    let observed = Observed::Storage(written.map(|(i, n, _)| (i, n)), wipe);
    let value = match (written, wipe) {
        (Some((idx, _, v)), w) if w.is_none_or(|(w, _)| idx >= w) => v,
        (_, Some(_)) => U256::ZERO,
        (_, None) => base.storage(address, slot)?,
    };
    Ok((value, observed))
}

fn push_sources(sources: &mut Vec<usize>, observed: &Observed) {
    match observed {
        Observed::Account(v) => sources.extend(v.map(|v| v.0)),
        Observed::Balance(a, c) => {
            sources.extend(a.map(|v| v.0));
            sources.extend(c.iter().map(|v| v.0));
        }
        Observed::Storage(s, w) => {
            sources.extend(s.map(|v| v.0));
            sources.extend(w.map(|v| v.0));
        }
    }
}

impl<S: StateProvider> Database for TxDb<'_, S> {
    type Error = ReadError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, ReadError> {
        let (meta, base_balance, origin) = resolve_meta(self.mv, self.base, address, self.tx)?;
        let observed = Observed::Account(origin);
        push_sources(&mut self.sources, &observed);
        self.reads.push((Loc::Account(address), observed));
        let codeless = meta.is_none_or(|m| m.code_hash == KECCAK_EMPTY);
        if self.lazy_candidate == Some(address) && codeless {
            // A plain value transfer: the credit is recorded as a delta and
            // the balance is never observed, so serve zero.
            self.lazy_active = true;
            let info = crate::state::info_without_code(U256::ZERO, meta.map_or(0, |m| m.nonce), KECCAK_EMPTY);
            self.loaded.insert(address, Some(info.clone()));
            return Ok(Some(info));
        }
        let (balance, by_credit, observed) =
            resolve_balance(self.mv, self.base, address, self.tx, base_balance)?;
        push_sources(&mut self.sources, &observed);
        self.reads.push((Loc::Balance(address), observed));
        let info = match meta {
            Some(m) => Some(crate::state::info_without_code(balance, m.nonce, m.code_hash)),
            None if by_credit => {
                self.credit_born.push(address);
                Some(crate::state::info_without_code(balance, 0, revm::primitives::KECCAK_EMPTY))
            }
            None => None,
        };
        self.loaded.insert(address, info.clone());
        Ok(info)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, ReadError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        if let Some(code) = self.new_codes.get(&code_hash) {
            return Ok(code.clone());
        }
        Ok(self.base.code_by_hash(code_hash)?)
    }

    fn storage(&mut self, address: Address, index: StorageKey) -> Result<StorageValue, ReadError> {
        let (v, observed) = resolve_storage(self.mv, self.base, address, index, self.tx)?;
        push_sources(&mut self.sources, &observed);
        self.reads.push((Loc::Storage(address, index), observed));
        Ok(v)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, ReadError> {
        Ok(self.base.block_hash(number)?)
    }
}

/// Whether a recorded read would see the same versions now.
pub(crate) fn still_valid(mv: &MvMemory, loc: &Loc, tx: usize, seen: &Observed) -> bool {
    match (*loc, seen) {
        (Loc::Account(_), Observed::Account(v)) => match mv.read(loc, tx) {
            Resolved::Base => v.is_none(),
            Resolved::Written(idx, (inc, _)) => *v == Some((idx, inc)),
            Resolved::Blocked(_) => false,
        },
        (Loc::Balance(a), Observed::Balance(abs, credits)) => match mv.read_balance(a, tx) {
            Ok(read) => read.absolute.map(|(i, n, _)| (i, n)) == *abs && read.creditors == *credits,
            Err(_) => false,
        },
        (Loc::Storage(a, k), Observed::Storage(slot, wipe)) => match storage_origin(mv, a, k, tx) {
            Ok((s, w)) => s.map(|(i, n, _)| (i, n)) == *slot && w == *wipe,
            Err(_) => false,
        },
        _ => false,
    }
}
