//! Pipeline metrics: per-stage counters, end-to-end latency histogram, GPU/CPU share;
//! as a struct, JSON, or Prometheus text exposition.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use super::outcome::OutcomeCounts;
use super::stage_id::StageId;

/// Live counters of one stage (updated by its thread).
#[derive(Debug, Default)]
pub(crate) struct StageCounters {
    pub items_in: AtomicU64,
    pub items_out: AtomicU64,
    pub busy_ns: AtomicU64,
    pub max_queue: AtomicU64,
}

impl StageCounters {
    pub fn record(&self, items_in: usize, items_out: usize, busy: Duration) {
        self.items_in.fetch_add(items_in as u64, Ordering::Relaxed);
        self.items_out
            .fetch_add(items_out as u64, Ordering::Relaxed);
        self.busy_ns.fetch_add(
            busy.as_nanos().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
    }

    pub fn observe_queue(&self, depth: usize) {
        self.max_queue.fetch_max(depth as u64, Ordering::Relaxed);
    }
}

/// Log-bucketed latency histogram: buckets grow by 2% from 1 µs, so quantiles are exact
/// to 2% with a fixed memory footprint whatever the run length.
#[derive(Debug)]
pub(crate) struct LatencyHistogram {
    buckets: Vec<u64>,
    count: u64,
    max: Duration,
}

const GROWTH: f64 = 1.02;
const BUCKETS: usize = 1400; // 1.02^1400 µs ≈ 1e12 µs: far beyond any run

impl LatencyHistogram {
    pub fn new() -> Self {
        Self {
            buckets: vec![0; BUCKETS],
            count: 0,
            max: Duration::ZERO,
        }
    }

    fn bucket(micros: f64) -> usize {
        if micros <= 1.0 {
            0
        } else {
            ((micros.ln() / GROWTH.ln()).ceil() as usize).min(BUCKETS - 1)
        }
    }

    pub fn record(&mut self, latency: Duration, n: u64) {
        let b = Self::bucket(latency.as_secs_f64() * 1e6);
        if let Some(bucket) = self.buckets.get_mut(b) {
            *bucket += n;
        }
        self.count += n;
        if n > 0 {
            self.max = self.max.max(latency);
        }
    }

    /// The largest latency recorded, in milliseconds (exact); 0 when empty.
    pub fn max_ms(&self) -> f64 {
        self.max.as_secs_f64() * 1e3
    }

    /// The non-empty buckets as (upper edge in milliseconds, transactions), in order.
    pub fn buckets_ms(&self) -> Vec<(f64, u64)> {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, &n)| (GROWTH.powi(i as i32) / 1000.0, n))
            .collect()
    }

    /// The `q` quantile in milliseconds (upper edge of its bucket); 0 when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return GROWTH.powi(i as i32) / 1000.0;
            }
        }
        0.0
    }
}

/// Shared, thread-safe metrics of a running pipeline.
#[derive(Debug)]
pub(crate) struct Metrics {
    /// Indexed by [`StageId::index`]: see [`Metrics::stage`].
    stages: [StageCounters; StageId::COUNT],
    pub latency: Mutex<LatencyHistogram>,
    pub outcomes: Mutex<OutcomeCounts>,
    pub blocks: AtomicU64,
    pub submitted: AtomicU64,
}

impl Metrics {
    pub fn new() -> Self {
        Self {
            stages: Default::default(),
            latency: Mutex::new(LatencyHistogram::new()),
            outcomes: Mutex::new(OutcomeCounts::default()),
            blocks: AtomicU64::new(0),
            submitted: AtomicU64::new(0),
        }
    }

    /// The counters of stage `id`.
    pub fn stage(&self, id: StageId) -> &StageCounters {
        &self.stages[id.index()]
    }
}

/// One stage's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StageMetrics {
    /// Stage name.
    pub stage: &'static str,
    /// Transactions received.
    pub items_in: u64,
    /// Transactions passed on (not dropped).
    pub items_out: u64,
    /// Time the stage's thread spent working (not waiting), seconds.
    pub busy_s: f64,
    /// Share of the wall time the stage was busy.
    pub busy_share: f64,
    /// Transactions received per second of wall time.
    pub tps: f64,
    /// Transactions received per second of busy time (what the stage could do alone).
    pub capacity_tps: f64,
    /// Blocks waiting in the stage's input queue when sampled.
    pub queue_depth: u64,
    /// Largest input queue depth seen.
    pub max_queue_depth: u64,
}

/// Signature verification split between backends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct SigverifyShare {
    /// Signatures verified on the GPU.
    pub gpu_signatures: u64,
    /// Signatures verified on the CPU.
    pub cpu_signatures: u64,
    /// GPU batches that failed and were verified again on the CPU.
    pub gpu_fallbacks: u64,
    /// Share of signatures verified on the GPU (0 to 1).
    pub gpu_share: f64,
}

/// A snapshot of every metric.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MetricsSnapshot {
    /// Wall time since the first submission, seconds.
    pub elapsed_s: f64,
    /// Blocks committed.
    pub blocks: u64,
    /// Transactions submitted.
    pub submitted: u64,
    /// Transactions with a result.
    pub completed: u64,
    /// End-to-end transactions per second (completed / elapsed).
    pub tps: f64,
    /// Per stage, in pipeline order.
    pub stages: Vec<StageMetrics>,
    /// Arrival-to-result latency, milliseconds: p50 (each transaction from its arrival,
    /// [`crate::pipeline::Pipeline::submit_at`], to its block's result; quantiles from a
    /// histogram with 2% buckets, so within 2% above the exact value).
    pub latency_p50_ms: f64,
    /// Arrival-to-result latency, milliseconds: p90.
    pub latency_p90_ms: f64,
    /// Arrival-to-result latency, milliseconds: p99.
    pub latency_p99_ms: f64,
    /// Arrival-to-result latency, milliseconds: p99.9.
    pub latency_p999_ms: f64,
    /// Arrival-to-result latency, milliseconds: the largest (exact).
    pub latency_max_ms: f64,
    /// The latency histogram the quantiles come from: its non-empty buckets as (upper edge
    /// in milliseconds, transactions), in order (buckets grow by 2% from 1 µs). Not in
    /// [`MetricsSnapshot::to_json`].
    #[serde(skip)]
    pub latency_histogram: Vec<(f64, u64)>,
    /// Transactions submitted and not yet committed, now.
    pub in_flight: u64,
    /// GPU and CPU share of signature verification.
    pub sigverify: SigverifyShare,
    /// Outcome counts.
    pub outcomes: OutcomeCounts,
}

impl MetricsSnapshot {
    /// The snapshot as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The snapshot in Prometheus text exposition format (version 0.0.4).
    pub fn to_prometheus(&self) -> String {
        let mut s = String::new();
        let mut metric = |name: &str, help: &str, kind: &str, rows: &[(String, f64)]| {
            let _ = writeln!(s, "# HELP txpipe_{name} {help}");
            let _ = writeln!(s, "# TYPE txpipe_{name} {kind}");
            for (labels, v) in rows {
                let _ = writeln!(s, "txpipe_{name}{labels} {v}");
            }
        };
        let per_stage = |f: &dyn Fn(&StageMetrics) -> f64| -> Vec<(String, f64)> {
            self.stages
                .iter()
                .map(|st| (format!("{{stage=\"{}\"}}", st.stage), f(st)))
                .collect()
        };
        metric(
            "stage_items_in_total",
            "Transactions received by the stage.",
            "counter",
            &per_stage(&|s| s.items_in as f64),
        );
        metric(
            "stage_items_out_total",
            "Transactions passed on by the stage.",
            "counter",
            &per_stage(&|s| s.items_out as f64),
        );
        metric(
            "stage_busy_seconds_total",
            "Time the stage spent working.",
            "counter",
            &per_stage(&|s| s.busy_s),
        );
        metric(
            "stage_queue_depth",
            "Blocks waiting in the stage's input queue.",
            "gauge",
            &per_stage(&|s| s.queue_depth as f64),
        );
        metric(
            "stage_throughput_tps",
            "Transactions per second through the stage.",
            "gauge",
            &per_stage(&|s| s.tps),
        );
        metric(
            "transactions_submitted_total",
            "Transactions submitted.",
            "counter",
            &[(String::new(), self.submitted as f64)],
        );
        metric(
            "transactions_completed_total",
            "Transactions with a result.",
            "counter",
            &[(String::new(), self.completed as f64)],
        );
        metric(
            "blocks_committed_total",
            "Blocks committed.",
            "counter",
            &[(String::new(), self.blocks as f64)],
        );
        metric(
            "latency_milliseconds",
            "Arrival-to-result latency quantiles.",
            "gauge",
            &[
                ("{quantile=\"0.5\"}".into(), self.latency_p50_ms),
                ("{quantile=\"0.9\"}".into(), self.latency_p90_ms),
                ("{quantile=\"0.99\"}".into(), self.latency_p99_ms),
                ("{quantile=\"0.999\"}".into(), self.latency_p999_ms),
                ("{quantile=\"1\"}".into(), self.latency_max_ms),
            ],
        );
        metric(
            "signatures_verified_total",
            "Signatures verified, by backend.",
            "counter",
            &[
                (
                    "{backend=\"gpu\"}".into(),
                    self.sigverify.gpu_signatures as f64,
                ),
                (
                    "{backend=\"cpu\"}".into(),
                    self.sigverify.cpu_signatures as f64,
                ),
            ],
        );
        metric(
            "gpu_fallbacks_total",
            "GPU batches verified again on the CPU.",
            "counter",
            &[(String::new(), self.sigverify.gpu_fallbacks as f64)],
        );
        let o = &self.outcomes;
        metric(
            "outcomes_total",
            "Transaction outcomes.",
            "counter",
            &[
                ("{outcome=\"ok\"}".into(), o.ok as f64),
                ("{outcome=\"malformed\"}".into(), o.malformed as f64),
                ("{outcome=\"duplicate\"}".into(), o.duplicate as f64),
                (
                    "{outcome=\"invalid_signature\"}".into(),
                    o.invalid_signature as f64,
                ),
                (
                    "{outcome=\"failed_fee_charged\"}".into(),
                    o.failed_fee_charged as f64,
                ),
                ("{outcome=\"failed_no_fee\"}".into(), o.failed_no_fee as f64),
            ],
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_within_two_percent() {
        let mut h = LatencyHistogram::new();
        for ms in 1..=1000u64 {
            h.record(Duration::from_millis(ms), 1);
        }
        let p50 = h.quantile_ms(0.5);
        let p99 = h.quantile_ms(0.99);
        assert!((p50 - 500.0).abs() / 500.0 < 0.021, "{p50}");
        assert!((p99 - 990.0).abs() / 990.0 < 0.021, "{p99}");
        assert_eq!(LatencyHistogram::new().quantile_ms(0.5), 0.0);
    }

    #[test]
    fn histogram_quantiles_match_exact_percentiles_on_skewed_latencies() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
        let mut exact: Vec<Duration> = (0..50_000)
            .map(|i| {
                // a spread from 2 µs to ~40 s with a heavy tail, plus repeated values
                let base = if i % 10 == 0 { 5_000.0 } else { 2.0 };
                let micros: f64 = base * (rng.gen::<f64>() * 9.0).exp();
                Duration::from_nanos((micros * 1e3) as u64)
            })
            .collect();
        let mut h = LatencyHistogram::new();
        for d in &exact {
            h.record(*d, 1);
        }
        exact.sort();
        for q in [0.5, 0.9, 0.99, 0.999] {
            let rank = ((q * exact.len() as f64).ceil() as usize).clamp(1, exact.len());
            let want = exact[rank - 1].as_secs_f64() * 1e3;
            let got = h.quantile_ms(q);
            // the upper edge of the bucket holding the exact value: never below it (but for
            // sub-microsecond values, all in the first bucket), at most 2% above
            assert!(
                got >= want * 0.999_999 && got <= want * 1.02 + 1e-3,
                "q{q}: histogram {got} ms, exact {want} ms"
            );
        }
        let max = exact.last().map_or(0.0, |d| d.as_secs_f64() * 1e3);
        assert_eq!(h.max_ms(), max);
        // the buckets hold every transaction, in increasing order of their edges
        let buckets = h.buckets_ms();
        assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>(), exact.len() as u64);
        assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn prometheus_text_is_well_formed() {
        let snap = MetricsSnapshot {
            stages: vec![StageMetrics {
                stage: "parse",
                items_in: 3,
                ..Default::default()
            }],
            ..Default::default()
        };
        let text = snap.to_prometheus();
        assert!(text.contains("txpipe_stage_items_in_total{stage=\"parse\"} 3\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(name.starts_with("txpipe_"), "{line}");
            value.parse::<f64>().unwrap();
        }
    }
}
