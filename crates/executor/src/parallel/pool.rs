//! Running one job per thread for a phase of the parallel engine
//! (execution, assembly).
//!
//! Each phase starts its own scoped threads. The shared rayon pool was
//! tried: waking parked threads is cheaper than starting them, but its
//! threads spin while they wait for work, and on a 2-core machine the
//! spinning took cycles from the phases themselves (raw block, 2 threads:
//! 507M cycles with scoped threads, 580M-648M on the pool).

/// Runs `job(0)` on the calling thread and `job(1..threads)` on threads of
/// their own, and returns the results in order. A panicking job panics the
/// caller.
pub(crate) fn fan_out<R: Send>(threads: usize, job: impl Fn(usize) -> R + Sync) -> Vec<R> {
    if threads <= 1 {
        return vec![job(0)];
    }
    let job = &job;
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads).map(|k| s.spawn(move || job(k))).collect();
        let mut results = Vec::with_capacity(threads);
        results.push(job(0));
        for h in handles {
            match h.join() {
                Ok(r) => results.push(r),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    })
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
