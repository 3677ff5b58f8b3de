//! Hashing: batch SHA-256 (transaction digests), Merkle roots (block commitments) and
//! proof-of-history entry verification.
//!
//! - [`BatchHasher`]: the backend trait (a batch of messages in, one SHA-256 digest each;
//!   a batch of hash chains in, one end state each), implemented by [`CpuHasher`] (sha2,
//!   which uses the SHA extensions where the CPU has them, on rayon) and by the WGSL
//!   backend in [`crate::gpu`]; [`BackendHasher`] routes each batch (`auto|cpu|gpu`) and
//!   falls back to the CPU when the GPU fails.
//! - [`merkle`]: the Merkle tree rule (Solana's `merkle-tree` crate) and block commitments.
//! - [`poh`]: proof-of-history entries and their verification (Solana's `entry` crate rule).
//!
//! Every backend gives exactly the digests of [`sha256`]; tests compare them.

mod backend;
mod cpu;
pub mod merkle;
pub mod poh;

pub use backend::{
    BackendHasher, HashBackend, HashStats, DEFAULT_CHAIN_CROSSOVER, DEFAULT_CROSSOVER,
};
pub use cpu::CpuHasher;

use crate::Hash;

/// Why a backend could not produce digests for a batch.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// No GPU adapter was found (or the GPU hashing backend could not be created).
    #[error("no GPU adapter available: {0}")]
    NoGpu(String),
    /// The GPU reported an error while running a batch (device lost, validation error,
    /// out of memory, timeout). The caller should hash the batch on the CPU.
    #[error("GPU failure during a batch: {0}")]
    GpuFailure(String),
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

/// Transaction digests: `SHA-256(message bytes)` of each transaction, in order. The
/// message bytes are what every signature signs (`TransactionView::message()`); the digest
/// is the transaction's id for de-duplication and results.
///
/// # Errors
/// As [`BatchHasher::sha256_batch`] (a [`BackendHasher`] never fails: it falls back to the
/// CPU).
pub fn transaction_digests(
    messages: &[&[u8]],
    hasher: &dyn BatchHasher,
) -> Result<Vec<Hash>, HashError> {
    hasher.sha256_vec(messages)
}

pub(crate) fn check_lengths(inputs: usize, outputs: usize) -> Result<(), HashError> {
    if inputs == outputs {
        Ok(())
    } else {
        Err(HashError::LengthMismatch { inputs, outputs })
    }
}
