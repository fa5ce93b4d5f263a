//! The `alloc` input and output: accounts by address in geth's genesis-alloc
//! format.

use super::json::{Fields, data, parse_address, parse_u256, quantity, to_u256, word};
use alloy_primitives::U256;
use mosaic_executor::InMemoryState;
use revm::primitives::KECCAK_EMPTY;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Builds the pre-state from `{address: {balance, code?, nonce?, storage?}}`.
pub(super) fn parse_alloc(value: &Value) -> Result<InMemoryState, String> {
    let obj = value.as_object().ok_or("alloc: expected a JSON object {address: account}")?;
    let mut state = InMemoryState::default();
    for (key, account) in obj {
        let address = parse_address(key).map_err(|e| format!("alloc: {e}"))?;
        let what = format!("alloc: account {key}");
        let f = Fields::new(account, &what)?;
        let balance = f.u256("balance")?.unwrap_or_default();
        let nonce = f.u64("nonce")?.unwrap_or_default();
        let code = f.bytes("code")?.unwrap_or_default();
        let storage = match f.get("storage") {
            None => Vec::new(),
            Some(Value::Object(slots)) => slots
                .iter()
                .map(|(k, v)| {
                    let slot =
                        parse_u256(k.trim()).ok_or_else(|| format!("{what}: bad storage key {k:?}"))?;
                    let value = to_u256(v).map_err(|e| format!("{what}: storage {k}: {e}"))?;
                    Ok((slot, value))
                })
                .collect::<Result<Vec<_>, String>>()?,
            Some(_) => return Err(format!("{what}: `storage` must be an object {{slot: value}}")),
        };
        state.insert_account(address, nonce, balance, &code, storage);
    }
    Ok(state)
}

/// The whole state in geth's alloc format, sorted by address; zero nonces,
/// empty code and empty storage are left out as geth does.
pub(super) fn alloc_json(state: &InMemoryState) -> Value {
    let sorted: BTreeMap<_, _> = state.accounts.iter().collect();
    let mut out = Map::new();
    for (address, account) in sorted {
        let mut entry = Map::new();
        if account.code_hash != KECCAK_EMPTY {
            if let Some(code) = state.codes.get(&account.code_hash) {
                entry.insert("code".into(), data(&code.original_bytes()));
            }
        }
        if !account.storage.is_empty() {
            let slots: BTreeMap<U256, U256> = account.storage.iter().map(|(k, v)| (*k, *v)).collect();
            let storage = slots.into_iter().map(|(k, v)| (word(k), Value::String(word(v)))).collect();
            entry.insert("storage".into(), Value::Object(storage));
        }
        entry.insert("balance".into(), quantity(account.balance));
        if account.nonce != 0 {
            entry.insert("nonce".into(), quantity(account.nonce));
        }
        out.insert(alloy_primitives::hex::encode_prefixed(address), Value::Object(entry));
    }
    Value::Object(out)
}
