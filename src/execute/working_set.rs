//! A window's working set: one working copy of every account the window names, loaded
//! from the table once, executed against batch by batch, written back once.
//!
//! This is how a validator's bank runs a batch (load the accounts, execute, store the
//! changed ones), done for a whole window of conflict-free batches: a transaction finds
//! its accounts by the ids the scheduler gave its keys ([`crate::schedule::KeyIndex`]), so
//! it hashes no key and takes no stripe lock while it runs.
//!
//! # Parts: one per worker
//! Moving a cache line from one core to another costs more than a whole lookup that hits
//! the core's own cache, and a transfer is only a few hundred nanoseconds of work. So the
//! accounts are split into parts, one per worker thread, by stripe (part `p` holds the
//! keys of a contiguous range of stripes), and worker `p` (rayon's thread index) does all
//! the table work of part `p`: it loads those accounts, keeps their working copies in
//! memory it allocated, and writes them back. The table's stripes, their locks and the
//! copies of one part stay in one core's cache, window after window. Transactions go
//! preferably to the worker owning their fee payer's part (see
//! [`super::Executor::execute_block`]).
//!
//! Each copy sits behind its own `RwLock`. The schedule already guarantees that no two
//! transactions of a batch conflict on an account, so writers never wait on these locks;
//! they make that guarantee unnecessary for memory safety (a wrong schedule would give a
//! wrong result, never undefined behaviour).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{PoisonError, RwLock};

use super::executor::AccountAccess;
use crate::schedule::{KeyIndex, DUPLICATE_ACCESS};
use crate::state::{Account, AccountsTable};
use crate::Pubkey;

/// Windows with fewer distinct keys than this load and write back on the calling thread
/// (a broadcast to the workers costs more than it saves).
const PAR_MIN_KEYS: usize = 512;

/// One account's working copy.
#[derive(Debug, Default)]
struct Slot {
    account: Account,
    /// Whether a transaction of the window committed a change to it.
    dirty: bool,
}

/// A working copy and the number of the window's transactions on it that have finished
/// (what [`KeyIndex::tx_deps`] counts are checked against), side by side, aligned to a
/// pair of cache lines (what a core fetches together), so that an account moving between
/// cores moves one pair and never drags a neighbour along.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Cell {
    finished: AtomicU32,
    slot: RwLock<Slot>,
}

/// The accounts of one part: key ids (grouped by stripe, stripes ascending) and their
/// working copies.
#[derive(Debug, Default)]
struct Part {
    ids: Vec<u32>,
    slots: Vec<Cell>,
    /// `(stripe, end)`: the ids of `stripe` are `ids[previous end..end]`.
    stripes: Vec<(usize, usize)>,
}

/// The working copies of the accounts a window names, by key id, split into parts.
#[derive(Debug)]
pub(super) struct WorkingSet<'k> {
    index: &'k KeyIndex<Pubkey>,
    /// Part and position in the part of each key id.
    loc: Vec<(u32, u32)>,
    parts: Vec<Part>,
}

impl<'k> WorkingSet<'k> {
    /// Loads the account of every key of `index` (the default account when absent) from
    /// `table`, in `parts` parts (normally the worker count; at least 1). `index` must
    /// have been made with the table's hash ([`AccountsTable::key_hash`]). Each stripe is
    /// read under one lock, so the lookups' cache misses overlap.
    pub(super) fn load(table: &AccountsTable, index: &'k KeyIndex<Pubkey>, parts: usize) -> Self {
        let stripes = table.stripe_count();
        let parts = parts.clamp(1, stripes);
        // Ids grouped by stripe (a counting sort), then cut into parts of whole stripes.
        let stripe_of: Vec<usize> = index
            .hashes()
            .iter()
            .map(|&h| table.stripe_of_hash(h))
            .collect();
        let mut ends = vec![0usize; stripes + 1];
        for &st in &stripe_of {
            ends[st + 1] += 1;
        }
        for st in 0..stripes {
            ends[st + 1] += ends[st];
        }
        let mut fill = ends.clone();
        let mut sorted = vec![0u32; stripe_of.len()];
        for (id, &st) in stripe_of.iter().enumerate() {
            sorted[fill[st]] = id as u32;
            fill[st] += 1;
        }
        let mut members: Vec<Part> = Vec::with_capacity(parts);
        let mut loc = vec![(0u32, 0u32); stripe_of.len()];
        for p in 0..parts {
            let (lo, hi) = (p * stripes / parts, (p + 1) * stripes / parts);
            let base = ends[lo];
            let ids = sorted[base..ends[hi]].to_vec();
            for (pos, &id) in ids.iter().enumerate() {
                loc[id as usize] = (p as u32, pos as u32);
            }
            let bounds = (lo..hi)
                .filter(|&st| ends[st + 1] > ends[st])
                .map(|st| (st, ends[st + 1] - base))
                .collect();
            members.push(Part {
                ids,
                slots: Vec::new(),
                stripes: bounds,
            });
        }
        let load_part = |part: &Part| -> Vec<Cell> {
            let mut cells = Vec::with_capacity(part.ids.len());
            let mut start = 0;
            for &(stripe, end) in &part.stripes {
                let group = part.ids.get(start..end).unwrap_or(&[]);
                start = end;
                table.read_stripe_with(stripe, |reader| {
                    for &id in group {
                        let i = id as usize;
                        let account = match (index.keys().get(i), index.hashes().get(i)) {
                            (Some(k), Some(&h)) => reader.get(h, k).cloned().unwrap_or_default(),
                            _ => Account::default(),
                        };
                        cells.push(Cell {
                            finished: AtomicU32::new(0),
                            slot: RwLock::new(Slot {
                                account,
                                dirty: false,
                            }),
                        });
                    }
                });
            }
            cells
        };
        let slots: Vec<Vec<Cell>> = if parts > 1 && index.num_keys() >= PAR_MIN_KEYS {
            // Worker `p` loads part `p` (broadcast results come in thread-index order).
            let mut loaded =
                rayon::broadcast(|ctx| members.get(ctx.index()).map(load_part).unwrap_or_default());
            loaded.truncate(parts);
            // (A pool of fewer workers than parts: the rest here.)
            for part in members.iter().skip(loaded.len()) {
                loaded.push(load_part(part));
            }
            loaded
        } else {
            members.iter().map(load_part).collect()
        };
        for (part, cells) in members.iter_mut().zip(slots) {
            part.slots = cells;
        }
        Self {
            index,
            loc,
            parts: members,
        }
    }

    /// The part holding key id `id` (0 for an unknown id).
    pub(super) fn part_of(&self, id: u32) -> usize {
        self.loc.get(id as usize).map_or(0, |&(p, _)| p as usize)
    }

    /// Number of parts.
    pub(super) fn num_parts(&self) -> usize {
        self.parts.len()
    }

    fn cell(&self, id: u32) -> Option<&Cell> {
        let &(part, pos) = self.loc.get(id as usize)?;
        self.parts.get(part as usize)?.slots.get(pos as usize)
    }

    fn slot(&self, id: u32) -> Option<&RwLock<Slot>> {
        self.cell(id).map(|c| &c.slot)
    }

    /// Whether the dependency counts `deps` of a transaction whose key ids are `ids` are
    /// met (see [`KeyIndex::tx_deps`]).
    pub(super) fn ready(&self, ids: &[u32], deps: &[u32]) -> bool {
        ids.iter().zip(deps).all(|(&id, &d)| {
            d == 0
                || d == DUPLICATE_ACCESS
                || self
                    .cell(id)
                    .is_none_or(|c| c.finished.load(Ordering::Acquire) >= d)
        })
    }

    /// Records that a transaction whose key ids are `ids` has finished, on the keys
    /// `signals` marks (see [`KeyIndex::tx_signals`]): every transaction waiting for it
    /// may now see its changes.
    pub(super) fn finished(&self, ids: &[u32], signals: &[bool]) {
        for (&id, &signal) in ids.iter().zip(signals) {
            if signal {
                if let Some(c) = self.cell(id) {
                    c.finished.fetch_add(1, Ordering::Release);
                }
            }
        }
    }

    /// The accounts of one transaction whose key ids (in key order) are `ids`.
    pub(super) fn access<'s>(&'s self, ids: &'s [u32]) -> SlotAccess<'s> {
        SlotAccess { set: self, ids }
    }

    /// Stores every changed account back into `table` (worker `p` the accounts of part
    /// `p`), appending their keys to `modified`.
    pub(super) fn write_back(&self, table: &AccountsTable, modified: &mut Vec<Pubkey>) {
        let write_part = |part: &Part| -> Vec<Pubkey> {
            let mut keys = Vec::with_capacity(part.ids.len());
            let mut start = 0;
            for &(stripe, end) in &part.stripes {
                let (Some(ids), Some(cells)) =
                    (part.ids.get(start..end), part.slots.get(start..end))
                else {
                    continue;
                };
                start = end;
                // Under the stripe's lock, each copy under its own (a lock order nothing
                // else uses the other way round: transactions never touch the table).
                table.write_stripe_with(stripe, |writer| {
                    for (&id, cell) in ids.iter().zip(cells) {
                        let mut slot = cell.slot.write().unwrap_or_else(PoisonError::into_inner);
                        let i = id as usize;
                        if let (true, Some(key), Some(&h)) = (
                            slot.dirty,
                            self.index.keys().get(i),
                            self.index.hashes().get(i),
                        ) {
                            slot.dirty = false;
                            writer.insert(h, *key, std::mem::take(&mut slot.account));
                            keys.push(*key);
                        }
                    }
                });
            }
            keys
        };
        if self.parts.len() > 1 && self.index.num_keys() >= PAR_MIN_KEYS {
            let written = rayon::broadcast(|ctx| {
                self.parts
                    .get(ctx.index())
                    .map(write_part)
                    .unwrap_or_default()
            });
            let done = written.len();
            for keys in written {
                modified.extend(keys);
            }
            // (A pool of fewer workers than parts: the rest here.)
            for part in self.parts.iter().skip(done) {
                modified.extend(write_part(part));
            }
        } else {
            for part in &self.parts {
                modified.extend(write_part(part));
            }
        }
    }
}

/// One transaction's accounts in a [`WorkingSet`]: key index `i` is key id `ids[i]`.
pub(super) struct SlotAccess<'s> {
    set: &'s WorkingSet<'s>,
    ids: &'s [u32],
}

impl SlotAccess<'_> {
    fn slot(&self, i: usize) -> Option<&RwLock<Slot>> {
        self.ids.get(i).and_then(|&id| self.set.slot(id))
    }
}

impl AccountAccess for SlotAccess<'_> {
    fn load(&self, i: usize) -> Account {
        self.slot(i).map_or_else(Account::default, |s| {
            s.read()
                .unwrap_or_else(PoisonError::into_inner)
                .account
                .clone()
        })
    }

    fn store(&mut self, i: usize, account: Account) {
        if let Some(s) = self.slot(i) {
            let mut slot = s.write().unwrap_or_else(PoisonError::into_inner);
            slot.account = account;
            slot.dirty = true;
        }
    }

    fn charge_fee_only(&mut self, fee: u64) {
        if let Some(s) = self.slot(0) {
            let mut slot = s.write().unwrap_or_else(PoisonError::into_inner);
            slot.account.lamports = slot.account.lamports.saturating_sub(fee);
            slot.dirty = true;
        }
    }
}
