//! Work around a block's transactions: system contract calls, rewards,
//! withdrawals and execution-layer requests.

use crate::{BlockContext, BlockExecutionError, BlockOverlay, StateProvider};
use alloy_eips::eip7685::Requests;
use alloy_primitives::{Address, B256, Bytes, Log, U256, address, b256};
use mosaic_primitives::{ChainSpec, Hardfork};
use revm::{
    SystemCallEvm,
    context::result::{EVMError, ExecutionResult},
    handler::{MainnetContext, MainnetEvm, system_call::SYSTEM_ADDRESS},
};

/// EIP-4788 beacon roots contract.
pub const BEACON_ROOTS_ADDRESS: Address = address!("0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02");
/// EIP-2935 block-hash history contract.
pub const HISTORY_STORAGE_ADDRESS: Address = address!("0x0000F90827F1C53a10cb7A02335B175320002935");
/// EIP-7002 withdrawal request contract.
pub const WITHDRAWAL_REQUEST_ADDRESS: Address = address!("0x00000961Ef480Eb55e80D19ad83579A64c007002");
/// EIP-7251 consolidation request contract.
pub const CONSOLIDATION_REQUEST_ADDRESS: Address = address!("0x0000BBdDc7CE488642fb579F8B00f3a590007251");
/// `DepositEvent(bytes,bytes,bytes,bytes,bytes)` topic.
const DEPOSIT_EVENT_TOPIC: B256 = b256!("0x649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5");

const ETHER: u128 = 1_000_000_000_000_000_000;

/// The EVM the sequential executor drives: mainnet revm over the overlay.
pub(crate) type SeqEvm<S> = MainnetEvm<MainnetContext<BlockOverlay<S>>>;

/// The overlay inside the EVM.
pub(crate) fn overlay<S: StateProvider>(evm: &mut SeqEvm<S>) -> &mut BlockOverlay<S> {
    &mut evm.ctx.journaled_state.database
}

fn evm_error(e: impl std::fmt::Display, address: Address) -> BlockExecutionError {
    BlockExecutionError::Evm { address: Some(address), message: e.to_string() }
}

/// Runs a system call and commits it; returns its output, or `None` if it
/// did not succeed.
fn system_call<S: StateProvider>(
    evm: &mut SeqEvm<S>,
    target: Address,
    data: Bytes,
) -> Result<Option<Bytes>, BlockExecutionError> {
    let out = evm.system_call_with_caller(SYSTEM_ADDRESS, target, data).map_err(|e| match e {
        EVMError::Database(e) => BlockExecutionError::State(e),
        other => evm_error(other, target),
    })?;
    overlay(evm).commit_changes(out.state)?;
    Ok(match out.result {
        ExecutionResult::Success { output, .. } => Some(output.into_data()),
        _ => None,
    })
}

/// System calls before the first transaction (EIP-4788, EIP-2935).
pub(crate) fn pre_block<S: StateProvider>(
    evm: &mut SeqEvm<S>,
    spec: &ChainSpec,
    block: &BlockContext,
) -> Result<(), BlockExecutionError> {
    let (n, t) = (block.number, block.timestamp);
    if spec.is_active(Hardfork::Dao, n, t)
        && spec.condition(Hardfork::Dao) == mosaic_primitives::ForkCondition::Block(n)
    {
        return Err(BlockExecutionError::InvalidBlock(
            "the DAO irregular state change is not implemented".into(),
        ));
    }
    if spec.is_active(Hardfork::Cancun, n, t) && n > 0 {
        let Some(root) = block.parent_beacon_block_root else {
            return Err(BlockExecutionError::InvalidBlock("missing parent beacon block root".into()));
        };
        system_call(evm, BEACON_ROOTS_ADDRESS, root.0.to_vec().into())?;
    }
    if spec.is_active(Hardfork::Prague, n, t) && n > 0 {
        system_call(evm, HISTORY_STORAGE_ADDRESS, block.parent_hash.0.to_vec().into())?;
    }
    Ok(())
}

/// Block and uncle rewards before the merge.
pub(crate) fn apply_rewards<S: StateProvider>(
    overlay: &mut BlockOverlay<S>,
    spec: &ChainSpec,
    block: &BlockContext,
    reward_override: Option<U256>,
) -> Result<(), BlockExecutionError> {
    let (n, t) = (block.number, block.timestamp);
    if spec.is_merged(n, t) {
        return Ok(());
    }
    let base = reward_override.unwrap_or_else(|| {
        U256::from(
            if spec.is_active(Hardfork::Constantinople, n, t) || spec.is_active(Hardfork::Petersburg, n, t) {
                2 * ETHER
            } else if spec.is_active(Hardfork::Byzantium, n, t) {
                3 * ETHER
            } else {
                5 * ETHER
            },
        )
    });
    let clear = spec.is_active(Hardfork::SpuriousDragon, n, t);
    let mut miner = base;
    for (beneficiary, number) in &block.ommers {
        let factor = U256::from((number + 8).saturating_sub(n));
        overlay.increment_balance(*beneficiary, factor * base / U256::from(8), clear)?;
        miner += base / U256::from(32);
    }
    overlay.increment_balance(block.beneficiary, miner, clear)?;
    Ok(())
}

/// EIP-4895 withdrawals.
pub(crate) fn apply_withdrawals<S: StateProvider>(
    overlay: &mut BlockOverlay<S>,
    block: &BlockContext,
) -> Result<(), BlockExecutionError> {
    for w in block.withdrawals.iter().flatten() {
        if w.amount == 0 {
            continue;
        }
        overlay.increment_balance(w.address, U256::from(w.amount) * U256::from(1_000_000_000u64), true)?;
    }
    Ok(())
}

/// EIP-6110 deposits from the block's logs, then the EIP-7002 and EIP-7251
/// queues.
pub(crate) fn collect_requests<'a, S: StateProvider>(
    evm: &mut SeqEvm<S>,
    spec: &ChainSpec,
    logs: impl Iterator<Item = &'a Log>,
) -> Result<Requests, BlockExecutionError> {
    let mut deposits = vec![0u8];
    if let Some(contract) = spec.deposit_contract {
        for log in logs.filter(|l| l.address == contract) {
            if log.topics().first() == Some(&DEPOSIT_EVENT_TOPIC) {
                parse_deposit(&log.data.data, &mut deposits)?;
            }
        }
    }
    let mut requests = Requests::default();
    requests.push_request(deposits.into());
    for (ty, address) in [(1u8, WITHDRAWAL_REQUEST_ADDRESS), (2u8, CONSOLIDATION_REQUEST_ADDRESS)] {
        let has_code =
            overlay(evm).account(address)?.is_some_and(|a| a.code_hash != revm::primitives::KECCAK_EMPTY);
        if !has_code {
            return Err(BlockExecutionError::InvalidBlock(format!("system contract {address} has no code")));
        }
        let Some(output) = system_call(evm, address, Bytes::new())? else {
            return Err(BlockExecutionError::InvalidBlock(format!("system call to {address} failed")));
        };
        let mut request = Vec::with_capacity(output.len() + 1);
        request.push(ty);
        request.extend_from_slice(&output);
        requests.push_request(request.into());
    }
    Ok(requests)
}

/// Appends one deposit request (pubkey, credentials, amount, signature,
/// index: 192 bytes) decoded from a `DepositEvent`'s ABI data.
fn parse_deposit(data: &[u8], out: &mut Vec<u8>) -> Result<(), BlockExecutionError> {
    const SIZES: [usize; 5] = [48, 32, 8, 96, 8];
    let bad = |what: &str| BlockExecutionError::InvalidBlock(format!("invalid deposit log: {what}"));
    if data.len() != 576 {
        return Err(bad("wrong length"));
    }
    let word = |at: usize| -> Result<usize, BlockExecutionError> {
        let w = &data[at..at + 32];
        if w[..24].iter().any(|b| *b != 0) {
            return Err(bad("offset out of range"));
        }
        let mut v = [0u8; 8];
        v.copy_from_slice(&w[24..]);
        usize::try_from(u64::from_be_bytes(v)).map_err(|_| bad("offset out of range"))
    };
    let expected_offsets = [160usize, 256, 320, 384, 512];
    for (i, size) in SIZES.iter().enumerate() {
        let offset = word(i * 32)?;
        if offset != expected_offsets[i] {
            return Err(bad("unexpected field offset"));
        }
        if word(offset)? != *size {
            return Err(bad("unexpected field size"));
        }
        out.extend_from_slice(&data[offset + 32..offset + 32 + size]);
    }
    Ok(())
}
