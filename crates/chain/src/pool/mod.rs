//! The transaction pool: admission in geth's order and words, pending and
//! queued transactions per sender, fee-ordered selection for the builder.
//!
//! [`TxPool`] is shared by the RPC server and the block builder (`&self`
//! methods behind one `RwLock`). A submission is decoded, checked without
//! state (fork rules, size, gas, signature: the sender is recovered outside
//! the lock, in parallel with rayon for [`TxPool::add_many`]), then against
//! the sender's account read from the [`StateProvider`] passed with it, and
//! against the pool (duplicates, 10% replacement bump, per-sender and global
//! limits with eviction of the cheapest). Transactions whose nonce leaves a
//! gap are *queued* and become *pending* when the gap fills; a fee cap below
//! the base fee does not keep a transaction out, only out of the next block.
//! [`TxPool::best_transactions`] hands the builder pending transactions by
//! effective tip; [`TxPool::on_block_committed`] drops what a block consumed.
//!
//! Blob transactions are accepted in their network form when Cancun is active
//! (geth keeps them in a separate pool; here they share the limits), unless
//! [`PoolConfig::accept_blob_txs`] is off. Not done: geth's EIP-7702 rules
//! for delegated senders (one in-flight transaction), time-based expiry of
//! queued transactions, and local-sender exemptions.

mod best;
mod blob;
mod config;
mod error;
mod inner;
mod read;
mod tx;
mod validate;

#[cfg(test)]
mod tests;

use std::sync::{
    Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
    mpsc::{Receiver, SyncSender, TrySendError, sync_channel},
};

use alloy_consensus::TxEnvelope;
use alloy_primitives::{Address, B256};
use mosaic_executor::{StateError, StateProvider};
use mosaic_primitives::{ChainSpec, transaction::decode_transaction};
use rayon::prelude::*;

pub use best::BestTransactions;
pub use config::{PoolConfig, PoolHead};
pub use error::{BlobTxError, FundsShortfall, PoolError, RPC_CODE_INTERNAL_ERROR, RPC_CODE_SERVER_ERROR};
pub use read::{PoolContent, PoolStatus, SenderContent};
pub use tx::PooledTx;

use inner::{Account, Inner};
use std::sync::Arc;

/// Why a transaction left the pool other than by being taken into a block
/// the pool was told of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalReason {
    /// The sender's account nonce moved past it: it, or another transaction
    /// with its nonce, was included.
    NonceConsumed,
    /// The balance no longer covers its cost.
    InsufficientFunds,
    /// Its gas limit is above the new head's gas limit.
    ExceedsBlockGasLimit,
    /// Evicted to make room for a better-paying transaction.
    Evicted,
    /// Replaced by a transaction with the same nonce and higher fees.
    Replaced,
}

/// What a new head changed in the pool.
#[derive(Debug, Default)]
pub struct PoolUpdate {
    /// Transactions removed, with the reason.
    pub removed: Vec<(Arc<PooledTx>, RemovalReason)>,
    /// Transactions that became pending.
    pub promoted: Vec<B256>,
}

/// The transaction pool. See the [module documentation](self).
#[derive(Debug)]
pub struct TxPool {
    spec: Arc<ChainSpec>,
    config: PoolConfig,
    inner: RwLock<Inner>,
    listeners: Mutex<Vec<SyncSender<B256>>>,
}

impl TxPool {
    /// An empty pool for `spec`'s chain.
    pub fn new(spec: Arc<ChainSpec>, config: PoolConfig) -> Self {
        Self { spec, config, inner: RwLock::default(), listeners: Mutex::default() }
    }

    /// The pool's limits.
    pub const fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Decodes raw EIP-2718 bytes (`eth_sendRawTransaction`) and admits the
    /// transaction; see [`TxPool::add`].
    pub fn add_raw(&self, raw: &[u8], head: &PoolHead, state: &dyn StateProvider) -> Result<B256, PoolError> {
        let tx = decode_transaction(raw).map_err(PoolError::Decode)?;
        self.add(tx, head, state)
    }

    /// Admits `tx`, checked against the rules at `head` and its sender's
    /// account in `state` (the state at `head`); returns its hash.
    pub fn add(&self, tx: TxEnvelope, head: &PoolHead, state: &dyn StateProvider) -> Result<B256, PoolError> {
        let prepared = self.prepare(tx, head, state)?;
        let hash = prepared.0.hash();
        let admitted = self.write().insert(prepared.0, prepared.1, head, &self.config)?;
        self.notify(&admitted.promoted);
        Ok(hash)
    }

    /// Admits a batch: the stateless checks and sender recovery run in
    /// parallel, admission in order under one lock. One result per input.
    pub fn add_many(
        &self,
        txs: Vec<TxEnvelope>,
        head: &PoolHead,
        state: &dyn StateProvider,
    ) -> Vec<Result<B256, PoolError>> {
        let prepared: Vec<_> = txs.into_par_iter().map(|tx| self.prepare(tx, head, state)).collect();
        self.admit_all(prepared, head)
    }

    /// [`TxPool::add_many`] for raw EIP-2718 encodings.
    pub fn add_raw_many<B: AsRef<[u8]> + Sync>(
        &self,
        raws: &[B],
        head: &PoolHead,
        state: &dyn StateProvider,
    ) -> Vec<Result<B256, PoolError>> {
        let prepared: Vec<_> = raws
            .par_iter()
            .map(|raw| {
                let tx = decode_transaction(raw.as_ref()).map_err(PoolError::Decode)?;
                self.prepare(tx, head, state)
            })
            .collect();
        self.admit_all(prepared, head)
    }

    /// Pending transactions for a block with `base_fee` (and `blob_base_fee`
    /// if it may carry blob transactions), best first.
    pub fn best_transactions(&self, base_fee: u64, blob_base_fee: Option<u128>) -> BestTransactions {
        BestTransactions::new(&self.read(), base_fee, blob_base_fee)
    }

    /// Brings the pool to a new head: re-reads the accounts in `changed` (every
    /// account the block touched; at least the senders of its transactions)
    /// from `state`, the state at `head`, drops what became invalid (nonces
    /// consumed, balance short, gas above the new gas limit) and promotes
    /// what became executable. The state is read before the lock is taken;
    /// a read failure leaves the pool unchanged.
    pub fn on_block_committed(
        &self,
        head: &PoolHead,
        changed: impl IntoIterator<Item = Address>,
        state: &dyn StateProvider,
    ) -> Result<PoolUpdate, StateError> {
        let tracked: Vec<Address> = {
            let inner = self.read();
            changed.into_iter().filter(|sender| inner.senders.contains_key(sender)).collect()
        };
        let accounts = tracked
            .into_par_iter()
            .map(|sender| read_account(state, sender).map(|account| (sender, account)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut update = PoolUpdate::default();
        {
            let mut inner = self.write();
            let lowered = inner.head.is_some_and(|known| head.gas_limit < known.gas_limit);
            if inner.head.is_none_or(|known| head.number >= known.number) {
                inner.head = Some(*head);
            }
            let mut refresh = |inner: &mut Inner, sender, account| {
                let (removed, promoted) = inner.refresh_sender(sender, account);
                update.removed.extend(removed);
                update.promoted.extend(promoted);
            };
            for (sender, account) in accounts {
                refresh(&mut inner, sender, account);
            }
            if lowered {
                let over: Vec<_> = inner
                    .senders
                    .iter()
                    .filter(|(_, entry)| entry.txs.values().any(|tx| tx.gas_limit() > head.gas_limit))
                    .map(|(sender, entry)| (*sender, entry.account))
                    .collect();
                for (sender, account) in over {
                    refresh(&mut inner, sender, account);
                }
            }
        }
        self.notify(&update.promoted);
        Ok(update)
    }

    /// [`TxPool::on_block_committed`] for every sender in the pool, e.g. when
    /// the changed accounts are not known.
    pub fn refresh_all(&self, head: &PoolHead, state: &dyn StateProvider) -> Result<PoolUpdate, StateError> {
        let senders: Vec<Address> = self.read().senders.keys().copied().collect();
        self.on_block_committed(head, senders, state)
    }

    /// Removes transactions by hash (the builder found them invalid); a
    /// removed transaction's later nonces become queued. Returns those that
    /// were in the pool.
    pub fn remove(&self, hashes: &[B256]) -> Vec<Arc<PooledTx>> {
        let mut inner = self.write();
        hashes.iter().filter_map(|hash| inner.remove(hash)).collect()
    }

    /// A channel that receives the hash of every transaction that becomes
    /// pending from now on (`eth_subscribe("newPendingTransactions")`). It
    /// holds [`PoolConfig::subscription_capacity`] hashes; a receiver that
    /// falls behind misses the overflow. Dropping the receiver unsubscribes.
    pub fn subscribe_pending(&self) -> Receiver<B256> {
        let (sender, receiver) = sync_channel(self.config.subscription_capacity);
        self.listeners.lock().unwrap_or_else(PoisonError::into_inner).push(sender);
        receiver
    }

    fn prepare(
        &self,
        tx: TxEnvelope,
        head: &PoolHead,
        state: &dyn StateProvider,
    ) -> Result<(PooledTx, Account), PoolError> {
        if self.contains(tx.tx_hash()) {
            return Err(PoolError::AlreadyKnown);
        }
        let tx = validate::check_stateless(tx, &self.spec, head, &self.config)?;
        let account = read_account(state, tx.sender())?;
        Ok((tx, account))
    }

    fn admit_all(
        &self,
        prepared: Vec<Result<(PooledTx, Account), PoolError>>,
        head: &PoolHead,
    ) -> Vec<Result<B256, PoolError>> {
        let mut promoted = Vec::new();
        let results = {
            let mut inner = self.write();
            prepared
                .into_iter()
                .map(|prepared| {
                    let (tx, account) = prepared?;
                    let hash = tx.hash();
                    let admitted = inner.insert(tx, account, head, &self.config)?;
                    promoted.extend(admitted.promoted);
                    Ok(hash)
                })
                .collect()
        };
        self.notify(&promoted);
        results
    }

    fn notify(&self, hashes: &[B256]) {
        if hashes.is_empty() {
            return;
        }
        let mut listeners = self.listeners.lock().unwrap_or_else(PoisonError::into_inner);
        listeners.retain(|listener| {
            hashes.iter().all(|hash| !matches!(listener.try_send(*hash), Err(TrySendError::Disconnected(_))))
        });
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A sender's nonce and balance; a missing account has both zero.
fn read_account(state: &dyn StateProvider, sender: Address) -> Result<Account, StateError> {
    Ok(state
        .account(sender)?
        .map(|info| Account { nonce: info.nonce, balance: info.balance })
        .unwrap_or_default())
}
