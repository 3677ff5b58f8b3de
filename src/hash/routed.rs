//! [`BackendHasher`]: hashing routed between the CPU and the GPU by the shared rule of
//! [`crate::backend`] (crossover, software-adapter policy, fall-back).

use super::{check_lengths, merkle, BatchHasher, CpuHasher, GpuHasher, HashError};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::backend::{
    open_gpu, with_oversized_apart, Backend, BackendChoice, Breaker, Router, WorkCounts,
};
use crate::Hash;

/// Default crossover for message batches: in `auto` mode, batches with fewer messages go
/// to the CPU.
pub const DEFAULT_CROSSOVER: usize = 4096;

/// Default crossover for hash chains (proof of history): in `auto` mode, sets of fewer
/// chains go to the CPU (a GPU invocation hashes one chain serially, so it only pays off
/// with many chains at once; a slot has 64 ticks).
pub const DEFAULT_CHAIN_CROSSOVER: usize = 16;

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
    /// Messages over the GPU kernel's cap, hashed on the CPU (a routing, not a failure;
    /// included in `cpu_messages`).
    pub oversized_on_cpu: u64,
    /// Times the circuit breaker stopped sending batches to a failing GPU.
    pub gpu_breaker_trips: u64,
}

/// A hasher that routes each batch to the CPU or the GPU and falls back to the CPU when the
/// GPU fails, so a digest is never lost or wrong.
///
/// In `auto` mode the GPU is used for batches at or above the crossover, and only when the
/// adapter is a real GPU: a software renderer (lavapipe/llvmpipe) is slower than sha2 on
/// the same CPU, so `auto` keeps such work on the CPU; `gpu` uses any adapter.
#[derive(Debug)]
pub struct BackendHasher {
    router: Router<dyn BatchHasher>,
    cpu: CpuHasher,
    crossover: usize,
    chain_crossover: usize,
    messages: WorkCounts,
    chain_hashes: WorkCounts,
    oversized: AtomicU64,
}

impl BackendHasher {
    /// Opens the backend the user asked for. `auto` without a hardware adapter quietly
    /// uses the CPU; `gpu` without any adapter is an error.
    ///
    /// # Errors
    /// [`HashError::NoGpu`] when `choice` is `gpu` and no adapter can be opened.
    pub fn open(choice: BackendChoice) -> Result<Self, HashError> {
        let gpu = open_gpu(choice, GpuHasher::open).map_err(HashError::NoGpu)?;
        let label = gpu.as_ref().map(GpuHasher::adapter_label);
        let gpu = gpu.map(|g| Box::new(g) as Box<dyn BatchHasher>);
        Ok(Self::with_router(
            Router::new(choice, gpu, label),
            CpuHasher::new(),
        ))
    }

    /// Builds a hasher from explicit parts (tests plug in a faulty GPU this way; the
    /// pipeline a [`CpuHasher::on_calling_thread`]). The GPU part, if any, is used as
    /// `choice` says, whatever adapter it runs on.
    pub fn from_parts(
        choice: BackendChoice,
        cpu: CpuHasher,
        gpu: Option<Box<dyn BatchHasher>>,
    ) -> Self {
        let label = gpu.as_ref().map(|g| g.name().to_string());
        Self::with_router(Router::new(choice, gpu, label), cpu)
    }

    fn with_router(router: Router<dyn BatchHasher>, cpu: CpuHasher) -> Self {
        Self {
            router,
            cpu,
            crossover: DEFAULT_CROSSOVER,
            chain_crossover: DEFAULT_CHAIN_CROSSOVER,
            messages: WorkCounts::default(),
            chain_hashes: WorkCounts::default(),
            oversized: AtomicU64::new(0),
        }
    }

    /// Sets the circuit breaker's rule (default [`Breaker::default`]).
    pub fn with_breaker(mut self, breaker: Breaker) -> Self {
        self.router.set_breaker(breaker);
        self
    }

    /// The same hasher with another CPU part (e.g. [`CpuHasher::on_calling_thread`]).
    pub fn with_cpu(self, cpu: CpuHasher) -> Self {
        Self { cpu, ..self }
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
        self.router.choice()
    }

    /// Whether a GPU backend is open.
    pub fn has_gpu(&self) -> bool {
        self.router.has_gpu()
    }

    /// Description of the GPU adapter in use (name, device type, API), if any.
    pub fn gpu_label(&self) -> Option<&str> {
        self.router.gpu_label()
    }

    /// The backend a batch of `len` messages goes to (before any fall-back).
    pub fn route(&self, len: usize) -> Backend {
        self.router.route(len, self.crossover)
    }

    /// The backend a set of `chains` hash chains goes to (before any fall-back).
    pub fn route_chains(&self, chains: usize) -> Backend {
        self.router.route(chains, self.chain_crossover)
    }

    /// Counters so far.
    pub fn stats(&self) -> HashStats {
        let (gpu_messages, cpu_messages) = self.messages.get();
        let (gpu_chain_hashes, cpu_chain_hashes) = self.chain_hashes.get();
        HashStats {
            gpu_messages,
            cpu_messages,
            gpu_chain_hashes,
            cpu_chain_hashes,
            gpu_failures: self.router.gpu_failures(),
            oversized_on_cpu: self.oversized.load(Ordering::Relaxed),
            gpu_breaker_trips: self.router.breaker_trips(),
        }
    }

    /// The last GPU error that caused a fall-back, with its sources, if any.
    pub fn last_gpu_error(&self) -> Option<String> {
        self.router.last_gpu_error()
    }

    /// Hashes a batch and reports which backend produced the digests.
    ///
    /// # Errors
    /// Only [`HashError::LengthMismatch`] (GPU failures fall back to the CPU).
    pub fn sha256_routed(
        &self,
        messages: &[&[u8]],
        out: &mut [Hash],
    ) -> Result<Backend, HashError> {
        check_lengths(messages.len(), out.len())?;
        let limit = match (self.route(messages.len()), self.router.gpu()) {
            (Backend::Gpu, Some(gpu)) => gpu.max_message_len(),
            _ => usize::MAX,
        };
        let (used, apart) = with_oversized_apart(
            messages,
            out,
            limit,
            |m| m.len(),
            |big, out| {
                self.cpu.sha256_batch(big, out)?;
                self.messages.add(Backend::Cpu, big.len() as u64);
                Ok(())
            },
            |rest, out| self.sha256_rest(rest, out),
        )?;
        self.oversized.fetch_add(apart as u64, Ordering::Relaxed);
        Ok(used)
    }

    fn sha256_rest(&self, messages: &[&[u8]], out: &mut [Hash]) -> Result<Backend, HashError> {
        self.router.run(
            messages.len(),
            self.crossover,
            messages.len() as u64,
            &self.messages,
            out,
            |gpu, out| gpu.sha256_batch(messages, out),
            |out| self.cpu.sha256_batch(messages, out),
        )
    }

    /// The transaction root of a block ([`merkle::transaction_root`]): its levels hashed
    /// in batches through this hasher when the leaves route to the GPU, else the plain
    /// tree on the calling thread (no batching or rayon for a CPU-sized tree).
    pub fn transaction_root(&self, tx_digests: &[Hash]) -> Hash {
        match self.route(tx_digests.len()) {
            // a routed hasher fails only on a length mismatch, which the tree never makes
            Backend::Gpu => merkle::transaction_root_with(tx_digests, self)
                .unwrap_or_else(|_| merkle::transaction_root(tx_digests)),
            Backend::Cpu => merkle::transaction_root(tx_digests),
        }
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
    ) -> Result<Backend, HashError> {
        check_lengths(starts.len(), out.len())?;
        check_lengths(counts.len(), out.len())?;
        let total = counts.iter().fold(0u64, |a, &c| a.saturating_add(c));
        self.router.run(
            starts.len(),
            self.chain_crossover,
            total,
            &self.chain_hashes,
            out,
            |gpu, out| gpu.hash_chains(starts, counts, out),
            |out| self.cpu.hash_chains(starts, counts, out),
        )
    }
}

impl BatchHasher for BackendHasher {
    fn name(&self) -> &'static str {
        self.router.name()
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
