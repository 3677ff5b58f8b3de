//! Progress on standard error (indicatif): bars for long counted work (signing a workload,
//! a bench or replay run), a spinner with the elapsed time for work of unknown length
//! (opening the GPU verifier compiles its kernels). Drawn only when standard error is a
//! terminal, so nothing of it ever reaches a pipe, a file or standard output.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

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

    /// A bar counting `unit`s up to `total`, with the rate and the time left. (A bench or
    /// replay bar counts transactions as the pipeline takes them in: at most its in-flight
    /// bound ahead of the results.)
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
