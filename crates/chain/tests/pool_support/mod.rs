//! Helpers of `tests/pool.rs`: keys and signing, a funded pool environment,
//! random transactions, and the rpc-compat fixture's raw transactions.

use std::{path::PathBuf, sync::Arc};

use alloy_consensus::{
    Header, SignableTransaction, Signed, TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy,
};
use alloy_eips::eip7702::{Authorization, SignedAuthorization};
use alloy_genesis::Genesis;
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, hex, keccak256, uint};
use k256::ecdsa::SigningKey;
use mosaic_chain::{
    MemoryChain, PoolConfig, PoolError, PoolHead, RlpBlocks, TxPool, genesis_header, genesis_state,
};
use mosaic_executor::InMemoryState;
use mosaic_primitives::{ChainSpec, Hardfork};

/// A secp256k1 key and its address.
pub(crate) struct Key {
    signing: SigningKey,
    pub(crate) address: Address,
}

/// The key with secret `n` (n > 0).
pub(crate) fn key(n: u64) -> Key {
    let mut secret = [0u8; 32];
    secret[24..].copy_from_slice(&n.to_be_bytes());
    let signing = SigningKey::from_slice(&secret).expect("valid secret");
    let point = signing.verifying_key().to_encoded_point(false);
    let address = Address::from_slice(&keccak256(&point.as_bytes()[1..])[12..]);
    Key { signing, address }
}

/// Signs `tx` with `key`.
pub(crate) fn sign<T>(key: &Key, tx: T) -> TxEnvelope
where
    T: SignableTransaction<Signature>,
    TxEnvelope: From<Signed<T>>,
{
    let hash = tx.signature_hash();
    let (sig, recid) = key.signing.sign_prehash_recoverable(hash.as_slice()).expect("sign");
    TxEnvelope::from(tx.into_signed(Signature::from_signature_and_parity(sig, recid.is_y_odd())))
}

/// Signs an EIP-1559 transaction.
pub(crate) fn dynamic(key: &Key, tx: TxEip1559) -> TxEnvelope {
    sign(key, tx)
}

/// A 1-wei EIP-1559 transfer on chain 1337.
pub(crate) fn transfer(key: &Key, nonce: u64, cap: u128, tip: u128) -> TxEnvelope {
    dynamic(key, TxEip1559 { nonce, max_fee_per_gas: cap, max_priority_fee_per_gas: tip, ..Env::call(nonce) })
}

/// A 1-wei EIP-155 legacy transfer on chain 1337.
pub(crate) fn legacy(key: &Key, nonce: u64, gas_price: u128) -> TxEnvelope {
    sign(
        key,
        TxLegacy {
            chain_id: Some(1337),
            nonce,
            gas_price,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(0xaa)),
            value: U256::from(1),
            ..Default::default()
        },
    )
}

/// A pool on chain 1337 at `fork`, keys 1 to 16 funded with 1000 ether.
pub(crate) struct Env {
    pub(crate) spec: ChainSpec,
    pub(crate) pool: TxPool,
    pub(crate) state: InMemoryState,
    pub(crate) head: PoolHead,
}

impl Env {
    pub(crate) fn new(fork: Hardfork, config: PoolConfig) -> Self {
        let spec = ChainSpec::with_fork_at_genesis(1337, fork);
        let mut state = InMemoryState::default();
        for n in 1..=16 {
            state.insert_account(key(n).address, 0, U256::from(10u64).pow(U256::from(21)), &[], []);
        }
        let head = PoolHead { number: 1, timestamp: 1, gas_limit: 30_000_000, next_base_fee: 0 };
        Self { pool: TxPool::new(Arc::new(spec.clone()), config), spec, state, head }
    }

    pub(crate) fn add(&self, tx: TxEnvelope) -> Result<B256, PoolError> {
        self.pool.add(tx, &self.head, &self.state)
    }

    /// An EIP-1559 call template: fee cap 100, tip 2, 1 wei to 0xaa…aa.
    pub(crate) fn call(nonce: u64) -> TxEip1559 {
        TxEip1559 {
            chain_id: 1337,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 100,
            max_priority_fee_per_gas: 2,
            to: TxKind::Call(Address::repeat_byte(0xaa)),
            value: U256::from(1),
            ..Default::default()
        }
    }
}

/// splitmix64.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const SECP256K1N: U256 = uint!(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256);

/// A signed transaction with random type, chain id, gas, fees, nonce,
/// calldata and, sometimes, a broken signature.
pub(crate) fn random_tx(rng: &mut Rng, i: u64) -> TxEnvelope {
    let signer = key(1 + rng.below(8));
    let chain_id = if rng.chance(10) { 1 } else { 1337 };
    let nonce = if rng.chance(5) { u64::MAX } else { i };
    let data_len = [0, 0, 10, 100, 1000][rng.below(5) as usize];
    let input = Bytes::from((0..data_len).map(|_| rng.below(3) as u8).collect::<Vec<_>>());
    let create = rng.chance(10);
    let to = if create { TxKind::Create } else { TxKind::Call(Address::repeat_byte(0xaa)) };
    let input = if create && rng.chance(30) { Bytes::from(vec![1; 49_153]) } else { input };
    let gas_limit = match rng.below(10) {
        0 => (1 << 24) + 1,
        1 => 2_000_000,
        _ => 19_000 + rng.below(60_000),
    };
    let cap = 1 + u128::from(rng.below(1_000));
    let tip = if rng.chance(10) { cap + 1 } else { u128::from(rng.below(cap as u64)) };
    let tx = match rng.below(5) {
        0 => {
            let chain_id = if rng.chance(20) { None } else { Some(chain_id) };
            sign(
                &signer,
                TxLegacy { chain_id, nonce, gas_price: cap, gas_limit, to, input, ..Default::default() },
            )
        }
        1 => sign(
            &signer,
            TxEip2930 { chain_id, nonce, gas_price: cap, gas_limit, to, input, ..Default::default() },
        ),
        2 | 3 => {
            let fees =
                TxEip1559 { max_fee_per_gas: cap, max_priority_fee_per_gas: tip, ..Default::default() };
            sign(&signer, TxEip1559 { chain_id, nonce, gas_limit, to, input, ..fees })
        }
        _ => {
            let auth =
                Authorization { chain_id: U256::from(1337), address: Address::repeat_byte(7), nonce: 0 };
            let list = if rng.chance(20) {
                vec![]
            } else {
                vec![SignedAuthorization::new_unchecked(auth, 0, U256::from(1), U256::from(1))]
            };
            let to = Address::repeat_byte(0xaa);
            let tx = TxEip7702 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: cap,
                max_priority_fee_per_gas: tip,
                to,
                input,
                authorization_list: list,
                ..Default::default()
            };
            sign(&signer, tx)
        }
    };
    if rng.chance(15) { break_signature(rng, tx) } else { tx }
}

/// Re-wraps `tx` with a high-`s` twin of its signature or a zero `r`.
fn break_signature(rng: &mut Rng, tx: TxEnvelope) -> TxEnvelope {
    let sig = *tx.signature();
    let broken = if rng.chance(50) {
        Signature::new(sig.r(), SECP256K1N - sig.s(), !sig.v())
    } else {
        Signature::new(U256::ZERO, sig.s(), sig.v())
    };
    match tx {
        TxEnvelope::Legacy(s) => Signed::new_unhashed(s.strip_signature(), broken).into(),
        TxEnvelope::Eip2930(s) => Signed::new_unhashed(s.strip_signature(), broken).into(),
        TxEnvelope::Eip1559(s) => Signed::new_unhashed(s.strip_signature(), broken).into(),
        TxEnvelope::Eip7702(s) => Signed::new_unhashed(s.strip_signature(), broken).into(),
        other => other,
    }
}

/// The rpc-compat fixture chain at its head and its `eth_sendRawTransaction`
/// requests with geth's answers.
pub(crate) struct RpcCompat {
    pub(crate) spec: ChainSpec,
    pub(crate) header: Header,
    pub(crate) state: Arc<InMemoryState>,
    /// (file, raw transaction, expected hash), in file-name order.
    pub(crate) sends: Vec<(String, Vec<u8>, B256)>,
    pub(crate) blob_hash: B256,
}

impl RpcCompat {
    pub(crate) fn load() -> Option<Self> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/rpc-compat");
        let read = |name: &str| std::fs::read(dir.join(name)).ok();
        let genesis: Genesis = serde_json::from_slice(&read("genesis.json")?).expect("genesis");
        let spec = ChainSpec::from_genesis(&genesis).expect("spec");
        let state = genesis_state(&genesis);
        let mut chain = MemoryChain::new(spec.clone(), genesis_header(&genesis, &spec, &state), state);
        let mut head = B256::ZERO;
        for block in RlpBlocks::new(&read("chain.rlp")?) {
            head = chain.import(block.expect("block").0).expect("import");
        }
        let block = chain.block(&head).expect("head");
        let mut files: Vec<String> = std::fs::read_dir(dir.join("eth_sendRawTransaction"))
            .ok()?
            .filter_map(|entry| {
                entry.ok().map(|e| format!("eth_sendRawTransaction/{}", e.file_name().to_string_lossy()))
            })
            .collect();
        files.sort();
        files.push("testing_buildBlockV1/build-block-from-mempool.io".into());
        let mut sends = Vec::new();
        let mut blob_hash = B256::ZERO;
        for file in files {
            let text = String::from_utf8(read(&file)?).expect("utf-8");
            let mut raw = None;
            for line in text.lines() {
                if let Some(request) = line.strip_prefix(">> ") {
                    let request: serde_json::Value = serde_json::from_str(request).expect("json");
                    raw = (request["method"] == "eth_sendRawTransaction")
                        .then(|| hex::decode(request["params"][0].as_str().expect("hex")).expect("hex"));
                } else if let (Some(response), Some(bytes)) = (line.strip_prefix("<< "), raw.take()) {
                    let response: serde_json::Value = serde_json::from_str(response).expect("json");
                    let hash: B256 = response["result"].as_str().expect("hash").parse().expect("hash");
                    if file.contains("blob") {
                        blob_hash = hash;
                    }
                    sends.push((file.clone(), bytes, hash));
                }
            }
        }
        Some(Self { spec, header: block.header.clone(), state: block.state.clone(), sends, blob_hash })
    }
}
