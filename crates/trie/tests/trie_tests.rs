//! Runs every case of ethereum-tests `TrieTests` against this crate's roots.

use std::{collections::BTreeMap, fs, path::PathBuf};

use alloy_primitives::{Address, B256, hex};
use alloy_rlp::Decodable;
use mosaic_trie::{TrieAccount, secure_trie_root, state_root, trie_root};
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/ethereum-tests/TrieTests");
    assert!(dir.is_dir(), "fixture directory {} is missing", dir.display());
    dir
}

/// A fixture string: `0x`-hex, or (unless the case says `hexEncoded`) the
/// raw bytes of the string itself.
fn bytes_of(text: &str, hex_encoded: bool) -> Vec<u8> {
    match text.strip_prefix("0x") {
        Some(digits) => hex::decode(digits).expect("valid hex in fixture"),
        None if hex_encoded => hex::decode(text).expect("valid hex in fixture"),
        None => text.as_bytes().to_vec(),
    }
}

/// Applies the case's `in` (an ordered list of `[key, value|null]` or a map)
/// and returns the final key/value set; `null` deletes.
fn final_entries(input: &Value, hex_encoded: bool) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let ops: Vec<(&str, &Value)> = match input {
        Value::Array(items) => items
            .iter()
            .map(|pair| {
                let key = pair[0].as_str().expect("string key");
                (key, &pair[1])
            })
            .collect(),
        Value::Object(map) => map.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        other => panic!("unexpected `in`: {other}"),
    };
    let mut entries = BTreeMap::new();
    for (key, value) in ops {
        let key = bytes_of(key, hex_encoded);
        match value {
            Value::Null => {
                entries.remove(&key);
            }
            Value::String(text) => {
                entries.insert(key, bytes_of(text, hex_encoded));
            }
            other => panic!("unexpected value {other}"),
        }
    }
    entries
}

#[test]
fn trie_tests() {
    let mut files: Vec<PathBuf> = fs::read_dir(fixtures_dir())
        .expect("read fixture dir")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no TrieTests fixtures found");

    let (mut passed, mut skipped, mut failures) = (0, 0, Vec::new());
    for file in &files {
        let name = file.file_name().and_then(|n| n.to_str()).expect("utf-8 file name");
        let secure = name.to_ascii_lowercase().contains("securetrie");
        let cases: BTreeMap<String, Value> =
            serde_json::from_slice(&fs::read(file).expect("read fixture")).expect("json");
        for (case, body) in cases {
            let label = format!("{name}::{case}");
            let Some(root) = body.get("root").and_then(Value::as_str) else {
                // trietestnextprev.json checks iteration order (next/prev key
                // lookups), which this crate does not offer.
                println!("SKIP {label}: no `root` (iteration test)");
                skipped += 1;
                continue;
            };
            let expected: B256 = root.parse().expect("root hash");
            let hex_encoded = body.get("hexEncoded").and_then(Value::as_bool).unwrap_or(false);
            let entries = final_entries(&body["in"], hex_encoded);
            let got = if secure { secure_trie_root(entries.clone()) } else { trie_root(entries.clone()) };
            if got == expected {
                println!("ok   {label}");
                passed += 1;
            } else {
                println!("FAIL {label}: got {got}, expected {expected}");
                failures.push(label.clone());
            }
            // The hex-encoded secure cases are account tries: check `state_root` too.
            if secure && hex_encoded {
                let accounts = entries.iter().map(|(address, rlp)| {
                    let account = TrieAccount::decode(&mut rlp.as_slice()).expect("account RLP in fixture");
                    (Address::from_slice(address), account)
                });
                let got = state_root(accounts);
                if got != expected {
                    println!("FAIL {label} (state_root): got {got}, expected {expected}");
                    failures.push(format!("{label} (state_root)"));
                }
            }
        }
    }
    println!("TrieTests: {passed} passed, {} failed, {skipped} skipped", failures.len());
    assert!(failures.is_empty(), "TrieTests failures: {failures:?}");
    assert!(passed > 0, "no TrieTests case ran");
}
