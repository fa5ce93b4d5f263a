//! Helpers shared by the tests that run `mosaic node --dev` as a process:
//! its HTTP address, JSON-RPC calls and signed dev-account transfers.

#![allow(clippy::unwrap_used, unreachable_pub)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Signature, TxKind, U256};
use mosaic_chain::DEV_ACCOUNTS;
use mosaic_rpc::compat::client::HttpClient;
use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::ChildStdout,
    sync::mpsc,
    time::Duration,
};

/// The HTTP JSON-RPC address the node prints on `stdout`. The pipe is read
/// on to its end on a thread of its own, so the node never blocks on it.
pub fn http_address(stdout: ChildStdout) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("HTTP JSON-RPC on http://") {
                let _ = tx.send(addr.trim().parse::<SocketAddr>().unwrap());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("node printed no HTTP address")
}

/// Calls `method`; panics on a JSON-RPC error.
pub fn rpc(client: &mut HttpClient, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let answer: Value = serde_json::from_str(&client.post(&body).unwrap()).unwrap();
    assert!(answer.get("error").is_none(), "{method} {params}: {answer}");
    answer["result"].clone()
}

/// A signed EIP-1559 transfer of `value` wei from dev account `sender` to
/// `to` on the dev chain: the raw transaction as hex, and its hash.
pub fn signed_transfer(sender: usize, nonce: u64, to: Address, value: u64) -> (String, B256) {
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(to),
        value: U256::from(value),
        ..Default::default()
    };
    let key = k256::ecdsa::SigningKey::from_slice(DEV_ACCOUNTS[sender].1.as_slice()).unwrap();
    let (sig, recovery) = key.sign_prehash_recoverable(tx.signature_hash().as_slice()).unwrap();
    let envelope: TxEnvelope =
        tx.into_signed(Signature::from_signature_and_parity(sig, recovery.is_y_odd())).into();
    (format!("0x{}", alloy_primitives::hex::encode(envelope.encoded_2718())), *envelope.tx_hash())
}
