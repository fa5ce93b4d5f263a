//! `mixed`: raw transfers, ERC-20 transfers and Uniswap V3 swaps in one
//! block, about a third of the gas each, in a fixed random order. The ERC-20
//! transfers move the first token of the Uniswap market. With a hot ratio
//! `R`, a share `R` of each kind touches its hot spot (one transfer
//! recipient, one token holder, pool 0); the rest are independent of each
//! other apart from the pools they share.

use crate::common::{Sender, account, block_for, hot_flags, spec};
use crate::{Prepared, TxClass, TxLabel, WorkloadResult, erc20, raw, uniswap};
use mosaic_executor::InMemoryState;
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};

/// Parameters of [`mixed`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixedParams {
    /// Transactions in the block, split so that each kind uses about a
    /// third of the gas.
    pub txs: usize,
    /// Pools the swaps are spread over.
    pub pools: usize,
    /// Share of each kind's transactions that touch its hot spot.
    pub hot_ratio: f64,
}

impl Default for MixedParams {
    fn default() -> Self {
        Self { txs: 28_900, pools: 32, hot_ratio: 0.0 }
    }
}

/// Shares of the transaction count: inversely proportional to the gas each
/// kind uses (21,000; about 34,300; about 100,500), so that the gas splits
/// about evenly and 28,900 transactions use about 1 Ggas.
const RAW_SHARE: f64 = 0.549;
const ERC20_SHARE: f64 = 0.336;

/// The `mixed` block.
pub fn mixed(params: MixedParams) -> WorkloadResult<Prepared> {
    let spec = spec()?;
    let raw_count = (params.txs as f64 * RAW_SHARE).round() as usize;
    let erc20_count = ((params.txs as f64 * ERC20_SHARE).round() as usize).min(params.txs - raw_count);
    let swap_count = params.txs - raw_count - erc20_count;

    let mut state = InMemoryState::default();
    let mut deployer = Sender::funded(&mut state, account(6, 0), 1_000_000);
    let market = uniswap::deploy_market(&spec, &mut state, &mut deployer, params.pools)?;
    let mut all = Vec::with_capacity(params.txs);
    let kinds = [
        (TxClass::Transfer, raw_count, 11),
        (TxClass::Erc20, erc20_count, 12),
        (TxClass::Swap, swap_count, 13),
    ];
    for (class, count, seed) in kinds {
        let hot = hot_flags(count, params.hot_ratio, seed)?;
        let txs = match class {
            TxClass::Transfer => raw::transfers(&mut state, &hot),
            TxClass::Erc20 => erc20::transfers(&spec, &mut state, &mut deployer, market.tokens[0], &hot)?,
            TxClass::Swap => uniswap::swaps(&spec, &mut state, &mut deployer, &market, &hot)?,
        };
        all.extend(txs.into_iter().zip(hot).map(|(tx, hot)| (tx, TxLabel { class, hot })));
    }
    all.shuffle(&mut StdRng::seed_from_u64(14));
    let (txs, labels): (Vec<_>, Vec<_>) = all.into_iter().unzip();
    Ok(Prepared { spec, state, block: block_for(&txs), txs, labels })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WorkloadError;
    use mosaic_executor::{Engine, ExecOptions, execute_block};

    #[test]
    fn every_kind_succeeds_and_parallel_matches_sequential() {
        let p = match mixed(MixedParams { txs: 300, pools: 2, hot_ratio: 0.2 }) {
            Ok(p) => p,
            Err(WorkloadError::MissingArtifact { path, .. }) => {
                eprintln!("skipped: {} missing (scripts/install-bench-artifacts.sh)", path.display());
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let seq = execute_block(&p.spec, &p.block, &p.txs, &p.state, &ExecOptions::default()).unwrap();
        let mut counts = p.success_counts(&seq);
        counts.sort_by_key(|c| c.class.name());
        let got: Vec<_> = counts.iter().map(|c| (c.class, c.succeeded, c.total, c.hot)).collect();
        // 300 split 0.549 / 0.336 / rest, 20% of each hot (rounded).
        let want =
            [(TxClass::Erc20, 101, 101, 20), (TxClass::Transfer, 165, 165, 33), (TxClass::Swap, 34, 34, 7)];
        assert_eq!(got, want);
        // Shuffled: the first 30 transactions are not all of one kind.
        assert!(p.labels[..30].iter().any(|l| l.class != p.labels[0].class));
        for threads in [1, 2, 4] {
            let options = ExecOptions { engine: Engine::Parallel, threads, ..Default::default() };
            let par = execute_block(&p.spec, &p.block, &p.txs, &p.state, &options).unwrap();
            assert!(par.same_result(&seq), "{threads} threads");
        }
    }
}
