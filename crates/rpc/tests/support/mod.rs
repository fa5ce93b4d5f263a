//! A node for the server tests: a store holding only a Prague genesis with a
//! funded key, a contract that loops forever and a contract that emits a log,
//! a fresh pool, and the server on ephemeral ports; plus raw HTTP helpers.

#![allow(dead_code, clippy::unwrap_used)]

pub(crate) mod ws;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_genesis::Genesis;
use alloy_primitives::{Address, Signature, TxKind, U256, keccak256};
use k256::ecdsa::SigningKey;
use mosaic_chain::{PoolConfig, StoredChain, TxPool};
use mosaic_primitives::ChainSpec;
use mosaic_rpc::{RpcConfig, RpcContext, RpcHandle, start};
use mosaic_storage::Store;
use serde_json::Value;
use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

/// `JUMPDEST PUSH1 0 JUMP`: runs until out of gas or time.
pub(crate) const LOOP: Address = Address::with_last_byte(0xaa);
pub(crate) const CHAIN_ID: u64 = 1337;

pub(crate) struct Node {
    pub(crate) handle: RpcHandle,
    pub(crate) store: Arc<Store>,
    pub(crate) pool: Arc<TxPool>,
    pub(crate) key: SigningKey,
    pub(crate) address: Address,
    pub(crate) new_txs: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

pub(crate) fn key_address(key: &SigningKey) -> Address {
    let point = key.verifying_key().to_encoded_point(false);
    Address::from_slice(&keccak256(&point.as_bytes()[1..])[12..])
}

/// Extra funded keys (secrets `[i; 32]`, i = 1..=32) for load tests.
pub(crate) fn extra_keys() -> Vec<SigningKey> {
    (1u8..=32).map(|i| SigningKey::from_slice(&[i; 32]).unwrap()).collect()
}

fn genesis(funded: Address) -> Genesis {
    let extra: String = extra_keys()
        .iter()
        .map(|k| format!(r#""{}":{{"balance":"0x3635c9adc5dea00000"}},"#, key_address(k)))
        .collect();
    let json = format!(
        r#"{{"config":{{"chainId":{CHAIN_ID},"homesteadBlock":0,"eip150Block":0,"eip155Block":0,"eip158Block":0,
        "byzantiumBlock":0,"constantinopleBlock":0,"petersburgBlock":0,"istanbulBlock":0,"berlinBlock":0,
        "londonBlock":0,"mergeNetsplitBlock":0,"terminalTotalDifficulty":0,"terminalTotalDifficultyPassed":true,
        "shanghaiTime":0,"cancunTime":0,"pragueTime":0}},
        "alloc":{{{extra}"{funded}":{{"balance":"0x3635c9adc5dea00000"}},"{LOOP}":{{"code":"0x5b600056","balance":"0x0"}}}},
        "gasLimit":"0x1c9c380","difficulty":"0x0","baseFeePerGas":"0x3b9aca00","timestamp":"0x0","extraData":"0x",
        "nonce":"0x0","mixHash":"0x0000000000000000000000000000000000000000000000000000000000000000",
        "coinbase":"0x0000000000000000000000000000000000000000"}}"#
    );
    serde_json::from_str(&json).unwrap()
}

/// A node with `config` (addresses replaced by ephemeral ones).
pub(crate) fn node_with(mut config: RpcConfig) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let address = key_address(&key);
    let genesis = genesis(address);
    let spec = ChainSpec::from_genesis(&genesis).unwrap();
    let store = Store::create(dir.path().join("db.redb")).unwrap();
    StoredChain::init_genesis(&store, &genesis, &spec).unwrap();
    let store = Arc::new(store);
    let spec = Arc::new(spec);
    let pool = Arc::new(TxPool::new(Arc::clone(&spec), PoolConfig::default()));
    let new_txs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&new_txs);
    let ctx = RpcContext {
        store: Arc::clone(&store),
        pool: Arc::clone(&pool),
        spec,
        on_new_tx: Arc::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
        }),
    };
    let ephemeral = RpcConfig::ephemeral();
    config.http_addr = ephemeral.http_addr;
    config.ws_addr = ephemeral.ws_addr;
    let handle = start(ctx, config).unwrap();
    Node { handle, store, pool, key, address, new_txs, _dir: dir }
}

pub(crate) fn node() -> Node {
    node_with(RpcConfig::default())
}

/// A signed transfer of `value` wei from the node's key.
pub(crate) fn transfer(node: &Node, nonce: u64, value: u64) -> TxEnvelope {
    transfer_from(&node.key, nonce, value)
}

/// A signed transfer of `value` wei from `key`.
pub(crate) fn transfer_from(key: &SigningKey, nonce: u64, value: u64) -> TxEnvelope {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::with_last_byte(0x42)),
        value: U256::from(value),
        ..Default::default()
    };
    let hash = tx.signature_hash();
    let (sig, recid) = key.sign_prehash_recoverable(hash.as_slice()).unwrap();
    TxEnvelope::from(tx.into_signed(Signature::from_signature_and_parity(sig, recid.is_y_odd())))
}

pub(crate) fn raw(tx: &TxEnvelope) -> String {
    format!("0x{}", alloy_primitives::hex::encode(tx.encoded_2718()))
}

/// A raw HTTP exchange: status code, headers and body.
pub(crate) struct HttpReply {
    pub(crate) status: u16,
    pub(crate) headers: String,
    pub(crate) body: String,
}

/// Sends `request` (a whole HTTP request) and reads the reply.
pub(crate) fn http_raw(addr: SocketAddr, request: &[u8]) -> std::io::Result<HttpReply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.write_all(request)?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(e),
        };
        reply.extend_from_slice(&buf[..n]);
        if let Some(end) = find(&reply, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&reply[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok());
            if let Some(length) = length
                && reply.len() >= end + 4 + length
            {
                break;
            }
        }
    }
    let end = find(&reply, b"\r\n\r\n").unwrap_or(reply.len());
    let head = String::from_utf8_lossy(&reply[..end]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = String::from_utf8_lossy(reply.get(end + 4..).unwrap_or_default()).to_string();
    Ok(HttpReply { status, headers: head, body })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// POSTs `body` as JSON.
pub(crate) fn post(addr: SocketAddr, body: &[u8]) -> HttpReply {
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    http_raw(addr, &request).unwrap()
}

/// Calls `method` with `params` and returns the whole response.
pub(crate) fn call(addr: SocketAddr, method: &str, params: Value) -> Value {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let reply = post(addr, body.to_string().as_bytes());
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{method}: {e}: {:?}", reply.body))
}
