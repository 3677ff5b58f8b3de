//! The windowed runner, the parallel path of [`super::Executor::execute_block`]: the block
//! window by window, each against its [`WorkingSet`], every transaction run by the worker
//! it is assigned to ([`assign`]: its fee payer's part, unless that would leave the
//! workers' estimated compute units unbalanced) as soon as the earlier transactions it
//! depends on have finished.

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

/// How far ahead of the least loaded worker (in the window's mean transaction costs) a
/// worker may get before [`assign`] gives transactions to another worker than their fee
/// payer's.
const BALANCE_SLACK_TXS: u64 = 32;

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
    /// Compute units each transaction consumed, in block order.
    pub(super) units: Vec<u64>,
    /// Keys written back to the table.
    pub(super) modified: Vec<Pubkey>,
    /// Where the time went.
    pub(super) phases: ExecPhases,
}

/// Runs `block` window by window (`window` transactions each, at most
/// [`super::working_set::MAX_WINDOW`]) on the current rayon pool: build the window's
/// working set, run its transactions ([`run_window`]), write the changed copies back
/// before the next window starts. `costs` holds each transaction's estimated compute
/// units (what the workers are balanced by).
pub(super) fn run_windows(
    runtime: Runtime<'_>,
    table: &AccountsTable,
    block: &[ExecTx<'_>],
    costs: &[u64],
    window: usize,
) -> WindowsRun {
    let mut results: Vec<TxResult> = vec![Ok(()); block.len()];
    let mut units: Vec<u64> = vec![0; block.len()];
    let mut modified = Vec::new();
    let parts = rayon::current_num_threads().max(1);
    let mut phases = ExecPhases::default();
    for (((txs, out), used), cost) in block
        .chunks(window)
        .zip(results.chunks_mut(window))
        .zip(units.chunks_mut(window))
        .zip(costs.chunks(window))
    {
        let t0 = Instant::now();
        let set = WorkingSet::build(table, txs, parts);
        let t1 = Instant::now();
        run_window(runtime, &set, txs, cost, out, used);
        let t2 = Instant::now();
        set.write_back(table, &mut modified);
        let t3 = Instant::now();
        phases.build += t1 - t0;
        phases.run += t2 - t1;
        phases.write_back += t3 - t2;
    }
    WindowsRun {
        results,
        units,
        modified,
        phases,
    }
}

/// Which worker runs which transaction of a window: one list per worker, in block order.
///
/// A transaction goes to the worker owning its fee payer's part (that account, written by
/// every transaction, then stays in one core's cache), unless that worker's estimated
/// compute units (`costs`, summed over the transactions assigned so far) are more than
/// [`BALANCE_SLACK_TXS`] mean transactions ahead of the least loaded worker's: then it
/// goes to the least loaded worker. So the workers advance through the window at the same
/// pace in compute units: a heavy transaction on one worker sends the following ones to
/// the other, which neither idles at the window's end nor runs far ahead and waits for
/// transactions it depends on.
///
/// Any assignment is correct (each worker runs its list in block order and waits only for
/// earlier transactions); this one is for speed.
pub(super) fn assign(
    owners: impl Iterator<Item = usize>,
    costs: &[u64],
    parts: usize,
) -> Vec<Vec<u32>> {
    let parts = parts.max(1);
    let mut lists: Vec<Vec<u32>> = (0..parts)
        .map(|_| Vec::with_capacity(costs.len().div_ceil(parts) * 9 / 8))
        .collect();
    let mut loads = vec![0u64; parts];
    let total = costs.iter().fold(0u64, |a, &c| a.saturating_add(c.max(1)));
    let slack = (total / costs.len().max(1) as u64)
        .max(1)
        .saturating_mul(BALANCE_SLACK_TXS);
    for (i, (owner, &cost)) in owners.zip(costs).enumerate() {
        let (least, &min) = loads
            .iter()
            .enumerate()
            .min_by_key(|&(_, l)| *l)
            .unwrap_or((0, &0));
        let mut p = owner.min(parts - 1);
        if loads[p].saturating_sub(min) > slack {
            p = least;
        }
        loads[p] = loads[p].saturating_add(cost.max(1));
        lists[p].push(i as u32);
    }
    lists
}

/// Runs the transactions of one window against its working set, into `results` and
/// `units` (one slot per transaction of `txs`); `costs` are their estimated compute units.
///
/// Worker `p` runs, in block order, the transactions [`assign`] gave it (mostly those
/// whose fee payer is in part `p` of the working set: the payer's copy, written by every
/// transaction, stays in the cache of the core that loaded it), each as soon as the
/// earlier transactions it depends on (their dependency counts) have finished, whichever
/// worker ran them: no barrier between conflict-free batches, and the block's memory is
/// walked in order. A worker only waits for transactions earlier than the one it holds,
/// and the earliest unfinished transaction of the window waits for nothing (its worker
/// has finished all its earlier ones), so the window always progresses. One thread, or a
/// window shorter than [`MIN_PARALLEL_WINDOW`]: in block order on the calling thread.
fn run_window(
    runtime: Runtime<'_>,
    set: &WorkingSet,
    txs: &[ExecTx<'_>],
    costs: &[u64],
    results: &mut [TxResult],
    units: &mut [u64],
) {
    let run = |scratch: &mut Scratch, refs: &[Ref], i: usize| match txs.get(i) {
        Some(tx) => {
            let mut access = set.access(refs);
            runtime.execute_tx(&mut access, tx, scratch)
        }
        None => (Err(TxError::Malformed("transaction index out of range")), 0),
    };
    let mut refs: Vec<Ref> = Vec::new();
    if rayon::current_num_threads() <= 1 || txs.len() < MIN_PARALLEL_WINDOW {
        let mut scratch = Scratch::default();
        for (i, (r, u)) in results.iter_mut().zip(units.iter_mut()).enumerate() {
            set.tx_refs(i, &mut refs);
            (*r, *u) = run(&mut scratch, &refs, i);
        }
        return;
    }
    let abort = AtomicBool::new(false);
    let parts = set.num_parts();
    let lists = assign((0..txs.len()).map(|i| set.owner(i)), costs, parts);
    let done = rayon::broadcast(|ctx| {
        // A panicking program must not leave the other workers waiting for ever.
        let _guard = AbortOnPanic(&abort);
        let me = ctx.index();
        let mut scratch = Scratch::default();
        let mut refs: Vec<Ref> = Vec::new();
        let Some(mine) = lists.get(me) else {
            return Vec::new();
        };
        let mut out: Vec<(u32, (TxResult, u64))> = Vec::with_capacity(mine.len());
        for &i in mine {
            let i = i as usize;
            set.tx_refs(i, &mut refs);
            if !wait_until(|| set.ready(&refs), &abort) {
                return out;
            }
            out.push((i as u32, run(&mut scratch, &refs, i)));
            set.finished(&refs);
        }
        out
    });
    for (i, (r, u)) in done.into_iter().flatten() {
        if let (Some(slot), Some(us)) = (results.get_mut(i as usize), units.get_mut(i as usize)) {
            *slot = r;
            *us = u;
        }
    }
}
