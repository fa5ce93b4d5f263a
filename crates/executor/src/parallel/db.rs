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

/// A recorded read, compared by value at validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Observed {
    Account(Option<Meta>),
    /// Balance value and whether credits alone brought the account into
    /// existence.
    Balance(U256, bool),
    Storage(U256),
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
        self.lazy_candidate = lazy_candidate;
        self.lazy_active = false;
    }
}

/// Resolves the account meta below `tx` (shared with validation).
pub(crate) fn resolve_meta<S: StateProvider>(
    mv: &MvMemory,
    base: &S,
    address: Address,
    tx: usize,
    sources: &mut Vec<usize>,
) -> Result<(Option<Meta>, Option<U256>), ReadError> {
    match mv.read(&Loc::Account(address), tx) {
        Resolved::Blocked(b) => Err(ReadError::Blocked(b)),
        Resolved::Written(idx, Written::Account(meta)) => {
            sources.push(idx);
            Ok((meta, None))
        }
        _ => {
            let info = base.account(address)?;
            let meta = info.as_ref().map(|i| Meta { nonce: i.nonce, code_hash: i.code_hash });
            Ok((meta, Some(info.map_or(U256::ZERO, |i| i.balance))))
        }
    }
}

/// Resolves the balance below `tx`; `base_balance` is used when no absolute
/// value was written. Returns (balance, created by credits alone).
pub(crate) fn resolve_balance<S: StateProvider>(
    mv: &MvMemory,
    base: &S,
    address: Address,
    tx: usize,
    base_balance: Option<U256>,
    sources: &mut Vec<usize>,
) -> Result<(U256, bool), ReadError> {
    let read = mv.read_balance(address, tx).map_err(ReadError::Blocked)?;
    sources.extend_from_slice(&read.creditors);
    let start = match read.absolute {
        Some((idx, v)) => {
            sources.push(idx);
            v
        }
        None => match base_balance {
            Some(b) => b,
            None => base.account(address)?.map_or(U256::ZERO, |i| i.balance),
        },
    };
    Ok((start.saturating_add(read.credit), !read.credit.is_zero()))
}

/// Resolves a storage slot below `tx`, honoring wipes.
pub(crate) fn resolve_storage<S: StateProvider>(
    mv: &MvMemory,
    base: &S,
    address: Address,
    slot: U256,
    tx: usize,
    sources: &mut Vec<usize>,
) -> Result<U256, ReadError> {
    let wipe = match mv.read(&Loc::Wipe(address), tx) {
        Resolved::Blocked(b) => return Err(ReadError::Blocked(b)),
        Resolved::Written(idx, _) => Some(idx),
        Resolved::Base => None,
    };
    match mv.read(&Loc::Storage(address, slot), tx) {
        Resolved::Blocked(b) => Err(ReadError::Blocked(b)),
        Resolved::Written(idx, Written::Storage(v)) if wipe.is_none_or(|w| idx >= w) => {
            sources.push(idx);
            Ok(v)
        }
        _ => match wipe {
            Some(w) => {
                sources.push(w);
                Ok(U256::ZERO)
            }
            None => Ok(base.storage(address, slot)?),
        },
    }
}

impl<S: StateProvider> Database for TxDb<'_, S> {
    type Error = ReadError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, ReadError> {
        let (meta, base_balance) = resolve_meta(self.mv, self.base, address, self.tx, &mut self.sources)?;
        self.reads.push((Loc::Account(address), Observed::Account(meta)));
        let codeless = meta.is_none_or(|m| m.code_hash == KECCAK_EMPTY);
        if self.lazy_candidate == Some(address) && codeless {
            // A plain value transfer: the credit is recorded as a delta and
            // the balance is never observed, so serve zero.
            self.lazy_active = true;
            let info = AccountInfo {
                balance: U256::ZERO,
                nonce: meta.map_or(0, |m| m.nonce),
                code_hash: KECCAK_EMPTY,
                code: None,
                ..Default::default()
            };
            self.loaded.insert(address, Some(info.clone()));
            return Ok(Some(info));
        }
        let (balance, by_credit) =
            resolve_balance(self.mv, self.base, address, self.tx, base_balance, &mut self.sources)?;
        self.reads.push((Loc::Balance(address), Observed::Balance(balance, by_credit)));
        let info = match meta {
            Some(m) => Some(AccountInfo {
                balance,
                nonce: m.nonce,
                code_hash: m.code_hash,
                code: None,
                ..Default::default()
            }),
            None if by_credit => Some(AccountInfo { balance, ..Default::default() }),
            None => None,
        };
        let info = info.map(|mut i| {
            i.code = None;
            i
        });
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
        let v = resolve_storage(self.mv, self.base, address, index, self.tx, &mut self.sources)?;
        self.reads.push((Loc::Storage(address, index), Observed::Storage(v)));
        Ok(v)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, ReadError> {
        Ok(self.base.block_hash(number)?)
    }
}

/// Re-resolves a recorded read for validation; `None` if blocked.
pub(crate) fn reobserve<S: StateProvider>(mv: &MvMemory, base: &S, loc: &Loc, tx: usize) -> Option<Observed> {
    let mut sink = Vec::new();
    match *loc {
        Loc::Account(a) => resolve_meta(mv, base, a, tx, &mut sink).ok().map(|(m, _)| Observed::Account(m)),
        Loc::Balance(a) => {
            resolve_balance(mv, base, a, tx, None, &mut sink).ok().map(|(b, c)| Observed::Balance(b, c))
        }
        Loc::Storage(a, k) => resolve_storage(mv, base, a, k, tx, &mut sink).ok().map(Observed::Storage),
        Loc::Wipe(_) => None,
    }
}
