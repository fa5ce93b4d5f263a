//! Block execution for Mosaic.
//!
//! [`execute_block`] runs a block's transactions against a read-only
//! [`StateProvider`] and returns a [`BlockOutput`]: per-transaction outcomes,
//! receipts, gas, execution-layer requests and the block's [`StateDiff`]. The
//! sequential path here is the reference every other engine is compared
//! against: it runs plain revm, one transaction after another, with the
//! pre- and post-block system work each fork requires (block rewards before
//! the merge, the EIP-4788 beacon root, EIP-2935 block-hash history,
//! withdrawals, EIP-6110/7002/7251 requests). The state is read through a
//! `&self` trait so that parallel engines can share it across threads.

mod auto;
mod diff;
mod env;
mod error;
mod output;
mod overlay;
mod parallel;
mod parallel_block;
mod sequential;
mod state;
mod system;

pub use diff::{AccountDiff, AccountFields, StateDiff};
pub use env::{BlockContext, ExecTx, tx_env_from_envelope};
pub use error::{BlockExecutionError, StateError};
pub use output::{BlockOutput, ExecStatus, ParallelStats, TxOutcome};
pub use overlay::BlockOverlay;
pub use sequential::{Engine, ExecMode, ExecOptions, execute_block};
pub use state::{InMemoryState, MemAccount, StateProvider, info_without_code};
pub use system::{
    BEACON_ROOTS_ADDRESS, CONSOLIDATION_REQUEST_ADDRESS, HISTORY_STORAGE_ADDRESS, WITHDRAWAL_REQUEST_ADDRESS,
};

/// Re-exported revm state types used in this crate's API.
pub use revm::{bytecode::Bytecode, state::AccountInfo};

/// Whether `MOSAIC_TIMINGS` asks for phase timings on stderr (read once).
pub(crate) fn timings() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("MOSAIC_TIMINGS").is_some())
}
