//! Transaction decoding and the validity rules that need no state.

use alloy_consensus::{Transaction, TxEnvelope, TxType, transaction::SignerRecoverable};
use alloy_primitives::{Address, B256, U256};

/// Why a transaction is invalid regardless of state.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TxError {
    /// The type is not enabled at this fork.
    #[error("transaction type {0} not supported by this fork")]
    UnsupportedType(u8),
    /// The signature does not recover a sender.
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    /// `s` in the upper half of the curve order (EIP-2).
    #[error("signature s value too high (EIP-2)")]
    HighS,
    /// The chain id does not match, or replay protection is not yet active.
    #[error("invalid chain id {got:?}, expected {expected:?}")]
    ChainId {
        /// In the transaction.
        got: Option<u64>,
        /// The chain's.
        expected: Option<u64>,
    },
}

/// Which stateless rules apply (by fork).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct TxRules {
    pub chain_id: Option<u64>,
    pub homestead: bool,
    pub eip155: bool,
    pub eip2930: bool,
    pub eip1559: bool,
    pub shanghai: bool,
    pub eip4844: bool,
    pub eip7702: bool,
    pub prague: bool,
    pub osaka: bool,
}

const SECP256K1N_HALF: U256 =
    U256::from_limbs([0xdfe92f46681b20a0, 0x5d576e7357a4501d, 0xffffffffffffffff, 0x7fffffffffffffff]);

/// Checks type, chain id and signature; returns the sender and hash.
pub fn validate_transaction(tx: &TxEnvelope, rules: &TxRules) -> Result<(Address, B256), TxError> {
    let ty = tx.tx_type();
    let allowed = match ty {
        TxType::Legacy => true,
        TxType::Eip2930 => rules.eip2930,
        TxType::Eip1559 => rules.eip1559,
        TxType::Eip4844 => rules.eip4844,
        TxType::Eip7702 => rules.eip7702,
    };
    if !allowed {
        return Err(TxError::UnsupportedType(ty as u8));
    }
    if let Some(id) = tx.chain_id() {
        if ty == TxType::Legacy && !rules.eip155 || rules.chain_id.is_some_and(|c| c != id) {
            return Err(TxError::ChainId { got: Some(id), expected: rules.chain_id });
        }
    }
    if rules.homestead && tx.signature().s() > SECP256K1N_HALF {
        return Err(TxError::HighS);
    }
    let sender = tx.recover_signer().map_err(|e| TxError::InvalidSignature(e.to_string()))?;
    Ok((sender, *tx.tx_hash()))
}
