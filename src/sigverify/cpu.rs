//! The CPU backend: ed25519-dalek `verify_strict` on rayon.

use rayon::prelude::*;

use super::{reference_verify, SigItem, SigVerifier, SigVerifyError};

/// Batches below this size are verified on the calling thread: spreading a handful of
/// signatures over the rayon pool costs more than it saves.
const MIN_PARALLEL: usize = 16;

/// Verifies signatures on the CPU with exactly [`reference_verify`], in parallel over a
/// rayon pool (the global pool unless one is given).
#[derive(Debug, Default)]
pub struct CpuVerifier {
    pool: Option<rayon::ThreadPool>,
}

impl CpuVerifier {
    /// A verifier on rayon's global thread pool.
    pub fn new() -> Self {
        Self { pool: None }
    }

    /// A verifier on its own pool of `threads` threads (0 means rayon's default).
    ///
    /// # Errors
    /// When the operating system refuses to start the threads.
    pub fn with_threads(threads: usize) -> Result<Self, rayon::ThreadPoolBuildError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("txpipe-sigverify-{i}"))
            .build()?;
        Ok(Self { pool: Some(pool) })
    }

    fn run(items: &[SigItem<'_>], out: &mut [bool]) {
        if items.len() < MIN_PARALLEL {
            for (item, verdict) in items.iter().zip(out.iter_mut()) {
                *verdict = reference_verify(item.pubkey, item.message, item.signature);
            }
        } else {
            items
                .par_iter()
                .zip(out.par_iter_mut())
                .with_min_len(8)
                .for_each(|(item, verdict)| {
                    *verdict = reference_verify(item.pubkey, item.message, item.signature);
                });
        }
    }
}

impl SigVerifier for CpuVerifier {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn verify_into(&self, items: &[SigItem<'_>], out: &mut [bool]) -> Result<(), SigVerifyError> {
        super::check_batch(items, out)?;
        match &self.pool {
            Some(pool) => pool.install(|| Self::run(items, out)),
            None => Self::run(items, out),
        }
        Ok(())
    }
}
