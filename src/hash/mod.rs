//! Hashing: batch SHA-256 (transaction digests), Merkle roots (block commitments) and
//! proof-of-history entry verification.
//!
//! - [`BatchHasher`]: the backend trait (a batch of messages in, one SHA-256 digest each;
//!   a batch of hash chains in, one end state each), implemented side by side by
//!   [`CpuHasher`] (`cpu.rs`: sha2, which uses the SHA extensions where the CPU has them,
//!   on rayon) and [`GpuHasher`] (`gpu.rs`: the host code of `shaders/sha256.wgsl`);
//!   [`BackendHasher`] routes each batch (`auto|cpu|gpu`, the rule of [`crate::backend`],
//!   shared with signature verification) and falls back to the CPU when the GPU fails.
//! - [`merkle`]: the Merkle tree rule (Solana's `merkle-tree` crate) and block commitments.
//! - [`poh`]: proof-of-history entries and their verification (Solana's `entry` crate rule).
//!
//! Every backend gives exactly the digests of [`sha256`]; tests compare them.

mod cpu;
mod gpu;
pub mod merkle;
pub mod poh;
mod routed;

pub use cpu::CpuHasher;
pub use gpu::{GpuHasher, MAX_GPU_MESSAGE_BYTES};
pub use routed::{BackendHasher, HashStats, DEFAULT_CHAIN_CROSSOVER, DEFAULT_CROSSOVER};

use crate::gpu::GpuError;
use crate::Hash;

/// Why a backend could not produce digests for a batch.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The GPU hashing backend could not be opened: no adapter, or the device or the
    /// kernel could not be created.
    #[error("no usable GPU for hashing")]
    NoGpu(#[source] GpuError),
    /// The GPU reported an error while running a batch (device lost, validation error,
    /// out of memory, timeout). The caller should hash the batch on the CPU.
    #[error("GPU failure during a hashing batch")]
    GpuFailure(#[from] GpuError),
    /// The batch does not fit the backend's limits (e.g. a message larger than a storage
    /// buffer, a chain longer than `u32::MAX` hashes).
    #[error("batch not supported by this backend: {0}")]
    Unsupported(String),
    /// Input and output slices differ in length.
    #[error("length mismatch: {inputs} inputs but {outputs} output slots")]
    LengthMismatch {
        /// Number of inputs.
        inputs: usize,
        /// Number of output slots.
        outputs: usize,
    },
}

/// A batch SHA-256 backend.
///
/// Every implementation must give exactly the digests of [`sha256`] (and, for chains, of
/// [`sha256_chain`]).
pub trait BatchHasher: Send + Sync {
    /// Short name of the backend (`"cpu"`, `"gpu"`, `"auto"`), for logs and summaries.
    fn name(&self) -> &'static str;

    /// Longest message this backend hashes (default: any). A routed hasher sends longer
    /// messages to a backend that takes them, as a routing, not a fault.
    fn max_message_len(&self) -> usize {
        usize::MAX
    }

    /// Writes `SHA-256(messages[i])` into `out[i]` for every `i` (same length, same order).
    ///
    /// # Errors
    /// A backend failure or [`HashError::LengthMismatch`]: the contents of `out` are then
    /// unspecified and the caller must not use them.
    fn sha256_batch(&self, messages: &[&[u8]], out: &mut [Hash]) -> Result<(), HashError>;

    /// Hash chains: writes `sha256_chain(starts[i], counts[i])` (SHA-256 applied
    /// `counts[i]` times to the 32-byte state `starts[i]`) into `out[i]`.
    ///
    /// # Errors
    /// As [`BatchHasher::sha256_batch`].
    fn hash_chains(
        &self,
        starts: &[Hash],
        counts: &[u64],
        out: &mut [Hash],
    ) -> Result<(), HashError>;

    /// Digests of `messages`, in order.
    ///
    /// # Errors
    /// As [`BatchHasher::sha256_batch`].
    fn sha256_vec(&self, messages: &[&[u8]]) -> Result<Vec<Hash>, HashError> {
        let mut out = vec![[0u8; 32]; messages.len()];
        self.sha256_batch(messages, &mut out)?;
        Ok(out)
    }
}

/// A shared hasher is a hasher (so one GPU hasher can be handed to a routed one and still
/// be reached by its owner).
macro_rules! forward_batch_hasher {
    ($($ptr:ty),*) => {$(
        impl<H: BatchHasher + ?Sized> BatchHasher for $ptr {
            fn name(&self) -> &'static str {
                (**self).name()
            }
            fn max_message_len(&self) -> usize {
                (**self).max_message_len()
            }
            fn sha256_batch(&self, messages: &[&[u8]], out: &mut [Hash]) -> Result<(), HashError> {
                (**self).sha256_batch(messages, out)
            }
            fn hash_chains(
                &self,
                starts: &[Hash],
                counts: &[u64],
                out: &mut [Hash],
            ) -> Result<(), HashError> {
                (**self).hash_chains(starts, counts, out)
            }
        }
    )*};
}
forward_batch_hasher!(std::sync::Arc<H>, &H);

/// The reference rule, one message at a time: SHA-256 (FIPS 180-4) through the sha2 crate.
pub fn sha256(data: &[u8]) -> Hash {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// SHA-256 of the concatenation of `parts` (no separators, no lengths), like Solana's
/// `hashv`.
pub fn sha256v(parts: &[&[u8]]) -> Hash {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Applies SHA-256 `count` times to the 32-byte state `start` (`count == 0` returns
/// `start`). This is the proof-of-history "hash" step, one at a time.
pub fn sha256_chain(start: &Hash, count: u64) -> Hash {
    let mut h = *start;
    for _ in 0..count {
        h = sha256(&h);
    }
    h
}

pub(crate) fn check_lengths(inputs: usize, outputs: usize) -> Result<(), HashError> {
    if inputs == outputs {
        Ok(())
    } else {
        Err(HashError::LengthMismatch { inputs, outputs })
    }
}
