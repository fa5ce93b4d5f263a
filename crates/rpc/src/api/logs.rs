//! `eth_getLogs`: logs of one block (`blockHash`) or of a block range,
//! filtered by emitting address and by topic position, as geth's filter
//! system reads the criteria. Each block's header bloom is checked before
//! its receipts are read. The range and the result count are capped
//! ([`crate::RpcConfig::max_logs_block_range`], [`crate::RpcConfig::max_logs`]).

use super::{Api, Json, Kind, Method, json};
use crate::{
    error::{ApiError, ApiResult},
    params::{self, Args, At, BlockTag},
    types::{BlockReceiptsInput, RpcLog, block_logs},
};
use alloy_primitives::{Address, B256, Bloom, BloomInput};
use jsonrpsee::types::Params;
use mosaic_storage::{BlockRef, Snapshot};
use serde_json::Value;

pub(crate) const METHODS: [(&str, Kind, Method); 1] = [("eth_getLogs", Kind::Heavy, get_logs)];

/// Most addresses and topic positions in one filter (geth's limits).
const MAX_ADDRESSES: usize = 1000;
const MAX_TOPICS: usize = 4;

/// What a log must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LogFilter {
    /// Emitters (any of them); empty matches all.
    pub addresses: Vec<Address>,
    /// Per position, the accepted topics; an empty set matches any.
    pub topics: Vec<Vec<B256>>,
}

impl LogFilter {
    /// Whether `log` passes.
    pub(crate) fn matches(&self, address: &Address, topics: &[B256]) -> bool {
        if !self.addresses.is_empty() && !self.addresses.contains(address) {
            return false;
        }
        if self.topics.len() > topics.len() {
            return false;
        }
        self.topics.iter().zip(topics).all(|(wanted, got)| wanted.is_empty() || wanted.contains(got))
    }

    /// Whether a block with `bloom` may hold a matching log.
    pub(crate) fn may_match(&self, bloom: &Bloom) -> bool {
        let any = |items: &mut dyn Iterator<Item = &[u8]>| {
            let mut empty = true;
            for item in items {
                empty = false;
                if bloom.contains_input(BloomInput::Raw(item)) {
                    return true;
                }
            }
            empty
        };
        any(&mut self.addresses.iter().map(|a| a.as_slice()))
            && self.topics.iter().all(|set| any(&mut set.iter().map(|t| t.as_slice())))
    }

    /// Parses `address` (one or a list) and `topics` of a filter object.
    pub(crate) fn parse(object: &serde_json::Map<String, Value>) -> Result<Self, String> {
        let addresses = match object.get("address") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(_)) => {
                vec![
                    params::address_at(&object["address"], At::Value)
                        .map_err(|e| format!("invalid address: {e}"))?,
                ]
            }
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    params::address_at(v, At::Value).map_err(|e| format!("invalid address at index {i}: {e}"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("invalid addresses in query".into()),
        };
        if addresses.len() > MAX_ADDRESSES {
            return Err("exceed max addresses".into());
        }
        let topics = match object.get("topics") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(positions)) => positions
                .iter()
                .map(|position| match position {
                    Value::Null => Ok(Vec::new()),
                    Value::String(_) => Ok(vec![params::hash_at(position, At::Value)?]),
                    Value::Array(set) => set
                        .iter()
                        .map(|t| if t.is_null() { Ok(None) } else { params::hash_at(t, At::Value).map(Some) })
                        .collect::<Result<Vec<_>, _>>()
                        // A null inside a set makes the position a wildcard.
                        .map(|set| {
                            if set.iter().any(Option::is_none) {
                                Vec::new()
                            } else {
                                set.into_iter().flatten().collect()
                            }
                        }),
                    _ => Err("invalid topic(s)".to_owned()),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("invalid topic(s)".into()),
        };
        if topics.len() > MAX_TOPICS {
            return Err("exceed max topics".into());
        }
        Ok(Self { addresses, topics })
    }
}

/// The logs of one stored block that pass `filter`; `keep` puts the block
/// in the cache.
pub(crate) fn logs_of_block(
    api: &Api,
    snapshot: &Snapshot,
    block: BlockRef,
    filter: &LogFilter,
    keep: bool,
) -> ApiResult<Vec<RpcLog>> {
    let missing = || ApiError::internal(format!("block {} missing", block.number));
    let header = snapshot.header(block.hash)?.ok_or_else(missing)?;
    if !filter.may_match(&header.logs_bloom) {
        return Ok(Vec::new());
    }
    let cached = if keep { api.blocks.get(snapshot, block)? } else { api.blocks.peek(snapshot, block)? };
    let cached = cached.ok_or_else(missing)?;
    let receipts = cached.receipts(snapshot)?;
    let input = BlockReceiptsInput {
        header: &cached.header,
        hash: block.hash,
        txs: &cached.body.transactions,
        receipts: &receipts,
        blob_base_fee: None,
    };
    let mut logs = block_logs(&input);
    logs.retain(|log| filter.matches(&log.address, &log.topics));
    Ok(logs)
}

fn get_logs(api: &Api, params: &Params<'_>) -> ApiResult<Json> {
    let args = Args::new(params, 1)?;
    let object = args.req(0, |v| match v {
        Value::Object(map) => Ok(map.clone()),
        other => Err(params::type_error(params::kind(other), "filters.FilterCriteria", At::Value)),
    })?;
    let field = |name: &str| object.get(name).filter(|v| !v.is_null());
    let block_hash = field("blockHash")
        .map(|v| params::hash_at(v, At::Value))
        .transpose()
        .map_err(|e| ApiError::invalid_params(format!("invalid argument 0: {e}")))?;
    let tag = |name: &str| {
        field(name)
            .map(BlockTag::parse)
            .transpose()
            .map_err(|e| ApiError::invalid_params(format!("invalid argument 0: {e}")))
    };
    let (from, to) = (tag("fromBlock")?, tag("toBlock")?);
    if block_hash.is_some() && (from.is_some() || to.is_some()) {
        return Err(ApiError::invalid_params(
            "invalid argument 0: cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other",
        ));
    }
    let filter = LogFilter::parse(&object)
        .map_err(|e| ApiError::invalid_params(format!("invalid argument 0: {e}")))?;
    let snapshot = api.snapshot()?;
    if let Some(hash) = block_hash {
        let number = snapshot.block_number(hash)?.ok_or_else(|| ApiError::server("unknown block"))?;
        return json(&logs_of_block(api, &snapshot, BlockRef { number, hash }, &filter, true)?);
    }
    let head = snapshot.require_head()?.number;
    let from = Api::tag_number(&snapshot, from.unwrap_or(BlockTag::Latest))?;
    let to = Api::tag_number(&snapshot, to.unwrap_or(BlockTag::Latest))?;
    if from > to {
        return Err(ApiError::invalid_params("invalid block range params"));
    }
    if to > head {
        return Err(ApiError::invalid_params("block range extends beyond current head block"));
    }
    let max_range = api.config.max_logs_block_range;
    if to - from >= max_range {
        return Err(ApiError::limit(format!("query exceeds max block range {max_range}")));
    }
    let max_logs = api.config.max_logs;
    let logs = api.heavy(|| -> ApiResult<Vec<RpcLog>> {
        let mut out = Vec::new();
        for number in from..=to {
            let hash = snapshot.block_hash(number)?.ok_or_else(ApiError::header_not_found)?;
            out.extend(logs_of_block(api, &snapshot, BlockRef { number, hash }, &filter, false)?);
            if out.len() > max_logs {
                return Err(ApiError::limit(format!("query exceeds max results {max_logs}")));
            }
        }
        Ok(out)
    })?;
    json(&logs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json as j;

    #[test]
    fn topic_positions_and_wildcards() {
        let t1 = B256::repeat_byte(1);
        let t2 = B256::repeat_byte(2);
        let a = Address::repeat_byte(9);
        let filter = LogFilter { addresses: vec![], topics: vec![vec![], vec![t2]] };
        assert!(filter.matches(&a, &[t1, t2]));
        assert!(!filter.matches(&a, &[t1]));
        assert!(!filter.matches(&a, &[t2, t1]));
        let filter = LogFilter { addresses: vec![a], topics: vec![vec![t1, t2]] };
        assert!(filter.matches(&a, &[t2]));
        assert!(!filter.matches(&Address::ZERO, &[t2]));
    }

    #[test]
    fn parses_criteria() {
        let h = format!("0x{}", "01".repeat(32));
        let obj = j!({"address": "0x0000000000000000000000000000000000000009", "topics": [null, [h], []]});
        let filter = LogFilter::parse(obj.as_object().unwrap_or(&Default::default())).unwrap_or_default();
        assert_eq!(filter.addresses, vec![Address::with_last_byte(9)]);
        assert_eq!(filter.topics, vec![vec![], vec![B256::repeat_byte(1)], vec![]]);
        let bad = j!({"topics": [5]});
        assert!(LogFilter::parse(bad.as_object().unwrap_or(&Default::default())).is_err());
    }
}
