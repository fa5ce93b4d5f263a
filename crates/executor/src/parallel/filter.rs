//! A concurrent Bloom filter of the locations written to the multi-version
//! memory.
//!
//! Most reads are of locations no transaction has written (an account or a
//! slot touched for the first time in the block). Asking the large tables
//! about them costs a cache miss each; this filter, small enough to stay in
//! a core's cache, answers "never written" for nearly all of them. A read
//! that races the write it should have seen is caught by validation, as any
//! read that runs before a lower transaction's write.

use std::sync::atomic::{AtomicU64, Ordering};

/// Two bits per key in a power-of-two bit array.
#[derive(Debug)]
pub(crate) struct Filter {
    words: Vec<AtomicU64>,
    /// log2 of the number of bits.
    bits: u32,
}

impl Filter {
    /// A filter for about `keys` keys: 16 bits per key (under 1% false
    /// positives), between 4 Kib and 2 Mib.
    pub(crate) fn new(keys: usize) -> Self {
        let bits = (keys.max(1) * 16).next_power_of_two().trailing_zeros().clamp(12, 21);
        Self { words: (0..(1usize << bits) / 64).map(|_| AtomicU64::new(0)).collect(), bits }
    }

    fn positions(&self, hash: u64) -> [usize; 2] {
        let mask = (1u64 << self.bits) - 1;
        [(hash & mask) as usize, ((hash >> (64 - self.bits)) & mask) as usize]
    }

    /// Records a key by its hash (after the key's entry is in the table).
    pub(crate) fn insert(&self, hash: u64) {
        for bit in self.positions(hash) {
            let word = &self.words[bit / 64];
            let flag = 1u64 << (bit % 64);
            if word.load(Ordering::Relaxed) & flag == 0 {
                word.fetch_or(flag, Ordering::Release);
            }
        }
    }

    /// Whether a key may have been inserted; `false` is certain.
    pub(crate) fn may_contain(&self, hash: u64) -> bool {
        self.positions(hash)
            .iter()
            .all(|bit| self.words[bit / 64].load(Ordering::Acquire) & (1u64 << (bit % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_keys_are_found_and_few_others() {
        let filter = Filter::new(10_000);
        // splitmix64: a well-mixed hash, as the tables' hashers are.
        let hash = |i: u64| {
            let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        for i in 0..10_000 {
            filter.insert(hash(i));
        }
        assert!((0..10_000).all(|i| filter.may_contain(hash(i))));
        let false_positives = (10_000..110_000).filter(|i| filter.may_contain(hash(*i))).count();
        assert!(false_positives < 2_000, "{false_positives} false positives in 100000");
    }
}
