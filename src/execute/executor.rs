//! The block executor: fees, instructions, commit; sequential and parallel.

use rayon::prelude::*;

use crate::schedule::Schedule;
use crate::state::{self, Account, AccountsTable};
use crate::tx::LAMPORTS_PER_SIGNATURE;
use crate::{Hash, Pubkey};

use super::{
    BlockError, ExecTx, InstructionContext, InstructionError, ProgramRegistry, SystemProgram,
    TxError, TxResult,
};

/// Transactions scheduled by the contention probe of [`Executor::execute_block`].
pub const PROBE_TXS: usize = 2048;

/// The probe's batches must average this many times `min_parallel_batch` transactions.
const PROBE_MIN_AVG_BATCHES: usize = 4;

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
pub const DEFAULT_WINDOW: usize = 2048;

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
    /// Transactions scheduled and run together by [`Executor::execute_block`] (default
    /// [`DEFAULT_WINDOW`]).
    pub window: usize,
    /// Whether [`Executor::execute_block`] may choose the sequential path (one thread, or
    /// a contended block). Default `true`; `false` always runs the windowed parallel path.
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
#[derive(Clone, Debug, Default)]
pub struct Executor {
    registry: ProgramRegistry,
    config: ExecConfig,
}

/// Per-worker scratch space, reused from one transaction to the next.
#[derive(Default)]
struct Scratch {
    slots: Vec<Account>,
    loaded: Vec<bool>,
    touched: Vec<bool>,
    pre: Vec<(usize, Account)>,
    /// Keys written to the table by this worker.
    modified: Vec<Pubkey>,
    /// Fees charged by this worker.
    fees: u64,
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

    fn load(&mut self, table: &AccountsTable, keys: &[Pubkey], i: usize) {
        if let (Some(false), Some(key), Some(slot)) = (
            self.loaded.get(i).copied(),
            keys.get(i),
            self.slots.get_mut(i),
        ) {
            *slot = table.get(key).unwrap_or_default();
            self.loaded[i] = true;
        }
    }
}

impl Executor {
    /// An executor with `registry` and `config`.
    pub fn new(registry: ProgramRegistry, config: ExecConfig) -> Self {
        Self { registry, config }
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
        let results = block
            .iter()
            .map(|tx| self.execute_tx(table, tx, &mut scratch))
            .collect();
        self.finish(table, results, vec![scratch], ExecPath::Sequential)
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
        let mut local = Scratch::default();
        let mut scratches: Vec<Scratch> = Vec::new();
        self.run_batches(
            table,
            block,
            schedule,
            &mut results,
            &mut local,
            &mut scratches,
        );
        scratches.push(local);
        Ok(self.finish(table, results, scratches, ExecPath::Parallel))
    }

    /// Runs the batches of `schedule` (made for `block`) into `results` (one slot per
    /// transaction of `block`); small batches on the calling thread with `local`.
    fn run_batches(
        &self,
        table: &AccountsTable,
        block: &[ExecTx<'_>],
        schedule: &Schedule,
        results: &mut [TxResult],
        local: &mut Scratch,
        scratches: &mut Vec<Scratch>,
    ) {
        let threads = rayon::current_num_threads().max(1);
        let min_batch = self.config.min_parallel_batch.max(2);
        for batch in schedule.batches() {
            if threads == 1 || batch.len() < min_batch {
                for &i in batch {
                    if let (Some(tx), Some(r)) = (block.get(i), results.get_mut(i)) {
                        *r = self.execute_tx(table, tx, local);
                    }
                }
                continue;
            }
            // A few chunks per thread, for balance when transactions differ in cost.
            let chunk = batch.len().div_ceil(threads * 4).max(16);
            let parts: Vec<(Vec<TxResult>, Scratch)> = batch
                .par_chunks(chunk)
                .map(|idxs| {
                    let mut scratch = Scratch::default();
                    let out = idxs
                        .iter()
                        .map(|&i| match block.get(i) {
                            Some(tx) => self.execute_tx(table, tx, &mut scratch),
                            None => Err(TxError::Malformed("schedule index out of range")),
                        })
                        .collect();
                    (out, scratch)
                })
                .collect();
            for (idxs, (out, scratch)) in batch.chunks(chunk).zip(parts) {
                for (&i, r) in idxs.iter().zip(out) {
                    if let Some(slot) = results.get_mut(i) {
                        *slot = r;
                    }
                }
                scratches.push(scratch);
            }
        }
    }

    /// Runs `block` the fastest way that gives the sequential result, on the current rayon
    /// pool:
    /// - one thread, or a block shorter than two [`ExecConfig::min_parallel_batch`]:
    ///   sequentially;
    /// - otherwise a contention probe schedules the first [`PROBE_TXS`] transactions; if
    ///   their batches average fewer than 4 × [`ExecConfig::min_parallel_batch`]
    ///   transactions (a contended block: too little to run side by side to pay for a
    ///   barrier per batch and the lost block-order locality), sequentially;
    /// - otherwise the block is cut into windows of [`ExecConfig::window`] transactions,
    ///   each scheduled and run as [`Executor::execute_parallel`] runs a block, one window
    ///   after the other (the windows' batches are conflict-free and ordered, so the
    ///   result is still the sequential one; the windows keep the working set in cache).
    ///
    /// [`BlockOutcome::path`] tells which path ran.
    pub fn execute_block(&self, table: &AccountsTable, block: &[ExecTx<'_>]) -> BlockOutcome {
        let min_batch = self.config.min_parallel_batch.max(2);
        let window = self.config.window.max(min_batch);
        // The probe's schedule, kept when it is exactly the first window's.
        let mut first = None;
        if self.config.allow_sequential {
            if rayon::current_num_threads() <= 1 || block.len() < 2 * min_batch {
                return self.execute_sequential(table, block);
            }
            let probe_len = block.len().min(PROBE_TXS);
            let probe = crate::schedule::schedule(&block[..probe_len]);
            if probe_len < PROBE_MIN_AVG_BATCHES * min_batch * probe.num_batches() {
                return self.execute_sequential(table, block);
            }
            if probe_len == window.min(block.len()) {
                first = Some(probe);
            }
        }
        // Window by window: each window is scheduled and run before the next, so that
        // the batches of a window find its transactions and accounts still in cache.
        let mut results: Vec<TxResult> = vec![Ok(()); block.len()];
        let mut local = Scratch::default();
        let mut scratches: Vec<Scratch> = Vec::new();
        for (txs, out) in block.chunks(window).zip(results.chunks_mut(window)) {
            let schedule = match first.take() {
                Some(s) => s,
                None => crate::schedule::schedule(txs),
            };
            self.run_batches(table, txs, &schedule, out, &mut local, &mut scratches);
        }
        scratches.push(local);
        self.finish(table, results, scratches, ExecPath::Parallel)
    }

    /// Credits the fee collector and gathers the modified keys.
    fn finish(
        &self,
        table: &AccountsTable,
        results: Vec<TxResult>,
        scratches: Vec<Scratch>,
        path: ExecPath,
    ) -> BlockOutcome {
        let mut fees_charged = 0u64;
        let mut modified = Vec::with_capacity(scratches.iter().map(|s| s.modified.len()).sum());
        for s in scratches {
            fees_charged = fees_charged.saturating_add(s.fees);
            modified.extend(s.modified);
        }
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
            written: modified,
        }
    }

    /// Executes one transaction: fee, instructions, commit or roll back.
    fn execute_tx(
        &self,
        table: &AccountsTable,
        tx: &ExecTx<'_>,
        scratch: &mut Scratch,
    ) -> TxResult {
        if let Some(e) = tx.prepare_error() {
            return Err(e.clone());
        }
        let keys = tx.keys();
        let Some(payer) = keys.first() else {
            return Err(TxError::Malformed("no fee payer"));
        };
        scratch.reset(keys.len());

        // Fee.
        let fee = (tx.num_signers() as u64).saturating_mul(self.config.lamports_per_signature);
        scratch.load(table, keys, 0);
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
        scratch.fees = scratch.fees.saturating_add(fee);

        // Instructions.
        for (index, ix) in tx.instructions().iter().enumerate() {
            if let Err(error) = self.execute_instruction(table, tx, ix, scratch) {
                // Roll back: nothing was written yet; charge the fee alone.
                table.update(payer, |a| a.lamports = a.lamports.saturating_sub(fee));
                scratch.modified.push(*payer);
                return Err(TxError::Instruction {
                    index: u8::try_from(index).unwrap_or(u8::MAX),
                    error,
                });
            }
        }

        // Commit.
        for (i, key) in keys.iter().enumerate() {
            if scratch.touched[i] {
                let account = std::mem::take(&mut scratch.slots[i]);
                table.insert(*key, account);
                scratch.modified.push(*key);
            }
        }
        Ok(())
    }

    fn execute_instruction(
        &self,
        table: &AccountsTable,
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
            scratch.load(table, keys, usize::from(a));
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
