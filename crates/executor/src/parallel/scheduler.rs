//! The collaborative scheduler of Block-STM: threads pull execution and
//! validation tasks in transaction order; a transaction that reads an
//! ESTIMATE waits for its writer instead of re-running blindly.

use super::lock;
use std::sync::{
    Mutex,
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

/// The indices of the scheduler, on one cache line of their own.
///
/// Claiming a task touches several of them in a row, so together they move
/// between cores once per step instead of once per counter. When the cores
/// sit far apart (a transfer measured at 180 ns one way on the 2-core
/// machine in one of its placements) each transfer costs a tenth of a plain
/// value transfer's execution.
#[derive(Debug)]
#[repr(align(128))]
struct Counters {
    execution_idx: AtomicUsize,
    validation_idx: AtomicUsize,
    decrease_cnt: AtomicUsize,
}

/// The tasks one worker has in progress, on a line of its own: only that
/// worker changes it (twice per task), and others read it only when they
/// look for the end of the block. One count shared by all workers was a
/// line that moved between cores twice per transaction.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Active(AtomicUsize);

/// The end flag, on a line of its own: every worker reads it before each
/// task, and on the counters' line each read would fetch the line the
/// other threads just wrote.
#[derive(Debug)]
#[repr(align(128))]
struct Done(AtomicBool);

/// Shared scheduling state.
#[derive(Debug)]
pub(crate) struct Scheduler {
    len: usize,
    counters: Counters,
    done: Done,
    /// Per worker.
    active: Box<[Active]>,
    txs: Vec<TxSlot>,
}

impl Scheduler {
    /// A scheduler of `len` transactions for `workers` workers.
    pub(crate) fn new(len: usize, workers: usize) -> Self {
        Self {
            len,
            counters: Counters {
                execution_idx: AtomicUsize::new(0),
                validation_idx: AtomicUsize::new(0),
                decrease_cnt: AtomicUsize::new(0),
            },
            active: (0..workers.max(1)).map(|_| Active::default()).collect(),
            done: Done(AtomicBool::new(len == 0)),
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
        self.done.0.store(true, SeqCst);
    }

    /// Whether all work is finished.
    pub(crate) fn done(&self) -> bool {
        self.done.0.load(SeqCst)
    }

    fn decrease_execution_idx(&self, target: usize) {
        self.counters.execution_idx.fetch_min(target, SeqCst);
        self.counters.decrease_cnt.fetch_add(1, SeqCst);
    }

    /// Pulls the validation index back to `target`, counting the decrease
    /// on both sides of the move. After it: a thread checking for the end
    /// that read the index before the move sees the count change by the
    /// time the decreasing task is over ([`Scheduler::check_done`]).
    /// Before it: a committed incarnation that moved the index past itself
    /// and then finds the count unchanged knows that any decrease it did
    /// not see moves the index after its own move, back to it or below
    /// ([`Scheduler::finish_execution`]). Counting only before the move
    /// let the end be declared with the index pulled back (the last
    /// transactions of a block were then never validated again: found by
    /// the differential suite on 30,000 blocks).
    fn decrease_validation_idx(&self, target: usize) {
        self.counters.decrease_cnt.fetch_add(1, SeqCst);
        self.counters.validation_idx.fetch_min(target, SeqCst);
        self.counters.decrease_cnt.fetch_add(1, SeqCst);
    }

    /// Worker `w` starts a task.
    fn begin(&self, w: usize) {
        self.active[w].0.fetch_add(1, SeqCst);
    }

    /// Worker `w` finished a task.
    fn end(&self, w: usize) {
        self.active[w].0.fetch_sub(1, SeqCst);
    }

    /// Tasks in progress on all workers. The counts are read one after
    /// another, not as one snapshot: a task that starts after its worker's
    /// count was read claimed an index that was below the block's end when
    /// it claimed it, and any index below the end after the reader saw both
    /// indices at the end was pulled back by a decrease the reader counts.
    fn active_tasks(&self) -> usize {
        self.active.iter().map(|a| a.0.load(SeqCst)).sum()
    }

    fn check_done(&self) {
        let observed = self.counters.decrease_cnt.load(SeqCst);
        if self.counters.execution_idx.load(SeqCst).min(self.counters.validation_idx.load(SeqCst)) >= self.len
            && self.active_tasks() == 0
            && observed == self.counters.decrease_cnt.load(SeqCst)
        {
            self.done.0.store(true, SeqCst);
        }
    }

    /// Starts `tx`'s execution if it is ready; worker `w` has begun a task
    /// for it, which ends here if it is not.
    fn try_incarnate(&self, w: usize, tx: usize) -> Option<Task> {
        if tx < self.len {
            let mut s = lock(&self.txs[tx].0);
            if s.status == Status::ReadyToExecute {
                s.status = Status::Executing;
                return Some(Task::Execute(tx, s.incarnation));
            }
        }
        self.end(w);
        None
    }

    fn next_version_to_execute(&self, w: usize) -> Option<Task> {
        if self.counters.execution_idx.load(SeqCst) >= self.len {
            self.check_done();
            return None;
        }
        self.begin(w);
        let idx = self.counters.execution_idx.fetch_add(1, SeqCst);
        self.try_incarnate(w, idx)
    }

    /// Claims the validation of the transaction at the validation index
    /// if it has executed. The index does not pass a transaction that is
    /// still executing: when that one finishes it would have to pull the
    /// index back and revalidate everything validated above it.
    fn next_version_to_validate(&self, w: usize) -> Option<Task> {
        let idx = self.counters.validation_idx.load(SeqCst);
        if idx >= self.len {
            self.check_done();
            return None;
        }
        let s = lock(&self.txs[idx].0);
        if s.status != Status::Executed {
            return None;
        }
        self.begin(w);
        if self.counters.validation_idx.compare_exchange(idx, idx + 1, SeqCst, SeqCst).is_ok() {
            return Some(Task::Validate(idx, s.incarnation));
        }
        self.end(w);
        None
    }

    /// The next task for worker `w`, validation first when it is behind
    /// execution.
    pub(crate) fn next_task(&self, w: usize) -> Option<Task> {
        if self.counters.validation_idx.load(SeqCst) < self.counters.execution_idx.load(SeqCst)
            && let Some(task) = self.next_version_to_validate(w)
        {
            return Some(task);
        }
        self.next_version_to_execute(w)
    }

    /// Suspends `tx` until `blocking` finishes executing. Returns `false` if
    /// `blocking` already finished (then `tx` should re-execute at once).
    pub(crate) fn add_dependency(&self, w: usize, tx: usize, blocking: usize) -> bool {
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
        self.end(w);
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
    ///
    /// The loads are not one snapshot: another thread may claim the
    /// validation of the transaction just below `tx` between them, and
    /// abort it while `tx` runs. So this returns the count of index
    /// decreases it saw, and [`Scheduler::finish_execution`] skips the
    /// validation only if no decrease happened since.
    pub(crate) fn prefix_committed(&self, tx: usize) -> Option<usize> {
        let c = &self.counters;
        let decreases = c.decrease_cnt.load(SeqCst);
        let committed = c.execution_idx.load(SeqCst) == tx + 1
            && c.validation_idx.load(SeqCst) == tx
            && self.active_tasks() == 1
            && c.decrease_cnt.load(SeqCst) == decreases;
        committed.then_some(decreases)
    }

    /// Execution of `tx` finished; returns a validation task for it if the
    /// validation index has already passed it. `committed`: the incarnation
    /// started with [`Scheduler::prefix_committed`] true (and the decrease
    /// count it saw), so it is final if the validation index still waits
    /// at it and nothing was aborted since.
    pub(crate) fn finish_execution(
        &self,
        w: usize,
        tx: usize,
        incarnation: u32,
        wrote_new_location: bool,
        committed: Option<usize>,
    ) -> Option<Task> {
        let dependents = {
            let mut s = lock(&self.txs[tx].0);
            s.status = Status::Executed;
            std::mem::take(&mut s.dependents)
        };
        self.resume_dependencies(dependents);
        let validation_idx = self.counters.validation_idx.load(SeqCst);
        if let Some(decreases) = committed
            && validation_idx == tx
            && self.claim_own_validation(tx, incarnation)
        {
            // The index moved past `tx` before this load: a decrease not
            // counted yet comes after the move and pulls the index back to
            // `tx` or below, so `tx` is validated again.
            if self.counters.decrease_cnt.load(SeqCst) == decreases {
                self.end(w);
                return None;
            }
            return Some(Task::Validate(tx, incarnation));
        }
        if validation_idx > tx {
            if wrote_new_location {
                self.decrease_validation_idx(tx);
            } else {
                return Some(Task::Validate(tx, incarnation));
            }
        } else if validation_idx == tx && self.claim_own_validation(tx, incarnation) {
            // The validation index waits at this transaction: validate it
            // here, where its reads and writes are still in cache.
            return Some(Task::Validate(tx, incarnation));
        }
        self.end(w);
        None
    }

    /// Moves the validation index past `tx` for the incarnation that just
    /// finished, if it is still the transaction's current one. Checked
    /// under the transaction's lock, as [`Scheduler::next_task`] claims a
    /// validation: between setting `Executed` and this claim the thread
    /// may be preempted while another validates the incarnation, aborts it
    /// and runs the next one; claiming then would move the index past the
    /// new incarnation with only a no-op validation of the old one (found
    /// by the differential suite at 4 and 8 threads on 2 cores: a read of
    /// the sender's nonce that a lower transaction changed afterwards
    /// survived to the end).
    fn claim_own_validation(&self, tx: usize, incarnation: u32) -> bool {
        let s = lock(&self.txs[tx].0);
        s.status == Status::Executed
            && s.incarnation == incarnation
            && self.counters.validation_idx.compare_exchange(tx, tx + 1, SeqCst, SeqCst).is_ok()
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
    pub(crate) fn finish_validation(&self, w: usize, tx: usize, aborted: bool) -> Option<Task> {
        if aborted {
            {
                let mut s = lock(&self.txs[tx].0);
                s.incarnation += 1;
                s.status = Status::ReadyToExecute;
            }
            self.decrease_validation_idx(tx + 1);
            if self.counters.execution_idx.load(SeqCst) > tx {
                return self.try_incarnate(w, tx);
            }
        }
        self.end(w);
        None
    }
}
