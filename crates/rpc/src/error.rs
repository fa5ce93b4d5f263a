//! Errors: [`RpcError`] for starting the server, and [`ApiError`], what a
//! method answers with — a JSON-RPC error code, geth's message and optional
//! data (the revert bytes of a failed call).

use alloy_primitives::Bytes;
use jsonrpsee::types::ErrorObjectOwned;
use mosaic_storage::StoreError;

/// JSON-RPC: invalid JSON.
pub const PARSE_ERROR: i32 = -32700;
/// JSON-RPC: not a valid request object.
pub const INVALID_REQUEST: i32 = -32600;
/// JSON-RPC: no such method.
pub const METHOD_NOT_FOUND: i32 = -32601;
/// JSON-RPC: invalid method parameters.
pub const INVALID_PARAMS: i32 = -32602;
/// JSON-RPC: internal error.
pub const INTERNAL_ERROR: i32 = -32603;
/// geth's generic server error (`-32000`).
pub const SERVER_ERROR: i32 = -32000;
/// geth's code for a reverted call (EIP-1474 "execution reverted").
pub const REVERTED: i32 = 3;
/// A limit of the server was exceeded (EIP-1474 `-32005`).
pub const LIMIT_EXCEEDED: i32 = -32005;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Binding or running the listener failed.
    #[error("cannot serve JSON-RPC on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime could not be created.
    #[error("cannot start the RPC runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A method was registered twice (a bug).
    #[error("method registration: {0}")]
    Register(String),
    /// The configuration is inconsistent.
    #[error("invalid RPC configuration: {0}")]
    Config(String),
}

/// A method's error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// JSON-RPC error code.
    pub code: i32,
    /// Message (geth's wording where geth has one).
    pub message: String,
    /// Extra data (revert bytes as hex).
    pub data: Option<Bytes>,
}

/// Result of an API method.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), data: None }
    }

    /// `-32602` with `message`.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    /// `-32000` with `message`.
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(SERVER_ERROR, message)
    }

    /// `-32603` with `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(INTERNAL_ERROR, message)
    }

    /// `-32005` with `message`.
    pub fn limit(message: impl Into<String>) -> Self {
        Self::new(LIMIT_EXCEEDED, message)
    }

    /// geth's "header not found" for a block beyond the head.
    pub fn header_not_found() -> Self {
        Self::server("header not found")
    }

    /// geth's answer for an unknown block hash.
    pub fn hash_not_found() -> Self {
        Self::server("header for hash not found")
    }

    /// A reverted call: code 3, `execution reverted[: reason]`, the revert
    /// bytes as data.
    pub fn reverted(output: Bytes) -> Self {
        let message = match crate::exec::revert_reason(&output) {
            Some(reason) => format!("execution reverted: {reason}"),
            None => "execution reverted".to_owned(),
        };
        Self { code: REVERTED, message, data: Some(output) }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::OutsideHistory { requested, oldest, .. } => Self::server(format!(
                "historical state unavailable for block {requested} (oldest available {oldest})"
            )),
            other => Self::internal(format!("database error: {other}")),
        }
    }
}

impl From<mosaic_executor::StateError> for ApiError {
    fn from(error: mosaic_executor::StateError) -> Self {
        Self::internal(format!("state read failed: {error}"))
    }
}

impl From<mosaic_trie::TrieError> for ApiError {
    fn from(error: mosaic_trie::TrieError) -> Self {
        Self::internal(format!("trie read failed: {error}"))
    }
}

impl From<ApiError> for ErrorObjectOwned {
    fn from(error: ApiError) -> Self {
        ErrorObjectOwned::owned(error.code, error.message, error.data)
    }
}
