//! Mosaic's Ethereum JSON-RPC: the `eth_`, `net_`, `web3_`, `debug_` and
//! `txpool_` namespaces over HTTP and WebSocket (jsonrpsee), reading the
//! store and the transaction pool, answering like geth — same JSON shapes,
//! same error codes and messages — plus the harness that replays the
//! rpc-compat suite against a running node ([`compat`]).
//!
//! [`start`] serves an [`RpcContext`] with an [`RpcConfig`] on a runtime of
//! its own and returns an [`RpcHandle`]. Parameters are decoded per method
//! with geth's messages (`params`), answers are built in geth's shapes
//! (`types`), calls and gas estimates run in `exec` off the async workers,
//! and `debug_trace*` replays blocks with geth's tracers in `trace`.

mod api;
pub mod compat;
mod config;
pub mod error;
mod exec;
mod forkid;
mod origin;
mod params;
mod server;
mod subs;
mod trace;
mod types;

use mosaic_chain::TxPool;
use mosaic_primitives::ChainSpec;
use mosaic_storage::Store;
use std::sync::Arc;

pub use compat::{CompatSummary, run_compat_suite};
pub use config::{RpcConfig, RpcLimits};
pub use error::{ApiError, ApiResult, RpcError};
pub use server::{RpcHandle, start};

/// What the server reads and whom it tells about new transactions.
#[derive(Clone)]
pub struct RpcContext {
    /// The chain's database.
    pub store: Arc<Store>,
    /// The transaction pool.
    pub pool: Arc<TxPool>,
    /// The chain's fork schedule.
    pub spec: Arc<ChainSpec>,
    /// Called after a transaction enters the pool (wakes block production).
    pub on_new_tx: Arc<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for RpcContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcContext").field("chain_id", &self.spec.chain_id).finish_non_exhaustive()
    }
}
