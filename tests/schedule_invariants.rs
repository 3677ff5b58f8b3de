//! Scheduler invariants on random access sets: every transaction exactly once, no conflict
//! inside a batch, per-account order preserved, and as few batches as the longest conflict
//! chain (checked against a quadratic reference on small blocks). Plus hot-account blocks,
//! which must stay linear.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use txpipe::schedule::{schedule, Schedule};

type Tx = Vec<(u16, bool)>;

fn conflicts(a: &Tx, b: &Tx) -> bool {
    a.iter()
        .any(|&(ka, wa)| b.iter().any(|&(kb, wb)| ka == kb && (wa || wb)))
}

/// Batch index of every transaction; panics if one is missing or repeated.
fn batch_of(s: &Schedule, n: usize) -> Vec<usize> {
    let mut at = vec![usize::MAX; n];
    for (b, batch) in s.batches().enumerate() {
        assert!(!batch.is_empty(), "empty batch {b}");
        for &i in batch {
            assert!(i < n, "index {i} out of range");
            assert_eq!(at[i], usize::MAX, "tx {i} scheduled twice");
            at[i] = b;
        }
        assert!(
            batch.windows(2).all(|w| w[0] < w[1]),
            "batch not in block order"
        );
    }
    assert!(at.iter().all(|&b| b != usize::MAX), "a tx is missing");
    at
}

fn block(universe: u16, max_len: usize) -> impl Strategy<Value = Vec<Tx>> {
    prop::collection::vec(
        prop::collection::vec((0..universe, any::<bool>()), 0..6),
        0..max_len,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Exactly once; conflicting pairs in block order across batches (which also rules
    /// out a conflict inside a batch); batch count = critical path.
    #[test]
    fn invariants_small_blocks(universe in prop_oneof![Just(2u16), Just(10), Just(100)], txs in block(100, 300)) {
        let txs: Vec<Tx> = txs
            .into_iter()
            .map(|t| t.into_iter().map(|(k, w)| (k % universe, w)).collect())
            .collect();
        let s = schedule(&txs);
        let n = txs.len();
        prop_assert_eq!(s.num_txs(), n);
        let at = batch_of(&s, n);
        // Longest conflict chain ending at each tx (quadratic reference).
        let mut chain = vec![1usize; n];
        for j in 0..n {
            for i in 0..j {
                if conflicts(&txs[i], &txs[j]) {
                    prop_assert!(at[i] < at[j], "tx {} (batch {}) conflicts with later tx {} (batch {})", i, at[i], j, at[j]);
                    chain[j] = chain[j].max(chain[i] + 1);
                }
            }
        }
        let critical = chain.iter().copied().max().unwrap_or(0);
        let st = s.stats();
        prop_assert_eq!(st.batches, critical);
        prop_assert_eq!(st.critical_path, critical);
        prop_assert_eq!(st.txs, n);
        prop_assert_eq!(st.account_refs, txs.iter().map(Vec::len).sum::<usize>());
        prop_assert_eq!(st.largest_batch, s.batches().map(<[usize]>::len).max().unwrap_or(0));
    }

    /// Larger blocks: the same checks, conflicts inside batches checked per key.
    #[test]
    fn invariants_large_blocks(universe in prop_oneof![Just(2u16), Just(10), Just(100), Just(10_000)], txs in block(10_000, 3000)) {
        let txs: Vec<Tx> = txs
            .into_iter()
            .map(|t| t.into_iter().map(|(k, w)| (k % universe, w)).collect())
            .collect();
        let s = schedule(&txs);
        let at = batch_of(&s, txs.len());
        // Per key: the sequence of (batch, writes) in block order must have every write
        // strictly after all earlier accesses and strictly before all later ones.
        let mut per_key: Vec<Vec<(usize, bool)>> = vec![Vec::new(); usize::from(universe)];
        for (i, t) in txs.iter().enumerate() {
            let mut seen: Vec<(u16, bool)> = Vec::new();
            for &(k, w) in t {
                match seen.iter_mut().find(|(sk, _)| *sk == k) {
                    Some(e) => e.1 |= w,
                    None => seen.push((k, w)),
                }
            }
            for (k, w) in seen {
                per_key[usize::from(k)].push((at[i], w));
            }
        }
        for accesses in &per_key {
            let mut last_write: Option<usize> = None;
            let mut max_seen: Option<usize> = None;
            for &(b, w) in accesses {
                if let Some(lw) = last_write {
                    prop_assert!(b > lw, "access in batch {} not after write in batch {}", b, lw);
                }
                if w {
                    if let Some(m) = max_seen {
                        prop_assert!(b > m, "write in batch {} not after access in batch {}", b, m);
                    }
                    last_write = Some(b);
                }
                max_seen = Some(max_seen.map_or(b, |m| m.max(b)));
            }
        }
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

#[test]
fn hot_account_writers_are_linear() {
    // 200,000 transactions all writing key 0 (and each its own key): one per batch.
    let n = 200_000u32;
    let txs: Vec<Vec<(u32, bool)>> = (0..n).map(|i| vec![(0, true), (i + 1, true)]).collect();
    let (s, t) = timed(|| schedule(&txs));
    assert_eq!(s.num_batches(), n as usize);
    assert_eq!(s.largest_batch(), 1);
    assert!(s.batches().enumerate().all(|(b, batch)| batch == [b]));
    // Quadratic would be 2*10^10 steps; linear is milliseconds even unoptimised.
    assert!(t < Duration::from_secs(5), "took {t:?}");
}

#[test]
fn hot_account_readers_share_one_batch() {
    // Everyone reads key 0 and writes its own key: one batch. A writer of key 0 then waits
    // for all of them, and later readers wait for the writer.
    let n = 100_000u32;
    let mut txs: Vec<Vec<(u32, bool)>> = (0..n).map(|i| vec![(0, false), (i + 1, true)]).collect();
    txs.push(vec![(0, true)]);
    txs.push(vec![(0, false)]);
    txs.push(vec![(5, true)]);
    let s = schedule(&txs);
    let sizes: Vec<usize> = s.batches().map(<[usize]>::len).collect();
    assert_eq!(sizes, vec![n as usize, 2, 1]);
    assert_eq!(s.batch(1), Some(&[n as usize, n as usize + 2][..]));
}

/// Dependency counts and completion signals by their definitions (quadratic reference):
/// for tx `i` and key `k` (first occurrence; writable if any occurrence is), with `r` the
/// number of earlier txs touching `k`: a writer waits for `r`; a reader for 1 + the rank of
/// the last earlier writer (0 without). An access signals iff a later access waits for it.
fn check_deps(txs: &[Tx]) {
    use txpipe::schedule::{schedule_indexed, DUPLICATE_ACCESS};
    let (_, index) = schedule_indexed(txs);
    // Per tx: merged (key -> writable) in first-occurrence order, and each key's rank.
    let mut history: std::collections::HashMap<u16, Vec<bool>> = Default::default();
    let mut expected: Vec<Vec<(u16, u32, u32)>> = Vec::new(); // (key, dep, rank)
    for (i, tx) in txs.iter().enumerate() {
        let ids = index.tx_ids(i);
        let deps = index.tx_deps(i);
        assert_eq!(ids.len(), tx.len());
        assert_eq!(deps.len(), tx.len());
        let mut merged: Vec<(u16, bool)> = Vec::new();
        for (pos, &(k, w)) in tx.iter().enumerate() {
            assert_eq!(
                index.keys()[ids[pos] as usize],
                k,
                "id of tx {i} access {pos}"
            );
            match merged.iter_mut().find(|(mk, _)| *mk == k) {
                Some(m) => {
                    m.1 |= w;
                    assert_eq!(deps[pos], DUPLICATE_ACCESS, "tx {i} repeats key {k}");
                }
                None => merged.push((k, w)),
            }
        }
        let mut mine = Vec::new();
        for &(k, w) in &merged {
            let h = history.entry(k).or_default();
            let rank = h.len() as u32;
            let dep = if w {
                rank
            } else {
                h.iter().rposition(|&hw| hw).map_or(0, |p| p as u32 + 1)
            };
            let pos = tx.iter().position(|&(tk, _)| tk == k).unwrap_or(usize::MAX);
            assert_eq!(deps[pos], dep, "tx {i} key {k}");
            mine.push((k, dep, rank));
            h.push(w);
        }
        expected.push(mine);
    }
    for (i, tx) in txs.iter().enumerate() {
        let signals = index.tx_signals(i);
        assert_eq!(signals.len(), tx.len());
        for &(k, _, rank) in &expected[i] {
            let waited = expected[i + 1..]
                .iter()
                .any(|later| later.iter().any(|&(lk, dep, _)| lk == k && dep > rank));
            let pos = tx.iter().position(|&(tk, _)| tk == k).unwrap_or(usize::MAX);
            assert_eq!(signals[pos], waited, "signal of tx {i} key {k}");
        }
        for (pos, &(k, _)) in tx.iter().enumerate() {
            if tx.iter().position(|&(tk, _)| tk == k) != Some(pos) {
                assert!(!signals[pos], "a repeated access never signals");
            }
        }
    }
}

/// Runs the block the way the executor does (each tx once its counts are met, finished
/// counters bumped only where signalled), picking among ready txs at random, and checks
/// that every conflicting pair ran in block order and that the run never gets stuck.
fn check_dependency_order(txs: &[Tx], seed: u64) {
    use txpipe::schedule::{schedule_indexed, DUPLICATE_ACCESS};
    let (_, index) = schedule_indexed(txs);
    let n = txs.len();
    let mut finished = vec![0u32; index.num_keys()];
    let mut done_at = vec![usize::MAX; n];
    let mut rng = seed | 1;
    let mut step = 0;
    while step < n {
        let ready: Vec<usize> = (0..n)
            .filter(|&i| done_at[i] == usize::MAX)
            .filter(|&i| {
                index
                    .tx_ids(i)
                    .iter()
                    .zip(index.tx_deps(i))
                    .all(|(&id, &d)| d == DUPLICATE_ACCESS || finished[id as usize] >= d)
            })
            .collect();
        assert!(!ready.is_empty(), "stuck after {step} of {n}");
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let i = ready[(rng % ready.len() as u64) as usize];
        done_at[i] = step;
        step += 1;
        for (&id, &s) in index.tx_ids(i).iter().zip(index.tx_signals(i)) {
            if s {
                finished[id as usize] += 1;
            }
        }
    }
    for j in 0..n {
        for i in 0..j {
            if conflicts(&txs[i], &txs[j]) {
                assert!(
                    done_at[i] < done_at[j],
                    "tx {j} ran before conflicting tx {i}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The dependency counts the windowed executor runs by: exact, and any run that
    /// honours them keeps every conflicting pair in block order without getting stuck.
    #[test]
    fn dependency_counts(universe in prop_oneof![Just(2u16), Just(5), Just(30)], txs in block(30, 120), seed in any::<u64>()) {
        let txs: Vec<Tx> = txs
            .into_iter()
            .map(|t| t.into_iter().map(|(k, w)| (k % universe, w)).collect())
            .collect();
        check_deps(&txs);
        check_dependency_order(&txs, seed);
    }
}

#[test]
fn dependency_counts_module_example() {
    // w A; r A w B; w C; r A r C; w A (the module docs' block), plus duplicates.
    let (a, b, c) = (1u16, 2u16, 3u16);
    let txs: Vec<Tx> = vec![
        vec![(a, true)],
        vec![(a, false), (b, true)],
        vec![(c, true)],
        vec![(a, false), (c, false)],
        vec![(a, true)],
        vec![(b, false), (b, true), (c, false), (c, false)],
    ];
    check_deps(&txs);
    check_dependency_order(&txs, 7);
    let (_, index) = txpipe::schedule::schedule_indexed(&txs);
    assert_eq!(index.tx_deps(4), &[3]); // the writer of A waits for all three before
    assert_eq!(index.tx_deps(3), &[1, 1]); // readers wait for the writers only
    assert_eq!(index.tx_deps(5)[1], txpipe::schedule::DUPLICATE_ACCESS);
    assert_eq!(index.tx_deps(5)[0], 1); // b: written by tx 5 (second entry), after tx 1
}
