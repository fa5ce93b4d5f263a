//! The world state and the block environment in geth's t8n formats:
//! `alloc` (accounts by address; read as the pre-state, written as the
//! post-state) and `env` (the block being built and what is known of its
//! parent).

use super::json::{
    Fields, data, parse_address, parse_u256, quantity, to_address, to_b256, to_u64, to_u256, word,
};
use alloy_consensus::Header;
use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{B256, U256};
use mosaic_chain::{expected_base_fee, expected_excess_blob_gas};
use mosaic_executor::{BlockContext, InMemoryState};
use mosaic_primitives::{ChainSpec, Hardfork};
use revm::primitives::KECCAK_EMPTY;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Builds the pre-state from `{address: {balance, code?, nonce?, storage?}}`.
pub(super) fn parse_alloc(value: &Value) -> Result<InMemoryState, String> {
    let obj = value.as_object().ok_or("alloc: expected a JSON object {address: account}")?;
    let mut state = InMemoryState::default();
    for (key, account) in obj {
        let address = parse_address(key).map_err(|e| format!("alloc: {e}"))?;
        let what = format!("alloc: account {key}");
        let f = Fields::new(account, &what)?;
        let balance = f.u256("balance")?.unwrap_or_default();
        let nonce = f.u64("nonce")?.unwrap_or_default();
        let code = f.bytes("code")?.unwrap_or_default();
        let storage = match f.get("storage") {
            None => Vec::new(),
            Some(Value::Object(slots)) => slots
                .iter()
                .map(|(k, v)| {
                    let slot =
                        parse_u256(k.trim()).ok_or_else(|| format!("{what}: bad storage key {k:?}"))?;
                    let value = to_u256(v).map_err(|e| format!("{what}: storage {k}: {e}"))?;
                    Ok((slot, value))
                })
                .collect::<Result<Vec<_>, String>>()?,
            Some(_) => return Err(format!("{what}: `storage` must be an object {{slot: value}}")),
        };
        state.insert_account(address, nonce, balance, &code, storage);
    }
    Ok(state)
}

/// The whole state in geth's alloc format, sorted by address; zero nonces,
/// empty code and empty storage are left out as geth does.
pub(super) fn alloc_json(state: &InMemoryState) -> Value {
    let sorted: BTreeMap<_, _> = state.accounts.iter().collect();
    let mut out = Map::new();
    for (address, account) in sorted {
        let mut entry = Map::new();
        if account.code_hash != KECCAK_EMPTY
            && let Some(code) = state.codes.get(&account.code_hash)
        {
            entry.insert("code".into(), data(&code.original_bytes()));
        }
        if !account.storage.is_empty() {
            let slots: BTreeMap<U256, U256> = account.storage.iter().map(|(k, v)| (*k, *v)).collect();
            let storage = slots.into_iter().map(|(k, v)| (word(k), Value::String(word(v)))).collect();
            entry.insert("storage".into(), Value::Object(storage));
        }
        entry.insert("balance".into(), quantity(account.balance));
        if account.nonce != 0 {
            entry.insert("nonce".into(), quantity(account.nonce));
        }
        out.insert(alloy_primitives::hex::encode_prefixed(address), Value::Object(entry));
    }
    Value::Object(out)
}

/// The parsed environment: the block context and the ancestor hashes that
/// BLOCKHASH may read.
#[derive(Debug)]
pub(super) struct Env {
    pub(super) block: BlockContext,
    pub(super) block_hashes: HashMap<u64, B256>,
}

/// Parses geth's `env` object and fills in what geth derives from the
/// parent fields (base fee, excess blob gas).
pub(super) fn parse_env(value: &Value, spec: &ChainSpec) -> Result<Env, String> {
    let f = Fields::new(value, "env")?;
    let number = f.req_u64("currentNumber")?;
    let timestamp = f.req_u64("currentTimestamp")?;
    let fork = |fork| spec.is_active(fork, number, timestamp);

    let block_hashes = parse_block_hashes(f.get("blockHashes"))?;
    let parent_hash = match f.b256("parentHash")? {
        Some(h) => h,
        None => number.checked_sub(1).and_then(|n| block_hashes.get(&n).copied()).unwrap_or_default(),
    };
    let parent = Header {
        number: number.saturating_sub(1),
        timestamp: f.u64("parentTimestamp")?.unwrap_or_default(),
        base_fee_per_gas: f.u64("parentBaseFee")?,
        gas_used: f.u64("parentGasUsed")?.unwrap_or_default(),
        gas_limit: f.u64("parentGasLimit")?.unwrap_or_default(),
        excess_blob_gas: f.u64("parentExcessBlobGas")?,
        blob_gas_used: f.u64("parentBlobGasUsed")?,
        ..Default::default()
    };

    let base_fee = match f.u64("currentBaseFee")? {
        Some(fee) => Some(fee),
        None if fork(Hardfork::London) => {
            if parent.base_fee_per_gas.is_none() && spec.is_active(Hardfork::London, parent.number, 0) {
                return Err("env: London is active but neither `currentBaseFee` nor `parentBaseFee` \
                            (with `parentGasUsed` and `parentGasLimit`) is given"
                    .into());
            }
            expected_base_fee(spec, &parent, number, timestamp)
        }
        None => None,
    };

    let merged = spec.is_merged(number, timestamp);
    let (difficulty, mix_hash) = if merged {
        let random = f.b256("currentRandom")?.ok_or("env: post-merge blocks need `currentRandom`")?;
        (Default::default(), random)
    } else {
        let difficulty = f.u256("currentDifficulty")?.ok_or(
            "env: pre-merge blocks need `currentDifficulty` (deriving it from `parentDifficulty` is not supported)",
        )?;
        (difficulty, f.b256("currentRandom")?.unwrap_or_default())
    };

    let excess_blob_gas = match f.u64("currentExcessBlobGas")? {
        Some(v) => Some(v),
        None if fork(Hardfork::Cancun) => {
            if parent.excess_blob_gas.is_some() && parent.blob_gas_used.is_some() {
                expected_excess_blob_gas(spec, &parent, number, timestamp)
            } else {
                Some(0)
            }
        }
        None => None,
    };

    let parent_beacon_block_root = f.b256("parentBeaconBlockRoot")?;
    if fork(Hardfork::Cancun) && number > 0 && parent_beacon_block_root.is_none() {
        return Err("env: Cancun and later blocks need `parentBeaconBlockRoot`".into());
    }

    let ommers = f
        .list("ommers", |v| {
            let o = Fields::new(v, "ommer")?;
            let delta = o.req_u64("delta")?;
            let address = o.req_address("address")?;
            let n =
                number.checked_sub(delta).ok_or(format!("delta {delta} exceeds currentNumber {number}"))?;
            Ok((address, n))
        })?
        .unwrap_or_default();
    // As geth: withdrawals given before Shanghai are still paid out; from
    // Shanghai on, none given means an empty list.
    let withdrawals =
        f.list("withdrawals", parse_withdrawal)?.or_else(|| fork(Hardfork::Shanghai).then(Vec::new));

    let block = BlockContext {
        number,
        timestamp,
        beneficiary: f.req_address("currentCoinbase")?,
        gas_limit: f.req_u64("currentGasLimit")?,
        base_fee,
        difficulty,
        mix_hash,
        parent_hash,
        parent_beacon_block_root,
        excess_blob_gas,
        ommers,
        withdrawals,
    };
    Ok(Env { block, block_hashes })
}

fn parse_block_hashes(value: Option<&Value>) -> Result<HashMap<u64, B256>, String> {
    let Some(value) = value else { return Ok(HashMap::new()) };
    let obj = value.as_object().ok_or("env: `blockHashes` must be an object {number: hash}")?;
    obj.iter()
        .map(|(k, v)| {
            let n = parse_u256(k)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| format!("env: `blockHashes`: bad block number {k:?}"))?;
            let hash = to_b256(v).map_err(|e| format!("env: `blockHashes`: {k}: {e}"))?;
            Ok((n, hash))
        })
        .collect()
}

fn parse_withdrawal(v: &Value) -> Result<Withdrawal, String> {
    let w = Fields::new(v, "withdrawal")?;
    let get = |key: &str| -> Result<&Value, String> {
        w.get(key).ok_or_else(|| format!("missing required field `{key}`"))
    };
    let num = |key: &str| get(key).and_then(|v| to_u64(v).map_err(|e| format!("`{key}`: {e}")));
    Ok(Withdrawal {
        index: num("index")?,
        validator_index: num("validatorIndex")?,
        address: get("address").and_then(|v| to_address(v).map_err(|e| format!("`address`: {e}")))?,
        amount: num("amount")?,
    })
}
