//! The genesis block and state of a geth-format `genesis.json`.

use crate::state_root;
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header};
use alloy_eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy_genesis::Genesis;
use alloy_primitives::{B256, U256};
use alloy_trie::EMPTY_ROOT_HASH;
use mosaic_executor::InMemoryState;
use mosaic_primitives::{ChainSpec, Hardfork};

/// The genesis allocation as a state.
pub fn genesis_state(genesis: &Genesis) -> InMemoryState {
    let mut state = InMemoryState::default();
    for (address, account) in &genesis.alloc {
        let storage = account
            .storage
            .iter()
            .flatten()
            .map(|(k, v)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0)));
        let code = account.code.as_ref().map(|c| c.as_ref()).unwrap_or_default();
        state.insert_account(*address, account.nonce.unwrap_or_default(), account.balance, code, storage);
    }
    state
}

/// The genesis header, with the state root of `state`.
pub fn genesis_header(genesis: &Genesis, spec: &ChainSpec, state: &InMemoryState) -> Header {
    let t = genesis.timestamp;
    let active = |f| spec.is_active(f, 0, t);
    let cancun = active(Hardfork::Cancun);
    Header {
        parent_hash: genesis.parent_hash.unwrap_or_default(),
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: genesis.coinbase,
        state_root: state_root(state),
        transactions_root: EMPTY_ROOT_HASH,
        receipts_root: EMPTY_ROOT_HASH,
        difficulty: genesis.difficulty,
        number: genesis.number.unwrap_or_default(),
        gas_limit: genesis.gas_limit,
        timestamp: t,
        extra_data: genesis.extra_data.clone(),
        mix_hash: genesis.mix_hash,
        nonce: genesis.nonce.into(),
        base_fee_per_gas: active(Hardfork::London)
            .then(|| genesis.base_fee_per_gas.map_or(1_000_000_000, |f| f as u64)),
        withdrawals_root: active(Hardfork::Shanghai).then_some(EMPTY_ROOT_HASH),
        blob_gas_used: cancun.then(|| genesis.blob_gas_used.unwrap_or_default()),
        excess_blob_gas: cancun.then(|| genesis.excess_blob_gas.unwrap_or_default()),
        parent_beacon_block_root: cancun.then_some(B256::ZERO),
        requests_hash: active(Hardfork::Prague).then_some(EMPTY_REQUESTS_HASH),
        ..Default::default()
    }
}
