//! Account state: `eth_getBalance`, `eth_getCode`, `eth_getStorageAt`,
//! `eth_getStorageValues`, `eth_getTransactionCount` (with `pending` counting
//! the pool) and `eth_getProof` (EIP-1186, at any block whose state is kept).

use super::{Api, BlockState, Json, Kind, Method, json};
use crate::{
    error::{ApiError, ApiResult},
    params::{self, Args, BlockId, BlockTag},
};
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use jsonrpsee::types::Params;
use mosaic_executor::StateProvider;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub(crate) const METHODS: [(&str, Kind, Method); 6] = [
    ("eth_getBalance", Kind::Quick, get_balance),
    ("eth_getCode", Kind::Quick, get_code),
    ("eth_getStorageAt", Kind::Quick, get_storage_at),
    ("eth_getStorageValues", Kind::Blocking, get_storage_values),
    ("eth_getTransactionCount", Kind::Quick, get_transaction_count),
    ("eth_getProof", Kind::Heavy, get_proof),
];

/// Most slots one `eth_getStorageValues` or `eth_getProof` may ask for.
const MAX_SLOTS: usize = 1024;

fn get_balance(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let address = args.req(0, params::address)?;
    let at = api.state_at(args.block_or_latest(1)?)?;
    json(&at.state.account(address)?.map(|a| a.balance).unwrap_or_default())
}

fn get_code(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let address = args.req(0, params::address)?;
    let at = api.state_at(args.block_or_latest(1)?)?;
    let code = match at.state.account(address)? {
        Some(account) => at.state.code_by_hash(account.code_hash)?.original_bytes(),
        None => Bytes::new(),
    };
    json(&code)
}

fn get_storage_at(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 3)?;
    let address = args.req(0, params::address)?;
    let (slot, _) = storage_key_arg(&args, 1)?;
    let at = api.state_at(args.block_or_latest(2)?)?;
    json(&B256::from(at.state.storage(address, slot.into())?))
}

/// A storage key argument; geth answers a bad key without the usual
/// `invalid argument N:` prefix.
fn storage_key_arg(args: &Args, i: usize) -> ApiResult<(B256, usize)> {
    let value = args
        .get(i)
        .ok_or_else(|| ApiError::invalid_params(format!("missing value for required argument {i}")))?;
    params::storage_key(value).map_err(ApiError::invalid_params)
}

fn get_storage_values(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let request = args.req(0, |v| match v {
        Value::Object(map) => Ok(map.clone()),
        other => Err(params::type_error(
            params::kind(other),
            "map[common.Address][]common.Hash",
            params::At::Value,
        )),
    })?;
    if request.is_empty() {
        return Err(ApiError::invalid_params("empty request"));
    }
    let mut wanted: Vec<(Address, Vec<B256>)> = Vec::with_capacity(request.len());
    let mut total = 0;
    for (key, slots) in &request {
        let address = params::address(&Value::String(key.clone())).map_err(ApiError::invalid_params)?;
        let Value::Array(slots) = slots else {
            return Err(ApiError::invalid_params(format!("invalid slots for {key}")));
        };
        total += slots.len();
        if total > MAX_SLOTS {
            return Err(ApiError::invalid_params(format!("too many slots (max {MAX_SLOTS})")));
        }
        let slots = slots
            .iter()
            .map(|s| params::storage_key(s).map(|(k, _)| k).map_err(ApiError::invalid_params))
            .collect::<ApiResult<Vec<_>>>()?;
        wanted.push((address, slots));
    }
    let at = api.state_at(args.block_or_latest(1)?)?;
    let mut out = BTreeMap::new();
    for (address, slots) in wanted {
        let values = slots
            .into_iter()
            .map(|slot| at.state.storage(address, slot.into()).map(B256::from))
            .collect::<Result<Vec<_>, _>>()?;
        out.insert(address, values);
    }
    json(&out)
}

fn get_transaction_count(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 2)?;
    let address = args.req(0, params::address)?;
    let id = args.block_or_latest(1)?;
    let at = api.state_at(id)?;
    let mut nonce = at.state.account(address)?.map(|a| a.nonce).unwrap_or_default();
    if id == BlockId::Tag(BlockTag::Pending)
        && let Some(next) = api.ctx.pool.next_nonce(address)
    {
        nonce = nonce.max(next);
    }
    json(&U64::from(nonce))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StorageProofJson {
    key: String,
    value: U256,
    proof: Vec<Bytes>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountProofJson {
    address: Address,
    account_proof: Vec<Bytes>,
    balance: U256,
    code_hash: B256,
    nonce: U64,
    storage_hash: B256,
    storage_proof: Vec<StorageProofJson>,
}

fn get_proof(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 3)?;
    let address = args.req(0, params::address)?;
    let keys = args.req(1, |v| match v {
        Value::Array(items) => items.iter().map(params::storage_key).collect::<Result<Vec<_>, _>>(),
        other => Err(params::type_error(params::kind(other), "[]string", params::At::Value)),
    })?;
    if keys.len() > MAX_SLOTS {
        return Err(ApiError::invalid_params(format!("too many storage keys (max {MAX_SLOTS})")));
    }
    let at = api.state_at(args.block_or_latest(2)?)?;
    let slots: Vec<B256> = keys.iter().map(|(k, _)| *k).collect();
    let proof = api.heavy(|| match &at.state {
        BlockState::Latest(state) => mosaic_trie::account_proof(state, address, &slots),
        BlockState::Historical(state) => mosaic_trie::account_proof(state, address, &slots),
    })?;
    let account = proof.account;
    let storage_proof = proof
        .storage_proofs
        .into_iter()
        .zip(&keys)
        .map(|(p, (key, len))| StorageProofJson {
            key: if *len == 32 { key.to_string() } else { format!("{:#x}", U256::from_be_bytes(key.0)) },
            value: p.value,
            proof: p.proof,
        })
        .collect();
    json(&AccountProofJson {
        address,
        account_proof: proof.proof,
        balance: account.map(|a| a.balance).unwrap_or_default(),
        code_hash: account.map_or(mosaic_trie::KECCAK_EMPTY, |a| a.code_hash),
        nonce: U64::from(account.map(|a| a.nonce).unwrap_or_default()),
        storage_hash: account.map_or(mosaic_trie::EMPTY_ROOT_HASH, |a| a.storage_root),
        storage_proof,
    })
}
