//! The order in which the block builder takes transactions.
//!
//! [`BestTransactions`] is a snapshot of the pending transactions that can pay
//! a block's base fee. It yields the highest effective tip first across
//! senders and each sender's transactions in nonce order: a sender's next
//! transaction becomes a candidate only once the previous one was taken.
//! Equal tips go first come, first served. A sender's run stops at its first
//! transaction whose fee cap is below the base fee (or, for a blob
//! transaction, whose blob fee cap is below the blob base fee), since nothing
//! after it can execute in this block.

use std::{
    cmp::Ordering,
    collections::{BinaryHeap, VecDeque},
    sync::Arc,
};

use alloy_primitives::{
    Address,
    map::{HashMap, HashSet},
};

use super::{PooledTx, inner::Inner};

/// Pending transactions by effective tip, nonce order within a sender.
#[derive(Debug)]
pub struct BestTransactions {
    base_fee: u64,
    /// Each sender's transactions after its current candidate.
    rest: HashMap<Address, VecDeque<Arc<PooledTx>>>,
    /// One candidate per sender.
    heap: BinaryHeap<Candidate>,
    invalid: HashSet<Address>,
}

impl BestTransactions {
    /// Snapshot of `inner` for a block with `base_fee` and, if it may carry
    /// blob transactions, `blob_base_fee`.
    pub(super) fn new(inner: &Inner, base_fee: u64, blob_base_fee: Option<u128>) -> Self {
        let mut best = Self {
            base_fee,
            rest: HashMap::default(),
            heap: BinaryHeap::with_capacity(inner.senders.len()),
            invalid: HashSet::default(),
        };
        for (sender, entry) in &inner.senders {
            let mut run: VecDeque<_> = entry
                .pending_txs()
                .take_while(|tx| {
                    let blob_ok = match (tx.max_fee_per_blob_gas(), blob_base_fee) {
                        (None, _) => true,
                        (Some(cap), Some(fee)) => cap >= fee,
                        (Some(_), None) => false,
                    };
                    blob_ok && tx.effective_tip(base_fee).is_some()
                })
                .cloned()
                .collect();
            if let Some(first) = run.pop_front() {
                best.heap.push(Candidate::new(first, base_fee));
                best.rest.insert(*sender, run);
            }
        }
        best
    }

    /// The base fee the order was computed at.
    pub const fn base_fee(&self) -> u64 {
        self.base_fee
    }

    /// Yields nothing more from `sender`: its last transaction failed or did
    /// not fit, so its later nonces cannot execute in this block.
    pub fn mark_invalid(&mut self, sender: Address) {
        self.rest.remove(&sender);
        self.invalid.insert(sender);
    }
}

impl Iterator for BestTransactions {
    type Item = Arc<PooledTx>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Candidate { tx, .. } = self.heap.pop()?;
            if self.invalid.contains(&tx.sender) {
                continue;
            }
            if let Some(next) = self.rest.get_mut(&tx.sender).and_then(VecDeque::pop_front) {
                self.heap.push(Candidate::new(next, self.base_fee));
            }
            return Some(tx);
        }
    }
}

/// A sender's next transaction, ordered by tip, then by arrival.
#[derive(Debug)]
struct Candidate {
    tip: u128,
    tx: Arc<PooledTx>,
}

impl Candidate {
    fn new(tx: Arc<PooledTx>, base_fee: u64) -> Self {
        Self { tip: tx.effective_tip(base_fee).unwrap_or_default(), tx }
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.tip.cmp(&other.tip).then_with(|| other.tx.arrival.cmp(&self.tx.arrival))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}
