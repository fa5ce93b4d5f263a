//! Replay of the rpc-compat conformance suite (execution-apis `tests/`):
//! parse `.io` files ([`io`]), post each request over HTTP ([`client`]),
//! and compare the whole response with the expected one ([`diff`]).

pub mod client;
pub mod diff;
pub mod io;
mod runner;

pub use runner::{CompatSummary, is_out_of_scope, run_compat_suite};

/// Errors of the replay harness (not of the node under test).
#[derive(Debug, thiserror::Error)]
pub enum CompatError {
    /// A test file is malformed.
    #[error("{0}")]
    Format(String),
    /// Talking to the node failed.
    #[error("http: {0}")]
    Http(String),
    /// Reading a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Result of the harness.
pub type Result<T> = std::result::Result<T, CompatError>;
