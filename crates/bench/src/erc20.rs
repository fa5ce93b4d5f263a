//! `erc20`: transfers of an OpenZeppelin `ERC20PresetFixedSupply` between
//! holders that already hold tokens, as on a live chain; the hot share all
//! go to one holder.

use crate::common::{
    ETH, Sender, account, block_for, hot_flags, setup, spec, token_init_code, transfer_call, tx,
};
use crate::{Prepared, TxClass, TxLabel, WorkloadResult};
use alloy_primitives::{Address, U256};
use mosaic_executor::{ExecTx, InMemoryState};
use mosaic_primitives::ChainSpec;
use revm::primitives::TxKind;

/// Parameters of [`erc20`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Erc20Params {
    /// Transfers in the block.
    pub txs: usize,
    /// Share of transfers that go to one hot holder.
    pub hot_ratio: f64,
}

impl Default for Erc20Params {
    fn default() -> Self {
        Self { txs: 37_000, hot_ratio: 0.0 }
    }
}

/// Gas limit of one timed transfer (about 35,000 are used).
const TRANSFER_GAS: u64 = 60_000;

/// Funds one sender per flag (ether, and tokens from `treasury`) and its
/// recipient (tokens), then returns one transfer per flag: to the hot holder
/// where the flag is set, else to the sender's own recipient.
pub(crate) fn transfers(
    spec: &ChainSpec,
    state: &mut InMemoryState,
    treasury: &mut Sender,
    token: Address,
    hot: &[bool],
) -> WorkloadResult<Vec<ExecTx>> {
    let hot_holder = account(0x0e, 0);
    let amount = U256::from(1_000_000u64);
    let mut funding = vec![treasury.call(token, transfer_call(hot_holder, amount), 100_000)];
    let mut txs = Vec::with_capacity(hot.len());
    for (i, &is_hot) in hot.iter().enumerate() {
        let holder = account(4, i as u64);
        let recipient = account(5, i as u64);
        state.insert_account(holder, 0, U256::from(ETH), &[], []);
        for to in [holder, recipient] {
            funding.push(treasury.call(token, transfer_call(to, amount), 100_000));
        }
        let to = if is_hot { hot_holder } else { recipient };
        txs.push(tx(holder, 0, TxKind::Call(token), transfer_call(to, U256::from(7u64)), TRANSFER_GAS));
    }
    setup(spec, state, "erc20 funding", &funding)?;
    Ok(txs)
}

/// The `erc20` block.
pub fn erc20(params: Erc20Params) -> WorkloadResult<Prepared> {
    let spec = spec()?;
    let hot = hot_flags(params.txs, params.hot_ratio, 2)?;
    let mut state = InMemoryState::default();
    let mut deployer = Sender::funded(&mut state, account(3, 0), 1_000_000);
    let init = token_init_code("Mosaic", "MSC", U256::from(u128::MAX), deployer.address)?;
    let (token, deploy) = deployer.create(init, 5_000_000);
    setup(&spec, &mut state, "erc20 deployment", &[deploy])?;
    let txs = transfers(&spec, &mut state, &mut deployer, token, &hot)?;
    let labels = hot.iter().map(|&hot| TxLabel { class: TxClass::Erc20, hot }).collect();
    Ok(Prepared { spec, state, block: block_for(&txs), txs, labels })
}
