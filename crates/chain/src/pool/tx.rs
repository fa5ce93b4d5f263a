//! A validated transaction as the pool keeps it, and how two are compared.
//!
//! [`PooledTx`] carries the consensus form of the transaction (a blob
//! transaction without its sidecar, which is kept beside it), the recovered
//! sender, the hash and the cost the balance must cover. [`Price`] orders
//! transactions for eviction as geth's price heap does: by the tip they pay at
//! the next base fee, then by fee cap, then by tip; [`can_replace`] is geth's
//! replacement rule.

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip7594::BlobTransactionSidecarVariant;
use alloy_primitives::{Address, B256, U256};

/// A transaction admitted to the pool. Shared as `Arc<PooledTx>`.
#[derive(Debug, Clone, PartialEq)]
pub struct PooledTx {
    pub(super) tx: TxEnvelope,
    pub(super) sidecar: Option<BlobTransactionSidecarVariant>,
    pub(super) sender: Address,
    pub(super) hash: B256,
    pub(super) size: usize,
    pub(super) cost: U256,
    /// Admission order, the tie-breaker between equal prices.
    pub(super) arrival: u64,
}

impl PooledTx {
    /// Builds the pool's record of a validated transaction (the sidecar
    /// already split off `tx`).
    pub(super) fn new(
        tx: TxEnvelope,
        sidecar: Option<BlobTransactionSidecarVariant>,
        sender: Address,
        size: usize,
    ) -> Self {
        let hash = *tx.tx_hash();
        let cost = cost_of(&tx);
        Self { tx, sidecar, sender, hash, size, cost, arrival: 0 }
    }

    /// The transaction as a block carries it (blob transactions without
    /// their sidecar).
    pub const fn tx(&self) -> &TxEnvelope {
        &self.tx
    }

    /// The blob sidecar of a blob transaction.
    pub const fn sidecar(&self) -> Option<&BlobTransactionSidecarVariant> {
        self.sidecar.as_ref()
    }

    /// The recovered sender.
    pub const fn sender(&self) -> Address {
        self.sender
    }

    /// The transaction hash.
    pub const fn hash(&self) -> B256 {
        self.hash
    }

    /// The nonce.
    pub fn nonce(&self) -> u64 {
        self.tx.nonce()
    }

    /// The gas limit.
    pub fn gas_limit(&self) -> u64 {
        self.tx.gas_limit()
    }

    /// `maxFeePerGas` (the gas price of legacy and EIP-2930 transactions).
    pub fn max_fee_per_gas(&self) -> u128 {
        self.tx.max_fee_per_gas()
    }

    /// `maxPriorityFeePerGas` (the gas price of legacy and EIP-2930
    /// transactions).
    pub fn max_priority_fee_per_gas(&self) -> u128 {
        self.tx.priority_fee_or_price()
    }

    /// `maxFeePerBlobGas` of a blob transaction.
    pub fn max_fee_per_blob_gas(&self) -> Option<u128> {
        self.tx.max_fee_per_blob_gas()
    }

    /// The tip per gas the transaction pays at `base_fee`, `None` when its fee
    /// cap is below the base fee.
    pub fn effective_tip(&self, base_fee: u64) -> Option<u128> {
        let headroom = self.max_fee_per_gas().checked_sub(u128::from(base_fee))?;
        Some(headroom.min(self.max_priority_fee_per_gas()))
    }

    /// Most wei the transaction can take from its sender: gas limit × fee cap
    /// + value, plus blob gas × blob fee cap.
    pub const fn cost(&self) -> U256 {
        self.cost
    }

    /// Size in bytes of the EIP-2718 encoding, without a blob sidecar.
    pub const fn size(&self) -> usize {
        self.size
    }

    /// Whether this is a blob transaction.
    pub const fn is_blob(&self) -> bool {
        matches!(self.tx, TxEnvelope::Eip4844(_))
    }

    /// The price the pool evicts by, at `base_fee`.
    pub(super) fn price(&self, base_fee: u64) -> Price {
        let cap = self.max_fee_per_gas();
        let tip = self.max_priority_fee_per_gas();
        let base = u128::from(base_fee);
        let effective =
            if cap >= base { Effective::Pays((cap - base).min(tip)) } else { Effective::Short(base - cap) };
        Price { effective, cap, tip }
    }
}

/// What a transaction pays beyond the base fee, or by how much it falls short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effective {
    Short(u128),
    Pays(u128),
}

impl Ord for Effective {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (Self::Pays(a), Self::Pays(b)) => a.cmp(b),
            (Self::Short(a), Self::Short(b)) => b.cmp(a),
            (Self::Pays(_), Self::Short(_)) => std::cmp::Ordering::Greater,
            (Self::Short(_), Self::Pays(_)) => std::cmp::Ordering::Less,
        }
    }
}

impl PartialOrd for Effective {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Eviction order: the lowest price goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Price {
    effective: Effective,
    cap: u128,
    tip: u128,
}

/// gas limit × fee cap + value + blob gas × blob fee cap, as geth's
/// `tx.Cost()`.
fn cost_of(tx: &TxEnvelope) -> U256 {
    let gas = U256::from(tx.gas_limit()) * U256::from(tx.max_fee_per_gas());
    let blob = match (tx.blob_gas_used(), tx.max_fee_per_blob_gas()) {
        (Some(blob_gas), Some(cap)) => U256::from(blob_gas) * U256::from(cap),
        _ => U256::ZERO,
    };
    gas.saturating_add(tx.value()).saturating_add(blob)
}

/// geth's replacement rule: `new` replaces `old` (same sender and nonce) only
/// if it raises the fee cap and the tip strictly and each by at least
/// `bump_percent` (rounded down); a blob transaction must raise its blob fee
/// cap the same way.
pub(super) fn can_replace(old: &PooledTx, new: &PooledTx, bump_percent: u64) -> bool {
    let raised = |old: u128, new: u128| {
        let threshold = U256::from(old) * U256::from(100 + bump_percent) / U256::from(100);
        new > old && U256::from(new) >= threshold
    };
    if !raised(old.max_fee_per_gas(), new.max_fee_per_gas())
        || !raised(old.max_priority_fee_per_gas(), new.max_priority_fee_per_gas())
    {
        return false;
    }
    match (old.max_fee_per_blob_gas(), new.max_fee_per_blob_gas()) {
        (Some(old), Some(new)) => raised(old, new),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Signed, TxEip1559, TxLegacy};
    use alloy_primitives::{Signature, TxKind};

    fn dynamic(cap: u128, tip: u128) -> PooledTx {
        let tx = TxEip1559 {
            chain_id: 1,
            gas_limit: 21_000,
            max_fee_per_gas: cap,
            max_priority_fee_per_gas: tip,
            to: TxKind::Call(Address::ZERO),
            value: U256::from(5),
            ..Default::default()
        };
        let sig = Signature::new(U256::from(1), U256::from(1), false);
        PooledTx::new(TxEnvelope::Eip1559(Signed::new_unhashed(tx, sig)), None, Address::ZERO, 0)
    }

    #[test]
    fn cost_and_tips() {
        let tx = dynamic(100, 10);
        assert_eq!(tx.cost(), U256::from(21_000 * 100 + 5));
        assert_eq!(tx.effective_tip(95), Some(5));
        assert_eq!(tx.effective_tip(50), Some(10));
        assert_eq!(tx.effective_tip(101), None);
        let legacy = TxLegacy { gas_price: 7, gas_limit: 21_000, ..Default::default() };
        let sig = Signature::new(U256::from(1), U256::from(1), false);
        let legacy =
            PooledTx::new(TxEnvelope::Legacy(Signed::new_unhashed(legacy, sig)), None, Address::ZERO, 0);
        assert_eq!((legacy.max_fee_per_gas(), legacy.max_priority_fee_per_gas()), (7, 7));
    }

    #[test]
    fn prices_order_by_effective_tip_then_cap() {
        let base = 100;
        assert!(dynamic(200, 5).price(base) < dynamic(200, 6).price(base));
        // Tip capped by the headroom: 103 pays 3 even with tip 50.
        assert!(dynamic(103, 50).price(base) < dynamic(200, 4).price(base));
        // Same effective tip: the higher fee cap is worth more.
        assert!(dynamic(150, 4).price(base) < dynamic(200, 4).price(base));
        // Below the base fee, the smaller shortfall is worth more.
        assert!(dynamic(90, 1).price(base) < dynamic(99, 1).price(base));
        assert!(dynamic(99, 1).price(base) < dynamic(100, 0).price(base));
    }

    #[test]
    fn replacement_needs_the_full_bump_on_both_fees() {
        let old = dynamic(100, 10);
        assert!(can_replace(&old, &dynamic(110, 11), 10));
        assert!(!can_replace(&old, &dynamic(109, 11), 10));
        assert!(!can_replace(&old, &dynamic(110, 10), 10));
        assert!(!can_replace(&old, &dynamic(1000, 10), 10));
        // Rounding down: a 10% bump on 5 needs 5 * 110 / 100 = 5, and strictly more.
        assert!(can_replace(&dynamic(5, 5), &dynamic(6, 6), 10));
        assert!(!can_replace(&dynamic(5, 0), &dynamic(6, 0), 10));
        assert!(can_replace(&dynamic(5, 0), &dynamic(6, 1), 10));
    }
}
