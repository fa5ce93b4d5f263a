//! `mosaic t8n` end to end: the built binary on small hand-made inputs, with
//! expectations derived by hand (balances, gas) or from the ethereum-tests
//! fixtures (state root, signed transaction bytes).

use alloy_consensus::{TxEnvelope, proofs::calculate_transaction_root, transaction::SignerRecoverable};
use alloy_primitives::{Address, B256, U256, address, b256, hex, keccak256};
use alloy_rlp::Decodable;
use serde_json::{Value, json};
use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

const KEY: &str = "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8";
const SENDER: Address = address!("0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const RECIPIENT: Address = address!("0xb94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const COINBASE: Address = address!("0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba");
const ZERO_HASH: &str = "0x0000000000000000000000000000000000000000000000000000000000000000";
const ETHER: u128 = 1_000_000_000_000_000_000;

fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/t8n").join(name)
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("t8n").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

/// Runs `mosaic t8n` with `--flag value` pairs, then `extra` arguments.
fn mosaic_t8n(flags: &[(&str, &str)], extra: &[&str], stdin: Option<&str>) -> Output {
    let mut args = vec!["t8n".to_string()];
    for (flag, value) in flags {
        args.push(format!("--{flag}"));
        args.push((*value).to_string());
    }
    args.extend(extra.iter().map(|a| (*a).to_string()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_mosaic"))
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mosaic");
    let mut pipe = child.stdin.take().expect("stdin pipe");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("mosaic runs")
}

/// Runs `mosaic t8n` on the three files in `dir` and returns the combined
/// stdout object (`alloc`, `result`, `body`).
fn t8n_files(dir: &Path, fork: &str, extra: &[&str]) -> Value {
    let file = |name: &str| dir.join(name).display().to_string();
    let (alloc, env, txs) = (file("alloc.json"), file("env.json"), file("txs.json"));
    let flags = [
        ("input.alloc", alloc.as_str()),
        ("input.env", &env),
        ("input.txs", &txs),
        ("state.fork", fork),
        ("output.result", "stdout"),
        ("output.alloc", "stdout"),
        ("output.body", "stdout"),
    ];
    let out = mosaic_t8n(&flags, extra, None);
    assert!(out.status.success(), "t8n failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

/// Writes the inputs into a scratch folder and runs them.
fn t8n(name: &str, fork: &str, alloc: &Value, env: &Value, txs: &Value, extra: &[&str]) -> Value {
    let dir = scratch(name);
    for (file, value) in [("alloc.json", alloc), ("env.json", env), ("txs.json", txs)] {
        std::fs::write(dir.join(file), value.to_string()).expect("write input");
    }
    t8n_files(&dir, fork, extra)
}

fn quantity(v: &Value) -> U256 {
    let s = v.as_str().unwrap_or_else(|| panic!("expected a hex quantity, got {v}"));
    let h = s.strip_prefix("0x").unwrap_or_else(|| panic!("quantity without 0x: {s}"));
    U256::from_str_radix(h, 16).unwrap_or_else(|e| panic!("bad quantity {s}: {e}"))
}

fn account(out: &Value, address: Address) -> &Value {
    &out["alloc"][hex::encode_prefixed(address)]
}

fn balance(out: &Value, address: Address) -> U256 {
    quantity(&account(out, address)["balance"])
}

/// The block body's transactions, decoded.
fn body(out: &Value) -> Vec<TxEnvelope> {
    let raw = hex::decode(out["body"].as_str().expect("body is a hex string")).expect("body hex");
    Vec::<TxEnvelope>::decode(&mut raw.as_slice()).expect("body is an RLP transaction list")
}

/// The transaction root, hashes and senders agree with the body.
fn assert_consistent(out: &Value, senders: &[Address]) {
    let txs = body(out);
    let receipts = out["result"]["receipts"].as_array().expect("receipts");
    assert_eq!(txs.len(), receipts.len());
    assert_eq!(txs.len(), senders.len());
    let root: B256 = serde_json::from_value(out["result"]["txRoot"].clone()).expect("txRoot");
    assert_eq!(root, calculate_transaction_root(&txs));
    for ((tx, receipt), sender) in txs.iter().zip(receipts).zip(senders) {
        let hash: B256 = serde_json::from_value(receipt["transactionHash"].clone()).expect("hash");
        assert_eq!(hash, *tx.tx_hash());
        assert_eq!(tx.recover_signer().expect("valid signature"), *sender);
    }
}

fn transfer_env() -> Value {
    json!({
        "currentCoinbase": COINBASE,
        "currentGasLimit": "0x989680",
        "currentNumber": "0x01",
        "currentTimestamp": "0x03e8",
        "currentRandom": ZERO_HASH,
        "currentBaseFee": "0x0a",
        "withdrawals": [],
    })
}

fn funded(balance: u128) -> Value {
    json!({ SENDER.to_string(): { "balance": format!("{balance:#x}") } })
}

fn legacy_tx(nonce: u64, value: u64) -> Value {
    json!({
        "type": "0x0", "nonce": format!("{nonce:#x}"), "gasPrice": "0xa", "gas": "0x5208",
        "to": RECIPIENT, "value": format!("{value:#x}"), "input": "0x",
        "v": "0x0", "r": "0x0", "s": "0x0", "secretKey": KEY,
    })
}

/// The inputs of ethereum-tests `NonZeroValue_TransactionCALL_ToNonNonZeroBalance`
/// (Cancun): a 1-wei legacy transfer; the fixture gives the post-state root
/// and the signed transaction bytes.
#[test]
fn t8n_legacy_transfer_matches_fixture() {
    let out = t8n_files(&fixture_dir("transfer"), "Cancun", &[]);
    let result = &out["result"];
    assert_eq!(
        result["stateRoot"],
        json!(b256!("0xd9f7ae7e5975611be9979b9d6803c8d1bc0ba3aaf1a92e1a3097c39834d57358"))
    );
    let fixture_tx = "f860800a830927c094b94f5374fce5edbc8e2a8697c15331677e6ebf0b01801ca0991fadf4b91da15f71a60c4a91fa3edf3cbb43d37b6f5fd58d58544dfa32357ea0618764e5f3da6ec033e229850b71b32ea88b79f9a0273752c53d9de8b9fdb5cc";
    assert_eq!(out["body"], json!(format!("0xf862{fixture_tx}")));
    let hash = keccak256(hex::decode(fixture_tx).expect("hex"));
    assert_eq!(result["receipts"][0]["transactionHash"], json!(hash));
    assert_eq!(result["gasUsed"], json!("0x5208"));
    assert_eq!(result["receipts"][0]["status"], json!("0x1"));
    assert_eq!(result["currentDifficulty"], Value::Null);
    assert!(result.get("rejected").is_none());
    // 0xe8d4a51000 - 21000 * 10 - 1, and 100 + 1.
    assert_eq!(balance(&out, SENDER), U256::from(0xe8d4a51000u64 - 210_000 - 1));
    assert_eq!(account(&out, SENDER)["nonce"], json!("0x1"));
    assert_eq!(balance(&out, RECIPIENT), U256::from(101));
    assert!(account(&out, RECIPIENT).get("nonce").is_none());
    // The tip is zero (gas price = base fee): the coinbase stays empty and
    // EIP-161 keeps it out of the state.
    assert!(account(&out, COINBASE).is_null());
    assert_consistent(&out, &[SENDER]);
}

/// The fixture's transaction given by its signature instead of its key is
/// recovered to the same sender; a `from` that disagrees is rejected.
#[test]
fn t8n_signed_json_transaction_is_recovered() {
    let dir = fixture_dir("transfer");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).expect("fixture input")).expect("JSON")
    };
    let signed = json!({
        "type": "0x0", "nonce": "0x0", "gasPrice": "0x0a", "gas": "0x0927c0", "to": RECIPIENT,
        "value": "0x01", "input": "0x", "v": "0x1c",
        "r": "0x991fadf4b91da15f71a60c4a91fa3edf3cbb43d37b6f5fd58d58544dfa32357e",
        "s": "0x618764e5f3da6ec033e229850b71b32ea88b79f9a0273752c53d9de8b9fdb5cc",
    });
    let (alloc, env) = (read("alloc.json"), read("env.json"));
    let expected = t8n_files(&dir, "Cancun", &[]);
    let out = t8n("signed_json", "Cancun", &alloc, &env, &json!([signed.clone()]), &[]);
    assert_eq!(out["result"], expected["result"]);
    assert_eq!(out["body"], expected["body"]);

    let mut wrong = signed;
    wrong["from"] = json!(RECIPIENT);
    let out = t8n("signed_json_wrong_from", "Cancun", &alloc, &env, &json!([wrong]), &[]);
    let error = out["result"]["rejected"][0]["error"].as_str().expect("rejected");
    assert!(error.contains("from"), "unexpected error: {error}");
}

/// Signing with EIP-155 protection (the default), then feeding the body back
/// as `.rlp` input gives the same block.
#[test]
fn t8n_signed_transfer_roundtrips_through_rlp() {
    let alloc = funded(ETHER);
    let out = t8n("roundtrip", "Shanghai", &alloc, &transfer_env(), &json!([legacy_tx(0, 1000)]), &[]);
    assert_consistent(&out, &[SENDER]);
    let tx = &body(&out)[0];
    assert_eq!(alloy_consensus::Transaction::chain_id(tx), Some(1));
    assert_eq!(balance(&out, SENDER), U256::from(ETHER - 210_000 - 1000));
    assert_eq!(balance(&out, RECIPIENT), U256::from(1000));

    let dir = scratch("roundtrip_rlp");
    std::fs::write(dir.join("alloc.json"), alloc.to_string()).expect("write");
    std::fs::write(dir.join("env.json"), transfer_env().to_string()).expect("write");
    std::fs::write(dir.join("txs.rlp"), out["body"].to_string()).expect("write");
    let file = |name: &str| dir.join(name).display().to_string();
    let (a, e, t, base) = (file("alloc.json"), file("env.json"), file("txs.rlp"), file("out"));
    let flags = [
        ("input.alloc", a.as_str()),
        ("input.env", &e),
        ("input.txs", &t),
        ("state.fork", "Shanghai"),
        ("output.basedir", &base),
        ("output.result", "result.json"),
        ("output.alloc", "alloc.json"),
    ];
    let run = mosaic_t8n(&flags, &[], None);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("out").join(name)).expect("output file"))
            .expect("output JSON")
    };
    assert_eq!(read("result.json"), out["result"]);
    assert_eq!(read("alloc.json"), out["alloc"]);

    // The same inputs as one object on stdin.
    let stdin = json!({"alloc": alloc, "env": transfer_env(), "txs": [legacy_tx(0, 1000)]}).to_string();
    let flags = [
        ("input.alloc", "stdin"),
        ("input.env", "stdin"),
        ("input.txs", "stdin"),
        ("state.fork", "Shanghai"),
        ("output.result", "stdout"),
        ("output.alloc", "stdout"),
    ];
    let run = mosaic_t8n(&flags, &["--threads", "2"], Some(&stdin));
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let piped: Value = serde_json::from_slice(&run.stdout).expect("stdout JSON");
    assert_eq!(piped["result"], out["result"]);
}

#[test]
fn t8n_nonce_gap_is_rejected() {
    let txs = json!([legacy_tx(0, 1), legacy_tx(2, 2), legacy_tx(1, 4)]);
    let out = t8n("nonce_gap", "Shanghai", &funded(ETHER), &transfer_env(), &txs, &[]);
    let result = &out["result"];
    let rejected = result["rejected"].as_array().expect("rejected list");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["index"], json!(1));
    let error = rejected[0]["error"].as_str().expect("error string").to_lowercase();
    assert!(error.contains("nonce"), "unexpected error: {error}");
    let receipts = result["receipts"].as_array().expect("receipts");
    assert_eq!(receipts.len(), 2);
    assert_eq!(receipts[1]["transactionIndex"], json!("0x1"));
    assert_eq!(receipts[1]["cumulativeGasUsed"], json!("0xa410"));
    assert_eq!(result["gasUsed"], json!("0xa410"));
    assert_eq!(account(&out, SENDER)["nonce"], json!("0x2"));
    assert_eq!(balance(&out, SENDER), U256::from(ETHER - 2 * 210_000 - 5));
    assert_eq!(balance(&out, RECIPIENT), U256::from(5));
    assert_consistent(&out, &[SENDER, SENDER]);
}

/// A call that writes storage and logs, then a creation: storage, code and
/// logs come out in geth's formats.
#[test]
fn t8n_contract_storage_logs_and_create() {
    let contract = address!("0x00000000000000000000000000000000000c0de0");
    // SSTORE(0, 0x2a); LOG1(offset 0, size 0, topic 7); STOP
    let mut alloc = funded(ETHER);
    alloc[contract.to_string()] = json!({"balance": "0x0", "code": "0x602a600055600760006000a100"});
    let call = json!({
        "type": "0x0", "nonce": "0x0", "gasPrice": "0xa", "gas": "0x186a0", "to": contract,
        "value": "0x0", "input": "0x", "secretKey": KEY,
    });
    // Deploys the two bytes 0x60ff: MSTORE(0, 0x60ff); RETURN(30, 2)
    let create = json!({
        "type": "0x0", "nonce": "0x1", "gasPrice": "0xa", "gas": "0x186a0", "to": null,
        "value": "0x0", "input": "0x6160ff6000526002601ef3", "secretKey": KEY,
    });
    let out = t8n("contract", "Shanghai", &alloc, &transfer_env(), &json!([call, create]), &[]);
    let result = &out["result"];
    assert!(result.get("rejected").is_none(), "{result}");
    let slot = |n: u8| B256::with_last_byte(n).to_string();
    assert_eq!(account(&out, contract)["storage"], json!({ slot(0): slot(0x2a) }));
    assert_eq!(account(&out, contract)["code"], json!("0x602a600055600760006000a100"));

    let topic = B256::with_last_byte(7);
    let receipt = &result["receipts"][0];
    assert_eq!(receipt["status"], json!("0x1"));
    let log = &receipt["logs"][0];
    assert_eq!(log["address"], json!(contract));
    assert_eq!(log["topics"], json!([topic]));
    assert_eq!(log["data"], json!("0x"));
    assert_eq!(log["logIndex"], json!("0x0"));
    assert_eq!(log["transactionHash"], receipt["transactionHash"]);
    let logs = vec![alloy_primitives::Log::new_unchecked(contract, vec![topic], Default::default())];
    assert_eq!(result["logsHash"], json!(keccak256(alloy_rlp::encode(&logs))));
    let bloom = result["logsBloom"].as_str().expect("bloom");
    assert!(bloom.len() == 2 + 512 && bloom[2..].bytes().any(|b| b != b'0'), "{bloom}");
    assert_eq!(result["logsBloom"], receipt["logsBloom"]);

    let created = SENDER.create(1);
    assert_eq!(result["receipts"][1]["contractAddress"], json!(created));
    assert_eq!(result["receipts"][1]["logs"], Value::Null);
    assert_eq!(account(&out, created)["code"], json!("0x60ff"));
    assert_eq!(account(&out, created)["nonce"], json!("0x1"));
    assert_eq!(account(&out, SENDER)["nonce"], json!("0x2"));
    assert_consistent(&out, &[SENDER, SENDER]);
}

/// London, before the merge: the base fee is burnt and the coinbase earns
/// the tip (plus the 2 ether block reward unless `--state.reward -1`).
#[test]
fn t8n_eip1559_burns_base_fee() {
    let env = json!({
        "currentCoinbase": COINBASE,
        "currentGasLimit": "30000000",
        "currentNumber": "5",
        "currentTimestamp": "1000",
        "currentDifficulty": "0x20000",
        "parentBaseFee": "0x3e8",
        "parentGasUsed": "0x100",
        "parentGasLimit": "0x100",
    });
    let tx = json!({
        "type": "0x2", "chainId": "0x1", "nonce": "0x0", "gas": "0x7530",
        "maxFeePerGas": "0x7d0", "maxPriorityFeePerGas": "0x3", "to": RECIPIENT, "value": "0x10",
        "input": "0x", "accessList": [], "v": "0x0", "r": "0x0", "s": "0x0", "secretKey": KEY,
    });
    let txs = json!([tx]);
    let out = t8n("eip1559", "London", &funded(ETHER), &env, &txs, &["--state.reward", "-1"]);
    let result = &out["result"];
    // A full parent block raises the base fee by 1/8: 1000 + 125.
    assert_eq!(result["currentBaseFee"], json!("0x465"));
    assert_eq!(result["currentDifficulty"], json!("0x20000"));
    let receipt = &result["receipts"][0];
    assert_eq!(receipt["type"], json!("0x2"));
    assert_eq!(receipt["gasUsed"], json!("0x5208"));
    assert_eq!(receipt["effectiveGasPrice"], json!(format!("{:#x}", 1125 + 3)));
    assert_eq!(balance(&out, SENDER), U256::from(ETHER - 21_000 * 1128 - 16));
    assert_eq!(balance(&out, RECIPIENT), U256::from(16));
    assert_eq!(balance(&out, COINBASE), U256::from(21_000 * 3));
    assert_consistent(&out, &[SENDER]);

    let rewarded = t8n("eip1559_reward", "London", &funded(ETHER), &env, &txs, &[]);
    assert_eq!(balance(&rewarded, COINBASE), U256::from(2 * ETHER + 21_000 * 3));
    assert_ne!(rewarded["result"]["stateRoot"], result["stateRoot"]);
    assert_eq!(rewarded["result"]["receiptsRoot"], result["receiptsRoot"]);
}

/// `from` instead of a signature: rejected unless `--allow-unsigned`.
#[test]
fn t8n_allow_unsigned_uses_from() {
    let tx = json!({
        "type": "0x2", "nonce": "0x0", "gas": "0x5208", "maxFeePerGas": "0xa",
        "maxPriorityFeePerGas": "0x0", "to": RECIPIENT, "value": "0x7", "from": SENDER,
    });
    let txs = json!([tx]);
    let out = t8n("unsigned", "Shanghai", &funded(ETHER), &transfer_env(), &txs, &[]);
    let result = &out["result"];
    assert_eq!(result["rejected"][0]["index"], json!(0));
    let error = result["rejected"][0]["error"].as_str().expect("rejected without the flag");
    assert!(error.contains("--allow-unsigned"), "unexpected error: {error}");
    assert_eq!(result["receipts"], json!([]));
    assert_eq!(result["gasUsed"], json!("0x0"));
    assert_eq!(balance(&out, SENDER), U256::from(ETHER));

    let out =
        t8n("unsigned_allowed", "Shanghai", &funded(ETHER), &transfer_env(), &txs, &["--allow-unsigned"]);
    let result = &out["result"];
    assert!(result.get("rejected").is_none(), "{result}");
    assert_eq!(result["receipts"][0]["status"], json!("0x1"));
    assert_eq!(result["gasUsed"], json!("0x5208"));
    assert_eq!(balance(&out, SENDER), U256::from(ETHER - 210_000 - 7));
    assert_eq!(account(&out, SENDER)["nonce"], json!("0x1"));
    assert_eq!(balance(&out, RECIPIENT), U256::from(7));
    // Each included transaction still has a hash (of its zero-signature
    // encoding), and the root covers it.
    let txs = body(&out);
    assert_eq!(txs.len(), 1);
    assert_eq!(result["receipts"][0]["transactionHash"], json!(txs[0].tx_hash()));
    assert_eq!(result["txRoot"], json!(calculate_transaction_root(&txs)));
}

#[test]
fn t8n_malformed_env_names_the_file() {
    let dir = scratch("malformed");
    std::fs::write(dir.join("alloc.json"), funded(ETHER).to_string()).expect("write");
    std::fs::write(dir.join("txs.json"), "[]").expect("write");
    let file = |name: &str| dir.join(name).display().to_string();
    let run_with_env = |text: &str| {
        std::fs::write(dir.join("env.json"), text).expect("write");
        let (a, e, t) = (file("alloc.json"), file("env.json"), file("txs.json"));
        let flags = [
            ("input.alloc", a.as_str()),
            ("input.env", &e),
            ("input.txs", &t),
            ("state.fork", "Shanghai"),
            ("output.result", "stdout"),
            ("output.alloc", "stdout"),
        ];
        mosaic_t8n(&flags, &[], None)
    };
    let out = run_with_env("{\"currentCoinbase\": ");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("env.json") && stderr.contains("invalid JSON"), "{stderr}");
    assert!(out.stdout.is_empty());

    let mut env = transfer_env();
    env.as_object_mut().expect("object").remove("currentGasLimit");
    let out = run_with_env(&env.to_string());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("env.json") && stderr.contains("currentGasLimit"), "{stderr}");
}
