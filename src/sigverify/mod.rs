//! Signature verification: the [`SigVerifier`] trait and its backends side by side,
//! [`CpuVerifier`] (`cpu.rs`) and [`GpuSigVerifier`] (`gpu/`: the host code of the WGSL
//! kernel), with [`BackendVerifier`] routing each batch between them (`auto`, `cpu`, `gpu`;
//! the rule is [`crate::backend`]'s, shared with hashing).
//!
//! Two rules ([`SignatureRule`], `rule.rs`): the default, ed25519-dalek 2.2.0
//! `verify_strict` (see [`reference_verify`]), and the opt-in cofactored rule of SIMD-0376
//! (see [`cofactored_verify`]). Every backend and every fast path gives, for its rule, the
//! verdict of that single-signature definition on any input; the tests check it against
//! dalek and against an independent cofactored implementation.

mod cpu;
mod gpu;
mod routed;
mod rule;

pub use cpu::CpuVerifier;
#[cfg(feature = "test-support")]
pub use gpu::building_blocks;
pub use gpu::{GpuSigVerifier, DEFAULT_CHUNK, DEFAULT_CHUNK_SOFTWARE, MAX_MESSAGE_BYTES};
pub use routed::{BackendVerifier, FallbackStats, DEFAULT_CROSSOVER};
pub use rule::{SignatureRule, UnknownRule};

use crate::gpu::GpuError;

/// One signature to check: the signer's public key, the signed message and the signature.
#[derive(Clone, Copy, Debug)]
pub struct SigItem<'a> {
    /// Compressed Edwards point of the signer (32 bytes, as given on the wire).
    pub pubkey: &'a [u8; 32],
    /// The signed message bytes (any length, possibly empty).
    pub message: &'a [u8],
    /// The signature: `R` (32 bytes) followed by `s` (32 bytes).
    pub signature: &'a [u8; 64],
}

/// Why a backend could not produce verdicts for a batch. The verdicts themselves are
/// never an error: an invalid signature is `false`.
#[derive(Debug, thiserror::Error)]
pub enum SigVerifyError {
    /// The GPU backend could not be opened: no adapter, or the device or the kernel could
    /// not be created.
    #[error("no usable GPU for signature verification")]
    NoGpu(#[source] GpuError),
    /// The GPU reported an error while running a batch (device lost, validation error,
    /// out of memory, timeout). The caller should verify the batch on the CPU.
    #[error("GPU failure during a signature batch")]
    GpuFailure(#[source] GpuError),
    /// The batch does not fit the backend's limits (e.g. a message longer than the
    /// backend supports).
    #[error("batch not supported by this backend: {0}")]
    Unsupported(String),
    /// A backend implements another signature rule than the one asked for; its verdicts
    /// are not used.
    #[error("backend implements the {got} signature rule, {expected} was asked for")]
    RuleMismatch {
        /// The rule asked for.
        expected: SignatureRule,
        /// The backend's rule.
        got: SignatureRule,
    },
}

/// A batch signature verifier: a batch of (pubkey, message, signature) in, one verdict per
/// signature out, in the same order.
///
/// Every implementation must give exactly the verdicts of its [`SigVerifier::rule`]'s
/// single-signature definition ([`SignatureRule::verify_one`]).
pub trait SigVerifier: Send + Sync {
    /// Short name of the backend (`"cpu"`, `"gpu"`), for logs and summaries.
    fn name(&self) -> &'static str;

    /// The signature rule whose verdicts this backend gives (default: the strict rule).
    fn rule(&self) -> SignatureRule {
        SignatureRule::Strict
    }

    /// Longest message this backend verifies (default: any). A routed verifier sends
    /// longer messages to a backend that takes them, as a routing, not a fault.
    fn max_message_len(&self) -> usize {
        usize::MAX
    }

    /// Signatures per call at which this backend reaches its throughput: a caller that can
    /// gather work aims for calls this large. The pipeline's sigverify stage gathers the
    /// blocks already waiting in its input queue (never waiting for more) into one call of
    /// up to this many signatures, and sizes its queue and default in-flight bound so such
    /// a batch can fill (see [`crate::pipeline::PipelineConfig::max_in_flight`]).
    ///
    /// The default, 0, means no preference: a call of one block's signatures is as
    /// efficient as a larger one (the CPU verifier), so nothing is gathered and every
    /// block is verified alone. A GPU backend returns its in-flight target (enough
    /// signatures to fill the device, sized from the adapter's limits).
    fn preferred_batch(&self) -> usize {
        0
    }

    /// Verifies `items`, writing one verdict per item into `out` (same length, same order).
    ///
    /// # Errors
    /// A backend failure (never an invalid signature): the contents of `out` are then
    /// unspecified and the caller must not use them.
    fn verify_into(&self, items: &[SigItem<'_>], out: &mut [bool]) -> Result<(), SigVerifyError>;

    /// Verifies `items` and returns one verdict per item, in order.
    ///
    /// # Errors
    /// As [`SigVerifier::verify_into`].
    fn verify(&self, items: &[SigItem<'_>]) -> Result<Vec<bool>, SigVerifyError> {
        let mut out = vec![false; items.len()];
        self.verify_into(items, &mut out)?;
        Ok(out)
    }
}

/// A shared verifier is a verifier (so one GPU verifier can be handed to a routed one and
/// still be reached by its owner).
macro_rules! forward_sig_verifier {
    ($($ptr:ty),*) => {$(
        impl<V: SigVerifier + ?Sized> SigVerifier for $ptr {
            fn name(&self) -> &'static str {
                (**self).name()
            }
            fn rule(&self) -> SignatureRule {
                (**self).rule()
            }
            fn max_message_len(&self) -> usize {
                (**self).max_message_len()
            }
            fn preferred_batch(&self) -> usize {
                (**self).preferred_batch()
            }
            fn verify_into(
                &self,
                items: &[SigItem<'_>],
                out: &mut [bool],
            ) -> Result<(), SigVerifyError> {
                (**self).verify_into(items, out)
            }
        }
    )*};
}
forward_sig_verifier!(std::sync::Arc<V>, &V);

/// Checks that a batch has one verdict slot per item (every backend starts with this).
///
/// # Errors
/// [`SigVerifyError::Unsupported`] when the lengths differ.
pub fn check_batch(items: &[SigItem<'_>], out: &[bool]) -> Result<(), SigVerifyError> {
    if items.len() == out.len() {
        Ok(())
    } else {
        Err(SigVerifyError::Unsupported(format!(
            "{} items but {} verdict slots",
            items.len(),
            out.len()
        )))
    }
}

/// The reference rule, one signature at a time: ed25519-dalek 2.2.0
/// `VerifyingKey::from_bytes(pubkey)` then `verify_strict(message, signature)`.
///
/// This is the definition of validity in txpipe; every fast path is tested against it.
pub fn reference_verify(pubkey: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    match ed25519_dalek::VerifyingKey::from_bytes(pubkey) {
        Ok(vk) => vk
            .verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
            .is_ok(),
        Err(_) => false,
    }
}

/// The cofactored rule of SIMD-0376 (as amended), one signature at a time: A and R must be
/// canonical encodings (they decode and re-encode to the same bytes) of points not of small
/// order, `s < l`, and `[8]([s]B − R − [k]A)` must be the identity, with
/// k = SHA-512(R ‖ A ‖ M) mod l over the bytes as given.
///
/// Written with curve25519-dalek 5 primitives, with no cache and no batching; the batched
/// CPU path and the GPU kernel are tested against it, and it against an independent
/// implementation (ed25519-zebra) in the tests.
pub fn cofactored_verify(pubkey: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    cpu::cofactored_single(pubkey, message, signature)
}
