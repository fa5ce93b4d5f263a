//! Fee suggestions and history: `eth_gasPrice`, `eth_maxPriorityFeePerGas`
//! (geth's oracle: the 60th percentile of the three cheapest tips of each of
//! the last 20 blocks, ignoring tips under 2 wei), `eth_feeHistory`,
//! `eth_baseFee` (the next block's) and `eth_blobBaseFee`.

use super::{Api, Json, Kind, Method, blocks::blob_base_fee, json};
use crate::{
    error::{ApiError, ApiResult},
    params::{Args, BlockId, BlockTag},
};
use alloy_consensus::{Header, Transaction};
use alloy_primitives::{U64, U256};
use jsonrpsee::types::Params;
use mosaic_chain::{expected_base_fee, expected_excess_blob_gas};
use mosaic_storage::Snapshot;
use serde::Serialize;
use serde_json::Value;

pub(crate) const METHODS: [(&str, Kind, Method); 5] = [
    ("eth_gasPrice", Kind::Blocking, gas_price),
    ("eth_maxPriorityFeePerGas", Kind::Blocking, max_priority_fee),
    ("eth_feeHistory", Kind::Heavy, fee_history),
    ("eth_baseFee", Kind::Quick, base_fee),
    ("eth_blobBaseFee", Kind::Quick, blob_base_fee_method),
];

const ORACLE_BLOCKS: u64 = 20;
const ORACLE_SAMPLES: usize = 3;
const ORACLE_PERCENTILE: usize = 60;
const ORACLE_IGNORE_BELOW: u128 = 2;
const ORACLE_DEFAULT: u128 = 1_000_000_000;
const ORACLE_MAX: u128 = 500_000_000_000;

/// The suggested priority fee.
fn suggest_tip(api: &Api, snapshot: &Snapshot) -> ApiResult<u128> {
    let head = snapshot.require_head()?.number;
    let mut samples = Vec::new();
    for number in head.saturating_sub(ORACLE_BLOCKS - 1)..=head {
        let Some(block) = api.block(snapshot, BlockId::Tag(BlockTag::Number(number)))? else { continue };
        let base_fee = block.header.base_fee_per_gas;
        let mut tips: Vec<u128> = block
            .body
            .transactions
            .iter()
            .filter_map(|tx| tx.effective_tip_per_gas(base_fee.unwrap_or_default()))
            .filter(|tip| *tip >= ORACLE_IGNORE_BELOW)
            .collect();
        tips.sort_unstable();
        if tips.is_empty() {
            samples.push(ORACLE_DEFAULT);
        }
        samples.extend(tips.into_iter().take(ORACLE_SAMPLES));
    }
    samples.sort_unstable();
    let tip = samples.get(samples.len().saturating_sub(1) * ORACLE_PERCENTILE / 100).copied();
    Ok(tip.unwrap_or(ORACLE_DEFAULT).min(ORACLE_MAX))
}

fn gas_price(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    let snapshot = api.snapshot()?;
    let head = Api::header(&snapshot, snapshot.require_head()?)?;
    let tip = suggest_tip(api, &snapshot)?;
    json(&U256::from(tip + u128::from(head.base_fee_per_gas.unwrap_or_default())))
}

fn max_priority_fee(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    json(&U256::from(suggest_tip(api, &api.snapshot()?)?))
}

fn base_fee(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    let snapshot = api.snapshot()?;
    let head = Api::header(&snapshot, snapshot.require_head()?)?;
    let next = expected_base_fee(&api.ctx.spec, &head, head.number + 1, head.timestamp + 1);
    json(&next.map(U256::from))
}

fn blob_base_fee_method(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    Args::new(params, 0)?;
    let snapshot = api.snapshot()?;
    let head = Api::header(&snapshot, snapshot.require_head()?)?;
    json(&U256::from(blob_base_fee(api, &head).unwrap_or_default()))
}

/// `math.HexOrDecimal64`: a JSON number, or a string in hex (`0x`) or decimal.
fn hex_or_decimal(value: &Value) -> Result<u64, String> {
    let invalid = || format!("json: cannot unmarshal {value} into Go value of type math.HexOrDecimal64");
    match value {
        Value::Number(n) => n.as_u64().ok_or_else(invalid),
        Value::String(s) => match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).map_err(|_| invalid()),
            None => s.parse().map_err(|_| invalid()),
        },
        _ => Err(invalid()),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FeeHistory {
    oldest_block: U64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reward: Option<Vec<Vec<U256>>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    base_fee_per_gas: Vec<U256>,
    gas_used_ratio: Vec<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    base_fee_per_blob_gas: Vec<U256>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    blob_gas_used_ratio: Vec<f64>,
}

fn percentiles(value: &Value) -> Result<Vec<f64>, String> {
    let items = value.as_array().ok_or_else(|| "invalid reward percentiles".to_owned())?;
    let list: Vec<f64> = items
        .iter()
        .map(|v| {
            v.as_f64().ok_or_else(|| format!("json: cannot unmarshal {v} into Go value of type float64"))
        })
        .collect::<Result<_, _>>()?;
    for (i, p) in list.iter().enumerate() {
        if !(0.0..=100.0).contains(p) {
            return Err(format!("invalid reward percentile: {p}"));
        }
        if i > 0 && *p < list[i - 1] {
            return Err(format!("invalid reward percentile: #{} {} > #{i} {p}", i - 1, list[i - 1]));
        }
    }
    Ok(list)
}

/// Rewards at `percentiles` of a block's gas, geth's `processBlock`.
fn block_rewards(
    snapshot: &Snapshot,
    header: &Header,
    hash: alloy_primitives::B256,
    percentiles: &[f64],
) -> ApiResult<Vec<U256>> {
    let body = snapshot.body(hash)?.unwrap_or_default();
    let receipts = snapshot.receipts(hash)?.unwrap_or_default();
    if body.transactions.is_empty() || receipts.len() != body.transactions.len() {
        return Ok(vec![U256::ZERO; percentiles.len()]);
    }
    let base_fee = header.base_fee_per_gas.unwrap_or_default();
    let mut previous = 0;
    let mut sorted: Vec<(u128, u64)> = body
        .transactions
        .iter()
        .zip(&receipts)
        .map(|(tx, receipt)| {
            let cumulative = receipt.cumulative_gas_used();
            let used = cumulative.saturating_sub(previous);
            previous = cumulative;
            (tx.effective_tip_per_gas(base_fee).unwrap_or_default(), used)
        })
        .collect();
    sorted.sort_by_key(|(tip, _)| *tip);
    let mut index = 0;
    let mut sum = sorted[0].1;
    Ok(percentiles
        .iter()
        .map(|p| {
            let threshold = (header.gas_used as f64 * p / 100.0) as u64;
            while sum < threshold && index < sorted.len() - 1 {
                index += 1;
                sum += sorted[index].1;
            }
            U256::from(sorted[index].0)
        })
        .collect())
}

fn fee_history(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 3)?;
    let count = args.req(0, hex_or_decimal)?.min(api.config.max_fee_history_blocks);
    let newest = args.req(1, BlockTag::parse)?;
    let wanted = args.opt(2, percentiles)?;
    let snapshot = api.snapshot()?;
    let head = snapshot.require_head()?.number;
    let newest = Api::tag_number(&snapshot, newest)?;
    if newest > head {
        return Err(ApiError::invalid_params(format!(
            "request beyond head block: requested {newest}, head {head}"
        )));
    }
    if count == 0 {
        return json(&serde_json::json!({"oldestBlock": "0x0"}));
    }
    let oldest = newest.saturating_sub(count - 1);
    let spec = &api.ctx.spec;
    let mut history = FeeHistory {
        oldest_block: U64::from(oldest),
        reward: wanted.as_ref().map(|_| Vec::new()),
        base_fee_per_gas: Vec::new(),
        gas_used_ratio: Vec::new(),
        base_fee_per_blob_gas: Vec::new(),
        blob_gas_used_ratio: Vec::new(),
    };
    let mut last = None;
    api.heavy(|| -> ApiResult<()> {
        for number in oldest..=newest {
            let hash = snapshot.block_hash(number)?.ok_or_else(ApiError::header_not_found)?;
            let header = snapshot.header(hash)?.ok_or_else(ApiError::header_not_found)?;
            history.base_fee_per_gas.push(U256::from(header.base_fee_per_gas.unwrap_or_default()));
            history.gas_used_ratio.push(header.gas_used as f64 / header.gas_limit.max(1) as f64);
            history.base_fee_per_blob_gas.push(U256::from(blob_base_fee(api, &header).unwrap_or_default()));
            let max_blob_gas = spec.blob_schedule(header.number, header.timestamp).map(|s| s.max_blob_gas());
            let blob_ratio = match (header.blob_gas_used, max_blob_gas) {
                (Some(used), Some(max)) if max > 0 => used as f64 / max as f64,
                _ => 0.0,
            };
            history.blob_gas_used_ratio.push(blob_ratio);
            if let (Some(rewards), Some(p)) = (history.reward.as_mut(), wanted.as_ref()) {
                rewards.push(block_rewards(&snapshot, &header, hash, p)?);
            }
            last = Some(header);
        }
        Ok(())
    })?;
    if let Some(header) = last {
        let (next, time) = (header.number + 1, header.timestamp);
        history
            .base_fee_per_gas
            .push(U256::from(expected_base_fee(spec, &header, next, time).unwrap_or_default()));
        let next_blob =
            match (expected_excess_blob_gas(spec, &header, next, time), spec.blob_schedule(next, time)) {
                (Some(excess), Some(schedule)) => alloy_eips::eip4844::fake_exponential(
                    1,
                    u128::from(excess),
                    u128::from(schedule.update_fraction),
                ),
                _ => 0,
            };
        history.base_fee_per_blob_gas.push(U256::from(next_blob));
    }
    json(&history)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json as j;

    #[test]
    fn block_counts_and_percentiles() {
        assert_eq!(hex_or_decimal(&j!("0x1b")), Ok(27));
        assert_eq!(hex_or_decimal(&j!("27")), Ok(27));
        assert_eq!(hex_or_decimal(&j!(27)), Ok(27));
        assert!(hex_or_decimal(&j!(true)).is_err());
        assert_eq!(percentiles(&j!([10, 99.5])), Ok(vec![10.0, 99.5]));
        assert!(percentiles(&j!([50, 10])).is_err());
        assert!(percentiles(&j!([101])).is_err());
    }
}
