//! The beneficiary's fee from each transaction, kept apart from the
//! multi-version memory.
//!
//! Every transaction owes the beneficiary a fee, so as an ordinary balance
//! credit it would be one location written by all transactions (a cache
//! line that every thread fights over). Here each transaction has its own
//! slot, written only by the thread that executes it (or, when it is
//! aborted, by the validator that marks it ESTIMATE), and read without a
//! lock: a sequence counter tells a reader that it raced a write. A read
//! of the beneficiary's balance sums the slots below it, which is rare.

use alloy_primitives::U256;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

const UNSET: u64 = 0;
const ESTIMATE: u64 = 1;
const PAID: u64 = 2;

/// What a transaction's slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fee {
    /// Not executed yet.
    Unset,
    /// Its incarnation was aborted; the next will likely pay again.
    Estimate,
    /// Paid by this incarnation (zero when the fee went into an absolute
    /// balance write, or there was none).
    Paid(u32, U256),
}

/// On a cache line of its own: neighbouring transactions usually run on
/// different threads.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Slot {
    /// Odd while a write is in progress.
    seq: AtomicU32,
    /// Incarnation in the high bits, state in the low two.
    state: AtomicU64,
    limbs: [AtomicU64; 4],
}

/// One fee slot per transaction.
#[derive(Debug)]
pub(crate) struct Fees {
    slots: Vec<Slot>,
}

impl Fees {
    pub(crate) fn new(txs: usize) -> Self {
        Self { slots: (0..txs).map(|_| Slot::default()).collect() }
    }

    /// Writes a slot; one writer per slot at a time (the scheduler's
    /// guarantee for a transaction's execution and abort).
    fn store(&self, tx: usize, state: u64, value: U256) {
        let slot = &self.slots[tx];
        let seq = slot.seq.load(Ordering::Relaxed);
        slot.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        for (limb, v) in slot.limbs.iter().zip(value.as_limbs()) {
            limb.store(*v, Ordering::Relaxed);
        }
        slot.state.store(state, Ordering::Relaxed);
        slot.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Records the fee `tx`'s incarnation owes.
    pub(crate) fn pay(&self, tx: usize, incarnation: u32, fee: U256) {
        self.store(tx, (u64::from(incarnation) << 2) | PAID, fee);
    }

    /// Marks `tx`'s fee as an estimate (its incarnation was aborted).
    pub(crate) fn mark_estimate(&self, tx: usize) {
        self.store(tx, ESTIMATE, U256::ZERO);
    }

    /// A consistent read of `tx`'s slot.
    pub(crate) fn get(&self, tx: usize) -> Fee {
        let slot = &self.slots[tx];
        loop {
            let before = slot.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let state = slot.state.load(Ordering::Relaxed);
            let limbs = slot.limbs.each_ref().map(|l| l.load(Ordering::Relaxed));
            fence(Ordering::Acquire);
            if slot.seq.load(Ordering::Relaxed) != before {
                continue;
            }
            return match state & 3 {
                UNSET => Fee::Unset,
                ESTIMATE => Fee::Estimate,
                _ => Fee::Paid((state >> 2) as u32, U256::from_limbs(limbs)),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_keep_the_last_write() {
        let fees = Fees::new(3);
        assert_eq!(fees.get(0), Fee::Unset);
        fees.pay(1, 4, U256::MAX - U256::from(7));
        assert_eq!(fees.get(1), Fee::Paid(4, U256::MAX - U256::from(7)));
        fees.mark_estimate(1);
        assert_eq!(fees.get(1), Fee::Estimate);
        fees.pay(1, 5, U256::ZERO);
        assert_eq!(fees.get(1), Fee::Paid(5, U256::ZERO));
        assert_eq!(fees.get(2), Fee::Unset);
    }

    #[test]
    fn readers_never_see_a_torn_value() {
        let fees = Fees::new(1);
        let values = [U256::ZERO, U256::MAX];
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..20_000u32 {
                    fees.pay(0, i, values[i as usize % 2]);
                }
            });
            for _ in 0..20_000 {
                if let Fee::Paid(_, v) = fees.get(0) {
                    assert!(values.contains(&v), "torn read {v}");
                }
            }
        });
    }
}
