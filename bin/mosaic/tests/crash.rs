//! Crash consistency of `mosaic import`: a generated chain is imported while
//! the process is killed with SIGKILL at random moments. After every kill the
//! datadir must open, its head must be a fully committed block whose state
//! root (recomputed from the stored trie) matches the header, and the next
//! run must continue from there; the final head and state equal those of an
//! uninterrupted import.
//!
//! `MOSAIC_CRASH_SEED` replays a run, `MOSAIC_CRASH_KILLS` sets the number of
//! kills (default 24).

#![allow(clippy::unwrap_used)]

use mosaic_storage::Store;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_mosaic");

fn mosaic(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

fn import_args<'a>(datadir: &'a str, chain: &'a str, genesis: &'a str) -> Vec<&'a str> {
    vec!["import", "--datadir", datadir, "--genesis", genesis, chain]
}

/// Import with commits made durable every `flush_ms` (0: every block).
fn import_with_flush<'a>(
    datadir: &'a str,
    chain: &'a str,
    genesis: &'a str,
    flush_ms: &'a str,
) -> Vec<&'a str> {
    let mut args = import_args(datadir, chain, genesis);
    args.extend(["--flush-ms", flush_ms]);
    args
}

/// Opens the datadir's store and checks its head against the stored trie.
/// Returns the head number (`None` if killed before genesis committed).
fn check_consistent(datadir: &Path, seed: u64, round: usize) -> Option<u64> {
    let db = datadir.join("mosaic.redb");
    if !db.exists() {
        return None;
    }
    let store = Store::open(&db).unwrap_or_else(|e| panic!("seed {seed} round {round}: open failed: {e}"));
    let snapshot = store.snapshot().unwrap();
    let head = snapshot.head()?;
    let header = snapshot
        .header(head.hash)
        .unwrap()
        .unwrap_or_else(|| panic!("seed {seed} round {round}: head {} has no header", head.number));
    let root = store.latest_state().unwrap().state_root().unwrap();
    assert_eq!(root, header.state_root, "seed {seed} round {round}: state root of head {}", head.number);
    Some(head.number)
}

#[test]
fn import_survives_sigkill() {
    let seed = std::env::var("MOSAIC_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        now.as_nanos() as u64 ^ std::process::id() as u64
    });
    let kills: usize = std::env::var("MOSAIC_CRASH_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(24);
    eprintln!("crash test seed {seed} (MOSAIC_CRASH_SEED={seed} to replay), {kills} kills");
    let mut rng = StdRng::seed_from_u64(seed);

    let dir = tempfile::tempdir().unwrap();
    let gen_dir = dir.path().join("chain");
    let out = mosaic(&["gen-chain", "--blocks", "150", "--txs", "60", "--out", gen_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "gen-chain: {}", String::from_utf8_lossy(&out.stderr));
    let chain = gen_dir.join("chain.rlp");
    let genesis = gen_dir.join("genesis.json");
    let (chain, genesis) = (chain.to_str().unwrap(), genesis.to_str().unwrap());

    // Reference: one uninterrupted import.
    let reference_dir = dir.path().join("reference");
    let started = Instant::now();
    let reference_args = import_with_flush(reference_dir.to_str().unwrap(), chain, genesis, "0");
    let out = mosaic(&reference_args).output().unwrap();
    let reference_time = started.elapsed();
    assert!(out.status.success(), "reference import: {}", String::from_utf8_lossy(&out.stderr));
    let reference_line = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_owned();
    let reference_head = reference_line.split_whitespace().nth(4).unwrap().to_owned();

    // Interrupted imports into another datadir.
    let datadir = dir.path().join("crashed");
    let datadir_str = datadir.to_str().unwrap();
    // Kill points spread so that the kills together cover about twice the
    // import: each round gets through a few blocks at most.
    let window = (2 * reference_time.as_micros() as u64 / kills as u64).max(1000);
    let mut heads = Vec::new();
    for round in 0..kills {
        // Alternate durable-per-block commits with non-durable commits
        // flushed every few milliseconds: both must survive a kill.
        let flush_ms = if round % 2 == 0 { "0" } else { "5" };
        let mut child = mosaic(&import_with_flush(datadir_str, chain, genesis, flush_ms)).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.random_range(0..window)));
        let _ = child.kill(); // SIGKILL on Unix; fails harmlessly if it already exited.
        let _ = child.wait();
        let head = check_consistent(&datadir, seed, round);
        heads.push(head);
    }
    eprintln!("heads after each kill: {heads:?}");

    // Finish the import and compare with the reference.
    let out = mosaic(&import_args(datadir_str, chain, genesis)).output().unwrap();
    assert!(out.status.success(), "seed {seed}: final import: {}", String::from_utf8_lossy(&out.stderr));
    let line = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_owned();
    assert_eq!(line.split_whitespace().nth(4).unwrap(), reference_head, "seed {seed}: {line}");
    assert_eq!(line.split_whitespace().nth(5), reference_line.split_whitespace().nth(5), "seed {seed}");
    check_consistent(&datadir, seed, kills);
    let fingerprint = |p: &Path| {
        Store::open(p.join("mosaic.redb")).unwrap().snapshot().unwrap().state_fingerprint().unwrap()
    };
    assert_eq!(fingerprint(&datadir), fingerprint(&reference_dir), "seed {seed}: final state differs");
}
