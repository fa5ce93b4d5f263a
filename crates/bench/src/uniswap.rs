//! `uniswap`: single-pool swaps through Uniswap V3's `SwapRouter`.
//!
//! Setup transactions deploy ERC-20 tokens, the `UniswapV3Factory`, the
//! `SwapRouter` and the `NonfungiblePositionManager` from the npm artifacts,
//! create and initialize one 0.3% pool per token pair (at price 1), and mint
//! full-range liquidity into each through the position manager. Every trader
//! is a distinct account that holds both tokens of its pool and has approved
//! the router; its one transaction is an `exactInputSingle` swap. Swaps are
//! spread over the pools at random (each pool is a hot spot shared by the
//! traders that use it, which is the parallelism a real block offers), and a
//! hot share all trade on pool 0. Directions alternate so prices stay near 1.

use crate::common::{
    Calldata, ETH, Sender, account, approve_max_call, artifact_bytecode, block_for, hot_flags, setup, spec,
    token_init_code, transfer_call,
};
use crate::{Prepared, TxClass, TxLabel, WorkloadError, WorkloadResult};
use alloy_primitives::{Address, Bytes, U256, keccak256};
use mosaic_executor::{ExecTx, InMemoryState};
use mosaic_primitives::ChainSpec;
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Parameters of [`uniswap`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UniswapParams {
    /// Swaps in the block (one per trader).
    pub swaps: usize,
    /// Pools the swaps are spread over.
    pub pools: usize,
    /// Share of swaps that trade on pool 0.
    pub hot_ratio: f64,
}

impl Default for UniswapParams {
    fn default() -> Self {
        Self { swaps: 6_400, pools: 32, hot_ratio: 0.0 }
    }
}

const POOL_ARTIFACT: &str = "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json";
const FACTORY_ARTIFACT: &str =
    "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json";
const ROUTER_ARTIFACT: &str = "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json";
const POSITIONS_ARTIFACT: &str = "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json";

/// The 0.3% fee tier (tick spacing 60).
const FEE: u128 = 3_000;
/// The widest range a tick spacing of 60 allows (`MAX_TICK` rounded down).
const FULL_RANGE_TICK: i64 = 887_220;
/// Gas limit of one timed swap: 6,400 of them fill a 1 Ggas block, as in
/// pevm's benchmark. A swap uses about 100,500 (up to 128,000 for the first
/// on a pool, which sets fee-growth slots from zero).
const SWAP_GAS: u64 = 156_250;

/// One pool and its tokens (sorted, as the pool sorts them).
#[derive(Debug, Clone, Copy)]
struct Pool {
    address: Address,
    token0: Address,
    token1: Address,
}

/// Deployed Uniswap V3 contracts with funded pools.
pub(crate) struct Market {
    /// The tokens, in deployment order.
    pub(crate) tokens: Vec<Address>,
    pools: Vec<Pool>,
    router: Address,
}

/// Deploys `pools` pools over the fewest tokens that have enough pairs.
/// `deployer` pays for everything and ends up holding the tokens' supply
/// less the liquidity.
pub(crate) fn deploy_market(
    spec: &ChainSpec,
    state: &mut InMemoryState,
    deployer: &mut Sender,
    pools: usize,
) -> WorkloadResult<Market> {
    if pools == 0 {
        return Err(WorkloadError::InvalidParameter { name: "pools", reason: "need at least one".into() });
    }
    let token_count = (2..).find(|t| t * (t - 1) / 2 >= pools).unwrap_or(2);
    let supply = U256::from(u128::MAX);
    let mut deploys = Vec::new();
    let mut tokens = Vec::with_capacity(token_count);
    for i in 0..token_count {
        let init = token_init_code(&format!("Token{i}"), &format!("T{i}"), supply, deployer.address)?;
        let (token, tx) = deployer.create(init, 3_000_000);
        tokens.push(token);
        deploys.push(tx);
    }
    let weth = account(0x77, 0);
    let (factory, tx) = deployer.create(artifact_bytecode(FACTORY_ARTIFACT)?, 10_000_000);
    deploys.push(tx);
    let code = Calldata::init_code(artifact_bytecode(ROUTER_ARTIFACT)?).address(factory).address(weth);
    let (router, tx) = deployer.create(code.build(), 10_000_000);
    deploys.push(tx);
    // constructor(address factory, address WETH9, address tokenDescriptor)
    // (The descriptor only renders token URIs, never called here.)
    let code = Calldata::init_code(artifact_bytecode(POSITIONS_ARTIFACT)?).address(factory).address(weth);
    let (positions, tx) = deployer.create(code.address(weth).build(), 10_000_000);
    deploys.push(tx);
    setup(spec, state, "uniswap deployment", &deploys)?;

    let pool_code_hash = keccak256(artifact_bytecode(POOL_ARTIFACT)?);
    let pairs = (0..token_count).flat_map(|a| (a + 1..token_count).map(move |b| (a, b)));
    let mut market = Market { tokens, pools: Vec::with_capacity(pools), router };
    let mut creation = Vec::with_capacity(2 * pools);
    for (a, b) in pairs.take(pools) {
        let (token0, token1) = sorted(market.tokens[a], market.tokens[b]);
        let salt = keccak256(Calldata::empty().address(token0).address(token1).u128(FEE).build());
        let address = factory.create2(salt, pool_code_hash);
        let create = Calldata::new("createPool(address,address,uint24)").address(token0).address(token1);
        creation.push(deployer.call(factory, create.u128(FEE).build(), 8_000_000));
        // initialize(sqrtPriceX96 = 2^96): price 1.
        let init = Calldata::new("initialize(uint160)").uint(U256::from(1u8) << 96);
        creation.push(deployer.call(address, init.build(), 500_000));
        market.pools.push(Pool { address, token0, token1 });
    }
    let outputs = setup(spec, state, "uniswap pools", &creation)?;
    for (pool, output) in market.pools.iter().zip(outputs.iter().step_by(2)) {
        if output.get(12..32) != Some(pool.address.as_slice()) {
            return Err(WorkloadError::BadArtifact {
                path: crate::artifacts_dir().join(POOL_ARTIFACT),
                reason: format!("factory created {output} where CREATE2 gives {}", pool.address),
            });
        }
    }

    let mut liquidity: Vec<ExecTx> =
        market.tokens.iter().map(|&t| deployer.call(t, approve_max_call(positions), 100_000)).collect();
    let amount = U256::from(10u8).pow(U256::from(30u8));
    let mint = "mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))";
    for pool in &market.pools {
        let data = Calldata::new(mint)
            .address(pool.token0)
            .address(pool.token1)
            .u128(FEE)
            .int(-FULL_RANGE_TICK)
            .int(FULL_RANGE_TICK)
            .uint(amount)
            .uint(amount)
            .uint(U256::ZERO)
            .uint(U256::ZERO)
            .address(deployer.address)
            .uint(U256::MAX);
        liquidity.push(deployer.call(positions, data.build(), 1_000_000));
    }
    setup(spec, state, "uniswap liquidity", &liquidity)?;
    Ok(market)
}

fn sorted(a: Address, b: Address) -> (Address, Address) {
    if a < b { (a, b) } else { (b, a) }
}

/// `exactInputSingle` call data: `amount_in` of `token_in` for `token_out`,
/// proceeds to `recipient`, no deadline, slippage or price limit.
fn exact_input_single(token_in: Address, token_out: Address, recipient: Address, amount_in: U256) -> Bytes {
    Calldata::new("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))")
        .address(token_in)
        .address(token_out)
        .u128(FEE)
        .address(recipient)
        .uint(U256::MAX)
        .uint(amount_in)
        .uint(U256::ZERO)
        .uint(U256::ZERO)
        .build()
}

/// Creates one trader per flag (namespace 7): ether, both tokens of its pool
/// from `treasury`, and an approval of the router, all by setup
/// transactions; returns one swap per trader, on pool 0 where the flag is
/// set, else on a random other pool.
pub(crate) fn swaps(
    spec: &ChainSpec,
    state: &mut InMemoryState,
    treasury: &mut Sender,
    market: &Market,
    hot: &[bool],
) -> WorkloadResult<Vec<ExecTx>> {
    let mut rng = StdRng::seed_from_u64(7);
    let pools = market.pools.len();
    let mut funding = Vec::with_capacity(3 * hot.len());
    let mut txs = Vec::with_capacity(hot.len());
    for (i, &is_hot) in hot.iter().enumerate() {
        let pool =
            if is_hot || pools == 1 { market.pools[0] } else { market.pools[rng.random_range(1..pools)] };
        let (token_in, token_out) =
            if i % 2 == 0 { (pool.token0, pool.token1) } else { (pool.token1, pool.token0) };
        let mut trader = Sender::funded(state, account(7, i as u64), 1);
        let plenty = U256::from(ETH) * U256::from(1_000_000u64);
        funding.push(treasury.call(token_in, transfer_call(trader.address, plenty), 100_000));
        funding.push(treasury.call(token_out, transfer_call(trader.address, U256::from(ETH)), 100_000));
        funding.push(trader.call(token_in, approve_max_call(market.router), 100_000));
        let amount_in = U256::from(ETH) + U256::from(i);
        let data = exact_input_single(token_in, token_out, trader.address, amount_in);
        txs.push(trader.call(market.router, data, SWAP_GAS));
    }
    setup(spec, state, "uniswap traders", &funding)?;
    Ok(txs)
}

/// The `uniswap` block.
pub fn uniswap(params: UniswapParams) -> WorkloadResult<Prepared> {
    let spec = spec()?;
    let hot = hot_flags(params.swaps, params.hot_ratio, 3)?;
    let mut state = InMemoryState::default();
    let mut deployer = Sender::funded(&mut state, account(6, 0), 1_000_000);
    let market = deploy_market(&spec, &mut state, &mut deployer, params.pools)?;
    let txs = swaps(&spec, &mut state, &mut deployer, &market, &hot)?;
    let labels = hot.iter().map(|&hot| TxLabel { class: TxClass::Swap, hot }).collect();
    Ok(Prepared { spec, state, block: block_for(&txs), txs, labels })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mosaic_executor::{Engine, ExecOptions, execute_block};

    #[test]
    fn swaps_succeed_and_parallel_matches_sequential() {
        let params = UniswapParams { swaps: 60, pools: 3, hot_ratio: 0.5 };
        let p = match uniswap(params) {
            Ok(p) => p,
            Err(WorkloadError::MissingArtifact { path, .. }) => {
                eprintln!("skipped: {} missing (scripts/install-bench-artifacts.sh)", path.display());
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let seq = execute_block(&p.spec, &p.block, &p.txs, &p.state, &ExecOptions::default()).unwrap();
        let counts = p.success_counts(&seq);
        assert_eq!(counts.len(), 1);
        assert_eq!((counts[0].succeeded, counts[0].total, counts[0].hot), (60, 60, 30));
        for o in &seq.outcomes {
            // The pool pays out (Transfer), the router pulls the input from
            // the trader (Transfer), the pool emits Swap.
            assert_eq!(o.logs.len(), 3);
            assert!((90_000..SWAP_GAS).contains(&o.gas_used), "{}", o.gas_used);
        }
        for threads in [1, 2, 4] {
            let options = ExecOptions { engine: Engine::Parallel, threads, ..Default::default() };
            let par = execute_block(&p.spec, &p.block, &p.txs, &p.state, &options).unwrap();
            assert!(par.same_result(&seq), "{threads} threads");
        }
    }
}
