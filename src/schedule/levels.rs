//! Level assignment and the batches it gives.

use std::hash::BuildHasher;

use hashbrown::HashTable;

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
/// (0: none).
#[derive(Clone, Copy, Default)]
struct KeyLevels {
    write: u32,
    read: u32,
}

/// Schedules `txs` (in block order) into conflict-free batches; see the module docs.
///
/// Linear in the number of account references. A block of more than `u32::MAX - 1`
/// transactions is not supported (levels are `u32`; such a block cannot be held in memory
/// anyway).
pub fn schedule<A: AccessSet>(txs: &[A]) -> Schedule {
    let n = txs.len();
    let hasher = foldhash::fast::RandomState::default();
    // Key interning: the table holds only 4-byte ids (small enough to stay in cache); the
    // key and the levels of id `i` are `keys[i]` and `states[i]`.
    let mut ids: HashTable<u32> = HashTable::new();
    let mut keys: Vec<A::Key> = Vec::new();
    let mut states: Vec<KeyLevels> = Vec::new();
    let mut scratch: Vec<(u32, bool)> = Vec::new();
    let mut levels: Vec<u32> = Vec::with_capacity(n);
    let mut account_refs = 0usize;
    let mut max_level = 0u32;

    for tx in txs {
        scratch.clear();
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
                    states.push(KeyLevels::default());
                    ids.insert_unique(h, id, |&i| {
                        keys.get(i as usize).map_or(0, |k| hasher.hash_one(k))
                    });
                    id
                }
            };
            if let Some(s) = states.get(id as usize) {
                let after = if writable {
                    s.write.max(s.read)
                } else {
                    s.write
                };
                level = level.max(after.saturating_add(1));
            }
            scratch.push((id, writable));
        });
        account_refs += scratch.len();
        for &(id, writable) in &scratch {
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
    Schedule {
        order,
        offsets,
        account_refs,
    }
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
