//! The `mosaic` command line: fixture runners (`statetest`, `blocktest`),
//! geth's transition tool interface (`t8n`), and later the node.

mod bench;
mod blocktest;
mod blocktest_store;
mod chaingen;
mod datadir;
mod node;
mod rpc_compat;
mod runner;
mod statetest;
mod t8n;

use clap::{Parser, Subcommand};
use mosaic_executor::{Engine, ExecOptions};
use std::{process::ExitCode, sync::OnceLock};

/// Mosaic: a parallel EVM rollup node.
#[derive(Debug, Parser)]
#[command(name = "mosaic", version, about)]
struct Cli {
    /// Threads for the parallel executor (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Force the parallel engine, even for one-transaction blocks.
    #[arg(long, global = true, conflicts_with = "sequential")]
    parallel: bool,
    /// Force the sequential reference engine.
    #[arg(long, global = true)]
    sequential: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run GeneralStateTests JSON files or folders.
    Statetest(statetest::StateTestArgs),
    /// Run BlockchainTests JSON files or folders through block import.
    Blocktest(blocktest::BlockTestArgs),
    /// Benchmarks (sequential vs parallel execution).
    Bench(bench::BenchArgs),
    /// geth's `evm t8n` state transition tool.
    T8n(t8n::T8nArgs),
    /// Import RLP block files into a datadir, verifying every block.
    Import(datadir::ImportArgs),
    /// Export the canonical chain of a datadir as an RLP block file.
    Export(datadir::ExportArgs),
    /// Generate a valid chain of signed transactions (genesis.json +
    /// chain.rlp) for benchmarks and tests.
    GenChain(chaingen::GenChainArgs),
    /// Run the sequencer: JSON-RPC over HTTP/WebSocket, transaction pool,
    /// block production.
    Node(node::NodeArgs),
    /// Replay the execution-apis rpc-compat suite against a node started on
    /// DIR/genesis.json + DIR/chain.rlp.
    RpcCompat(rpc_compat::RpcCompatArgs),
}

/// mimalloc: the executor allocates per transaction on every thread, where
/// glibc's allocator contends.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

static ENGINE: OnceLock<(Engine, usize)> = OnceLock::new();

/// The executor options the command line asked for.
pub(crate) fn exec_options() -> ExecOptions {
    let (engine, threads) = ENGINE.get().copied().unwrap_or_default();
    ExecOptions { engine, threads, ..Default::default() }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let engine = if cli.parallel {
        Engine::Parallel
    } else if cli.sequential {
        Engine::Sequential
    } else {
        Engine::Auto
    };
    let _ = ENGINE.set((engine, cli.threads.unwrap_or(0)));
    let result = match &cli.command {
        Command::Statetest(args) => statetest::run(args),
        Command::Blocktest(args) => blocktest::run(args),
        Command::T8n(args) => t8n::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Import(args) => datadir::import(args),
        Command::Export(args) => datadir::export(args),
        Command::GenChain(args) => chaingen::run(args),
        Command::Node(args) => node::run(args),
        Command::RpcCompat(args) => rpc_compat::run(args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
