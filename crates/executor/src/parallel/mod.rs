//! The parallel engine: optimistic Block-STM over revm, with lazy credits for
//! the beneficiary's fees and plain value transfers.
//!
//! Each transaction runs speculatively against [`mv::MvMemory`]; its reads
//! are recorded with the versions they saw and later validated; a
//! transaction whose reads changed is re-executed, and one that reads an
//! aborted write (ESTIMATE) waits for the writer. The result is exactly the
//! sequential one: the final state is folded from the write sets of the
//! final incarnations, in transaction order.

mod assemble;
mod db;
mod fees;
mod filter;
mod handler;
mod mv;
mod pool;
mod scheduler;
mod table;
mod writes;

use crate::{StateError, StateProvider};
use alloy_primitives::{Address, B256, U256, map::AddressMap};
pub(crate) use assemble::Assembled;
use dashmap::DashMap;
use db::{BaseValue, Observed, ReadError, TxDb, reads_valid};
use handler::LazyRewardHandler;
use mv::{Loc, MvMemory, Written};
use revm::{
    Context, ExecuteEvm, MainBuilder, MainContext,
    bytecode::Bytecode,
    context::{BlockEnv, CfgEnv, ContextSetters, result::EVMError},
    handler::{Handler, MainnetContext, MainnetEvm},
    primitives::{TxKind, eip4844::GAS_PER_BLOB},
};
use scheduler::{Scheduler, Task};
use std::sync::{Mutex, PoisonError};

use crate::{ExecTx, TxOutcome};

/// The final incarnation of one transaction.
#[derive(Debug)]
pub(crate) struct TxRun {
    incarnation: u32,
    /// The outcome with its receipt (the block's cumulative gas not yet
    /// filled in), or why the transaction is invalid at its position. It
    /// is built by the thread that ran the incarnation, where the logs are
    /// still in cache.
    pub(crate) result: Result<TxOutcome, String>,
    /// `None`: not kept, as the incarnation is final (it started with every
    /// lower transaction final, and no other thread runs); a validation of
    /// it, which never happens then, would fail and re-execute it.
    reads: Option<Vec<(Loc, Observed)>>,
    /// Sorted by [`assemble::write_order`].
    writes: Vec<(Loc, Written)>,
    /// Base-state values of the locations it wrote, with the index of the
    /// write each belongs to, in write order.
    base_reads: Vec<(u32, BaseValue)>,
    /// Fee credited to the beneficiary outside `writes`.
    fee: U256,
    /// Lower transactions whose writes it read.
    pub(crate) dependencies: Vec<u32>,
    /// Hashes of the code it deployed.
    deployed: Vec<B256>,
}

/// A transaction's final incarnation, where its thread left it (they are
/// not moved out: a block's runs are tens of megabytes).
pub(crate) type RunSlot = Mutex<Option<TxRun>>;

/// The run in `slot`, which the caller owns exclusively.
pub(crate) fn slot_run(slot: &mut RunSlot) -> Option<&mut TxRun> {
    slot.get_mut().unwrap_or_else(PoisonError::into_inner).as_mut()
}

/// The hashes of the code the final incarnations deployed.
fn deployed_code(runs: &mut [RunSlot]) -> alloy_primitives::map::HashSet<B256> {
    runs.iter_mut().filter_map(slot_run).flat_map(|run| run.deployed.iter().copied()).collect()
}

/// What the parallel part produced.
pub(crate) struct ParallelRun {
    /// Every slot holds a run.
    pub(crate) runs: Vec<RunSlot>,
    pub(crate) state: Assembled,
    pub(crate) codes: Vec<(B256, Bytecode)>,
    pub(crate) reexecutions: usize,
    /// What is left to free: the multi-version memory and the scheduler.
    /// The caller frees it beside its own remaining work (as it does the
    /// runs, once it has taken their outcomes).
    pub(crate) waste: Box<dyn Send>,
}

type Codes = DashMap<B256, Bytecode, alloy_primitives::map::DefaultHashBuilder>;

struct Shared<'a, S> {
    base: &'a S,
    txs: &'a [ExecTx],
    cfg: &'a CfgEnv,
    block: &'a BlockEnv,
    mv: MvMemory,
    codes: Codes,
    scheduler: Scheduler,
    runs: Vec<RunSlot>,
    fatal: Mutex<Option<StateError>>,
    /// One thread runs the block.
    single: bool,
}

/// What one worker did (kept per thread: shared counters would be two more
/// contended cache lines per transaction).
#[derive(Debug, Default)]
struct Counts {
    executions: usize,
    validations: usize,
}

type WorkerEvm<'a, S> = MainnetEvm<MainnetContext<TxDb<'a, S>>>;

/// Locks `m`; a lock poisoned by a panicking worker is taken anyway (the
/// panic itself reaches the caller).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<'a, S: StateProvider> Shared<'a, S> {
    /// Worker `w`'s loop.
    fn worker(&'a self, w: usize) -> Counts {
        let mut counts = Counts::default();
        let db = TxDb {
            base: self.base,
            mv: &self.mv,
            new_codes: &self.codes,
            tx: 0,
            reads: Vec::new(),
            sources: Vec::new(),
            loaded: AddressMap::default(),
            credit_born: Vec::new(),
            lazy_candidate: None,
            lazy_active: false,
            base_reads: Vec::new(),
        };
        let mut evm: WorkerEvm<'a, S> = Context::mainnet()
            .with_db(db)
            .with_cfg(self.cfg.clone())
            .with_block(self.block.clone())
            .build_mainnet();
        let mut task = None;
        let mut idle = 0u32;
        while !self.scheduler.done() {
            task = match task.or_else(|| self.scheduler.next_task(w)) {
                Some(Task::Execute(tx, inc)) => {
                    idle = 0;
                    self.execute(&mut evm, w, tx, inc, &mut counts)
                }
                Some(Task::Validate(tx, inc)) => {
                    idle = 0;
                    self.validate(w, tx, inc, &mut counts)
                }
                None => {
                    // Waiting for another thread's transaction: spin a
                    // little, then let the machine run something else (the
                    // awaited thread itself, when the cores are shared).
                    idle += 1;
                    if idle < 64 {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                    None
                }
            };
        }
        counts
    }

    fn execute(
        &self,
        evm: &mut WorkerEvm<'a, S>,
        w: usize,
        tx: usize,
        incarnation: u32,
        counts: &mut Counts,
    ) -> Option<Task> {
        let input = &self.txs[tx];
        let env = &input.env;
        let lazy_candidate = match env.kind {
            TxKind::Call(to)
                if to != env.caller && !env.value.is_zero() && env.authorization_list.is_empty() =>
            {
                Some(to)
            }
            _ => None,
        };
        loop {
            counts.executions += 1;
            let mut deployed = Vec::new();
            let committed = self.scheduler.prefix_committed(tx);
            evm.ctx.journaled_state.database.reset(tx, lazy_candidate);
            evm.ctx.set_tx(env.clone());
            let mut handler = LazyRewardHandler::<WorkerEvm<'a, S>, ReadError>::default();
            let result = handler.run(evm);
            let state = evm.finalize();
            let db = &mut evm.ctx.journaled_state.database;
            let (result, writes, fee) = match result {
                Err(EVMError::Database(ReadError::Blocked(blocking))) => {
                    if self.scheduler.add_dependency(w, tx, blocking) {
                        return None;
                    }
                    continue;
                }
                Err(EVMError::Database(ReadError::State(e))) => {
                    lock(&self.fatal).get_or_insert(e);
                    self.scheduler.halt();
                    return None;
                }
                Err(EVMError::Transaction(e)) => (Err(e.to_string()), Vec::new(), U256::ZERO),
                Err(e) => {
                    lock(&self.fatal).get_or_insert(StateError::Backend(format!("evm: {e}")));
                    self.scheduler.halt();
                    return None;
                }
                Ok(r) => {
                    let gas = r.tx_gas_used();
                    let blob_gas = env.blob_hashes.len() as u64 * GAS_PER_BLOB;
                    let r = crate::sequential::outcome(r, input.tx_type, gas, 0, blob_gas);
                    // A zero reward still touches the beneficiary, and
                    // EIP-161 clears it if it is empty: read it (a real
                    // dependency) only in that rare case.
                    let beneficiary = self.block.beneficiary;
                    let mut cleared = false;
                    let in_state = state.get(&beneficiary);
                    if handler.fee.get().is_zero()
                        && !in_state.is_some_and(|a| a.is_touched())
                        && self.cfg.spec.is_enabled_in(revm::primitives::hardfork::SpecId::SPURIOUS_DRAGON)
                    {
                        let loaded = match in_state {
                            Some(a) if a.is_loaded_as_not_existing() => Ok(None),
                            Some(a) => Ok(Some(a.info.clone())),
                            None => revm::Database::basic(db, beneficiary),
                        };
                        match loaded {
                            Err(ReadError::Blocked(blocking)) => {
                                if self.scheduler.add_dependency(w, tx, blocking) {
                                    return None;
                                }
                                continue;
                            }
                            Err(ReadError::State(e)) => {
                                lock(&self.fatal).get_or_insert(e);
                                self.scheduler.halt();
                                return None;
                            }
                            Ok(Some(info)) => cleared = info.is_empty(),
                            Ok(None) => {}
                        }
                    }
                    let cx = writes::WriteContext {
                        loaded: &db.loaded,
                        credit_born: &db.credit_born,
                        lazy: db.lazy_active.then_some(lazy_candidate).flatten(),
                        beneficiary: self.block.beneficiary,
                        fee: handler.fee.get(),
                    };
                    let (mut set, fee) = writes::write_set(state, &cx, &self.codes, &mut deployed);
                    if cleared {
                        set.push((Loc::Account(beneficiary), Written::Account(None)));
                        set.push((Loc::Balance(beneficiary), Written::Balance(U256::ZERO)));
                        set.push((Loc::Wipe(beneficiary), Written::Wipe));
                    }
                    set.sort_unstable_by_key(|(loc, _)| assemble::write_order(loc));
                    (Ok(r), set, fee)
                }
            };
            db.sources.sort_unstable();
            db.sources.dedup();
            let dependencies = db.sources.iter().map(|&d| d as u32).collect();
            // One thread alone runs every incarnation with all lower ones
            // final: its reads stay in the thread's list, reused, instead
            // of being moved into the run.
            let reads =
                if self.single && committed.is_some() { None } else { Some(std::mem::take(&mut db.reads)) };
            let base_reads = assemble::written_base_reads(&mut db.base_reads, &writes);
            let mut slot = lock(&self.runs[tx]);
            self.mv.write(w, tx, incarnation, &writes);
            self.mv.pay_fee(tx, incarnation, fee);
            // The previous incarnation is looked at where it lies (a run is
            // over 500 bytes: moving it out and back costs cache misses).
            let previous = slot.as_ref().map_or(&[][..], |p| &p.writes[..]);
            let wrote_new = writes.iter().any(|(loc, _)| !previous.iter().any(|(l, _)| l == loc));
            for (loc, _) in previous {
                if !writes.iter().any(|(l, _)| l == loc) {
                    self.mv.remove(loc, tx);
                }
            }
            let run = TxRun { incarnation, result, reads, writes, base_reads, fee, dependencies, deployed };
            *slot = Some(run);
            drop(slot);
            return self.scheduler.finish_execution(w, tx, incarnation, wrote_new, committed);
        }
    }

    fn validate(&self, w: usize, tx: usize, incarnation: u32, counts: &mut Counts) -> Option<Task> {
        counts.validations += 1;
        let valid = {
            let slot = lock(&self.runs[tx]);
            match slot.as_ref() {
                Some(run) if run.incarnation == incarnation => {
                    run.reads.as_ref().is_some_and(|reads| reads_valid(&self.mv, tx, reads))
                }
                _ => true,
            }
        };
        let aborted = !valid && self.scheduler.try_validation_abort(tx, incarnation);
        if aborted && let Some(run) = lock(&self.runs[tx]).as_ref() {
            self.mv.mark_estimate(tx, &run.writes);
        }
        self.scheduler.finish_validation(w, tx, aborted)
    }
}

/// Runs `txs` with Block-STM on `threads` threads over `base`; the final
/// state of the accounts for which `cached` holds comes back as values, of
/// the others as canonical diffs.
pub(crate) fn run<S: StateProvider>(
    base: &S,
    txs: &[ExecTx],
    cfg: &CfgEnv,
    block: &BlockEnv,
    threads: usize,
    cached: &(dyn Fn(&Address) -> bool + Sync),
) -> Result<ParallelRun, StateError> {
    let threads = threads.clamp(1, txs.len().max(1));
    let shared = Shared {
        base,
        txs,
        cfg,
        block,
        mv: MvMemory::new(txs.len(), block.beneficiary, threads),
        codes: Codes::default(),
        scheduler: Scheduler::new(txs.len(), threads),
        runs: txs.iter().map(|_| Mutex::new(None)).collect(),
        fatal: Mutex::new(None),
        single: threads == 1,
    };
    let t0 = std::time::Instant::now();
    let counts = pool::fan_out(threads, |w| shared.worker(w));
    let executions: usize = counts.iter().map(|c| c.executions).sum();
    let validations: usize = counts.iter().map(|c| c.validations).sum();
    if let Some(e) = lock(&shared.fatal).take() {
        return Err(e);
    }
    let t1 = std::time::Instant::now();
    let mut runs = shared.runs;
    if !runs.iter_mut().all(|slot| slot_run(slot).is_some()) {
        return Err(StateError::Backend("a transaction was never executed".into()));
    }
    // Code deployed only by incarnations that were later re-executed (or
    // turned invalid) is not part of the block.
    let deployed = if shared.codes.is_empty() { Default::default() } else { deployed_code(&mut runs) };
    let t2 = std::time::Instant::now();
    let state = assemble::assemble(base, &mut runs, block.beneficiary, threads, cached)?;
    if crate::timings() {
        eprintln!(
            "parallel: execute {:?}, collect {:?}, final {:?}; {} executions, {} validations",
            t1 - t0,
            t2 - t1,
            t1.elapsed(),
            executions,
            validations
        );
    }
    let codes = shared.codes.into_iter().filter(|(hash, _)| deployed.contains(hash)).collect();
    let waste = Box::new((shared.mv, shared.scheduler));
    Ok(ParallelRun { runs, state, codes, reexecutions: executions.saturating_sub(txs.len()), waste })
}
