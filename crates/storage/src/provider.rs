//! [`StateProvider`] implementations over a [`Snapshot`]: the state at the
//! head, and the state after any retained past block. Both are `Send + Sync`
//! and cheap to clone (the snapshot is shared), so the parallel executor can
//! read through them from all its threads.

use crate::{Snapshot, Store, StoreResult, codec::StoredAccount};
use alloy_primitives::{Address, B256, U256};
use mosaic_executor::{AccountInfo, Bytecode, StateError, StateProvider};
use std::sync::Arc;

fn info(account: StoredAccount) -> AccountInfo {
    AccountInfo {
        balance: account.balance,
        nonce: account.nonce,
        code_hash: account.code_hash,
        account_id: None,
        code: None,
    }
}

fn code(snapshot: &Snapshot, hash: B256) -> Result<Bytecode, StateError> {
    snapshot.code(hash)?.ok_or(StateError::MissingCode(hash))
}

/// The state at the head of a snapshot.
#[derive(Debug, Clone)]
pub struct LatestState {
    snapshot: Arc<Snapshot>,
}

impl LatestState {
    /// The state at the head of `snapshot`.
    pub const fn new(snapshot: Arc<Snapshot>) -> Self {
        Self { snapshot }
    }

    /// The underlying snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
}

impl StateProvider for LatestState {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(self.snapshot.account(address)?.map(info))
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        Ok(self.snapshot.storage(address, slot)?)
    }
    fn code_by_hash(&self, hash: B256) -> Result<Bytecode, StateError> {
        code(&self.snapshot, hash)
    }
    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        self.snapshot.block_hash(number)?.ok_or(StateError::MissingBlockHash(number))
    }
}

/// The state after a past block (`block` may also be the head).
#[derive(Debug, Clone)]
pub struct HistoricalState {
    snapshot: Arc<Snapshot>,
    block: u64,
}

impl HistoricalState {
    /// The state after `block`; fails if that block is beyond the head or its
    /// history was pruned.
    pub fn new(snapshot: Arc<Snapshot>, block: u64) -> StoreResult<Self> {
        snapshot.check_readable(block)?;
        Ok(Self { snapshot, block })
    }

    /// The block whose post-state this is.
    pub const fn block(&self) -> u64 {
        self.block
    }

    /// The underlying snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
}

impl StateProvider for HistoricalState {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(self.snapshot.account_at(address, self.block)?.map(info))
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        Ok(self.snapshot.storage_at(address, slot, self.block)?)
    }
    fn code_by_hash(&self, hash: B256) -> Result<Bytecode, StateError> {
        code(&self.snapshot, hash)
    }
    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        if number > self.block {
            return Err(StateError::MissingBlockHash(number));
        }
        self.snapshot.block_hash(number)?.ok_or(StateError::MissingBlockHash(number))
    }
}

impl Store {
    /// The state at the current head.
    pub fn latest_state(&self) -> StoreResult<LatestState> {
        Ok(LatestState::new(Arc::new(self.snapshot()?)))
    }

    /// The state after block `block` (see [`HistoricalState::new`]).
    pub fn state_at(&self, block: u64) -> StoreResult<HistoricalState> {
        HistoricalState::new(Arc::new(self.snapshot()?), block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn providers_are_shareable() {
        assert_send_sync::<Snapshot>();
        assert_send_sync::<LatestState>();
        assert_send_sync::<HistoricalState>();
        assert_send_sync::<Store>();
    }
}
