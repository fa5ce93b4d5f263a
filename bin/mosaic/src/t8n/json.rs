//! Reading and writing geth's JSON conventions: quantities in `0x` hex or
//! decimal, hex data, fixed-size hashes and addresses.
//!
//! Readers return `String` errors that name the field; the caller adds the
//! file (or transaction index) in front.

use alloy_primitives::{Address, B256, Bytes, U256, hex};
use serde_json::{Map, Value};

/// A JSON object with a name for error messages (`env`, `tx 3`, ...).
pub(super) struct Fields<'a> {
    obj: &'a Map<String, Value>,
    what: &'a str,
}

impl<'a> Fields<'a> {
    /// Views `value` as an object.
    pub(super) fn new(value: &'a Value, what: &'a str) -> Result<Self, String> {
        match value {
            Value::Object(obj) => Ok(Self { obj, what }),
            other => Err(format!("{what}: expected a JSON object, got {}", kind(other))),
        }
    }

    /// The value under `key`; `null` counts as absent.
    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    /// The first present key of `keys`.
    pub(super) fn get_any(&self, keys: &[&str]) -> Option<&'a Value> {
        keys.iter().find_map(|k| self.get(k))
    }

    fn field<T>(&self, key: &str, parse: impl Fn(&Value) -> Result<T, String>) -> Result<Option<T>, String> {
        self.get(key).map(|v| parse(v).map_err(|e| format!("{}: `{key}`: {e}", self.what))).transpose()
    }

    fn required<T>(&self, key: &str, value: Option<T>) -> Result<T, String> {
        value.ok_or_else(|| format!("{}: missing required field `{key}`", self.what))
    }

    pub(super) fn u64(&self, key: &str) -> Result<Option<u64>, String> {
        self.field(key, to_u64)
    }

    pub(super) fn req_u64(&self, key: &str) -> Result<u64, String> {
        let v = self.u64(key)?;
        self.required(key, v)
    }

    pub(super) fn u128(&self, key: &str) -> Result<Option<u128>, String> {
        self.field(key, |v| {
            let n = to_u256(v)?;
            u128::try_from(n).map_err(|_| format!("{n} does not fit in 128 bits"))
        })
    }

    pub(super) fn u256(&self, key: &str) -> Result<Option<U256>, String> {
        self.field(key, to_u256)
    }

    pub(super) fn b256(&self, key: &str) -> Result<Option<B256>, String> {
        self.field(key, to_b256)
    }

    pub(super) fn address(&self, key: &str) -> Result<Option<Address>, String> {
        self.field(key, to_address)
    }

    pub(super) fn req_address(&self, key: &str) -> Result<Address, String> {
        let v = self.address(key)?;
        self.required(key, v)
    }

    pub(super) fn bytes(&self, key: &str) -> Result<Option<Bytes>, String> {
        self.field(key, to_bytes)
    }

    pub(super) fn bool(&self, key: &str) -> Result<Option<bool>, String> {
        self.field(key, |v| v.as_bool().ok_or_else(|| format!("expected true or false, got {}", kind(v))))
    }

    /// An array under `key`, each element parsed with `parse`.
    pub(super) fn list<T>(
        &self,
        key: &str,
        parse: impl Fn(&Value) -> Result<T, String>,
    ) -> Result<Option<Vec<T>>, String> {
        self.field(key, |v| {
            let items = v.as_array().ok_or_else(|| format!("expected an array, got {}", kind(v)))?;
            items.iter().enumerate().map(|(i, item)| parse(item).map_err(|e| format!("[{i}]: {e}"))).collect()
        })
    }
}

/// A short description of a JSON value's kind, for errors.
pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn as_str(v: &Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| format!("expected a string, got {}", kind(v)))
}

/// A quantity: `0x` hex, decimal string, or a non-negative JSON integer.
pub(super) fn to_u256(v: &Value) -> Result<U256, String> {
    if let Value::Number(n) = v {
        return n.as_u64().map(U256::from).ok_or_else(|| format!("{n} is not a non-negative integer"));
    }
    let s = as_str(v)?.trim();
    parse_u256(s).ok_or_else(|| format!("invalid quantity {s:?}"))
}

/// Parses `0x` hex (an empty `0x` is zero) or decimal.
pub(super) fn parse_u256(s: &str) -> Option<U256> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some("") => Some(U256::ZERO),
        Some(h) if h.len() <= 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            U256::from_str_radix(h, 16).ok()
        }
        Some(_) => None,
        None if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => U256::from_str_radix(s, 10).ok(),
        None => None,
    }
}

pub(super) fn to_u64(v: &Value) -> Result<u64, String> {
    let n = to_u256(v)?;
    u64::try_from(n).map_err(|_| format!("{n} does not fit in 64 bits"))
}

fn hex_body(s: &str) -> &str {
    s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s)
}

/// Hex data, with or without `0x`.
pub(super) fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    hex::decode(hex_body(s.trim())).map_err(|e| format!("invalid hex data: {e}"))
}

pub(super) fn to_bytes(v: &Value) -> Result<Bytes, String> {
    parse_hex(as_str(v)?).map(Bytes::from)
}

fn fixed<const N: usize>(v: &Value) -> Result<[u8; N], String> {
    let raw = parse_hex(as_str(v)?)?;
    <[u8; N]>::try_from(raw.as_slice()).map_err(|_| format!("expected {N} bytes of hex, got {}", raw.len()))
}

pub(super) fn to_b256(v: &Value) -> Result<B256, String> {
    fixed::<32>(v).map(B256::from)
}

pub(super) fn to_address(v: &Value) -> Result<Address, String> {
    fixed::<20>(v).map(Address::from)
}

/// Parses an address used as an object key.
pub(super) fn parse_address(s: &str) -> Result<Address, String> {
    to_address(&Value::String(s.to_string())).map_err(|e| format!("bad address {s:?}: {e}"))
}

/// A quantity as geth prints it: `0x` hex without leading zeros.
pub(super) fn quantity(n: impl std::fmt::LowerHex) -> Value {
    Value::String(format!("{n:#x}"))
}

/// Hex data with `0x`.
pub(super) fn data(bytes: &[u8]) -> Value {
    Value::String(hex::encode_prefixed(bytes))
}

/// A 32-byte word as geth prints storage keys and values.
pub(super) fn word(n: U256) -> String {
    B256::from(n).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_u256("0x"), Some(U256::ZERO));
        assert_eq!(parse_u256("0x00ff"), Some(U256::from(255)));
        assert_eq!(parse_u256("255"), Some(U256::from(255)));
        assert_eq!(parse_u256("0xzz"), None);
        assert_eq!(parse_u256("-1"), None);
        assert_eq!(parse_u256(""), None);
        assert_eq!(quantity(U256::ZERO), Value::String("0x0".into()));
        assert_eq!(quantity(U256::from(0x5208)), Value::String("0x5208".into()));
        assert_eq!(to_u64(&serde_json::json!(12)), Ok(12));
        assert!(to_u64(&serde_json::json!("0x10000000000000000")).is_err());
    }
}
