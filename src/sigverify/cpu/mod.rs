//! The CPU backend: either signature rule, fast, on rayon.
//!
//! - [`strict`]: dalek 2.2.0 `verify_strict`'s verdicts without decompressing R, with cached
//!   keys and one field inversion per chunk for all the compressions;
//! - [`cofactored`]: the SIMD-0376 rule, by batches (random linear combination, one
//!   multiscalar multiplication per batch, bisection on failure, batch size adapted to the
//!   failure rate);
//! - [`key_cache`]: decoded public keys, bounded, shared by the workers.
//!
//! Both are tested against the single-signature definitions
//! ([`crate::sigverify::reference_verify`], [`crate::sigverify::cofactored_verify`]) and
//! against independent implementations in the tests.

mod cofactored;
mod key_cache;
mod strict;

use curve25519::Scalar;
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use super::{SigItem, SigVerifier, SigVerifyError, SignatureRule};
use cofactored::FailureRate;
use key_cache::{DecodedKey, KeyCache};

/// Batches below this size are verified on the calling thread: spreading a handful of
/// signatures over the rayon pool costs more than it saves.
const MIN_PARALLEL: usize = 16;

/// Signatures per unit of parallel work, at most: one shared inversion (strict; past ~100
/// the shared inversion saves nothing more) or a few of the largest batches (cofactored).
const fn max_chunk(rule: SignatureRule) -> usize {
    match rule {
        SignatureRule::Strict => 128,
        SignatureRule::Cofactored => 4 * cofactored::MAX_BATCH,
    }
}

/// `s` as a scalar when `s < l` (the canonical-scalar rule of both rules).
fn canonical_scalar(signature: &[u8; 64]) -> Option<Scalar> {
    let mut s = [0u8; 32];
    s.copy_from_slice(&signature[32..]);
    Scalar::from_canonical_bytes(s).into()
}

/// k = SHA-512(R ‖ A ‖ M) mod l, over the bytes as given.
fn challenge(item: &SigItem<'_>) -> Scalar {
    let mut h = Sha512::new();
    h.update(&item.signature[..32]);
    h.update(item.pubkey);
    h.update(item.message);
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&h.finalize());
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// The cofactored rule on one signature, with no cache and no batch: the definition the
/// batched path is tested against. See [`crate::sigverify::cofactored_verify`].
pub(super) fn cofactored_single(pubkey: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let item = SigItem {
        pubkey,
        message,
        signature,
    };
    cofactored::prepare(&item, DecodedKey::decode).is_some_and(|p| cofactored::single(&p))
}

/// Verifies signatures on the CPU under one [`SignatureRule`], in parallel over a rayon pool
/// (the global pool unless one is given). Keeps a bounded cache of decoded public keys
/// (64k keys, about 13 MiB) and, for the cofactored rule, its estimate of the failure rate.
#[derive(Debug, Default)]
pub struct CpuVerifier {
    pool: Option<rayon::ThreadPool>,
    rule: SignatureRule,
    keys: KeyCache,
    failures: FailureRate,
}

impl CpuVerifier {
    /// A strict-rule verifier on rayon's global thread pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// A verifier for `rule` on rayon's global thread pool.
    pub fn with_rule(rule: SignatureRule) -> Self {
        Self {
            rule,
            ..Self::default()
        }
    }

    /// A strict-rule verifier on its own pool of `threads` threads (0 means rayon's
    /// default).
    ///
    /// # Errors
    /// When the operating system refuses to start the threads.
    pub fn with_threads(threads: usize) -> Result<Self, rayon::ThreadPoolBuildError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("txpipe-sigverify-{i}"))
            .build()?;
        Ok(Self {
            pool: Some(pool),
            ..Self::default()
        })
    }

    /// A verifier for `rule` on its own pool of `threads` threads (0 means rayon's
    /// default).
    ///
    /// # Errors
    /// When the operating system refuses to start the threads.
    pub fn with_threads_and_rule(
        threads: usize,
        rule: SignatureRule,
    ) -> Result<Self, rayon::ThreadPoolBuildError> {
        Ok(Self {
            rule,
            ..Self::with_threads(threads)?
        })
    }

    fn chunk(&self, items: &[SigItem<'_>], out: &mut [bool]) {
        match self.rule {
            SignatureRule::Strict => strict::verify_chunk(&self.keys, items, out),
            SignatureRule::Cofactored => {
                cofactored::verify_chunk(&self.keys, &self.failures, items, out)
            }
        }
    }

    fn run(&self, items: &[SigItem<'_>], out: &mut [bool]) {
        if items.len() < MIN_PARALLEL {
            self.chunk(items, out);
        } else {
            // chunks small enough that every thread gets a few
            let threads = rayon::current_num_threads().max(1);
            let size = items
                .len()
                .div_ceil(threads * 2)
                .clamp(8, max_chunk(self.rule));
            items
                .par_chunks(size)
                .zip(out.par_chunks_mut(size))
                .for_each(|(items, out)| self.chunk(items, out));
        }
    }
}

impl SigVerifier for CpuVerifier {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn rule(&self) -> SignatureRule {
        self.rule
    }

    fn verify_into(&self, items: &[SigItem<'_>], out: &mut [bool]) -> Result<(), SigVerifyError> {
        super::check_batch(items, out)?;
        match &self.pool {
            Some(pool) => pool.install(|| self.run(items, out)),
            None => self.run(items, out),
        }
        Ok(())
    }
}
