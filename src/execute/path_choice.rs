//! The measured path choice of [`super::Executor::execute_block`]: per cost class (the
//! block's mean estimated compute units per transaction, [`cost_class`]), a running mean
//! of each path's time per estimated compute unit, the faster taken except on one block
//! in [`EXPLORE_EVERY`]; and the contention probe (with its skip rule, its threshold
//! lowered for heavier transactions) that sends contended blocks to the sequential path.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::transaction::ExecTx;

/// Transactions scheduled by the contention probe of [`super::Executor::execute_block`].
pub const PROBE_TXS: usize = 2048;

/// The probe's batches must average this many times `min_parallel_batch` transactions
/// (for transactions of at most [`LIGHT_TX_UNITS`]; heavier ones need proportionally
/// fewer, at least 2).
const PROBE_MIN_AVG_BATCHES: usize = 4;

/// Estimated compute units of a light transaction (a transfer with its compute budget
/// instructions): what `min_parallel_batch` is sized for.
pub(super) const LIGHT_TX_UNITS: u64 = 1000;

/// Number of cost classes: mean units per transaction below 1k, 4k, 16k, 64k, and above.
pub(super) const COST_CLASSES: usize = 5;

/// Transactions sampled (evenly spaced) to estimate a block's mean cost.
pub(super) const COST_SAMPLE: usize = 256;

/// The cost class of a block whose transactions average `mean_units` estimated compute
/// units: blocks of one class share their measurements.
pub(super) fn cost_class(mean_units: u64) -> usize {
    let mut class = 0;
    let mut bound = LIGHT_TX_UNITS;
    while mean_units >= bound && class + 1 < COST_CLASSES {
        class += 1;
        bound = bound.saturating_mul(4);
    }
    class
}

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

/// One cost class's measurements: per path, 1/1024 nanoseconds per estimated compute
/// unit, exponentially weighted (each block counts 1/4); 0: not measured yet.
#[derive(Debug, Default)]
pub(super) struct ClassCosts {
    pub(super) sequential: AtomicU64,
    pub(super) parallel: AtomicU64,
}

/// What [`super::Executor::execute_block`] has measured of its two paths, per cost class:
/// a running mean of the time per estimated compute unit of each (so that a class's
/// blocks of different sizes and costs compare). The parallel path's is measured on blocks
/// the contention probe let through only, so a contended block never makes it look
/// slower.
#[derive(Debug, Default)]
pub(super) struct PathCosts {
    pub(super) classes: [ClassCosts; COST_CLASSES],
    /// Blocks that reached the choice.
    blocks: AtomicU64,
    /// Whether the last contention probe found its block contended.
    last_contended: AtomicBool,
    /// Blocks that will skip the probe and run sequentially (set after two contended
    /// probes in a row).
    pub(super) skip_probes: AtomicU32,
}

impl ClassCosts {
    fn cost(&self, path: ExecPath) -> &AtomicU64 {
        match path {
            ExecPath::Sequential => &self.sequential,
            ExecPath::Parallel => &self.parallel,
        }
    }
}

impl PathCosts {
    /// The measurements of cost class `class` (the last class past the end).
    pub(super) fn class(&self, class: usize) -> &ClassCosts {
        &self.classes[class.min(COST_CLASSES - 1)]
    }

    /// The path for the next block of cost class `class`: the parallel path until it is
    /// measured, then the sequential one until it is, then the faster, except that every
    /// [`EXPLORE_EVERY`]-th block runs the slower.
    pub(super) fn choose(&self, class: usize) -> ExecPath {
        let n = self.blocks.fetch_add(1, Ordering::Relaxed);
        let c = self.class(class);
        let (seq, par) = (
            c.sequential.load(Ordering::Relaxed),
            c.parallel.load(Ordering::Relaxed),
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
    /// of `block` schedule into batches averaging fewer than [`min_avg_batch`]
    /// transactions for `min_batch` and the block's mean cost `mean_units`.
    pub(super) fn contended(
        &self,
        block: &[ExecTx<'_>],
        min_batch: usize,
        mean_units: u64,
    ) -> bool {
        if self.skip_probe() {
            return true;
        }
        let probe_len = block.len().min(PROBE_TXS);
        let probe = crate::schedule::schedule(&block[..probe_len]);
        let contended =
            probe_len < min_avg_batch(min_batch, mean_units).saturating_mul(probe.num_batches());
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

    /// Records that `path` ran a block of cost class `class` and `units` estimated compute
    /// units in all in `elapsed`.
    pub(super) fn record(
        &self,
        path: ExecPath,
        class: usize,
        units: u64,
        elapsed: std::time::Duration,
    ) {
        let per_tx =
            u64::try_from(elapsed.as_nanos().saturating_mul(1024) / u128::from(units.max(1)))
                .unwrap_or(u64::MAX)
                .max(1);
        let cost = self.class(class).cost(path);
        let old = cost.load(Ordering::Relaxed);
        let new = if old == 0 {
            per_tx
        } else {
            old.saturating_mul(3).saturating_add(per_tx) / 4
        };
        cost.store(new.max(1), Ordering::Relaxed);
    }
}

/// The average batch size below which the probe calls a block contended: 4 ×
/// `min_batch` for light transactions, scaled down by the mean cost beyond
/// [`LIGHT_TX_UNITS`] (a batch of a few heavy transactions is work enough to split), at
/// least 2.
pub(super) fn min_avg_batch(min_batch: usize, mean_units: u64) -> usize {
    let light = PROBE_MIN_AVG_BATCHES.saturating_mul(min_batch) as u64;
    let scaled = light.saturating_mul(LIGHT_TX_UNITS) / mean_units.max(LIGHT_TX_UNITS);
    usize::try_from(scaled.max(2)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn cost_classes_and_probe_thresholds() {
        assert_eq!(cost_class(0), 0);
        assert_eq!(cost_class(300), 0);
        assert_eq!(cost_class(999), 0);
        assert_eq!(cost_class(1000), 1);
        assert_eq!(cost_class(4000), 2);
        assert_eq!(cost_class(20_000), 3);
        assert_eq!(cost_class(64_000), 4);
        assert_eq!(cost_class(u64::MAX), COST_CLASSES - 1);
        assert_eq!(min_avg_batch(64, 300), 256);
        assert_eq!(min_avg_batch(64, 4000), 64);
        assert_eq!(min_avg_batch(64, 40_000), 6);
        assert_eq!(min_avg_batch(64, u64::MAX), 2);
    }

    #[test]
    fn cost_classes_are_measured_apart() {
        let costs = PathCosts::default();
        costs.record(ExecPath::Parallel, 3, 1000, Duration::from_micros(1));
        assert_eq!(costs.choose(0), ExecPath::Parallel);
        assert_eq!(costs.choose(3), ExecPath::Sequential);
        assert_eq!(costs.class(3).parallel.load(Ordering::Relaxed), 1024);
        assert_eq!(costs.class(0).parallel.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn path_costs_measure_both_then_take_the_faster_and_explore() {
        let costs = PathCosts::default();
        let c = costs.class(0);
        // Nothing measured: the parallel path first, then the sequential one.
        assert_eq!(costs.choose(0), ExecPath::Parallel);
        costs.record(ExecPath::Parallel, 0, 1024, Duration::from_micros(400));
        assert_eq!(c.parallel.load(Ordering::Relaxed), 400_000);
        assert_eq!(costs.choose(0), ExecPath::Sequential);
        costs.record(ExecPath::Sequential, 0, 1024, Duration::from_micros(300));
        // Sequential measured faster: taken, except on one block in eight.
        let picks: Vec<ExecPath> = (0..16).map(|_| costs.choose(0)).collect();
        let explored: Vec<usize> = (0..16)
            .filter(|&i| picks[i] == ExecPath::Parallel)
            .collect();
        assert_eq!(explored.len(), 2, "{picks:?}");
        assert_eq!(explored[1] - explored[0], EXPLORE_EVERY as usize);
        // A running mean: each block counts a quarter.
        costs.record(ExecPath::Parallel, 0, 1024, Duration::from_micros(100));
        assert_eq!(
            c.parallel.load(Ordering::Relaxed),
            (3 * 400_000 + 100_000) / 4
        );
        costs.record(ExecPath::Parallel, 0, 1024, Duration::from_micros(0));
        assert!(c.parallel.load(Ordering::Relaxed) >= 1);
        // Now the parallel path is faster (250 < 300, then lower still).
        costs.record(ExecPath::Parallel, 0, 1024, Duration::from_micros(100));
        let picks: Vec<ExecPath> = (0..8).map(|_| costs.choose(0)).collect();
        assert_eq!(
            picks.iter().filter(|&&p| p == ExecPath::Parallel).count(),
            7,
            "{picks:?}"
        );
        // An empty block does not divide by zero.
        costs.record(ExecPath::Sequential, 0, 0, Duration::from_micros(5));
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
