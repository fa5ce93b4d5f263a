//! Decoded recent blocks. Receipt and transaction lookups of a big block
//! would otherwise decode its whole body and receipt list, and recover every
//! sender, once per call; the cache keeps the last few blocks decoded, their
//! senders recovered once (in parallel) and the position of each
//! transaction's first log. Entries are keyed by block hash, whose content
//! never changes; callers resolve hashes against a snapshot first, so a
//! block unwound from the store is not served.

use crate::error::{ApiError, ApiResult};
use alloy_consensus::{Header, ReceiptEnvelope, TxEnvelope, transaction::SignerRecoverable};
use alloy_primitives::Address;
use mosaic_storage::{BlockRef, Body, Snapshot};
use rayon::prelude::*;
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

/// How many decoded blocks are kept.
const CAPACITY: usize = 32;

/// A decoded block with lazily filled derived data.
#[derive(Debug)]
pub(crate) struct CachedBlock {
    /// Number and hash.
    pub block: BlockRef,
    /// The header.
    pub header: Header,
    /// Transactions, ommers, withdrawals.
    pub body: Body,
    receipts: OnceLock<Arc<Vec<ReceiptEnvelope>>>,
    senders: OnceLock<Arc<Vec<Address>>>,
}

/// The sender of a stored transaction.
pub(crate) fn sender(tx: &TxEnvelope) -> ApiResult<Address> {
    tx.recover_signer().map_err(|e| {
        ApiError::internal(format!("stored transaction {} has a bad signature: {e}", tx.tx_hash()))
    })
}

impl CachedBlock {
    /// The block's receipts (read from `snapshot` the first time).
    pub(crate) fn receipts(&self, snapshot: &Snapshot) -> ApiResult<Arc<Vec<ReceiptEnvelope>>> {
        if let Some(receipts) = self.receipts.get() {
            return Ok(Arc::clone(receipts));
        }
        let receipts = snapshot
            .receipts(self.block.hash)?
            .ok_or_else(|| ApiError::internal(format!("receipts of block {} missing", self.block.number)))?;
        Ok(Arc::clone(self.receipts.get_or_init(|| Arc::new(receipts))))
    }

    /// The senders of its transactions (recovered the first time).
    pub(crate) fn senders(&self) -> ApiResult<Arc<Vec<Address>>> {
        if let Some(senders) = self.senders.get() {
            return Ok(Arc::clone(senders));
        }
        let txs = &self.body.transactions;
        let senders: Vec<Address> = if txs.len() < 8 {
            txs.iter().map(sender).collect::<ApiResult<_>>()?
        } else {
            txs.par_iter().map(sender).collect::<ApiResult<_>>()?
        };
        Ok(Arc::clone(self.senders.get_or_init(|| Arc::new(senders))))
    }

    /// The sender of transaction `index`, recovering only that one unless
    /// all are already known.
    pub(crate) fn sender_of(&self, index: usize) -> ApiResult<Address> {
        if let Some(senders) = self.senders.get()
            && let Some(sender) = senders.get(index)
        {
            return Ok(*sender);
        }
        let tx = self.body.transactions.get(index).ok_or_else(|| {
            ApiError::internal(format!("no transaction {index} in block {}", self.block.number))
        })?;
        sender(tx)
    }
}

/// The most recently used decoded blocks.
#[derive(Debug, Default)]
pub(crate) struct BlockCache {
    entries: Mutex<VecDeque<Arc<CachedBlock>>>,
}

impl BlockCache {
    /// The block `block` (known to `snapshot`), decoded and kept; `None` if
    /// its body is missing.
    pub(crate) fn get(&self, snapshot: &Snapshot, block: BlockRef) -> ApiResult<Option<Arc<CachedBlock>>> {
        self.load(snapshot, block, true)
    }

    /// Like [`BlockCache::get`], but a block read from the store is not kept
    /// (scans over many blocks must not evict the hot ones).
    pub(crate) fn peek(&self, snapshot: &Snapshot, block: BlockRef) -> ApiResult<Option<Arc<CachedBlock>>> {
        self.load(snapshot, block, false)
    }

    fn load(&self, snapshot: &Snapshot, block: BlockRef, keep: bool) -> ApiResult<Option<Arc<CachedBlock>>> {
        {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(i) = entries.iter().position(|e| e.block.hash == block.hash) {
                let entry = entries.remove(i).ok_or_else(|| ApiError::internal("block cache"))?;
                entries.push_front(Arc::clone(&entry));
                return Ok(Some(entry));
            }
        }
        let (Some(header), Some(body)) = (snapshot.header(block.hash)?, snapshot.body(block.hash)?) else {
            return Ok(None);
        };
        let entry = Arc::new(CachedBlock {
            block,
            header,
            body,
            receipts: OnceLock::new(),
            senders: OnceLock::new(),
        });
        if !keep {
            return Ok(Some(entry));
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if !entries.iter().any(|e| e.block.hash == block.hash) {
            entries.push_front(Arc::clone(&entry));
            entries.truncate(CAPACITY);
        }
        Ok(Some(entry))
    }
}
