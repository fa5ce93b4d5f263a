//! Identity of the chain and the node: `eth_chainId`, `net_version`,
//! `eth_blockNumber`, `eth_syncing`, `web3_clientVersion`, `net_listening`,
//! `net_peerCount`, `eth_config` (EIP-7910: the fork rules now, next and
//! last, with their EIP-2124 fork ids) and `eth_capabilities` (what history
//! the node keeps).

use super::{Api, Json, Kind, Method, json};
use crate::{
    error::ApiResult,
    forkid,
    params::{Args, BlockId, BlockTag},
};
use alloy_primitives::{Address, B256, U64, address};
use jsonrpsee::types::Params;
use mosaic_primitives::{ChainSpec, ForkCondition, Hardfork};
use serde_json::{Map, Value, json as j};

pub(crate) const METHODS: [(&str, Kind, Method); 10] = [
    ("eth_chainId", Kind::Quick, chain_id),
    ("net_version", Kind::Quick, net_version),
    ("eth_blockNumber", Kind::Quick, block_number),
    ("eth_syncing", Kind::Quick, syncing),
    ("web3_clientVersion", Kind::Quick, client_version),
    ("net_listening", Kind::Quick, listening),
    ("net_peerCount", Kind::Quick, peer_count),
    ("web3_sha3", Kind::Quick, sha3),
    ("eth_config", Kind::Quick, config),
    ("eth_capabilities", Kind::Quick, capabilities),
];

fn chain_id(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    json(&U64::from(api.ctx.spec.chain_id))
}

fn net_version(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    json(&api.ctx.spec.chain_id.to_string())
}

fn block_number(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    json(&U64::from(api.snapshot()?.require_head()?.number))
}

fn syncing(_: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    json(&false)
}

fn client_version(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    json(&api.config.client_version)
}

fn listening(_: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    json(&true)
}

fn peer_count(_: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    json(&U64::ZERO)
}

fn sha3(_: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let data = args.req(0, crate::params::bytes)?;
    json(&alloy_primitives::keccak256(&data))
}

/// Precompiles and the fork that adds them, with EIP-7910 names.
const PRECOMPILES: [(Hardfork, &str, u16); 18] = [
    (Hardfork::Frontier, "ECREC", 0x01),
    (Hardfork::Frontier, "SHA256", 0x02),
    (Hardfork::Frontier, "RIPEMD160", 0x03),
    (Hardfork::Frontier, "ID", 0x04),
    (Hardfork::Byzantium, "MODEXP", 0x05),
    (Hardfork::Byzantium, "BN254_ADD", 0x06),
    (Hardfork::Byzantium, "BN254_MUL", 0x07),
    (Hardfork::Byzantium, "BN254_PAIRING", 0x08),
    (Hardfork::Istanbul, "BLAKE2F", 0x09),
    (Hardfork::Cancun, "KZG_POINT_EVALUATION", 0x0a),
    (Hardfork::Prague, "BLS12_G1ADD", 0x0b),
    (Hardfork::Prague, "BLS12_G1MSM", 0x0c),
    (Hardfork::Prague, "BLS12_G2ADD", 0x0d),
    (Hardfork::Prague, "BLS12_G2MSM", 0x0e),
    (Hardfork::Prague, "BLS12_PAIRING_CHECK", 0x0f),
    (Hardfork::Prague, "BLS12_MAP_FP_TO_G1", 0x10),
    (Hardfork::Prague, "BLS12_MAP_FP2_TO_G2", 0x11),
    (Hardfork::Osaka, "P256VERIFY", 0x100),
];

fn precompile_address(n: u16) -> Address {
    let mut bytes = [0u8; 20];
    bytes[18..].copy_from_slice(&n.to_be_bytes());
    Address::from(bytes)
}

/// One EIP-7910 configuration: the rules of the fork active at `time`.
fn fork_config(spec: &ChainSpec, genesis: B256, genesis_time: u64, fork: Hardfork, time: u64) -> Value {
    let on = |f: Hardfork| fork >= f;
    let precompiles: Map<String, Value> = PRECOMPILES
        .iter()
        .filter(|(f, _, _)| on(*f))
        .map(|(_, name, n)| ((*name).to_owned(), j!(precompile_address(*n))))
        .collect();
    let mut system = Map::new();
    if on(Hardfork::Cancun) {
        system.insert("BEACON_ROOTS_ADDRESS".into(), j!(mosaic_executor::BEACON_ROOTS_ADDRESS));
    }
    if on(Hardfork::Prague) {
        system.insert(
            "CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS".into(),
            j!(mosaic_executor::CONSOLIDATION_REQUEST_ADDRESS),
        );
        let deposit = spec.deposit_contract.unwrap_or(address!("0x00000000219ab540356cbb839cbe05303d7705fa"));
        system.insert("DEPOSIT_CONTRACT_ADDRESS".into(), j!(deposit));
        system.insert("HISTORY_STORAGE_ADDRESS".into(), j!(mosaic_executor::HISTORY_STORAGE_ADDRESS));
        system.insert(
            "WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS".into(),
            j!(mosaic_executor::WITHDRAWAL_REQUEST_ADDRESS),
        );
    }
    // The fork's own activation block is past every block-numbered fork.
    let blob = spec
        .blob_schedule(u64::MAX, time)
        .map(|b| j!({"target": b.target, "max": b.max, "baseFeeUpdateFraction": b.update_fraction}));
    j!({
        "activationTime": time,
        "blobSchedule": blob,
        "chainId": U64::from(spec.chain_id),
        "forkId": forkid::fork_id(spec, genesis, genesis_time, time),
        "precompiles": precompiles,
        "systemContracts": system,
    })
}

fn config(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    let snapshot = api.snapshot()?;
    let head = Api::header(&snapshot, snapshot.require_head()?)?;
    let genesis_block = Api::require(&snapshot, BlockId::Tag(BlockTag::Earliest))?;
    let genesis = Api::header(&snapshot, genesis_block)?;
    let spec = &api.ctx.spec;
    let time_forks: Vec<(Hardfork, u64)> = Hardfork::ALL
        .into_iter()
        .filter_map(|f| match spec.condition(f) {
            ForkCondition::Timestamp(t) => Some((f, t)),
            _ => None,
        })
        .collect();
    let genesis_hash = genesis_block.hash;
    let entry = |fork: Hardfork, time: u64| fork_config(spec, genesis_hash, genesis.timestamp, fork, time);
    let current = time_forks.iter().rev().find(|(_, t)| *t <= head.timestamp);
    let next = time_forks.iter().find(|(_, t)| *t > head.timestamp);
    let last = time_forks.last().filter(|(_, t)| *t > head.timestamp);
    json(&j!({
        "current": current.map(|(f, t)| entry(*f, *t)),
        "next": next.map(|(f, t)| entry(*f, *t)),
        "last": last.map(|(f, t)| entry(*f, *t)),
    }))
}

fn capabilities(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    let snapshot = api.snapshot()?;
    let head = snapshot.require_head()?;
    let oldest = |n: u64| j!({"disabled": false, "oldestBlock": U64::from(n)});
    json(&j!({
        "head": {"number": U64::from(head.number), "hash": head.hash},
        "state": oldest(snapshot.oldest_readable_block()),
        "tx": oldest(0),
        "logs": oldest(0),
        "receipts": oldest(0),
        "blocks": oldest(0),
        "stateproofs": oldest(snapshot.oldest_readable_block()),
    }))
}
