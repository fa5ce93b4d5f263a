//! What the RPC server reads from the pool: counts (`txpool_status`), the
//! contents grouped by sender and nonce (`txpool_content`,
//! `txpool_contentFrom`), single transactions by hash, and a sender's next
//! nonce counting its pending transactions (`eth_getTransactionCount` at
//! `pending`).

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::{Address, B256};

use super::{PoolHead, PooledTx, TxPool, inner::SenderTxs};

/// Transaction counts (`txpool_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// Executable transactions.
    pub pending: usize,
    /// Transactions behind a nonce gap.
    pub queued: usize,
}

/// One sender's transactions by nonce (`txpool_contentFrom`).
#[derive(Debug, Clone, Default)]
pub struct SenderContent {
    /// Executable transactions.
    pub pending: BTreeMap<u64, Arc<PooledTx>>,
    /// Transactions behind a nonce gap.
    pub queued: BTreeMap<u64, Arc<PooledTx>>,
}

impl SenderContent {
    fn of(entry: &SenderTxs) -> Self {
        let by_nonce = |txs: &mut dyn Iterator<Item = &Arc<PooledTx>>| {
            txs.map(|tx| (tx.nonce(), tx.clone())).collect::<BTreeMap<_, _>>()
        };
        Self { pending: by_nonce(&mut entry.pending_txs()), queued: by_nonce(&mut entry.queued_txs()) }
    }
}

/// The whole pool by sender, then nonce (`txpool_content`).
#[derive(Debug, Clone, Default)]
pub struct PoolContent {
    /// Executable transactions.
    pub pending: BTreeMap<Address, BTreeMap<u64, Arc<PooledTx>>>,
    /// Transactions behind a nonce gap.
    pub queued: BTreeMap<Address, BTreeMap<u64, Arc<PooledTx>>>,
}

impl TxPool {
    /// Pending and queued counts.
    pub fn status(&self) -> PoolStatus {
        let inner = self.read();
        PoolStatus { pending: inner.pending, queued: inner.queued }
    }

    /// Number of transactions in the pool.
    pub fn len(&self) -> usize {
        self.read().by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every transaction, by sender and nonce. Senders with nothing pending
    /// (or nothing queued) are absent from that map.
    pub fn content(&self) -> PoolContent {
        let inner = self.read();
        let mut content = PoolContent::default();
        for (sender, entry) in &inner.senders {
            let SenderContent { pending, queued } = SenderContent::of(entry);
            if !pending.is_empty() {
                content.pending.insert(*sender, pending);
            }
            if !queued.is_empty() {
                content.queued.insert(*sender, queued);
            }
        }
        content
    }

    /// One sender's transactions.
    pub fn content_from(&self, sender: Address) -> SenderContent {
        self.read().senders.get(&sender).map(SenderContent::of).unwrap_or_default()
    }

    /// A transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<Arc<PooledTx>> {
        self.read().by_hash.get(hash).cloned()
    }

    /// Whether a transaction with this hash is in the pool.
    pub fn contains(&self, hash: &B256) -> bool {
        self.read().by_hash.contains_key(hash)
    }

    /// The nonce after `sender`'s pending transactions, `None` if the pool
    /// holds nothing of `sender` (the account nonce then applies).
    pub fn next_nonce(&self, sender: Address) -> Option<u64> {
        self.read().senders.get(&sender).map(SenderTxs::next_nonce)
    }

    /// The newest head the pool was told of.
    pub fn head(&self) -> Option<PoolHead> {
        self.read().head
    }
}
