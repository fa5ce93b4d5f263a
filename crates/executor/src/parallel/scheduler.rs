//! The collaborative scheduler of Block-STM: threads pull execution and
//! validation tasks in transaction order; a transaction that reads an
//! ESTIMATE waits for its writer instead of re-running blindly.

use std::sync::{
    Mutex, MutexGuard, PoisonError,
    atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
};

/// Work for a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Task {
    /// Execute incarnation `.1` of transaction `.0`.
    Execute(usize, u32),
    /// Validate incarnation `.1` of transaction `.0`.
    Validate(usize, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    ReadyToExecute,
    Executing,
    Executed,
    Aborting,
}

#[derive(Debug)]
struct TxState {
    incarnation: u32,
    status: Status,
    /// Transactions suspended until this one finishes executing.
    dependents: Vec<usize>,
}

/// A transaction's state with its lock, on a cache line of its own:
/// neighbouring transactions usually run on different threads.
#[derive(Debug)]
#[repr(align(64))]
struct TxSlot(Mutex<TxState>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The counters of the scheduler, on one cache line of their own.
///
/// Claiming a task touches several of them in a row (the active count and
/// an index, then an index and the active count again when it finishes),
/// so together they move between cores once per step instead of once per
/// counter. When the cores sit far apart (a transfer measured at 180 ns
/// one way on the 2-core machine in one of its placements) that is most of
/// what scheduling a plain transfer costs.
#[derive(Debug)]
#[repr(align(128))]
struct Counters {
    execution_idx: AtomicUsize,
    validation_idx: AtomicUsize,
    decrease_cnt: AtomicUsize,
    active_tasks: AtomicUsize,
    done: AtomicBool,
}

/// Shared scheduling state.
#[derive(Debug)]
pub(crate) struct Scheduler {
    len: usize,
    counters: Counters,
    txs: Vec<TxSlot>,
}

impl Scheduler {
    pub(crate) fn new(len: usize) -> Self {
        Self {
            len,
            counters: Counters {
                execution_idx: AtomicUsize::new(0),
                validation_idx: AtomicUsize::new(0),
                decrease_cnt: AtomicUsize::new(0),
                active_tasks: AtomicUsize::new(0),
                done: AtomicBool::new(len == 0),
            },
            txs: (0..len)
                .map(|_| {
                    TxSlot(Mutex::new(TxState {
                        incarnation: 0,
                        status: Status::ReadyToExecute,
                        dependents: Vec::new(),
                    }))
                })
                .collect(),
        }
    }

    /// Stops all workers (a fatal error).
    pub(crate) fn halt(&self) {
        self.counters.done.store(true, SeqCst);
    }

    /// Whether all work is finished.
    pub(crate) fn done(&self) -> bool {
        self.counters.done.load(SeqCst)
    }

    fn decrease_execution_idx(&self, target: usize) {
        self.counters.execution_idx.fetch_min(target, SeqCst);
        self.counters.decrease_cnt.fetch_add(1, SeqCst);
    }

    fn decrease_validation_idx(&self, target: usize) {
        self.counters.validation_idx.fetch_min(target, SeqCst);
        self.counters.decrease_cnt.fetch_add(1, SeqCst);
    }

    fn check_done(&self) {
        let observed = self.counters.decrease_cnt.load(SeqCst);
        if self.counters.execution_idx.load(SeqCst).min(self.counters.validation_idx.load(SeqCst)) >= self.len
            && self.counters.active_tasks.load(SeqCst) == 0
            && observed == self.counters.decrease_cnt.load(SeqCst)
        {
            self.counters.done.store(true, SeqCst);
        }
    }

    fn try_incarnate(&self, tx: usize) -> Option<Task> {
        if tx < self.len {
            let mut s = lock(&self.txs[tx].0);
            if s.status == Status::ReadyToExecute {
                s.status = Status::Executing;
                return Some(Task::Execute(tx, s.incarnation));
            }
        }
        self.counters.active_tasks.fetch_sub(1, SeqCst);
        None
    }

    fn next_version_to_execute(&self) -> Option<Task> {
        if self.counters.execution_idx.load(SeqCst) >= self.len {
            self.check_done();
            return None;
        }
        self.counters.active_tasks.fetch_add(1, SeqCst);
        let idx = self.counters.execution_idx.fetch_add(1, SeqCst);
        self.try_incarnate(idx)
    }

    /// Claims the validation of the transaction at the validation index
    /// if it has executed. The index does not pass a transaction that is
    /// still executing: when that one finishes it would have to pull the
    /// index back and revalidate everything validated above it.
    fn next_version_to_validate(&self) -> Option<Task> {
        let idx = self.counters.validation_idx.load(SeqCst);
        if idx >= self.len {
            self.check_done();
            return None;
        }
        let s = lock(&self.txs[idx].0);
        if s.status != Status::Executed {
            return None;
        }
        self.counters.active_tasks.fetch_add(1, SeqCst);
        if self.counters.validation_idx.compare_exchange(idx, idx + 1, SeqCst, SeqCst).is_ok() {
            return Some(Task::Validate(idx, s.incarnation));
        }
        self.counters.active_tasks.fetch_sub(1, SeqCst);
        None
    }

    /// The next task, validation first when it is behind execution.
    pub(crate) fn next_task(&self) -> Option<Task> {
        if self.counters.validation_idx.load(SeqCst) < self.counters.execution_idx.load(SeqCst)
            && let Some(task) = self.next_version_to_validate()
        {
            return Some(task);
        }
        self.next_version_to_execute()
    }

    /// Suspends `tx` until `blocking` finishes executing. Returns `false` if
    /// `blocking` already finished (then `tx` should re-execute at once).
    pub(crate) fn add_dependency(&self, tx: usize, blocking: usize) -> bool {
        let mut b = lock(&self.txs[blocking].0);
        if b.status == Status::Executed {
            return false;
        }
        {
            let mut s = lock(&self.txs[tx].0);
            s.status = Status::Aborting;
        }
        b.dependents.push(tx);
        drop(b);
        self.counters.active_tasks.fetch_sub(1, SeqCst);
        true
    }

    fn resume_dependencies(&self, dependents: Vec<usize>) {
        let mut min = usize::MAX;
        for d in dependents {
            let mut s = lock(&self.txs[d].0);
            if s.status == Status::Aborting {
                s.incarnation += 1;
                s.status = Status::ReadyToExecute;
                min = min.min(d);
            }
        }
        if min != usize::MAX {
            self.decrease_execution_idx(min);
        }
    }

    /// Whether every transaction below `tx` is final, checked by the task
    /// about to execute `tx`: no other task is running, `tx` is the last
    /// transaction handed out for execution (so every lower one has
    /// executed: one waiting for re-execution or for a dependency would
    /// have pulled the execution index back, or be some task's work), and
    /// the validation index, which never passes a transaction that has not
    /// executed and is pulled back by every abort, stands at `tx`. An
    /// incarnation that starts then reads only final values and needs no
    /// validation (one thread always finds this true).
    pub(crate) fn prefix_committed(&self, tx: usize) -> bool {
        let decreases = self.counters.decrease_cnt.load(SeqCst);
        self.counters.active_tasks.load(SeqCst) == 1
            && self.counters.execution_idx.load(SeqCst) == tx + 1
            && self.counters.validation_idx.load(SeqCst) == tx
            && self.counters.decrease_cnt.load(SeqCst) == decreases
    }

    /// Execution of `tx` finished; returns a validation task for it if the
    /// validation index has already passed it. `committed`: the incarnation
    /// started with [`Scheduler::prefix_committed`] true, so it is final if
    /// the validation index still waits at it.
    pub(crate) fn finish_execution(
        &self,
        tx: usize,
        incarnation: u32,
        wrote_new_location: bool,
        committed: bool,
    ) -> Option<Task> {
        let dependents = {
            let mut s = lock(&self.txs[tx].0);
            s.status = Status::Executed;
            std::mem::take(&mut s.dependents)
        };
        self.resume_dependencies(dependents);
        let validation_idx = self.counters.validation_idx.load(SeqCst);
        if committed
            && validation_idx == tx
            && self.counters.validation_idx.compare_exchange(tx, tx + 1, SeqCst, SeqCst).is_ok()
        {
            self.counters.active_tasks.fetch_sub(1, SeqCst);
            return None;
        }
        if validation_idx > tx {
            if wrote_new_location {
                self.decrease_validation_idx(tx);
            } else {
                return Some(Task::Validate(tx, incarnation));
            }
        } else if validation_idx == tx
            && self.counters.validation_idx.compare_exchange(tx, tx + 1, SeqCst, SeqCst).is_ok()
        {
            // The validation index waits at this transaction: validate it
            // here, where its reads and writes are still in cache.
            return Some(Task::Validate(tx, incarnation));
        }
        self.counters.active_tasks.fetch_sub(1, SeqCst);
        None
    }

    /// Claims the abort of a failed validation; only one validator wins.
    pub(crate) fn try_validation_abort(&self, tx: usize, incarnation: u32) -> bool {
        let mut s = lock(&self.txs[tx].0);
        if s.incarnation == incarnation && s.status == Status::Executed {
            s.status = Status::Aborting;
            true
        } else {
            false
        }
    }

    /// Validation of `tx` finished; after an abort, returns its re-execution.
    pub(crate) fn finish_validation(&self, tx: usize, aborted: bool) -> Option<Task> {
        if aborted {
            {
                let mut s = lock(&self.txs[tx].0);
                s.incarnation += 1;
                s.status = Status::ReadyToExecute;
            }
            self.decrease_validation_idx(tx + 1);
            if self.counters.execution_idx.load(SeqCst) > tx {
                return self.try_incarnate(tx);
            }
        }
        self.counters.active_tasks.fetch_sub(1, SeqCst);
        None
    }
}
