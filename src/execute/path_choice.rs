//! The measured path choice of [`super::Executor::execute_block`]: a running mean of each
//! path's time per transaction, the faster taken except on one block in
//! [`EXPLORE_EVERY`], and the contention probe (with its skip rule) that sends contended
//! blocks to the sequential path.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::transaction::ExecTx;

/// Transactions scheduled by the contention probe of [`super::Executor::execute_block`].
pub const PROBE_TXS: usize = 2048;

/// The probe's batches must average this many times `min_parallel_batch` transactions.
const PROBE_MIN_AVG_BATCHES: usize = 4;

/// How often [`super::Executor::execute_block`] runs the path it has measured slower, to
/// notice when that changes (one block in this many).
pub(super) const EXPLORE_EVERY: u64 = 8;

/// After two contention probes in a row find their blocks contended, this many of the
/// next blocks that would be probed run sequentially without a probe (a stream of
/// contended blocks is probed on one block in four; a stream that turns spread loses the
/// parallel path for at most this many blocks).
pub(super) const PROBE_SKIPS: u32 = 3;

/// Which path executed a block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExecPath {
    /// In block order on one thread.
    #[default]
    Sequential,
    /// On rayon workers: window by window ([`super::Executor::execute_block`]), or batch
    /// by batch from a schedule (`Executor::execute_parallel`, `test-support` only).
    Parallel,
}

/// What [`super::Executor::execute_block`] has measured of its two paths: a running mean
/// of the time per transaction of each. The parallel path's is measured on blocks the
/// contention probe let through only, so a contended block never makes it look slower.
#[derive(Debug, Default)]
pub(super) struct PathCosts {
    /// Nanoseconds per transaction, exponentially weighted (each block counts 1/4); 0:
    /// not measured yet.
    pub(super) sequential: AtomicU64,
    pub(super) parallel: AtomicU64,
    /// Blocks that reached the choice.
    blocks: AtomicU64,
    /// Whether the last contention probe found its block contended.
    last_contended: AtomicBool,
    /// Blocks that will skip the probe and run sequentially (set after two contended
    /// probes in a row).
    pub(super) skip_probes: AtomicU32,
}

impl PathCosts {
    fn cost(&self, path: ExecPath) -> &AtomicU64 {
        match path {
            ExecPath::Sequential => &self.sequential,
            ExecPath::Parallel => &self.parallel,
        }
    }

    /// The path for the next block: the parallel path until it is measured, then the
    /// sequential one until it is, then the faster, except that every
    /// [`EXPLORE_EVERY`]-th block runs the slower.
    pub(super) fn choose(&self) -> ExecPath {
        let n = self.blocks.fetch_add(1, Ordering::Relaxed);
        let (seq, par) = (
            self.sequential.load(Ordering::Relaxed),
            self.parallel.load(Ordering::Relaxed),
        );
        if par == 0 {
            return ExecPath::Parallel;
        }
        if seq == 0 {
            return ExecPath::Sequential;
        }
        let explore = n % EXPLORE_EVERY == EXPLORE_EVERY - 1;
        if (par <= seq) != explore {
            ExecPath::Parallel
        } else {
            ExecPath::Sequential
        }
    }

    /// The contention probe of [`super::Executor::execute_block`] (skipped, counting as
    /// contended, while probe skips last): whether the first [`PROBE_TXS`] transactions
    /// of `block` schedule into batches averaging fewer than 4 × `min_batch`.
    pub(super) fn contended(&self, block: &[ExecTx<'_>], min_batch: usize) -> bool {
        if self.skip_probe() {
            return true;
        }
        let probe_len = block.len().min(PROBE_TXS);
        let probe = crate::schedule::schedule(&block[..probe_len]);
        let contended = probe_len
            < PROBE_MIN_AVG_BATCHES
                .saturating_mul(min_batch)
                .saturating_mul(probe.num_batches());
        self.probed(contended);
        contended
    }

    /// Whether to skip the contention probe for this block (counting the skip).
    fn skip_probe(&self) -> bool {
        self.skip_probes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Records a contention probe's verdict.
    fn probed(&self, contended: bool) {
        if self.last_contended.swap(contended, Ordering::Relaxed) && contended {
            self.skip_probes.store(PROBE_SKIPS, Ordering::Relaxed);
        }
    }

    /// Records that `path` ran `txs` transactions in `elapsed`.
    pub(super) fn record(&self, path: ExecPath, txs: usize, elapsed: std::time::Duration) {
        let per_tx = u64::try_from(elapsed.as_nanos() / txs.max(1) as u128)
            .unwrap_or(u64::MAX)
            .max(1);
        let cost = self.cost(path);
        let old = cost.load(Ordering::Relaxed);
        let new = if old == 0 {
            per_tx
        } else {
            old.saturating_mul(3).saturating_add(per_tx) / 4
        };
        cost.store(new.max(1), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn path_costs_measure_both_then_take_the_faster_and_explore() {
        let costs = PathCosts::default();
        // Nothing measured: the parallel path first, then the sequential one.
        assert_eq!(costs.choose(), ExecPath::Parallel);
        costs.record(ExecPath::Parallel, 1000, Duration::from_micros(400));
        assert_eq!(costs.parallel.load(Ordering::Relaxed), 400);
        assert_eq!(costs.choose(), ExecPath::Sequential);
        costs.record(ExecPath::Sequential, 1000, Duration::from_micros(300));
        // Sequential measured faster: taken, except on one block in eight.
        let picks: Vec<ExecPath> = (0..16).map(|_| costs.choose()).collect();
        let explored: Vec<usize> = (0..16)
            .filter(|&i| picks[i] == ExecPath::Parallel)
            .collect();
        assert_eq!(explored.len(), 2, "{picks:?}");
        assert_eq!(explored[1] - explored[0], EXPLORE_EVERY as usize);
        // A running mean: each block counts a quarter.
        costs.record(ExecPath::Parallel, 1000, Duration::from_micros(100));
        assert_eq!(costs.parallel.load(Ordering::Relaxed), (3 * 400 + 100) / 4);
        costs.record(ExecPath::Parallel, 1000, Duration::from_micros(0));
        assert!(costs.parallel.load(Ordering::Relaxed) >= 1);
        // Now the parallel path is faster (250 < 300, then lower still).
        costs.record(ExecPath::Parallel, 1000, Duration::from_micros(100));
        let picks: Vec<ExecPath> = (0..8).map(|_| costs.choose()).collect();
        assert_eq!(
            picks.iter().filter(|&&p| p == ExecPath::Parallel).count(),
            7,
            "{picks:?}"
        );
        // An empty block does not divide by zero.
        costs.record(ExecPath::Sequential, 0, Duration::from_micros(5));
    }

    #[test]
    fn probes_are_skipped_only_after_two_contended_verdicts_in_a_row() {
        let costs = PathCosts::default();
        assert!(!costs.skip_probe());
        // Alternating verdicts: never skipped.
        for contended in [true, false, true, false, true] {
            costs.probed(contended);
            assert!(!costs.skip_probe());
        }
        costs.probed(true);
        assert!((0..PROBE_SKIPS).all(|_| costs.skip_probe()));
        assert!(!costs.skip_probe());
        // A spread verdict ends the streak.
        costs.probed(false);
        costs.probed(true);
        assert!(!costs.skip_probe());
    }
}
