//! Progress on standard error (indicatif): bars for long counted work (signing a workload,
//! a bench or replay run), a spinner with the elapsed time for work of unknown length
//! (opening the GPU verifier compiles its kernels). Drawn only when standard error is a
//! terminal, so nothing of it ever reaches a pipe, a file or standard output.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use txpipe::pipeline::{BlockResult, MetricsSnapshot, Pipeline, PipelineError};

/// Whether progress is drawn: only when standard error is a terminal.
#[derive(Clone, Debug)]
pub struct Progress {
    enabled: bool,
    prefix: String,
}

impl Progress {
    /// Progress for this process: drawn when standard error is a terminal.
    pub fn stderr() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal(),
            prefix: String::new(),
        }
    }

    /// The same, with every message starting with `prefix` (e.g. the sweep step).
    pub fn with_prefix(&self, prefix: impl Into<String>) -> Self {
        Self {
            enabled: self.enabled,
            prefix: prefix.into(),
        }
    }

    /// Standard error when enabled, else nowhere.
    fn target(&self) -> ProgressDrawTarget {
        if self.enabled {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        }
    }

    /// A bar counting `unit`s up to `total`, with the rate and the time left.
    pub fn bar(&self, total: u64, message: &str, unit: &str) -> ProgressBar {
        let template = format!(
            "{{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} ({{rate}}, ETA {{eta}})"
        );
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}/s", state.per_sec());
                },
            )
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(total), self.target());
        bar.set_style(style);
        bar.set_message(format!("{}{message}", self.prefix));
        bar
    }

    /// A spinner with the elapsed time, ticking on its own until finished.
    pub fn spinner(&self, message: &str) -> ProgressBar {
        let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = ProgressBar::with_draw_target(None, self.target());
        bar.set_style(style);
        bar.set_message(format!("{}{message}", self.prefix));
        if self.enabled {
            bar.enable_steady_tick(Duration::from_millis(100));
        }
        bar
    }

    /// Runs `f` under a spinner showing `message` and the elapsed time.
    pub fn spin<T>(&self, message: &str, f: impl FnOnce() -> T) -> T {
        let spinner = self.spinner(message);
        let out = f();
        spinner.finish_and_clear();
        out
    }
}

/// Runs `blocks` through `pipeline` to the end, as [`Pipeline::run`] does, with a bar of
/// the transactions done (each block's count when its result arrives: rate and time left
/// are of finished work). Off a terminal it is [`Pipeline::run`] itself.
pub fn run_pipeline(
    progress: &Progress,
    message: &str,
    mut pipeline: Pipeline,
    blocks: impl IntoIterator<Item = Vec<Vec<u8>>>,
    transactions: usize,
) -> Result<(Vec<BlockResult>, MetricsSnapshot), PipelineError> {
    if !progress.enabled {
        return pipeline.run(blocks);
    }
    let bar = progress.bar(transactions as u64, message, "txs");
    // the streaming API: a consumer reads every result, then `finish` joins the stages
    let results = pipeline.results();
    let outcome = std::thread::scope(|scope| {
        let collector = scope.spawn(|| {
            results
                .iter()
                .inspect(|r| bar.inc(r.outcomes.len() as u64))
                .collect::<Vec<_>>()
        });
        let mut submit_err = None;
        for block in blocks {
            if let Err(e) = pipeline.submit_block(block) {
                submit_err = Some(e);
                break;
            }
        }
        let closed = pipeline.close();
        let collected = collector.join();
        let (rest, metrics) = pipeline.finish()?;
        let mut all = collected.map_err(|_| PipelineError::StagePanicked("collect"))?;
        submit_err.map_or(closed, Err)?;
        all.extend(rest);
        Ok((all, metrics))
    });
    bar.finish_and_clear();
    outcome
}
