//! Signature checks and sender recovery for a block's transactions.

use crate::BlockError;
use alloy_consensus::TxEnvelope;
use alloy_primitives::Address;
use mosaic_primitives::{
    ChainSpec, Hardfork,
    transaction::{TxRules, validate_transaction},
};
use rayon::prelude::*;

/// The stateless transaction rules at a block.
pub fn tx_rules(spec: &ChainSpec, number: u64, timestamp: u64) -> TxRules {
    let on = |f| spec.is_active(f, number, timestamp);
    TxRules {
        chain_id: Some(spec.chain_id),
        homestead: on(Hardfork::Homestead),
        eip155: on(Hardfork::SpuriousDragon),
        istanbul: on(Hardfork::Istanbul),
        eip2930: on(Hardfork::Berlin),
        eip1559: on(Hardfork::London),
        shanghai: on(Hardfork::Shanghai),
        eip4844: on(Hardfork::Cancun),
        eip7702: on(Hardfork::Prague),
        prague: on(Hardfork::Prague),
        osaka: on(Hardfork::Osaka),
    }
}

/// Checks every transaction's signature and type against the fork, and
/// recovers the senders in parallel.
pub fn recover_senders(
    spec: &ChainSpec,
    number: u64,
    timestamp: u64,
    txs: &[TxEnvelope],
) -> Result<Vec<Address>, BlockError> {
    let rules = tx_rules(spec, number, timestamp);
    txs.par_iter()
        .enumerate()
        .map(|(index, tx)| {
            validate_transaction(tx, &rules)
                .map(|(sender, _)| sender)
                .map_err(|e| BlockError::Transaction { index, reason: e.to_string() })
        })
        .collect()
}
