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
    RunSlot, TxRun,
    db::BaseValue,
    mv::{Loc, Meta, Written},
    pool::fan_out,
};
use crate::{AccountDiff, AccountFields, StateError, StateProvider};
use alloy_primitives::{Address, U256, map::HashMap};
use revm::{primitives::KECCAK_EMPTY, state::AccountInfo};
use std::collections::BTreeMap;

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

impl Assembled {
    fn merge(&mut self, other: Self) {
        self.diffs.extend(other.diffs);
        self.cached.extend(other.cached);
    }

    /// Adds a hot account's diff at its place in the sorted lists.
    fn insert_diff(&mut self, address: Address, diff: AccountDiff) {
        let list = self.diffs.iter().position(|l| l.last().is_some_and(|(a, _)| *a > address));
        let list = match list {
            Some(i) => &mut self.diffs[i],
            None => {
                if self.diffs.is_empty() {
                    self.diffs.push(Vec::new());
                }
                let last = self.diffs.len() - 1;
                &mut self.diffs[last]
            }
        };
        let at = list.partition_point(|(a, _)| *a < address);
        list.insert(at, (address, diff));
    }
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
            (Loc::Balance(_), Written::Credit(c)) => self.add_credit(*c),
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

    /// A credit on top of the balance so far (lazy transfers, fees).
    fn add_credit(&mut self, amount: U256) {
        self.credit = self.credit.saturating_add(amount);
    }

    /// Applies a write and, for a slot, the base value its writer read
    /// there: one lookup for the slot's final value and its value before.
    fn apply_with_before(&mut self, loc: &Loc, value: &Written, before: Option<&U256>) {
        match (loc, value, before) {
            (Loc::Storage(_, key), Written::Storage(v), Some(before)) => {
                let slot = self.storage.entry(*key).or_insert((U256::ZERO, None));
                slot.0 = *v;
                slot.1.get_or_insert(*before);
            }
            _ => self.apply(loc, value),
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

/// A write of a final incarnation (with the base values its writer read
/// there), or the fees of consecutive transactions, referred to from its
/// address bucket in transaction order (the sets stay where the executing
/// threads left them).
#[derive(Clone, Copy)]
enum Item<'a> {
    /// A write, with the slot's base value for a slot write whose writer
    /// read it from the base state, and the account before the block for
    /// the first write of an account whose writer read it from there.
    Write(&'a (Loc, Written), Option<&'a U256>, Option<&'a Option<AccountFields>>),
    /// Fees credited to the beneficiary by consecutive transactions: the
    /// sum at an index of [`Scattered::fees`] of a part of the block.
    Fees(&'a Address, u32, u32),
}

impl Item<'_> {
    fn address(&self) -> &Address {
        match self {
            Self::Write((loc, _), ..) => loc.address(),
            Self::Fees(address, ..) => address,
        }
    }

    /// Loads what [`Item::fold_into`] will read. The write sets lie apart
    /// in memory: loaded here, in a tight loop over a bucket, their cache
    /// misses overlap; in the fold they would come one at a time.
    fn touch(&self) {
        match self {
            Self::Write(w, before, original) => {
                std::hint::black_box(w.1);
                if let Some(b) = before {
                    std::hint::black_box(b.as_limbs()[0]);
                }
                if let Some(f) = original {
                    std::hint::black_box(f.is_some());
                }
            }
            Self::Fees(..) => {}
        }
    }

    /// Folds the item into `account`; `parts` are the scattered parts of
    /// the block, which hold the fee sums.
    fn fold_into(&self, account: &mut Folded, parts: &[Scattered<'_>]) {
        match self {
            Self::Write((loc, value), before, original) => {
                if let Some(fields) = original {
                    account.original.get_or_insert(**fields);
                }
                account.apply_with_before(loc, value, *before);
            }
            Self::Fees(_, part, at) => account.add_credit(parts[*part as usize].fees[*at as usize]),
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
/// the accounts whose own fields it wrote, and of the slots it wrote), each
/// with the index of the write it belongs to (an account's first write, a
/// slot's write), in write order; `writes` is sorted by [`write_order`].
/// An account of which the incarnation wrote only slots (a token contract,
/// written by most transactions of a block) is read from the base state
/// once at the end instead.
pub(crate) fn written_base_reads(
    reads: &mut Vec<(Address, BaseValue)>,
    writes: &[(Loc, Written)],
) -> Vec<(u32, BaseValue)> {
    let write_of = |(address, value): &(Address, BaseValue)| match value {
        BaseValue::Account(_) => {
            // An account's own locations sort before its slots.
            let at = writes.partition_point(|(l, _)| l.address() < address);
            let own = |(l, _): &(Loc, Written)| l.address() == address && !matches!(l, Loc::Storage(..));
            writes.get(at).is_some_and(own).then_some(at)
        }
        BaseValue::Slot(key, _) => {
            writes.binary_search_by(|(l, _)| write_order(l).cmp(&(*address, 3, *key))).ok()
        }
    };
    let mut out: Vec<(u32, BaseValue)> =
        reads.drain(..).filter_map(|read| Some((write_of(&read)? as u32, read.1))).collect();
    // Stable: of two reads of one location the first is kept.
    out.sort_by_key(|(at, _)| *at);
    out
}

/// The items of a contiguous part of the block by address bucket, and the
/// fees its transactions owe the beneficiary, summed between the
/// beneficiary's own writes (fees are credits, and a block pays one to the
/// beneficiary per transaction: one item each would be a hot account's
/// worth of items to group and fold).
struct Scattered<'a> {
    buckets: Vec<Vec<Item<'a>>>,
    fees: Vec<U256>,
}

/// Refers to the items of `runs` (the `part`-th contiguous part of the
/// block) from the address buckets, in transaction order: one streaming pass
/// over the write sets and appends to a few thousand lists.
fn scatter<'a>(runs: &[&'a TxRun], part: usize, beneficiary: &'a Address, split: Split) -> Scattered<'a> {
    let count = 1usize << split.bits;
    let per_bucket = runs.len() * 6 / count + 4;
    let mut buckets: Vec<Vec<Item<'a>>> = (0..count).map(|_| Vec::with_capacity(per_bucket)).collect();
    let mut fees = Vec::new();
    let fee_bucket = split.bucket(beneficiary);
    // Fees not yet in an item: they precede the beneficiary's next write.
    let mut pending = U256::ZERO;
    let flush = |pending: &mut U256, fees: &mut Vec<U256>, bucket: &mut Vec<Item<'a>>| {
        if !pending.is_zero() {
            bucket.push(Item::Fees(beneficiary, part as u32, fees.len() as u32));
            fees.push(std::mem::take(pending));
        }
    };
    for run in runs {
        let mut bases = run.base_reads.iter().peekable();
        for (at, write) in run.writes.iter().enumerate() {
            let index = split.bucket(write.0.address());
            if index == fee_bucket && write.0.address() == beneficiary {
                flush(&mut pending, &mut fees, &mut buckets[index]);
            }
            let bucket = &mut buckets[index];
            let mut before = None;
            let mut original = None;
            while let Some((_, value)) = bases.next_if(|(w, _)| *w as usize == at) {
                match value {
                    BaseValue::Slot(_, v) => before = before.or(Some(v)),
                    BaseValue::Account(fields) => original = original.or(Some(fields)),
                }
            }
            bucket.push(Item::Write(write, before, original));
        }
        // A transaction's fee comes after its own writes.
        pending = pending.saturating_add(run.fee);
    }
    flush(&mut pending, &mut fees, &mut buckets[fee_bucket]);
    Scattered { buckets, fees }
}

/// Folds the buckets of one shard and finalizes their accounts. `parts`
/// are the scattered items of consecutive parts of the block; each bucket
/// is grouped by address with a sort that keeps transaction order, so
/// nothing is looked up in a large table.
fn fold_shard<'a, S: StateProvider>(
    base: &S,
    parts: &[Scattered<'a>],
    split: Split,
    shard: usize,
    hot_items: usize,
    cached: &(dyn Fn(&Address) -> bool + Sync),
) -> Result<(Assembled, Vec<HotAccount<'a>>), StateError> {
    let mut diffs = Vec::new();
    let mut cached_accounts = Vec::new();
    let mut hot = Vec::new();
    let mut items: Vec<Item<'a>> = Vec::new();
    let mut order: Vec<(Address, u32)> = Vec::new();
    // At least one item per changed account (usually two or more): the
    // diffs are large, and growing the list would copy them.
    let shard_items: usize =
        split.buckets(shard).map(|b| parts.iter().map(|part| part.buckets[b].len()).sum::<usize>()).sum();
    diffs.reserve(shard_items / 2);
    for bucket in split.buckets(shard) {
        items.clear();
        for part in parts {
            items.extend(&part.buckets[bucket]);
        }
        order.clear();
        order.extend(items.iter().enumerate().map(|(i, item)| {
            item.touch();
            (*item.address(), i as u32)
        }));
        // By address, keeping transaction order within an address. Stable:
        // a bucket holding a contract that most transactions write is
        // mostly one run already, which a stable sort finds and keeps.
        order.sort_by_key(|(address, _)| *address);
        let mut i = 0;
        while i < order.len() {
            let address = order[i].0;
            let end = i + order[i..].partition_point(|(a, _)| *a == address);
            if end - i > hot_items {
                // Folded later with its slots split over all threads.
                hot.push(HotAccount {
                    address,
                    items: order[i..end].iter().map(|(_, at)| items[*at as usize]).collect(),
                });
                i = end;
                continue;
            }
            let mut account = Folded::default();
            if end - i > BIG_ACCOUNT {
                // Most of a contract's items are slot writes (the rest
                // writes of its own fields): sized for half the items at
                // once, the map grows at most once.
                account.storage.reserve((end - i) / 2);
            }
            for (_, at) in &order[i..end] {
                items[*at as usize].fold_into(&mut account, parts);
            }
            i = end;
            let storage = std::mem::take(&mut account.storage);
            if cached(&address) {
                cached_accounts.push(final_account(base, address, &account, storage.into_iter())?);
            } else if let Some(diff) = account_diff(base, address, &account, storage.into_iter())? {
                diffs.push((address, diff));
            }
        }
    }
    Ok((Assembled { diffs: vec![diffs], cached: cached_accounts }, hot))
}

/// Items from which an account's slot map is sized up front.
const BIG_ACCOUNT: usize = 64;

/// Items of one account beyond which its slots are folded by all threads
/// (a token or pool contract that most of the block writes to would
/// otherwise leave one thread folding alone): a quarter of a thread's
/// share, and at least 32. One thread has nothing to split, but a very
/// large account still folds faster that way, from compact copies of its
/// slot writes sorted by key, than into a map of its slots (erc20's token
/// at 1 thread: 74,000 slot writes, 19.5-22 ms -> 17.5-20.5 ms).
fn hot_items(items: usize, threads: usize) -> usize {
    if threads <= 1 {
        return ONE_THREAD_HOT_ITEMS;
    }
    (items / (threads * 4)).max(32)
}

/// Items beyond which one thread folds an account as a hot one.
const ONE_THREAD_HOT_ITEMS: usize = 4096;

/// Items of a hot account from which its slots are split over threads
/// (below, the threads would cost more than they save).
const SPLIT_ITEMS: usize = 256;

/// An account with many items, in transaction order.
struct HotAccount<'a> {
    address: Address,
    items: Vec<Item<'a>>,
}

/// A slot write of a hot account, copied out of its write set.
struct SlotWrite {
    key: U256,
    /// Position among the account's items.
    at: u32,
    value: U256,
    /// The slot's base value, if the writer read it.
    before: Option<U256>,
}

/// What one thread found in its contiguous part of a hot account's items:
/// the slot writes per key list (in position order; see [`fold_hot`]), the
/// account's own items with their positions, and the first base value of
/// the account.
struct HotPart<'a> {
    slots: Vec<Vec<SlotWrite>>,
    own: Vec<(u32, Item<'a>)>,
    original: Option<&'a Option<AccountFields>>,
}

/// Folds a hot account on `threads` threads. Each thread first copies the
/// slot writes of a contiguous part of the items into lists by key (every
/// write set is read once, by one thread; a key range is one or more
/// consecutive lists); the account's own locations are then folded here;
/// then each thread folds one key range and builds its part of the
/// account's sorted storage (the ranges are in key order, so the parts
/// concatenate).
fn fold_hot<S: StateProvider>(
    base: &S,
    hot: &HotAccount<'_>,
    scattered: &[Scattered<'_>],
    threads: usize,
    cached: &(dyn Fn(&Address) -> bool + Sync),
    into: &mut Assembled,
) -> Result<(), StateError> {
    let ranges = if hot.items.len() >= SPLIT_ITEMS { threads.clamp(1, 64) } else { 1 };
    // Each key range is split further into lists small enough to sort in
    // a core's cache (a token's 74,000 slot writes sorted as one list,
    // then read in key order, were a cache miss per write); a part of the
    // items keeps about 32 writes per list.
    let lists_per_range = (hot.items.len() / (ranges * ranges * 32)).clamp(1, 256).next_power_of_two();
    let lists = ranges * lists_per_range;
    if crate::timings() {
        eprintln!("assemble: hot account {} items, {ranges} ranges, {lists} lists", hot.items.len());
    }
    // Lists in key order by the top 16 bits of the key; range `k` holds
    // lists `k * lists_per_range..(k + 1) * lists_per_range`.
    let list = |key: &U256| ((key.as_limbs()[3] >> 48) as usize * lists) >> 16;
    let items = &hot.items;
    let chunk = items.len().div_ceil(ranges).max(1);
    let parts = fan_out(ranges, |k| {
        let first = k * chunk;
        let mine = items.get(first..((k + 1) * chunk).min(items.len())).unwrap_or_default();
        let mut part =
            HotPart { slots: (0..lists).map(|_| Vec::new()).collect(), own: Vec::new(), original: None };
        for (i, item) in mine.iter().enumerate() {
            let at = (first + i) as u32;
            if let Item::Write(_, _, Some(fields)) = item {
                part.original = part.original.or(Some(fields));
            }
            match item {
                Item::Write((Loc::Storage(_, key), Written::Storage(value)), before, _) => {
                    let before = before.copied();
                    part.slots[list(key)].push(SlotWrite { key: *key, at, value: *value, before });
                }
                _ => part.own.push((at, *item)),
            }
        }
        part
    });
    let mut account =
        Folded { original: parts.iter().find_map(|p| p.original).copied(), ..Folded::default() };
    // Slots written before the newest wipe (by position) were wiped.
    let mut wiped_before = 0u32;
    for (at, item) in parts.iter().flat_map(|p| &p.own) {
        if matches!(item, Item::Write((Loc::Wipe(_), _), ..)) {
            wiped_before = *at;
        }
        item.fold_into(&mut account, scattered);
    }
    let (original, info) = before_after(base, hot.address, &account)?;
    let keep_all = cached(&hot.address);
    let read_base = !account.wiped && original.is_some();
    let exists = info.is_some();
    let parts = &parts;
    let storage = fan_out(ranges, |k| -> Result<Vec<(U256, U256)>, StateError> {
        let lists = k * lists_per_range..(k + 1) * lists_per_range;
        let in_range: usize = parts.iter().flat_map(|p| &p.slots[lists.clone()]).map(Vec::len).sum();
        let mut out = Vec::with_capacity(in_range / 2 + 1);
        let mut writes: Vec<&SlotWrite> = Vec::new();
        let mut order: Vec<(U256, u32)> = Vec::new();
        for l in lists {
            // Position order within each list and across the parts.
            writes.clear();
            writes.extend(parts.iter().flat_map(|p| &p.slots[l]).filter(|w| w.at >= wiped_before));
            order.clear();
            order.extend(writes.iter().enumerate().map(|(i, w)| (w.key, i as u32)));
            // By key, then position: the last write of a key is its final
            // value.
            order.sort_unstable();
            let mut i = 0;
            while let Some(&(key, _)) = order.get(i) {
                let (mut value, mut before) = (U256::ZERO, None);
                while let Some((k2, w)) = order.get(i)
                    && *k2 == key
                {
                    let write = writes[*w as usize];
                    value = write.value;
                    before = before.or(write.before);
                    i += 1;
                }
                if keep_all {
                    out.push((key, value));
                } else if exists {
                    let before = match before {
                        _ if !read_base => U256::ZERO,
                        Some(before) => before,
                        None => base.storage(hot.address, key)?,
                    };
                    if value != before {
                        out.push((key, value));
                    }
                }
            }
        }
        Ok(out)
    });
    let mut slots = Vec::new();
    for part in storage {
        slots.extend(part?);
    }
    if keep_all {
        into.cached.push(FinalAccount { address: hot.address, info, wiped: account.wiped, storage: slots });
    } else if let Some(diff) = finish_diff(original, info, account.wiped, slots) {
        into.insert_diff(hot.address, diff);
    }
    Ok(())
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
    account: &Folded,
    storage: impl Iterator<Item = (U256, (U256, Option<U256>))>,
) -> Result<FinalAccount, StateError> {
    let (_, info) = before_after(base, address, account)?;
    let storage = storage.map(|(k, (v, _))| (k, v)).collect();
    Ok(FinalAccount { address, info, wiped: account.wiped, storage })
}

/// The canonical diff of an account, `None` if nothing changed.
fn account_diff<S: StateProvider>(
    base: &S,
    address: Address,
    account: &Folded,
    slots: impl Iterator<Item = (U256, (U256, Option<U256>))>,
) -> Result<Option<AccountDiff>, StateError> {
    let (original, info) = before_after(base, address, account)?;
    let read_base = !account.wiped && original.is_some();
    let mut storage = Vec::new();
    if info.is_some() {
        storage.reserve(slots.size_hint().0);
        for (key, (value, before)) in slots {
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
    // Unstable sort of the unique keys first: the map's own (stable) sort
    // then finds them in order.
    storage.sort_unstable_by_key(|(key, _)| *key);
    Ok(finish_diff(original, info, account.wiped, storage))
}

/// The diff of an account from its state before and after the block and
/// its changed slots (sorted by key), `None` if nothing changed.
fn finish_diff(
    original: Option<AccountFields>,
    info: Option<AccountInfo>,
    wiped: bool,
    storage: Vec<(U256, U256)>,
) -> Option<AccountDiff> {
    let after = info.as_ref().map(fields);
    let wiped = wiped && original.is_some();
    if original == after && !wiped && storage.is_empty() {
        return None;
    }
    let storage: BTreeMap<U256, U256> = storage.into_iter().collect();
    Some(AccountDiff { info: after, storage_wiped: wiped, storage })
}

/// Assembles the final state of `runs` (the final incarnations, in
/// transaction order) over `base` on `threads` threads. Accounts for which
/// `cached` holds come back as [`FinalAccount`]s, the others as diffs.
pub(crate) fn assemble<S: StateProvider>(
    base: &S,
    runs: &mut [RunSlot],
    beneficiary: Address,
    threads: usize,
    cached: &(dyn Fn(&Address) -> bool + Sync),
) -> Result<Assembled, StateError> {
    let threads = threads.clamp(1, 64).min(runs.len().max(1));
    let split = Split::new(runs.len() * 6, threads);
    let refs: Vec<&TxRun> = runs.iter_mut().filter_map(super::slot_run).map(|r| &*r).collect();
    let beneficiary = &beneficiary;
    let t0 = std::time::Instant::now();
    // Each thread scatters a contiguous part of the block, then folds one
    // address range over all parts.
    let chunk = refs.len().div_ceil(threads).max(1);
    let parts = fan_out(threads, |k| {
        let part = refs.get(k * chunk..((k + 1) * chunk).min(refs.len())).unwrap_or_default();
        scatter(part, k, beneficiary, split)
    });
    let parts = &parts;
    if crate::timings() {
        eprintln!("assemble: scatter {:?}", t0.elapsed());
    }
    let t = std::time::Instant::now();
    let items: usize = parts.iter().flat_map(|p| &p.buckets).map(Vec::len).sum();
    let hot = hot_items(items, threads);
    let shards = fan_out(threads, |k| fold_shard(base, parts, split, k, hot, cached));
    if crate::timings() {
        eprintln!("assemble: fold {:?}", t.elapsed());
    }
    let mut out = Assembled::default();
    let mut hot = Vec::new();
    for shard in shards {
        let (shard, hot_accounts) = shard?;
        out.merge(shard);
        hot.extend(hot_accounts);
    }
    let t = std::time::Instant::now();
    for hot in &hot {
        fold_hot(base, hot, parts, threads, cached, &mut out)?;
    }
    if crate::timings() {
        eprintln!("assemble: hot accounts {} {:?}", hot.len(), t.elapsed());
    }
    Ok(out)
}
