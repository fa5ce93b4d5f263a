//! Method parameters: positional arguments ([`Args`]) and the decoders of
//! each argument type, with geth's error texts (`invalid argument 0: hex
//! string without 0x prefix`, `missing value for required argument 1`, ...).
//! Every method parses its own arguments from raw JSON so that a malformed
//! value is answered with `-32602` and the same words as geth.

pub(crate) mod block_id;
pub(crate) mod hex;

use crate::error::{ApiError, ApiResult};
use alloy_primitives::{Address, B256, Bytes, U256};
use hex::{FixedError, HexError};
use jsonrpsee::types::Params;
use serde_json::Value;

pub(crate) use block_id::{BlockId, BlockTag};

/// Where a value sits, for Go-style type errors.
#[derive(Debug, Clone, Copy)]
pub(crate) enum At<'a> {
    /// A whole argument.
    Value,
    /// A field of an object argument (`TransactionArgs.from`).
    Field(&'a str, &'a str),
}

/// `json: cannot unmarshal WHAT into Go value of type TY`.
pub(crate) fn type_error(what: &str, ty: &str, at: At<'_>) -> String {
    match at {
        At::Value => format!("json: cannot unmarshal {what} into Go value of type {ty}"),
        At::Field(s, f) => format!("json: cannot unmarshal {what} into Go struct field {s}.{f} of type {ty}"),
    }
}

/// The JSON kind name Go reports in type errors.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn string<'v>(value: &'v Value, ty: &str, at: At<'_>) -> Result<&'v str, String> {
    value.as_str().ok_or_else(|| type_error("non-string", ty, at))
}

fn hex_error(error: HexError, ty: &str, at: At<'_>) -> String {
    type_error(&error.to_string(), ty, at)
}

fn fixed<const N: usize>(value: &Value, ty: &'static str, at: At<'_>) -> Result<[u8; N], String> {
    hex::decode_fixed::<N>(string(value, ty, at)?, ty).map_err(|e| match e {
        FixedError::Hex(e) => hex_error(e, ty, at),
        FixedError::Length { got, want, type_name } => {
            format!("hex string has length {got}, want {want} for {type_name}")
        }
    })
}

/// A `common.Address`.
pub(crate) fn address_at(value: &Value, at: At<'_>) -> Result<Address, String> {
    fixed::<20>(value, "common.Address", at).map(Address::from)
}

/// A `common.Address` argument.
pub(crate) fn address(value: &Value) -> Result<Address, String> {
    address_at(value, At::Value)
}

/// A `common.Hash`.
pub(crate) fn hash_at(value: &Value, at: At<'_>) -> Result<B256, String> {
    fixed::<32>(value, "common.Hash", at).map(B256::from)
}

/// A `common.Hash` argument.
pub(crate) fn hash(value: &Value) -> Result<B256, String> {
    hash_at(value, At::Value)
}

/// A `hexutil.Uint64`.
pub(crate) fn u64_at(value: &Value, at: At<'_>) -> Result<u64, String> {
    const TY: &str = "hexutil.Uint64";
    hex::decode_u64(string(value, TY, at)?).map_err(|e| hex_error(e, TY, at))
}

/// A `hexutil.Uint` argument (an index).
pub(crate) fn index(value: &Value) -> Result<u64, String> {
    const TY: &str = "hexutil.Uint";
    hex::decode_u64(string(value, TY, At::Value)?).map_err(|e| hex_error(e, TY, At::Value))
}

/// A `*hexutil.Big`.
pub(crate) fn u256_at(value: &Value, at: At<'_>) -> Result<U256, String> {
    const TY: &str = "*hexutil.Big";
    hex::decode_u256(string(value, TY, at)?).map_err(|e| hex_error(e, TY, at))
}

/// A `hexutil.Bytes`.
pub(crate) fn bytes_at(value: &Value, at: At<'_>) -> Result<Bytes, String> {
    const TY: &str = "hexutil.Bytes";
    hex::decode_bytes(string(value, TY, at)?).map(Bytes::from).map_err(|e| hex_error(e, TY, at))
}

/// A `hexutil.Bytes` argument.
pub(crate) fn bytes(value: &Value) -> Result<Bytes, String> {
    bytes_at(value, At::Value)
}

/// A JSON boolean.
pub(crate) fn boolean(value: &Value) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| type_error(kind(value), "bool", At::Value))
}

/// A storage slot key: the key and whether it was given as 32 bytes.
pub(crate) fn storage_key(value: &Value) -> Result<(B256, usize), String> {
    let text = value.as_str().ok_or_else(|| type_error(kind(value), "string", At::Value))?;
    hex::decode_storage_key(text).map(|(key, len)| (B256::from(key), len))
}

/// Positional arguments of one call.
#[derive(Debug)]
pub(crate) struct Args(Vec<Value>);

impl Args {
    /// Parses `params`; a method taking at most `max` arguments refuses more.
    pub(crate) fn new(params: &Params<'_>, max: usize) -> ApiResult<Self> {
        let values = match params.as_str() {
            None => Vec::new(),
            Some(raw) => match serde_json::from_str::<Value>(raw) {
                Ok(Value::Array(values)) => values,
                Ok(Value::Null) => Vec::new(),
                Ok(_) => return Err(ApiError::invalid_params("non-array args")),
                Err(e) => return Err(ApiError::invalid_params(format!("invalid params: {e}"))),
            },
        };
        Self::from_values(values, max)
    }

    /// Arguments from already parsed values.
    pub(crate) fn from_values(values: Vec<Value>, max: usize) -> ApiResult<Self> {
        if values.len() > max {
            return Err(ApiError::invalid_params(format!("too many arguments, want at most {max}")));
        }
        Ok(Self(values))
    }

    /// Argument `i`, `None` when absent or `null`.
    pub(crate) fn get(&self, i: usize) -> Option<&Value> {
        self.0.get(i).filter(|v| !v.is_null())
    }

    /// A required argument decoded with `decode`.
    pub(crate) fn req<T>(&self, i: usize, decode: impl FnOnce(&Value) -> Result<T, String>) -> ApiResult<T> {
        let value = self
            .get(i)
            .ok_or_else(|| ApiError::invalid_params(format!("missing value for required argument {i}")))?;
        decode(value).map_err(|e| ApiError::invalid_params(format!("invalid argument {i}: {e}")))
    }

    /// An optional argument decoded with `decode`.
    pub(crate) fn opt<T>(
        &self,
        i: usize,
        decode: impl FnOnce(&Value) -> Result<T, String>,
    ) -> ApiResult<Option<T>> {
        match self.get(i) {
            None => Ok(None),
            Some(value) => decode(value)
                .map(Some)
                .map_err(|e| ApiError::invalid_params(format!("invalid argument {i}: {e}"))),
        }
    }

    /// The block argument at `i`, `latest` when absent.
    pub(crate) fn block_or_latest(&self, i: usize) -> ApiResult<BlockId> {
        Ok(self.opt(i, BlockId::parse)?.unwrap_or(BlockId::Tag(BlockTag::Latest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_style_messages() {
        assert_eq!(
            hash(&json!("1000000000000000000000000000000000000000000000000000000000000001")).unwrap_err(),
            "json: cannot unmarshal hex string without 0x prefix into Go value of type common.Hash"
        );
        assert_eq!(
            address(&json!("0x12")).unwrap_err(),
            "hex string has length 2, want 40 for common.Address"
        );
        assert_eq!(
            address(&json!(5)).unwrap_err(),
            "json: cannot unmarshal non-string into Go value of type common.Address"
        );
        assert_eq!(
            u64_at(&json!("0x01"), At::Value).unwrap_err(),
            "json: cannot unmarshal hex number with leading zero digits into Go value of type hexutil.Uint64"
        );
        assert_eq!(
            boolean(&json!("x")).unwrap_err(),
            "json: cannot unmarshal string into Go value of type bool"
        );
    }

    #[test]
    fn args_counts() {
        let args = Args::from_values(vec![json!("0x1")], 2).unwrap();
        assert_eq!(args.req(0, |v| u64_at(v, At::Value)).unwrap(), 1);
        assert_eq!(
            args.req(1, |v| u64_at(v, At::Value)).unwrap_err().message,
            "missing value for required argument 1"
        );
        assert_eq!(args.opt(1, |v| u64_at(v, At::Value)).unwrap(), None);
        assert_eq!(
            Args::from_values(vec![json!(1), json!(2)], 1).unwrap_err().message,
            "too many arguments, want at most 1"
        );
    }
}
