//! Benchmark blocks for Mosaic's executor.
//!
//! Each workload returns a [`Prepared`] block: a pre-state, a block context
//! and the transactions to time. Contracts come from the npm artifacts that
//! `scripts/install-bench-artifacts.sh` installs (OpenZeppelin's
//! `ERC20PresetFixedSupply`, Uniswap V3 core and periphery) and are deployed,
//! initialized and funded by setup transactions run through the sequential
//! executor, never by writing storage, so the timed block sees the state a
//! live chain would have. [`raw`] and [`erc20`] need nothing else, [`uniswap`]
//! swaps through the real `SwapRouter` on pools with liquidity minted by the
//! `NonfungiblePositionManager`, and [`mixed`] puts all three in one block.
//! A hot ratio sends a share of the transactions to a few hot spots (one
//! recipient, one token holder, one pool). `mosaic bench gigagas` and the
//! criterion benches in `benches/` time these blocks.

mod common;
mod erc20;
mod error;
mod mixed;
mod raw;
mod uniswap;

pub use common::{account, artifacts_dir};
pub use erc20::{Erc20Params, erc20};
pub use error::{WorkloadError, WorkloadResult};
pub use mixed::{MixedParams, mixed};
pub use raw::{RawParams, raw};
pub use uniswap::{UniswapParams, uniswap};

use mosaic_executor::{BlockContext, BlockOutput, ExecStatus, ExecTx, InMemoryState};
use mosaic_primitives::ChainSpec;

/// What a benchmark transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxClass {
    /// A plain value transfer of 21,000 gas.
    Transfer,
    /// An ERC-20 `transfer`.
    Erc20,
    /// A Uniswap V3 `exactInputSingle` swap through the router.
    Swap,
}

impl TxClass {
    /// Lower-case name for reports.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Transfer => "raw",
            Self::Erc20 => "erc20",
            Self::Swap => "swap",
        }
    }
}

/// One transaction's class and whether it touches the workload's hot spot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLabel {
    /// What it does.
    pub class: TxClass,
    /// Whether it touches the hot account, holder or pool.
    pub hot: bool,
}

/// Successful transactions of one class in an executed block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassCount {
    /// The class.
    pub class: TxClass,
    /// Transactions of this class that succeeded.
    pub succeeded: usize,
    /// Transactions of this class in the block.
    pub total: usize,
    /// Transactions of this class that touch the hot spot.
    pub hot: usize,
}

/// A prepared benchmark: the state and the block to time.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The chain spec (Cancun, chain id 1).
    pub spec: ChainSpec,
    /// The pre-state, after the setup transactions.
    pub state: InMemoryState,
    /// The block to execute.
    pub block: BlockContext,
    /// The transactions to time.
    pub txs: Vec<ExecTx>,
    /// One label per transaction.
    pub labels: Vec<TxLabel>,
}

impl Prepared {
    /// Per-class success counts of `out`, an execution of this block, in
    /// the order the classes first appear. Every benchmark transaction is
    /// meant to succeed.
    pub fn success_counts(&self, out: &BlockOutput) -> Vec<ClassCount> {
        let mut counts: Vec<ClassCount> = Vec::new();
        for (label, outcome) in self.labels.iter().zip(&out.outcomes) {
            let index = match counts.iter().position(|c| c.class == label.class) {
                Some(i) => i,
                None => {
                    counts.push(ClassCount { class: label.class, succeeded: 0, total: 0, hot: 0 });
                    counts.len() - 1
                }
            };
            let count = &mut counts[index];
            count.total += 1;
            count.hot += usize::from(label.hot);
            count.succeeded += usize::from(outcome.status == ExecStatus::Success);
        }
        counts
    }
}
