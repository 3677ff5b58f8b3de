//! The block executor: fees, instructions, commit; sequential and parallel.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::schedule::Schedule;
use crate::state::{self, Account, AccountsTable};
use crate::tx::LAMPORTS_PER_SIGNATURE;
use crate::{Hash, Pubkey};

use super::working_set::{Ref, WorkingSet, MAX_WINDOW};
use super::{
    BlockError, ExecTx, InstructionContext, InstructionError, ProgramRegistry, SystemProgram,
    TxError, TxResult,
};

/// Transactions scheduled by the contention probe of [`Executor::execute_block`].
pub const PROBE_TXS: usize = 2048;

/// The probe's batches must average this many times `min_parallel_batch` transactions.
const PROBE_MIN_AVG_BATCHES: usize = 4;

/// Windows shorter than this run on the calling thread.
const MIN_PARALLEL_WINDOW: usize = 32;

/// Sets its flag when dropped by a panic.
struct AbortOnPanic<'a>(&'a AtomicBool);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// Spins, then yields, until `ready()`; `false` if `abort` is set first.
fn wait_until(ready: impl Fn() -> bool, abort: &AtomicBool) -> bool {
    let mut spins = 0u32;
    loop {
        if ready() {
            return true;
        }
        if abort.load(Ordering::Relaxed) {
            return false;
        }
        if spins < 128 {
            std::hint::spin_loop();
            spins += 1;
        } else {
            std::thread::yield_now();
        }
    }
}

/// Time spent in each phase of [`Executor::execute_block`]'s windowed path, summed over
/// the windows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecPhases {
    /// Numbering the references (key interning, dependency counts) and loading the
    /// working copies (all workers, one part each).
    pub build: std::time::Duration,
    /// Running the transactions (all workers).
    pub run: std::time::Duration,
    /// Writing the changed copies back (all workers).
    pub write_back: std::time::Duration,
}

/// Which path executed a block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExecPath {
    /// In block order on one thread.
    #[default]
    Sequential,
    /// Batch by batch from a schedule.
    Parallel,
}

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
    /// The keys written to the table, in no particular order, possibly repeated.
    pub fn written_keys(&self) -> &[Pubkey] {
        &self.written
    }

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

    /// Whether two outcomes have the same per-transaction results, the same fees and the
    /// same set of modified accounts (the order of [`BlockOutcome::written_keys`] aside).
    pub fn same_effects(&self, other: &BlockOutcome) -> bool {
        self.results == other.results
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

/// How often [`Executor::execute_block`] runs the path it has measured slower, to notice
/// when that changes (one block in this many).
const EXPLORE_EVERY: u64 = 8;

/// What [`Executor::execute_block`] has measured of its two paths: a running mean of the
/// time per transaction of each. The parallel path's is measured on blocks the
/// contention probe let through only, so a contended block never makes it look slower.
#[derive(Debug, Default)]
struct PathCosts {
    /// Nanoseconds per transaction, exponentially weighted (each block counts 1/4); 0:
    /// not measured yet.
    sequential: AtomicU64,
    parallel: AtomicU64,
    /// Blocks that reached the choice.
    blocks: AtomicU64,
    /// Whether the last contention probe found its block contended.
    last_contended: AtomicBool,
    /// Blocks that will skip the probe and run sequentially (set after two contended
    /// probes in a row).
    skip_probes: AtomicU32,
}

/// After two contention probes in a row find their blocks contended, this many of the
/// next blocks that would be probed run sequentially without a probe (a stream of
/// contended blocks is probed on one block in four; a stream that turns spread loses the
/// parallel path for at most this many blocks).
const PROBE_SKIPS: u32 = 3;

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
    fn choose(&self) -> ExecPath {
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
    fn record(&self, path: ExecPath, txs: usize, elapsed: std::time::Duration) {
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

/// Per-worker scratch space, reused from one transaction to the next.
#[derive(Default)]
pub(super) struct Scratch {
    slots: Vec<Account>,
    loaded: Vec<bool>,
    touched: Vec<bool>,
    pre: Vec<(usize, Account)>,
}

impl Scratch {
    fn reset(&mut self, n: usize) {
        self.slots.clear();
        self.slots.resize_with(n, Account::default);
        self.loaded.clear();
        self.loaded.resize(n, false);
        self.touched.clear();
        self.touched.resize(n, false);
        self.pre.clear();
    }

    fn load(&mut self, access: &impl AccountAccess, i: usize) {
        if let (Some(false), Some(slot)) = (self.loaded.get(i).copied(), self.slots.get_mut(i)) {
            *slot = access.load(i);
            self.loaded[i] = true;
        }
    }
}

/// Where one transaction's accounts are read and committed, by key index: the table
/// itself ([`TableAccess`]) or a window's working copies
/// ([`super::working_set::WorkingSet`]).
pub(super) trait AccountAccess {
    /// A copy of the account at key index `i` (the default account when absent).
    fn load(&self, i: usize) -> Account;
    /// Commits `account` at key index `i`.
    fn store(&mut self, i: usize, account: Account);
    /// Takes `fee` from the fee payer (key index 0) and nothing else: what a transaction
    /// whose instruction failed leaves behind.
    fn charge_fee_only(&mut self, fee: u64);
}

/// One transaction's accounts, straight in the table; records the keys it writes.
struct TableAccess<'a> {
    table: &'a AccountsTable,
    keys: &'a [Pubkey],
    modified: &'a mut Vec<Pubkey>,
}

impl AccountAccess for TableAccess<'_> {
    fn load(&self, i: usize) -> Account {
        self.keys
            .get(i)
            .and_then(|k| self.table.get(k))
            .unwrap_or_default()
    }

    fn store(&mut self, i: usize, account: Account) {
        if let Some(key) = self.keys.get(i) {
            self.table.insert(*key, account);
            self.modified.push(*key);
        }
    }

    fn charge_fee_only(&mut self, fee: u64) {
        if let Some(payer) = self.keys.first() {
            self.table
                .update(payer, |a| a.lamports = a.lamports.saturating_sub(fee));
            self.modified.push(*payer);
        }
    }
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
        let mut scratch = Scratch::default();
        let mut modified = Vec::new();
        let results = block
            .iter()
            .map(|tx| {
                let mut access = TableAccess {
                    table,
                    keys: tx.keys(),
                    modified: &mut modified,
                };
                self.execute_tx(&mut access, tx, &mut scratch)
            })
            .collect();
        self.finish(table, block, results, modified, ExecPath::Sequential)
    }

    /// Runs `block` batch by batch as `schedule` says (a schedule made by
    /// [`crate::schedule::schedule`] from this block), the transactions of each batch on
    /// the current rayon pool (wrap the call in `ThreadPool::install` to choose the
    /// threads). Batches smaller than [`ExecConfig::min_parallel_batch`] run on the
    /// calling thread. Same results and state as [`Executor::execute_sequential`].
    ///
    /// # Errors
    /// [`BlockError::ScheduleMismatch`] when the schedule is for a block of another size
    /// (nothing is executed).
    pub fn execute_parallel(
        &self,
        table: &AccountsTable,
        block: &[ExecTx<'_>],
        schedule: &Schedule,
    ) -> Result<BlockOutcome, BlockError> {
        if schedule.num_txs() != block.len() {
            return Err(BlockError::ScheduleMismatch {
                schedule: schedule.num_txs(),
                block: block.len(),
            });
        }
        let mut results: Vec<TxResult> = vec![Ok(()); block.len()];
        let mut modified = Vec::new();
        let threads = rayon::current_num_threads().max(1);
        let min_batch = self.config.min_parallel_batch.max(2);
        let mut scratch = Scratch::default();
        for batch in schedule.batches() {
            if threads == 1 || batch.len() < min_batch {
                for &i in batch {
                    if let (Some(tx), Some(r)) = (block.get(i), results.get_mut(i)) {
                        let mut access = TableAccess {
                            table,
                            keys: tx.keys(),
                            modified: &mut modified,
                        };
                        *r = self.execute_tx(&mut access, tx, &mut scratch);
                    }
                }
                continue;
            }
            // A few chunks per thread, for balance when transactions differ in cost.
            let chunk = batch.len().div_ceil(threads * 4).max(16);
            let parts: Vec<(Vec<TxResult>, Vec<Pubkey>)> = batch
                .par_chunks(chunk)
                .map(|idxs| {
                    let mut scratch = Scratch::default();
                    let mut modified = Vec::new();
                    let out = idxs
                        .iter()
                        .map(|&i| match block.get(i) {
                            Some(tx) => {
                                let mut access = TableAccess {
                                    table,
                                    keys: tx.keys(),
                                    modified: &mut modified,
                                };
                                self.execute_tx(&mut access, tx, &mut scratch)
                            }
                            None => Err(TxError::Malformed("schedule index out of range")),
                        })
                        .collect();
                    (out, modified)
                })
                .collect();
            for (idxs, (out, keys)) in batch.chunks(chunk).zip(parts) {
                for (&i, r) in idxs.iter().zip(out) {
                    if let Some(slot) = results.get_mut(i) {
                        *slot = r;
                    }
                }
                modified.extend(keys);
            }
        }
        Ok(self.finish(table, block, results, modified, ExecPath::Parallel))
    }

    /// Runs `block` the fastest way that gives the sequential result, on the current rayon
    /// pool:
    /// - one thread, or a block shorter than two [`ExecConfig::min_parallel_batch`]:
    ///   sequentially;
    /// - otherwise the path this executor has measured faster: it keeps a running mean of
    ///   each path's time per transaction and takes the faster (the parallel path until
    ///   it is measured, then the sequential one until it is), trying the slower again on
    ///   one block in eight. On a machine whose cores hand cache lines to each other
    ///   slowly, blocks of cheap transactions run faster on one thread; with more cores,
    ///   or heavier programs, the parallel path wins;
    /// - before the parallel path, a contention probe schedules the first [`PROBE_TXS`]
    ///   transactions; if their batches average fewer than 4 ×
    ///   [`ExecConfig::min_parallel_batch`] transactions (a contended block: too little
    ///   to run side by side), the block runs sequentially instead (its time counts for
    ///   the sequential path, and none for the parallel one: the two kinds of block are
    ///   told apart by the probe, not by the means). After two contended probes in a
    ///   row, the next three blocks that would be probed run sequentially unprobed;
    /// - the parallel path runs window by window ([`ExecConfig::window`] transactions
    ///   each, at most 262,144): the accounts are split into one part per worker by
    ///   stripe; worker `p` walks the window, gives every reference to a key of its part
    ///   a dependency count ([`crate::schedule::KeyDeps`], the rule of
    ///   [`crate::schedule::KeyIndex::tx_deps`]) and loads the part's accounts into
    ///   working copies; the workers run the window's transactions against those copies,
    ///   each as soon as the earlier transactions it conflicts with have finished (the
    ///   dependency graph whose levels are the schedule's batches, run without a barrier
    ///   per batch and in block order, which walks the block's memory in order); worker
    ///   `p` writes part `p`'s changed copies back before the next window starts. A
    ///   transaction touches no hash table and no stripe lock while it runs.
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
            // The probe only when the measurements say the parallel path is worth a try.
            let mut path = self.costs.choose();
            // A contended block runs sequentially, and its time counts for that path.
            if path == ExecPath::Parallel && self.contended(block, min_batch) {
                path = ExecPath::Sequential;
            }
            let start = Instant::now();
            let outcome = match path {
                ExecPath::Sequential => self.execute_sequential(table, block),
                ExecPath::Parallel => self.execute_windows(table, block, window),
            };
            self.costs.record(path, block.len(), start.elapsed());
            return outcome;
        }
        self.execute_windows(table, block, window)
    }

    /// The contention probe of [`Executor::execute_block`] (skipped, counting as
    /// contended, while the executor's probe skips last): whether the first [`PROBE_TXS`] transactions
    /// schedule into batches averaging fewer than 4 × `min_batch`.
    fn contended(&self, block: &[ExecTx<'_>], min_batch: usize) -> bool {
        if self.costs.skip_probe() {
            return true;
        }
        let probe_len = block.len().min(PROBE_TXS);
        let probe = crate::schedule::schedule(&block[..probe_len]);
        let contended = probe_len
            < PROBE_MIN_AVG_BATCHES
                .saturating_mul(min_batch)
                .saturating_mul(probe.num_batches());
        self.costs.probed(contended);
        contended
    }

    /// The windowed parallel path of [`Executor::execute_block`].
    fn execute_windows(
        &self,
        table: &AccountsTable,
        block: &[ExecTx<'_>],
        window: usize,
    ) -> BlockOutcome {
        let mut results: Vec<TxResult> = vec![Ok(()); block.len()];
        let mut modified = Vec::new();
        let parts = rayon::current_num_threads().max(1);
        let mut phases = ExecPhases::default();
        for (txs, out) in block.chunks(window).zip(results.chunks_mut(window)) {
            let t0 = Instant::now();
            let set = WorkingSet::build(table, txs, parts);
            let t1 = Instant::now();
            self.run_window(&set, txs, out);
            let t2 = Instant::now();
            set.write_back(table, &mut modified);
            let t3 = Instant::now();
            phases.build += t1 - t0;
            phases.run += t2 - t1;
            phases.write_back += t3 - t2;
        }
        let mut outcome = self.finish(table, block, results, modified, ExecPath::Parallel);
        outcome.phases = phases;
        outcome
    }

    /// Runs the transactions of one window against its working set, into `results` (one
    /// slot per transaction of `txs`).
    ///
    /// Worker `p` runs, in block order, the transactions whose fee payer is in part `p` of
    /// the working set (the payer's copy, written by every transaction, stays in the
    /// cache of the core that loaded it), each as soon as the earlier transactions it
    /// depends on (their dependency counts) have finished, whichever worker ran them: no
    /// barrier between conflict-free batches, and the block's memory is walked in order.
    /// A worker only waits for transactions earlier than the one it holds, and the
    /// earliest unfinished transaction of the window waits for nothing (its owner has
    /// finished all its earlier ones), so the window always progresses. One thread, or a
    /// window shorter than [`MIN_PARALLEL_WINDOW`]: in block order on the calling thread.
    fn run_window(&self, set: &WorkingSet, txs: &[ExecTx<'_>], results: &mut [TxResult]) {
        let run = |scratch: &mut Scratch, refs: &[Ref], i: usize| match txs.get(i) {
            Some(tx) => {
                let mut access = set.access(refs);
                self.execute_tx(&mut access, tx, scratch)
            }
            None => Err(TxError::Malformed("transaction index out of range")),
        };
        let mut refs: Vec<Ref> = Vec::new();
        if rayon::current_num_threads() <= 1 || txs.len() < MIN_PARALLEL_WINDOW {
            let mut scratch = Scratch::default();
            for (i, r) in results.iter_mut().enumerate() {
                set.tx_refs(i, &mut refs);
                *r = run(&mut scratch, &refs, i);
            }
            return;
        }
        let abort = AtomicBool::new(false);
        let parts = set.num_parts();
        let done = rayon::broadcast(|ctx| {
            // A panicking program must not leave the other workers waiting for ever.
            let _guard = AbortOnPanic(&abort);
            let me = ctx.index();
            let mut scratch = Scratch::default();
            let mut refs: Vec<Ref> = Vec::new();
            let mut out: Vec<(u32, TxResult)> =
                Vec::with_capacity(txs.len().div_ceil(parts.max(1)) * 5 / 4);
            if me >= parts {
                return out;
            }
            // This worker's transactions: those whose fee payer is in its part, so that
            // the payer's working copy (written by every transfer) stays in its cache.
            for i in 0..txs.len() {
                if set.owner(i) != me {
                    continue;
                }
                set.tx_refs(i, &mut refs);
                if !wait_until(|| set.ready(&refs), &abort) {
                    return out;
                }
                out.push((i as u32, run(&mut scratch, &refs, i)));
                set.finished(&refs);
            }
            out
        });
        for (i, r) in done.into_iter().flatten() {
            if let Some(slot) = results.get_mut(i as usize) {
                *slot = r;
            }
        }
    }

    /// Credits the fee collector and gathers the figures of the block.
    fn finish(
        &self,
        table: &AccountsTable,
        block: &[ExecTx<'_>],
        results: Vec<TxResult>,
        mut modified: Vec<Pubkey>,
        path: ExecPath,
    ) -> BlockOutcome {
        let fees_charged = block
            .iter()
            .zip(&results)
            .filter(|(_, r)| r.as_ref().err().is_none_or(TxError::fee_charged))
            .fold(0u64, |sum, (tx, _)| sum.saturating_add(self.fee(tx)));
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
            fees_charged,
            fees_collected,
            fees_burnt: fees_charged - fees_collected,
            path,
            phases: ExecPhases::default(),
            written: modified,
        }
    }

    /// The fee of `tx`: its signature count times the fee per signature.
    fn fee(&self, tx: &ExecTx<'_>) -> u64 {
        (tx.num_signers() as u64).saturating_mul(self.config.lamports_per_signature)
    }

    /// Executes one transaction: fee, instructions, commit or roll back.
    fn execute_tx(
        &self,
        access: &mut impl AccountAccess,
        tx: &ExecTx<'_>,
        scratch: &mut Scratch,
    ) -> TxResult {
        if let Some(e) = tx.prepare_error() {
            return Err(e.clone());
        }
        let keys = tx.keys();
        if keys.is_empty() {
            return Err(TxError::Malformed("no fee payer"));
        }
        scratch.reset(keys.len());

        // Fee.
        let fee = self.fee(tx);
        scratch.load(access, 0);
        let Some(payer_account) = scratch.slots.first_mut() else {
            return Err(TxError::Malformed("no fee payer"));
        };
        if !state::key_eq(&payer_account.owner, &SystemProgram::ID)
            || !payer_account.data.is_empty()
        {
            return Err(if payer_account.lamports < fee {
                TxError::InsufficientFundsForFee
            } else {
                TxError::InvalidAccountForFee
            });
        }
        if payer_account.lamports < fee {
            return Err(TxError::InsufficientFundsForFee);
        }
        payer_account.lamports -= fee;
        scratch.touched[0] = true;

        // Instructions.
        for (index, ix) in tx.instructions().iter().enumerate() {
            if let Err(error) = self.execute_instruction(access, tx, ix, scratch) {
                // Roll back: nothing was committed yet; charge the fee alone.
                access.charge_fee_only(fee);
                return Err(TxError::Instruction {
                    index: u8::try_from(index).unwrap_or(u8::MAX),
                    error,
                });
            }
        }

        // Commit.
        for (i, touched) in scratch.touched.iter().enumerate() {
            if *touched {
                if let Some(slot) = scratch.slots.get_mut(i) {
                    access.store(i, std::mem::take(slot));
                }
            }
        }
        Ok(())
    }

    fn execute_instruction(
        &self,
        access: &impl AccountAccess,
        tx: &ExecTx<'_>,
        ix: &crate::tx::CompiledInstruction<'_>,
        scratch: &mut Scratch,
    ) -> Result<(), InstructionError> {
        let keys = tx.keys();
        let program_id = keys
            .get(usize::from(ix.program_id_index))
            .ok_or(InstructionError::UnknownProgram)?;
        let program = self
            .registry
            .get(program_id)
            .ok_or(InstructionError::UnknownProgram)?;
        for &a in ix.accounts {
            scratch.load(access, usize::from(a));
        }
        scratch.pre.clear();
        let Scratch {
            slots,
            touched,
            pre,
            ..
        } = scratch;
        let mut ctx = InstructionContext {
            program_id,
            data: ix.data,
            accounts: ix.accounts,
            keys,
            writable: tx.writable_flags(),
            num_signers: tx.num_signers(),
            slots,
            touched,
            pre,
        };
        program.process(&mut ctx)?;
        ctx.verify()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::execute::workload::P2pBlock;
    use crate::tx::TransactionView;

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
        executor.costs.sequential.store(1, Ordering::Relaxed);
        executor
            .costs
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
        forced.costs.sequential.store(1, Ordering::Relaxed);
        forced.costs.parallel.store(u64::MAX, Ordering::Relaxed);
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
            assert_eq!(executor.costs.parallel.load(Ordering::Relaxed), 0);
            assert!(executor.costs.sequential.load(Ordering::Relaxed) > 0);
            assert_eq!(executor.costs.skip_probes.load(Ordering::Relaxed), want);
        }
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
