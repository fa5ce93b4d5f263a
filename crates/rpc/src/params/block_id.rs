//! Block selectors: tags (`latest`, `earliest`, `pending`, `safe`,
//! `finalized`), numbers, hashes and EIP-1898 objects
//! (`{"blockHash": ..., "requireCanonical": ...}`, `{"blockNumber": ...}`),
//! decoded as geth's `rpc.BlockNumber` / `rpc.BlockNumberOrHash` do.

use super::{At, hash_at, hex, kind, type_error};
use alloy_primitives::B256;
use serde_json::Value;

/// A block by tag or number. A sequencer has no separate pending, safe or
/// finalized block: all three mean the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockTag {
    /// Block 0.
    Earliest,
    /// The head.
    Latest,
    /// The block being built; the head here.
    Pending,
    /// The safe head; the head here.
    Safe,
    /// The finalized head; the head here.
    Finalized,
    /// A number.
    Number(u64),
}

/// A block by tag, number or hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockId {
    /// By tag or number.
    Tag(BlockTag),
    /// By hash.
    Hash {
        /// The block hash.
        hash: B256,
        /// Refuse a block that is not canonical (all stored blocks are).
        require_canonical: bool,
    },
}

fn tag(text: &str) -> Option<BlockTag> {
    Some(match text {
        "earliest" => BlockTag::Earliest,
        "latest" => BlockTag::Latest,
        "pending" => BlockTag::Pending,
        "safe" => BlockTag::Safe,
        "finalized" => BlockTag::Finalized,
        _ => return None,
    })
}

fn number(text: &str, too_high: &str) -> Result<BlockTag, String> {
    let n = hex::decode_u64(text).map_err(|e| e.to_string())?;
    if n > i64::MAX as u64 {
        return Err(too_high.to_owned());
    }
    Ok(BlockTag::Number(n))
}

impl BlockTag {
    /// `rpc.BlockNumber`: a tag or a hex number (a bare JSON number is read
    /// as its digits, which lack the `0x` prefix).
    pub(crate) fn parse(value: &Value) -> Result<Self, String> {
        let text = match value {
            Value::String(s) => s.trim().to_owned(),
            other => other.to_string(),
        };
        match tag(&text) {
            Some(t) => Ok(t),
            None => number(&text, "block number larger than int64"),
        }
    }
}

impl BlockId {
    /// `rpc.BlockNumberOrHash`.
    pub(crate) fn parse(value: &Value) -> Result<Self, String> {
        match value {
            Value::Object(fields) => {
                let number = match fields.get("blockNumber").filter(|v| !v.is_null()) {
                    Some(v) => Some(BlockTag::parse(v)?),
                    None => None,
                };
                let hash = match fields.get("blockHash").filter(|v| !v.is_null()) {
                    Some(v) => Some(hash_at(v, At::Value)?),
                    None => None,
                };
                let require_canonical = match fields.get("requireCanonical") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(other) => {
                        return Err(type_error(
                            kind(other),
                            "bool",
                            At::Field("BlockNumberOrHash", "requireCanonical"),
                        ));
                    }
                };
                match (number, hash) {
                    (Some(_), Some(_)) => {
                        Err("cannot specify both BlockHash and BlockNumber, choose one or the other".into())
                    }
                    (Some(n), None) => Ok(Self::Tag(n)),
                    (None, Some(hash)) => Ok(Self::Hash { hash, require_canonical }),
                    (None, None) => Err("block number or hash required".into()),
                }
            }
            Value::String(text) => {
                if let Some(t) = tag(text) {
                    return Ok(Self::Tag(t));
                }
                if text.len() == 66 {
                    return hash_at(value, At::Value)
                        .map(|hash| Self::Hash { hash, require_canonical: false });
                }
                number(text, "blocknumber too high").map(Self::Tag)
            }
            other => Err(type_error(kind(other), "string", At::Value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tags_numbers_hashes_objects() {
        assert_eq!(BlockId::parse(&json!("latest")), Ok(BlockId::Tag(BlockTag::Latest)));
        assert_eq!(BlockId::parse(&json!("0x2a")), Ok(BlockId::Tag(BlockTag::Number(42))));
        assert_eq!(BlockId::parse(&json!("2")), Err("hex string without 0x prefix".into()));
        let h = format!("0x{}", "11".repeat(32));
        assert_eq!(
            BlockId::parse(&json!(h)),
            Ok(BlockId::Hash { hash: B256::repeat_byte(0x11), require_canonical: false })
        );
        assert_eq!(
            BlockId::parse(&json!({"blockHash": h, "requireCanonical": true})),
            Ok(BlockId::Hash { hash: B256::repeat_byte(0x11), require_canonical: true })
        );
        assert_eq!(BlockId::parse(&json!({"blockNumber": "0x1"})), Ok(BlockId::Tag(BlockTag::Number(1))));
        assert!(BlockId::parse(&json!({"blockNumber": "0x1", "blockHash": h})).is_err());
        assert_eq!(BlockTag::parse(&json!(2)), Err("hex string without 0x prefix".into()));
        assert_eq!(BlockTag::parse(&json!("safe")), Ok(BlockTag::Safe));
    }
}
