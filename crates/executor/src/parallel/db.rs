//! The state one transaction incarnation sees: multi-version memory over the
//! block's base state, with every read recorded for validation.

use super::mv::{BalanceRead, Loc, Meta, MvMemory, Resolved, Written};
use crate::{AccountFields, StateError, StateProvider};
use alloy_primitives::{Address, B256, U256, map::AddressMap};
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

/// A value the incarnation read from the base state (the state before the
/// block), kept for the final diff so it need not be read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BaseValue {
    /// The account (`None`: did not exist).
    Account(Option<crate::AccountFields>),
    /// A storage slot and its value.
    Slot(U256, U256),
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
    pub(crate) loaded: AddressMap<Option<AccountFields>>,
    /// Accounts that exist only through lazy credits (no account write):
    /// a write to them must record their existence.
    pub(crate) credit_born: Vec<Address>,
    /// A recipient whose credit is applied lazily, if eligible.
    pub(crate) lazy_candidate: Option<Address>,
    /// Set once the candidate was served lazily.
    pub(crate) lazy_active: bool,
    /// What was read from the base state.
    pub(crate) base_reads: Vec<(Address, BaseValue)>,
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
        self.base_reads.clear();
    }
}

/// The fields of an account the engine tracks.
fn fields(info: &AccountInfo) -> AccountFields {
    AccountFields { nonce: info.nonce, balance: info.balance, code_hash: info.code_hash }
}

/// Account meta, the base balance when read from the base state, and the
/// writer's version.
pub(crate) type MetaRead = (Option<Meta>, Option<U256>, Option<Version>);

/// A slot's writer with its value, and the newest wipe.
type StorageOrigin = (Option<(usize, u32, U256)>, Option<Version>);

/// Resolves the account meta below `tx` from what the memory holds; from
/// the base state it also returns the base balance.
fn resolve_meta<S: StateProvider>(
    read: Resolved<(u32, Written)>,
    base: &S,
    address: Address,
) -> Result<MetaRead, ReadError> {
    match read {
        Resolved::Blocked(b) => Err(ReadError::Blocked(b)),
        Resolved::Written(idx, (inc, Written::Account(meta))) => Ok((meta, None, Some((idx, inc)))),
        _ => {
            let info = base.account(address)?;
            let meta = info.as_ref().map(|i| Meta { nonce: i.nonce, code_hash: i.code_hash });
            Ok((meta, Some(info.map_or(U256::ZERO, |i| i.balance)), None))
        }
    }
}

/// Resolves the balance below `tx` from what the memory holds;
/// `base_balance` is used when no absolute value was written (read from
/// the base state if `None`). Returns the balance, whether credits alone
/// created the account, and the origin.
fn resolve_balance<S: StateProvider>(
    read: Result<BalanceRead, usize>,
    base: &S,
    address: Address,
    base_balance: Option<U256>,
) -> Result<(U256, bool, Observed), ReadError> {
    let read = read.map_err(ReadError::Blocked)?;
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
        let (meta_read, balance_read) = self.mv.read_account(address, self.tx);
        let (meta, base_balance, origin) = resolve_meta(meta_read, self.base, address)?;
        if let Some(balance) = base_balance {
            let fields =
                meta.map(|m| crate::AccountFields { nonce: m.nonce, balance, code_hash: m.code_hash });
            self.base_reads.push((address, BaseValue::Account(fields)));
        }
        let observed = Observed::Account(origin);
        push_sources(&mut self.sources, &observed);
        self.reads.push((Loc::Account(address), observed));
        let codeless = meta.is_none_or(|m| m.code_hash == KECCAK_EMPTY);
        if self.lazy_candidate == Some(address) && codeless {
            // A plain value transfer: the credit is recorded as a delta and
            // the balance is never observed, so serve zero.
            self.lazy_active = true;
            let info = crate::state::info_without_code(U256::ZERO, meta.map_or(0, |m| m.nonce), KECCAK_EMPTY);
            self.loaded.insert(address, Some(fields(&info)));
            return Ok(Some(info));
        }
        let (balance, by_credit, observed) = resolve_balance(balance_read, self.base, address, base_balance)?;
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
        self.loaded.insert(address, info.as_ref().map(fields));
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
        if observed == Observed::Storage(None, None) {
            self.base_reads.push((address, BaseValue::Slot(index, v)));
        }
        push_sources(&mut self.sources, &observed);
        self.reads.push((Loc::Storage(address, index), observed));
        Ok(v)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, ReadError> {
        Ok(self.base.block_hash(number)?)
    }
}

/// Whether a recorded account read would see the same version now.
fn same_meta(read: Resolved<(u32, Written)>, seen: &Option<Version>) -> bool {
    match read {
        Resolved::Base => seen.is_none(),
        Resolved::Written(idx, (inc, _)) => *seen == Some((idx, inc)),
        Resolved::Blocked(_) => false,
    }
}

/// Whether a recorded balance read would see the same versions now.
fn same_balance(read: Result<BalanceRead, usize>, absolute: &Option<Version>, credits: &[Version]) -> bool {
    read.is_ok_and(|r| r.absolute.map(|(i, n, _)| (i, n)) == *absolute && r.creditors == credits)
}

/// Whether all recorded reads of `tx` would see the same versions now. An
/// account's meta and balance reads (recorded one after the other) are
/// checked with one lookup.
pub(crate) fn reads_valid(mv: &MvMemory, tx: usize, reads: &[(Loc, Observed)]) -> bool {
    let mut i = 0;
    while let Some((loc, seen)) = reads.get(i) {
        let valid = match (loc, seen, reads.get(i + 1)) {
            (
                Loc::Account(a),
                Observed::Account(meta),
                Some((Loc::Balance(b), Observed::Balance(absolute, credits))),
            ) if a == b => {
                i += 1;
                let (meta_read, balance_read) = mv.read_account(*a, tx);
                same_meta(meta_read, meta) && same_balance(balance_read, absolute, credits)
            }
            (Loc::Account(_), Observed::Account(meta), _) => same_meta(mv.read(loc, tx), meta),
            (Loc::Balance(a), Observed::Balance(absolute, credits), _) => {
                same_balance(mv.read_balance(*a, tx), absolute, credits)
            }
            (Loc::Storage(a, k), Observed::Storage(slot, wipe), _) => match storage_origin(mv, *a, *k, tx) {
                Ok((s, w)) => s.map(|(i, n, _)| (i, n)) == *slot && w == *wipe,
                Err(_) => false,
            },
            _ => false,
        };
        if !valid {
            return false;
        }
        i += 1;
    }
    true
}
