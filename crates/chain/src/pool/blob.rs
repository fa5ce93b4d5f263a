//! Blob transactions: splitting off the sidecar and checking it.
//!
//! A blob transaction reaches the pool in its network form (EIP-4844 with
//! blobs, commitments and proofs; from Osaka the EIP-7594 form with cell
//! proofs). The pool keeps the consensus form, which is what blocks carry and
//! what the hash commits to, and the sidecar beside it. The checks follow
//! geth's `validateBlobTx`: a sidecar is present and of the fork's version,
//! the counts match, every commitment hashes to its versioned hash, and the
//! KZG proofs verify against the Ethereum trusted setup.

use alloy_consensus::{Signed, TxEip4844Variant, TxEnvelope};
use alloy_eips::{
    eip4844::{env_settings::EnvKzgSettings, kzg_to_versioned_hash},
    eip7594::{BlobTransactionSidecarVariant, CELLS_PER_EXT_BLOB},
};
use alloy_primitives::B256;

use super::BlobTxError;

/// Splits a blob transaction's sidecar off; other transactions come back as
/// they are.
pub(super) fn split_sidecar(tx: TxEnvelope) -> (TxEnvelope, Option<BlobTransactionSidecarVariant>) {
    let TxEnvelope::Eip4844(signed) = tx else {
        return (tx, None);
    };
    let (variant, signature, hash) = signed.into_parts();
    let (inner, sidecar) = match variant {
        TxEip4844Variant::TxEip4844(inner) => (inner, None),
        TxEip4844Variant::TxEip4844WithSidecar(with) => (with.tx, Some(with.sidecar)),
    };
    let consensus = Signed::new_unchecked(TxEip4844Variant::TxEip4844(inner), signature, hash);
    (TxEnvelope::Eip4844(consensus), sidecar)
}

/// Checks `sidecar` against the versioned hashes of its transaction; `osaka`
/// selects the EIP-7594 (cell proof) version.
pub(super) fn check_sidecar(
    hashes: &[B256],
    sidecar: Option<&BlobTransactionSidecarVariant>,
    osaka: bool,
) -> Result<(), BlobTxError> {
    let sidecar = sidecar.ok_or(BlobTxError::MissingSidecar)?;
    let (version, blobs, proofs) = match sidecar {
        BlobTransactionSidecarVariant::Eip4844(s) => (0, s.blobs.len(), s.proofs.len()),
        BlobTransactionSidecarVariant::Eip7594(s) => (1, s.blobs.len(), s.cell_proofs.len()),
    };
    let want = u8::from(osaka);
    if version != want {
        return Err(BlobTxError::SidecarVersion { want, got: version });
    }
    if hashes.is_empty() {
        return Err(BlobTxError::Blobless);
    }
    if blobs != hashes.len() {
        return Err(BlobTxError::BlobCount { blobs, hashes: hashes.len() });
    }
    let commitments = sidecar.commitments();
    if commitments.len() != hashes.len() {
        return Err(BlobTxError::CommitmentCount { commitments: commitments.len(), hashes: hashes.len() });
    }
    for (index, (commitment, expected)) in commitments.iter().zip(hashes).enumerate() {
        let computed = kzg_to_versioned_hash(commitment.as_slice());
        if computed != *expected {
            return Err(BlobTxError::HashMismatch { index, computed, expected: *expected });
        }
    }
    let per_blob = if osaka { CELLS_PER_EXT_BLOB } else { 1 };
    if proofs != hashes.len() * per_blob {
        return Err(BlobTxError::ProofCount { proofs, expected: hashes.len() * per_blob });
    }
    sidecar.validate(hashes, EnvKzgSettings::Default.get()).map_err(|err| BlobTxError::Kzg(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Transaction, TxEip4844, TxEip4844WithSidecar};
    use alloy_eips::eip4844::BlobTransactionSidecar;
    use alloy_primitives::{FixedBytes, Signature, U256};

    fn with_sidecar(sidecar: BlobTransactionSidecarVariant) -> TxEnvelope {
        let tx = TxEip4844 { chain_id: 1, gas_limit: 21_000, ..Default::default() };
        let sig = Signature::new(U256::from(1), U256::from(1), false);
        let variant = TxEip4844Variant::TxEip4844WithSidecar(TxEip4844WithSidecar { tx, sidecar });
        TxEnvelope::Eip4844(Signed::new_unhashed(variant, sig))
    }

    #[test]
    fn split_keeps_the_hash() {
        let sidecar = BlobTransactionSidecarVariant::Eip4844(BlobTransactionSidecar::default());
        let full = with_sidecar(sidecar.clone());
        let hash = *full.tx_hash();
        let (consensus, split) = split_sidecar(full);
        assert_eq!(*consensus.tx_hash(), hash);
        assert_eq!(split, Some(sidecar));
        assert!(
            matches!(&consensus, TxEnvelope::Eip4844(s) if matches!(s.tx(), TxEip4844Variant::TxEip4844(_)))
        );
        assert_eq!(
            consensus.tx_hash(),
            &alloy_primitives::keccak256(alloy_eips::Encodable2718::encoded_2718(&consensus))
        );
        assert_eq!(consensus.blob_versioned_hashes(), Some(&[][..]));
    }

    #[test]
    fn sidecar_shape_errors() {
        let commitment = FixedBytes::<48>::repeat_byte(7);
        let hash = kzg_to_versioned_hash(commitment.as_slice());
        assert_eq!(check_sidecar(&[hash], None, false), Err(BlobTxError::MissingSidecar));
        let empty = BlobTransactionSidecarVariant::Eip4844(BlobTransactionSidecar::default());
        assert_eq!(
            check_sidecar(&[hash], Some(&empty), true),
            Err(BlobTxError::SidecarVersion { want: 1, got: 0 })
        );
        assert_eq!(check_sidecar(&[], Some(&empty), false), Err(BlobTxError::Blobless));
        assert_eq!(
            check_sidecar(&[hash], Some(&empty), false),
            Err(BlobTxError::BlobCount { blobs: 0, hashes: 1 })
        );
        let one = BlobTransactionSidecar {
            blobs: vec![Default::default()],
            commitments: vec![commitment],
            proofs: vec![],
        };
        let one = BlobTransactionSidecarVariant::Eip4844(one);
        let other = B256::repeat_byte(1);
        assert_eq!(
            check_sidecar(&[other], Some(&one), false),
            Err(BlobTxError::HashMismatch { index: 0, computed: hash, expected: other })
        );
        assert_eq!(
            check_sidecar(&[hash], Some(&one), false),
            Err(BlobTxError::ProofCount { proofs: 0, expected: 1 })
        );
    }
}
