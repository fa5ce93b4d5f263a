//! The `mosaic` command line: fixture runners (`statetest`, `blocktest`),
//! geth's transition tool interface (`t8n`), and later the node.

mod blocktest;
mod runner;
mod statetest;
mod t8n;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Mosaic: a parallel EVM rollup node.
#[derive(Debug, Parser)]
#[command(name = "mosaic", version, about)]
struct Cli {
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run GeneralStateTests JSON files or folders.
    Statetest(statetest::StateTestArgs),
    /// Run BlockchainTests JSON files or folders through block import.
    Blocktest(blocktest::BlockTestArgs),
    /// geth's `evm t8n` state transition tool.
    T8n(t8n::T8nArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(threads) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build_global() {
            eprintln!("error: cannot start {threads} threads: {e}");
            return ExitCode::FAILURE;
        }
    }
    let result = match &cli.command {
        Command::Statetest(args) => statetest::run(args),
        Command::Blocktest(args) => blocktest::run(args),
        Command::T8n(args) => t8n::run(args),
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
