//! Benchmark blocks: pre-state built by setup transactions, then the
//! measured block.

use alloy_consensus::TxType;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use eyre::{Context, eyre};
use mosaic_executor::{
    BlockContext, Engine, ExecMode, ExecOptions, ExecStatus, ExecTx, InMemoryState, execute_block,
};
use mosaic_primitives::ChainSpec;
use revm::{context::TxEnv, primitives::TxKind};
use std::path::{Path, PathBuf};

/// A prepared benchmark: the state and the block to time.
pub(crate) struct Prepared {
    pub(crate) spec: ChainSpec,
    pub(crate) state: InMemoryState,
    pub(crate) block: BlockContext,
    pub(crate) txs: Vec<ExecTx>,
}

const BASE_FEE: u64 = 7;
const ETH: u128 = 1_000_000_000_000_000_000;

/// Deterministic distinct account number `i` of a namespace.
pub(crate) fn account(namespace: u8, i: u64) -> Address {
    let mut seed = [0u8; 9];
    seed[0] = namespace;
    seed[1..].copy_from_slice(&i.to_be_bytes());
    Address::from_slice(&keccak256(seed)[12..])
}

fn tx(caller: Address, nonce: u64, to: TxKind, value: U256, data: Bytes, gas_limit: u64) -> ExecTx {
    let env = TxEnv {
        tx_type: TxType::Eip1559 as u8,
        caller,
        gas_limit,
        gas_price: u128::from(BASE_FEE) + 10,
        gas_priority_fee: Some(1),
        kind: to,
        value,
        data,
        nonce,
        chain_id: Some(1),
        ..Default::default()
    };
    ExecTx { env, tx_type: TxType::Eip1559, hash: B256::ZERO }
}

fn block(gas_limit: u64) -> BlockContext {
    BlockContext {
        number: 1,
        timestamp: 12,
        beneficiary: account(0xcb, 0),
        gas_limit,
        base_fee: Some(BASE_FEE),
        parent_beacon_block_root: Some(B256::ZERO),
        excess_blob_gas: Some(0),
        withdrawals: Some(Vec::new()),
        ..Default::default()
    }
}

fn spec() -> eyre::Result<ChainSpec> {
    ChainSpec::from_fork_name("Cancun").map_err(|e| eyre!("{e}"))
}

/// `n` transfers of 21,000 gas between distinct accounts.
pub(crate) fn raw(n: usize) -> eyre::Result<Prepared> {
    let mut state = InMemoryState::default();
    let mut txs = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let from = account(1, i);
        state.insert_account(from, 0, U256::from(ETH), &[], []);
        txs.push(tx(from, 0, TxKind::Call(account(2, i)), U256::from(1), Bytes::new(), 21_000));
    }
    Ok(Prepared { spec: spec()?, state, block: block(21_000 * n as u64), txs })
}

/// The folder holding the npm artifacts.
pub(crate) fn artifacts_dir() -> PathBuf {
    std::env::var_os("MOSAIC_BENCH_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/node_modules"))
}

fn artifact_bytecode(path: &Path) -> eyre::Result<Bytes> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("{}: missing artifact; run scripts/install-bench-artifacts.sh first", path.display())
    })?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let hex = json["bytecode"].as_str().ok_or_else(|| eyre!("{}: no `bytecode` string", path.display()))?;
    hex.parse::<Bytes>().with_context(|| format!("{}: bad bytecode hex", path.display()))
}

fn word(v: U256) -> [u8; 32] {
    v.to_be_bytes()
}

fn address_word(a: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

/// ABI encoding of one short string as a tail (length + padded bytes).
fn string_tail(s: &str) -> Vec<u8> {
    let mut out = word(U256::from(s.len())).to_vec();
    let mut bytes = s.as_bytes().to_vec();
    bytes.resize(s.len().div_ceil(32) * 32, 0);
    out.extend(bytes);
    out
}

/// Runs setup transactions sequentially and applies them to `state`.
fn setup(spec: &ChainSpec, state: &mut InMemoryState, txs: &[ExecTx]) -> eyre::Result<()> {
    let gas: u64 = txs.iter().map(|t| t.env.gas_limit).sum();
    let options = ExecOptions {
        engine: Engine::Sequential,
        mode: ExecMode::Import,
        transactions_only: true,
        ..Default::default()
    };
    let out = execute_block(spec, &block(gas), txs, &*state, &options).map_err(|e| eyre!("setup: {e}"))?;
    if let Some((i, o)) = out.outcomes.iter().enumerate().find(|(_, o)| o.status != ExecStatus::Success) {
        return Err(eyre!("setup transaction {i} failed: {:?}", o.status));
    }
    state.apply(&out.diff);
    Ok(())
}

fn transfer_call(to: Address, amount: U256) -> Bytes {
    let mut data = vec![0xa9, 0x05, 0x9c, 0xbb];
    data.extend(address_word(to));
    data.extend(word(amount));
    data.into()
}

/// `n` OpenZeppelin ERC-20 transfers between distinct holders.
pub(crate) fn erc20(n: usize) -> eyre::Result<Prepared> {
    let spec = spec()?;
    let path = artifacts_dir().join("@openzeppelin/contracts/build/contracts/ERC20PresetFixedSupply.json");
    let mut code = artifact_bytecode(&path)?.to_vec();
    let deployer = account(3, 0);
    let supply = U256::from(u128::MAX);
    // constructor(string name, string symbol, uint256 initialSupply, address owner)
    code.extend(word(U256::from(128)));
    code.extend(word(U256::from(192)));
    code.extend(word(supply));
    code.extend(address_word(deployer));
    code.extend(string_tail("Mosaic"));
    code.extend(string_tail("MSC"));
    let mut state = InMemoryState::default();
    state.insert_account(deployer, 0, U256::from(1_000_000 * ETH), &[], []);
    let token = deployer.create(0);
    setup(&spec, &mut state, &[tx(deployer, 0, TxKind::Create, U256::ZERO, code.into(), 5_000_000)])?;
    // Senders and recipients both hold tokens already, as on a live chain.
    let mut funding = Vec::with_capacity(2 * n);
    for i in 0..n as u64 {
        let holder = account(4, i);
        state.insert_account(holder, 0, U256::from(ETH), &[], []);
        for to in [holder, account(5, i)] {
            let nonce = funding.len() as u64 + 1;
            let data = transfer_call(to, U256::from(1_000_000u64));
            funding.push(tx(deployer, nonce, TxKind::Call(token), U256::ZERO, data, 100_000));
        }
    }
    setup(&spec, &mut state, &funding)?;
    let txs: Vec<ExecTx> = (0..n as u64)
        .map(|i| {
            tx(
                account(4, i),
                0,
                TxKind::Call(token),
                U256::ZERO,
                transfer_call(account(5, i), U256::from(7u64)),
                60_000,
            )
        })
        .collect();
    let gas = txs.iter().map(|t| t.env.gas_limit).sum();
    Ok(Prepared { spec, state, block: block(gas), txs })
}
