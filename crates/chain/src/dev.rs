//! The development chain: chain id 1337, every fork through Prague active at
//! genesis, and the first ten accounts of the test mnemonic `test test test
//! test test test test test test test test junk` (BIP-44 path
//! `m/44'/60'/0'/0/i`, the accounts anvil and hardhat fund) funded with
//! 10,000 ether each.

use alloy_genesis::Genesis;
use alloy_primitives::{Address, B256, address, b256};
use mosaic_primitives::system_contracts::system_contracts;

/// Chain id of the development chain.
pub const DEV_CHAIN_ID: u64 = 1337;

/// Balance of each development account: 10,000 ether.
pub const DEV_BALANCE: &str = "0x21e19e0c9bab2400000";

/// The first ten accounts of the test mnemonic: address and private key.
pub const DEV_ACCOUNTS: [(Address, B256); 10] = [
    (
        address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        b256!("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
    ),
    (
        address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        b256!("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
    ),
    (
        address!("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
        b256!("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"),
    ),
    (
        address!("0x90F79bf6EB2c4f870365E785982E1f101E93b906"),
        b256!("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"),
    ),
    (
        address!("0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"),
        b256!("0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"),
    ),
    (
        address!("0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"),
        b256!("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"),
    ),
    (
        address!("0x976EA74026E726554dB657fA54763abd0C3a0aa9"),
        b256!("0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"),
    ),
    (
        address!("0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"),
        b256!("0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356"),
    ),
    (
        address!("0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"),
        b256!("0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"),
    ),
    (
        address!("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"),
        b256!("0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"),
    ),
];

/// A geth-format genesis (as JSON) with every fork through Prague active at
/// 0, the system contracts deployed, and `alloc` added.
pub fn dev_genesis_json(
    chain_id: u64,
    mut alloc: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    for (address, code) in system_contracts() {
        alloc
            .insert(address.to_string(), serde_json::json!({"balance": "0x0", "code": code, "nonce": "0x1"}));
    }
    let blob = |target: u64, max: u64, fraction: u64| serde_json::json!({"target": target, "max": max, "baseFeeUpdateFraction": fraction});
    serde_json::json!({
        "config": {
            "chainId": chain_id,
            "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
            "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
            "berlinBlock": 0, "londonBlock": 0, "mergeNetsplitBlock": 0,
            "terminalTotalDifficulty": 0, "terminalTotalDifficultyPassed": true,
            "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0,
            "depositContractAddress": "0x0000000000000000000000000000000000000000",
            "blobSchedule": {"cancun": blob(3, 6, 3338477), "prague": blob(6, 9, 5007716)}
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": "0x",
        "gasLimit": "0x1c9c380",
        "difficulty": "0x0",
        "mixHash": "0x0000000000000000000000000000000000000000000000000000000000000000",
        "coinbase": "0x0000000000000000000000000000000000000000",
        "baseFeePerGas": "0x3b9aca00",
        "alloc": alloc
    })
}

/// The development genesis: [`DEV_ACCOUNTS`] funded on chain [`DEV_CHAIN_ID`].
pub fn dev_genesis() -> (serde_json::Value, Genesis) {
    let mut alloc = serde_json::Map::new();
    for (address, _) in DEV_ACCOUNTS {
        alloc.insert(address.to_string(), serde_json::json!({ "balance": DEV_BALANCE }));
    }
    let json = dev_genesis_json(DEV_CHAIN_ID, alloc);
    // The JSON above is a fixed, valid genesis; parsing it cannot fail.
    let genesis = serde_json::from_value(json.clone()).unwrap_or_default();
    (json, genesis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_keys_match_addresses_and_genesis_parses() {
        for (address, key) in DEV_ACCOUNTS {
            let signing = k256::ecdsa::SigningKey::from_slice(key.as_slice()).unwrap();
            assert_eq!(Address::from_public_key(signing.verifying_key()), address);
        }
        let (_, genesis) = dev_genesis();
        assert_eq!(genesis.config.chain_id, DEV_CHAIN_ID);
        assert_eq!(genesis.alloc.len(), 14);
        assert!(mosaic_primitives::ChainSpec::from_genesis(&genesis).is_ok());
    }
}
