//! Strict decoding of raw transaction bytes into an alloy envelope.

use alloy_consensus::{Signed, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::{Decodable2718, Eip2718Error, Encodable2718};
use alloy_rlp::Header;

use super::{TxError, TxResult};

/// Decodes one transaction from its EIP-2718 encoding: `type || rlp(fields)`
/// for typed transactions (types 1 to 4; a blob transaction may carry its
/// sidecar, the network form), an RLP list for legacy ones.
///
/// The input must be exactly one transaction in canonical form: trailing
/// bytes, non-minimal integers or lengths, wrapped single bytes and the like
/// are rejected. Nothing is checked against fork rules here; see
/// [`validate_transaction`](super::validate_transaction).
pub fn decode_transaction(raw: &[u8]) -> TxResult<TxEnvelope> {
    let Some(&first) = raw.first() else {
        return Err(TxError::Empty);
    };
    match first {
        0x00 | 0x05..=0x7f => return Err(TxError::UnknownType(first)),
        // An RLP string is neither a typed envelope nor a legacy list.
        0x80..=0xbf => return Err(TxError::Rlp(alloy_rlp::Error::UnexpectedString)),
        _ => {}
    }
    let mut buf = raw;
    // Decode legacy transactions directly: the envelope's untyped fallback
    // drops the underlying error.
    let decoded = if first >= 0xc0 {
        Signed::<TxLegacy>::fallback_decode(&mut buf).map(TxEnvelope::Legacy)
    } else {
        TxEnvelope::decode_2718(&mut buf)
    };
    let tx = decoded.map_err(|err| explain(raw, err))?;
    if !buf.is_empty() {
        return Err(TxError::TrailingBytes(buf.len()));
    }
    if tx.encoded_2718() != raw {
        return Err(TxError::NonCanonical);
    }
    Ok(tx)
}

/// What a field of a transaction's RLP list holds, for error reports.
#[derive(Clone, Copy)]
enum Field {
    /// An unsigned integer of at most this many bits.
    Uint(&'static str, u32),
    /// The recipient; empty means contract creation.
    To,
    /// Anything else.
    Other,
}

use Field::{Other, To, Uint};

const LEGACY: &[Field] = &[
    Uint("nonce", 64),
    Uint("gasPrice", 128),
    Uint("gas", 64),
    To,
    Uint("value", 256),
    Other,
    Uint("v", 128),
    Uint("r", 256),
    Uint("s", 256),
];
const EIP2930: &[Field] =
    &[Uint("chainId", 64), Uint("nonce", 64), Uint("gasPrice", 128), Uint("gas", 64), To, Uint("value", 256)];
/// Types 2, 3 and 4 start alike; only the leading fields matter here.
const EIP1559: &[Field] = &[
    Uint("chainId", 64),
    Uint("nonce", 64),
    Uint("maxPriorityFeePerGas", 128),
    Uint("maxFeePerGas", 128),
    Uint("gas", 64),
    To,
    Uint("value", 256),
    Other,
    Other,
    Uint("maxFeePerBlobGas", 128),
];

/// Turns an alloy decoding error into a [`TxError`], naming the offending
/// field when a walk over the RLP list finds one: an integer too wide for its
/// type, or a missing recipient where creation is not allowed.
fn explain(raw: &[u8], err: Eip2718Error) -> TxError {
    let rlp_error = match err {
        Eip2718Error::UnexpectedType(ty) => return TxError::UnknownType(ty),
        Eip2718Error::RlpError(rlp_error) => rlp_error,
        // `Eip2718Error` is non-exhaustive.
        _ => alloy_rlp::Error::Custom("unknown EIP-2718 error"),
    };
    let (ty, payload, layout) = match raw {
        [ty @ 0x01, rest @ ..] => (*ty, rest, EIP2930),
        [ty @ 0x02..=0x04, rest @ ..] => (*ty, rest, EIP1559),
        _ => (0, raw, LEGACY),
    };
    scan_fields(ty, payload, layout).unwrap_or(TxError::Rlp(rlp_error))
}

/// Walks the list in `payload` along `layout`; `None` when nothing specific
/// is found or the structure is too broken to walk.
fn scan_fields(ty: u8, payload: &[u8], layout: &[Field]) -> Option<TxError> {
    let mut buf = payload;
    let list = Header::decode(&mut buf).ok()?;
    if !list.list {
        return None;
    }
    let mut items = buf.get(..list.payload_length)?;
    for field in layout {
        let header = Header::decode(&mut items).ok()?;
        let item = items.get(..header.payload_length)?;
        match *field {
            Uint(name, bits) if !header.list && item.len() * 8 > bits as usize => {
                return Some(TxError::FieldTooLarge { field: name, bits });
            }
            To if ty >= 3 && !header.list && item.is_empty() => {
                return Some(TxError::CreateNotAllowed(ty));
            }
            _ => {}
        }
        items = &items[header.payload_length..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;

    #[test]
    fn rejects_empty_and_unknown_types() {
        assert_eq!(decode_transaction(&[]), Err(TxError::Empty));
        assert_eq!(decode_transaction(&[0x05, 0xc0]), Err(TxError::UnknownType(5)));
        assert_eq!(decode_transaction(&[0x00, 0xc0]), Err(TxError::UnknownType(0)));
        assert!(matches!(decode_transaction(&[0x80]), Err(TxError::Rlp(_))));
    }

    #[test]
    fn names_oversized_fields() {
        // Legacy transaction whose gas price takes 31 bytes.
        let raw = hex::decode(concat!(
            "f87e809f031eea408f8e1799cb883da2927b1336521d73c2c14accfebb70d5c5ae4669",
            "82520894095e7baea6a6c7c4c2dfeb977efac326af552d8780801ba048b55bfa915a",
            "c795c431978d8a6a992b628d557da5ff759b307d495a36649353a01fffd310ac743f",
            "371de3b9f7f9cb56c0b28ad43601b4ab949f53faa07bd2c804",
        ))
        .expect("hex");
        assert_eq!(decode_transaction(&raw), Err(TxError::FieldTooLarge { field: "gasPrice", bits: 128 }));
    }
}
