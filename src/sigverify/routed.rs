//! [`BackendVerifier`]: signature verification routed between the CPU and the GPU by the
//! shared rule of [`crate::backend`] (crossover, software-adapter policy, fall-back).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::backend::{
    open_gpu, with_oversized_apart, Backend, BackendChoice, Breaker, Router, WorkCounts,
};

use super::{CpuVerifier, GpuSigVerifier, SigItem, SigVerifier, SigVerifyError, SignatureRule};

/// Counters of what a [`BackendVerifier`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FallbackStats {
    /// Signatures verified on the GPU.
    pub gpu_signatures: u64,
    /// Signatures verified on the CPU (small batches, no GPU, or fall-back).
    pub cpu_signatures: u64,
    /// Batches that failed on the GPU and were verified again on the CPU.
    pub gpu_failures: u64,
    /// Signatures whose message is over the GPU kernel's cap, verified on the CPU (a
    /// routing, not a failure; included in `cpu_signatures`).
    pub oversized_on_cpu: u64,
    /// Times the circuit breaker stopped sending batches to a failing GPU.
    pub gpu_breaker_trips: u64,
}

/// Default crossover: batches smaller than this go to the CPU in `auto` mode.
pub const DEFAULT_CROSSOVER: usize = 1024;

/// A verifier that routes each batch to the CPU or the GPU and falls back to the CPU when
/// the GPU fails, so no verdict is ever lost or wrong.
///
/// Its rule is its CPU part's ([`BackendVerifier::rule`]); a GPU part that implements
/// another rule is never trusted: each of its batches counts as a GPU failure and is
/// verified on the CPU.
#[derive(Debug)]
pub struct BackendVerifier {
    router: Router<dyn SigVerifier>,
    cpu: CpuVerifier,
    crossover: usize,
    signatures: WorkCounts,
    oversized: AtomicU64,
}

impl BackendVerifier {
    /// Opens the backend the user asked for. `auto` uses the CPU when there is no adapter
    /// or only a software one (lavapipe); `gpu` without an adapter is an error.
    ///
    /// # Errors
    /// [`SigVerifyError::NoGpu`] when `choice` is `gpu` and no adapter can be opened.
    pub fn open(choice: BackendChoice) -> Result<Self, SigVerifyError> {
        Self::open_with_rule(choice, SignatureRule::Strict)
    }

    /// Opens the backend the user asked for, verifying under `rule` on both the CPU and
    /// the GPU.
    ///
    /// # Errors
    /// [`SigVerifyError::NoGpu`] when `choice` is `gpu` and no adapter can be opened.
    pub fn open_with_rule(
        choice: BackendChoice,
        rule: SignatureRule,
    ) -> Result<Self, SigVerifyError> {
        let gpu = open_gpu(choice, || GpuSigVerifier::open_with_rule(rule))
            .map_err(SigVerifyError::NoGpu)?;
        let label = gpu.as_ref().map(GpuSigVerifier::adapter_label);
        let gpu = gpu.map(|g| Box::new(g) as Box<dyn SigVerifier>);
        Ok(Self::with_router(
            Router::new(choice, gpu, label),
            CpuVerifier::with_rule(rule),
        ))
    }

    /// Builds a verifier from explicit parts (tests plug in a faulty GPU this way). The
    /// GPU part, if any, is used as `choice` says, whatever adapter it runs on; the rule is
    /// the CPU part's (a GPU part with another rule only ever fails over to the CPU).
    pub fn from_parts(
        choice: BackendChoice,
        cpu: CpuVerifier,
        gpu: Option<Box<dyn SigVerifier>>,
    ) -> Self {
        let label = gpu.as_ref().map(|g| g.name().to_string());
        Self::with_router(Router::new(choice, gpu, label), cpu)
    }

    fn with_router(router: Router<dyn SigVerifier>, cpu: CpuVerifier) -> Self {
        Self {
            router,
            cpu,
            crossover: DEFAULT_CROSSOVER,
            signatures: WorkCounts::default(),
            oversized: AtomicU64::new(0),
        }
    }

    /// Sets the circuit breaker's rule (default [`Breaker::default`]).
    pub fn with_breaker(mut self, breaker: Breaker) -> Self {
        self.router.set_breaker(breaker);
        self
    }

    /// Whether the circuit breaker keeps batches off the GPU now.
    pub fn breaker_open(&self) -> bool {
        self.router.breaker_open()
    }

    /// Sets the crossover batch size for `auto` (batches below it go to the CPU).
    pub fn with_crossover(mut self, crossover: usize) -> Self {
        self.crossover = crossover;
        self
    }

    /// The signature rule of every verdict this verifier gives.
    pub fn signature_rule(&self) -> SignatureRule {
        self.cpu.rule()
    }

    /// What the user asked for.
    pub fn choice(&self) -> BackendChoice {
        self.router.choice()
    }

    /// Whether a GPU backend is open.
    pub fn has_gpu(&self) -> bool {
        self.router.has_gpu()
    }

    /// The GPU adapter in use (name, device type, API), if any.
    pub fn gpu_name(&self) -> Option<&str> {
        self.router.gpu_label()
    }

    /// The backend a batch of `len` signatures goes to (before any fall-back).
    pub fn route(&self, len: usize) -> Backend {
        self.router.route(len, self.crossover)
    }

    /// The batch size worth gathering for ([`SigVerifier::preferred_batch`]): the GPU
    /// part's when a large batch goes to the GPU now (a GPU is open, the choice is not
    /// `cpu` and the circuit breaker is closed), else the CPU's (0: nothing to gather).
    pub fn preferred_batch(&self) -> usize {
        match (self.route(usize::MAX), self.router.gpu()) {
            (Backend::Gpu, Some(gpu)) => gpu.preferred_batch(),
            _ => self.cpu.preferred_batch(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> FallbackStats {
        let (gpu_signatures, cpu_signatures) = self.signatures.get();
        FallbackStats {
            gpu_signatures,
            cpu_signatures,
            gpu_failures: self.router.gpu_failures(),
            oversized_on_cpu: self.oversized.load(Ordering::Relaxed),
            gpu_breaker_trips: self.router.breaker_trips(),
        }
    }

    /// The last GPU error that caused a fall-back, with its sources, if any.
    pub fn last_gpu_error(&self) -> Option<String> {
        self.router.last_gpu_error()
    }

    /// Verifies a batch and reports which backend produced the verdicts (of the items the
    /// GPU takes, when the batch went to the GPU: messages over its cap are verified on the
    /// CPU beforehand).
    ///
    /// # Errors
    /// Only when `items` and `out` differ in length.
    pub fn verify_routed(
        &self,
        items: &[SigItem<'_>],
        out: &mut [bool],
    ) -> Result<Backend, SigVerifyError> {
        super::check_batch(items, out)?;
        let limit = match (self.route(items.len()), self.router.gpu()) {
            (Backend::Gpu, Some(gpu)) => gpu.max_message_len(),
            _ => usize::MAX,
        };
        let (used, apart) = with_oversized_apart(
            items,
            out,
            limit,
            |item| item.message.len(),
            |big, out| {
                self.cpu.verify_into(big, out)?;
                self.signatures.add(Backend::Cpu, big.len() as u64);
                Ok(())
            },
            |rest, out| self.verify_rest(rest, out),
        )?;
        self.oversized.fetch_add(apart as u64, Ordering::Relaxed);
        Ok(used)
    }

    fn verify_rest(
        &self,
        items: &[SigItem<'_>],
        out: &mut [bool],
    ) -> Result<Backend, SigVerifyError> {
        self.router.run(
            items.len(),
            self.crossover,
            items.len() as u64,
            &self.signatures,
            out,
            |gpu, out| {
                if gpu.rule() != self.cpu.rule() {
                    return Err(SigVerifyError::RuleMismatch {
                        expected: self.cpu.rule(),
                        got: gpu.rule(),
                    });
                }
                gpu.verify_into(items, out)
            },
            |out| self.cpu.verify_into(items, out),
        )
    }
}

impl SigVerifier for BackendVerifier {
    fn name(&self) -> &'static str {
        self.router.name()
    }

    fn rule(&self) -> SignatureRule {
        self.cpu.rule()
    }

    fn preferred_batch(&self) -> usize {
        BackendVerifier::preferred_batch(self)
    }

    fn verify_into(&self, items: &[SigItem<'_>], out: &mut [bool]) -> Result<(), SigVerifyError> {
        self.verify_routed(items, out).map(|_| ())
    }
}
