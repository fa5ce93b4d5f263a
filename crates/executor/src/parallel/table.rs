//! The multi-version memory's hash table: entries are only ever added
//! during a block, each has a lock of its own, and finding one takes no
//! lock at all.
//!
//! A sharded map (one lock per shard) makes every access an atomic write to
//! its shard's lock; with the keys of a block spread over all shards, the
//! lock's cache line was last written by another core about half the time,
//! whatever the number of shards, even when no other transaction touches the
//! same account. Here a lookup only reads the bucket's chain, and the lock
//! taken is the entry's own, on the entry's lines, which only the
//! transactions that use that location touch.
//!
//! Buckets hold chains of nodes; each worker appends its nodes to an arena
//! of its own (a [`boxcar::Vec`], which never moves what it holds), so two
//! workers never write the same arena's counters. A link names the arena and
//! the node's index in it. Inserting appends a node and links it at the end
//! of its bucket's chain with a compare-and-swap; a worker that loses the race
//! walks on, and finds the key if the winner inserted the same key (its own
//! node then stays unlinked, unused).

use std::sync::{
    Mutex,
    atomic::{AtomicU64, Ordering},
};

/// Bits of a link that hold the node's index in its arena; the bits above
/// hold the arena's number plus one (a link of 0 is no node).
const INDEX_BITS: u32 = 40;

struct Node<K, V> {
    key: K,
    /// The next node of the chain.
    next: AtomicU64,
    value: Mutex<V>,
}

/// A concurrent, insert-only hash map from `K` to `Mutex<V>`, for a fixed
/// number of workers. Callers pass each key's hash (they compute it once
/// for this table and a filter).
pub(crate) struct Table<K, V> {
    heads: Box<[AtomicU64]>,
    mask: u64,
    arenas: Box<[boxcar::Vec<Node<K, V>>]>,
}

impl<K: Copy + Eq, V: Default> Table<K, V> {
    /// A table of about `entries` entries (a power of two of buckets at
    /// least that many; chains grow past it) for `workers` workers.
    pub(crate) fn new(entries: usize, workers: usize) -> Self {
        let buckets = entries.max(16).next_power_of_two();
        Self {
            heads: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            mask: buckets as u64 - 1,
            arenas: (0..workers.max(1)).map(|_| boxcar::Vec::new()).collect(),
        }
    }

    /// The node a link names, `None` for the end of a chain. A link is
    /// published only after its node is in the arena, so a link that names
    /// no node is a broken invariant: it panics (rather than ending a chain
    /// early, which would lose entries, or spinning on a link that can
    /// never be swapped).
    fn node(&self, link: u64) -> Option<&Node<K, V>> {
        let arena = (link >> INDEX_BITS).checked_sub(1)?;
        Some(&self.arenas[arena as usize][(link & ((1 << INDEX_BITS) - 1)) as usize])
    }

    fn head(&self, hash: u64) -> &AtomicU64 {
        &self.heads[(hash & self.mask) as usize]
    }

    /// The entry of `key`, if one was inserted.
    pub(crate) fn get(&self, key: &K, hash: u64) -> Option<&Mutex<V>> {
        let mut link = self.head(hash).load(Ordering::Acquire);
        while let Some(node) = self.node(link) {
            if node.key == *key {
                return Some(&node.value);
            }
            link = node.next.load(Ordering::Acquire);
        }
        None
    }

    /// The entry of `key`, inserted (with a default value) by `worker` if
    /// there is none.
    pub(crate) fn get_or_insert(&self, worker: usize, key: K, hash: u64) -> &Mutex<V> {
        let mut at = self.head(hash);
        // The node this worker appended for `key`, not linked yet.
        let mut mine: Option<(u64, &Node<K, V>)> = None;
        loop {
            let link = at.load(Ordering::Acquire);
            if let Some(node) = self.node(link) {
                if node.key == key {
                    return &node.value;
                }
                at = &node.next;
                continue;
            }
            let (new, node) = *mine.get_or_insert_with(|| {
                let arena = worker.min(self.arenas.len() - 1);
                let nodes = &self.arenas[arena];
                let index =
                    nodes.push(Node { key, next: AtomicU64::new(0), value: Mutex::new(V::default()) });
                (((arena as u64 + 1) << INDEX_BITS) | index as u64, &nodes[index])
            });
            // On failure another node was linked here: walk on from it (it
            // may hold the same key).
            if at.compare_exchange(0, new, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return &node.value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{super::lock, *};

    #[test]
    fn finds_what_was_inserted_and_nothing_else() {
        let table: Table<u64, u64> = Table::new(8, 1);
        // Hash 0 for every key: one long chain.
        for k in 0..100u64 {
            *lock(table.get_or_insert(0, k, 0)) = k * 2;
        }
        for k in 0..100u64 {
            let v = table.get(&k, 0).map(|m| *lock(m));
            assert_eq!(v, Some(k * 2));
        }
        assert!(table.get(&100, 0).is_none());
        // Inserting again finds the entry.
        let again = *lock(table.get_or_insert(0, 7, 0));
        assert_eq!(again, 14);
    }

    #[test]
    fn concurrent_inserts_of_the_same_keys_share_one_entry() {
        let workers = 4;
        let table: Table<u64, u64> = Table::new(64, workers);
        std::thread::scope(|s| {
            for w in 0..workers {
                let table = &table;
                s.spawn(move || {
                    for k in 0..2_000u64 {
                        // Few buckets for many keys: long chains, races.
                        let entry = table.get_or_insert(w, k, k % 7);
                        *lock(entry) += 1;
                    }
                });
            }
        });
        for k in 0..2_000u64 {
            let v = table.get(&k, k % 7).map(|m| *lock(m));
            assert_eq!(v, Some(workers as u64), "key {k}");
        }
    }
}
