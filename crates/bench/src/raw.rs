//! `raw`: plain value transfers of 21,000 gas from distinct senders to
//! distinct recipients, or, for the hot share, all to one recipient.

use crate::common::{ETH, account, block_for, hot_flags, spec, value_tx};
use crate::{Prepared, TxClass, TxLabel, WorkloadResult};
use alloy_primitives::{Bytes, U256};
use mosaic_executor::{ExecTx, InMemoryState};
use revm::primitives::TxKind;

/// Parameters of [`raw`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawParams {
    /// Transfers in the block (47,620 make 1 Ggas).
    pub txs: usize,
    /// Share of transfers that go to one hot recipient.
    pub hot_ratio: f64,
}

impl Default for RawParams {
    fn default() -> Self {
        Self { txs: 47_620, hot_ratio: 0.0 }
    }
}

/// Funds one sender per flag in `state` and returns one transfer per flag:
/// to the hot recipient where the flag is set, else to a fresh account.
pub(crate) fn transfers(state: &mut InMemoryState, hot: &[bool]) -> Vec<ExecTx> {
    let hot_recipient = account(0x0d, 0);
    let mut txs = Vec::with_capacity(hot.len());
    for (i, &is_hot) in hot.iter().enumerate() {
        let from = account(1, i as u64);
        let to = if is_hot { hot_recipient } else { account(2, i as u64) };
        state.insert_account(from, 0, U256::from(ETH), &[], []);
        txs.push(value_tx(from, 0, TxKind::Call(to), U256::from(1), Bytes::new(), 21_000));
    }
    txs
}

/// The `raw` block.
pub fn raw(params: RawParams) -> WorkloadResult<Prepared> {
    let hot = hot_flags(params.txs, params.hot_ratio, 1)?;
    let mut state = InMemoryState::default();
    let txs = transfers(&mut state, &hot);
    let labels = hot.iter().map(|&hot| TxLabel { class: TxClass::Transfer, hot }).collect();
    Ok(Prepared { spec: spec()?, state, block: block_for(&txs), txs, labels })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mosaic_executor::{Engine, ExecOptions, execute_block};

    #[test]
    fn hot_recipient_receives_the_hot_share() {
        let p = raw(RawParams { txs: 200, hot_ratio: 0.3 }).unwrap();
        let seq = execute_block(&p.spec, &p.block, &p.txs, &p.state, &ExecOptions::default()).unwrap();
        let counts = p.success_counts(&seq);
        assert_eq!((counts[0].succeeded, counts[0].total, counts[0].hot), (200, 200, 60));
        assert_eq!(seq.gas_used, 200 * 21_000);
        let hot = seq.diff.accounts[&account(0x0d, 0)].info.unwrap();
        assert_eq!(hot.balance, U256::from(60));
        let options = ExecOptions { engine: Engine::Parallel, threads: 2, ..Default::default() };
        let par = execute_block(&p.spec, &p.block, &p.txs, &p.state, &options).unwrap();
        assert!(par.same_result(&seq));
    }
}
