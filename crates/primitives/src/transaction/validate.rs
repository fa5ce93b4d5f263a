//! Stateless validation of a decoded transaction against fork rules.

use alloy_consensus::{Transaction, TxEnvelope, TxType, transaction::SignerRecoverable};
use alloy_eips::eip4844::VERSIONED_HASH_VERSION_KZG;
use alloy_primitives::{Address, B256, U256, uint};

use super::{TxError, TxResult, TxRules, intrinsic_gas};

/// Order of the secp256k1 group.
const SECP256K1N: U256 = uint!(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256);
/// Half the group order: the largest `s` EIP-2 accepts.
const SECP256K1N_HALF: U256 = SECP256K1N.wrapping_shr(1);
/// Largest initcode from Shanghai (EIP-3860): twice the EIP-170 code limit.
const MAX_INITCODE_SIZE: usize = 2 * 24_576;
/// Per-transaction gas limit cap from Osaka (EIP-7825).
const MAX_TX_GAS_LIMIT_OSAKA: u64 = 1 << 24;

/// Checks everything about `tx` that needs no state under `rules`, and
/// returns its sender and hash.
///
/// Checked: the type is active; the chain id (typed transactions always,
/// legacy ones when EIP-155 protected, which needs EIP-155); the nonce is not
/// `2^64 - 1` (EIP-2681); fee caps are ordered (EIP-1559); the gas limit cap
/// (Osaka); initcode size (Shanghai); blob and authorization lists; the gas
/// limit covers the intrinsic gas and the calldata floor (Prague); the
/// signature is in range, low-`s` from Homestead, and yields a sender.
pub fn validate_transaction(tx: &TxEnvelope, rules: &TxRules) -> TxResult<(Address, B256)> {
    check_type_and_chain(tx, rules)?;
    check_fields(tx, rules)?;
    check_gas(tx, rules)?;
    let sender = check_signature(tx, rules)?;
    Ok((sender, *tx.tx_hash()))
}

fn check_type_and_chain(tx: &TxEnvelope, rules: &TxRules) -> TxResult<()> {
    let ty = tx.tx_type();
    let active = match ty {
        TxType::Legacy => true,
        TxType::Eip2930 => rules.eip2930,
        TxType::Eip1559 => rules.eip1559,
        TxType::Eip4844 => rules.eip4844,
        TxType::Eip7702 => rules.eip7702,
        // Any other type alloy may know of is not supported here.
        #[allow(unreachable_patterns)]
        _ => false,
    };
    if !active {
        return Err(TxError::TypeNotActive(ty as u8));
    }
    // Legacy transactions without EIP-155 protection carry no chain id and
    // are valid on every chain.
    let Some(chain_id) = tx.chain_id() else {
        return Ok(());
    };
    if ty == TxType::Legacy && !rules.eip155 {
        return Err(TxError::Eip155NotActive(chain_id));
    }
    match rules.chain_id {
        Some(expected) if expected != chain_id => Err(TxError::ChainIdMismatch { expected, got: chain_id }),
        _ => Ok(()),
    }
}

fn check_fields(tx: &TxEnvelope, rules: &TxRules) -> TxResult<()> {
    if tx.nonce() == u64::MAX {
        return Err(TxError::NonceMax);
    }
    if let Some(priority) = tx.max_priority_fee_per_gas() {
        let max_fee = tx.max_fee_per_gas();
        if priority > max_fee {
            return Err(TxError::PriorityFeeAboveMaxFee { priority, max_fee });
        }
    }
    if rules.shanghai && tx.is_create() && tx.input().len() > MAX_INITCODE_SIZE {
        return Err(TxError::InitcodeTooLarge { size: tx.input().len(), limit: MAX_INITCODE_SIZE });
    }
    if let Some(hashes) = tx.blob_versioned_hashes() {
        if hashes.is_empty() {
            return Err(TxError::EmptyBlobList);
        }
        let max = rules.max_blobs_per_tx();
        if hashes.len() > max {
            return Err(TxError::TooManyBlobs { count: hashes.len(), max });
        }
        if let Some(bad) = hashes.iter().find(|hash| hash[0] != VERSIONED_HASH_VERSION_KZG) {
            return Err(TxError::InvalidBlobVersionedHash(*bad));
        }
    }
    if tx.authorization_list().is_some_and(<[_]>::is_empty) {
        return Err(TxError::EmptyAuthorizationList);
    }
    Ok(())
}

fn check_gas(tx: &TxEnvelope, rules: &TxRules) -> TxResult<()> {
    let gas_limit = tx.gas_limit();
    if rules.osaka && gas_limit > MAX_TX_GAS_LIMIT_OSAKA {
        return Err(TxError::GasLimitAboveCap { gas_limit, cap: MAX_TX_GAS_LIMIT_OSAKA });
    }
    let gas = intrinsic_gas(tx, rules);
    if gas_limit < gas.initial {
        return Err(TxError::IntrinsicGasTooLow { gas_limit, required: gas.initial });
    }
    if gas_limit < gas.floor {
        return Err(TxError::FloorDataGasTooLow { gas_limit, floor: gas.floor });
    }
    Ok(())
}

fn check_signature(tx: &TxEnvelope, rules: &TxRules) -> TxResult<Address> {
    let signature = tx.signature();
    for (name, value) in [("r", signature.r()), ("s", signature.s())] {
        if value.is_zero() || value >= SECP256K1N {
            return Err(TxError::SignatureOutOfRange(name));
        }
    }
    if rules.homestead && signature.s() > SECP256K1N_HALF {
        return Err(TxError::HighS);
    }
    // The low-`s` rule is applied above, by fork; recover without it.
    tx.recover_signer_unchecked().map_err(|_| TxError::Recovery)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Signed, TxEip1559, TxEip4844, TxEip4844Variant, TxEip7702, TxLegacy};
    use alloy_primitives::{Bytes, Signature, TxKind};

    /// A signature in range; recovery is never reached by these tests.
    fn signature() -> Signature {
        Signature::new(U256::from(1), U256::from(1), false)
    }

    /// A legacy call (`TxLegacy::default()` is a creation).
    fn call() -> TxLegacy {
        TxLegacy { to: TxKind::Call(Address::ZERO), gas_limit: 21_000, ..Default::default() }
    }

    fn legacy(tx: TxLegacy) -> TxEnvelope {
        TxEnvelope::Legacy(Signed::new_unhashed(tx, signature()))
    }

    fn rules(fork: &str) -> TxRules {
        TxRules::for_fork_name(fork).expect("known fork")
    }

    fn blob_tx(hashes: Vec<B256>) -> TxEnvelope {
        let tx =
            TxEip4844 { chain_id: 1, gas_limit: 21_000, blob_versioned_hashes: hashes, ..Default::default() };
        TxEnvelope::Eip4844(Signed::new_unhashed(TxEip4844Variant::TxEip4844(tx), signature()))
    }

    #[test]
    fn curve_constants() {
        let half = uint!(0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0_U256);
        assert_eq!(SECP256K1N_HALF, half);
        assert_eq!(MAX_TX_GAS_LIMIT_OSAKA, alloy_eips::eip7825::MAX_TX_GAS_LIMIT_OSAKA);
    }

    #[test]
    fn type_and_chain_rules() {
        let dynamic = TxEip1559 { chain_id: 5, gas_limit: 21_000, ..Default::default() };
        let dynamic = TxEnvelope::Eip1559(Signed::new_unhashed(dynamic, signature()));
        assert_eq!(validate_transaction(&dynamic, &rules("Berlin")), Err(TxError::TypeNotActive(2)));
        assert_eq!(
            validate_transaction(&dynamic, &rules("London")),
            Err(TxError::ChainIdMismatch { expected: 1, got: 5 })
        );
        let protected = legacy(TxLegacy { chain_id: Some(1), ..call() });
        assert_eq!(validate_transaction(&protected, &rules("EIP150")), Err(TxError::Eip155NotActive(1)));
    }

    #[test]
    fn field_rules() {
        let tx = legacy(TxLegacy { nonce: u64::MAX, ..call() });
        assert_eq!(validate_transaction(&tx, &rules("Frontier")), Err(TxError::NonceMax));
        let fees = TxEip1559 {
            chain_id: 1,
            gas_limit: 21_000,
            max_fee_per_gas: 1,
            max_priority_fee_per_gas: 2,
            ..Default::default()
        };
        let fees = TxEnvelope::Eip1559(Signed::new_unhashed(fees, signature()));
        assert_eq!(
            validate_transaction(&fees, &rules("London")),
            Err(TxError::PriorityFeeAboveMaxFee { priority: 2, max_fee: 1 })
        );
        let big = legacy(TxLegacy {
            to: TxKind::Create,
            gas_limit: 10_000_000,
            input: Bytes::from(vec![0; MAX_INITCODE_SIZE + 1]),
            ..Default::default()
        });
        assert!(matches!(
            validate_transaction(&big, &rules("Shanghai")),
            Err(TxError::InitcodeTooLarge { .. })
        ));
        assert!(!matches!(
            validate_transaction(&big, &rules("Paris")),
            Err(TxError::InitcodeTooLarge { .. })
        ));
    }

    #[test]
    fn blob_and_authorization_rules() {
        assert_eq!(validate_transaction(&blob_tx(vec![]), &rules("Cancun")), Err(TxError::EmptyBlobList));
        let mut hash = B256::repeat_byte(7);
        hash[0] = VERSIONED_HASH_VERSION_KZG;
        assert_eq!(
            validate_transaction(&blob_tx(vec![hash; 7]), &rules("Osaka")),
            Err(TxError::TooManyBlobs { count: 7, max: 6 })
        );
        assert!(!matches!(
            validate_transaction(&blob_tx(vec![hash; 7]), &rules("Prague")),
            Err(TxError::TooManyBlobs { .. })
        ));
        let wrong = B256::repeat_byte(2);
        assert_eq!(
            validate_transaction(&blob_tx(vec![wrong]), &rules("Cancun")),
            Err(TxError::InvalidBlobVersionedHash(wrong))
        );
        let set_code = TxEip7702 { chain_id: 1, gas_limit: 21_000, ..Default::default() };
        let set_code = TxEnvelope::Eip7702(Signed::new_unhashed(set_code, signature()));
        assert_eq!(validate_transaction(&set_code, &rules("Cancun")), Err(TxError::TypeNotActive(4)));
        assert_eq!(validate_transaction(&set_code, &rules("Prague")), Err(TxError::EmptyAuthorizationList));
    }

    #[test]
    fn gas_rules() {
        let capped = legacy(TxLegacy { gas_limit: (1 << 24) + 1, ..call() });
        assert_eq!(
            validate_transaction(&capped, &rules("Osaka")),
            Err(TxError::GasLimitAboveCap { gas_limit: (1 << 24) + 1, cap: 1 << 24 })
        );
        let calldata = Bytes::from(vec![0xff; 100]);
        let tx = legacy(TxLegacy { gas_limit: 22_600, input: calldata, ..call() });
        assert!(!matches!(
            validate_transaction(&tx, &rules("Cancun")),
            Err(TxError::IntrinsicGasTooLow { .. } | TxError::FloorDataGasTooLow { .. })
        ));
        assert_eq!(
            validate_transaction(&tx, &rules("Prague")),
            Err(TxError::FloorDataGasTooLow { gas_limit: 22_600, floor: 25_000 })
        );
        let short = legacy(TxLegacy { gas_limit: 20_999, ..call() });
        assert_eq!(
            validate_transaction(&short, &rules("Frontier")),
            Err(TxError::IntrinsicGasTooLow { gas_limit: 20_999, required: 21_000 })
        );
    }

    #[test]
    fn signature_rules() {
        let zero_r = Signature::new(U256::ZERO, U256::from(1), false);
        let tx = call();
        let zero_r = TxEnvelope::Legacy(Signed::new_unhashed(tx.clone(), zero_r));
        assert_eq!(validate_transaction(&zero_r, &rules("Frontier")), Err(TxError::SignatureOutOfRange("r")));
        let high_s = Signature::new(U256::from(1), SECP256K1N_HALF + U256::from(1), false);
        let high_s = TxEnvelope::Legacy(Signed::new_unhashed(tx, high_s));
        assert_eq!(validate_transaction(&high_s, &rules("Homestead")), Err(TxError::HighS));
        assert_ne!(validate_transaction(&high_s, &rules("Frontier")), Err(TxError::HighS));
    }
}
