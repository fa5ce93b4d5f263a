//! Pieces every workload shares: deterministic accounts, transaction and
//! block templates, ABI call encoding, artifact loading, and running setup
//! transactions through the sequential executor.

use crate::{WorkloadError, WorkloadResult};
use alloy_consensus::TxType;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use mosaic_executor::{
    BlockContext, Engine, ExecMode, ExecOptions, ExecStatus, ExecTx, InMemoryState, execute_block,
};
use mosaic_primitives::ChainSpec;
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};
use revm::{context::TxEnv, primitives::TxKind};
use std::path::PathBuf;

pub(crate) const BASE_FEE: u64 = 7;
pub(crate) const ETH: u128 = 1_000_000_000_000_000_000;

/// Deterministic distinct account number `i` of a namespace.
pub fn account(namespace: u8, i: u64) -> Address {
    let mut seed = [0u8; 9];
    seed[0] = namespace;
    seed[1..].copy_from_slice(&i.to_be_bytes());
    Address::from_slice(&keccak256(seed)[12..])
}

/// An EIP-1559 transaction paying the base fee plus a tip of 1.
pub(crate) fn tx(caller: Address, nonce: u64, to: TxKind, data: Bytes, gas_limit: u64) -> ExecTx {
    value_tx(caller, nonce, to, U256::ZERO, data, gas_limit)
}

/// [`tx`] with a value.
pub(crate) fn value_tx(
    caller: Address,
    nonce: u64,
    to: TxKind,
    value: U256,
    data: Bytes,
    gas_limit: u64,
) -> ExecTx {
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

/// The block context of setup and timed blocks.
pub(crate) fn block(gas_limit: u64) -> BlockContext {
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

/// A block over `txs` whose gas limit is the sum of theirs.
pub(crate) fn block_for(txs: &[ExecTx]) -> BlockContext {
    block(txs.iter().map(|t| t.env.gas_limit).sum())
}

pub(crate) fn spec() -> WorkloadResult<ChainSpec> {
    Ok(ChainSpec::from_fork_name("Cancun")?)
}

/// Runs setup transactions sequentially, checks that each succeeded, applies
/// them to `state` and returns their outputs (return data).
pub(crate) fn setup(
    spec: &ChainSpec,
    state: &mut InMemoryState,
    stage: &'static str,
    txs: &[ExecTx],
) -> WorkloadResult<Vec<Bytes>> {
    let options = ExecOptions {
        engine: Engine::Sequential,
        mode: ExecMode::Import,
        transactions_only: true,
        ..Default::default()
    };
    let out = execute_block(spec, &block_for(txs), txs, &*state, &options)
        .map_err(|e| WorkloadError::Execution { stage, source: Box::new(e) })?;
    if let Some((index, o)) = out.outcomes.iter().enumerate().find(|(_, o)| o.status != ExecStatus::Success) {
        return Err(WorkloadError::SetupFailed { stage, index, status: o.status.clone() });
    }
    state.apply(&out.diff);
    Ok(out.outcomes.into_iter().map(|o| o.output).collect())
}

/// An account that sends setup transactions in nonce order.
pub(crate) struct Sender {
    pub(crate) address: Address,
    pub(crate) nonce: u64,
}

impl Sender {
    /// A sender funded with `eth` ether in `state`.
    pub(crate) fn funded(state: &mut InMemoryState, address: Address, eth: u128) -> Self {
        state.insert_account(address, 0, U256::from(eth) * U256::from(ETH), &[], []);
        Self { address, nonce: 0 }
    }

    /// The next call from this sender.
    pub(crate) fn call(&mut self, to: Address, data: Bytes, gas_limit: u64) -> ExecTx {
        self.nonce += 1;
        tx(self.address, self.nonce - 1, TxKind::Call(to), data, gas_limit)
    }

    /// The next contract creation from this sender and its address.
    pub(crate) fn create(&mut self, init_code: Bytes, gas_limit: u64) -> (Address, ExecTx) {
        let address = self.address.create(self.nonce);
        self.nonce += 1;
        (address, tx(self.address, self.nonce - 1, TxKind::Create, init_code, gas_limit))
    }
}

/// ABI-encoded call data with static arguments.
pub(crate) struct Calldata(Vec<u8>);

impl Calldata {
    /// A call of `signature`, e.g. `transfer(address,uint256)`.
    pub(crate) fn new(signature: &str) -> Self {
        Self(keccak256(signature.as_bytes())[..4].to_vec())
    }

    /// Bare ABI words (no selector).
    pub(crate) fn empty() -> Self {
        Self(Vec::new())
    }

    /// Constructor arguments appended to init code.
    pub(crate) fn init_code(code: Bytes) -> Self {
        Self(code.to_vec())
    }

    pub(crate) fn uint(mut self, v: U256) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes::<32>());
        self
    }

    pub(crate) fn u128(self, v: u128) -> Self {
        self.uint(U256::from(v))
    }

    /// A signed integer (two's complement over 256 bits).
    pub(crate) fn int(self, v: i64) -> Self {
        let magnitude = U256::from(v.unsigned_abs());
        self.uint(if v < 0 { U256::ZERO.wrapping_sub(magnitude) } else { magnitude })
    }

    pub(crate) fn address(mut self, a: Address) -> Self {
        self.0.extend_from_slice(&[0u8; 12]);
        self.0.extend_from_slice(a.as_slice());
        self
    }

    /// A short string as a tail (length, then the bytes padded to 32).
    pub(crate) fn string_tail(mut self, s: &str) -> Self {
        self = self.u128(s.len() as u128);
        let mut bytes = s.as_bytes().to_vec();
        bytes.resize(s.len().div_ceil(32) * 32, 0);
        self.0.extend(bytes);
        self
    }

    pub(crate) fn build(self) -> Bytes {
        self.0.into()
    }
}

/// The folder holding the npm artifacts (`MOSAIC_BENCH_ARTIFACTS` or the
/// repository's `bench/node_modules`).
pub fn artifacts_dir() -> PathBuf {
    std::env::var_os("MOSAIC_BENCH_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/node_modules"))
}

/// The creation bytecode of an artifact under [`artifacts_dir`].
pub(crate) fn artifact_bytecode(relative: &str) -> WorkloadResult<Bytes> {
    let path = artifacts_dir().join(relative);
    let text = std::fs::read_to_string(&path)
        .map_err(|source| WorkloadError::MissingArtifact { path: path.clone(), source })?;
    let bad = |reason: String| WorkloadError::BadArtifact { path: path.clone(), reason };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let hex = json["bytecode"].as_str().ok_or_else(|| bad("no `bytecode` string".into()))?;
    hex.parse::<Bytes>().map_err(|e| bad(format!("bad bytecode hex: {e}")))
}

pub(crate) const TOKEN_ARTIFACT: &str = "@openzeppelin/contracts/build/contracts/ERC20PresetFixedSupply.json";

/// Init code of an OpenZeppelin `ERC20PresetFixedSupply` minting `supply`
/// to `owner`.
pub(crate) fn token_init_code(
    name: &str,
    symbol: &str,
    supply: U256,
    owner: Address,
) -> WorkloadResult<Bytes> {
    // constructor(string name, string symbol, uint256 initialSupply, address owner)
    Ok(Calldata::init_code(artifact_bytecode(TOKEN_ARTIFACT)?)
        .u128(128)
        .u128(192)
        .uint(supply)
        .address(owner)
        .string_tail(name)
        .string_tail(symbol)
        .build())
}

/// `transfer(to, amount)` call data.
pub(crate) fn transfer_call(to: Address, amount: U256) -> Bytes {
    Calldata::new("transfer(address,uint256)").address(to).uint(amount).build()
}

/// `approve(spender, type(uint256).max)` call data.
pub(crate) fn approve_max_call(spender: Address) -> Bytes {
    Calldata::new("approve(address,uint256)").address(spender).uint(U256::MAX).build()
}

/// Exactly `round(n * ratio)` of `n` flags set, at positions drawn from a
/// fixed seed.
pub(crate) fn hot_flags(n: usize, ratio: f64, seed: u64) -> WorkloadResult<Vec<bool>> {
    if !(0.0..=1.0).contains(&ratio) {
        return Err(WorkloadError::InvalidParameter {
            name: "hot ratio",
            reason: format!("{ratio} is not between 0 and 1"),
        });
    }
    let hot = ((n as f64) * ratio).round() as usize;
    let mut flags: Vec<bool> = (0..n).map(|i| i < hot).collect();
    flags.shuffle(&mut StdRng::seed_from_u64(seed));
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calldata_matches_known_encodings() {
        // Selector of ERC-20 transfer, and an int24 tick as a 256-bit word.
        let data = Calldata::new("transfer(address,uint256)").int(-887_220).int(60).build();
        assert_eq!(&data[..4], &[0xa9, 0x05, 0x9c, 0xbb]);
        assert_eq!(&data[4..32], &[0xff; 28]);
        assert_eq!(&data[32..36], &[0xff, 0xf2, 0x76, 0x4c]);
        assert_eq!(&data[36..67], &[0; 31]);
        assert_eq!(data[67], 60);
        let a = account(1, 2);
        let data = Calldata::empty().address(a).string_tail("MSC").build();
        assert_eq!(&data[..12], &[0; 12]);
        assert_eq!(&data[12..32], a.as_slice());
        assert_eq!(data[63], 3);
        assert_eq!(&data[64..67], b"MSC");
        assert_eq!(data.len(), 96);
    }

    #[test]
    fn hot_flags_are_exact_and_deterministic() {
        let flags = hot_flags(1_000, 0.25, 9).unwrap();
        assert_eq!(flags.iter().filter(|&&f| f).count(), 250);
        assert_eq!(flags, hot_flags(1_000, 0.25, 9).unwrap());
        assert!(hot_flags(10, 0.0, 1).unwrap().iter().all(|&f| !f));
        assert!(hot_flags(10, 1.0, 1).unwrap().iter().all(|&f| f));
        assert!(hot_flags(10, 1.5, 1).is_err());
        assert!(hot_flags(10, f64::NAN, 1).is_err());
    }
}
