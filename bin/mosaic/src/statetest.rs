//! `mosaic statetest`: the GeneralStateTests runner.

use crate::runner::{Report, json_files};
use alloy_consensus::TxType;
use alloy_eips::eip2930::AccessList;
use alloy_eips::eip7702::{Authorization, RecoveredAuthority, RecoveredAuthorization, SignedAuthorization};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use mosaic_chain::state_root;
use mosaic_executor::{
    AccountInfo, BlockContext, Bytecode, ExecMode, ExecOptions, ExecStatus, ExecTx, InMemoryState,
    StateError, StateProvider, execute_block,
};
use mosaic_primitives::{ChainSpec, Hardfork};
use rayon::prelude::*;
use revm::context::{TxEnv, either::Either};
use revm::primitives::TxKind;
use serde::Deserialize;
use std::{collections::BTreeMap, path::PathBuf};

/// Arguments of `mosaic statetest`.
#[derive(Debug, clap::Args)]
pub(crate) struct StateTestArgs {
    /// Fixture files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print every skipped case with its reason.
    #[arg(long)]
    list_skips: bool,
    /// Run only this fork.
    #[arg(long)]
    fork: Option<String>,
    /// Print passing cases too.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Unit {
    env: Env,
    pre: BTreeMap<Address, PreAccount>,
    transaction: TxParts,
    post: BTreeMap<String, Vec<PostEntry>>,
    #[serde(default)]
    config: Option<Config>,
}

#[derive(Debug, Deserialize)]
struct Config {
    #[serde(default)]
    chainid: Option<U256>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Env {
    current_coinbase: Address,
    #[serde(default)]
    current_difficulty: Option<U256>,
    current_gas_limit: U256,
    current_number: U256,
    current_timestamp: U256,
    #[serde(default)]
    current_base_fee: Option<U256>,
    #[serde(default)]
    current_random: Option<B256>,
    #[serde(default)]
    current_excess_blob_gas: Option<U256>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PreAccount {
    pub(crate) balance: U256,
    pub(crate) code: Bytes,
    pub(crate) nonce: U256,
    #[serde(default)]
    pub(crate) storage: BTreeMap<U256, U256>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TxParts {
    data: Vec<Bytes>,
    gas_limit: Vec<Lenient>,
    #[serde(default)]
    gas_price: Option<U256>,
    #[serde(default)]
    max_fee_per_gas: Option<U256>,
    #[serde(default)]
    max_priority_fee_per_gas: Option<U256>,
    nonce: U256,
    #[serde(default)]
    secret_key: Option<B256>,
    #[serde(default)]
    sender: Option<Address>,
    #[serde(default)]
    to: Option<String>,
    value: Vec<Lenient>,
    #[serde(default)]
    access_lists: Option<Vec<Option<AccessList>>>,
    #[serde(default)]
    blob_versioned_hashes: Option<Vec<B256>>,
    #[serde(default)]
    max_fee_per_blob_gas: Option<U256>,
    #[serde(default)]
    authorization_list: Option<Vec<AuthJson>>,
}

/// A quantity that may be malformed on purpose (e.g. a value above 2^256 in
/// `ValueOverflow`); the case's transaction is then invalid, not the file.
#[derive(Debug)]
struct Lenient(Result<U256, String>);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self(s.parse::<U256>().map_err(|e| format!("invalid quantity {s:?}: {e}"))))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthJson {
    chain_id: U256,
    address: Address,
    nonce: U256,
    #[serde(default)]
    v: Option<U256>,
    #[serde(default)]
    y_parity: Option<U256>,
    r: U256,
    s: U256,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostEntry {
    hash: B256,
    logs: B256,
    indexes: Indexes,
    #[serde(default)]
    expect_exception: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Indexes {
    data: usize,
    gas: usize,
    value: usize,
}

/// The pre-state with the state-test BLOCKHASH convention
/// (`keccak256(decimal number)`).
struct FixtureState<'a>(&'a InMemoryState);

impl StateProvider for FixtureState<'_> {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        self.0.account(address)
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        self.0.storage(address, slot)
    }
    fn code_by_hash(&self, hash: B256) -> Result<Bytecode, StateError> {
        self.0.code_by_hash(hash)
    }
    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        Ok(keccak256(number.to_string()))
    }
}

/// Builds an in-memory state from a fixture's `pre`.
pub(crate) fn pre_state(pre: &BTreeMap<Address, PreAccount>) -> Result<InMemoryState, String> {
    let mut state = InMemoryState::default();
    for (address, a) in pre {
        let nonce = u64::try_from(a.nonce).map_err(|_| format!("nonce of {address} too large"))?;
        state.insert_account(*address, nonce, a.balance, &a.code, a.storage.iter().map(|(k, v)| (*k, *v)));
    }
    Ok(state)
}

/// Converts a fixture authorization into revm's form; one that cannot be
/// represented (nonce or chain id out of range) becomes an invalid entry that
/// execution skips, as the EIP says.
pub(crate) fn authorization(a: &AuthJson) -> Either<SignedAuthorization, RecoveredAuthorization> {
    let nonce = u64::try_from(a.nonce).ok();
    let parity = a.y_parity.or(a.v).and_then(|v| u8::try_from(v).ok());
    let auth = Authorization { chain_id: a.chain_id, address: a.address, nonce: nonce.unwrap_or(u64::MAX) };
    match (nonce, parity) {
        (Some(_), Some(p)) if p <= 1 => Either::Left(SignedAuthorization::new_unchecked(auth, p, a.r, a.s)),
        _ => Either::Right(RecoveredAuthorization::new_unchecked(auth, RecoveredAuthority::Invalid)),
    }
}

/// The sender of a fixture transaction from its secret key.
pub(crate) fn address_of_key(key: &B256) -> Option<Address> {
    let signing = k256::ecdsa::SigningKey::from_slice(key.as_slice()).ok()?;
    let point = signing.verifying_key().to_encoded_point(false);
    let hash = keccak256(&point.as_bytes()[1..]);
    Some(Address::from_slice(&hash[12..]))
}

fn build_tx(parts: &TxParts, idx: &Indexes, chain_id: u64) -> Result<ExecTx, String> {
    let caller = match (&parts.secret_key, parts.sender) {
        (Some(key), _) => address_of_key(key).ok_or("invalid secret key")?,
        (None, Some(sender)) => sender,
        (None, None) => return Err("transaction has no signature".into()),
    };
    let data = parts.data.get(idx.data).ok_or("data index out of range")?.clone();
    let gas_limit = parts.gas_limit.get(idx.gas).ok_or("gas index out of range")?;
    let gas_limit = gas_limit.0.clone()?;
    let gas_limit = u64::try_from(gas_limit).map_err(|_| "gas limit above 2^64")?;
    let value = parts.value.get(idx.value).ok_or("value index out of range")?.0.clone()?;
    let nonce = u64::try_from(parts.nonce).map_err(|_| "nonce above 2^64")?;
    let to = match parts.to.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<Address>().map_err(|e| format!("bad `to`: {e}"))?),
    };
    let access_list = parts.access_lists.as_ref().and_then(|l| l.get(idx.data).cloned().flatten());
    let u128_of = |v: U256, what: &str| u128::try_from(v).map_err(|_| format!("{what} above 2^128"));
    let tx_type = if parts.authorization_list.is_some() {
        TxType::Eip7702
    } else if parts.blob_versioned_hashes.is_some() || parts.max_fee_per_blob_gas.is_some() {
        TxType::Eip4844
    } else if parts.max_fee_per_gas.is_some() {
        TxType::Eip1559
    } else if access_list.is_some() {
        TxType::Eip2930
    } else {
        TxType::Legacy
    };
    if matches!(tx_type, TxType::Eip4844 | TxType::Eip7702) && to.is_none() {
        return Err(format!("{tx_type} transaction cannot create a contract"));
    }
    let gas_price = match parts.gas_price.or(parts.max_fee_per_gas) {
        Some(p) => u128_of(p, "gas price")?,
        None => 0,
    };
    let gas_priority_fee = match parts.max_priority_fee_per_gas {
        Some(p) if tx_type != TxType::Legacy && tx_type != TxType::Eip2930 => {
            Some(u128_of(p, "priority fee")?)
        }
        _ => None,
    };
    let env = TxEnv {
        tx_type: tx_type as u8,
        caller,
        gas_limit,
        gas_price,
        kind: to.map_or(TxKind::Create, TxKind::Call),
        value,
        data,
        nonce,
        chain_id: Some(chain_id),
        access_list: access_list.unwrap_or_default(),
        gas_priority_fee,
        blob_hashes: parts.blob_versioned_hashes.clone().unwrap_or_default(),
        max_fee_per_blob_gas: match parts.max_fee_per_blob_gas {
            Some(v) => u128_of(v, "blob fee")?,
            None => 0,
        },
        authorization_list: parts.authorization_list.iter().flatten().map(authorization).collect(),
    };
    Ok(ExecTx { env, tx_type, hash: B256::ZERO })
}

fn block_context(env: &Env) -> BlockContext {
    let sat = |v: U256| u64::try_from(v).unwrap_or(u64::MAX);
    BlockContext {
        number: sat(env.current_number),
        timestamp: sat(env.current_timestamp),
        beneficiary: env.current_coinbase,
        gas_limit: sat(env.current_gas_limit),
        base_fee: env.current_base_fee.map(sat),
        difficulty: env.current_difficulty.unwrap_or_default(),
        mix_hash: env.current_random.unwrap_or_default(),
        excess_blob_gas: env.current_excess_blob_gas.map(sat),
        ..Default::default()
    }
}

fn run_case(unit: &Unit, pre: &InMemoryState, spec: &ChainSpec, entry: &PostEntry) -> Result<(), String> {
    let block = block_context(&unit.env);
    let result = build_tx(&unit.transaction, &entry.indexes, spec.chain_id).and_then(|tx| {
        let options = ExecOptions { mode: ExecMode::Build, transactions_only: true, ..crate::exec_options() };
        let out = execute_block(spec, &block, std::slice::from_ref(&tx), FixtureState(pre), &options)
            .map_err(|e| format!("execution error: {e}"))?;
        match &out.outcomes[0].status {
            ExecStatus::Skipped(reason) => Err(reason.clone()),
            _ => Ok(out),
        }
    });
    let (diff, logs) = match (result, &entry.expect_exception) {
        (Ok(_), Some(expected)) => {
            return Err(format!("expected exception {expected}, but the transaction was valid"));
        }
        (Err(reason), None) => return Err(format!("transaction rejected: {reason}")),
        (Err(_), Some(_)) => (Default::default(), Vec::new()),
        (Ok(out), None) => {
            let logs: Vec<_> = out.logs().cloned().collect();
            (out.diff, logs)
        }
    };
    let logs_hash = keccak256(alloy_rlp::encode(&logs));
    if logs_hash != entry.logs {
        return Err(format!("logs hash {logs_hash}, expected {}", entry.logs));
    }
    let mut post = pre.clone();
    post.apply(&diff);
    let root = state_root(&post);
    if root != entry.hash {
        return Err(format!("state root {root}, expected {}", entry.hash));
    }
    Ok(())
}

fn run_file(path: &std::path::Path, args: &StateTestArgs, report: &Report) {
    let file = path.display().to_string();
    let units: BTreeMap<String, Unit> = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(u) => u,
        Err(e) => return report.fail(&file, &format!("cannot read fixture: {e}")),
    };
    for (name, unit) in &units {
        let pre = match pre_state(&unit.pre) {
            Ok(p) => p,
            Err(e) => {
                report.fail(&format!("{file}::{name}"), &format!("bad pre-state: {e}"));
                continue;
            }
        };
        let chain_id =
            unit.config.as_ref().and_then(|c| c.chainid).map_or(1, |c| u64::try_from(c).unwrap_or(1));
        for (fork, entries) in &unit.post {
            if args.fork.as_ref().is_some_and(|f| f != fork) {
                continue;
            }
            for (i, entry) in entries.iter().enumerate() {
                let case = format!(
                    "{file}::{name} {fork}[{i}] (d{} g{} v{})",
                    entry.indexes.data, entry.indexes.gas, entry.indexes.value
                );
                let mut spec = match ChainSpec::from_fork_name(fork) {
                    Ok(s) => s,
                    Err(e) => {
                        report.skip(&case, &e.to_string());
                        continue;
                    }
                };
                spec.chain_id = chain_id;
                if spec.is_constantinople_only(0, 0) {
                    report.skip(&case, "Constantinople (EIP-1283 SSTORE metering) was never live and revm has no rule set for it; ConstantinopleFix covers the fork");
                    continue;
                }
                if path.file_name().is_some_and(|f| EIP7610_STORAGE_COLLISION.iter().any(|s| f == *s)) {
                    report.skip(
                        &case,
                        "EIP-7610 collision with a storage-only account: revm 43 checks only nonce and code",
                    );
                    continue;
                }
                if !spec.is_active(Hardfork::Frontier, 0, 0) {
                    report.skip(&case, "fork not scheduled");
                    continue;
                }
                match run_case(unit, &pre, &spec, entry) {
                    Ok(()) => report.pass(&case),
                    Err(e) => report.fail(&case, &e),
                }
            }
        }
    }
    report.file_done(path);
}

/// Tests whose pre-state holds an account with storage but no code and a
/// zero nonce, which a CREATE then targets. EIP-7610 makes that a collision;
/// revm 43 checks only nonce and code (its own runner skips these too). Such
/// accounts cannot arise on a chain started under the Mosaic node.
const EIP7610_STORAGE_COLLISION: [&str; 5] = [
    "RevertInCreateInInit_Paris.json",
    "RevertInCreateInInitCreate2Paris.json",
    "InitCollisionParis.json",
    "create2collisionStorageParis.json",
    "dynamicAccountOverwriteEmpty_Paris.json",
];

/// Runs the command; returns whether every case passed.
pub(crate) fn run(args: &StateTestArgs) -> eyre::Result<bool> {
    let files = json_files(&args.paths)?;
    let report = Report::new(files.len(), args.verbose);
    files.par_iter().for_each(|path| run_file(path, args, &report));
    Ok(report.finish(args.list_skips))
}
