//! Hex decoding with geth's `hexutil` rules and messages: quantities must
//! start with `0x`, have no leading zeros and fit their width; data must have
//! an even number of digits. The messages are the ones geth answers with, so
//! clients that match on them behave alike.

use alloy_primitives::U256;
use std::fmt;

/// A `hexutil` decoding failure (its `Display` is geth's text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HexError {
    Empty,
    Syntax,
    MissingPrefix,
    OddLength,
    EmptyNumber,
    LeadingZero,
    Uint64Range,
    Big256Range,
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "empty hex string",
            Self::Syntax => "invalid hex string",
            Self::MissingPrefix => "hex string without 0x prefix",
            Self::OddLength => "hex string of odd length",
            Self::EmptyNumber => "hex string \"0x\"",
            Self::LeadingZero => "hex number with leading zero digits",
            Self::Uint64Range => "hex number > 64 bits",
            Self::Big256Range => "hex number > 256 bits",
        })
    }
}

fn strip_prefix(input: &str) -> Option<&str> {
    input.strip_prefix("0x").or_else(|| input.strip_prefix("0X"))
}

/// The digits of a hex quantity, checked like `hexutil.checkNumber`.
fn number_digits(input: &str) -> Result<&str, HexError> {
    if input.is_empty() {
        return Err(HexError::Empty);
    }
    let digits = strip_prefix(input).ok_or(HexError::MissingPrefix)?;
    if digits.is_empty() {
        return Err(HexError::EmptyNumber);
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(HexError::LeadingZero);
    }
    Ok(digits)
}

/// `hexutil.DecodeUint64`.
pub(crate) fn decode_u64(input: &str) -> Result<u64, HexError> {
    let digits = number_digits(input)?;
    if digits.len() > 16 {
        return Err(HexError::Uint64Range);
    }
    u64::from_str_radix(digits, 16).map_err(|_| HexError::Syntax)
}

/// `hexutil.DecodeBig` (at most 256 bits).
pub(crate) fn decode_u256(input: &str) -> Result<U256, HexError> {
    let digits = number_digits(input)?;
    if digits.len() > 64 {
        return Err(HexError::Big256Range);
    }
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(HexError::Syntax);
    }
    U256::from_str_radix(digits, 16).map_err(|_| HexError::Syntax)
}

/// `hexutil.Decode` for data: `0x` then an even number of digits.
pub(crate) fn decode_bytes(input: &str) -> Result<Vec<u8>, HexError> {
    if input.is_empty() {
        return Err(HexError::Empty);
    }
    let digits = strip_prefix(input).ok_or(HexError::MissingPrefix)?;
    decode_digits(digits)
}

/// Decodes an even number of hex digits.
pub(crate) fn decode_digits(digits: &str) -> Result<Vec<u8>, HexError> {
    if !digits.len().is_multiple_of(2) {
        return Err(HexError::OddLength);
    }
    alloy_primitives::hex::decode(digits).map_err(|_| HexError::Syntax)
}

/// Why a fixed-size value (hash, address) did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FixedError {
    /// A `hexutil` syntax error (geth wraps these in a type error).
    Hex(HexError),
    /// Wrong number of digits (geth returns this one unwrapped).
    Length { got: usize, want: usize, type_name: &'static str },
}

/// `hexutil.UnmarshalFixedText`: `0x` and exactly `N` bytes.
pub(crate) fn decode_fixed<const N: usize>(
    input: &str,
    type_name: &'static str,
) -> Result<[u8; N], FixedError> {
    let digits = if input.is_empty() {
        ""
    } else {
        strip_prefix(input).ok_or(FixedError::Hex(HexError::MissingPrefix))?
    };
    if !digits.len().is_multiple_of(2) {
        return Err(FixedError::Hex(HexError::OddLength));
    }
    if digits.len() / 2 != N {
        return Err(FixedError::Length { got: digits.len(), want: N * 2, type_name });
    }
    let mut out = [0u8; N];
    alloy_primitives::hex::decode_to_slice(digits, &mut out)
        .map_err(|_| FixedError::Hex(HexError::Syntax))?;
    Ok(out)
}

/// A storage key as `eth_getStorageAt` and `eth_getProof` take it: up to 32
/// bytes of hex, `0x` optional, left-padded. Returns the key and the number
/// of bytes given.
pub(crate) fn decode_storage_key(input: &str) -> Result<([u8; 32], usize), String> {
    let digits = strip_prefix(input).unwrap_or(input);
    let padded;
    let digits = if digits.len() % 2 == 1 {
        padded = format!("0{digits}");
        padded.as_str()
    } else {
        digits
    };
    if digits.len() > 64 {
        return Err(format!("storage key too long (want at most 32 bytes): {input:?}"));
    }
    let bytes = alloy_primitives::hex::decode(digits)
        .map_err(|_| format!("invalid hex in storage key: {input:?}"))?;
    let mut key = [0u8; 32];
    key[32 - bytes.len()..].copy_from_slice(&bytes);
    Ok((key, bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_follow_hexutil() {
        assert_eq!(decode_u64("0x0"), Ok(0));
        assert_eq!(decode_u64("0x1f"), Ok(31));
        assert_eq!(decode_u64("2"), Err(HexError::MissingPrefix));
        assert_eq!(decode_u64(""), Err(HexError::Empty));
        assert_eq!(decode_u64("0x"), Err(HexError::EmptyNumber));
        assert_eq!(decode_u64("0x01"), Err(HexError::LeadingZero));
        assert_eq!(decode_u64("0x10000000000000000"), Err(HexError::Uint64Range));
        assert_eq!(decode_u64("0xzz"), Err(HexError::Syntax));
        assert_eq!(decode_u256("0xff"), Ok(U256::from(255)));
        assert_eq!(decode_u256(&format!("0x1{}", "0".repeat(64))), Err(HexError::Big256Range));
        assert_eq!(HexError::MissingPrefix.to_string(), "hex string without 0x prefix");
    }

    #[test]
    fn data_and_fixed_values() {
        assert_eq!(decode_bytes("0x"), Ok(vec![]));
        assert_eq!(decode_bytes("0x0102"), Ok(vec![1, 2]));
        assert_eq!(decode_bytes("0x012"), Err(HexError::OddLength));
        assert_eq!(decode_bytes("0102"), Err(HexError::MissingPrefix));
        assert_eq!(decode_fixed::<2>("0x0102", "t"), Ok([1, 2]));
        assert_eq!(
            decode_fixed::<2>("0x01", "t"),
            Err(FixedError::Length { got: 2, want: 4, type_name: "t" })
        );
        assert_eq!(decode_fixed::<2>("0102", "t"), Err(FixedError::Hex(HexError::MissingPrefix)));
    }

    #[test]
    fn storage_keys() {
        let (key, len) = decode_storage_key("0x00").unwrap_or_default();
        assert_eq!((key, len), ([0; 32], 1));
        let (key, _) = decode_storage_key("0x1").unwrap_or_default();
        assert_eq!(key[31], 1);
        let long = format!("0x{}", "0".repeat(65));
        assert_eq!(
            decode_storage_key(&long),
            Err(format!("storage key too long (want at most 32 bytes): \"{long}\""))
        );
        assert_eq!(decode_storage_key("0xasdf"), Err("invalid hex in storage key: \"0xasdf\"".to_owned()));
    }
}
