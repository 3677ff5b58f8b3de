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

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

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

    fn add(&self, backend: Backend, units: u64) {
        let counter = match backend {
            Backend::Gpu => &self.gpu,
            Backend::Cpu => &self.cpu,
        };
        counter.fetch_add(units, Ordering::Relaxed);
    }
}

/// Routes batches between a CPU backend (always there) and an optional GPU backend `G`,
/// falls back to the CPU when the GPU fails, and counts what ran where.
pub(crate) struct Router<G: ?Sized> {
    choice: BackendChoice,
    gpu: Option<Box<G>>,
    gpu_label: Option<String>,
    gpu_failures: AtomicU64,
    last_gpu_error: Mutex<Option<String>>,
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
    /// below `crossover` items stay on the CPU in `auto` mode.
    pub(crate) fn route(&self, len: usize, crossover: usize) -> Backend {
        match (self.choice, &self.gpu) {
            (BackendChoice::Gpu, Some(_)) => Backend::Gpu,
            (BackendChoice::Auto, Some(_)) if len >= crossover => Backend::Gpu,
            _ => Backend::Cpu,
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
                    counts.add(Backend::Gpu, units);
                    return Ok(Backend::Gpu);
                }
                Err(e) => {
                    self.gpu_failures.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut last) = self.last_gpu_error.lock() {
                        *last = Some(error_chain(&e));
                    }
                }
            }
        }
        on_cpu(out)?;
        counts.add(Backend::Cpu, units);
        Ok(Backend::Cpu)
    }
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
