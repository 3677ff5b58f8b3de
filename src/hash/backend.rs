//! Backend choice for hashing (`auto`, `cpu`, `gpu`, the same [`BackendChoice`] as the
//! signature verifier) and the fall-back to the CPU when the GPU fails during a batch.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{BatchHasher, CpuHasher, HashError};
use crate::sigverify::BackendChoice;
use crate::Hash;

/// Default crossover for message batches: in `auto` mode, batches with fewer messages go
/// to the CPU.
pub const DEFAULT_CROSSOVER: usize = 4096;

/// Default crossover for hash chains (proof of history): in `auto` mode, sets of fewer
/// chains go to the CPU (a GPU invocation hashes one chain serially, so it only pays off
/// with many chains at once; a slot has 64 ticks).
pub const DEFAULT_CHAIN_CROSSOVER: usize = 16;

/// The backend that actually hashed a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashBackend {
    /// sha2 on rayon.
    Cpu,
    /// WGSL compute shaders through wgpu.
    Gpu,
}

/// Counters of what a [`BackendHasher`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashStats {
    /// Messages hashed on the GPU.
    pub gpu_messages: u64,
    /// Messages hashed on the CPU (small batches, no GPU, or fall-back).
    pub cpu_messages: u64,
    /// Chain hashes (SHA-256 applications) done on the GPU.
    pub gpu_chain_hashes: u64,
    /// Chain hashes done on the CPU.
    pub cpu_chain_hashes: u64,
    /// Batches that failed on the GPU and were hashed again on the CPU.
    pub gpu_failures: u64,
}

/// A hasher that routes each batch to the CPU or the GPU and falls back to the CPU when the
/// GPU fails, so a digest is never lost or wrong.
///
/// In `auto` mode the GPU is used for batches at or above the crossover, and only when the
/// adapter is a real GPU: a software renderer (lavapipe/llvmpipe) is slower than sha2 on
/// the same CPU, so `auto` keeps such work on the CPU; `gpu` uses any adapter.
pub struct BackendHasher {
    choice: BackendChoice,
    cpu: CpuHasher,
    gpu: Option<Box<dyn BatchHasher>>,
    gpu_in_auto: bool,
    gpu_label: Option<String>,
    crossover: usize,
    chain_crossover: usize,
    gpu_messages: AtomicU64,
    cpu_messages: AtomicU64,
    gpu_chain_hashes: AtomicU64,
    cpu_chain_hashes: AtomicU64,
    gpu_failures: AtomicU64,
    last_gpu_error: Mutex<Option<String>>,
}

impl std::fmt::Debug for BackendHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendHasher")
            .field("choice", &self.choice)
            .field("gpu", &self.gpu_label)
            .field("crossover", &self.crossover)
            .field("chain_crossover", &self.chain_crossover)
            .field("stats", &self.stats())
            .finish()
    }
}

impl BackendHasher {
    /// Opens the backend the user asked for. `auto` without an adapter quietly uses the CPU;
    /// `gpu` without one is an error.
    ///
    /// # Errors
    /// [`HashError::NoGpu`] when `choice` is `gpu` and no adapter can be opened.
    pub fn open(choice: BackendChoice) -> Result<Self, HashError> {
        let gpu = match choice {
            BackendChoice::Cpu => None,
            BackendChoice::Auto => crate::gpu::sha256::GpuHasher::open().ok(),
            BackendChoice::Gpu => Some(crate::gpu::sha256::GpuHasher::open()?),
        };
        let (label, software) = match &gpu {
            Some(g) => (Some(g.adapter_label()), g.is_software()),
            None => (None, false),
        };
        let mut this = Self::from_parts(
            choice,
            CpuHasher::new(),
            gpu.map(|g| Box::new(g) as Box<dyn BatchHasher>),
        );
        this.gpu_label = label;
        this.gpu_in_auto = !software;
        Ok(this)
    }

    /// Builds a hasher from explicit parts (tests use this to plug in a faulty GPU). The GPU
    /// part, if any, is used in `auto` mode above the crossovers.
    pub fn from_parts(
        choice: BackendChoice,
        cpu: CpuHasher,
        gpu: Option<Box<dyn BatchHasher>>,
    ) -> Self {
        let gpu_label = gpu.as_ref().map(|g| g.name().to_string());
        Self {
            choice,
            cpu,
            gpu,
            gpu_in_auto: true,
            gpu_label,
            crossover: DEFAULT_CROSSOVER,
            chain_crossover: DEFAULT_CHAIN_CROSSOVER,
            gpu_messages: AtomicU64::new(0),
            cpu_messages: AtomicU64::new(0),
            gpu_chain_hashes: AtomicU64::new(0),
            cpu_chain_hashes: AtomicU64::new(0),
            gpu_failures: AtomicU64::new(0),
            last_gpu_error: Mutex::new(None),
        }
    }

    /// Sets the crossover for message batches in `auto` mode.
    pub fn with_crossover(mut self, crossover: usize) -> Self {
        self.crossover = crossover;
        self
    }

    /// Sets the crossover (number of chains) for hash chains in `auto` mode.
    pub fn with_chain_crossover(mut self, chain_crossover: usize) -> Self {
        self.chain_crossover = chain_crossover;
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

    /// Description of the GPU adapter in use (name, device type, API), if any.
    pub fn gpu_label(&self) -> Option<&str> {
        self.gpu_label.as_deref()
    }

    fn gpu_for(&self, len: usize, crossover: usize) -> Option<&dyn BatchHasher> {
        match (self.choice, &self.gpu) {
            (BackendChoice::Gpu, Some(g)) => Some(g.as_ref()),
            (BackendChoice::Auto, Some(g)) if self.gpu_in_auto && len >= crossover => {
                Some(g.as_ref())
            }
            _ => None,
        }
    }

    /// The backend a batch of `len` messages goes to (before any fall-back).
    pub fn route(&self, len: usize) -> HashBackend {
        match self.gpu_for(len, self.crossover) {
            Some(_) => HashBackend::Gpu,
            None => HashBackend::Cpu,
        }
    }

    /// The backend a set of `chains` hash chains goes to (before any fall-back).
    pub fn route_chains(&self, chains: usize) -> HashBackend {
        match self.gpu_for(chains, self.chain_crossover) {
            Some(_) => HashBackend::Gpu,
            None => HashBackend::Cpu,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> HashStats {
        HashStats {
            gpu_messages: self.gpu_messages.load(Ordering::Relaxed),
            cpu_messages: self.cpu_messages.load(Ordering::Relaxed),
            gpu_chain_hashes: self.gpu_chain_hashes.load(Ordering::Relaxed),
            cpu_chain_hashes: self.cpu_chain_hashes.load(Ordering::Relaxed),
            gpu_failures: self.gpu_failures.load(Ordering::Relaxed),
        }
    }

    /// The last GPU error that caused a fall-back, if any.
    pub fn last_gpu_error(&self) -> Option<String> {
        self.last_gpu_error.lock().ok().and_then(|g| g.clone())
    }

    fn record_failure(&self, e: &HashError) {
        self.gpu_failures.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut last) = self.last_gpu_error.lock() {
            *last = Some(e.to_string());
        }
    }

    /// Hashes a batch and reports which backend produced the digests.
    ///
    /// # Errors
    /// Only [`HashError::LengthMismatch`] (GPU failures fall back to the CPU).
    pub fn sha256_routed(
        &self,
        messages: &[&[u8]],
        out: &mut [Hash],
    ) -> Result<HashBackend, HashError> {
        super::check_lengths(messages.len(), out.len())?;
        if let Some(gpu) = self.gpu_for(messages.len(), self.crossover) {
            match gpu.sha256_batch(messages, out) {
                Ok(()) => {
                    self.gpu_messages
                        .fetch_add(messages.len() as u64, Ordering::Relaxed);
                    return Ok(HashBackend::Gpu);
                }
                Err(e) => self.record_failure(&e),
            }
        }
        self.cpu.sha256_batch(messages, out)?;
        self.cpu_messages
            .fetch_add(messages.len() as u64, Ordering::Relaxed);
        Ok(HashBackend::Cpu)
    }

    /// Runs hash chains and reports which backend produced the end states.
    ///
    /// # Errors
    /// Only [`HashError::LengthMismatch`] (GPU failures fall back to the CPU).
    pub fn chains_routed(
        &self,
        starts: &[Hash],
        counts: &[u64],
        out: &mut [Hash],
    ) -> Result<HashBackend, HashError> {
        super::check_lengths(starts.len(), out.len())?;
        super::check_lengths(counts.len(), out.len())?;
        let total = counts.iter().fold(0u64, |a, &c| a.saturating_add(c));
        if let Some(gpu) = self.gpu_for(starts.len(), self.chain_crossover) {
            match gpu.hash_chains(starts, counts, out) {
                Ok(()) => {
                    self.gpu_chain_hashes.fetch_add(total, Ordering::Relaxed);
                    return Ok(HashBackend::Gpu);
                }
                Err(e) => self.record_failure(&e),
            }
        }
        self.cpu.hash_chains(starts, counts, out)?;
        self.cpu_chain_hashes.fetch_add(total, Ordering::Relaxed);
        Ok(HashBackend::Cpu)
    }
}

impl BatchHasher for BackendHasher {
    fn name(&self) -> &'static str {
        match self.choice {
            BackendChoice::Cpu => "cpu",
            BackendChoice::Gpu if self.gpu.is_some() => "gpu",
            BackendChoice::Gpu => "cpu",
            BackendChoice::Auto if self.gpu.is_some() && self.gpu_in_auto => "auto",
            BackendChoice::Auto => "cpu",
        }
    }

    fn sha256_batch(&self, messages: &[&[u8]], out: &mut [Hash]) -> Result<(), HashError> {
        self.sha256_routed(messages, out).map(|_| ())
    }

    fn hash_chains(
        &self,
        starts: &[Hash],
        counts: &[u64],
        out: &mut [Hash],
    ) -> Result<(), HashError> {
        self.chains_routed(starts, counts, out).map(|_| ())
    }
}
