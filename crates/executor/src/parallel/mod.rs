//! The parallel engine: optimistic Block-STM over revm, with lazy credits for
//! the beneficiary's fees and plain value transfers.
//!
//! Each transaction runs speculatively against [`mv::MvMemory`]; its reads
//! are recorded and later validated by value; a transaction whose reads
//! changed is re-executed, and one that reads an aborted write (ESTIMATE)
//! waits for the writer. The result is exactly the sequential one: final
//! values are assembled from the highest writer of each location.

mod db;
mod handler;
mod mv;
mod scheduler;
mod writes;

use crate::{StateError, StateProvider};
use alloy_primitives::{Address, B256, U256, map::HashMap};
use dashmap::DashMap;
use db::{Observed, ReadError, TxDb, resolve_balance, resolve_meta, resolve_storage, still_valid};
use handler::LazyRewardHandler;
use mv::{Loc, MvMemory, Written};
use revm::{
    Context, ExecuteEvm, MainBuilder, MainContext,
    bytecode::Bytecode,
    context::{
        BlockEnv, CfgEnv, ContextSetters,
        result::{EVMError, ExecutionResult},
    },
    handler::{Handler, MainnetContext, MainnetEvm},
    primitives::TxKind,
    state::AccountInfo,
};
use scheduler::{Scheduler, Task};
use std::sync::{
    Mutex, PoisonError,
    atomic::{AtomicUsize, Ordering::Relaxed},
};

use crate::ExecTx;

/// The final incarnation of one transaction.
#[derive(Debug)]
pub(crate) struct TxRun {
    incarnation: u32,
    /// revm's result, or why the transaction is invalid at its position.
    pub(crate) result: Result<ExecutionResult, String>,
    reads: Vec<(Loc, Observed)>,
    writes: Vec<(Loc, Written)>,
    /// Lower transactions whose writes it read.
    pub(crate) dependencies: Vec<usize>,
}

/// Final state of one account after the parallel part.
pub(crate) struct FinalAccount {
    /// Canonical diff against the base, when the caller asked for it.
    pub(crate) diff: Option<Option<crate::AccountDiff>>,
    pub(crate) address: Address,
    pub(crate) info: Option<AccountInfo>,
    pub(crate) wiped: bool,
    pub(crate) storage: Vec<(U256, U256)>,
}

/// What the parallel part produced.
pub(crate) struct ParallelRun {
    pub(crate) runs: Vec<TxRun>,
    pub(crate) accounts: Vec<FinalAccount>,
    pub(crate) codes: Vec<(B256, Bytecode)>,
    pub(crate) reexecutions: usize,
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
    runs: Vec<Mutex<Option<TxRun>>>,
    fatal: Mutex<Option<StateError>>,
    executions: AtomicUsize,
}

type WorkerEvm<'a, S> = MainnetEvm<MainnetContext<TxDb<'a, S>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<'a, S: StateProvider> Shared<'a, S> {
    fn worker(&'a self) {
        let db = TxDb {
            base: self.base,
            mv: &self.mv,
            new_codes: &self.codes,
            tx: 0,
            reads: Vec::new(),
            sources: Vec::new(),
            loaded: HashMap::default(),
            credit_born: Vec::new(),
            lazy_candidate: None,
            lazy_active: false,
        };
        let mut evm: WorkerEvm<'a, S> = Context::mainnet()
            .with_db(db)
            .with_cfg(self.cfg.clone())
            .with_block(self.block.clone())
            .build_mainnet();
        let mut task = None;
        while !self.scheduler.done() {
            task = match task.or_else(|| self.scheduler.next_task()) {
                Some(Task::Execute(tx, inc)) => self.execute(&mut evm, tx, inc),
                Some(Task::Validate(tx, inc)) => self.validate(tx, inc),
                None => {
                    std::hint::spin_loop();
                    None
                }
            };
        }
    }

    fn execute(&self, evm: &mut WorkerEvm<'a, S>, tx: usize, incarnation: u32) -> Option<Task> {
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
            self.executions.fetch_add(1, Relaxed);
            evm.ctx.journaled_state.database.reset(tx, lazy_candidate);
            evm.ctx.set_tx(env.clone());
            let mut handler = LazyRewardHandler::<WorkerEvm<'a, S>, ReadError>::default();
            let result = handler.run(evm);
            let state = evm.finalize();
            let db = &mut evm.ctx.journaled_state.database;
            let (result, writes) = match result {
                Err(EVMError::Database(ReadError::Blocked(blocking))) => {
                    if self.scheduler.add_dependency(tx, blocking) {
                        return None;
                    }
                    continue;
                }
                Err(EVMError::Database(ReadError::State(e))) => {
                    lock(&self.fatal).get_or_insert(e);
                    self.scheduler.halt();
                    return None;
                }
                Err(EVMError::Transaction(e)) => (Err(e.to_string()), Vec::new()),
                Err(e) => {
                    lock(&self.fatal).get_or_insert(StateError::Backend(format!("evm: {e}")));
                    self.scheduler.halt();
                    return None;
                }
                Ok(r) => {
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
                                if self.scheduler.add_dependency(tx, blocking) {
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
                    let mut w = writes::write_set(state, &cx, &self.codes);
                    if cleared {
                        w.push((Loc::Account(beneficiary), Written::Account(None)));
                        w.push((Loc::Balance(beneficiary), Written::Balance(U256::ZERO)));
                        w.push((Loc::Wipe(beneficiary), Written::Wipe));
                    }
                    (Ok(r), w)
                }
            };
            let mut dependencies = std::mem::take(&mut db.sources);
            dependencies.sort_unstable();
            dependencies.dedup();
            let reads = std::mem::take(&mut db.reads);
            let mut slot = lock(&self.runs[tx]);
            let previous = slot.take();
            let mut wrote_new = false;
            for (loc, value) in &writes {
                self.mv.write(*loc, tx, incarnation, *value);
                if !previous.as_ref().is_some_and(|p| p.writes.iter().any(|(l, _)| l == loc)) {
                    wrote_new = true;
                }
            }
            if let Some(p) = &previous {
                for (loc, _) in &p.writes {
                    if !writes.iter().any(|(l, _)| l == loc) {
                        self.mv.remove(loc, tx);
                    }
                }
            }
            *slot = Some(TxRun { incarnation, result, reads, writes, dependencies });
            drop(slot);
            return self.scheduler.finish_execution(tx, incarnation, wrote_new);
        }
    }

    fn validate(&self, tx: usize, incarnation: u32) -> Option<Task> {
        let valid = {
            let slot = lock(&self.runs[tx]);
            match slot.as_ref() {
                Some(run) if run.incarnation == incarnation => {
                    run.reads.iter().all(|(loc, seen)| still_valid(&self.mv, loc, tx, seen))
                }
                _ => true,
            }
        };
        let aborted = !valid && self.scheduler.try_validation_abort(tx, incarnation);
        if aborted && let Some(run) = lock(&self.runs[tx]).as_ref() {
            for (loc, _) in &run.writes {
                self.mv.mark_estimate(loc, tx);
            }
        }
        self.scheduler.finish_validation(tx, aborted)
    }

    /// The state after the last transaction, per written account.
    fn final_accounts(
        &self,
        threads: usize,
        want_diff: &(dyn Fn(&Address) -> bool + Sync),
    ) -> Result<Vec<FinalAccount>, StateError> {
        let end = self.txs.len();
        let locations = self.mv.locations();
        let mut by_address: HashMap<Address, (bool, Vec<U256>)> = HashMap::default();
        by_address.reserve(locations.len());
        for loc in locations {
            match loc {
                Loc::Account(a) | Loc::Balance(a) => {
                    by_address.entry(a).or_default();
                }
                Loc::Wipe(a) => by_address.entry(a).or_default().0 = true,
                Loc::Storage(a, k) => by_address.entry(a).or_default().1.push(k),
            }
        }
        let unblocked = |e: ReadError| match e {
            ReadError::State(e) => e,
            ReadError::Blocked(b) => {
                StateError::Backend(format!("estimate of transaction {b} left after execution"))
            }
        };
        let entries: Vec<_> = by_address.into_iter().collect();
        let resolve =
            |(address, (wiped, slots)): &(Address, (bool, Vec<U256>))| -> Result<FinalAccount, StateError> {
                let address = *address;
                let (meta, base_balance, _) =
                    resolve_meta(&self.mv, self.base, address, end).map_err(unblocked)?;
                let (balance, by_credit, _) =
                    resolve_balance(&self.mv, self.base, address, end, base_balance).map_err(unblocked)?;
                let info = match meta {
                    Some(m) => Some(crate::state::info_without_code(balance, m.nonce, m.code_hash)),
                    None if by_credit => {
                        Some(crate::state::info_without_code(balance, 0, revm::primitives::KECCAK_EMPTY))
                    }
                    None => None,
                };
                let mut storage = Vec::with_capacity(slots.len());
                for k in slots {
                    storage.push((
                        *k,
                        resolve_storage(&self.mv, self.base, address, *k, end).map_err(unblocked)?.0,
                    ));
                }
                let mut account = FinalAccount { diff: None, address, info, wiped: *wiped, storage };
                if want_diff(&address) {
                    account.diff = Some(account_diff(self.base, &account)?);
                }
                Ok(account)
            };
        let chunk = entries.len().div_ceil(threads.max(1)).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = entries
                .chunks(chunk)
                .map(|part| s.spawn(move || part.iter().map(resolve).collect::<Result<Vec<_>, _>>()))
                .collect();
            let mut out = Vec::with_capacity(entries.len());
            for h in handles {
                let part =
                    h.join().map_err(|_| StateError::Backend("final state worker panicked".into()))??;
                out.extend(part);
            }
            Ok(out)
        })
    }
}

/// The canonical diff of one account against the base state.
fn account_diff<S: StateProvider>(
    base: &S,
    account: &FinalAccount,
) -> Result<Option<crate::AccountDiff>, StateError> {
    let fields =
        |i: &AccountInfo| crate::AccountFields { nonce: i.nonce, balance: i.balance, code_hash: i.code_hash };
    let original = base.account(account.address)?;
    let info = account.info.as_ref().map(fields);
    let info_changed = original.as_ref().map(fields) != info;
    let wiped = account.wiped && original.is_some();
    let mut storage = std::collections::BTreeMap::new();
    if info.is_some() {
        for (key, value) in &account.storage {
            let before = if account.wiped || original.is_none() {
                U256::ZERO
            } else {
                base.storage(account.address, *key)?
            };
            if *value != before {
                storage.insert(*key, *value);
            }
        }
    }
    if !info_changed && !wiped && storage.is_empty() {
        return Ok(None);
    }
    Ok(Some(crate::AccountDiff { info, storage_wiped: wiped, storage }))
}

/// Runs `txs` with Block-STM on `threads` threads over `base`; the final
/// accounts for which `want_diff` holds carry their canonical diff.
pub(crate) fn run<S: StateProvider>(
    base: &S,
    txs: &[ExecTx],
    cfg: &CfgEnv,
    block: &BlockEnv,
    threads: usize,
    want_diff: &(dyn Fn(&Address) -> bool + Sync),
) -> Result<ParallelRun, StateError> {
    let shared = Shared {
        base,
        txs,
        cfg,
        block,
        mv: MvMemory::default(),
        codes: Codes::default(),
        scheduler: Scheduler::new(txs.len()),
        runs: txs.iter().map(|_| Mutex::new(None)).collect(),
        fatal: Mutex::new(None),
        executions: AtomicUsize::new(0),
    };
    let threads = threads.clamp(1, txs.len().max(1));
    let t0 = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(|| shared.worker());
        }
        shared.worker();
    });
    if let Some(e) = lock(&shared.fatal).take() {
        return Err(e);
    }
    let t1 = std::time::Instant::now();
    let accounts = shared.final_accounts(threads, want_diff)?;
    if std::env::var_os("MOSAIC_TIMINGS").is_some() {
        eprintln!("parallel: execute {:?}, final {:?}", t1 - t0, t1.elapsed());
    }
    let executions = shared.executions.load(Relaxed);
    let runs = shared
        .runs
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| StateError::Backend("a transaction was never executed".into()))?;
    let codes = shared.codes.into_iter().collect();
    Ok(ParallelRun { runs, accounts, codes, reexecutions: executions.saturating_sub(txs.len()) })
}
