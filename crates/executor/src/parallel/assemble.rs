//! The state after the parallel part, assembled from the write sets of the
//! final incarnations instead of from the multi-version memory.
//!
//! Every transaction's last write set is already known when the scheduler
//! finishes, and each is sorted by address. Folding them in transaction
//! order gives the final value of every location (a wipe drops the slots
//! written before it, credits add up over the newest absolute balance). The
//! values the writers read from the base state come along, so the diffs
//! need no second read of the base. Addresses are split into contiguous
//! ranges by their leading bits, one per thread, so each thread folds only
//! its part of every write set, builds the canonical diffs of its accounts
//! and returns them sorted: the parts concatenate into one sorted list.

use super::{
    RunSlot,
    db::BaseValue,
    mv::{Loc, Meta, Written},
    pool::fan_out,
};
use crate::{AccountDiff, AccountFields, StateError, StateProvider};
use alloy_primitives::{Address, U256, map::HashMap};
use revm::{primitives::KECCAK_EMPTY, state::AccountInfo};
use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
};

/// Final state of an account that the caller keeps in its own cache (it
/// applies the values itself and derives the diff later).
pub(crate) struct FinalAccount {
    pub(crate) address: Address,
    pub(crate) info: Option<AccountInfo>,
    pub(crate) wiped: bool,
    /// Written slots with their final value.
    pub(crate) storage: Vec<(U256, U256)>,
}

/// The assembled final state.
#[derive(Default)]
pub(crate) struct Assembled {
    /// Canonical diffs of changed accounts the caller does not cache: lists
    /// sorted by address, each list's addresses below the next list's.
    pub(crate) diffs: Vec<Vec<(Address, AccountDiff)>>,
    /// Final state of the accounts the caller caches.
    pub(crate) cached: Vec<FinalAccount>,
}

/// One account's writes folded in transaction order.
#[derive(Default)]
struct Folded {
    /// Newest account write (`Some(None)`: does not exist); `None` = base.
    meta: Option<Option<Meta>>,
    /// Newest absolute balance; `None` = base.
    absolute: Option<U256>,
    /// Credits after the newest absolute balance.
    credit: U256,
    wiped: bool,
    /// Final value of each slot, with its value before the block when a
    /// writer read it from there.
    storage: HashMap<U256, (U256, Option<U256>)>,
    /// The account before the block, when a writer read it from there.
    original: Option<Option<AccountFields>>,
}

impl Folded {
    fn apply(&mut self, loc: &Loc, value: &Written) {
        match (loc, value) {
            (Loc::Account(_), Written::Account(meta)) => self.meta = Some(*meta),
            (Loc::Balance(_), Written::Balance(b)) => {
                self.absolute = Some(*b);
                self.credit = U256::ZERO;
            }
            (Loc::Balance(_), Written::Credit(c)) => self.credit = self.credit.saturating_add(*c),
            (Loc::Wipe(_), _) => {
                self.wiped = true;
                self.storage.clear();
            }
            (Loc::Storage(_, key), Written::Storage(v)) => {
                self.storage.entry(*key).or_insert((U256::ZERO, None)).0 = *v;
            }
            _ => {}
        }
    }

    fn base_read(&mut self, value: &BaseValue) {
        match value {
            BaseValue::Account(fields) => {
                self.original.get_or_insert(*fields);
            }
            BaseValue::Slot(key, v) => {
                if let Some(slot) = self.storage.get_mut(key) {
                    slot.1.get_or_insert(*v);
                }
            }
        }
    }
}

/// How the addresses are split: into `1 << bits` buckets by their leading
/// bits, and the buckets into `shards` contiguous ranges.
#[derive(Debug, Clone, Copy)]
struct Split {
    bits: u32,
    shards: usize,
}

impl Split {
    /// About 64 items per bucket, at most 4096 buckets, at least one per
    /// shard.
    fn new(items: usize, shards: usize) -> Self {
        let wanted = (items / 64).max(1).next_power_of_two().trailing_zeros().min(12);
        let bits = wanted.max(shards.next_power_of_two().trailing_zeros());
        Self { bits, shards }
    }

    fn bucket(&self, address: &Address) -> usize {
        usize::from(u16::from_be_bytes([address[0], address[1]])) >> (16 - self.bits)
    }

    /// The buckets of `shard`.
    fn buckets(&self, shard: usize) -> std::ops::Range<usize> {
        let first = |k: usize| (k << self.bits).div_ceil(self.shards);
        first(shard)..first(shard + 1)
    }
}

/// A write or a base read, copied into its address bucket in transaction
/// order.
enum Item {
    Write(Loc, Written),
    Base(Address, BaseValue),
}

impl Item {
    fn address(&self) -> &Address {
        match self {
            Self::Write(loc, _) => loc.address(),
            Self::Base(address, _) => address,
        }
    }
}

/// Sort key of a write: by address, and a wipe before the same
/// transaction's other writes to that account.
pub(crate) fn write_order(loc: &Loc) -> (Address, u8, U256) {
    match loc {
        Loc::Wipe(a) => (*a, 0, U256::ZERO),
        Loc::Account(a) => (*a, 1, U256::ZERO),
        Loc::Balance(a) => (*a, 2, U256::ZERO),
        Loc::Storage(a, key) => (*a, 3, *key),
    }
}

/// The base reads of an incarnation that the final state needs (those of
/// the accounts and slots it wrote); `writes` is sorted by [`write_order`].
pub(crate) fn written_base_reads(
    reads: &mut Vec<(Address, BaseValue)>,
    writes: &[(Loc, Written)],
) -> Vec<(Address, BaseValue)> {
    let written = |(address, value): &(Address, BaseValue)| {
        let key = match value {
            BaseValue::Account(_) => {
                return writes.binary_search_by(|(l, _)| l.address().cmp(address)).is_ok();
            }
            BaseValue::Slot(key, _) => (*address, 3, *key),
        };
        writes.binary_search_by(|(l, _)| write_order(l).cmp(&key)).is_ok()
    };
    reads.drain(..).filter(written).collect()
}

/// Copies the items of `runs` (a contiguous part of the block) into the
/// address buckets, in transaction order: one streaming pass over the
/// write sets and appends to a few thousand lists.
///
/// The write sets, base reads and read sets are no longer needed after
/// this; they are taken out of the runs and handed back to be freed off the
/// critical path (most of them are other threads' memory, the allocator's
/// slow path).
fn scatter(runs: &mut [RunSlot], beneficiary: Address, split: Split) -> (Vec<Vec<Item>>, Waste) {
    let count = 1usize << split.bits;
    let per_bucket = runs.len() * 6 / count + 4;
    let mut buckets: Vec<Vec<Item>> = (0..count).map(|_| Vec::with_capacity(per_bucket)).collect();
    let fee_bucket = split.bucket(&beneficiary);
    let mut waste = Waste::with_capacity(runs.len());
    for run in runs.iter_mut().filter_map(super::slot_run) {
        for (loc, value) in &run.writes {
            buckets[split.bucket(loc.address())].push(Item::Write(*loc, *value));
        }
        if !run.fee.is_zero() {
            buckets[fee_bucket].push(Item::Write(Loc::Balance(beneficiary), Written::Credit(run.fee)));
        }
        for (address, value) in &run.base_reads {
            buckets[split.bucket(address)].push(Item::Base(*address, *value));
        }
        waste.push(run.take_sets());
    }
    (buckets, waste)
}

/// Folds the buckets of one shard and finalizes their accounts. `parts`
/// are the scattered items of consecutive parts of the block; each bucket
/// is grouped by address with a sort that keeps transaction order, so
/// nothing is looked up in a large table.
fn fold_shard<S: StateProvider>(
    base: &S,
    parts: &[Vec<Vec<Item>>],
    split: Split,
    shard: usize,
    cached: &(dyn Fn(&Address) -> bool + Sync),
) -> Result<Assembled, StateError> {
    let mut diffs = Vec::new();
    let mut cached_accounts = Vec::new();
    let mut items: Vec<&Item> = Vec::new();
    let mut order: Vec<(Address, u32)> = Vec::new();
    for bucket in split.buckets(shard) {
        items.clear();
        for part in parts {
            items.extend(&part[bucket]);
        }
        order.clear();
        order.extend(items.iter().enumerate().map(|(i, item)| (*item.address(), i as u32)));
        // By address, then by position: transaction order within an address.
        order.sort_unstable();
        let mut i = 0;
        while i < order.len() {
            let address = order[i].0;
            let mut account = Folded::default();
            while let Some((a, at)) = order.get(i)
                && *a == address
            {
                match items[*at as usize] {
                    Item::Write(loc, value) => account.apply(loc, value),
                    Item::Base(_, value) => account.base_read(value),
                }
                i += 1;
            }
            if cached(&address) {
                cached_accounts.push(final_account(base, address, account)?);
            } else if let Some(diff) = account_diff(base, address, account)? {
                diffs.push((address, diff));
            }
        }
    }
    Ok(Assembled { diffs: vec![diffs], cached: cached_accounts })
}

fn fields(info: &AccountInfo) -> AccountFields {
    AccountFields { nonce: info.nonce, balance: info.balance, code_hash: info.code_hash }
}

/// The account before the block and after it.
fn before_after<S: StateProvider>(
    base: &S,
    address: Address,
    account: &Folded,
) -> Result<(Option<AccountFields>, Option<AccountInfo>), StateError> {
    let original = match account.original {
        Some(original) => original,
        None => base.account(address)?.as_ref().map(fields),
    };
    let meta = match account.meta {
        Some(meta) => meta,
        None => original.as_ref().map(|i| Meta { nonce: i.nonce, code_hash: i.code_hash }),
    };
    let start = match account.absolute {
        Some(b) => b,
        None => original.as_ref().map_or(U256::ZERO, |i| i.balance),
    };
    let balance = start.saturating_add(account.credit);
    let info = match meta {
        Some(m) => Some(crate::state::info_without_code(balance, m.nonce, m.code_hash)),
        // Credits alone bring an account into existence.
        None if !account.credit.is_zero() => Some(crate::state::info_without_code(balance, 0, KECCAK_EMPTY)),
        None => None,
    };
    Ok((original, info))
}

/// The final state of an account the caller caches.
fn final_account<S: StateProvider>(
    base: &S,
    address: Address,
    account: Folded,
) -> Result<FinalAccount, StateError> {
    let (_, info) = before_after(base, address, &account)?;
    let storage = account.storage.into_iter().map(|(k, (v, _))| (k, v)).collect();
    Ok(FinalAccount { address, info, wiped: account.wiped, storage })
}

/// The canonical diff of an account, `None` if nothing changed.
fn account_diff<S: StateProvider>(
    base: &S,
    address: Address,
    account: Folded,
) -> Result<Option<AccountDiff>, StateError> {
    let (original, info) = before_after(base, address, &account)?;
    let after = info.as_ref().map(fields);
    let info_changed = original != after;
    let read_base = !account.wiped && original.is_some();
    let mut storage = Vec::new();
    if after.is_some() {
        storage.reserve(account.storage.len());
        for (key, (value, before)) in account.storage {
            let before = match before {
                _ if !read_base => U256::ZERO,
                Some(before) => before,
                None => base.storage(address, key)?,
            };
            if value != before {
                storage.push((key, value));
            }
        }
    }
    let wiped = account.wiped && original.is_some();
    if !info_changed && !wiped && storage.is_empty() {
        return Ok(None);
    }
    let storage: BTreeMap<U256, U256> = storage.into_iter().collect();
    Ok(Some(AccountDiff { info: after, storage_wiped: wiped, storage }))
}

/// What a run's write set, base reads and read set leave to free.
pub(crate) type Waste = Vec<super::TxSets>;

/// Assembles the final state of `runs` (the final incarnations, in
/// transaction order) over `base` on `threads` threads. Accounts for which
/// `cached` holds come back as [`FinalAccount`]s, the others as diffs.
pub(crate) fn assemble<S: StateProvider>(
    base: &S,
    runs: &mut [RunSlot],
    beneficiary: Address,
    threads: usize,
    cached: &(dyn Fn(&Address) -> bool + Sync),
) -> Result<(Assembled, Vec<Waste>), StateError> {
    let threads = threads.clamp(1, 64).min(runs.len().max(1));
    let split = Split::new(runs.len() * 6, threads);
    if threads == 1 {
        let (part, waste) = scatter(runs, beneficiary, split);
        return fold_shard(base, &[part], split, 0, cached).map(|a| (a, vec![waste]));
    }
    // Each thread scatters a contiguous part of the block, then folds one
    // address range over all parts.
    let chunk = runs.len().div_ceil(threads);
    let chunks: Vec<Mutex<&mut [RunSlot]>> = runs.chunks_mut(chunk).map(Mutex::new).collect();
    let parts = fan_out(threads, |k| match chunks.get(k) {
        Some(part) => scatter(&mut part.lock().unwrap_or_else(PoisonError::into_inner), beneficiary, split),
        None => scatter(&mut [], beneficiary, split),
    });
    let (parts, waste): (Vec<_>, Vec<_>) = parts.into_iter().unzip();
    let parts = &parts;
    let t = std::time::Instant::now();
    let shards = fan_out(threads, |k| fold_shard(base, parts, split, k, cached));
    if crate::timings() {
        eprintln!("assemble: fold {:?}", t.elapsed());
    }
    let mut out = Assembled::default();
    for shard in shards {
        let shard = shard?;
        out.diffs.extend(shard.diffs);
        out.cached.extend(shard.cached);
    }
    Ok((out, waste))
}
