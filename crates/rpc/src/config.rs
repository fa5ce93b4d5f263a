//! Server settings. The defaults are safe for a port that others can reach:
//! loopback addresses, bounded request and response sizes, batches and
//! connections, a gas cap and a timeout on calls, a block-range cap on log
//! queries, no CORS unless origins are listed, and WebSocket connections
//! from browsers only for pages on this machine unless origins are listed.

use std::{
    net::{Ipv4Addr, SocketAddr, SocketAddrV4},
    time::Duration,
};

/// Size and count limits of the transports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcLimits {
    /// Largest request body (HTTP) or message (WebSocket), in bytes.
    pub max_request_bytes: u32,
    /// Largest response, in bytes; a bigger answer is replaced by an error.
    pub max_response_bytes: u32,
    /// Most requests in one batch.
    pub max_batch_len: u32,
    /// Most open connections per listener (HTTP and WebSocket each).
    pub max_connections: u32,
    /// Most subscriptions one WebSocket connection may hold.
    pub max_subscriptions_per_connection: u32,
}

impl Default for RpcLimits {
    fn default() -> Self {
        Self {
            // geth: 5 MiB requests; responses large enough for big blocks.
            max_request_bytes: 5 * 1024 * 1024,
            max_response_bytes: 32 * 1024 * 1024,
            max_batch_len: 1000,
            max_connections: 500,
            max_subscriptions_per_connection: 1024,
        }
    }
}

/// Settings of [`crate::start`].
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// HTTP listen address (port 0 picks a free port).
    pub http_addr: SocketAddr,
    /// WebSocket listen address (port 0 picks a free port).
    pub ws_addr: SocketAddr,
    /// Transport limits.
    pub limits: RpcLimits,
    /// Most gas an `eth_call` / `eth_estimateGas` may use (geth `--rpc.gascap`).
    pub gas_cap: u64,
    /// Wall-clock limit of one `eth_call`, `eth_estimateGas` or
    /// `eth_createAccessList`, all its executions together (geth
    /// `--rpc.evmtimeout`).
    pub call_timeout: Duration,
    /// Most blocks one `eth_getLogs` range may span.
    pub max_logs_block_range: u64,
    /// Most logs one `eth_getLogs` may return.
    pub max_logs: usize,
    /// Most blocks one `eth_feeHistory` may cover.
    pub max_fee_history_blocks: u64,
    /// Allowed CORS origins for HTTP (`*` for any); `None` sends no CORS
    /// headers, so browsers refuse cross-origin calls.
    pub cors: Option<Vec<String>>,
    /// Origins allowed to open a WebSocket (`*` for any); `None` allows
    /// pages from this machine only. Clients that send no `Origin` (all but
    /// browsers) are always accepted.
    pub ws_origins: Option<Vec<String>>,
    /// `web3_clientVersion`.
    pub client_version: String,
    /// Threads for execution and proofs (0: one per core).
    pub exec_threads: usize,
}

impl Default for RpcConfig {
    fn default() -> Self {
        let loopback = |port| SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        Self {
            http_addr: loopback(8545),
            ws_addr: loopback(8546),
            limits: RpcLimits::default(),
            gas_cap: 50_000_000,
            call_timeout: Duration::from_secs(5),
            max_logs_block_range: 10_000,
            max_logs: 20_000,
            max_fee_history_blocks: 1024,
            cors: None,
            ws_origins: None,
            client_version: format!("Mosaic/v{}", env!("CARGO_PKG_VERSION")),
            exec_threads: 0,
        }
    }
}

impl RpcConfig {
    /// Both listeners on loopback with OS-chosen ports (for tests).
    pub fn ephemeral() -> Self {
        let any = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
        Self { http_addr: any, ws_addr: any, ..Self::default() }
    }
}
