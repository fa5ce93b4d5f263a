//! Turning one transaction's journal into Block-STM writes.

use super::mv::{Loc, Meta, Written};
use crate::AccountFields;
use alloy_primitives::{Address, B256, U256, map::AddressMap};
use dashmap::DashMap;
use revm::{bytecode::Bytecode, primitives::KECCAK_EMPTY, state::EvmState};

/// What the engine knows about the transaction beyond its journal.
pub(crate) struct WriteContext<'a> {
    /// What `basic` returned per address before the transaction.
    pub(crate) loaded: &'a AddressMap<Option<AccountFields>>,
    /// Accounts that existed only through lazy credits when loaded.
    pub(crate) credit_born: &'a [Address],
    /// The lazily credited recipient, if it was served lazily.
    pub(crate) lazy: Option<Address>,
    /// The block beneficiary and the fee it is owed.
    pub(crate) beneficiary: Address,
    pub(crate) fee: U256,
}

/// The writes of a finished transaction, with the code it deployed added to
/// `new_codes` and its hash to `deployed`, and the fee still owed to the
/// beneficiary (zero when it went into a write of the beneficiary's
/// balance).
pub(crate) fn write_set(
    state: EvmState,
    cx: &WriteContext<'_>,
    new_codes: &DashMap<B256, Bytecode, alloy_primitives::map::DefaultHashBuilder>,
    deployed: &mut Vec<B256>,
) -> (Vec<(Loc, Written)>, U256) {
    let mut writes = Vec::with_capacity(state.len() * 2);
    let mut fee_paid = cx.fee.is_zero();
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        let before = cx.loaded.get(&address).copied().flatten();
        let extra = if address == cx.beneficiary {
            fee_paid = true;
            cx.fee
        } else {
            U256::ZERO
        };
        let info = &account.info;
        let balance = info.balance.saturating_add(extra);
        let created = account.is_created();
        let empty = info.nonce == 0 && info.code_hash == KECCAK_EMPTY && balance.is_zero();
        if account.is_selfdestructed() || (!created && empty) {
            if before.is_some() {
                writes.push((Loc::Account(address), Written::Account(None)));
                writes.push((Loc::Balance(address), Written::Balance(U256::ZERO)));
                writes.push((Loc::Wipe(address), Written::Wipe));
            }
            continue;
        }
        let meta = Meta { nonce: info.nonce, code_hash: info.code_hash };
        let before_meta = before.as_ref().map(|b| Meta { nonce: b.nonce, code_hash: b.code_hash });
        if (created || before_meta.is_none_or(|b| b.code_hash != meta.code_hash))
            && let Some(code) = &info.code
            && info.code_hash != KECCAK_EMPTY
        {
            new_codes.entry(info.code_hash).or_insert_with(|| code.clone());
            deployed.push(info.code_hash);
        }
        if created {
            writes.push((Loc::Wipe(address), Written::Wipe));
            writes.push((Loc::Account(address), Written::Account(Some(meta))));
            writes.push((Loc::Balance(address), Written::Balance(balance)));
            for (key, slot) in &account.storage {
                if slot.is_changed() || !slot.present_value.is_zero() {
                    writes.push((Loc::Storage(address, *key), Written::Storage(slot.present_value)));
                }
            }
            continue;
        }
        let lazy = cx.lazy == Some(address);
        if before_meta != Some(meta) || (!lazy && cx.credit_born.contains(&address)) {
            writes.push((Loc::Account(address), Written::Account(Some(meta))));
        }
        if lazy {
            if !balance.is_zero() {
                writes.push((Loc::Balance(address), Written::Credit(balance)));
            }
        } else if before.as_ref().map_or(U256::ZERO, |b| b.balance) != balance || before.is_none() {
            writes.push((Loc::Balance(address), Written::Balance(balance)));
        }
        for (key, slot) in &account.storage {
            if slot.is_changed() {
                writes.push((Loc::Storage(address, *key), Written::Storage(slot.present_value)));
            }
        }
    }
    (writes, if fee_paid { U256::ZERO } else { cx.fee })
}
