//! Transaction decoding and the validation rules that need no state.
//!
//! [`decode_transaction`] turns raw bytes (EIP-2718: `type || rlp` for typed
//! transactions, a bare RLP list for legacy ones) into an alloy
//! [`TxEnvelope`](alloy_consensus::TxEnvelope), strictly: no trailing bytes and
//! only the canonical encoding. [`validate_transaction`] then applies the
//! checks a fork's rules ([`TxRules`]) impose on a transaction by itself —
//! allowed types, chain id, signature, intrinsic gas, size limits — and
//! returns its sender and hash. Checks that need state (nonce, balance, base
//! fee) belong to the executor.
//!
//! One known limit: alloy stores gas prices and fee caps as `u128`, so a
//! transaction whose (legacy) gas price or max fee needs more than 128 bits is
//! rejected with [`TxError::FieldTooLarge`], although Ethereum's rules accept
//! any 256-bit value there. Such a transaction can never pay for its gas.

use alloy_primitives::B256;

mod decode;
mod gas;
mod rules;
mod validate;

pub use decode::decode_transaction;
pub use gas::{IntrinsicGas, intrinsic_gas};
pub use rules::TxRules;
pub use validate::validate_transaction;

/// Result of transaction decoding or validation.
pub type TxResult<T> = Result<T, TxError>;

/// Why a transaction was rejected. Every variant means "reject the input":
/// no retry can make the same bytes valid under the same rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxError {
    /// The input was empty.
    #[error("empty transaction bytes")]
    Empty,
    /// The RLP could not be decoded into a transaction.
    #[error("invalid RLP: {0}")]
    Rlp(alloy_rlp::Error),
    /// An integer field is longer than its type allows.
    #[error("field `{field}` does not fit in {bits} bits")]
    FieldTooLarge {
        /// Field name as in the JSON-RPC transaction object.
        field: &'static str,
        /// Width the field is limited to.
        bits: u32,
    },
    /// The EIP-2718 type byte names no known transaction type.
    #[error("unknown transaction type {0:#04x}")]
    UnknownType(u8),
    /// Bytes were left over after one complete transaction.
    #[error("{0} trailing bytes after the transaction")]
    TrailingBytes(usize),
    /// The input decodes, but is not the canonical encoding of the result.
    #[error("non-canonical encoding: re-encoding the transaction gives different bytes")]
    NonCanonical,
    /// A blob or set-code transaction has no recipient.
    #[error("transaction type {0:#04x} cannot create a contract")]
    CreateNotAllowed(u8),
    /// The transaction type is not active under these rules.
    #[error("transaction type {0:#04x} is not supported by this fork")]
    TypeNotActive(u8),
    /// A legacy transaction signed with EIP-155 replay protection before
    /// EIP-155 is active.
    #[error("EIP-155 signature (chain id {0}) before EIP-155 is active")]
    Eip155NotActive(u64),
    /// The transaction is signed for another chain.
    #[error("chain id {got} does not match the chain id {expected}")]
    ChainIdMismatch {
        /// The chain's id.
        expected: u64,
        /// The id the transaction was signed for.
        got: u64,
    },
    /// A signature value is zero or not below the secp256k1 curve order.
    #[error("signature `{0}` is zero or not below the curve order")]
    SignatureOutOfRange(&'static str),
    /// Signature `s` is in the upper half of the curve order (EIP-2).
    #[error("signature `s` is in the upper half of the curve order (EIP-2)")]
    HighS,
    /// No public key can be recovered from the signature.
    #[error("cannot recover the sender from the signature")]
    Recovery,
    /// The nonce is `2^64 - 1`, which EIP-2681 forbids.
    #[error("nonce 2^64-1 is not allowed (EIP-2681)")]
    NonceMax,
    /// The priority fee cap exceeds the fee cap (EIP-1559).
    #[error("max priority fee per gas {priority} is above max fee per gas {max_fee}")]
    PriorityFeeAboveMaxFee {
        /// `maxPriorityFeePerGas`.
        priority: u128,
        /// `maxFeePerGas`.
        max_fee: u128,
    },
    /// The gas limit is above the per-transaction cap (EIP-7825).
    #[error("gas limit {gas_limit} is above the per-transaction cap {cap} (EIP-7825)")]
    GasLimitAboveCap {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// The cap.
        cap: u64,
    },
    /// The gas limit does not cover the intrinsic gas.
    #[error("intrinsic gas too low: gas limit {gas_limit}, intrinsic gas {required}")]
    IntrinsicGasTooLow {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// The intrinsic gas.
        required: u64,
    },
    /// The gas limit does not cover the calldata floor (EIP-7623).
    #[error("gas limit {gas_limit} is below the calldata floor {floor} (EIP-7623)")]
    FloorDataGasTooLow {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// The floor.
        floor: u64,
    },
    /// Contract-creation code above the EIP-3860 limit.
    #[error("initcode of {size} bytes exceeds the limit of {limit} bytes (EIP-3860)")]
    InitcodeTooLarge {
        /// Size of the initcode.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A blob transaction without blobs.
    #[error("blob transaction without blob versioned hashes")]
    EmptyBlobList,
    /// More blobs than one transaction may carry.
    #[error("{count} blobs exceed the per-transaction maximum of {max}")]
    TooManyBlobs {
        /// Number of blobs.
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// A blob versioned hash without the KZG version byte.
    #[error("blob versioned hash {0} does not carry the KZG version byte")]
    InvalidBlobVersionedHash(B256),
    /// A set-code transaction with an empty authorization list (EIP-7702).
    #[error("set-code transaction with an empty authorization list")]
    EmptyAuthorizationList,
}
