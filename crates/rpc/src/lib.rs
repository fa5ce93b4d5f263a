//! Mosaic's Ethereum JSON-RPC: the `eth_`, `net_`, `web3_`, `debug_` and
//! `txpool_` namespaces over HTTP and WebSocket, reading the store and the
//! transaction pool, plus the harness that replays the rpc-compat suite
//! against a running node ([`compat`]).

pub mod compat;
