//! A window's working set: one working copy of every account the window names, loaded
//! from the table once, executed against in dependency order, written back once.
//!
//! This is how a validator's bank runs a batch (load the accounts, execute, store the
//! changed ones), done for a whole window: a transaction finds its accounts through the
//! records built here, so it hashes no key and takes no stripe lock while it runs.
//!
//! # Parts: one per worker
//! Moving a cache line from one core to another costs about as much as executing a whole
//! transfer. So the accounts are split into parts, one per worker thread, by stripe (part
//! `p` holds the keys of a contiguous range of the table's stripes), and worker `p`
//! (rayon's thread index) does all the work on part `p`'s keys:
//! - it walks the window in block order and, for every account reference whose key is
//!   in its part, interns the key (loading the account from the table the first time) and
//!   gives the reference its dependency count and completion signal
//!   ([`crate::schedule::KeyDeps`], the rule of [`crate::schedule::KeyIndex::tx_deps`]):
//!   a key's counts depend on that key's references only, so the parts are numbered
//!   independently and in parallel;
//! - it writes the part's changed accounts back, one stripe lock per stripe.
//!
//! The table's stripes, their locks and the copies of one part stay in one core's cache.
//! Transactions run on the worker owning their fee payer's part (see
//! [`super::Executor::execute_block`]).
//!
//! Each copy sits behind its own `RwLock`. The dependency counts already guarantee that no
//! two transactions touching an account in conflicting ways run at the same time, so
//! writers never wait on these locks; they make that guarantee unnecessary for memory
//! safety (a wrong count would give a wrong result, never undefined behaviour).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{PoisonError, RwLock};

use hashbrown::HashTable;

use super::access::AccountAccess;
use super::transaction::ExecTx;
use crate::schedule::{DepAccess, KeyDeps};
use crate::state::{Account, AccountsTable};
use crate::Pubkey;

/// Windows with fewer account references than this are built and written back on the
/// calling thread (a broadcast to the workers costs more than it saves).
const PAR_MIN_REFS: usize = 1024;

/// Largest number of parts (a record keeps the part in 8 bits).
pub(super) const MAX_PARTS: usize = 256;

/// Largest window, in transactions: a record keeps a dependency count and a key id in 27
/// bits each, and a window has at most 256 references per transaction.
pub(super) const MAX_WINDOW: usize = 1 << 18;

/// A reference's record, packed: valid, signal, part (8 bits), key id in the part (27
/// bits), dependency count (27 bits; all ones for a repeated key).
const VALID: u64 = 1 << 63;
const SIGNAL: u64 = 1 << 62;
const PART_SHIFT: u32 = 54;
const ID_SHIFT: u32 = 27;
const FIELD: u64 = (1 << 27) - 1;
const REPEAT: u64 = FIELD;

fn pack(part: usize, id: usize, dep: u64) -> u64 {
    VALID | ((part as u64) << PART_SHIFT) | (((id as u64) & FIELD) << ID_SHIFT) | (dep & FIELD)
}

/// One account reference of a transaction, unpacked.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ref {
    part: usize,
    id: usize,
    /// Dependency count; `None` for a key the transaction already named.
    dep: Option<u32>,
    /// Whether a later reference waits for this one to finish.
    signal: bool,
}

impl Ref {
    /// A key the transaction never loads (see [`build_part`]): no copy, no dependency.
    const UNLOADED: Ref = Ref {
        part: usize::MAX,
        id: 0,
        dep: None,
        signal: false,
    };

    fn unpack(r: u64) -> Option<Self> {
        if r & VALID == 0 {
            return None;
        }
        let dep = r & FIELD;
        Some(Self {
            part: ((r >> PART_SHIFT) & 0xff) as usize,
            id: ((r >> ID_SHIFT) & FIELD) as usize,
            dep: (dep != REPEAT).then_some(dep as u32),
            signal: r & SIGNAL != 0,
        })
    }
}

/// A working copy and the number of the window's transactions on it that have finished
/// (what dependency counts are checked against), side by side, aligned to a pair of cache
/// lines (what a core fetches together), so that an account moving between cores moves
/// one pair and never drags a neighbour along.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(super) struct Cell {
    finished: AtomicU32,
    /// Whether a transaction of the window committed a change to the account (set under
    /// the account's write lock; read after the window, when no transaction runs).
    dirty: AtomicBool,
    account: RwLock<Account>,
}

/// The accounts of one part and the records of the references to them.
#[derive(Debug, Default)]
struct Part {
    keys: Vec<Pubkey>,
    hashes: Vec<u64>,
    cells: Vec<Cell>,
    /// One record per reference position of the window (0: another part's reference).
    records: Vec<u64>,
}

/// The working copies of the accounts a window names, split into parts.
#[derive(Debug)]
pub(super) struct WorkingSet {
    parts: Vec<Part>,
    /// Transaction `i`'s references are at positions `starts[i]..starts[i + 1]`.
    starts: Vec<usize>,
}

impl WorkingSet {
    /// Numbers the references of `txs` and loads their accounts (the default account when
    /// absent) from `table`, in `parts` parts (normally the worker count), part `p` on
    /// worker `p`. `txs` must not be longer than [`MAX_WINDOW`].
    pub(super) fn build(table: &AccountsTable, txs: &[ExecTx<'_>], parts: usize) -> Self {
        let parts = num_parts(table, parts);
        let mut starts = Vec::with_capacity(txs.len() + 1);
        let mut total = 0usize;
        for tx in txs {
            starts.push(total);
            total += tx.keys().len();
        }
        starts.push(total);
        let built = per_part(parts, total >= PAR_MIN_REFS, |p| {
            build_part(table, txs, &starts, total, p, parts)
        });
        Self {
            parts: built,
            starts,
        }
    }

    /// Number of parts.
    pub(super) fn num_parts(&self) -> usize {
        self.parts.len()
    }

    /// The reference at position `pos`, from whichever part holds it.
    fn reference(&self, pos: usize) -> Option<Ref> {
        self.parts
            .iter()
            .find_map(|p| p.records.get(pos).and_then(|&r| Ref::unpack(r)))
    }

    /// Transaction `i`'s references, in key order, into `out` (cleared first); a key
    /// the transaction never loads is [`Ref::UNLOADED`].
    pub(super) fn tx_refs(&self, i: usize, out: &mut Vec<Ref>) {
        out.clear();
        if let (Some(&a), Some(&b)) = (self.starts.get(i), self.starts.get(i + 1)) {
            out.extend((a..b).map(|pos| self.reference(pos).unwrap_or(Ref::UNLOADED)));
        }
    }

    /// The part owning transaction `i` (its fee payer's; part 0 for a transaction that
    /// names no account).
    pub(super) fn owner(&self, i: usize) -> usize {
        self.starts
            .get(i)
            .filter(|&&a| self.starts.get(i + 1).is_some_and(|&b| b > a))
            .and_then(|&a| self.reference(a))
            .map_or(0, |r| r.part)
    }

    fn cell(&self, r: &Ref) -> Option<&Cell> {
        self.parts.get(r.part)?.cells.get(r.id)
    }

    /// Whether the dependency counts of `refs` are met.
    pub(super) fn ready(&self, refs: &[Ref]) -> bool {
        refs.iter().all(|r| match r.dep {
            None | Some(0) => true,
            Some(d) => self
                .cell(r)
                .is_none_or(|c| c.finished.load(Ordering::Acquire) >= d),
        })
    }

    /// Records that the transaction whose references are `refs` has finished, on the
    /// references some later one waits for.
    pub(super) fn finished(&self, refs: &[Ref]) {
        for r in refs.iter().filter(|r| r.signal) {
            if let Some(c) = self.cell(r) {
                c.finished.fetch_add(1, Ordering::Release);
            }
        }
    }

    /// The accounts of the transaction whose references are `refs`.
    pub(super) fn access<'s>(&'s self, refs: &'s [Ref]) -> SlotAccess<'s> {
        SlotAccess { set: self, refs }
    }

    /// Stores every changed account back into `table` (worker `p` the accounts of part
    /// `p`, under one lock per stripe), appending their keys to `modified`.
    pub(super) fn write_back(&self, table: &AccountsTable, modified: &mut Vec<Pubkey>) {
        let write_part = |part: &Part| -> Vec<Pubkey> {
            // The changed accounts, grouped by stripe.
            let mut changed: Vec<(usize, usize)> = part
                .cells
                .iter()
                .enumerate()
                .filter(|(_, c)| c.dirty.swap(false, Ordering::Acquire))
                .filter_map(|(id, _)| {
                    let h = *part.hashes.get(id)?;
                    Some((table.stripe_of_hash(h), id))
                })
                .collect();
            changed.sort_unstable();
            let mut keys = Vec::with_capacity(changed.len());
            for group in changed.chunk_by(|a, b| a.0 == b.0) {
                let Some(&(stripe, _)) = group.first() else {
                    continue;
                };
                table.write_stripe_with(stripe, |writer| {
                    for &(_, id) in group {
                        let (Some(cell), Some(key), Some(&h)) =
                            (part.cells.get(id), part.keys.get(id), part.hashes.get(id))
                        else {
                            continue;
                        };
                        let mut account =
                            cell.account.write().unwrap_or_else(PoisonError::into_inner);
                        writer.insert(h, *key, std::mem::take(&mut *account));
                        keys.push(*key);
                    }
                });
            }
            keys
        };
        let refs = self.starts.last().copied().unwrap_or(0);
        let written = per_part(self.parts.len(), refs >= PAR_MIN_REFS, |p| {
            self.parts.get(p).map(write_part).unwrap_or_default()
        });
        for keys in written {
            modified.extend(keys);
        }
    }
}

/// How many parts a window of `table` is split into for `workers` workers.
fn num_parts(table: &AccountsTable, workers: usize) -> usize {
    workers.clamp(1, table.stripe_count().min(MAX_PARTS))
}

/// The part holding the keys of stripe `stripe` (of `stripes`) when a window is split into
/// `parts` parts: contiguous ranges of stripes.
fn part_of_stripe(stripe: usize, parts: usize, stripes: usize) -> usize {
    stripe * parts / stripes.max(1)
}

/// The part of the windowed path's split of `table`'s accounts that `key` falls in when a
/// block runs on `workers` worker threads (see [`super::Executor::execute_block`]): a
/// transaction whose accounts all fall in its fee payer's part moves no cache line
/// between workers. For benchmarks that separate that cost (`txpipe bench-exec --pairs
/// same-part`).
pub fn window_part(table: &AccountsTable, key: &Pubkey, workers: usize) -> usize {
    part_of_stripe(
        table.stripe_of(key),
        num_parts(table, workers),
        table.stripe_count(),
    )
}

/// `f(p)` for every part `p` in `0..parts`, in order: on worker `p` when `parallel` and
/// there is more than one part (a broadcast), else on the calling thread. A pool with
/// fewer workers than parts has the rest run on the calling thread.
fn per_part<R: Send>(parts: usize, parallel: bool, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    if parts <= 1 || !parallel {
        return (0..parts).map(f).collect();
    }
    let mut out: Vec<Option<R>> =
        rayon::broadcast(|ctx| (ctx.index() < parts).then(|| f(ctx.index())));
    out.truncate(parts);
    let mut out: Vec<R> = out.into_iter().flatten().collect();
    for p in out.len()..parts {
        out.push(f(p));
    }
    out
}

/// The keys of `tx` it may load: the fee payer (key 0) and every key an instruction names
/// as an account, as a bit set over key indexes (a transaction has at most 256 keys).
/// The others (program ids not passed as accounts) are neither read nor written by the
/// transaction, so they need no working copy and no dependency.
fn loaded_keys(tx: &ExecTx<'_>) -> [u64; 4] {
    let mut mask = [1u64, 0, 0, 0];
    for ix in tx.instructions() {
        for &a in ix.accounts {
            mask[usize::from(a >> 6)] |= 1 << (a & 63);
        }
    }
    mask
}

/// Part `p` of a window: walks every transaction in block order, numbering the
/// references to the part's keys that the transaction loads ([`loaded_keys`]) and
/// loading their accounts.
fn build_part(
    table: &AccountsTable,
    txs: &[ExecTx<'_>],
    starts: &[usize],
    total: usize,
    p: usize,
    parts: usize,
) -> Part {
    let stripes = table.stripe_count();
    let mut part = Part {
        records: vec![0; total],
        ..Part::default()
    };
    let mut ids: HashTable<u32> = HashTable::with_capacity(total / parts + 16);
    let mut deps: Vec<KeyDeps> = Vec::with_capacity(total / parts + 16);
    // (position, id, rank) of every first reference, for the signals.
    let mut firsts: Vec<(usize, usize, u32)> = Vec::with_capacity(total / parts + 16);
    for (t, (tx, &start)) in txs.iter().zip(starts).enumerate() {
        let stamp = (t as u32).saturating_add(1);
        let loaded = loaded_keys(tx);
        for (j, (key, &writable)) in tx.keys().iter().zip(tx.writable_flags()).enumerate() {
            if loaded[(j >> 6) & 3] & (1 << (j & 63)) == 0 {
                continue;
            }
            let h = table.key_hash(key);
            let stripe = table.stripe_of_hash(h);
            if part_of_stripe(stripe, parts, stripes) != p {
                continue;
            }
            let pos = start + j;
            let keys = &part.keys;
            let id = match ids.find(h, |&id| keys.get(id as usize) == Some(key)) {
                Some(&id) => id as usize,
                None => {
                    let id = part.keys.len();
                    let account = table
                        .read_stripe_with(stripe, |r| r.get(h, key).cloned())
                        .unwrap_or_default();
                    part.keys.push(*key);
                    part.hashes.push(h);
                    part.cells.push(Cell {
                        finished: AtomicU32::new(0),
                        dirty: AtomicBool::new(false),
                        account: RwLock::new(account),
                    });
                    deps.push(KeyDeps::default());
                    let hashes = &part.hashes;
                    ids.insert_unique(h, id as u32, |&i| {
                        hashes.get(i as usize).copied().unwrap_or(0)
                    });
                    id
                }
            };
            let Some(state) = deps.get_mut(id) else {
                continue;
            };
            let record = match state.access(stamp, pos as u32, writable) {
                DepAccess::First { dep, rank } => {
                    firsts.push((pos, id, rank));
                    pack(p, id, u64::from(dep))
                }
                DepAccess::Repeat { upgrade } => {
                    if let Some((first, dep)) = upgrade {
                        if let Some(r) = part.records.get_mut(first as usize) {
                            *r = pack(p, id, u64::from(dep));
                        }
                    }
                    pack(p, id, REPEAT)
                }
            };
            if let Some(r) = part.records.get_mut(pos) {
                *r = record;
            }
        }
    }
    for (pos, id, rank) in firsts {
        if deps.get(id).is_some_and(|s| s.signals(rank)) {
            if let Some(r) = part.records.get_mut(pos) {
                *r |= SIGNAL;
            }
        }
    }
    part
}

/// One transaction's accounts in a [`WorkingSet`]: key index `i` is reference `refs[i]`.
pub(super) struct SlotAccess<'s> {
    set: &'s WorkingSet,
    refs: &'s [Ref],
}

impl SlotAccess<'_> {
    fn cell(&self, i: usize) -> Option<&Cell> {
        self.refs.get(i).and_then(|r| self.set.cell(r))
    }
}

impl AccountAccess for SlotAccess<'_> {
    fn load(&self, i: usize) -> Account {
        self.cell(i).map_or_else(Account::default, |c| {
            c.account
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        })
    }

    fn store(&mut self, i: usize, account: Account) {
        if let Some(c) = self.cell(i) {
            *c.account.write().unwrap_or_else(PoisonError::into_inner) = account;
            c.dirty.store(true, Ordering::Release);
        }
    }

    fn charge_fee_only(&mut self, fee: u64) {
        if let Some(c) = self.cell(0) {
            let mut account = c.account.write().unwrap_or_else(PoisonError::into_inner);
            account.lamports = account.lamports.saturating_sub(fee);
            c.dirty.store(true, Ordering::Release);
        }
    }
}
