//! Shared vocabulary of Mosaic: the chain specification (a geth-format
//! `genesis.json` or a fixture fork name turned into a fork schedule by block
//! number and timestamp, with its blob parameters), transaction decoding and
//! validation rules that do not need state, and re-exports of the alloy and
//! revm types every other crate speaks.

pub mod spec;
pub mod system_contracts;
pub mod transaction;

pub use alloy_consensus;
pub use alloy_eips;
pub use alloy_primitives::{self, Address, B256, Bytes, U256};
pub use revm;
pub use spec::{BlobSchedule, ChainSpec, ForkCondition, Hardfork, SpecError};
