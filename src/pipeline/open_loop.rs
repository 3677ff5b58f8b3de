//! Open-loop load (feature `test-support`): packets offered to a pipeline at a fixed
//! rate, with constant spacing or Poisson arrivals, independent of how fast results come
//! back, so that latency is measured as a validator sees it: from each transaction's
//! scheduled arrival to its result, at a given offered load.

use std::str::FromStr;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{BlockResult, MetricsSnapshot, Pipeline, PipelineError};

/// How arrivals are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Arrivals {
    /// Exactly `1 / rate` apart.
    #[default]
    Constant,
    /// A Poisson process: exponential gaps with mean `1 / rate` (bursts and lulls, as
    /// independent senders make).
    Poisson,
}

/// An unknown arrival process name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown arrivals {0:?} (expected constant or poisson)")]
pub struct UnknownArrivals(pub String);

impl FromStr for Arrivals {
    type Err = UnknownArrivals;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "constant" => Ok(Self::Constant),
            "poisson" => Ok(Self::Poisson),
            other => Err(UnknownArrivals(other.to_string())),
        }
    }
}

impl std::fmt::Display for Arrivals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Constant => "constant",
            Self::Poisson => "poisson",
        })
    }
}

/// The arrival time of each of `n` packets, as an offset from the start, at `rate`
/// packets per second (a rate of 0 or less: all at once). Poisson gaps come from `seed`.
pub fn arrival_offsets(n: usize, rate: f64, arrivals: Arrivals, seed: u64) -> Vec<Duration> {
    if rate.is_nan() || rate <= 0.0 || rate.is_infinite() {
        return vec![Duration::ZERO; n];
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = 0.0f64;
    (0..n)
        .map(|i| {
            let at = Duration::from_secs_f64(t);
            t = match arrivals {
                Arrivals::Constant => (i + 1) as f64 / rate,
                // inverse transform of an exponential; 1 - u is in (0, 1]
                Arrivals::Poisson => t - (1.0 - rng.gen::<f64>()).ln() / rate,
            };
            at
        })
        .collect()
}

/// What an open-loop run gives.
#[derive(Debug)]
pub struct OpenLoopRun {
    /// Every block's result, in order.
    pub results: Vec<BlockResult>,
    /// The pipeline's final metrics (latencies from each scheduled arrival).
    pub metrics: MetricsSnapshot,
    /// The rate asked for, transactions per second.
    pub offered_tps: f64,
    /// Transactions with a result per second, from the first arrival to the last result.
    pub achieved_tps: f64,
    /// How far behind its schedule the submitter fell at worst (a pipeline that cannot
    /// keep up makes the submitter wait for room).
    pub max_submit_lag: Duration,
}

/// Submits `packets` to `pipeline` one at a time at their scheduled arrival times
/// ([`arrival_offsets`]), each with its scheduled time as its arrival
/// ([`Pipeline::submit_at`]), while another thread collects results; then shuts the
/// pipeline down.
///
/// # Errors
/// As [`Pipeline::submit_at`] and [`Pipeline::finish`].
pub fn run_open_loop(
    mut pipeline: Pipeline,
    packets: &[Vec<u8>],
    rate: f64,
    arrivals: Arrivals,
    seed: u64,
) -> Result<OpenLoopRun, PipelineError> {
    let offsets = arrival_offsets(packets.len(), rate, arrivals, seed);
    let results = pipeline.results();
    let collector = std::thread::Builder::new()
        .name("txpipe-collect".into())
        .spawn(move || {
            let all: Vec<BlockResult> = results.iter().collect();
            (all, Instant::now())
        })
        .map_err(PipelineError::Spawn)?;
    let start = Instant::now();
    let mut max_lag = Duration::ZERO;
    let mut submit_err = None;
    for (packet, offset) in packets.iter().zip(&offsets) {
        let due = start + *offset;
        loop {
            let now = Instant::now();
            if now >= due {
                max_lag = max_lag.max(now - due);
                break;
            }
            // sleeping overshoots by tens of microseconds: the packet then arrives that
            // late, and its latency (from `due`) includes it
            std::thread::sleep((due - now).min(Duration::from_millis(1)));
        }
        if let Err(e) = pipeline.submit_at(packet.clone(), due) {
            submit_err = Some(e);
            break;
        }
    }
    let closed = pipeline.close();
    let (results, last_result) = collector
        .join()
        .map_err(|_| PipelineError::StagePanicked("collect"))?;
    let (rest, metrics) = pipeline.finish()?;
    if let Some(e) = submit_err {
        return Err(e);
    }
    closed?;
    debug_assert!(rest.is_empty(), "the collector read every result");
    let completed: usize = results.iter().map(|r| r.outcomes.len()).sum();
    let span = last_result.saturating_duration_since(start).as_secs_f64();
    Ok(OpenLoopRun {
        results,
        metrics,
        offered_tps: rate,
        achieved_tps: if span > 0.0 {
            completed as f64 / span
        } else {
            0.0
        },
        max_submit_lag: max_lag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_keep_the_offered_rate() {
        let constant = arrival_offsets(1000, 500.0, Arrivals::Constant, 1);
        assert_eq!(constant[0], Duration::ZERO);
        assert_eq!(constant[1], Duration::from_millis(2));
        assert!((constant[999].as_secs_f64() - 1.998).abs() < 1e-9);
        let poisson = arrival_offsets(20_000, 1000.0, Arrivals::Poisson, 7);
        assert!(poisson.windows(2).all(|w| w[0] <= w[1]));
        // 20,000 arrivals at 1,000/s take ~20 s; within 3% for this many
        let span = poisson[19_999].as_secs_f64();
        assert!((span - 20.0).abs() < 0.6, "{span}");
        assert_eq!(
            arrival_offsets(3, 0.0, Arrivals::Poisson, 1),
            vec![Duration::ZERO; 3]
        );
        assert_eq!("poisson".parse(), Ok(Arrivals::Poisson));
        assert!("bursty".parse::<Arrivals>().is_err());
    }
}
