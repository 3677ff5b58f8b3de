//! The CPU backend: sha2 (SHA extensions where the CPU has them), rayon for large batches.

use rayon::prelude::*;

use super::{check_lengths, sha256, sha256_chain, BatchHasher, HashError};
use crate::Hash;

/// Below this many message bytes in a batch, hashing stays on the calling thread (rayon's
/// fork/join costs more than it saves).
const PARALLEL_MIN_BYTES: usize = 64 * 1024;

/// SHA-256 on the CPU through the sha2 crate; batches of more than a few dozen kilobytes and
/// sets of more than one chain run on the rayon pool, unless the hasher is
/// [`CpuHasher::on_calling_thread`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuHasher {
    calling_thread_only: bool,
}

impl CpuHasher {
    /// A CPU hasher (on the global rayon pool).
    pub fn new() -> Self {
        Self::default()
    }

    /// A CPU hasher that never leaves the calling thread: for a pipeline stage whose rayon
    /// pool belongs to the signature verifier and the executor (queueing small hashing jobs
    /// behind them only adds latency).
    pub fn on_calling_thread() -> Self {
        Self {
            calling_thread_only: true,
        }
    }
}

impl BatchHasher for CpuHasher {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn sha256_batch(&self, messages: &[&[u8]], out: &mut [Hash]) -> Result<(), HashError> {
        check_lengths(messages.len(), out.len())?;
        let total: usize = messages.iter().map(|m| m.len()).sum();
        if self.calling_thread_only || total < PARALLEL_MIN_BYTES || messages.len() < 2 {
            for (o, m) in out.iter_mut().zip(messages) {
                *o = sha256(m);
            }
        } else {
            out.par_iter_mut()
                .zip(messages.par_iter())
                .with_min_len(64)
                .for_each(|(o, m)| *o = sha256(m));
        }
        Ok(())
    }

    fn hash_chains(
        &self,
        starts: &[Hash],
        counts: &[u64],
        out: &mut [Hash],
    ) -> Result<(), HashError> {
        check_lengths(starts.len(), out.len())?;
        check_lengths(counts.len(), out.len())?;
        if self.calling_thread_only || out.len() < 2 {
            for ((o, s), &c) in out.iter_mut().zip(starts).zip(counts) {
                *o = sha256_chain(s, c);
            }
        } else {
            out.par_iter_mut()
                .zip(starts.par_iter().zip(counts.par_iter()))
                .with_max_len(1)
                .for_each(|(o, (s, &c))| *o = sha256_chain(s, c));
        }
        Ok(())
    }
}
