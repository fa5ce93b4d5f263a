//! The pool's contents and the rules that change them, behind the lock.
//!
//! Each sender has its account nonce and balance (as of the last head the pool
//! saw for it) and its transactions by nonce, all at or above the account
//! nonce. The *pending* ones are the run of consecutive nonces starting at the
//! account nonce; the rest, after a gap, are *queued*. Nothing is moved
//! between two lists: filling a gap makes the following transactions pending
//! by definition, removing one makes its successors queued. Global counts are
//! kept by recounting the one sender that changed.
//!
//! Eviction takes a sender's *last* transaction (the tail of its pending run,
//! or its highest queued one), so it never opens a gap; among those it takes
//! the cheapest at the next base fee.

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::{Address, B256, I256, U256, map::HashMap};

use super::{FundsShortfall, PoolConfig, PoolError, PoolHead, PooledTx, RemovalReason, tx::can_replace};

/// A sender's account as read from the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Account {
    pub(super) nonce: u64,
    pub(super) balance: U256,
}

/// One sender's transactions.
#[derive(Debug, Default)]
pub(super) struct SenderTxs {
    pub(super) account: Account,
    /// By nonce; every nonce is at least `account.nonce`.
    pub(super) txs: BTreeMap<u64, Arc<PooledTx>>,
    /// Length of the run of consecutive nonces from `account.nonce`.
    pub(super) pending: usize,
}

impl SenderTxs {
    fn run_len(&self) -> usize {
        let mut expected = self.account.nonce;
        let mut len = 0;
        for nonce in self.txs.keys() {
            if *nonce != expected {
                break;
            }
            len += 1;
            expected = expected.wrapping_add(1);
        }
        len
    }

    pub(super) fn pending_txs(&self) -> impl Iterator<Item = &Arc<PooledTx>> {
        self.txs.values().take(self.pending)
    }

    pub(super) fn queued_txs(&self) -> impl Iterator<Item = &Arc<PooledTx>> {
        self.txs.values().skip(self.pending)
    }

    fn queued(&self) -> usize {
        self.txs.len() - self.pending
    }

    /// The first nonce after the pending run.
    pub(super) fn next_nonce(&self) -> u64 {
        self.account.nonce.saturating_add(self.pending as u64)
    }

    /// The transaction eviction would take from this sender's pending or
    /// queued part.
    fn tail(&self, pending: bool) -> Option<&Arc<PooledTx>> {
        if pending { self.pending_txs().last() } else { self.queued_txs().last() }
    }
}

/// What an admission changed besides adding the transaction.
#[derive(Debug, Default)]
pub(super) struct Admitted {
    /// Transactions that became pending: the new one if it did, and queued
    /// ones it promoted.
    pub(super) promoted: Vec<B256>,
    /// Transactions removed to admit it.
    pub(super) removed: Vec<(Arc<PooledTx>, RemovalReason)>,
}

/// Everything behind the pool's lock.
#[derive(Debug, Default)]
pub(super) struct Inner {
    pub(super) by_hash: HashMap<B256, Arc<PooledTx>>,
    pub(super) senders: HashMap<Address, SenderTxs>,
    pub(super) pending: usize,
    pub(super) queued: usize,
    /// The newest head the pool was told of.
    pub(super) head: Option<PoolHead>,
    arrivals: u64,
}

impl Inner {
    fn base_fee(&self) -> u64 {
        self.head.map_or(0, |head| head.next_base_fee)
    }

    /// Applies `change` to `sender`'s transactions, then recounts its pending
    /// run, fixes the global counts and forgets the sender if it has nothing
    /// left. Returns what `change` returned and the hashes that became pending.
    fn update_sender<R>(
        &mut self,
        sender: Address,
        change: impl FnOnce(&mut SenderTxs) -> R,
    ) -> Option<(R, Vec<B256>)> {
        let entry = self.senders.get_mut(&sender)?;
        let (pending, queued) = (entry.pending, entry.queued());
        let before: Vec<B256> = entry.pending_txs().map(|tx| tx.hash).collect();
        let result = change(entry);
        entry.pending = entry.run_len();
        let promoted = entry.pending_txs().map(|tx| tx.hash).filter(|hash| !before.contains(hash)).collect();
        self.pending = self.pending - pending + entry.pending;
        self.queued = self.queued - queued + entry.queued();
        if entry.txs.is_empty() {
            self.senders.remove(&sender);
        }
        Some((result, promoted))
    }

    /// Sets `sender`'s account and drops what it makes invalid: nonces below
    /// the account nonce, transactions the balance cannot pay for, and gas
    /// limits above the head's.
    pub(super) fn refresh_sender(
        &mut self,
        sender: Address,
        account: Account,
    ) -> (Vec<(Arc<PooledTx>, RemovalReason)>, Vec<B256>) {
        let gas_limit = self.head.map_or(u64::MAX, |head| head.gas_limit);
        let Some((removed, promoted)) = self.update_sender(sender, |entry| {
            entry.account = account;
            let keep = entry.txs.split_off(&account.nonce);
            let mut removed: Vec<_> = std::mem::replace(&mut entry.txs, keep)
                .into_values()
                .map(|tx| (tx, RemovalReason::NonceConsumed))
                .collect();
            entry.txs.retain(|_, tx| {
                let reason = if tx.cost > account.balance {
                    RemovalReason::InsufficientFunds
                } else if tx.gas_limit() > gas_limit {
                    RemovalReason::ExceedsBlockGasLimit
                } else {
                    return true;
                };
                removed.push((tx.clone(), reason));
                false
            });
            removed
        }) else {
            return (Vec::new(), Vec::new());
        };
        for (tx, _) in &removed {
            self.by_hash.remove(&tx.hash);
        }
        (removed, promoted)
    }

    /// Removes one transaction; its sender's later ones become queued.
    pub(super) fn remove(&mut self, hash: &B256) -> Option<Arc<PooledTx>> {
        let tx = self.by_hash.remove(hash)?;
        let nonce = tx.nonce();
        self.update_sender(tx.sender, |entry| entry.txs.remove(&nonce));
        Some(tx)
    }

    /// Admits a validated transaction from a sender whose account, read at
    /// `head`, is `account`: geth's state checks (nonce, funds, per-sender
    /// limit), replacement, and room in the pool.
    pub(super) fn insert(
        &mut self,
        tx: PooledTx,
        account: Account,
        head: &PoolHead,
        config: &PoolConfig,
    ) -> Result<Admitted, PoolError> {
        if self.by_hash.contains_key(&tx.hash) {
            return Err(PoolError::AlreadyKnown);
        }
        let mut admitted = Admitted::default();
        let sender = tx.sender;
        // An account read at a head at least as new as the pool's replaces
        // what the pool knew of it; an older read is ignored for a known
        // sender (the caller raced a block commit).
        let fresh = self.head.is_none_or(|known| head.number >= known.number);
        if self.head.is_none() {
            self.head = Some(*head);
        }
        if fresh && self.senders.get(&sender).is_some_and(|entry| entry.account != account) {
            let (removed, promoted) = self.refresh_sender(sender, account);
            admitted.removed.extend(removed);
            admitted.promoted.extend(promoted);
        }
        let entry = self.senders.get(&sender);
        let known = entry.map_or(account, |entry| entry.account);
        let nonce = tx.nonce();
        if nonce < known.nonce {
            return Err(PoolError::NonceTooLow { next: known.nonce, nonce });
        }
        let existing = entry.and_then(|entry| entry.txs.get(&nonce).cloned());
        check_funds(entry, known.balance, &tx, existing.as_deref(), config)?;
        if let Some(old) = &existing {
            if !can_replace(old, &tx, config.price_bump_percent) {
                return Err(PoolError::ReplaceUnderpriced);
            }
        } else {
            let lands_pending = nonce == entry.map_or(known.nonce, SenderTxs::next_nonce);
            let full = if lands_pending {
                self.pending >= config.max_pending
            } else {
                self.queued >= config.max_queued
            };
            if full {
                let victim =
                    self.cheapest_tail(lands_pending, Some(sender), None).ok_or(PoolError::PoolFull)?;
                if victim.price(self.base_fee()) >= tx.price(self.base_fee()) {
                    return Err(PoolError::Underpriced);
                }
                let hash = victim.hash;
                admitted.removed.extend(self.remove(&hash).map(|tx| (tx, RemovalReason::Evicted)));
            }
        }

        let mut tx = tx;
        self.arrivals += 1;
        tx.arrival = self.arrivals;
        let tx = Arc::new(tx);
        let hash = tx.hash;
        self.by_hash.insert(hash, tx.clone());
        self.senders.entry(sender).or_insert_with(|| SenderTxs { account, ..Default::default() });
        let (replaced, promoted) =
            self.update_sender(sender, |entry| entry.txs.insert(nonce, tx)).unwrap_or_default();
        admitted.promoted.extend(promoted);
        if let Some(old) = replaced {
            self.by_hash.remove(&old.hash);
            admitted.removed.push((old, RemovalReason::Replaced));
        }
        // Promotions can push the pending count over its limit: evict the
        // cheapest pending tails, never the transaction just admitted.
        while self.pending > config.max_pending {
            let Some(victim) = self.cheapest_tail(true, None, Some(hash)) else {
                break;
            };
            let victim = victim.hash;
            admitted.removed.extend(self.remove(&victim).map(|tx| (tx, RemovalReason::Evicted)));
            admitted.promoted.retain(|promoted| *promoted != victim);
        }
        Ok(admitted)
    }

    /// The cheapest pending (or queued) tail at the next base fee, skipping
    /// `sender`'s transactions and the transaction `hash`. Ties go to the
    /// latest arrival.
    fn cheapest_tail(
        &self,
        pending: bool,
        sender: Option<Address>,
        hash: Option<B256>,
    ) -> Option<&Arc<PooledTx>> {
        let base_fee = self.base_fee();
        self.senders
            .iter()
            .filter(|(address, _)| Some(**address) != sender)
            .filter_map(|(_, entry)| entry.tail(pending))
            .filter(|tail| Some(tail.hash) != hash)
            .min_by_key(|tx| (tx.price(base_fee), std::cmp::Reverse(tx.arrival)))
    }
}

/// geth's `ValidateTransactionWithState` funds and slot checks: the balance
/// covers this transaction alone, then the sender's pending transactions plus
/// this one (or minus the one it replaces); a new nonce needs a free slot.
fn check_funds(
    entry: Option<&SenderTxs>,
    balance: U256,
    tx: &PooledTx,
    existing: Option<&PooledTx>,
    config: &PoolConfig,
) -> Result<(), PoolError> {
    let cost = tx.cost;
    if balance < cost {
        return Err(short(FundsShortfall::Tx { balance, cost }));
    }
    let spent = entry.map_or(U256::ZERO, |entry| {
        entry.pending_txs().fold(U256::ZERO, |sum, tx| sum.saturating_add(tx.cost))
    });
    let replaces_pending = existing.filter(|old| entry.is_some_and(|entry| old.nonce() < entry.next_nonce()));
    if let Some(old) = replaces_pending {
        let need = spent.saturating_sub(old.cost).saturating_add(cost);
        if balance < need {
            let bump = I256::from_raw(cost).wrapping_sub(I256::from_raw(old.cost));
            return Err(short(FundsShortfall::Bumped { balance, spent, bump, overshot: need - balance }));
        }
        return Ok(());
    }
    let need = spent.saturating_add(cost);
    if balance < need {
        return Err(short(FundsShortfall::Queued { balance, spent, cost, overshot: need - balance }));
    }
    let pooled = entry.map_or(0, |entry| entry.txs.len());
    if existing.is_none() && pooled >= config.max_account_txs {
        return Err(PoolError::AccountLimitExceeded { pooled });
    }
    Ok(())
}

fn short(shortfall: FundsShortfall) -> PoolError {
    PoolError::InsufficientFunds(Box::new(shortfall))
}
