//! Level assignment and the batches it gives.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::deps::{DepAccess, KeyDeps, DUPLICATE_ACCESS};
use super::AccessSet;

/// Conflict-free batches of a block, as indexes into the block (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Transaction indexes grouped by batch, block order inside each batch.
    order: Vec<usize>,
    /// Batch `b` is `order[offsets[b]..offsets[b + 1]]`.
    offsets: Vec<usize>,
    /// Number of `(key, writable)` references seen.
    account_refs: usize,
}

/// Figures of a [`Schedule`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScheduleStats {
    /// Transactions scheduled.
    pub txs: usize,
    /// Account references (access-set entries) seen.
    pub account_refs: usize,
    /// Number of batches.
    pub batches: usize,
    /// Transactions in the largest batch.
    pub largest_batch: usize,
    /// Length of the longest chain of conflicting transactions (equal to `batches`: the
    /// levels are as early as possible, so no valid schedule has fewer batches).
    pub critical_path: usize,
}

impl Schedule {
    /// Number of transactions scheduled.
    pub fn num_txs(&self) -> usize {
        self.order.len()
    }

    /// Number of batches.
    pub fn num_batches(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Batch `b` (transaction indexes in block order), or `None` past the end.
    pub fn batch(&self, b: usize) -> Option<&[usize]> {
        let start = *self.offsets.get(b)?;
        let end = *self.offsets.get(b + 1)?;
        self.order.get(start..end)
    }

    /// The batches in execution order.
    pub fn batches(&self) -> impl ExactSizeIterator<Item = &[usize]> + '_ {
        self.offsets
            .windows(2)
            .map(|w| self.order.get(w[0]..w[1]).unwrap_or(&[]))
    }

    /// Size of the largest batch (0 for an empty block).
    pub fn largest_batch(&self) -> usize {
        self.batches().map(<[usize]>::len).max().unwrap_or(0)
    }

    /// The figures of this schedule.
    pub fn stats(&self) -> ScheduleStats {
        ScheduleStats {
            txs: self.num_txs(),
            account_refs: self.account_refs,
            batches: self.num_batches(),
            largest_batch: self.largest_batch(),
            critical_path: self.num_batches(),
        }
    }
}

/// Per-key state: the last level that wrote the key and the highest level that read it
/// (0: none), and its dependency-count state.
#[derive(Clone, Copy, Default)]
struct KeyLevels {
    write: u32,
    read: u32,
    deps: KeyDeps,
}

/// The distinct keys of a scheduled block, numbered in order of first appearance, the key
/// number of every access, and each access's dependency count and completion signal (the
/// rule of [`crate::schedule::KeyDeps`], which the executor's window builder applies per
/// part).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyIndex<K> {
    /// Key of each id.
    keys: Vec<K>,
    /// Ids of every access, transaction after transaction, each transaction's in
    /// [`AccessSet::for_each_access`] order.
    ids: Vec<u32>,
    /// Dependency count of every access (see [`KeyIndex::tx_deps`]).
    deps: Vec<u32>,
    /// Whether a later access waits for this one (see [`KeyIndex::tx_signals`]; only
    /// tests read it).
    #[cfg(any(test, feature = "test-support"))]
    signals: Vec<bool>,
    /// Transaction `i`'s ids are `ids[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
}

impl<K> KeyIndex<K> {
    /// The distinct keys; id `i` is `keys()[i]`.
    pub fn keys(&self) -> &[K] {
        &self.keys
    }

    /// Number of distinct keys.
    pub fn num_keys(&self) -> usize {
        self.keys.len()
    }

    /// Number of transactions indexed.
    pub fn num_txs(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// The ids of transaction `i`'s accesses, in [`AccessSet::for_each_access`] order
    /// (empty past the end).
    pub fn tx_ids(&self, i: usize) -> &[u32] {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&a), Some(&b)) => self.ids.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The dependency count of each of transaction `i`'s accesses (aligned with
    /// [`KeyIndex::tx_ids`]): how many of the earlier transactions that access the same
    /// key must have finished before transaction `i` may run. A writer waits for every
    /// earlier transaction on the key; a reader for those up to and including the last
    /// earlier writer. Counting finished transactions per key is enough: a transaction
    /// cannot finish before the ones it waits for, so once `d` have finished, the first `d`
    /// in block order (the ones that matter) have. An access repeating a key the
    /// transaction already named is [`DUPLICATE_ACCESS`] (its first access carries the
    /// count, as a writer if any of them writes).
    ///
    /// Running each transaction as soon as its counts are met gives the block's sequential
    /// result with no barrier at all: the same dependency graph whose levels are the
    /// [`Schedule`]'s batches.
    pub fn tx_deps(&self, i: usize) -> &[u32] {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&a), Some(&b)) => self.deps.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Whether some later access waits for each of transaction `i`'s accesses (aligned
    /// with [`KeyIndex::tx_ids`]): only those need their completion counted. Accesses
    /// after a key's last writer are waited for by nobody (a reader waits only for
    /// writers, and they all come before), nor is a last writer nothing follows; so a key
    /// that is only read (a program id named by every transaction) is never counted, and
    /// its counter is never written from two threads. Counting only these keeps [`KeyIndex::tx_deps`] exact: an
    /// uncounted access finishes after every counted one on its key.
    ///
    /// Built with the `test-support` feature only (the executor's window builder applies
    /// the same rule, [`crate::schedule::KeyDeps::signals`], per part).
    #[cfg(any(test, feature = "test-support"))]
    pub fn tx_signals(&self, i: usize) -> &[bool] {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&a), Some(&b)) => self.signals.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Schedules `txs` (in block order) into conflict-free batches; see the module docs.
///
/// Linear in the number of account references. A block of more than `u32::MAX - 1`
/// transactions is not supported (levels are `u32`; such a block cannot be held in memory
/// anyway).
pub fn schedule<A: AccessSet>(txs: &[A]) -> Schedule {
    schedule_indexed(txs).0
}

/// [`schedule`], also returning the [`KeyIndex`] built on the way (no extra hashing).
pub fn schedule_indexed<A: AccessSet>(txs: &[A]) -> (Schedule, KeyIndex<A::Key>) {
    let hasher = foldhash::fast::RandomState::default();
    let n = txs.len();
    // Key interning: the table holds only 4-byte ids (small enough to stay in cache); the
    // key and the levels of id `i` are `keys[i]` and `states[i]`. Sized for a block of
    // transactions touching about three keys each, so that it rarely grows.
    let mut ids: HashTable<u32> = HashTable::with_capacity(n.saturating_mul(2).min(1 << 20));
    let mut keys: Vec<A::Key> = Vec::with_capacity(n.saturating_mul(2).min(1 << 20));
    let mut hashes: Vec<u64> = Vec::with_capacity(keys.capacity());
    let mut states: Vec<KeyLevels> = Vec::with_capacity(keys.capacity());
    let mut access_ids: Vec<u32> = Vec::with_capacity(n.saturating_mul(3));
    let mut deps: Vec<u32> = Vec::with_capacity(n.saturating_mul(3));
    // Rank of each access among the accesses to its key (for `signals`).
    #[cfg(any(test, feature = "test-support"))]
    let mut ranks: Vec<u32> = Vec::with_capacity(n.saturating_mul(3));
    let mut access_writable: Vec<bool> = Vec::with_capacity(16);
    let mut starts: Vec<usize> = Vec::with_capacity(n + 1);
    let mut levels: Vec<u32> = Vec::with_capacity(n);
    let mut max_level = 0u32;

    for (t, tx) in txs.iter().enumerate() {
        let stamp = (t as u32).saturating_add(1);
        let start = access_ids.len();
        starts.push(start);
        access_writable.clear();
        let mut level = 1u32;
        tx.for_each_access(|key, writable| {
            let h = hasher.hash_one(key);
            let found = ids
                .find(h, |&id| keys.get(id as usize) == Some(&key))
                .copied();
            let id = match found {
                Some(id) => id,
                None => {
                    let id = keys.len() as u32;
                    keys.push(key);
                    hashes.push(h);
                    states.push(KeyLevels::default());
                    ids.insert_unique(h, id, |&i| hashes.get(i as usize).copied().unwrap_or(0));
                    id
                }
            };
            if let Some(s) = states.get_mut(id as usize) {
                let after = if writable {
                    s.write.max(s.read)
                } else {
                    s.write
                };
                level = level.max(after.saturating_add(1));
                let pos = access_ids.len() as u32;
                match s.deps.access(stamp, pos, writable) {
                    #[cfg_attr(not(any(test, feature = "test-support")), allow(unused_variables))]
                    DepAccess::First { dep, rank } => {
                        deps.push(dep);
                        #[cfg(any(test, feature = "test-support"))]
                        ranks.push(rank);
                    }
                    DepAccess::Repeat { upgrade } => {
                        deps.push(DUPLICATE_ACCESS);
                        #[cfg(any(test, feature = "test-support"))]
                        ranks.push(u32::MAX);
                        if let Some((first, dep)) = upgrade {
                            if let Some(d) = deps.get_mut(first as usize) {
                                *d = dep;
                            }
                        }
                    }
                }
            }
            access_ids.push(id);
            access_writable.push(writable);
        });
        let tx_ids = access_ids.get(start..).unwrap_or(&[]);
        for (&id, &writable) in tx_ids.iter().zip(&access_writable) {
            if let Some(s) = states.get_mut(id as usize) {
                if writable {
                    s.write = s.write.max(level);
                } else {
                    s.read = s.read.max(level);
                }
            }
        }
        max_level = max_level.max(level);
        levels.push(level);
    }
    starts.push(access_ids.len());
    let account_refs = access_ids.len();
    // An access is waited for iff it comes before its key's last writer, or is that
    // writer and some access follows it.
    #[cfg(any(test, feature = "test-support"))]
    let signals: Vec<bool> = access_ids
        .iter()
        .zip(&ranks)
        .map(|(&id, &rank)| {
            rank != u32::MAX
                && states
                    .get(id as usize)
                    .is_some_and(|s| s.deps.signals(rank))
        })
        .collect();

    // Counting sort by level (stable: block order inside a batch).
    let num_batches = if n == 0 { 0 } else { max_level as usize };
    let mut offsets = vec![0usize; num_batches + 1];
    for &l in &levels {
        offsets[l as usize] += 1;
    }
    for b in 0..num_batches {
        offsets[b + 1] += offsets[b];
    }
    // offsets[l] now ends batch l - 1; fill from the front with a cursor per batch.
    let mut cursor: Vec<usize> = offsets[..num_batches].to_vec();
    let mut order = vec![0usize; n];
    for (i, &l) in levels.iter().enumerate() {
        let c = &mut cursor[l as usize - 1];
        order[*c] = i;
        *c += 1;
    }
    let schedule = Schedule {
        order,
        offsets,
        account_refs,
    };
    let index = KeyIndex {
        keys,
        deps,
        #[cfg(any(test, feature = "test-support"))]
        signals,
        ids: access_ids,
        starts,
    };
    (schedule, index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batches(s: &Schedule) -> Vec<Vec<usize>> {
        s.batches().map(<[usize]>::to_vec).collect()
    }

    #[test]
    fn module_doc_example() {
        let (a, b, c) = (1u8, 2u8, 3u8);
        let txs = vec![
            vec![(a, true)],
            vec![(a, false), (b, true)],
            vec![(c, true)],
            vec![(a, false), (c, false)],
            vec![(a, true)],
        ];
        let s = schedule(&txs);
        assert_eq!(batches(&s), vec![vec![0, 2], vec![1, 3], vec![4]]);
        let st = s.stats();
        assert_eq!(
            (st.txs, st.batches, st.largest_batch, st.critical_path),
            (5, 3, 2, 3)
        );
        assert_eq!(st.account_refs, 7);
    }

    #[test]
    fn empty_and_readers() {
        let none: Vec<Vec<(u8, bool)>> = Vec::new();
        let s = schedule(&none);
        assert_eq!(s.num_batches(), 0);
        assert_eq!(s.largest_batch(), 0);
        assert!(s.batch(0).is_none());
        // Readers never conflict with each other; empty access sets go first.
        let txs = vec![vec![(1u8, false)], vec![], vec![(1u8, false), (1, false)]];
        assert_eq!(batches(&schedule(&txs)), vec![vec![0, 1, 2]]);
    }

    #[test]
    fn write_after_reads_waits_for_every_reader() {
        // r r w r: the writer follows both readers, the last reader follows the writer.
        let txs = vec![
            vec![(1u8, false)],
            vec![(2u8, true), (1, false)],
            vec![(1u8, true)],
            vec![(1u8, false)],
        ];
        assert_eq!(batches(&schedule(&txs)), vec![vec![0, 1], vec![2], vec![3]]);
    }
}
