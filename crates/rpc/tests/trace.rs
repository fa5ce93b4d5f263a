//! `debug_trace*` on a chain built here from hand-written contracts, one
//! transaction per block: the struct logger's gas accounting around calls,
//! creations, refunds and running out of gas; the call tracer's frame tree,
//! logs and revert reasons; the prestate tracer's accounts checked against
//! the plain state reads at the parent block (and, in diff mode, at the
//! block); `debug_traceCall`; and a block trace agreeing with the
//! transaction traces.

#![allow(clippy::unwrap_used)]
mod support;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, B256, Signature, TxKind, U256, keccak256};
use k256::ecdsa::SigningKey;
use mosaic_chain::{DEV_ACCOUNTS, PoolConfig, Sequencer, StoredChain, TxPool, dev_genesis_json};
use mosaic_primitives::ChainSpec;
use mosaic_rpc::{RpcConfig, RpcContext, RpcHandle, start};
use mosaic_storage::Store;
use serde_json::{Value, json};
use std::{collections::BTreeSet, net::SocketAddr, sync::Arc};
use support::{call, raw};

const CHAIN_ID: u64 = 1337;
/// Calls B with 1 wei and gas 100000, logs what B returned, then
/// STATICCALLs D with gas 0xffff.
const A: Address = Address::with_last_byte(0xa1);
/// Increments slot 0, logs and returns the word 42 (22767 gas).
const B: Address = Address::with_last_byte(0xb1);
/// Creates a contract whose code is `0x00`.
const C: Address = Address::with_last_byte(0xc1);
/// Reverts with `Error("nope")` (66 gas).
const D: Address = Address::with_last_byte(0xd1);
/// Self-destructs to HEIR.
const E: Address = Address::with_last_byte(0xe1);
const HEIR: Address = Address::with_last_byte(0xe2);
/// Clears slot 0 (set to 1 at genesis).
const F: Address = Address::with_last_byte(0xf1);
/// `JUMPDEST PUSH1 0 JUMP`, forever.
const G: Address = Address::with_last_byte(0xf2);
const COINBASE: Address = Address::with_last_byte(0xc0);
const FRESH: Address = Address::with_last_byte(0x77);
const GAS: u64 = 1_000_000;

const B_CODE: &str = "600054600101600055602a60005260206000a060206000f3";
const D_CODE: &str = "6308c379a060e01b60005260206004526004602452636e6f706560e01b60445260646000fd";
/// `PUSH1 0 PUSH1 0 MSTORE8 PUSH1 1 PUSH1 0 RETURN`: deploys `0x00`.
const INIT: &str = "600060005360016000f3";
/// Gas B uses (counted by hand, see `B_CODE`).
const B_GAS: u64 = 22_767;
/// Gas D uses.
const D_GAS: u64 = 66;
/// Gas the init code uses, with the 200-gas deposit of one byte.
const INIT_GAS: u64 = 218;

fn a_code() -> String {
    format!("6020600060006000600173{}620186a0f150600160206000a16000600060006000", hex(B))
        + &format!("73{}61fffffa5000", hex(D))
}

fn c_code() -> String {
    format!("69{INIT}600052600a60166000f000")
}

fn e_code() -> String {
    format!("73{}ff", hex(HEIR))
}

fn hex(address: Address) -> String {
    alloy_primitives::hex::encode(address)
}

struct Chain {
    handle: RpcHandle,
    sequencer: Sequencer,
    key: SigningKey,
    nonce: u64,
    time: u64,
    _dir: tempfile::TempDir,
}

impl Chain {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (sender, secret) = DEV_ACCOUNTS[0];
        let mut alloc = serde_json::Map::new();
        let ether = "0xde0b6b3a7640000";
        alloc.insert(sender.to_string(), json!({"balance": "0x21e19e0c9bab2400000"}));
        alloc.insert(A.to_string(), json!({"balance": ether, "code": format!("0x{}", a_code())}));
        alloc.insert(B.to_string(), json!({"balance": "0x0", "code": format!("0x{B_CODE}")}));
        alloc.insert(
            C.to_string(),
            json!({"balance": "0x0", "nonce": "0x1", "code": format!("0x{}", c_code())}),
        );
        alloc.insert(D.to_string(), json!({"balance": "0x0", "code": format!("0x{D_CODE}")}));
        alloc.insert(E.to_string(), json!({"balance": "0x3e8", "code": format!("0x{}", e_code())}));
        alloc.insert(
            F.to_string(),
            json!({"balance": "0x0", "code": "0x600060005500", "storage": {
                "0x0000000000000000000000000000000000000000000000000000000000000000":
                "0x0000000000000000000000000000000000000000000000000000000000000001"}}),
        );
        alloc.insert(G.to_string(), json!({"balance": "0x0", "code": "0x5b600056"}));
        let genesis = serde_json::from_value(dev_genesis_json(CHAIN_ID, alloc)).unwrap();
        let spec = ChainSpec::from_genesis(&genesis).unwrap();
        let store = Store::create(dir.path().join("db.redb")).unwrap();
        StoredChain::init_genesis(&store, &genesis, &spec).unwrap();
        let store = Arc::new(store);
        let spec = Arc::new(spec);
        let pool = Arc::new(TxPool::new(Arc::clone(&spec), PoolConfig::default()));
        let chain = StoredChain::new(Arc::clone(&store), (*spec).clone());
        let sequencer = Sequencer::new(chain, Arc::clone(&pool), COINBASE);
        let ctx = RpcContext { store, pool, spec, on_new_tx: Arc::new(|| {}) };
        let handle = start(ctx, RpcConfig::ephemeral()).unwrap();
        let key = SigningKey::from_slice(secret.as_slice()).unwrap();
        Self { handle, sequencer, key, nonce: 0, time: 12, _dir: dir }
    }

    fn addr(&self) -> SocketAddr {
        self.handle.http_addr()
    }

    /// Sends a transaction in a block of its own; returns its hash and the
    /// block number.
    fn send(&mut self, to: TxKind, value: u64, gas: u64, input: &str) -> (B256, u64) {
        let tx = TxEip1559 {
            chain_id: CHAIN_ID,
            nonce: self.nonce,
            gas_limit: gas,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to,
            value: U256::from(value),
            input: alloy_primitives::hex::decode(input).unwrap().into(),
            ..Default::default()
        };
        self.nonce += 1;
        let hash = tx.signature_hash();
        let (sig, recid) = self.key.sign_prehash_recoverable(hash.as_slice()).unwrap();
        let tx =
            TxEnvelope::from(tx.into_signed(Signature::from_signature_and_parity(sig, recid.is_y_odd())));
        let reply = call(self.addr(), "eth_sendRawTransaction", json!([raw(&tx)]));
        assert!(reply.get("error").is_none(), "{reply}");
        self.time += 12;
        let produced = self.sequencer.produce(self.time).unwrap();
        assert_eq!(produced.txs, 1, "{produced:?}");
        (*tx.tx_hash(), produced.head.number)
    }

    fn result(&self, method: &str, params: Value) -> Value {
        let reply = call(self.addr(), method, params.clone());
        assert!(reply.get("error").is_none(), "{method} {params}: {reply}");
        reply["result"].clone()
    }

    fn error(&self, method: &str, params: Value) -> String {
        let reply = call(self.addr(), method, params.clone());
        reply["error"]["message"].as_str().unwrap_or_else(|| panic!("{method} {params}: {reply}")).to_owned()
    }

    fn trace(&self, hash: B256, options: Value) -> Value {
        self.result("debug_traceTransaction", json!([hash, options]))
    }

    fn gas_used(&self, hash: B256) -> u64 {
        let receipt = self.result("eth_getTransactionReceipt", json!([hash]));
        u64::from_str_radix(receipt["gasUsed"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }
}

fn num(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap())
}

fn word(n: u64) -> String {
    format!("{:#066x}", n)
}

/// The step at `pc` and `depth` (the first one).
fn step(logs: &[Value], depth: u64, pc: u64) -> (usize, &Value) {
    logs.iter().enumerate().find(|(_, l)| l["depth"] == depth && l["pc"] == pc).unwrap()
}

#[test]
fn struct_logger_gas_accounting() {
    let mut chain = Chain::new();
    let (hash, _) = chain.send(TxKind::Call(A), 0, GAS, "");
    let trace = chain.trace(hash, json!({"enableMemory": true, "enableReturnData": true}));
    assert_eq!(trace["failed"], false);
    assert_eq!(trace["returnValue"], "0x");
    assert_eq!(num(&trace["gas"]), chain.gas_used(hash));
    let logs = trace["structLogs"].as_array().unwrap();
    assert_eq!(
        logs[0],
        json!({"pc": 0, "op": "PUSH1", "gas": GAS - 21_000, "gasCost": 3, "depth": 1, "stack": []})
    );
    // CALL: cold account 2600 + value 9000 + one memory word 3 + the gas
    // handed over, 100000 (the 2300 stipend is not counted).
    let (at, call_step) = step(logs, 1, 35);
    assert_eq!(call_step["op"], "CALL");
    assert_eq!(num(&call_step["gasCost"]), 2_600 + 9_000 + 3 + 100_000);
    let b_first = &logs[at + 1];
    assert_eq!((b_first["depth"].as_u64(), num(&b_first["gas"])), (Some(2), 102_300));
    // B's storage snapshots: the slot read, then the slot written.
    let (_, sload) = step(logs, 2, 2);
    assert_eq!(sload["op"], "SLOAD");
    assert_eq!(sload["storage"], json!({word(0): word(0)}));
    let (_, sstore) = step(logs, 2, 8);
    assert_eq!(sstore["storage"], json!({word(0): word(1)}));
    assert_eq!(num(&sstore["gasCost"]), 20_000);
    let (_, after_mstore) = step(logs, 2, 14);
    assert_eq!(after_mstore["memory"], json!([word(42)]));
    assert!(logs[..at].iter().all(|l| l.get("memory").is_none()), "A's memory is empty before the call");
    // Back in A: the child's unused gas (stipend included) is returned.
    let pop = &logs[logs.iter().rposition(|l| l["depth"] == 2 && l["op"] == "RETURN").unwrap() + 1];
    assert_eq!(pop["op"], "POP");
    assert_eq!(num(&pop["gas"]), num(&call_step["gas"]) - num(&call_step["gasCost"]) + (102_300 - B_GAS));
    assert_eq!(pop["returnData"], word(42));
    // The failed STATICCALL's revert data becomes the return data.
    let stop = logs.last().unwrap();
    assert_eq!(stop["op"], "STOP");
    assert!(stop["returnData"].as_str().unwrap().starts_with("0x08c379a0"));
    // Along one frame, gas falls by each plain step's cost.
    for pair in logs.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a["depth"] == b["depth"] && !["CALL", "STATICCALL"].contains(&a["op"].as_str().unwrap()) {
            assert_eq!(num(&b["gas"]), num(&a["gas"]) - num(&a["gasCost"]), "{a} -> {b}");
        }
    }
    // Options: no stack, no storage, no memory.
    let bare = chain.trace(hash, json!({"disableStack": true, "disableStorage": true}));
    let bare_logs = bare["structLogs"].as_array().unwrap();
    assert_eq!(bare_logs.len(), logs.len());
    assert!(bare_logs.iter().all(|l| l.get("stack").is_none() && l.get("storage").is_none()));
    assert!(bare_logs.iter().all(|l| l.get("memory").is_none() && l.get("returnData").is_none()));
}

#[test]
fn struct_logger_create_refund_and_out_of_gas() {
    let mut chain = Chain::new();
    // CREATE costs 32000 + 2 per init-code word, without the gas it hands
    // to the new frame; the next step sees only what the child used.
    let (hash, _) = chain.send(TxKind::Call(C), 0, GAS, "");
    let logs = chain.trace(hash, json!({}))["structLogs"].as_array().unwrap().clone();
    let (at, create) = step(&logs, 1, 20);
    assert_eq!(create["op"], "CREATE");
    assert_eq!(num(&create["gasCost"]), 32_002);
    assert_eq!(logs[at + 1]["depth"], 2);
    let stop = logs.last().unwrap();
    assert_eq!((stop["op"].as_str(), stop["depth"].as_u64()), (Some("STOP"), Some(1)));
    assert_eq!(num(&stop["gas"]), num(&create["gas"]) - 32_002 - INIT_GAS);
    // Clearing a slot: a 4800 refund from the next step on.
    let (hash, _) = chain.send(TxKind::Call(F), 0, GAS, "");
    let trace = chain.trace(hash, json!({}));
    let logs = trace["structLogs"].as_array().unwrap();
    assert_eq!(logs[2]["op"], "SSTORE");
    assert_eq!(num(&logs[2]["gasCost"]), 5_000);
    assert!(logs[2].get("refund").is_none());
    assert_eq!(logs[3]["op"], "STOP");
    assert_eq!(logs[3]["refund"], 4_800);
    assert_eq!(num(&trace["gas"]), 21_000 + 5_006 - 4_800);
    assert_eq!(num(&trace["gas"]), chain.gas_used(hash));
    // Out of gas: 100 gas is 8 loops of 12, JUMPDEST and PUSH1; JUMP fails
    // with geth's cost and error.
    let (hash, _) = chain.send(TxKind::Call(G), 0, 21_100, "");
    let trace = chain.trace(hash, json!({}));
    assert_eq!((trace["failed"].as_bool(), trace["returnValue"].as_str()), (Some(true), Some("0x")));
    assert_eq!(num(&trace["gas"]), 21_100);
    let logs = trace["structLogs"].as_array().unwrap();
    assert_eq!(logs.len(), 8 * 3 + 3);
    assert_eq!(
        logs.last().unwrap(),
        &json!({"pc": 3, "op": "JUMP", "gas": 0, "gasCost": 8, "depth": 1, "stack": ["0x0"], "error": "out of gas"})
    );
}

#[test]
fn call_tracer_frames_logs_and_reverts() {
    let mut chain = Chain::new();
    let (sender, _) = DEV_ACCOUNTS[0];
    let (hash, _) = chain.send(TxKind::Call(A), 0, GAS, "");
    let tracer = json!({"tracer": "callTracer", "tracerConfig": {"withLog": true}});
    let frame = chain.trace(hash, tracer);
    let expected = json!({
        "type": "CALL", "from": sender, "to": A, "value": "0x0",
        "gas": format!("{GAS:#x}"), "gasUsed": format!("{:#x}", chain.gas_used(hash)), "input": "0x",
        "calls": [
            {"type": "CALL", "from": A, "to": B, "value": "0x1", "gas": format!("{:#x}", 102_300),
             "gasUsed": format!("{B_GAS:#x}"), "input": "0x", "output": word(42),
             "logs": [{"address": B, "topics": [], "data": word(42), "position": "0x0"}]},
            {"type": "STATICCALL", "from": A, "to": D, "gas": "0xffff", "gasUsed": format!("{D_GAS:#x}"),
             "input": "0x", "output": format!("0x08c379a0{}{}{}", &word(32)[2..], &word(4)[2..],
                 "6e6f706500000000000000000000000000000000000000000000000000000000"),
             "error": "execution reverted", "revertReason": "nope"}
        ],
        "logs": [{"address": A, "topics": [word(1)], "data": word(42), "position": "0x1"}]
    });
    assert_eq!(frame, expected);
    let top = chain
        .trace(hash, json!({"tracer": "callTracer", "tracerConfig": {"onlyTopCall": true, "withLog": true}}));
    assert!(top.get("calls").is_none());
    assert_eq!(
        top["logs"],
        json!([{"address": A, "topics": [word(1)], "data": word(42), "position": "0x0"}])
    );
    // A top-level revert, a creation and a self-destruct.
    let (hash, _) = chain.send(TxKind::Call(D), 0, GAS, "");
    let frame = chain.trace(hash, json!({"tracer": "callTracer"}));
    assert_eq!(
        (frame["error"].as_str(), frame["revertReason"].as_str()),
        (Some("execution reverted"), Some("nope"))
    );
    let (hash, _) = chain.send(TxKind::Call(C), 0, GAS, "");
    let frame = chain.trace(hash, json!({"tracer": "callTracer"}));
    let create = &frame["calls"][0];
    assert_eq!(create["type"], "CREATE");
    assert_eq!((create["from"].clone(), create["to"].clone()), (json!(C), json!(C.create(1))));
    assert_eq!(
        (create["input"].clone(), create["output"].clone()),
        (json!(format!("0x{INIT}")), json!("0x00"))
    );
    assert_eq!((create["value"].clone(), num(&create["gasUsed"])), (json!("0x0"), INIT_GAS));
    let (hash, _) = chain.send(TxKind::Call(E), 0, GAS, "");
    let frame = chain.trace(hash, json!({"tracer": "callTracer"}));
    assert_eq!(
        frame["calls"],
        json!([{"type": "SELFDESTRUCT", "from": E, "to": HEIR, "gas": "0x0", "gasUsed": "0x0", "input": "0x", "value": "0x3e8"}])
    );
    // debug_traceCall on the latest state.
    let frame = chain
        .result("debug_traceCall", json!([{"from": sender, "to": B}, "latest", {"tracer": "callTracer"}]));
    assert_eq!((frame["output"].clone(), frame["to"].clone()), (json!(word(42)), json!(B)));
    let trace = chain.result("debug_traceCall", json!([{"to": G, "gas": "0x5208"}, "latest"]));
    let oog = json!({"pc": 0, "op": "JUMPDEST", "gas": 0, "gasCost": 1, "depth": 1, "stack": [], "error": "out of gas"});
    assert_eq!(trace, json!({"gas": 21_000, "failed": true, "returnValue": "0x", "structLogs": [oog]}));
}

/// The account fields the prestate tracer reports, read with plain calls at
/// `block`.
fn account_at(chain: &Chain, address: Address, block: u64, slots: &[String]) -> Value {
    let at = format!("{block:#x}");
    let balance = chain.result("eth_getBalance", json!([address, at]));
    let nonce = num(&chain.result("eth_getTransactionCount", json!([address, at])));
    let code = chain.result("eth_getCode", json!([address, at]));
    let mut account = json!({"balance": balance});
    if code != "0x" {
        let bytes = alloy_primitives::hex::decode(code.as_str().unwrap()).unwrap();
        account["code"] = code;
        account["codeHash"] = json!(keccak256(bytes));
    }
    if nonce > 0 {
        account["nonce"] = json!(nonce);
    }
    for slot in slots {
        account["storage"][slot] = chain.result("eth_getStorageAt", json!([address, slot, at]));
    }
    account
}

#[test]
fn prestate_tracer_matches_state_reads() {
    let mut chain = Chain::new();
    let (sender, _) = DEV_ACCOUNTS[0];
    // Block 1 pays the fee recipient, so it exists before block 2.
    chain.send(TxKind::Call(FRESH), 5, 21_000, "");
    let (hash, block) = chain.send(TxKind::Call(A), 0, GAS, "");
    let pre = chain.trace(hash, json!({"tracer": "prestateTracer"}));
    let touched: BTreeSet<&String> = pre.as_object().unwrap().keys().collect();
    let want: Vec<String> =
        [sender, A, B, D, COINBASE].iter().map(|a| json!(a).as_str().unwrap().to_owned()).collect();
    assert_eq!(touched, want.iter().collect::<BTreeSet<_>>());
    for (address, slots) in
        [(sender, vec![]), (A, vec![]), (B, vec![word(0)]), (D, vec![]), (COINBASE, vec![])]
    {
        assert_eq!(
            pre[json!(address).as_str().unwrap()],
            account_at(&chain, address, block - 1, &slots),
            "{address}"
        );
    }
    // Diff mode: only what changed, before and after.
    let diff = chain.trace(hash, json!({"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}));
    let changed: BTreeSet<&String> = diff["post"].as_object().unwrap().keys().collect();
    let want: Vec<String> =
        [sender, A, B, COINBASE].iter().map(|a| json!(a).as_str().unwrap().to_owned()).collect();
    assert_eq!(changed, want.iter().collect::<BTreeSet<_>>());
    let after = |address: Address| account_at(&chain, address, block, &[]);
    assert_eq!(
        diff["post"][json!(sender).as_str().unwrap()],
        json!({"balance": after(sender)["balance"], "nonce": 2})
    );
    assert_eq!(
        diff["post"][json!(B).as_str().unwrap()],
        json!({"balance": "0x1", "storage": {word(0): word(1)}})
    );
    assert_eq!(diff["post"][json!(A).as_str().unwrap()]["balance"], after(A)["balance"]);
    let b_before = &diff["pre"][json!(B).as_str().unwrap()];
    assert!(b_before.get("storage").is_none(), "a zero slot is not listed before: {b_before}");
    assert!(diff["pre"].get(json!(D).as_str().unwrap()).is_none());
    // A transfer to a new account: absent before, present after.
    let (hash, _) = chain.send(TxKind::Call(Address::with_last_byte(0x78)), 7, 21_000, "");
    let pre = chain.trace(hash, json!({"tracer": "prestateTracer"}));
    assert!(pre.get(json!(Address::with_last_byte(0x78)).as_str().unwrap()).is_none());
    let diff = chain.trace(hash, json!({"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}));
    assert_eq!(
        diff["post"][json!(Address::with_last_byte(0x78)).as_str().unwrap()],
        json!({"balance": "0x7"})
    );
    let with_empty =
        chain.trace(hash, json!({"tracer": "prestateTracer", "tracerConfig": {"includeEmpty": true}}));
    assert_eq!(with_empty[json!(Address::with_last_byte(0x78)).as_str().unwrap()], json!({"balance": "0x0"}));
    // A cleared slot: its old value before, zero after.
    let (hash, _) = chain.send(TxKind::Call(F), 0, GAS, "");
    let diff = chain.trace(hash, json!({"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}));
    let f = json!(F).as_str().unwrap().to_owned();
    assert_eq!(diff["pre"][&f]["storage"], json!({word(0): word(1)}));
    assert_eq!(diff["post"][&f], json!({"storage": {word(0): word(0)}}));
    let bare = chain.trace(
        hash,
        json!({"tracer": "prestateTracer", "tracerConfig": {"disableCode": true, "disableStorage": true}}),
    );
    assert_eq!(bare[&f], json!({"balance": "0x0", "codeHash": keccak256([0x60, 0, 0x60, 0, 0x55, 0])}));
}

#[test]
fn block_traces_and_errors() {
    let mut chain = Chain::new();
    let (hash, block) = chain.send(TxKind::Call(A), 0, GAS, "");
    let by_number =
        chain.result("debug_traceBlockByNumber", json!([format!("{block:#x}"), {"tracer": "callTracer"}]));
    let header = chain.result("eth_getBlockByNumber", json!([format!("{block:#x}"), false]));
    let by_hash = chain.result("debug_traceBlockByHash", json!([header["hash"], {"tracer": "callTracer"}]));
    assert_eq!(by_number, by_hash);
    assert_eq!(
        by_number,
        json!([{"txHash": hash, "result": chain.trace(hash, json!({"tracer": "callTracer"}))}])
    );
    assert_eq!(chain.error("debug_traceBlockByNumber", json!(["0x0"])), "genesis is not traceable");
    assert_eq!(chain.error("debug_traceBlockByNumber", json!(["0x63"])), "block #99 not found");
    assert_eq!(chain.error("debug_traceTransaction", json!([B256::ZERO])), "transaction not found");
    let bad =
        chain.error("debug_traceTransaction", json!([hash, {"tracer": "callTracer", "timeout": "soon"}]));
    assert_eq!(bad, "time: invalid duration \"soon\"");
    let slow = chain.error("debug_traceTransaction", json!([hash, {"timeout": "0s"}]));
    assert_eq!(slow, "execution timeout");
    let unknown = chain.error("debug_traceTransaction", json!([hash, {"tracer": "fourByteTracer"}]));
    assert!(unknown.contains("not supported"), "{unknown}");
}
