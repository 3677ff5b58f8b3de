//! Backend choice: `auto` (GPU for large batches when an adapter exists, else CPU),
//! `cpu`, `gpu`; and the fall-back to the CPU when the GPU fails during a batch.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{CpuVerifier, SigItem, SigVerifier, SigVerifyError};

/// Which backend the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// The GPU when an adapter exists and the batch is at least the crossover size,
    /// else the CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// Always the GPU; an error when no adapter exists.
    Gpu,
}

impl FromStr for BackendChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            other => Err(format!(
                "unknown backend {other:?} (expected auto, cpu or gpu)"
            )),
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

/// The backend actually used for a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// ed25519-dalek on rayon.
    Cpu,
    /// WGSL compute shaders through wgpu.
    Gpu,
}

/// Counters of what a [`BackendVerifier`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FallbackStats {
    /// Signatures verified on the GPU.
    pub gpu_signatures: u64,
    /// Signatures verified on the CPU (small batches, no GPU, or fall-back).
    pub cpu_signatures: u64,
    /// Batches that failed on the GPU and were verified again on the CPU.
    pub gpu_failures: u64,
}

/// Default crossover: batches smaller than this go to the CPU in `auto` mode.
pub const DEFAULT_CROSSOVER: usize = 1024;

/// A verifier that routes each batch to the CPU or the GPU and falls back to the CPU when
/// the GPU fails, so no verdict is ever lost or wrong.
pub struct BackendVerifier {
    choice: BackendChoice,
    cpu: CpuVerifier,
    gpu: Option<Box<dyn SigVerifier>>,
    crossover: usize,
    gpu_signatures: AtomicU64,
    cpu_signatures: AtomicU64,
    gpu_failures: AtomicU64,
    last_gpu_error: std::sync::Mutex<Option<String>>,
}

impl std::fmt::Debug for BackendVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendVerifier")
            .field("choice", &self.choice)
            .field("gpu", &self.gpu.as_ref().map(|g| g.name()))
            .field("crossover", &self.crossover)
            .field("stats", &self.stats())
            .finish()
    }
}

impl BackendVerifier {
    /// Opens the backend the user asked for. `auto` uses the CPU when there is no adapter
    /// or only a software one (lavapipe); `gpu` without an adapter is an error.
    ///
    /// # Errors
    /// [`SigVerifyError::NoGpu`] when `choice` is `gpu` and no adapter can be opened.
    pub fn open(choice: BackendChoice) -> Result<Self, SigVerifyError> {
        let gpu = match choice {
            BackendChoice::Cpu => None,
            // a software adapter (lavapipe) is slower than the CPU backend: `auto` skips
            // it without compiling the kernel; `gpu` uses it
            BackendChoice::Auto => match crate::gpu::adapter_is_software() {
                Some(false) => crate::gpu::open_sig_verifier().ok(),
                _ => None,
            },
            BackendChoice::Gpu => Some(crate::gpu::open_sig_verifier()?),
        };
        Ok(Self::from_parts(choice, CpuVerifier::new(), gpu))
    }

    /// Builds a verifier from explicit parts (tests use this to plug in a faulty GPU).
    pub fn from_parts(
        choice: BackendChoice,
        cpu: CpuVerifier,
        gpu: Option<Box<dyn SigVerifier>>,
    ) -> Self {
        Self {
            choice,
            cpu,
            gpu,
            crossover: DEFAULT_CROSSOVER,
            gpu_signatures: AtomicU64::new(0),
            cpu_signatures: AtomicU64::new(0),
            gpu_failures: AtomicU64::new(0),
            last_gpu_error: std::sync::Mutex::new(None),
        }
    }

    /// Sets the crossover batch size for `auto` (batches below it go to the CPU).
    pub fn with_crossover(mut self, crossover: usize) -> Self {
        self.crossover = crossover;
        self
    }

    /// What the user asked for.
    pub fn choice(&self) -> BackendChoice {
        self.choice
    }

    /// Whether a GPU backend is open.
    pub fn has_gpu(&self) -> bool {
        self.gpu.is_some()
    }

    /// Name of the GPU backend in use, if any (adapter description where known).
    pub fn gpu_name(&self) -> Option<&'static str> {
        self.gpu.as_ref().map(|g| g.name())
    }

    /// The backend a batch of `len` signatures goes to.
    pub fn route(&self, len: usize) -> Backend {
        match (self.choice, &self.gpu) {
            (BackendChoice::Gpu, Some(_)) => Backend::Gpu,
            (BackendChoice::Auto, Some(_)) if len >= self.crossover => Backend::Gpu,
            _ => Backend::Cpu,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> FallbackStats {
        FallbackStats {
            gpu_signatures: self.gpu_signatures.load(Ordering::Relaxed),
            cpu_signatures: self.cpu_signatures.load(Ordering::Relaxed),
            gpu_failures: self.gpu_failures.load(Ordering::Relaxed),
        }
    }

    /// The last GPU error that caused a fall-back, if any.
    pub fn last_gpu_error(&self) -> Option<String> {
        self.last_gpu_error.lock().ok().and_then(|g| g.clone())
    }

    /// Verifies a batch and reports which backend produced the verdicts.
    ///
    /// # Errors
    /// Only when `items` and `out` differ in length.
    pub fn verify_routed(
        &self,
        items: &[SigItem<'_>],
        out: &mut [bool],
    ) -> Result<Backend, SigVerifyError> {
        if let (Backend::Gpu, Some(gpu)) = (self.route(items.len()), &self.gpu) {
            match gpu.verify_into(items, out) {
                Ok(()) => {
                    self.gpu_signatures
                        .fetch_add(items.len() as u64, Ordering::Relaxed);
                    return Ok(Backend::Gpu);
                }
                Err(e) => {
                    self.gpu_failures.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut last) = self.last_gpu_error.lock() {
                        *last = Some(e.to_string());
                    }
                }
            }
        }
        self.cpu.verify_into(items, out)?;
        self.cpu_signatures
            .fetch_add(items.len() as u64, Ordering::Relaxed);
        Ok(Backend::Cpu)
    }
}

impl SigVerifier for BackendVerifier {
    fn name(&self) -> &'static str {
        match self.gpu {
            Some(_) if self.choice != BackendChoice::Cpu => "auto",
            _ => "cpu",
        }
    }

    fn verify_into(&self, items: &[SigItem<'_>], out: &mut [bool]) -> Result<(), SigVerifyError> {
        self.verify_routed(items, out).map(|_| ())
    }
}
