//! geth's `prestateTracer`: the accounts a transaction touched (sender,
//! recipient or created address, fee recipient, EIP-7702 authorities, and
//! what `BALANCE`, `EXTCODE*`, `SELFDESTRUCT`, calls and creations name)
//! with their balance, nonce, code, code hash and the storage slots read or
//! written, as they were before the transaction; accounts that do not
//! exist are left out unless `includeEmpty` (or geth's older name
//! `enableEmpty`). `diffMode` answers `{"pre", "post"}` with only what
//! changed (a cleared slot is zero after); `disableCode` and
//! `disableStorage` as in geth.
//!
//! Values are read from the state before the transaction (geth reads an
//! account touched mid-transaction as it is at that moment), and an account
//! counts as deleted in diff mode only when it really was destroyed.

use crate::error::ApiResult;
use alloy_primitives::{Address, B256, Bytes, U256};
use mosaic_executor::StateError;
use revm::{
    Database, Inspector,
    bytecode::opcode,
    interpreter::{
        CreateInputs, CreateOutcome, Interpreter,
        interpreter::EthInterpreter,
        interpreter_types::{InputsTr, Jumps},
    },
    primitives::KECCAK_EMPTY,
};
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::{BTreeMap, BTreeSet};

/// The tracer's options (`tracerConfig`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PrestateConfig {
    pub diff_mode: bool,
    pub disable_code: bool,
    pub disable_storage: bool,
    pub include_empty: bool,
}

/// The transaction-level accounts geth looks up before execution.
#[derive(Debug, Clone, Default)]
pub(crate) struct TxAccounts {
    pub from: Address,
    /// The recipient, or the address a creation deploys to.
    pub to: Address,
    pub coinbase: Address,
    pub authorities: Vec<Address>,
}

/// An account as geth writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Account {
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<U256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<Bytes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_hash: Option<B256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<u64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    storage: BTreeMap<B256, B256>,
}

/// An account's state read from a database.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    balance: U256,
    nonce: u64,
    code: Bytes,
    code_hash: B256,
}

impl State {
    fn read<D: Database<Error = StateError>>(db: &mut D, address: Address) -> Result<Self, StateError> {
        let info = db.basic(address)?.unwrap_or_default();
        let code = match &info.code {
            Some(code) => code.original_bytes(),
            None => db.code_by_hash(info.code_hash)?.original_bytes(),
        };
        Ok(Self { balance: info.balance, nonce: info.nonce, code, code_hash: info.code_hash })
    }

    fn exists(&self) -> bool {
        self.nonce > 0 || !self.code.is_empty() || !self.balance.is_zero()
    }

    /// The code hash geth reports: none for an account without code.
    fn reported_hash(&self) -> Option<B256> {
        (self.code_hash != KECCAK_EMPTY && self.code_hash != B256::ZERO).then_some(self.code_hash)
    }
}

/// The target of an EIP-7702 delegation designator (`0xef0100 ++ address`).
fn delegation(code: &[u8]) -> Option<Address> {
    match code {
        [0xef, 0x01, 0x00, rest @ ..] if rest.len() == 20 => Some(Address::from_slice(rest)),
        _ => None,
    }
}

/// The prestate tracer.
#[derive(Debug, Default)]
pub(crate) struct PrestateTracer {
    config: PrestateConfig,
    addresses: BTreeSet<Address>,
    slots: BTreeMap<Address, BTreeSet<B256>>,
    call_targets: BTreeSet<Address>,
}

/// The accounts before the transaction, read by [`PrestateTracer::read_pre`].
#[derive(Debug)]
pub(crate) struct Prestate {
    config: PrestateConfig,
    accounts: BTreeMap<Address, (State, BTreeMap<B256, B256>)>,
}

impl PrestateTracer {
    /// A tracer with `config` for a transaction with `accounts`.
    pub(crate) fn new(config: PrestateConfig, accounts: &TxAccounts) -> Self {
        let mut tracer = Self { config, ..Self::default() };
        tracer.addresses.extend([accounts.from, accounts.to, accounts.coinbase]);
        tracer.addresses.extend(accounts.authorities.iter().copied());
        tracer
    }

    /// Reads the touched accounts and slots from `db`, the state before the
    /// transaction (call it before committing the transaction).
    pub(crate) fn read_pre<D: Database<Error = StateError>>(
        self,
        db: &mut D,
    ) -> Result<Prestate, StateError> {
        let mut addresses = self.addresses;
        for target in &self.call_targets {
            if let Some(delegate) = delegation(&State::read(db, *target)?.code) {
                addresses.insert(delegate);
            }
        }
        let mut accounts = BTreeMap::new();
        for address in addresses {
            let state = State::read(db, address)?;
            let mut storage = BTreeMap::new();
            for key in self.slots.get(&address).into_iter().flatten() {
                let value = db.storage(address, U256::from_be_bytes(key.0))?;
                storage.insert(*key, B256::from(value));
            }
            accounts.insert(address, (state, storage));
        }
        Ok(Prestate { config: self.config, accounts })
    }
}

impl Prestate {
    fn account(&self, state: &State, storage: BTreeMap<B256, B256>) -> Account {
        Account {
            balance: Some(state.balance),
            code: (!self.config.disable_code && !state.code.is_empty()).then(|| state.code.clone()),
            code_hash: state.reported_hash(),
            nonce: (state.nonce > 0).then_some(state.nonce),
            storage: if self.config.disable_storage { BTreeMap::new() } else { storage },
        }
    }

    /// Whether an account is listed: it exists, or empty ones are asked for.
    fn keep(&self, state: &State) -> bool {
        state.exists() || self.config.include_empty
    }

    /// The answer; `db` is the state after the transaction and `deleted`
    /// the accounts it destroyed.
    pub(crate) fn finish<D: Database<Error = StateError>>(
        self,
        db: &mut D,
        deleted: &BTreeSet<Address>,
    ) -> ApiResult<Box<RawValue>> {
        if !self.config.diff_mode {
            let pre: BTreeMap<Address, Account> = self
                .accounts
                .iter()
                .filter(|(_, (state, _))| self.keep(state))
                .map(|(address, (state, storage))| (*address, self.account(state, storage.clone())))
                .collect();
            return crate::api::json(&pre);
        }
        let mut pre = BTreeMap::new();
        let mut post = BTreeMap::new();
        for (address, (before, slots)) in &self.accounts {
            let mut storage = slots.clone();
            if deleted.contains(address) {
                if self.keep(before) {
                    pre.insert(*address, self.account(before, storage));
                }
                continue;
            }
            let after = State::read(db, *address)?;
            let mut changed = Account::default();
            let mut modified = false;
            if after.balance != before.balance {
                modified = true;
                changed.balance = Some(after.balance);
            }
            if after.nonce != before.nonce {
                modified = true;
                changed.nonce = (after.nonce > 0).then_some(after.nonce);
            }
            if after.reported_hash() != before.reported_hash() {
                modified = true;
                changed.code_hash = after.reported_hash();
            }
            if !self.config.disable_code && after.code != before.code {
                modified = true;
                changed.code = (!after.code.is_empty()).then(|| after.code.clone());
            }
            if !self.config.disable_storage {
                for (key, value) in slots {
                    let now = B256::from(db.storage(*address, U256::from_be_bytes(key.0))?);
                    if *value == B256::ZERO || now == *value {
                        storage.remove(key);
                    }
                    if now != *value {
                        modified = true;
                        changed.storage.insert(*key, now);
                    }
                }
            }
            if !modified {
                continue;
            }
            post.insert(*address, changed);
            if self.keep(before) {
                pre.insert(*address, self.account(before, storage));
            }
        }
        #[derive(Serialize)]
        struct Diff {
            post: BTreeMap<Address, Account>,
            pre: BTreeMap<Address, Account>,
        }
        crate::api::json(&Diff { post, pre })
    }
}

impl<CTX> Inspector<CTX, EthInterpreter> for PrestateTracer {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        let op = interp.bytecode.opcode();
        let stack = interp.stack.data();
        let top = |i: usize| stack.len().checked_sub(i + 1).map(|at| stack[at]);
        let address_at = |i: usize| top(i).map(|v| Address::from_word(B256::from(v)));
        match op {
            opcode::SLOAD | opcode::SSTORE => {
                if let Some(key) = top(0) {
                    let contract = interp.input.target_address();
                    self.addresses.insert(contract);
                    self.slots.entry(contract).or_default().insert(B256::from(key));
                }
            }
            opcode::EXTCODECOPY
            | opcode::EXTCODEHASH
            | opcode::EXTCODESIZE
            | opcode::BALANCE
            | opcode::SELFDESTRUCT => self.addresses.extend(address_at(0)),
            opcode::CALL | opcode::CALLCODE | opcode::DELEGATECALL | opcode::STATICCALL
                if stack.len() >= 5 =>
            {
                if let Some(target) = address_at(1) {
                    self.addresses.insert(target);
                    self.call_targets.insert(target);
                }
            }
            _ => {}
        }
    }

    fn create_end(&mut self, _context: &mut CTX, _inputs: &CreateInputs, outcome: &mut CreateOutcome) {
        if let Some(address) = outcome.address {
            self.addresses.insert(address);
        }
    }
}
