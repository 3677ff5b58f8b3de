//! The block executor: [`Executor`] and its settings and outcome. It ties the pieces:
//! the transaction runtime ([`super::runtime`]) over the table ([`super::access`]) for the
//! sequential path, the windowed runner ([`super::window`]) for the parallel one, and the
//! measured choice between them ([`super::path_choice`]).

use std::sync::Arc;
use std::time::Instant;

use crate::state::{self, AccountsTable};
use crate::tx::LAMPORTS_PER_SIGNATURE;
use crate::{Hash, Pubkey};

use super::access::TableAccess;
use super::error::{TxError, TxResult};
use super::path_choice::{cost_class, ExecPath, PathCosts, COST_SAMPLE};
use super::registry::ProgramRegistry;
use super::runtime::{Runtime, Scratch};
use super::transaction::ExecTx;
use super::window::{self, ExecPhases};
use super::working_set::MAX_WINDOW;

/// Default for [`ExecConfig::window`].
pub const DEFAULT_WINDOW: usize = 8192;

/// Default for [`ExecConfig::min_parallel_batch`].
pub const DEFAULT_MIN_PARALLEL_BATCH: usize = 64;

/// Executor settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecConfig {
    /// Fee per required signature (default 5000).
    pub lamports_per_signature: u64,
    /// Account credited with the block's fees after its last transaction; `None` (the
    /// default): fees are burnt.
    pub fee_collector: Option<Pubkey>,
    /// Batches smaller than this run on the calling thread: spreading a few transactions
    /// over workers costs more than it saves (a fully contended block is one transaction
    /// per batch).
    pub min_parallel_batch: usize,
    /// Transactions numbered, loaded and run together by [`Executor::execute_block`]
    /// (default [`DEFAULT_WINDOW`]; at most 262,144).
    pub window: usize,
    /// Whether [`Executor::execute_block`] may choose the sequential path (one thread, a
    /// contended block, or a block of the kind it has measured to run faster
    /// sequentially). Default `true`; `false` always runs the windowed parallel path.
    pub allow_sequential: bool,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self {
            lamports_per_signature: LAMPORTS_PER_SIGNATURE,
            fee_collector: None,
            min_parallel_batch: DEFAULT_MIN_PARALLEL_BATCH,
            window: DEFAULT_WINDOW,
            allow_sequential: true,
        }
    }
}

/// What executing a block did.
#[derive(Clone, Debug, Default)]
pub struct BlockOutcome {
    /// One result per transaction, in block order.
    pub results: Vec<TxResult>,
    /// Compute units each transaction consumed, in block order (0 for one that did not
    /// run; its limit for one that ran out).
    pub compute_units: Vec<u64>,
    /// Fees taken from fee payers.
    pub fees_charged: u64,
    /// Fees credited to the fee collector.
    pub fees_collected: u64,
    /// Fees destroyed (`fees_charged - fees_collected`): all of them without a collector,
    /// or any amount that would overflow the collector's balance.
    pub fees_burnt: u64,
    /// Which path ran the block.
    pub path: ExecPath,
    /// Where the time went (windowed parallel path only; zero otherwise).
    pub phases: ExecPhases,
    /// Keys written to the table, in no particular order, possibly repeated (sorting them
    /// is left to the commitment step, [`BlockOutcome::state_hash`]).
    written: Vec<Pubkey>,
}

impl BlockOutcome {
    /// The accounts the block modified, ascending, each once.
    pub fn modified_accounts(&self) -> Vec<Pubkey> {
        let mut keys = self.written.clone();
        state::sort_dedup_keys(&mut keys);
        keys
    }

    /// The state hash of the block: the Merkle root over the digests of the modified
    /// accounts, in key order, as they are now in `table` (call it right after the block).
    pub fn state_hash(&self, table: &AccountsTable) -> Hash {
        state::state_hash(table, &self.written)
    }

    /// Number of successful transactions.
    pub fn num_ok(&self) -> usize {
        self.results.iter().filter(|r| r.is_ok()).count()
    }

    /// Whether two outcomes have the same per-transaction results and compute units, the
    /// same fees and the same set of modified accounts (in whatever order they were written).
    pub fn same_effects(&self, other: &BlockOutcome) -> bool {
        self.results == other.results
            && self.compute_units == other.compute_units
            && self.fees_charged == other.fees_charged
            && self.fees_collected == other.fees_collected
            && self.fees_burnt == other.fees_burnt
            && self.modified_accounts() == other.modified_accounts()
    }
}

/// Runs blocks against an [`AccountsTable`]: a [`ProgramRegistry`] plus [`ExecConfig`].
///
/// Clones share what [`Executor::execute_block`] has measured of its two paths.
#[derive(Clone, Debug, Default)]
pub struct Executor {
    registry: ProgramRegistry,
    config: ExecConfig,
    costs: Arc<PathCosts>,
}

impl Executor {
    /// An executor with `registry` and `config`.
    pub fn new(registry: ProgramRegistry, config: ExecConfig) -> Self {
        Self {
            registry,
            config,
            costs: Arc::default(),
        }
    }

    /// The program registry.
    pub fn registry(&self) -> &ProgramRegistry {
        &self.registry
    }

    /// The settings.
    pub fn config(&self) -> &ExecConfig {
        &self.config
    }

    /// Runs `block` in order on the calling thread: the reference every other path must
    /// equal.
    pub fn execute_sequential(&self, table: &AccountsTable, block: &[ExecTx<'_>]) -> BlockOutcome {
        let runtime = self.runtime();
        let mut scratch = Scratch::default();
        let mut modified = Vec::new();
        let (results, units) = block
            .iter()
            .map(|tx| {
                let mut access = TableAccess {
                    table,
                    keys: tx.keys(),
                    modified: &mut modified,
                };
                runtime.execute_tx(&mut access, tx, &mut scratch)
            })
            .unzip();
        self.finish(table, block, results, units, modified, ExecPath::Sequential)
    }

    /// Runs `block` the fastest way that gives the sequential result, on the current rayon
    /// pool:
    /// - one thread, or a block shorter than two [`ExecConfig::min_parallel_batch`]:
    ///   sequentially;
    /// - otherwise the path this executor has measured faster for blocks of this cost: a
    ///   block's cost class is its mean estimated compute units per transaction (from
    ///   [`crate::execute::Program::estimate_units`], capped by each transaction's limit,
    ///   over 256 evenly spaced transactions), in classes below 1k, 4k, 16k, 64k units and
    ///   above. Per class it keeps a running mean of each path's time per estimated unit
    ///   and takes the faster (the parallel path until it is measured, then the
    ///   sequential one until it is), trying the slower again on one block in eight. On a
    ///   machine whose cores hand cache lines to each other slowly, blocks of cheap
    ///   transactions run faster on one thread; with more cores, or heavier programs, the
    ///   parallel path wins;
    /// - before the parallel path, a contention probe schedules the first [`PROBE_TXS`](super::PROBE_TXS)
    ///   transactions; if their batches average fewer than 4 ×
    ///   [`ExecConfig::min_parallel_batch`] transactions (scaled down for transactions
    ///   heavier than 1,000 units: a batch of a few heavy transactions is work enough to
    ///   split, at least 2), the block is contended and runs sequentially instead (its
    ///   time counts for the sequential path, and none for the parallel one: the two kinds
    ///   of block are told apart by the probe, not by the means). After two contended
    ///   probes in a row, the next three blocks that would be probed run sequentially
    ///   unprobed;
    /// - the parallel path runs window by window ([`ExecConfig::window`] transactions
    ///   each, at most 262,144): the accounts are split into one part per worker by
    ///   stripe; worker `p` walks the window, gives every reference to a key of its part
    ///   a dependency count ([`crate::schedule::KeyDeps`], the rule of
    ///   [`crate::schedule::KeyIndex::tx_deps`]) and loads the part's accounts into
    ///   working copies; each transaction is assigned to a worker, its fee payer's part's
    ///   unless the workers' estimated compute units would drift apart (then the least
    ///   loaded one's), so that the workers stay balanced by cost, not by count; the
    ///   workers run their transactions against the copies, each as soon as the earlier
    ///   transactions it conflicts with have finished (the dependency graph whose levels
    ///   are the schedule's batches, run without a barrier per batch and in block order,
    ///   which walks the block's memory in order); worker `p` writes part `p`'s changed
    ///   copies back before the next window starts. A transaction touches no hash table
    ///   and no stripe lock while it runs.
    ///
    /// [`ExecConfig::allow_sequential`] `false` always takes the windowed path. Whatever
    /// the path, the result is the sequential one; [`BlockOutcome::path`] tells which
    /// ran.
    pub fn execute_block(&self, table: &AccountsTable, block: &[ExecTx<'_>]) -> BlockOutcome {
        let min_batch = self.config.min_parallel_batch.max(2);
        let window = self.config.window.max(min_batch).min(MAX_WINDOW);
        if self.config.allow_sequential {
            if rayon::current_num_threads() <= 1 || block.len() < min_batch.saturating_mul(2) {
                return self.execute_sequential(table, block);
            }
            let mean_units = self.sample_mean_units(block);
            let class = cost_class(mean_units);
            // The probe only when the measurements say the parallel path is worth a try.
            let mut path = self.costs.choose(class);
            // A contended block runs sequentially, and its time counts for that path.
            if path == ExecPath::Parallel && self.costs.contended(block, min_batch, mean_units) {
                path = ExecPath::Sequential;
            }
            let start = Instant::now();
            let outcome = match path {
                ExecPath::Sequential => self.execute_sequential(table, block),
                ExecPath::Parallel => self.execute_windows(table, block, window),
            };
            let units = mean_units.max(1).saturating_mul(block.len() as u64);
            self.costs.record(path, class, units, start.elapsed());
            return outcome;
        }
        self.execute_windows(table, block, window)
    }

    /// The mean estimated compute units of up to [`COST_SAMPLE`] evenly spaced
    /// transactions of `block`.
    fn sample_mean_units(&self, block: &[ExecTx<'_>]) -> u64 {
        let runtime = self.runtime();
        let step = block.len().div_ceil(COST_SAMPLE).max(1);
        let (sum, n) = block
            .iter()
            .step_by(step)
            .fold((0u64, 0u64), |(sum, n), tx| {
                (sum.saturating_add(runtime.estimate_units(tx)), n + 1)
            });
        sum / n.max(1)
    }

    /// The windowed parallel path of [`Executor::execute_block`].
    fn execute_windows(
        &self,
        table: &AccountsTable,
        block: &[ExecTx<'_>],
        window: usize,
    ) -> BlockOutcome {
        let runtime = self.runtime();
        let costs: Vec<u64> = {
            use rayon::prelude::*;
            block
                .par_iter()
                .with_min_len(1024)
                .map(|tx| runtime.estimate_units(tx))
                .collect()
        };
        let run = window::run_windows(runtime, table, block, &costs, window);
        let mut outcome = self.finish(
            table,
            block,
            run.results,
            run.units,
            run.modified,
            ExecPath::Parallel,
        );
        outcome.phases = run.phases;
        outcome
    }

    /// The transaction runtime with this executor's programs and fee rate.
    pub(super) fn runtime(&self) -> Runtime<'_> {
        Runtime::new(&self.registry, self.config.lamports_per_signature)
    }

    /// Credits the fee collector and gathers the figures of the block.
    pub(super) fn finish(
        &self,
        table: &AccountsTable,
        block: &[ExecTx<'_>],
        results: Vec<TxResult>,
        compute_units: Vec<u64>,
        mut modified: Vec<Pubkey>,
        path: ExecPath,
    ) -> BlockOutcome {
        let runtime = self.runtime();
        let fees_charged = block
            .iter()
            .zip(&results)
            .filter(|(_, r)| r.as_ref().err().is_none_or(TxError::fee_charged))
            .fold(0u64, |sum, (tx, _)| sum.saturating_add(runtime.fee(tx)));
        let mut fees_collected = 0;
        if let (Some(collector), true) = (self.config.fee_collector, fees_charged > 0) {
            let credited =
                table.update(&collector, |a| match a.lamports.checked_add(fees_charged) {
                    Some(l) => {
                        a.lamports = l;
                        true
                    }
                    None => false,
                });
            if credited {
                fees_collected = fees_charged;
                modified.push(collector);
            }
        }
        BlockOutcome {
            results,
            compute_units,
            fees_charged,
            fees_collected,
            fees_burnt: fees_charged - fees_collected,
            path,
            phases: ExecPhases::default(),
            written: modified,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::execute::path_choice::{EXPLORE_EVERY, PROBE_SKIPS};
    use crate::execute::workload::P2pBlock;
    use crate::tx::TransactionView;

    fn parse(block: &P2pBlock) -> Vec<TransactionView<'_>> {
        block
            .packets
            .iter()
            .map(|p| TransactionView::parse(p).expect("parses"))
            .collect()
    }

    fn two_threads() -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn execute_block_takes_the_measured_faster_path_with_the_same_result() {
        // Spread enough for the contention probe to let it through.
        let block = P2pBlock::generate(10_000, 2500, 3).expect("accounts");
        let views = parse(&block);
        let txs: Vec<ExecTx<'_>> = views.iter().map(|v| ExecTx::from_view(v, None)).collect();
        let fresh = || {
            let t = AccountsTable::default();
            t.load(block.genesis());
            t
        };
        let reference_table = fresh();
        let executor = Executor::default();
        let reference = executor.execute_sequential(&reference_table, &txs);
        let pool = two_threads();
        // Told the sequential path is far faster (by more than the blocks' own timings can
        // change): it runs, but one block in eight tries the windowed path; every block
        // gives the sequential result.
        executor
            .costs
            .class(0)
            .sequential
            .store(1, Ordering::Relaxed);
        executor
            .costs
            .class(0)
            .parallel
            .store(u64::MAX / 8, Ordering::Relaxed);
        let mut paths = Vec::new();
        for _ in 0..EXPLORE_EVERY {
            let t = fresh();
            let out = pool.install(|| executor.execute_block(&t, &txs));
            assert!(out.same_effects(&reference));
            assert_eq!(out.state_hash(&t), reference.state_hash(&reference_table));
            paths.push(out.path);
        }
        assert_eq!(
            paths.iter().filter(|&&p| p == ExecPath::Parallel).count(),
            1,
            "{paths:?}"
        );
        // Not allowed to choose: always the windowed path.
        let forced = Executor::new(
            ProgramRegistry::default(),
            ExecConfig {
                allow_sequential: false,
                ..ExecConfig::default()
            },
        );
        forced.costs.class(0).sequential.store(1, Ordering::Relaxed);
        forced
            .costs
            .class(0)
            .parallel
            .store(u64::MAX, Ordering::Relaxed);
        let t = fresh();
        assert_eq!(
            pool.install(|| forced.execute_block(&t, &txs)).path,
            ExecPath::Parallel
        );
    }

    #[test]
    fn a_contended_block_counts_for_the_sequential_path_only() {
        let hot = P2pBlock::generate(2, 600, 5).expect("accounts");
        let views = parse(&hot);
        let txs: Vec<ExecTx<'_>> = views.iter().map(|v| ExecTx::from_view(v, None)).collect();
        let pool = two_threads();
        let executor = Executor::default();
        // Probed, probed (two contended in a row: skip the next three), skipped three
        // times, probed again.
        let skips_after = [0, PROBE_SKIPS, 2, 1, 0, PROBE_SKIPS];
        for want in skips_after {
            let t = AccountsTable::default();
            t.load(hot.genesis());
            let out = pool.install(|| executor.execute_block(&t, &txs));
            assert_eq!(out.path, ExecPath::Sequential);
            assert_eq!(out.num_ok(), 600);
            // Not measured: the parallel path stays untried, not slower.
            assert_eq!(executor.costs.class(0).parallel.load(Ordering::Relaxed), 0);
            assert!(executor.costs.class(0).sequential.load(Ordering::Relaxed) > 0);
            assert_eq!(executor.costs.skip_probes.load(Ordering::Relaxed), want);
        }
    }
}
