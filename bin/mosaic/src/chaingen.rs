//! `mosaic gen-chain`: writes a valid post-merge chain (genesis.json +
//! chain.rlp) of signed transactions, for import benchmarks and crash tests.
//!
//! Senders are deterministic keys funded in genesis. Each block mixes value
//! transfers to fresh and existing accounts with calls to a small storage
//! contract (`sstore(calldata[0], calldata[32])`) that write, overwrite and
//! clear slots, so the chain exercises account and storage tries, and
//! deletions. Blocks are built by the node's own builder; roots come from the
//! trie crate's incremental root over an in-memory store.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_genesis::Genesis;
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, keccak256};
use clap::Args;
use eyre::{Result, eyre};
use mosaic_chain::{
    BlockAttributes, BlockError, build_block, dev_genesis_json, genesis_header, genesis_state, write_block,
};
use mosaic_executor::{ExecOptions, InMemoryState};
use mosaic_primitives::ChainSpec;
use mosaic_trie::{MemoryTrieStore, state_root_incremental};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::path::PathBuf;

/// The storage contract: `sstore(calldataload(0), calldataload(32))`.
const STORE_CODE: &str = "0x6020356000355500";
/// Where genesis puts it.
const STORE_ADDRESS: Address = Address::repeat_byte(0x5e);

/// Arguments of `mosaic gen-chain`.
#[derive(Debug, Clone, Args)]
pub(crate) struct GenChainArgs {
    /// Blocks to generate.
    #[arg(long, default_value_t = 1000)]
    pub(crate) blocks: u64,
    /// Transactions per block.
    #[arg(long, default_value_t = 100)]
    pub(crate) txs: usize,
    /// Funded senders.
    #[arg(long, default_value_t = 200)]
    pub(crate) senders: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Output directory (gets genesis.json and chain.rlp).
    #[arg(long)]
    pub(crate) out: PathBuf,
}

/// `mosaic gen-chain`.
pub(crate) fn run(args: &GenChainArgs) -> Result<bool> {
    let gas = generate(args)?;
    println!(
        "generated {} blocks ({} txs, {:.1} Mgas) in {}",
        args.blocks,
        args.blocks * args.txs as u64,
        gas as f64 / 1e6,
        args.out.display()
    );
    Ok(true)
}

pub(crate) fn key(seed: u64, i: usize) -> k256::ecdsa::SigningKey {
    let mut n = 0u64;
    loop {
        let bytes = keccak256([seed.to_be_bytes(), (i as u64).to_be_bytes(), n.to_be_bytes()].concat());
        if let Ok(key) = k256::ecdsa::SigningKey::from_slice(bytes.as_slice()) {
            return key;
        }
        n += 1;
    }
}

pub(crate) fn address_of(key: &k256::ecdsa::SigningKey) -> Address {
    Address::from_public_key(key.verifying_key())
}

pub(crate) fn sign(key: &k256::ecdsa::SigningKey, tx: TxEip1559) -> Result<TxEnvelope> {
    let hash = tx.signature_hash();
    let (sig, recovery) = key.sign_prehash_recoverable(hash.as_slice()).map_err(|e| eyre!("signing: {e}"))?;
    let signature = Signature::from_signature_and_parity(sig, recovery.is_y_odd());
    Ok(tx.into_signed(signature).into())
}

/// Generates the chain into `args.out`; returns the total gas.
pub(crate) fn generate(args: &GenChainArgs) -> Result<u64> {
    let keys: Vec<_> = (0..args.senders).map(|i| key(args.seed, i)).collect();
    let mut alloc = serde_json::Map::new();
    for key in &keys {
        alloc.insert(address_of(key).to_string(), serde_json::json!({"balance": "0xd3c21bcecceda1000000"}));
    }
    alloc.insert(STORE_ADDRESS.to_string(), serde_json::json!({"balance": "0x0", "code": STORE_CODE}));
    let genesis_json = dev_genesis_json(1337, alloc);
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(args.out.join("genesis.json"), serde_json::to_vec_pretty(&genesis_json)?)?;
    let genesis: Genesis = serde_json::from_value(genesis_json)?;
    let spec = ChainSpec::from_genesis(&genesis).map_err(|e| eyre!("{e}"))?;

    let mut state = genesis_state(&genesis);
    let mut parent = genesis_header(&genesis, &spec, &state);
    let (_, mut trie) =
        MemoryTrieStore::from_post_state(&mosaic_storage::hashed_post_state(&full_diff(&state)))
            .map_err(|e| eyre!("{e}"))?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut nonces = vec![0u64; keys.len()];
    let mut file = Vec::new();
    let mut gas = 0;
    for _ in 0..args.blocks {
        let mut candidates = Vec::with_capacity(args.txs);
        for _ in 0..args.txs {
            let i = rng.random_range(0..keys.len());
            let (to, input, gas_limit) = if rng.random_bool(0.5) {
                let to = if rng.random_bool(0.5) {
                    Address::from(rng.random::<[u8; 20]>())
                } else {
                    address_of(&keys[rng.random_range(0..keys.len())])
                };
                (to, Bytes::new(), 21_000)
            } else {
                let slot = U256::from(rng.random_range(0..512u64));
                let value = if rng.random_bool(0.2) { U256::ZERO } else { U256::from(rng.random::<u64>()) };
                let input = [slot.to_be_bytes::<32>(), value.to_be_bytes::<32>()].concat();
                (STORE_ADDRESS, Bytes::from(input), 60_000)
            };
            let tx = TxEip1559 {
                chain_id: 1337,
                nonce: nonces[i],
                gas_limit,
                max_fee_per_gas: 100_000_000_000,
                max_priority_fee_per_gas: 1_000_000_000,
                to: TxKind::Call(to),
                value: U256::from(rng.random_range(1..1_000_000u64)),
                access_list: Default::default(),
                input,
            };
            nonces[i] += 1;
            candidates.push((sign(&keys[i], tx)?, address_of(&keys[i])));
        }
        let attrs = BlockAttributes {
            timestamp: parent.timestamp + 12,
            beneficiary: Address::repeat_byte(0xfe),
            gas_limit: parent.gas_limit,
            prev_randao: B256::from(rng.random::<[u8; 32]>()),
            parent_beacon_block_root: Some(B256::from(rng.random::<[u8; 32]>())),
            ..Default::default()
        };
        let mut updates = None;
        let root = |diff: &mosaic_executor::StateDiff| {
            let post = mosaic_storage::hashed_post_state(diff);
            let (root, u) =
                state_root_incremental(&trie, &post).map_err(|e| BlockError::Header(format!("trie: {e}")))?;
            updates = Some(u);
            Ok(root)
        };
        let built = build_block(&spec, &parent, &state, &attrs, candidates, &ExecOptions::default(), root)?;
        if let Some(skipped) = built.skipped.first() {
            return Err(eyre!("generated transaction skipped: {}", skipped.reason));
        }
        if let Some(updates) = updates {
            trie.apply(&updates);
        }
        state.apply(&built.output.diff);
        state.block_hashes.insert(built.block.header.number, built.hash);
        gas += built.block.header.gas_used;
        write_block(&mut file, &built.block);
        parent = built.block.header;
    }
    std::fs::write(args.out.join("chain.rlp"), &file)?;
    Ok(gas)
}

/// The whole of a state as a diff from nothing (to seed the trie).
fn full_diff(state: &InMemoryState) -> mosaic_executor::StateDiff {
    let mut diff = mosaic_executor::StateDiff::default();
    for (address, account) in &state.accounts {
        diff.accounts.insert(
            *address,
            mosaic_executor::AccountDiff {
                info: Some(mosaic_executor::AccountFields {
                    nonce: account.nonce,
                    balance: account.balance,
                    code_hash: account.code_hash,
                }),
                storage_wiped: false,
                storage: account.storage.iter().map(|(k, v)| (*k, *v)).collect(),
            },
        );
    }
    diff
}
