//! State and block overrides of `eth_call` / `eth_estimateGas` (geth's
//! `override.StateOverride` and `BlockOverrides`): replace an account's
//! nonce, balance or code, its whole storage (`state`) or some slots
//! (`stateDiff`), and the block's number, time, gas limit, fee recipient,
//! randomness and base fees. [`OverrideState`] applies the account part over
//! any [`StateProvider`].

use crate::params::{At, address_at, bytes_at, hash_at, kind, type_error, u64_at, u256_at};
use alloy_primitives::{Address, B256, U256, keccak256, map::HashMap};
use mosaic_executor::{AccountInfo, Bytecode, StateError, StateProvider};
use serde_json::Value;

/// One account's overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AccountOverride {
    pub nonce: Option<u64>,
    pub balance: Option<U256>,
    pub code: Option<Bytecode>,
    /// Replaces all storage.
    pub state: Option<HashMap<U256, U256>>,
    /// Replaces these slots.
    pub state_diff: Option<HashMap<U256, U256>>,
}

/// Overrides by account.
pub(crate) type StateOverrides = HashMap<Address, AccountOverride>;

const OVERRIDE: &str = "override.OverrideAccount";

fn slots(value: &Value, field: &'static str) -> Result<HashMap<U256, U256>, String> {
    let Value::Object(map) = value else {
        return Err(type_error(kind(value), "map[common.Hash]common.Hash", At::Field(OVERRIDE, field)));
    };
    map.iter()
        .map(|(k, v)| {
            let key = hash_at(&Value::String(k.clone()), At::Field(OVERRIDE, field))?;
            let value = hash_at(v, At::Field(OVERRIDE, field))?;
            Ok((key.into(), value.into()))
        })
        .collect()
}

/// Decodes the state-override object.
pub(crate) fn parse_state_overrides(value: &Value) -> Result<StateOverrides, String> {
    let Value::Object(map) = value else {
        return Err(type_error(kind(value), "override.StateOverride", At::Value));
    };
    let mut out = StateOverrides::default();
    for (key, entry) in map {
        let address = address_at(&Value::String(key.clone()), At::Value)?;
        let Value::Object(fields) = entry else {
            return Err(type_error(kind(entry), OVERRIDE, At::Value));
        };
        let get = |name: &str| fields.get(name).filter(|v| !v.is_null());
        if get("movePrecompileToAddress").is_some() {
            return Err("movePrecompileToAddress is not supported".into());
        }
        let account = AccountOverride {
            nonce: get("nonce").map(|v| u64_at(v, At::Field(OVERRIDE, "nonce"))).transpose()?,
            balance: get("balance").map(|v| u256_at(v, At::Field(OVERRIDE, "balance"))).transpose()?,
            code: get("code").map(|v| bytes_at(v, At::Field(OVERRIDE, "code"))).transpose()?.map(|code| {
                Bytecode::new_raw_checked(code.clone()).unwrap_or_else(|_| Bytecode::new_legacy(code))
            }),
            state: get("state").map(|v| slots(v, "state")).transpose()?,
            state_diff: get("stateDiff").map(|v| slots(v, "stateDiff")).transpose()?,
        };
        if account.state.is_some() && account.state_diff.is_some() {
            return Err(format!("account {} has both 'state' and 'stateDiff'", address.to_checksum(None)));
        }
        out.insert(address, account);
    }
    Ok(out)
}

/// Block fields an `eth_call` may replace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BlockOverrides {
    pub number: Option<u64>,
    pub time: Option<u64>,
    pub gas_limit: Option<u64>,
    pub fee_recipient: Option<Address>,
    pub prev_randao: Option<B256>,
    pub base_fee: Option<u64>,
    pub blob_base_fee: Option<u128>,
}

/// Decodes the block-override object.
pub(crate) fn parse_block_overrides(value: &Value) -> Result<BlockOverrides, String> {
    const TY: &str = "override.BlockOverrides";
    let Value::Object(fields) = value else { return Err(type_error(kind(value), TY, At::Value)) };
    let get = |name: &str| fields.get(name).filter(|v| !v.is_null());
    let small = |name: &'static str| -> Result<Option<u64>, String> {
        get(name)
            .map(|v| u256_at(v, At::Field(TY, name)).map(|n| u64::try_from(n).unwrap_or(u64::MAX)))
            .transpose()
    };
    Ok(BlockOverrides {
        number: small("number")?,
        time: get("time").map(|v| u64_at(v, At::Field(TY, "time"))).transpose()?,
        gas_limit: get("gasLimit").map(|v| u64_at(v, At::Field(TY, "gasLimit"))).transpose()?,
        fee_recipient: get("feeRecipient")
            .map(|v| address_at(v, At::Field(TY, "feeRecipient")))
            .transpose()?,
        prev_randao: get("prevRandao").map(|v| hash_at(v, At::Field(TY, "prevRandao"))).transpose()?,
        base_fee: small("baseFeePerGas")?,
        blob_base_fee: get("blobBaseFee")
            .map(|v| u256_at(v, At::Field(TY, "blobBaseFee")).map(|n| u128::try_from(n).unwrap_or(u128::MAX)))
            .transpose()?,
    })
}

/// A state with some accounts overridden.
#[derive(Debug)]
pub(crate) struct OverrideState<S> {
    base: S,
    accounts: StateOverrides,
    codes: HashMap<B256, Bytecode>,
}

impl<S: StateProvider> OverrideState<S> {
    /// `base` with `accounts` applied.
    pub(crate) fn new(base: S, accounts: StateOverrides) -> Self {
        let codes = accounts
            .values()
            .filter_map(|a| a.code.as_ref())
            .map(|code| (keccak256(code.original_byte_slice()), code.clone()))
            .collect();
        Self { base, accounts, codes }
    }
}

impl<S: StateProvider> StateProvider for OverrideState<S> {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        let base = self.base.account(address)?;
        let Some(over) = self.accounts.get(&address) else { return Ok(base) };
        let mut info = base.unwrap_or_default();
        if let Some(nonce) = over.nonce {
            info.nonce = nonce;
        }
        if let Some(balance) = over.balance {
            info.balance = balance;
        }
        if let Some(code) = &over.code {
            info.code_hash = keccak256(code.original_byte_slice());
            info.code = Some(code.clone());
        }
        Ok(Some(info))
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        if let Some(over) = self.accounts.get(&address) {
            if let Some(state) = &over.state {
                return Ok(state.get(&slot).copied().unwrap_or_default());
            }
            if let Some(value) = over.state_diff.as_ref().and_then(|diff| diff.get(&slot)) {
                return Ok(*value);
            }
        }
        self.base.storage(address, slot)
    }

    fn code_by_hash(&self, hash: B256) -> Result<Bytecode, StateError> {
        match self.codes.get(&hash) {
            Some(code) => Ok(code.clone()),
            None => self.base.code_by_hash(hash),
        }
    }

    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        self.base.block_hash(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mosaic_executor::InMemoryState;
    use serde_json::json;

    #[test]
    fn overrides_apply_over_the_base() {
        let a = Address::repeat_byte(1);
        let parsed = parse_state_overrides(&json!({
            format!("{a}"): {"balance": "0x64", "nonce": "0x7", "code": "0x6001", "stateDiff": {
                format!("0x{}", "00".repeat(32)): format!("0x{}01", "00".repeat(31))
            }}
        }))
        .unwrap_or_default();
        let state = OverrideState::new(InMemoryState::default(), parsed);
        let info = state.account(a).ok().flatten().unwrap_or_default();
        assert_eq!((info.balance, info.nonce), (U256::from(100), 7));
        assert_eq!(
            state.code_by_hash(info.code_hash).map(|c| c.original_bytes().to_vec()).ok(),
            Some(vec![0x60, 0x01])
        );
        assert_eq!(state.storage(a, U256::ZERO).ok(), Some(U256::from(1)));
        assert_eq!(state.storage(a, U256::from(1)).ok(), Some(U256::ZERO));
        let both = json!({format!("{a}"): {"state": {}, "stateDiff": {}}});
        assert!(parse_state_overrides(&both).is_err());
    }
}
