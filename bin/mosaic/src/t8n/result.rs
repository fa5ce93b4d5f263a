//! The `result` output: roots, receipts, rejected transactions and the
//! header fields geth's transition tool reports.

use super::json::{data, quantity};
use alloy_consensus::{
    TxEnvelope, TxReceipt, proofs::calculate_transaction_root, proofs::calculate_withdrawals_root,
};
use alloy_primitives::{Address, B256, Log, U256, keccak256};
use mosaic_executor::{BlockContext, BlockOutput, ExecTx, TxOutcome};
use mosaic_primitives::{ChainSpec, Hardfork};
use revm::primitives::TxKind;
use serde_json::{Map, Value, json};

/// One transaction that made it into the block.
pub(super) struct Included<'a> {
    pub(super) envelope: &'a TxEnvelope,
    pub(super) tx: &'a ExecTx,
    pub(super) outcome: &'a TxOutcome,
}

/// Everything the result is computed from.
pub(super) struct BlockResult<'a> {
    pub(super) spec: &'a ChainSpec,
    pub(super) block: &'a BlockContext,
    pub(super) output: &'a BlockOutput,
    pub(super) included: Vec<Included<'a>>,
    /// `(index in the input, reason)`, sorted by index.
    pub(super) rejected: Vec<(usize, String)>,
    pub(super) state_root: B256,
}

impl BlockResult<'_> {
    /// The included transactions in block order.
    pub(super) fn envelopes(&self) -> Vec<TxEnvelope> {
        self.included.iter().map(|i| i.envelope.clone()).collect()
    }

    /// geth's `ExecutionResult` as JSON.
    pub(super) fn to_json(&self) -> Value {
        let (n, t) = (self.block.number, self.block.timestamp);
        let active = |fork| self.spec.is_active(fork, n, t);
        let logs: Vec<Log> = self.included.iter().flat_map(|i| i.outcome.logs.iter().cloned()).collect();
        let mut out = Map::new();
        out.insert("stateRoot".into(), json!(self.state_root));
        out.insert("txRoot".into(), json!(calculate_transaction_root(&self.envelopes())));
        out.insert("receiptsRoot".into(), json!(self.output.receipts_root()));
        out.insert("logsHash".into(), json!(keccak256(alloy_rlp::encode(&logs))));
        out.insert("logsBloom".into(), data(self.output.logs_bloom().as_slice()));
        out.insert("receipts".into(), Value::Array(self.receipts()));
        if !self.rejected.is_empty() {
            let rejected = self.rejected.iter().map(|(index, error)| json!({"index": index, "error": error}));
            out.insert("rejected".into(), Value::Array(rejected.collect()));
        }
        let difficulty =
            if self.spec.is_merged(n, t) { Value::Null } else { quantity(self.block.difficulty) };
        out.insert("currentDifficulty".into(), difficulty);
        out.insert("gasUsed".into(), quantity(self.output.gas_used));
        if let Some(fee) = self.block.base_fee.filter(|_| active(Hardfork::London)) {
            out.insert("currentBaseFee".into(), quantity(fee));
        }
        if active(Hardfork::Shanghai) {
            let withdrawals = self.block.withdrawals.as_deref().unwrap_or_default();
            out.insert("withdrawalsRoot".into(), json!(calculate_withdrawals_root(withdrawals)));
        }
        if active(Hardfork::Cancun) {
            out.insert(
                "currentExcessBlobGas".into(),
                quantity(self.block.excess_blob_gas.unwrap_or_default()),
            );
            out.insert("blobGasUsed".into(), quantity(self.output.blob_gas_used));
        }
        match &self.output.requests {
            Some(requests) => {
                out.insert("requestsHash".into(), json!(requests.requests_hash()));
                let list = requests.iter().map(|r| data(r)).collect();
                out.insert("requests".into(), Value::Array(list));
            }
            None => {
                out.insert("requests".into(), Value::Null);
            }
        }
        Value::Object(out)
    }

    fn receipts(&self) -> Vec<Value> {
        let mut log_index = 0u64;
        let block_hash = B256::ZERO;
        let number = quantity(self.block.number);
        self.included
            .iter()
            .enumerate()
            .map(|(index, inc)| {
                let hash = *inc.envelope.tx_hash();
                let receipt = inc.outcome.receipt.as_ref();
                let logs: Vec<Value> = inc
                    .outcome
                    .logs
                    .iter()
                    .map(|log| {
                        let entry = json!({
                            "address": log.address,
                            "topics": log.topics(),
                            "data": log.data.data,
                            "blockNumber": number,
                            "transactionHash": hash,
                            "transactionIndex": quantity(index as u64),
                            "blockHash": block_hash,
                            "logIndex": quantity(log_index),
                            "removed": false,
                        });
                        log_index += 1;
                        entry
                    })
                    .collect();
                let mut r = Map::new();
                r.insert("type".into(), quantity(inc.tx.tx_type as u8));
                r.insert("root".into(), Value::String("0x".into()));
                let ok = receipt.is_some_and(|r| r.status());
                r.insert("status".into(), quantity(u8::from(ok)));
                r.insert("cumulativeGasUsed".into(), quantity(inc.outcome.cumulative_gas_used));
                let bloom = receipt.map(|r| r.bloom()).unwrap_or_default();
                r.insert("logsBloom".into(), data(bloom.as_slice()));
                r.insert("logs".into(), if logs.is_empty() { Value::Null } else { Value::Array(logs) });
                r.insert("transactionHash".into(), json!(hash));
                r.insert("contractAddress".into(), json!(contract_address(inc)));
                r.insert("gasUsed".into(), quantity(inc.outcome.gas_used));
                r.insert(
                    "effectiveGasPrice".into(),
                    quantity(effective_gas_price(inc.tx, self.block.base_fee)),
                );
                if inc.outcome.blob_gas_used > 0 {
                    r.insert("blobGasUsed".into(), quantity(inc.outcome.blob_gas_used));
                }
                r.insert("blockHash".into(), json!(block_hash));
                r.insert("blockNumber".into(), number.clone());
                r.insert("transactionIndex".into(), quantity(index as u64));
                Value::Object(r)
            })
            .collect()
    }
}

/// geth reports the would-be address for every creation, even a failed one.
fn contract_address(inc: &Included<'_>) -> Address {
    match inc.tx.env.kind {
        TxKind::Create => inc.tx.env.caller.create(inc.tx.env.nonce),
        TxKind::Call(_) => Address::ZERO,
    }
}

/// The price per gas the sender paid.
fn effective_gas_price(tx: &ExecTx, base_fee: Option<u64>) -> U256 {
    let max = tx.env.gas_price;
    let price = match tx.env.gas_priority_fee {
        Some(tip) => max.min(u128::from(base_fee.unwrap_or_default()).saturating_add(tip)),
        None => max,
    };
    U256::from(price)
}
