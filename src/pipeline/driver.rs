//! The stage driver: what every stage thread does around its own work. A [`Stage`] says
//! what it takes, what it gives and who it is ([`StageId`]); [`drive`] is the one loop that
//! receives a block, times the stage's work on it, records the stage's metrics and sends
//! the result on.

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
}

/// The stage loop: for each block of `input`, in order, runs `stage` on it, records the
/// time and counts in `metrics`, and sends the result to `output` (then notes the depth
/// of the queue it feeds). Returns when `input` closes (so the stage finishes what it
/// holds, then `output` closes as it drops) or when `output`'s receiver is gone.
pub(crate) fn drive<S: Stage>(
    mut stage: S,
    input: Receiver<S::In>,
    output: Sender<S::Out>,
    metrics: &Metrics,
) {
    for block in input.iter() {
        let start = Instant::now();
        let ran = stage.run(block);
        metrics
            .stage(S::ID)
            .record(ran.items_in, ran.items_out, start.elapsed());
        stage.after(&ran.out, metrics);
        if output.send(ran.out).is_err() {
            return;
        }
        if let Some(next) = S::ID.next_thread() {
            metrics.stage(next).observe_queue(output.len());
        }
    }
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
