//! The checks a transaction passes before the pool looks at state, in the
//! order geth's `txpool.ValidateTransaction` applies them.
//!
//! The rules are those of `mosaic_primitives::transaction::validate_transaction`
//! (the block-validity checks; a test holds the two to the same verdicts),
//! plus the pool's own limits (accepted types, size, block gas limit, minimum
//! tip, blob sidecar), checked in geth's order so that a transaction with
//! several faults gets geth's answer, and reported with geth's messages. The
//! sender is recovered here, once, outside the pool's lock.

use alloy_consensus::{Transaction, TxEnvelope, TxType, transaction::SignerRecoverable};
use mosaic_primitives::{
    ChainSpec,
    transaction::{TxRules, intrinsic_gas},
};

use super::{PoolConfig, PoolError, PoolHead, PooledTx, blob};
use crate::tx_rules;

/// Most blobs the pool takes in one transaction (geth's blob pool limit,
/// EIP-7594's per-transaction maximum).
pub(super) const MAX_BLOBS_PER_TX: usize = 6;
/// Largest initcode from Shanghai (EIP-3860).
const MAX_INITCODE_SIZE: usize = 2 * 24_576;
/// Per-transaction gas limit cap from Osaka (EIP-7825).
const MAX_TX_GAS: u64 = 1 << 24;
/// Smallest blob fee cap (the protocol's minimum blob base fee).
const MIN_BLOB_FEE_CAP: u128 = 1;

/// Validates `tx` against the rules at `head` and the pool's limits, and
/// recovers its sender. Checks that need state (nonce, balance) and the
/// pool's contents (duplicates, replacement, room) come later.
pub(super) fn check_stateless(
    tx: TxEnvelope,
    spec: &ChainSpec,
    head: &PoolHead,
    config: &PoolConfig,
) -> Result<PooledTx, PoolError> {
    if !config.allow_unprotected && matches!(&tx, TxEnvelope::Legacy(_)) && tx.chain_id().is_none() {
        return Err(PoolError::Unprotected);
    }
    let (tx, sidecar) = blob::split_sidecar(tx);
    let rules = tx_rules(spec, head.number, head.timestamp);
    let ty = tx.tx_type();

    if ty == TxType::Eip4844 && !config.accept_blob_txs {
        return Err(PoolError::TypeNotAccepted(ty as u8));
    }
    let blobs = tx.blob_versioned_hashes().map_or(0, <[_]>::len);
    if blobs > MAX_BLOBS_PER_TX {
        return Err(PoolError::BlobLimitExceeded { count: blobs, limit: MAX_BLOBS_PER_TX });
    }
    let size = tx.eip2718_encoded_length();
    if size > config.max_tx_size {
        return Err(PoolError::OversizedData { size, limit: config.max_tx_size });
    }
    check_type_active(ty, &rules)?;
    if rules.shanghai && tx.is_create() && tx.input().len() > MAX_INITCODE_SIZE {
        return Err(PoolError::InitcodeTooLarge { size: tx.input().len(), limit: MAX_INITCODE_SIZE });
    }
    let gas = tx.gas_limit();
    if rules.osaka && gas > MAX_TX_GAS {
        return Err(PoolError::GasLimitTooHigh { cap: MAX_TX_GAS, gas });
    }
    if head.gas_limit < gas {
        return Err(PoolError::ExceedsBlockGasLimit);
    }
    if tx.max_priority_fee_per_gas().is_some_and(|tip| tip > tx.max_fee_per_gas()) {
        return Err(PoolError::TipAboveFeeCap);
    }
    let sender = recover_sender(&tx, &rules, spec.chain_id)?;
    if tx.nonce() == u64::MAX {
        return Err(PoolError::NonceMax);
    }
    let intrinsic = intrinsic_gas(&tx, &rules);
    if gas < intrinsic.initial {
        return Err(PoolError::IntrinsicGasTooLow { gas, needed: intrinsic.initial });
    }
    if gas < intrinsic.floor {
        return Err(PoolError::FloorDataGas { gas, needed: intrinsic.floor });
    }
    let tip = tx.priority_fee_or_price();
    if tip < config.min_priority_fee {
        return Err(PoolError::TipBelowMinimum { tip, min: config.min_priority_fee });
    }
    if let Some(hashes) = tx.blob_versioned_hashes() {
        let cap = tx.max_fee_per_blob_gas().unwrap_or_default();
        if sidecar.is_some() && cap < MIN_BLOB_FEE_CAP {
            return Err(PoolError::BlobFeeCapBelowMinimum { cap, min: MIN_BLOB_FEE_CAP });
        }
        blob::check_sidecar(hashes, sidecar.as_ref(), rules.osaka)?;
    }
    if tx.authorization_list().is_some_and(<[_]>::is_empty) {
        return Err(PoolError::EmptyAuthorizationList);
    }
    Ok(PooledTx::new(tx, sidecar, sender, size))
}

/// geth's fork checks, in geth's order: any typed transaction needs Berlin.
fn check_type_active(ty: TxType, rules: &TxRules) -> Result<(), PoolError> {
    let missing = match ty {
        TxType::Legacy => None,
        _ if !rules.eip2930 => Some("Berlin"),
        TxType::Eip1559 if !rules.eip1559 => Some("London"),
        TxType::Eip4844 if !rules.eip4844 => Some("Cancun"),
        TxType::Eip7702 if !rules.eip7702 => Some("Prague"),
        _ => None,
    };
    match missing {
        Some(fork) => Err(PoolError::TypeNotActive { ty: ty as u8, fork }),
        None => Ok(()),
    }
}

/// The chain id check and signature recovery of geth's signer: a protected
/// transaction must name this chain, `r` and `s` must be in range and `s` in
/// the lower half (EIP-2).
fn recover_sender(
    tx: &TxEnvelope,
    rules: &TxRules,
    want: u64,
) -> Result<alloy_primitives::Address, PoolError> {
    if let Some(have) = tx.chain_id() {
        // A legacy transaction cannot be EIP-155 protected before EIP-155.
        if have != want || (tx.is_legacy() && !rules.eip155) {
            return Err(PoolError::InvalidChainId { have, want });
        }
    }
    // Recovery rejects a zero or out-of-range `r`/`s` and, with the checked
    // variant, a high `s`.
    tx.recover_signer().map_err(|_| PoolError::InvalidSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Signed, TxEip1559, TxEip7702, TxLegacy};
    use alloy_primitives::{Address, Bytes, Signature, TxKind, U256};
    use mosaic_primitives::Hardfork;

    fn head() -> PoolHead {
        PoolHead { number: 1, timestamp: 1, gas_limit: 30_000_000, next_base_fee: 7 }
    }

    fn check(tx: TxEnvelope, fork: Hardfork) -> Result<PooledTx, PoolError> {
        let spec = ChainSpec::with_fork_at_genesis(1, fork);
        check_stateless(tx, &spec, &head(), &PoolConfig::default())
    }

    /// An out-of-range signature: any check before recovery wins over it.
    fn bad_sig() -> Signature {
        Signature::new(U256::ZERO, U256::from(1), false)
    }

    fn dynamic(tx: TxEip1559) -> TxEnvelope {
        TxEnvelope::Eip1559(Signed::new_unhashed(tx, bad_sig()))
    }

    fn call() -> TxEip1559 {
        TxEip1559 { chain_id: 1, gas_limit: 21_000, to: TxKind::Call(Address::ZERO), ..Default::default() }
    }

    #[test]
    fn geth_order_of_stateless_checks() {
        let msg = |tx, fork| check(tx, fork).map(|_| ()).unwrap_err().to_string();
        // Fork first: a type-2 transaction before Berlin names Berlin.
        assert_eq!(
            msg(dynamic(call()), Hardfork::Istanbul),
            "transaction type not supported: type 2 rejected, pool not yet in Berlin"
        );
        assert_eq!(
            msg(dynamic(call()), Hardfork::Berlin),
            "transaction type not supported: type 2 rejected, pool not yet in London"
        );
        let set_code = TxEip7702 { chain_id: 1, gas_limit: 21_000, ..Default::default() };
        let set_code = TxEnvelope::Eip7702(Signed::new_unhashed(set_code, bad_sig()));
        assert_eq!(
            msg(set_code, Hardfork::Cancun),
            "transaction type not supported: type 4 rejected, pool not yet in Prague"
        );
        // Size before fork rules, block gas limit before the signature.
        let big = dynamic(TxEip1559 { input: Bytes::from(vec![1; 140_000]), ..call() });
        assert!(msg(big, Hardfork::Istanbul).starts_with("oversized data: transaction size 140"));
        let greedy = dynamic(TxEip1559 { gas_limit: 30_000_001, ..call() });
        assert_eq!(msg(greedy, Hardfork::Prague), "exceeds block gas limit");
        let capped = dynamic(TxEip1559 { gas_limit: (1 << 24) + 1, ..call() });
        assert_eq!(
            msg(capped, Hardfork::Osaka),
            "transaction gas limit too high (cap: 16777216, tx: 16777217)"
        );
        let tips = dynamic(TxEip1559 { max_fee_per_gas: 1, max_priority_fee_per_gas: 2, ..call() });
        assert_eq!(msg(tips, Hardfork::Prague), "max priority fee per gas higher than max fee per gas");
        let other_chain = dynamic(TxEip1559 { chain_id: 5, ..call() });
        assert_eq!(
            msg(other_chain, Hardfork::Prague),
            "invalid sender: invalid chain id for signer: have 5 want 1"
        );
        // The signature comes before intrinsic gas, as in geth.
        let short = dynamic(TxEip1559 { gas_limit: 20_000, ..call() });
        assert_eq!(msg(short, Hardfork::Prague), "invalid sender: invalid transaction v, r, s values");
        let init = dynamic(TxEip1559 {
            to: TxKind::Create,
            gas_limit: 10_000_000,
            input: Bytes::from(vec![0; MAX_INITCODE_SIZE + 1]),
            ..call()
        });
        assert_eq!(msg(init, Hardfork::Shanghai), "max initcode size exceeded: code size 49153, limit 49152");
    }

    #[test]
    fn unprotected_legacy_is_refused_by_default() {
        let tx = TxLegacy { gas_limit: 21_000, to: TxKind::Call(Address::ZERO), ..Default::default() };
        let tx = TxEnvelope::Legacy(Signed::new_unhashed(tx, bad_sig()));
        let err = check(tx.clone(), Hardfork::Prague).map(|_| ()).unwrap_err();
        assert_eq!(err.to_string(), "only replay-protected (EIP-155) transactions allowed over RPC");
        let spec = ChainSpec::with_fork_at_genesis(1, Hardfork::Prague);
        let config = PoolConfig { allow_unprotected: true, ..PoolConfig::default() };
        let err = check_stateless(tx, &spec, &head(), &config).map(|_| ()).unwrap_err();
        assert!(matches!(err, PoolError::InvalidSignature));
    }
}
