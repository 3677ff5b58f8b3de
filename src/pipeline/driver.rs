//! The stage driver: what every stage thread does around its own work. A [`Stage`] says
//! what it takes, what it gives and who it is ([`StageId`]); [`drive`] is the one loop that
//! receives a block, times the stage's work on it, records the stage's metrics and sends
//! the result on.
//!
//! A stage that works better on more at once (signature verification on a GPU) names a
//! gathering target ([`Stage::gather_target`]): the loop then also takes the blocks
//! already waiting in its input queue, never waiting for more, up to that target, hands
//! them to [`Stage::run_gathered`] together and sends each block on, in order.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use super::metrics::Metrics;
use super::stage_id::StageId;
use super::PipelineError;
use crossbeam_channel::{Receiver, Sender};

/// What a stage made of one block, and how many transactions it took and passed on.
pub(crate) struct Ran<T> {
    /// The block for the next stage.
    pub out: T,
    /// Transactions the stage worked on.
    pub items_in: usize,
    /// Transactions it passed on (not dropped).
    pub items_out: usize,
}

/// One stage of the pipeline, run on its own thread by [`drive`].
pub(crate) trait Stage {
    /// What the stage takes from its input queue (one block).
    type In;
    /// What it sends on (one block).
    type Out;
    /// Who it is: its thread's name and metrics.
    const ID: StageId;

    /// The stage's work on one block.
    fn run(&mut self, input: Self::In) -> Ran<Self::Out>;

    /// Metrics beyond the stage's own counters, recorded after them and before the block
    /// is sent on (by default none).
    fn after(&mut self, _out: &Self::Out, _metrics: &Metrics) {}

    /// How much work the stage would gather from its queue before working, in the units
    /// of [`Stage::weight`]; asked before each block. 0 (the default): one block at a time.
    fn gather_target(&self) -> usize {
        0
    }

    /// How much of the gathering target `input` fills (by default nothing).
    fn weight(&self, _input: &Self::In) -> usize {
        0
    }

    /// The stage's work on blocks gathered from the queue, in queue order: one [`Ran`]
    /// per block, in the same order (by default [`Stage::run`] on each).
    fn run_gathered(&mut self, inputs: Vec<Self::In>) -> Vec<Ran<Self::Out>> {
        inputs.into_iter().map(|input| self.run(input)).collect()
    }
}

/// The stage loop: for each block of `input`, in order, runs `stage` on it, records the
/// time and counts in `metrics`, and sends the result to `output` (then notes the depth
/// of the queue it feeds). Returns when `input` closes (so the stage finishes what it
/// holds, then `output` closes as it drops) or when `output`'s receiver is gone.
///
/// When the stage names a gathering target, the blocks already queued behind the one
/// received are taken with it (without waiting) while their weights fit the target
/// together; a block that would pass the target is held for the next round, first. The
/// blocks then go on one by one, in the order received.
pub(crate) fn drive<S: Stage>(
    mut stage: S,
    input: Receiver<S::In>,
    output: Sender<S::Out>,
    metrics: &Metrics,
) {
    let mut held: Option<S::In> = None;
    loop {
        let first = match held.take() {
            Some(block) => block,
            None => match input.recv() {
                Ok(block) => block,
                Err(_) => return,
            },
        };
        let target = stage.gather_target();
        if target == 0 {
            let start = Instant::now();
            let ran = stage.run(first);
            metrics
                .stage(S::ID)
                .record(ran.items_in, ran.items_out, start.elapsed());
            if !pass_on(&mut stage, ran.out, &output, metrics) {
                return;
            }
            continue;
        }
        let mut weight = stage.weight(&first);
        let mut group = vec![first];
        while weight < target {
            let Ok(next) = input.try_recv() else {
                break;
            };
            let w = stage.weight(&next);
            if weight.saturating_add(w) > target {
                held = Some(next);
                break;
            }
            weight += w;
            group.push(next);
        }
        let start = Instant::now();
        let rans = stage.run_gathered(group);
        let elapsed = start.elapsed();
        // the group's time, shared by the blocks in proportion to their transactions
        let total: usize = rans.iter().map(|r| r.items_in).sum();
        let n = rans.len();
        for ran in rans {
            let share = if total > 0 {
                ran.items_in as f64 / total as f64
            } else {
                1.0 / n as f64
            };
            metrics
                .stage(S::ID)
                .record(ran.items_in, ran.items_out, elapsed.mul_f64(share));
            if !pass_on(&mut stage, ran.out, &output, metrics) {
                return;
            }
        }
    }
}

/// Records the stage's extra metrics for `out`, sends it on and notes the depth of the
/// queue it went to. `false` when the next stage is gone.
fn pass_on<S: Stage>(
    stage: &mut S,
    out: S::Out,
    output: &Sender<S::Out>,
    metrics: &Metrics,
) -> bool {
    stage.after(&out, metrics);
    if output.send(out).is_err() {
        return false;
    }
    if let Some(next) = S::ID.next_thread() {
        metrics.stage(next).observe_queue(output.len());
    }
    true
}

/// Starts `stage`'s thread (`txpipe-<stage>`), driven by [`drive`], and adds it to
/// `threads` under the stage's name.
pub(crate) fn spawn<S>(
    stage: S,
    input: Receiver<S::In>,
    output: Sender<S::Out>,
    metrics: &Arc<Metrics>,
    threads: &mut Vec<(&'static str, JoinHandle<()>)>,
) -> Result<(), PipelineError>
where
    S: Stage + Send + 'static,
    S::In: Send + 'static,
    S::Out: Send + 'static,
{
    let name = S::ID.as_str();
    let metrics = Arc::clone(metrics);
    let handle = std::thread::Builder::new()
        .name(format!("txpipe-{name}"))
        .spawn(move || drive(stage, input, output, &metrics))
        .map_err(PipelineError::Spawn)?;
    threads.push((name, handle));
    Ok(())
}
