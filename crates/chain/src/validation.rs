//! Consensus rules on headers and bodies that need no execution.

use crate::BlockError;
use alloy_consensus::{
    Block, EMPTY_OMMER_ROOT_HASH, Header, TxEnvelope,
    proofs::{calculate_ommers_root, calculate_transaction_root, calculate_withdrawals_root},
};
use mosaic_primitives::{BlobSchedule, ChainSpec, Hardfork};
use revm::primitives::eip4844::GAS_PER_BLOB;

/// EIP-1559 base fee of the first London block.
const INITIAL_BASE_FEE: u64 = 1_000_000_000;
/// EIP-7918 blob base cost.
const BLOB_BASE_COST: u64 = 1 << 13;
const MIN_GAS_LIMIT: u64 = 5000;
const MAX_GAS_LIMIT: u64 = 0x7fff_ffff_ffff_ffff;

/// The base fee a child of `parent` must carry, `None` before London.
pub fn expected_base_fee(spec: &ChainSpec, parent: &Header, number: u64, timestamp: u64) -> Option<u64> {
    if !spec.is_active(Hardfork::London, number, timestamp) {
        return None;
    }
    let Some(parent_fee) =
        parent.base_fee_per_gas.filter(|_| spec.is_active(Hardfork::London, parent.number, parent.timestamp))
    else {
        return Some(INITIAL_BASE_FEE);
    };
    let target = parent.gas_limit / 2;
    if target == 0 {
        return Some(parent_fee);
    }
    let used = parent.gas_used;
    let fee = u128::from(parent_fee);
    Some(if used == target {
        parent_fee
    } else if used > target {
        let delta = (fee * u128::from(used - target) / u128::from(target) / 8).max(1);
        u64::try_from(fee + delta).unwrap_or(u64::MAX)
    } else {
        let delta = fee * u128::from(target - used) / u128::from(target) / 8;
        u64::try_from(fee - delta).unwrap_or(0)
    })
}

/// `fake_exponential` of EIP-4844.
fn fake_exponential(factor: u128, numerator: u128, denominator: u128) -> u128 {
    let mut i = 1u128;
    let mut output = 0u128;
    let mut acc = factor.saturating_mul(denominator);
    while acc > 0 {
        output = output.saturating_add(acc);
        acc = acc.saturating_mul(numerator) / denominator.saturating_mul(i);
        i += 1;
    }
    output / denominator
}

/// Blob base fee for an excess under a schedule.
pub(crate) fn blob_base_fee(excess: u64, schedule: &BlobSchedule) -> u128 {
    fake_exponential(1, u128::from(excess), u128::from(schedule.update_fraction))
}

/// The excess blob gas a child of `parent` must carry, `None` before Cancun.
pub fn expected_excess_blob_gas(
    spec: &ChainSpec,
    parent: &Header,
    number: u64,
    timestamp: u64,
) -> Option<u64> {
    let schedule = spec.blob_schedule(number, timestamp)?;
    let parent_excess = parent.excess_blob_gas.unwrap_or_default();
    let parent_used = parent.blob_gas_used.unwrap_or_default();
    let target = schedule.target_blob_gas();
    if parent_excess + parent_used < target {
        return Some(0);
    }
    if spec.is_active(Hardfork::Osaka, number, timestamp) {
        let parent_base_fee = u128::from(parent.base_fee_per_gas.unwrap_or_default());
        if u128::from(BLOB_BASE_COST) * parent_base_fee
            > u128::from(GAS_PER_BLOB) * blob_base_fee(parent_excess, &schedule)
        {
            let max = schedule.max_blob_gas();
            return Some(parent_excess + parent_used * (max - target) / max.max(1));
        }
    }
    Some(parent_excess + parent_used - target)
}

fn presence<T>(name: &str, value: Option<T>, required: bool) -> Result<(), BlockError> {
    match (value.is_some(), required) {
        (true, false) => Err(BlockError::Header(format!("{name} present before its fork"))),
        (false, true) => Err(BlockError::Header(format!("missing {name}"))),
        _ => Ok(()),
    }
}

/// Checks a header against its parent.
pub fn validate_header(spec: &ChainSpec, header: &Header, parent: &Header) -> Result<(), BlockError> {
    let (n, t) = (header.number, header.timestamp);
    let err = |m: String| Err(BlockError::Header(m));
    if Some(n) != parent.number.checked_add(1) {
        return err(format!("number {n} does not follow parent {}", parent.number));
    }
    if t <= parent.timestamp {
        return err(format!("timestamp {t} not after parent's {}", parent.timestamp));
    }
    if header.extra_data.len() > 32 {
        return err(format!("extra data is {} bytes, more than 32", header.extra_data.len()));
    }
    if header.gas_used > header.gas_limit {
        return err(format!("gas used {} above gas limit {}", header.gas_used, header.gas_limit));
    }
    if header.gas_limit > MAX_GAS_LIMIT || header.gas_limit < MIN_GAS_LIMIT {
        return err(format!("gas limit {} out of range", header.gas_limit));
    }
    let london_starts = spec.is_active(Hardfork::London, n, t)
        && !spec.is_active(Hardfork::London, parent.number, parent.timestamp);
    let parent_limit = if london_starts { parent.gas_limit.saturating_mul(2) } else { parent.gas_limit };
    let bound = parent_limit / 1024;
    if header.gas_limit.abs_diff(parent_limit) >= bound {
        return err(format!("gas limit {} differs too much from parent's {parent_limit}", header.gas_limit));
    }
    let base_fee = expected_base_fee(spec, parent, n, t);
    if header.base_fee_per_gas != base_fee {
        return err(format!("base fee {:?}, expected {:?}", header.base_fee_per_gas, base_fee));
    }
    if spec.is_merged(n, t) {
        if !header.difficulty.is_zero() {
            return err(format!("difficulty {} after the merge", header.difficulty));
        }
        if !header.nonce.is_zero() {
            return err("non-zero nonce after the merge".into());
        }
        if header.ommers_hash != EMPTY_OMMER_ROOT_HASH {
            return err("uncles after the merge".into());
        }
    } else if header.difficulty.is_zero() {
        return err("zero difficulty before the merge".into());
    }
    presence("withdrawals root", header.withdrawals_root, spec.is_active(Hardfork::Shanghai, n, t))?;
    let cancun = spec.is_active(Hardfork::Cancun, n, t);
    presence("blob gas used", header.blob_gas_used, cancun)?;
    presence("excess blob gas", header.excess_blob_gas, cancun)?;
    presence("parent beacon block root", header.parent_beacon_block_root, cancun)?;
    presence("requests hash", header.requests_hash, spec.is_active(Hardfork::Prague, n, t))?;
    if let (Some(used), Some(schedule)) = (header.blob_gas_used, spec.blob_schedule(n, t)) {
        if used % GAS_PER_BLOB != 0 {
            return err(format!("blob gas used {used} not a multiple of {GAS_PER_BLOB}"));
        }
        if used > schedule.max_blob_gas() {
            return err(format!("blob gas used {used} above maximum {}", schedule.max_blob_gas()));
        }
        let expected = expected_excess_blob_gas(spec, parent, n, t);
        if header.excess_blob_gas != expected {
            return err(format!("excess blob gas {:?}, expected {expected:?}", header.excess_blob_gas));
        }
    }
    Ok(())
}

/// Checks that the body matches the roots in its header.
pub fn validate_body(spec: &ChainSpec, block: &Block<TxEnvelope>) -> Result<(), BlockError> {
    let header = &block.header;
    let (n, t) = (header.number, header.timestamp);
    let tx_root = calculate_transaction_root(&block.body.transactions);
    if tx_root != header.transactions_root {
        return Err(BlockError::mismatch("transactions root", header.transactions_root, tx_root));
    }
    let ommers_root = calculate_ommers_root(&block.body.ommers);
    if ommers_root != header.ommers_hash {
        return Err(BlockError::mismatch("ommers hash", header.ommers_hash, ommers_root));
    }
    if spec.is_merged(n, t) && !block.body.ommers.is_empty() {
        return Err(BlockError::Body("uncles after the merge".into()));
    }
    match (&block.body.withdrawals, header.withdrawals_root) {
        (Some(w), Some(root)) => {
            let got = calculate_withdrawals_root(w);
            if got != root {
                return Err(BlockError::mismatch("withdrawals root", root, got));
            }
        }
        (None, None) => {}
        (Some(_), None) => return Err(BlockError::Body("withdrawals before Shanghai".into())),
        (None, Some(_)) => return Err(BlockError::Body("missing withdrawals".into())),
    }
    Ok(())
}
