//! Runs every case of ethereum-tests `RLPTests`: valid inputs must encode to
//! `out` and decode back, invalid encodings must be rejected with a reason.
//! The decoder here is a small strict RLP item decoder written for the test;
//! alloy's `Header` walks the same bytes as a second opinion.

use std::{collections::BTreeMap, fmt, fs, path::PathBuf};

use alloy_primitives::{U512, hex};
use alloy_rlp::{Encodable, Header};
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/ethereum-tests/RLPTests");
    assert!(dir.is_dir(), "fixture directory {} is missing", dir.display());
    dir
}

/// A decoded RLP item.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Bytes(Vec<u8>),
    List(Vec<Item>),
}

/// Why an encoding was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RlpError {
    /// The input ends before the item does.
    InputTooShort,
    /// A single byte below 0x80 wrapped in a string header.
    NonCanonicalSingleByte,
    /// A long-form length starting with a zero byte.
    LeadingZeroInLength,
    /// The long form used for a length below 56.
    NonCanonicalLength,
    /// A length that does not fit in memory.
    LengthOverflow,
    /// Bytes left after the top-level item.
    TrailingBytes(usize),
}

impl fmt::Display for RlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InputTooShort => f.write_str("input too short"),
            Self::NonCanonicalSingleByte => f.write_str("single byte below 0x80 wrapped"),
            Self::LeadingZeroInLength => f.write_str("leading zero in long length"),
            Self::NonCanonicalLength => f.write_str("long form for a length under 56"),
            Self::LengthOverflow => f.write_str("length overflows"),
            Self::TrailingBytes(n) => write!(f, "{n} trailing bytes"),
        }
    }
}

/// Splits `buf` into (`is_list`, payload, rest) for the item at its start.
fn split_item(buf: &[u8]) -> Result<(bool, &[u8], &[u8]), RlpError> {
    let (&prefix, after) = buf.split_first().ok_or(RlpError::InputTooShort)?;
    let (list, len, after) = match prefix {
        0x00..=0x7f => return Ok((false, &buf[..1], after)),
        0x80..=0xb7 => (false, usize::from(prefix - 0x80), after),
        0xc0..=0xf7 => (true, usize::from(prefix - 0xc0), after),
        0xb8..=0xbf | 0xf8..=0xff => {
            let list = prefix >= 0xf8;
            let len_of_len = usize::from(prefix - if list { 0xf7 } else { 0xb7 });
            if after.len() < len_of_len {
                return Err(RlpError::InputTooShort);
            }
            let (len_bytes, after) = after.split_at(len_of_len);
            if len_bytes[0] == 0 {
                return Err(RlpError::LeadingZeroInLength);
            }
            let len = len_bytes.iter().fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
            let len = usize::try_from(len).map_err(|_| RlpError::LengthOverflow)?;
            if len < 56 {
                return Err(RlpError::NonCanonicalLength);
            }
            (list, len, after)
        }
    };
    if after.len() < len {
        return Err(RlpError::InputTooShort);
    }
    let (payload, rest) = after.split_at(len);
    if !list && prefix == 0x81 && payload[0] < 0x80 {
        return Err(RlpError::NonCanonicalSingleByte);
    }
    Ok((list, payload, rest))
}

fn decode_item(buf: &[u8]) -> Result<(Item, &[u8]), RlpError> {
    let (list, payload, rest) = split_item(buf)?;
    if !list {
        return Ok((Item::Bytes(payload.to_vec()), rest));
    }
    let mut items = Vec::new();
    let mut inner = payload;
    while !inner.is_empty() {
        let (item, tail) = decode_item(inner)?;
        items.push(item);
        inner = tail;
    }
    Ok((Item::List(items), rest))
}

/// Decodes exactly one item.
fn decode(buf: &[u8]) -> Result<Item, RlpError> {
    let (item, rest) = decode_item(buf)?;
    if rest.is_empty() { Ok(item) } else { Err(RlpError::TrailingBytes(rest.len())) }
}

/// Second opinion: walks exactly one item with `alloy_rlp::Header`.
fn alloy_walk(buf: &mut &[u8]) -> Result<(), alloy_rlp::Error> {
    let header = Header::decode(buf)?;
    // A single byte below 0x80 is its own header: `decode` did not advance.
    let (payload, rest) = buf.split_at(header.payload_length);
    *buf = rest;
    if header.list {
        let mut inner = payload;
        while !inner.is_empty() {
            alloy_walk(&mut inner)?;
        }
    }
    Ok(())
}

fn alloy_decode_exact(mut buf: &[u8]) -> Result<(), alloy_rlp::Error> {
    alloy_walk(&mut buf)?;
    if buf.is_empty() { Ok(()) } else { Err(alloy_rlp::Error::UnexpectedLength) }
}

/// Encodes an item with alloy's primitives.
fn encode(item: &Item, out: &mut Vec<u8>) {
    match item {
        Item::Bytes(bytes) => bytes.as_slice().encode(out),
        Item::List(items) => {
            let mut payload = Vec::new();
            for item in items {
                encode(item, &mut payload);
            }
            Header { list: true, payload_length: payload.len() }.encode(out);
            out.extend(payload);
        }
    }
}

fn trimmed_be(value: U512) -> Vec<u8> {
    let bytes = value.to_be_bytes::<64>();
    let skip = bytes.iter().take_while(|byte| **byte == 0).count();
    bytes[skip..].to_vec()
}

/// The structure a fixture `in` stands for; also checks alloy's own integer
/// encoding against `out` where the whole `in` is a number.
fn item_of(input: &Value, out: Option<&[u8]>, label: &str) -> Item {
    match input {
        Value::String(text) => match text.strip_prefix('#') {
            Some(digits) => {
                // One fixture is 2^256, so parse wider than U256.
                let value: U512 = digits.parse().expect("big integer");
                if let Some(out) = out {
                    assert_eq!(alloy_rlp::encode(value), out, "{label}: big integer encoding");
                }
                Item::Bytes(trimmed_be(value))
            }
            None => Item::Bytes(text.as_bytes().to_vec()),
        },
        Value::Number(number) => {
            let value = number.as_u64().expect("fixture integers fit in u64");
            if let Some(out) = out {
                assert_eq!(alloy_rlp::encode(value), out, "{label}: u64 encoding");
            }
            Item::Bytes(trimmed_be(U512::from(value)))
        }
        Value::Array(items) => Item::List(items.iter().map(|v| item_of(v, None, label)).collect()),
        other => panic!("{label}: unexpected `in` {other}"),
    }
}

#[test]
fn rlp_tests() {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(fixtures_dir())
        .into_iter()
        .map(|entry| entry.expect("walk fixtures").into_path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no RLPTests fixtures found");

    let (mut valid, mut invalid, mut decode_only) = (0, 0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().and_then(|n| n.to_str()).expect("file name");
        let cases: BTreeMap<String, Value> =
            serde_json::from_slice(&fs::read(file).expect("read fixture")).expect("json");
        for (case, body) in cases {
            let label = format!("{name}::{case}");
            let out_text = body["out"].as_str().expect("out string");
            let out = hex::decode(out_text.trim_start_matches("0x")).expect("out hex");
            let input = &body["in"];
            match input.as_str() {
                Some("INVALID") => {
                    let ours = decode(&out);
                    let theirs = alloy_decode_exact(&out);
                    match (&ours, &theirs) {
                        (Err(ours), Err(theirs)) => {
                            println!("ok   {label}: rejected ({ours}; alloy: {theirs})");
                            invalid += 1;
                        }
                        _ => {
                            println!("FAIL {label}: ours {ours:?}, alloy {theirs:?}");
                            failures.push(label);
                        }
                    }
                }
                Some("VALID") => match (decode(&out), alloy_decode_exact(&out)) {
                    (Ok(item), Ok(())) => {
                        let mut again = Vec::new();
                        encode(&item, &mut again);
                        if again == out {
                            println!("ok   {label}: decodes and re-encodes");
                            decode_only += 1;
                        } else {
                            println!("FAIL {label}: re-encoding differs");
                            failures.push(label);
                        }
                    }
                    (ours, theirs) => {
                        println!("FAIL {label}: ours {ours:?}, alloy {theirs:?}");
                        failures.push(label);
                    }
                },
                _ => {
                    let expected = item_of(input, Some(&out), &label);
                    let mut encoded = Vec::new();
                    encode(&expected, &mut encoded);
                    let decoded = decode(&out);
                    if encoded != out {
                        println!("FAIL {label}: encodes to {}", hex::encode(&encoded));
                        failures.push(label);
                    } else if decoded.as_ref() != Ok(&expected) {
                        println!("FAIL {label}: decodes to {decoded:?}");
                        failures.push(label);
                    } else if let Err(err) = alloy_decode_exact(&out) {
                        println!("FAIL {label}: alloy rejects it ({err})");
                        failures.push(label);
                    } else {
                        println!("ok   {label}");
                        valid += 1;
                    }
                }
            }
        }
    }
    println!(
        "RLPTests: {valid} valid round trips, {invalid} invalid rejected, {decode_only} \
         decode-only, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "RLPTests failures: {failures:?}");
    assert!(valid > 0 && invalid > 0, "nothing ran");
}
