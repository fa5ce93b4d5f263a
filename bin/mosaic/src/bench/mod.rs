//! `mosaic bench`: performance measurements (never tests).

mod gigagas;
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
}

/// Runs the command.
pub(crate) fn run(args: &BenchArgs) -> eyre::Result<bool> {
    match &args.kind {
        BenchKind::Gigagas(a) => gigagas::run(a),
    }
}
