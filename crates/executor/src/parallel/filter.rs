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

/// Two bits per key, both in one 64-bit word of a power-of-two array: a
/// key costs one atomic word (one cache line that may have to come from
/// the other core) to record or test, not two.
#[derive(Debug)]
pub(crate) struct Filter {
    words: Vec<AtomicU64>,
    /// log2 of the number of words.
    word_bits: u32,
}

impl Filter {
    /// A filter for about `keys` keys: 16 bits per key (about 1% false
    /// positives), between 4 Kib and 2 Mib.
    pub(crate) fn new(keys: usize) -> Self {
        let bits = (keys.max(1) * 16).next_power_of_two().trailing_zeros().clamp(12, 21);
        let word_bits = bits - 6;
        Self { words: (0..1usize << word_bits).map(|_| AtomicU64::new(0)).collect(), word_bits }
    }

    /// The word and the two bits of a key.
    fn position(&self, hash: u64) -> (&AtomicU64, u64) {
        let word = (hash >> (64 - self.word_bits)) as usize;
        let flags = (1u64 << (hash & 63)) | (1u64 << ((hash >> 6) & 63));
        (&self.words[word], flags)
    }

    /// Records a key by its hash (after the key's entry is in the table).
    pub(crate) fn insert(&self, hash: u64) {
        let (word, flags) = self.position(hash);
        if word.load(Ordering::Relaxed) & flags != flags {
            word.fetch_or(flags, Ordering::Release);
        }
    }

    /// Whether a key may have been inserted; `false` is certain.
    pub(crate) fn may_contain(&self, hash: u64) -> bool {
        let (word, flags) = self.position(hash);
        word.load(Ordering::Acquire) & flags == flags
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
