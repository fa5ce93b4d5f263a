//! Runs every case of ethereum-tests `TransactionTests` through
//! `decode_transaction` + `validate_transaction`, for every fork listed.

use std::{collections::BTreeMap, fs, path::PathBuf};

use alloy_primitives::{Address, B256, hex};
use mosaic_primitives::transaction::{
    TxError, TxRules, decode_transaction, intrinsic_gas, validate_transaction,
};
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/ethereum-tests/TransactionTests");
    assert!(dir.is_dir(), "fixture directory {} is missing", dir.display());
    dir
}

/// alloy keeps gas prices and fee caps in `u128`; fixtures that are valid
/// with a wider value are rejected with exactly this error (see the
/// `transaction` module docs) and counted apart.
fn is_known_fee_width_limit(err: &TxError) -> bool {
    matches!(err, TxError::FieldTooLarge { field: "gasPrice" | "maxFeePerGas", bits: 128 })
}

#[derive(Default)]
struct Tally {
    cases: usize,
    valid_ok: usize,
    invalid_ok: usize,
    known_limit: usize,
    skipped: BTreeMap<String, usize>,
    failures: Vec<String>,
}

fn run_case(label: &str, case: &Value, tally: &mut Tally) {
    tally.cases += 1;
    let txbytes = case["txbytes"].as_str().expect("txbytes");
    let raw = hex::decode(txbytes.trim_start_matches("0x")).expect("txbytes hex");
    let decoded = decode_transaction(&raw);
    let results = case["result"].as_object().expect("result object");
    for (fork, expected) in results {
        let Some(rules) = TxRules::for_fork_name(fork) else {
            *tally.skipped.entry(fork.clone()).or_default() += 1;
            continue;
        };
        let outcome = decoded.clone().and_then(|tx| validate_transaction(&tx, &rules).map(|ok| (tx, ok)));
        let at = format!("{label} [{fork}]");
        match (expected.get("exception"), outcome) {
            (Some(exception), Err(err)) => {
                println!("ok   {at}: rejected ({err}); expected {exception}");
                tally.invalid_ok += 1;
            }
            (Some(exception), Ok((_, (sender, _)))) => {
                println!("FAIL {at}: accepted (sender {sender}), expected {exception}");
                tally.failures.push(at);
            }
            (None, Err(err)) if is_known_fee_width_limit(&err) => {
                println!("KNOWN {at}: valid in the fixture, rejected here ({err})");
                tally.known_limit += 1;
            }
            (None, Err(err)) => {
                println!("FAIL {at}: rejected ({err}), expected valid");
                tally.failures.push(at);
            }
            (None, Ok((tx, (sender, hash)))) => {
                let want_sender: Address =
                    expected["sender"].as_str().expect("sender").parse().expect("address");
                let want_hash: B256 = expected["hash"].as_str().expect("hash").parse().expect("hash");
                let want_gas = expected
                    .get("intrinsicGas")
                    .and_then(Value::as_str)
                    .map(|gas| u64::from_str_radix(gas.trim_start_matches("0x"), 16))
                    .transpose()
                    .expect("intrinsicGas hex");
                let gas = intrinsic_gas(&tx, &rules).initial;
                if sender != want_sender || hash != want_hash {
                    println!("FAIL {at}: sender {sender} hash {hash}, expected {want_sender} {want_hash}");
                    tally.failures.push(at);
                } else if want_gas.is_some_and(|want| want != gas) {
                    println!("FAIL {at}: intrinsic gas {gas}, expected {want_gas:?}");
                    tally.failures.push(at);
                } else {
                    println!("ok   {at}: sender {sender}");
                    tally.valid_ok += 1;
                }
            }
        }
    }
}

#[test]
fn transaction_tests() {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(fixtures_dir())
        .into_iter()
        .map(|entry| entry.expect("walk fixtures").into_path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no TransactionTests fixtures found");

    let mut tally = Tally::default();
    for file in &files {
        let cases: BTreeMap<String, Value> =
            serde_json::from_slice(&fs::read(file).expect("read fixture")).expect("json");
        let stem = file.file_stem().and_then(|s| s.to_str()).expect("file name");
        for (name, case) in &cases {
            run_case(&format!("{stem}::{name}"), case, &mut tally);
        }
    }

    let skipped: usize = tally.skipped.values().sum();
    println!(
        "TransactionTests: {} files, {} cases; {} valid and {} invalid (test, fork) pairs \
         matched, {} valid ones rejected for fee fields wider than 128 bits, {} failed, \
         {skipped} skipped (unknown forks: {:?})",
        files.len(),
        tally.cases,
        tally.valid_ok,
        tally.invalid_ok,
        tally.known_limit,
        tally.failures.len(),
        tally.skipped,
    );
    assert!(tally.failures.is_empty(), "TransactionTests failures: {:#?}", tally.failures);
    assert!(tally.valid_ok > 0 && tally.invalid_ok > 0, "nothing ran");
}
