//! The call object of `eth_call`, `eth_estimateGas` and
//! `eth_createAccessList` (geth's `TransactionArgs`), and how it becomes a
//! revm transaction: geth's `CallDefaults` and `ToMessage` — no gas means the
//! gas cap, no fees means a zero price (and a zero base fee for the call),
//! `gasPrice` cannot be mixed with the EIP-1559 fields.

use crate::params::{At, address_at, bytes_at, hash_at, kind, type_error, u64_at, u256_at};
use alloy_eips::{
    eip2930::{AccessList, AccessListItem},
    eip7702::{Authorization, SignedAuthorization},
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use revm::context::{TxEnv, either::Either};
use serde_json::{Map, Value};

/// A decoded call object. Absent fields are `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CallRequest {
    pub from: Option<Address>,
    pub to: Option<Address>,
    pub gas: Option<u64>,
    pub gas_price: Option<U256>,
    pub max_fee_per_gas: Option<U256>,
    pub max_priority_fee_per_gas: Option<U256>,
    pub value: Option<U256>,
    pub nonce: Option<u64>,
    pub input: Option<Bytes>,
    pub access_list: Option<AccessList>,
    pub chain_id: Option<U256>,
    pub blob_versioned_hashes: Option<Vec<B256>>,
    pub max_fee_per_blob_gas: Option<U256>,
    pub authorization_list: Option<Vec<SignedAuthorization>>,
}

const ARGS: &str = "TransactionArgs";

fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|v| !v.is_null())
}

fn opt<T>(
    object: &Map<String, Value>,
    name: &'static str,
    decode: impl Fn(&Value, At<'_>) -> Result<T, String>,
) -> Result<Option<T>, String> {
    field(object, name).map(|v| decode(v, At::Field(ARGS, name))).transpose()
}

fn access_list(value: &Value, at: At<'_>) -> Result<AccessList, String> {
    let Value::Array(items) = value else { return Err(type_error(kind(value), "types.AccessList", at)) };
    items
        .iter()
        .map(|item| {
            let Value::Object(entry) = item else {
                return Err(type_error(kind(item), "types.AccessTuple", at));
            };
            let address = entry.get("address").ok_or("missing required field 'address' for AccessTuple")?;
            let keys = match entry.get("storageKeys") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(keys)) => keys.iter().map(|k| hash_at(k, at)).collect::<Result<_, _>>()?,
                Some(other) => return Err(type_error(kind(other), "[]common.Hash", at)),
            };
            Ok(AccessListItem { address: address_at(address, at)?, storage_keys: keys })
        })
        .collect::<Result<Vec<_>, String>>()
        .map(AccessList)
}

fn authorizations(value: &Value, at: At<'_>) -> Result<Vec<SignedAuthorization>, String> {
    let Value::Array(items) = value else {
        return Err(type_error(kind(value), "[]types.SetCodeAuthorization", at));
    };
    items
        .iter()
        .map(|item| {
            let Value::Object(entry) = item else {
                return Err(type_error(kind(item), "types.SetCodeAuthorization", at));
            };
            let get = |name: &str| {
                entry
                    .get(name)
                    .ok_or_else(|| format!("missing required field '{name}' for SetCodeAuthorization"))
            };
            let auth = Authorization {
                chain_id: u256_at(get("chainId")?, at)?,
                address: address_at(get("address")?, at)?,
                nonce: u64_at(get("nonce")?, at)?,
            };
            let y_parity = u64_at(get("yParity")?, at)?;
            let y_parity = u8::try_from(y_parity).map_err(|_| "yParity out of range".to_owned())?;
            Ok(SignedAuthorization::new_unchecked(
                auth,
                y_parity,
                u256_at(get("r")?, at)?,
                u256_at(get("s")?, at)?,
            ))
        })
        .collect()
}

impl CallRequest {
    /// Decodes a call object; errors read like geth's JSON errors.
    pub(crate) fn parse(value: &Value) -> Result<Self, String> {
        let Value::Object(object) = value else {
            return Err(type_error(kind(value), "ethapi.TransactionArgs", At::Value));
        };
        let data = opt(object, "data", bytes_at)?;
        let input = opt(object, "input", bytes_at)?;
        if let (Some(data), Some(input)) = (&data, &input)
            && data != input
        {
            return Err(
                "both \"data\" and \"input\" are set and not equal. Please use \"input\" to pass transaction call data"
                    .into(),
            );
        }
        Ok(Self {
            from: opt(object, "from", address_at)?,
            to: opt(object, "to", address_at)?,
            gas: opt(object, "gas", u64_at)?,
            gas_price: opt(object, "gasPrice", u256_at)?,
            max_fee_per_gas: opt(object, "maxFeePerGas", u256_at)?,
            max_priority_fee_per_gas: opt(object, "maxPriorityFeePerGas", u256_at)?,
            value: opt(object, "value", u256_at)?,
            nonce: opt(object, "nonce", u64_at)?,
            input: input.or(data),
            access_list: opt(object, "accessList", access_list)?,
            chain_id: opt(object, "chainId", u256_at)?,
            blob_versioned_hashes: opt(object, "blobVersionedHashes", |v, at| match v {
                Value::Array(items) => items.iter().map(|h| hash_at(h, at)).collect(),
                other => Err(type_error(kind(other), "[]common.Hash", at)),
            })?,
            max_fee_per_blob_gas: opt(object, "maxFeePerBlobGas", u256_at)?,
            authorization_list: opt(object, "authorizationList", authorizations)?,
        })
    }

    /// The sender (the zero address when absent).
    pub(crate) fn sender(&self) -> Address {
        self.from.unwrap_or_default()
    }

    /// geth's `CallDefaults` checks.
    pub(crate) fn check(&self, chain_id: u64) -> Result<(), String> {
        if self.gas_price.is_some()
            && (self.max_fee_per_gas.is_some() || self.max_priority_fee_per_gas.is_some())
        {
            return Err("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified".into());
        }
        if let Some(have) = self.chain_id
            && have != U256::from(chain_id)
        {
            return Err(format!("chainId does not match node's (have={have}, want={chain_id})"));
        }
        Ok(())
    }

    /// The price per gas the sender offers (`gasPrice`, else the fee cap).
    pub(crate) fn fee_cap(&self) -> U256 {
        self.gas_price.or(self.max_fee_per_gas).unwrap_or_default()
    }

    /// The gas price the call effectively pays at `base_fee` (geth's
    /// `ToMessage` backfill): zero when no fee was given.
    pub(crate) fn effective_gas_price(&self, base_fee: Option<u64>) -> U256 {
        if let Some(price) = self.gas_price {
            return price;
        }
        let Some(base_fee) = base_fee else { return U256::ZERO };
        let cap = self.max_fee_per_gas.unwrap_or_default();
        let tip = self.max_priority_fee_per_gas.unwrap_or_default();
        if cap.is_zero() && tip.is_zero() {
            return U256::ZERO;
        }
        (tip + U256::from(base_fee)).min(cap)
    }

    /// revm's transaction for this call with `gas` gas, on a chain with
    /// `base_fee` (`None` before London).
    pub(crate) fn tx_env(&self, gas: u64, base_fee: Option<u64>, chain_id: u64) -> TxEnv {
        let clamp = |v: U256| u128::try_from(v).unwrap_or(u128::MAX);
        let auths = self.authorization_list.clone().unwrap_or_default();
        let blobs = self.blob_versioned_hashes.clone().unwrap_or_default();
        let dynamic = self.gas_price.is_none() && base_fee.is_some();
        let (gas_price, priority) = match self.gas_price {
            Some(price) => (clamp(price), None),
            None if dynamic => (
                clamp(self.max_fee_per_gas.unwrap_or_default()),
                Some(clamp(self.max_priority_fee_per_gas.unwrap_or_default())),
            ),
            None => (0, None),
        };
        let tx_type = if self.authorization_list.is_some() {
            4
        } else if self.blob_versioned_hashes.is_some() {
            3
        } else if dynamic {
            2
        } else if self.access_list.is_some() {
            1
        } else {
            0
        };
        // Types 3 and 4 carry EIP-1559 fees: a legacy price is both cap and tip.
        let priority = if tx_type >= 2 { priority.or(Some(gas_price)) } else { priority };
        TxEnv {
            tx_type,
            caller: self.sender(),
            gas_limit: gas,
            gas_price,
            kind: self.to.map_or(TxKind::Create, TxKind::Call),
            value: self.value.unwrap_or_default(),
            data: self.input.clone().unwrap_or_default(),
            nonce: self.nonce.unwrap_or_default(),
            chain_id: Some(chain_id),
            access_list: self.access_list.clone().unwrap_or_default(),
            gas_priority_fee: priority,
            blob_hashes: blobs,
            max_fee_per_blob_gas: clamp(self.max_fee_per_blob_gas.unwrap_or_default()),
            authorization_list: auths.into_iter().map(Either::Left).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_geth_call_objects() {
        let req = CallRequest::parse(&json!({
            "from": "0x0000000000000000000000000000000000000001",
            "to": "0x0000000000000000000000000000000000000002",
            "gas": "0x5208", "maxFeePerGas": "0x10", "maxPriorityFeePerGas": "0x2",
            "data": "0x01", "accessList": [{"address": "0x0000000000000000000000000000000000000003", "storageKeys": []}],
        }))
        .unwrap_or_default();
        assert_eq!(req.gas, Some(21000));
        assert_eq!(req.input, Some(Bytes::from(vec![1])));
        assert_eq!(req.effective_gas_price(Some(10)), U256::from(12));
        assert_eq!(req.effective_gas_price(Some(15)), U256::from(16));
        let env = req.tx_env(21000, Some(10), 1);
        assert_eq!((env.tx_type, env.gas_price, env.gas_priority_fee), (2, 16, Some(2)));
        assert!(CallRequest::parse(&json!({"data": "0x01", "input": "0x02"})).is_err());
        let err = CallRequest::parse(&json!({"from": "0x01"})).unwrap_err();
        assert_eq!(err, "hex string has length 2, want 40 for common.Address");
        let both = CallRequest {
            gas_price: Some(U256::from(1)),
            max_fee_per_gas: Some(U256::from(1)),
            ..Default::default()
        };
        assert!(both.check(1).is_err());
    }
}
