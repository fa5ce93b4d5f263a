//! `mosaic bench state-root`: the state root of a 1-Ggas raw-transfer block's
//! changes over a redb store pre-populated with N accounts, incremental
//! (`LatestState::trie_updates`, stored branch nodes, only touched paths)
//! against from scratch (`LatestState::full_state_root`, every leaf streamed
//! through the trie builder), each on a rayon pool of 1, 2, … threads, with
//! time, peak RSS and database size.
//!
//! The store holds N deterministic accounts: every tenth is a contract with
//! 1 to 8 storage slots (about 0.45 slots per account), the rest are funded
//! EOAs. The change set is what 47,620 transfers of 21,000 gas between
//! distinct existing EOAs leave behind: each sender's nonce and balance, each
//! recipient's balance, and the beneficiary's fees (95,241 accounts).

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use eyre::{Result, bail, eyre};
use mosaic_executor::{AccountDiff, AccountFields, Bytecode, StateDiff};
use mosaic_storage::{GenesisWriter, Store, StoreError, StoreOptions};
use mosaic_trie::KECCAK_EMPTY;
use std::{
    collections::{BTreeMap, HashSet},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// Transfers in a 1-Ggas block of 21,000-gas transfers.
const GIGAGAS_TRANSFERS: u64 = 47_620;
/// Version of the generated account layout, recorded next to a kept store.
const LAYOUT: u64 = 1;
/// Gas price of the transfers (wei per gas).
const GAS_PRICE: u64 = 7;

/// Arguments of `mosaic bench state-root`.
#[derive(Debug, clap::Args)]
pub(crate) struct StateRootArgs {
    /// Accounts in the pre-populated store.
    #[arg(long, default_value_t = 1_000_000)]
    accounts: u64,
    /// Changed accounts (default: a 1-Ggas raw-transfer block, 2 x 47,620
    /// senders and recipients plus the beneficiary).
    #[arg(long)]
    changed: Option<u64>,
    /// Rayon pool sizes to measure, comma separated (`mosaic --threads N
    /// bench state-root` measures just N).
    #[arg(long = "threads", value_delimiter = ',', default_values_t = [1usize, 2])]
    threads: Vec<usize>,
    /// Timed runs per configuration (the fastest is reported).
    #[arg(long, default_value_t = 1)]
    iters: usize,
    /// Store file to build, or to reuse when it was built with the same
    /// parameters (default: a temporary file, deleted afterwards).
    #[arg(long)]
    db: Option<PathBuf>,
    /// redb page cache in MiB.
    #[arg(long, default_value_t = 2048)]
    cache_mib: usize,
    /// Skip the from-scratch root (incremental only).
    #[arg(long)]
    skip_full: bool,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

/// Deterministic account `i`: its address, fields and storage.
fn account(i: u64) -> (Address, AccountFields, Vec<(U256, U256)>) {
    let seed = keccak256([b"mosaic-bench-state-root".as_slice(), &i.to_be_bytes()].concat());
    let address = Address::from_slice(&seed[12..]);
    let word = u64::from_be_bytes(seed[..8].try_into().unwrap_or_default());
    let balance = U256::from(word % 1_000_000 + 1) * U256::from(1_000_000_000_000_000u64);
    if is_contract(i) {
        let fields = AccountFields { nonce: 1, balance: U256::ZERO, code_hash: contract_code().0 };
        let slots = (0..1 + word % 8).map(|s| (U256::from(s), U256::from(word.rotate_left(s as u32) | 1)));
        (address, fields, slots.collect())
    } else {
        (address, AccountFields { nonce: word % 64, balance, code_hash: KECCAK_EMPTY }, Vec::new())
    }
}

const fn is_contract(i: u64) -> bool {
    i % 10 == 9
}

/// The code every contract shares.
fn contract_code() -> (B256, Bytecode) {
    let code = Bytes::from_static(&[0x60, 0x00, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]);
    (keccak256(&code), Bytecode::new_legacy(code))
}

/// splitmix64.
fn mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The state change of `transfers` transfers between distinct existing EOAs
/// plus the beneficiary (also an existing EOA).
fn transfer_block(accounts: u64, transfers: u64) -> StateDiff {
    let mut rng = 0x5eed_u64;
    let mut used = HashSet::new();
    let mut pick = || loop {
        let i = mix(&mut rng) % accounts;
        if !is_contract(i) && used.insert(i) {
            return i;
        }
    };
    let mut diff = StateDiff::default();
    let beneficiary = pick();
    let fee = U256::from(21_000 * GAS_PRICE);
    for _ in 0..transfers {
        let value = U256::from(1_000_000_007u64);
        let (from, mut sender, _) = account(pick());
        let (to, mut recipient, _) = account(pick());
        sender.nonce += 1;
        sender.balance -= value + fee;
        recipient.balance += value;
        for (address, fields) in [(from, sender), (to, recipient)] {
            diff.accounts.insert(
                address,
                AccountDiff { info: Some(fields), storage_wiped: false, storage: BTreeMap::new() },
            );
        }
    }
    let (address, mut fields, _) = account(beneficiary);
    fields.balance += fee * U256::from(transfers);
    diff.accounts
        .insert(address, AccountDiff { info: Some(fields), storage_wiped: false, storage: BTreeMap::new() });
    diff
}

/// Resets the peak RSS of this process (Linux: `clear_refs` 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak RSS since the last reset, in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok());
    kib.unwrap_or(0) / 1024
}

/// CPU time (user + system) of this process so far, in ns, from
/// `/proc/self/stat` (exited threads included; 10 ms resolution). Unlike
/// wall time it barely changes when other processes compete for the cores.
fn cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().map(|f| f.parse().unwrap_or(0)).collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line, 11 and 12 after the name; 100 ticks/s.
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    ticks * 10_000_000
}

/// A store with the benchmark's accounts: reused if `path` holds one built
/// with the same parameters, else built. Returns it and the genesis time
/// (`None` when reused).
fn open_store(path: &Path, accounts: u64, options: &StoreOptions) -> Result<(Store, Option<Duration>)> {
    let params_path = PathBuf::from(format!("{}.params", path.display()));
    let params = serde_json::json!({ "accounts": accounts, "layout": LAYOUT }).to_string();
    if path.exists() {
        let recorded = std::fs::read_to_string(&params_path).unwrap_or_default();
        if recorded.trim() != params {
            bail!(
                "{} exists but was not built by this benchmark with {accounts} accounts ({} says {:?}); \
                 remove it or pass another --db",
                path.display(),
                params_path.display(),
                recorded.trim()
            );
        }
        let store = options.open(path)?;
        if store.head()?.map(|head| head.number) != Some(0) {
            bail!("{}: not a freshly built benchmark store (head is not genesis)", path.display());
        }
        return Ok((store, None));
    }
    let store = options.create(path)?;
    let started = Instant::now();
    let fill = |writer: &mut GenesisWriter<'_>| -> Result<(), StoreError> {
        let (hash, code) = contract_code();
        writer.insert_code(hash, &code)?;
        for i in 0..accounts {
            let (address, fields, storage) = account(i);
            writer.insert_account(address, fields, storage)?;
        }
        Ok(())
    };
    store.init_genesis_with(fill, |root| Header { state_root: root, ..Default::default() })?;
    let elapsed = started.elapsed();
    std::fs::write(&params_path, params)?;
    // Reopen: the file then has its settled size, and the timed runs start
    // from the same empty page cache as on a reused store.
    drop(store);
    Ok((options.open(path)?, Some(elapsed)))
}

/// What [`timed`] measured.
struct Timing<T> {
    /// Fastest wall time.
    wall: Duration,
    /// CPU time (all threads) of the run that used the least.
    cpu: Duration,
    /// Peak RSS over the runs, MiB.
    rss_mib: u64,
    /// The last run's result.
    out: T,
}

/// Runs `f` `iters` times on a pool of `threads`.
fn timed<T: Send>(threads: usize, iters: usize, f: impl Fn() -> Result<T> + Sync) -> Result<Timing<T>> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let (mut wall, mut cpu) = (Duration::MAX, Duration::MAX);
    let mut last = None;
    reset_peak_rss();
    for _ in 0..iters.max(1) {
        let (started, cpu_start) = (Instant::now(), cpu_ns());
        let out = pool.install(&f)?;
        wall = wall.min(started.elapsed());
        cpu = cpu.min(Duration::from_nanos(cpu_ns().saturating_sub(cpu_start)));
        last = Some(out);
    }
    let rss_mib = peak_rss_mib();
    Ok(Timing { wall, cpu, rss_mib, out: last.ok_or_else(|| eyre!("no run"))? })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs the benchmark.
pub(crate) fn run(args: &StateRootArgs) -> Result<bool> {
    let transfers = match args.changed {
        Some(changed) => changed.saturating_sub(1) / 2,
        None => GIGAGAS_TRANSFERS,
    };
    let eoas = args.accounts - args.accounts / 10;
    if 2 * transfers + 1 > eoas {
        bail!("{} accounts hold {eoas} EOAs, too few for {transfers} distinct transfers", args.accounts);
    }
    let tmp = tempfile::tempdir()?;
    let path = args.db.clone().unwrap_or_else(|| tmp.path().join("state-root.redb"));
    let options = StoreOptions::new().cache_bytes(args.cache_mib << 20).durable(false);
    reset_peak_rss();
    let (store, genesis) = open_store(&path, args.accounts, &options)?;
    let genesis_rss = peak_rss_mib();
    let db_mib = std::fs::metadata(&path).map_or(0, |m| m.len()) >> 20;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if !args.json {
        match genesis {
            Some(took) => println!(
                "built {} accounts in {:.1} s (peak RSS {genesis_rss} MiB), db {db_mib} MiB, nproc {cores}",
                args.accounts,
                took.as_secs_f64()
            ),
            None => println!(
                "reused {} ({} accounts, db {db_mib} MiB), nproc {cores}",
                path.display(),
                args.accounts
            ),
        }
    }

    let diff = transfer_block(args.accounts, transfers);
    let latest = store.latest_state()?;
    // One untimed run first: it brings the touched pages into redb's cache, as
    // a node that imports block after block has them.
    let started = Instant::now();
    let (root, updates) = latest.trie_updates(&diff)?;
    let cold = started.elapsed();
    let nodes = updates.node_count();
    drop(updates);
    if !args.json {
        println!(
            "changed {} accounts; first (cold-cache) incremental run {:.0} ms, {nodes} trie nodes written",
            diff.accounts.len(),
            ms(cold)
        );
        println!("wall ms (CPU ms of all threads), fastest of {} run(s); RSS = peak MiB", args.iters.max(1));
        println!("threads  incremental (cpu)  full    (cpu)    ratio  incr RSS  full RSS");
    }
    let mut ok = true;
    for &threads in &args.threads {
        let incremental = timed(threads, args.iters, || Ok(latest.trie_updates(&diff)?.0))?;
        let full = if args.skip_full {
            Timing { wall: Duration::ZERO, cpu: Duration::ZERO, rss_mib: 0, out: root }
        } else {
            timed(threads, args.iters, || Ok(latest.full_state_root(&diff)?))?
        };
        let roots_match = incremental.out == root && full.out == root;
        ok &= roots_match;
        let ratio = ms(full.wall) / ms(incremental.wall);
        if args.json {
            let line = serde_json::json!({
                "accounts": args.accounts, "changed": diff.accounts.len(), "threads": threads,
                "incremental_ms": ms(incremental.wall), "full_ms": ms(full.wall), "ratio": ratio,
                "incremental_cpu_ms": ms(incremental.cpu), "full_cpu_ms": ms(full.cpu),
                "incremental_rss_mib": incremental.rss_mib, "full_rss_mib": full.rss_mib,
                "db_mib": db_mib, "cold_incremental_ms": ms(cold), "trie_nodes": nodes,
                "genesis_s": genesis.map(|g| g.as_secs_f64()), "genesis_rss_mib": genesis_rss,
                "cache_mib": args.cache_mib, "nproc": cores, "iters": args.iters,
                "root": root.to_string(), "roots_match": roots_match,
            });
            println!("{line}");
        } else {
            println!(
                "{threads:>7}  {:>8.1} ({:>6.0})  {:>7.0} ({:>6.0})  {ratio:>5.1}  {:>8}  {:>8}{}",
                ms(incremental.wall),
                ms(incremental.cpu),
                ms(full.wall),
                ms(full.cpu),
                incremental.rss_mib,
                full.rss_mib,
                if roots_match { "" } else { "  ROOTS DIFFER" }
            );
        }
    }
    Ok(ok)
}
