//! A cache of decoded bytecode shared by every snapshot of a store. Code is
//! addressed by its hash and never changes, so entries stay valid across
//! commits and unwinds; decoding (and revm's jump-table analysis) then runs
//! once per contract instead of once per transaction that calls it.

use alloy_primitives::{B256, map::HashMap};
use mosaic_executor::Bytecode;
use std::sync::RwLock;

/// Bytes of code kept before the cache is emptied and refilled.
const LIMIT_BYTES: usize = 64 << 20;

/// Decoded code by hash, bounded in total size.
#[derive(Debug, Default)]
pub(crate) struct CodeCache {
    inner: RwLock<(HashMap<B256, Bytecode>, usize)>,
}

impl CodeCache {
    /// The cached code for `hash`.
    pub(crate) fn get(&self, hash: &B256) -> Option<Bytecode> {
        // A poisoned lock only means a panic elsewhere; the map itself is intact.
        let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
        guard.0.get(hash).cloned()
    }

    /// Remembers `code`; empties the cache first when it is full.
    pub(crate) fn insert(&self, hash: B256, code: &Bytecode) {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let (map, bytes) = &mut *guard;
        if *bytes + code.len() > LIMIT_BYTES {
            map.clear();
            *bytes = 0;
        }
        if map.insert(hash, code.clone()).is_none() {
            *bytes += code.len();
        }
    }
}
