//! Backend choice, shared by signature verification and hashing: what the user asked for
//! ([`BackendChoice`]: `auto`, `cpu`, `gpu`), where a batch actually ran ([`Backend`]),
//! and the one routing rule (`Router`, under [`crate::sigverify::BackendVerifier`] and
//! [`crate::hash::BackendHasher`]): the GPU for batches at least a crossover size, the CPU
//! otherwise, and the CPU again for any batch the GPU fails, counted, so no verdict or
//! digest is ever lost or wrong.
//!
//! One software-adapter policy for every kernel: `auto` never opens a software renderer
//! (lavapipe/llvmpipe runs shaders on the same CPU, slower than the CPU backends), and
//! decides so before compiling anything; `gpu` uses whatever adapter there is.
//!
//! # Recovery
//! - A batch the GPU fails (an error, a timeout, a lost device) runs again on the CPU:
//!   nothing is lost, the failure is counted and kept (`last_gpu_error`).
//! - A [`Breaker`] stops paying for a GPU that keeps failing: after `threshold` failed
//!   batches in a row every batch goes to the CPU for `cool_down`; then the GPU is tried
//!   again (one success closes the breaker, one more failure opens it again).
//! - The GPU backends rebuild themselves after a device loss (a new device, kernels and
//!   buffers on their next batch), so a later batch can run on the GPU again.
//! - Items a GPU kernel does not take (a message over its per-invocation cap) are
//!   separated before the batch and run on the CPU: a routing, not a fault.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::error_chain;

/// Which backend the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// The GPU when a hardware adapter exists and the batch is at least the crossover
    /// size, else the CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// Always the GPU (any adapter, software included); an error when none exists.
    Gpu,
}

/// An unknown backend name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend {0:?} (expected auto, cpu or gpu)")]
pub struct UnknownBackend(pub String);

impl FromStr for BackendChoice {
    type Err = UnknownBackend;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            other => Err(UnknownBackend(other.to_string())),
        }
    }
}

impl std::fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
        })
    }
}

/// The backend that actually ran a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The CPU backend (rayon).
    Cpu,
    /// WGSL compute shaders through wgpu.
    Gpu,
}

/// Opens the GPU half of a backend as `choice` asks: never for `cpu`; for `auto` only on a
/// hardware adapter (checked before `open` compiles anything), and a failure to open is
/// then no error, just no GPU; for `gpu` on any adapter, a failure being the caller's error.
///
/// # Errors
/// What `open` returns, when `choice` is [`BackendChoice::Gpu`].
pub(crate) fn open_gpu<G, E>(
    choice: BackendChoice,
    open: impl FnOnce() -> Result<G, E>,
) -> Result<Option<G>, E> {
    match choice {
        BackendChoice::Cpu => Ok(None),
        BackendChoice::Auto => match crate::gpu::adapter_is_software() {
            Some(false) => Ok(open().ok()),
            _ => Ok(None),
        },
        BackendChoice::Gpu => open().map(Some),
    }
}

/// Units of work done on each backend (signatures, messages, chain hashes).
#[derive(Debug, Default)]
pub(crate) struct WorkCounts {
    gpu: AtomicU64,
    cpu: AtomicU64,
}

impl WorkCounts {
    /// `(gpu, cpu)` so far.
    pub(crate) fn get(&self) -> (u64, u64) {
        (
            self.gpu.load(Ordering::Relaxed),
            self.cpu.load(Ordering::Relaxed),
        )
    }

    pub(crate) fn add(&self, backend: Backend, units: u64) {
        let counter = match backend {
            Backend::Gpu => &self.gpu,
            Backend::Cpu => &self.cpu,
        };
        counter.fetch_add(units, Ordering::Relaxed);
    }
}

/// When to stop sending batches to a failing GPU, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breaker {
    /// Failed GPU batches in a row that open the breaker (at least 1).
    pub threshold: u32,
    /// How long every batch then goes to the CPU before the GPU is tried again.
    pub cool_down: Duration,
}

impl Default for Breaker {
    /// Three failures in a row; ten seconds on the CPU.
    fn default() -> Self {
        Self {
            threshold: 3,
            cool_down: Duration::from_secs(10),
        }
    }
}

/// Routes batches between a CPU backend (always there) and an optional GPU backend `G`,
/// falls back to the CPU when the GPU fails, stops trying a GPU that keeps failing for a
/// while ([`Breaker`]), and counts what ran where.
pub(crate) struct Router<G: ?Sized> {
    choice: BackendChoice,
    gpu: Option<Box<G>>,
    gpu_label: Option<String>,
    gpu_failures: AtomicU64,
    last_gpu_error: Mutex<Option<String>>,
    breaker: Breaker,
    failures_in_a_row: AtomicU32,
    open_until: Mutex<Option<Instant>>,
    breaker_trips: AtomicU64,
}

impl<G: ?Sized> std::fmt::Debug for Router<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("choice", &self.choice)
            .field("gpu", &self.gpu_label)
            .field("gpu_failures", &self.gpu_failures())
            .finish()
    }
}

impl<G: ?Sized> Router<G> {
    /// A router for `choice` over an optional GPU backend described by `gpu_label`.
    pub(crate) fn new(
        choice: BackendChoice,
        gpu: Option<Box<G>>,
        gpu_label: Option<String>,
    ) -> Self {
        Self {
            choice,
            gpu,
            gpu_label,
            gpu_failures: AtomicU64::new(0),
            last_gpu_error: Mutex::new(None),
            breaker: Breaker::default(),
            failures_in_a_row: AtomicU32::new(0),
            open_until: Mutex::new(None),
            breaker_trips: AtomicU64::new(0),
        }
    }

    /// Sets the circuit breaker's rule.
    pub(crate) fn set_breaker(&mut self, breaker: Breaker) {
        self.breaker = Breaker {
            threshold: breaker.threshold.max(1),
            ..breaker
        };
    }

    /// The GPU backend, if one is open.
    pub(crate) fn gpu(&self) -> Option<&G> {
        self.gpu.as_deref()
    }

    /// Whether the breaker keeps batches off the GPU now.
    pub(crate) fn breaker_open(&self) -> bool {
        match self.open_until.lock() {
            Ok(until) => until.is_some_and(|t| Instant::now() < t),
            Err(_) => false,
        }
    }

    /// Times the breaker opened.
    pub(crate) fn breaker_trips(&self) -> u64 {
        self.breaker_trips.load(Ordering::Relaxed)
    }

    fn gpu_succeeded(&self) {
        self.failures_in_a_row.store(0, Ordering::Relaxed);
    }

    fn gpu_failed(&self, error: String) {
        self.gpu_failures.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut last) = self.last_gpu_error.lock() {
            *last = Some(error);
        }
        let in_a_row = self.failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        if in_a_row >= self.breaker.threshold {
            if let Ok(mut until) = self.open_until.lock() {
                *until = Some(Instant::now() + self.breaker.cool_down);
                self.breaker_trips.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// What the user asked for.
    pub(crate) fn choice(&self) -> BackendChoice {
        self.choice
    }

    /// Whether a GPU backend is open.
    pub(crate) fn has_gpu(&self) -> bool {
        self.gpu.is_some()
    }

    /// Description of the GPU backend in use (the adapter), if any.
    pub(crate) fn gpu_label(&self) -> Option<&str> {
        self.gpu_label.as_deref()
    }

    /// `"cpu"` when every batch goes to the CPU, else the choice (`"auto"`, `"gpu"`).
    pub(crate) fn name(&self) -> &'static str {
        match (self.choice, &self.gpu) {
            (BackendChoice::Auto, Some(_)) => "auto",
            (BackendChoice::Gpu, Some(_)) => "gpu",
            _ => "cpu",
        }
    }

    /// The backend a batch of `len` items goes to (before any fall-back), when batches
    /// below `crossover` items stay on the CPU in `auto` mode; the CPU while the breaker
    /// is open.
    pub(crate) fn route(&self, len: usize, crossover: usize) -> Backend {
        let wanted = match (self.choice, &self.gpu) {
            (BackendChoice::Gpu, Some(_)) => true,
            (BackendChoice::Auto, Some(_)) => len >= crossover,
            _ => false,
        };
        if wanted && !self.breaker_open() {
            Backend::Gpu
        } else {
            Backend::Cpu
        }
    }

    /// Batches that failed on the GPU and ran again on the CPU.
    pub(crate) fn gpu_failures(&self) -> u64 {
        self.gpu_failures.load(Ordering::Relaxed)
    }

    /// The last GPU error that caused a fall-back, with its sources, if any.
    pub(crate) fn last_gpu_error(&self) -> Option<String> {
        self.last_gpu_error.lock().ok().and_then(|g| g.clone())
    }

    /// Runs one batch of `len` items (`units` units of work, for `counts`): on the GPU when
    /// it routes there, and on the CPU when it does not or when the GPU fails (the failure
    /// is counted and kept). `out` is written by whichever backend runs last; a failed GPU
    /// run may leave it partly written, and the CPU run then overwrites all of it.
    ///
    /// # Errors
    /// What `on_cpu` returns (a GPU error never reaches the caller).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run<O: ?Sized, E: std::error::Error + 'static>(
        &self,
        len: usize,
        crossover: usize,
        units: u64,
        counts: &WorkCounts,
        out: &mut O,
        on_gpu: impl FnOnce(&G, &mut O) -> Result<(), E>,
        on_cpu: impl FnOnce(&mut O) -> Result<(), E>,
    ) -> Result<Backend, E> {
        if let (Backend::Gpu, Some(gpu)) = (self.route(len, crossover), &self.gpu) {
            match on_gpu(gpu, out) {
                Ok(()) => {
                    self.gpu_succeeded();
                    counts.add(Backend::Gpu, units);
                    return Ok(Backend::Gpu);
                }
                Err(e) => self.gpu_failed(error_chain(&e)),
            }
        }
        on_cpu(out)?;
        counts.add(Backend::Cpu, units);
        Ok(Backend::Cpu)
    }
}

/// Runs a batch with the items over `limit` (by `len`) taken out: `apart` runs those, `rest`
/// the others, each into its own slice of outputs, which are then put back in order.
/// Returns what `rest` returned (the CPU when every item was over the limit) and the
/// number of items taken out.
///
/// # Errors
/// What `apart` or `rest` returns.
pub(crate) fn with_oversized_apart<I: Copy, O: Copy + Default, E>(
    items: &[I],
    out: &mut [O],
    limit: usize,
    len: impl Fn(&I) -> usize,
    apart: impl FnOnce(&[I], &mut [O]) -> Result<(), E>,
    rest: impl FnOnce(&[I], &mut [O]) -> Result<Backend, E>,
) -> Result<(Backend, usize), E> {
    if items.iter().all(|i| len(i) <= limit) {
        return rest(items, out).map(|b| (b, 0));
    }
    let (big, small): (Vec<usize>, Vec<usize>) =
        (0..items.len()).partition(|&i| len(&items[i]) > limit);
    let pick = |idx: &[usize]| idx.iter().map(|&i| items[i]).collect::<Vec<I>>();
    let mut big_out = vec![O::default(); big.len()];
    apart(&pick(&big), &mut big_out)?;
    let mut small_out = vec![O::default(); small.len()];
    let used = if small.is_empty() {
        Backend::Cpu
    } else {
        rest(&pick(&small), &mut small_out)?
    };
    for (&i, o) in big.iter().zip(big_out).chain(small.iter().zip(small_out)) {
        if let Some(slot) = out.get_mut(i) {
            *slot = o;
        }
    }
    Ok((used, big.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("boom")]
    struct Boom;

    #[test]
    fn choice_round_trips_and_rejects_unknown_names() {
        for c in [BackendChoice::Auto, BackendChoice::Cpu, BackendChoice::Gpu] {
            assert_eq!(c.to_string().parse::<BackendChoice>(), Ok(c));
        }
        assert_eq!(
            "tpu".parse::<BackendChoice>(),
            Err(UnknownBackend("tpu".into()))
        );
    }

    #[test]
    fn routes_by_choice_and_crossover() {
        let none: Router<()> = Router::new(BackendChoice::Gpu, None, None);
        assert_eq!(none.route(1 << 20, 1), Backend::Cpu);
        let auto: Router<()> = Router::new(BackendChoice::Auto, Some(Box::new(())), None);
        assert_eq!(auto.route(9, 10), Backend::Cpu);
        assert_eq!(auto.route(10, 10), Backend::Gpu);
        let gpu: Router<()> = Router::new(BackendChoice::Gpu, Some(Box::new(())), None);
        assert_eq!(gpu.route(1, 10), Backend::Gpu);
        let cpu: Router<()> = Router::new(BackendChoice::Cpu, Some(Box::new(())), None);
        assert_eq!(cpu.route(1 << 20, 1), Backend::Cpu);
        assert_eq!(
            (none.name(), auto.name(), gpu.name(), cpu.name()),
            ("cpu", "auto", "gpu", "cpu")
        );
    }

    #[test]
    fn the_breaker_opens_after_failures_in_a_row_and_closes_after_a_success() {
        let mut r: Router<()> = Router::new(BackendChoice::Gpu, Some(Box::new(())), None);
        r.set_breaker(Breaker {
            threshold: 2,
            cool_down: Duration::from_millis(150),
        });
        let counts = WorkCounts::default();
        let calls = AtomicU32::new(0);
        let fail = |_: &(), _: &mut [u8]| {
            calls.fetch_add(1, Ordering::Relaxed);
            Err(Boom)
        };
        let cpu = |_: &mut [u8]| Ok(());
        let mut out = [0u8; 1];
        for _ in 0..2 {
            assert_eq!(
                r.run(1, 1, 1, &counts, &mut out[..], fail, cpu).ok(),
                Some(Backend::Cpu)
            );
        }
        assert!(r.breaker_open());
        assert_eq!(r.breaker_trips(), 1);
        // open: the GPU is not even tried
        assert_eq!(r.route(1, 1), Backend::Cpu);
        assert_eq!(
            r.run(1, 1, 1, &counts, &mut out[..], fail, cpu).ok(),
            Some(Backend::Cpu)
        );
        assert_eq!(calls.load(Ordering::Relaxed), 2);
        // after the cool-down one more failure opens it again at once
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(r.route(1, 1), Backend::Gpu);
        assert_eq!(
            r.run(1, 1, 1, &counts, &mut out[..], fail, cpu).ok(),
            Some(Backend::Cpu)
        );
        assert_eq!(calls.load(Ordering::Relaxed), 3);
        assert!(r.breaker_open());
        assert_eq!(r.breaker_trips(), 2);
        // a success after the next cool-down closes it
        std::thread::sleep(Duration::from_millis(200));
        let ok = |_: &(), _: &mut [u8]| Ok::<(), Boom>(());
        assert_eq!(
            r.run(1, 1, 1, &counts, &mut out[..], ok, cpu).ok(),
            Some(Backend::Gpu)
        );
        assert_eq!(
            r.run(1, 1, 1, &counts, &mut out[..], fail, cpu).ok(),
            Some(Backend::Cpu)
        );
        assert!(
            !r.breaker_open(),
            "one failure after a success does not open it"
        );
        assert_eq!(r.gpu_failures(), 4);
    }

    #[test]
    fn oversized_items_run_apart_and_come_back_in_order() {
        let items = [1usize, 50, 2, 70, 3];
        let mut out = [0usize; 5];
        let (used, apart) = with_oversized_apart(
            &items,
            &mut out,
            10,
            |&i| i,
            |big, o| {
                assert_eq!(big, &[50, 70]);
                for (x, y) in big.iter().zip(o.iter_mut()) {
                    *y = x + 1000;
                }
                Ok::<(), Boom>(())
            },
            |small, o| {
                assert_eq!(small, &[1, 2, 3]);
                for (x, y) in small.iter().zip(o.iter_mut()) {
                    *y = x + 100;
                }
                Ok(Backend::Gpu)
            },
        )
        .expect("runs");
        assert_eq!((used, apart), (Backend::Gpu, 2));
        assert_eq!(out, [101, 1050, 102, 1070, 103]);
        let mut out = [0usize; 2];
        let (used, apart) = with_oversized_apart(
            &[99usize, 98],
            &mut out,
            10,
            |&i| i,
            |_, o| {
                o.fill(7);
                Ok::<(), Boom>(())
            },
            |_, _| unreachable!("nothing is small"),
        )
        .expect("runs");
        assert_eq!((used, apart, out), (Backend::Cpu, 2, [7, 7]));
    }

    #[test]
    fn a_gpu_failure_falls_back_counted_and_kept() {
        let r: Router<()> = Router::new(BackendChoice::Gpu, Some(Box::new(())), None);
        let counts = WorkCounts::default();
        let mut out = [0u8; 3];
        let used = r
            .run(
                3,
                1,
                3,
                &counts,
                &mut out[..],
                |_, o| {
                    o[0] = 9;
                    Err(Boom)
                },
                |o| {
                    o.copy_from_slice(&[1, 2, 3]);
                    Ok(())
                },
            )
            .expect("the CPU run succeeds");
        assert_eq!(used, Backend::Cpu);
        assert_eq!(out, [1, 2, 3]);
        assert_eq!(counts.get(), (0, 3));
        assert_eq!(r.gpu_failures(), 1);
        assert_eq!(r.last_gpu_error().as_deref(), Some("boom"));
        let used = r
            .run(
                3,
                1,
                3,
                &counts,
                &mut out[..],
                |_, _| Ok::<(), Boom>(()),
                |_| Err(Boom),
            )
            .expect("the GPU run succeeds");
        assert_eq!(used, Backend::Gpu);
        assert_eq!(counts.get(), (3, 3));
    }
}
