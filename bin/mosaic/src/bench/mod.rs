//! `mosaic bench`: performance measurements (never tests).

mod gigagas;
mod import;
mod plot;
mod rpc;
mod rpc_load;
mod rpc_node;
mod rpc_send;
mod state_root;
mod workload;

/// Arguments of `mosaic bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    kind: BenchKind,
}

#[derive(Debug, clap::Subcommand)]
enum BenchKind {
    /// Build a ~1 Ggas block and time sequential vs parallel execution.
    Gigagas(gigagas::GigagasArgs),
    /// Import a generated chain into a fresh datadir: persisted Mgas/s,
    /// sequential vs parallel executor.
    Import(import::ImportBenchArgs),
    /// JSON-RPC load: signed transfers from many senders, sustained tx/s and
    /// submit-to-inclusion latency, Mosaic vs anvil in one run.
    Rpc(rpc::RpcBenchArgs),
    /// State root of a 1-Ggas transfer block's changes over a pre-populated
    /// store: incremental vs from scratch, by thread count.
    StateRoot(state_root::StateRootArgs),
}

/// Runs the command.
pub(crate) fn run(args: &BenchArgs) -> eyre::Result<bool> {
    match &args.kind {
        BenchKind::Gigagas(a) => gigagas::run(a),
        BenchKind::Import(a) => import::run(a),
        BenchKind::Rpc(a) => rpc::run(a),
        BenchKind::StateRoot(a) => state_root::run(a),
    }
}
