//! Why the pool refuses a transaction, in geth's words.
//!
//! Each variant's `Display` is the message geth's `eth_sendRawTransaction`
//! returns for the same fault, wrapped details included (`nonce too low: next
//! nonce 5, tx nonce 3`), so clients that match on geth's text behave alike.
//! [`PoolError::rpc_code`] gives the JSON-RPC error code geth answers with.

use alloy_primitives::{B256, I256, U256};
use mosaic_executor::StateError;
use mosaic_primitives::transaction::TxError;

/// JSON-RPC code of geth's transaction-pool and decoding errors.
pub const RPC_CODE_SERVER_ERROR: i32 = -32000;
/// JSON-RPC code for a failure of the node itself.
pub const RPC_CODE_INTERNAL_ERROR: i32 = -32603;

/// A transaction refused by the pool.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// The bytes are not one canonical transaction.
    #[error("{}", decode_message(.0))]
    Decode(TxError),
    /// A legacy transaction without EIP-155 replay protection, while
    /// [`PoolConfig::allow_unprotected`](super::PoolConfig) is off.
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    Unprotected,
    /// A transaction with this hash is already in the pool.
    #[error("already known")]
    AlreadyKnown,
    /// The pool does not take this type at all (blob transactions when
    /// [`PoolConfig::accept_blob_txs`](super::PoolConfig) is off).
    #[error("transaction type not supported: tx type {0} not supported by this pool")]
    TypeNotAccepted(u8),
    /// The type is not active at the head's fork.
    #[error("transaction type not supported: type {ty} rejected, pool not yet in {fork}")]
    TypeNotActive {
        /// EIP-2718 type.
        ty: u8,
        /// The fork that introduces it (geth's wording: the first fork that
        /// the check needs).
        fork: &'static str,
    },
    /// More blobs than the pool takes in one transaction.
    #[error("transaction blob limit exceeded: blob count {count}, limit {limit}")]
    BlobLimitExceeded {
        /// Blobs in the transaction.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The encoding is larger than [`PoolConfig::max_tx_size`](super::PoolConfig).
    #[error("oversized data: transaction size {size}, limit {limit}")]
    OversizedData {
        /// Encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Contract-creation code above the EIP-3860 limit.
    #[error("max initcode size exceeded: code size {size}, limit {limit}")]
    InitcodeTooLarge {
        /// Size of the initcode.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Gas limit above the EIP-7825 per-transaction cap (Osaka).
    #[error("transaction gas limit too high (cap: {cap}, tx: {gas})")]
    GasLimitTooHigh {
        /// The cap.
        cap: u64,
        /// The transaction's gas limit.
        gas: u64,
    },
    /// Gas limit above the head block's gas limit.
    #[error("exceeds block gas limit")]
    ExceedsBlockGasLimit,
    /// `maxPriorityFeePerGas` above `maxFeePerGas`.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// Signed for another chain.
    #[error("invalid sender: invalid chain id for signer: have {have} want {want}")]
    InvalidChainId {
        /// The transaction's chain id.
        have: u64,
        /// The chain's id.
        want: u64,
    },
    /// A signature that is out of range, has a high `s` (EIP-2), or yields
    /// no public key.
    #[error("invalid sender: invalid transaction v, r, s values")]
    InvalidSignature,
    /// Nonce `2^64 - 1` (EIP-2681).
    #[error("nonce has max value")]
    NonceMax,
    /// Gas limit below the intrinsic gas.
    #[error("intrinsic gas too low: gas {gas}, minimum needed {needed}")]
    IntrinsicGasTooLow {
        /// The transaction's gas limit.
        gas: u64,
        /// The intrinsic gas.
        needed: u64,
    },
    /// Gas limit below the EIP-7623 calldata floor (Prague).
    #[error("insufficient gas for floor data gas cost: gas {gas}, minimum needed {needed}")]
    FloorDataGas {
        /// The transaction's gas limit.
        gas: u64,
        /// The floor.
        needed: u64,
    },
    /// Priority fee below [`PoolConfig::min_priority_fee`](super::PoolConfig).
    #[error("transaction gas price below minimum: gas tip cap {tip}, minimum needed {min}")]
    TipBelowMinimum {
        /// The priority fee (gas price for legacy types).
        tip: u128,
        /// The minimum.
        min: u128,
    },
    /// Blob fee cap below the protocol's minimum blob gas price (1 wei).
    #[error("transaction gas price below minimum: blob fee cap {cap}, minimum needed {min}")]
    BlobFeeCapBelowMinimum {
        /// `maxFeePerBlobGas`.
        cap: u128,
        /// The minimum.
        min: u128,
    },
    /// A blob transaction whose sidecar is missing or does not match.
    #[error(transparent)]
    Blob(#[from] BlobTxError),
    /// A set-code transaction without authorizations.
    #[error("set code tx must have at least one authorization tuple")]
    EmptyAuthorizationList,
    /// Nonce below the sender's account nonce.
    #[error("nonce too low: next nonce {next}, tx nonce {nonce}")]
    NonceTooLow {
        /// The account's nonce.
        next: u64,
        /// The transaction's nonce.
        nonce: u64,
    },
    /// The balance does not cover the transaction's cost (gas × fee cap +
    /// value, plus blob gas × blob fee cap), alone or with the sender's
    /// pending transactions.
    #[error("insufficient funds for gas * price + value: {0}")]
    InsufficientFunds(Box<FundsShortfall>),
    /// The sender already has [`PoolConfig::max_account_txs`](super::PoolConfig)
    /// transactions in the pool.
    #[error("account limit exceeded: pooled {pooled} txs")]
    AccountLimitExceeded {
        /// Transactions of the sender in the pool.
        pooled: usize,
    },
    /// Same sender and nonce as a pooled transaction, without the required
    /// fee bump.
    #[error("replacement transaction underpriced")]
    ReplaceUnderpriced,
    /// The pool is full and the transaction pays no more than the cheapest
    /// one it could evict.
    #[error("transaction underpriced")]
    Underpriced,
    /// The pool is full and holds nothing it may evict for this transaction.
    #[error("txpool is full")]
    PoolFull,
    /// The state backend failed while reading the sender's account.
    #[error("state backend: {0}")]
    State(#[from] StateError),
}

impl PoolError {
    /// The JSON-RPC error code geth answers with: `-32000` for every refusal
    /// (decoding errors included: geth returns them as plain errors), and
    /// `-32603` when the node itself failed.
    pub const fn rpc_code(&self) -> i32 {
        match self {
            Self::State(_) => RPC_CODE_INTERNAL_ERROR,
            _ => RPC_CODE_SERVER_ERROR,
        }
    }

    /// Whether resubmitting the same bytes later may succeed: the refusal
    /// depends on the pool or the state (nonce, balance, limits, fees of other
    /// transactions), not on the transaction alone.
    pub const fn is_temporary(&self) -> bool {
        matches!(
            self,
            Self::AlreadyKnown
                | Self::TypeNotActive { .. }
                | Self::ExceedsBlockGasLimit
                | Self::InsufficientFunds(_)
                | Self::AccountLimitExceeded { .. }
                | Self::ReplaceUnderpriced
                | Self::Underpriced
                | Self::PoolFull
                | Self::State(_)
        )
    }
}

/// By how much a sender's balance falls short (the details geth appends to
/// `insufficient funds for gas * price + value`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FundsShortfall {
    /// The transaction alone costs more than the balance.
    #[error("balance {balance}, tx cost {cost}, overshot {}", .cost - .balance)]
    Tx {
        /// The sender's balance.
        balance: U256,
        /// The transaction's cost; above `balance`.
        cost: U256,
    },
    /// The sender's pending transactions plus this one cost more.
    #[error("balance {balance}, queued cost {spent}, tx cost {cost}, overshot {overshot}")]
    Queued {
        /// The sender's balance.
        balance: U256,
        /// Cost of the sender's pending transactions.
        spent: U256,
        /// The transaction's cost.
        cost: U256,
        /// By how much `spent + cost` exceeds the balance.
        overshot: U256,
    },
    /// The sender's pending transactions cost more once this one replaces
    /// one of them.
    #[error("balance {balance}, queued cost {spent}, tx bumped {bump}, overshot {overshot}")]
    Bumped {
        /// The sender's balance.
        balance: U256,
        /// Cost of the sender's pending transactions.
        spent: U256,
        /// New cost minus the replaced transaction's cost.
        bump: I256,
        /// By how much `spent + bump` exceeds the balance.
        overshot: U256,
    },
}

/// A blob transaction whose sidecar is missing or inconsistent (geth's
/// `validateBlobTx` messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlobTxError {
    /// Submitted without blobs, commitments and proofs.
    #[error("missing sidecar in blob transaction")]
    MissingSidecar,
    /// A sidecar of the wrong version for the fork (version 1, cell proofs,
    /// from Osaka; version 0 before).
    #[error("unexpected sidecar version, want: {want}, got: {got}")]
    SidecarVersion {
        /// The fork's version.
        want: u8,
        /// The sidecar's version.
        got: u8,
    },
    /// No blob versioned hashes.
    #[error("blobless blob transaction")]
    Blobless,
    /// Blob count differs from the versioned hash count.
    #[error("invalid number of {blobs} blobs compared to {hashes} blob hashes")]
    BlobCount {
        /// Blobs in the sidecar.
        blobs: usize,
        /// Versioned hashes in the transaction.
        hashes: usize,
    },
    /// Commitment count differs from the versioned hash count.
    #[error("invalid number of {commitments} blob commitments compared to {hashes} blob hashes")]
    CommitmentCount {
        /// Commitments in the sidecar.
        commitments: usize,
        /// Versioned hashes in the transaction.
        hashes: usize,
    },
    /// A commitment does not hash to the transaction's versioned hash.
    #[error("blob {index}: computed hash {computed:#x} mismatches transaction one {expected:#x}")]
    HashMismatch {
        /// Index of the blob.
        index: usize,
        /// Versioned hash of the commitment.
        computed: B256,
        /// The transaction's versioned hash.
        expected: B256,
    },
    /// Wrong number of proofs (one per blob, or 128 cell proofs per blob).
    #[error("invalid number of {proofs} blob proofs expected {expected}")]
    ProofCount {
        /// Proofs in the sidecar.
        proofs: usize,
        /// Proofs required.
        expected: usize,
    },
    /// The KZG proofs do not verify.
    #[error("KZG verification error: {0}")]
    Kzg(String),
}

/// geth's wording for a transaction that does not decode
/// (`types.Transaction.UnmarshalBinary` and the `rlp` package).
fn decode_message(err: &TxError) -> String {
    match err {
        TxError::Empty => "typed transaction too short".into(),
        TxError::UnknownType(_) => "transaction type not supported".into(),
        TxError::Rlp(inner) => format!("rlp: {inner}"),
        TxError::TrailingBytes(_) => "rlp: input contains more than one value".into(),
        TxError::NonCanonical => "rlp: non-canonical integer or size information".into(),
        TxError::FieldTooLarge { field, bits } => {
            format!("rlp: input string too long for uint{bits}, decoding into ({field})")
        }
        TxError::CreateNotAllowed(ty) => {
            let name = if *ty == 3 { "BlobTx" } else { "SetCodeTx" };
            format!("rlp: input string too short for common.Address, decoding into (types.{name}).To")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn funds_messages_carry_geth_details() {
        let err = PoolError::InsufficientFunds(Box::new(FundsShortfall::Tx {
            balance: U256::from(10),
            cost: U256::from(25),
        }));
        assert_eq!(
            err.to_string(),
            "insufficient funds for gas * price + value: balance 10, tx cost 25, overshot 15"
        );
        let err = PoolError::InsufficientFunds(Box::new(FundsShortfall::Bumped {
            balance: U256::from(10),
            spent: U256::from(8),
            bump: I256::try_from(-1).expect("small"),
            overshot: U256::from(0),
        }));
        assert!(err.to_string().ends_with("queued cost 8, tx bumped -1, overshot 0"));
    }

    #[test]
    fn decode_messages() {
        assert_eq!(PoolError::Decode(TxError::Empty).to_string(), "typed transaction too short");
        assert_eq!(PoolError::Decode(TxError::UnknownType(9)).to_string(), "transaction type not supported");
        let rlp = PoolError::Decode(TxError::Rlp(alloy_rlp::Error::InputTooShort));
        assert_eq!(rlp.to_string(), "rlp: input too short");
        assert_eq!(rlp.rpc_code(), -32000);
        let wide = PoolError::Decode(TxError::FieldTooLarge { field: "nonce", bits: 64 });
        assert_eq!(wide.to_string(), "rlp: input string too long for uint64, decoding into (nonce)");
    }
}
