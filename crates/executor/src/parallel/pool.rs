//! Running one job per thread for a phase of the parallel engine.
//!
//! Starting a thread costs tens of microseconds, and a block runs several
//! phases (execution, assembly, receipts); the shared rayon pool wakes a
//! parked thread instead. When more threads are asked for than the pool
//! has (tests run 8 threads on 2 cores to shake out races), the phase gets
//! threads of its own so that all jobs really run at once.

use std::sync::{Mutex, PoisonError};

/// Runs `job(0)` on the calling thread and `job(1..threads)` beside it;
/// returns the results in order. A panicking job panics the caller.
pub(crate) fn fan_out<R: Send>(threads: usize, job: impl Fn(usize) -> R + Sync) -> Vec<R> {
    if threads <= 1 {
        return vec![job(0)];
    }
    let slots: Vec<Mutex<Option<R>>> = (0..threads).map(|_| Mutex::new(None)).collect();
    let run = |k: usize| {
        let result = job(k);
        *slots[k].lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
    };
    let run = &run;
    if threads <= rayon::current_num_threads() {
        rayon::in_place_scope(|s| {
            for k in 1..threads {
                s.spawn(move |_| run(k));
            }
            run(0);
        });
    } else {
        std::thread::scope(|s| {
            for k in 1..threads {
                s.spawn(move || run(k));
            }
            run(0);
        });
    }
    slots.into_iter().filter_map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order() {
        for threads in [1, 2, 3, 16] {
            let out = fan_out(threads, |k| k * 10);
            assert_eq!(out, (0..threads).map(|k| k * 10).collect::<Vec<_>>());
        }
    }
}
