//! The windowed runner, the parallel path of [`super::Executor::execute_block`]: the block
//! window by window, each against its [`WorkingSet`], every transaction run by the worker
//! owning its fee payer's part as soon as the earlier transactions it depends on have
//! finished.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::state::AccountsTable;
use crate::Pubkey;

use super::error::{TxError, TxResult};
use super::runtime::{Runtime, Scratch};
use super::transaction::ExecTx;
use super::working_set::{Ref, WorkingSet};

/// Windows shorter than this run on the calling thread.
const MIN_PARALLEL_WINDOW: usize = 32;

/// Time spent in each phase of [`super::Executor::execute_block`]'s windowed path, summed
/// over the windows.
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

/// What the windowed runner did to a block, before the fees are gathered.
pub(super) struct WindowsRun {
    /// One result per transaction, in block order.
    pub(super) results: Vec<TxResult>,
    /// Keys written back to the table.
    pub(super) modified: Vec<Pubkey>,
    /// Where the time went.
    pub(super) phases: ExecPhases,
}

/// Runs `block` window by window (`window` transactions each, at most
/// [`super::working_set::MAX_WINDOW`]) on the current rayon pool: build the window's
/// working set, run its transactions ([`run_window`]), write the changed copies back
/// before the next window starts.
pub(super) fn run_windows(
    runtime: Runtime<'_>,
    table: &AccountsTable,
    block: &[ExecTx<'_>],
    window: usize,
) -> WindowsRun {
    let mut results: Vec<TxResult> = vec![Ok(()); block.len()];
    let mut modified = Vec::new();
    let parts = rayon::current_num_threads().max(1);
    let mut phases = ExecPhases::default();
    for (txs, out) in block.chunks(window).zip(results.chunks_mut(window)) {
        let t0 = Instant::now();
        let set = WorkingSet::build(table, txs, parts);
        let t1 = Instant::now();
        run_window(runtime, &set, txs, out);
        let t2 = Instant::now();
        set.write_back(table, &mut modified);
        let t3 = Instant::now();
        phases.build += t1 - t0;
        phases.run += t2 - t1;
        phases.write_back += t3 - t2;
    }
    WindowsRun {
        results,
        modified,
        phases,
    }
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
fn run_window(
    runtime: Runtime<'_>,
    set: &WorkingSet,
    txs: &[ExecTx<'_>],
    results: &mut [TxResult],
) {
    let run = |scratch: &mut Scratch, refs: &[Ref], i: usize| match txs.get(i) {
        Some(tx) => {
            let mut access = set.access(refs);
            runtime.execute_tx(&mut access, tx, scratch)
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
