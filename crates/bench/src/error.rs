//! Why a benchmark block could not be built: a missing or malformed npm
//! artifact (install them and retry), a bad parameter (fix the command line),
//! or a setup transaction that did not succeed (a bug in the workload or the
//! executor).

use mosaic_executor::{BlockExecutionError, ExecStatus};
use mosaic_primitives::SpecError;
use std::path::PathBuf;

/// Errors of the workload builders.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// An artifact file could not be read.
    #[error("{}: cannot read artifact ({source}); run scripts/install-bench-artifacts.sh first", path.display())]
    MissingArtifact {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An artifact file is not what the builder expects.
    #[error("{}: bad artifact: {reason}", path.display())]
    BadArtifact {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A parameter is out of range.
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The chain spec could not be built.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The executor rejected a setup block.
    #[error("setup ({stage}): {source}")]
    Execution {
        /// Which setup step.
        stage: &'static str,
        /// The executor's error.
        source: Box<BlockExecutionError>,
    },
    /// A setup transaction reverted or halted.
    #[error("setup ({stage}): transaction {index} did not succeed: {status:?}")]
    SetupFailed {
        /// Which setup step.
        stage: &'static str,
        /// Its index in the setup block.
        index: usize,
        /// How it ended.
        status: ExecStatus,
    },
}

/// Result of the workload builders.
pub type WorkloadResult<T> = Result<T, WorkloadError>;
