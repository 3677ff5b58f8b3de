//! The cofactored rule (SIMD-0376 as amended), single and batched.
//!
//! A signature (A, M, R‖s) is valid iff A and R are canonical encodings of points that are
//! not of small order, `s < l`, and `[8]([s]B − R − [k]A)` is the identity, with
//! k = SHA-512(R‖A‖M) mod l over the bytes as given.
//!
//! **Batch verification.** For signatures that pass the encoding checks, the batch
//! equation with weights zᵢ is
//! `[8]([Σ zᵢsᵢ]B − Σ [zᵢ]Rᵢ − Σ [zᵢkᵢ]Aᵢ) = 0`, one multiscalar multiplication (terms of
//! a repeated signer merged). Write Pᵢ = [8]([sᵢ]B − Rᵢ − [kᵢ]Aᵢ): it lies in the prime-order
//! subgroup (order l > 2^252), and the batch equation is Σ zᵢPᵢ = 0. If every Pᵢ = 0 (every
//! single verdict is "valid") the batch holds for any weights. If some Pⱼ ≠ 0, then for
//! any fixed values of the other weights at most one zⱼ in [0, 2^128) makes the sum zero
//! (distinct multiples of a point of order l > 2^128 differ), so a batch containing an
//! invalid signature passes with probability at most 2^-128 — provided the weights are
//! unknown to whoever chose the signatures. They are drawn fresh for every batch from the
//! operating system's CSPRNG; when it cannot give them, signatures are verified one by one.
//!
//! **Failures.** A failing batch is bisected (a half known to fail is split without being
//! re-checked) down to single verification, so every verdict is the single-signature
//! verdict. The batch size adapts to the share of signatures found invalid (an estimate
//! shared by all chunks), so a flood of invalid signatures is verified one by one rather
//! than paying for bisection.

use std::sync::atomic::{AtomicU32, Ordering};

use curve25519::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519::traits::{IsIdentity, VartimeMultiscalarMul};
use curve25519::Scalar;
use rand::RngCore;

use super::key_cache::{is_canonical_encoding, DecodedKey, KeyCache};
use super::{canonical_scalar, challenge};
use crate::sigverify::SigItem;

/// Largest batch (signatures per multiscalar multiplication). Past ~95 signatures (~190
/// points) curve25519-dalek switches from Straus to Pippenger, whose cost per point keeps
/// falling with the size: measured here (AVX-512 IFMA), ~5 µs a point at 64 signatures,
/// ~2 µs at 256.
pub(crate) const MAX_BATCH: usize = 256;
/// Batches this small are verified one by one (a batch of two costs as much).
const SINGLE_BELOW: usize = 3;

/// A signature that passed the encoding checks, ready for the equation.
#[derive(Clone, Copy)]
pub(super) struct Prepared<'a> {
    key: &'a [u8; 32],
    s: Scalar,
    k: Scalar,
    minus_a: EdwardsPoint,
    r: EdwardsPoint,
}

/// The checks before the equation: `s < l`; A canonical, decodable, not of small order
/// (from `decode_key`); R canonical, decodable, not of small order. `None`: invalid.
pub(super) fn prepare<'a>(
    item: &SigItem<'a>,
    decode_key: impl FnOnce(&[u8; 32]) -> DecodedKey,
) -> Option<Prepared<'a>> {
    let s = canonical_scalar(item.signature)?;
    let DecodedKey::Usable {
        minus_a,
        canonical: true,
    } = decode_key(item.pubkey)
    else {
        return None;
    };
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&item.signature[..32]);
    let r = CompressedEdwardsY(r_bytes).decompress()?;
    // is_canonical_encoding is exact for points not of small order (see its proof)
    if r.is_small_order() || !is_canonical_encoding(&r_bytes) {
        return None;
    }
    Some(Prepared {
        key: item.pubkey,
        s,
        k: challenge(item),
        minus_a,
        r,
    })
}

/// The single-signature equation: `[8]([s]B − R − [k]A)` is the identity.
pub(super) fn single(p: &Prepared<'_>) -> bool {
    let r_prime = EdwardsPoint::vartime_double_scalar_mul_basepoint(&p.k, &p.minus_a, &p.s);
    (r_prime - p.r).mul_by_cofactor().is_identity()
}

/// The batch equation with weights `z` (one per signature).
fn batch_holds(batch: &[Prepared<'_>], z: &[Scalar]) -> bool {
    let mut b_coefficient = Scalar::ZERO;
    let mut scalars: Vec<Scalar> = Vec::with_capacity(2 * batch.len() + 1);
    let mut points: Vec<EdwardsPoint> = Vec::with_capacity(2 * batch.len() + 1);
    // A terms, merged per signer: (key, index into scalars/points)
    let mut signers: Vec<(&[u8; 32], usize)> = Vec::with_capacity(batch.len());
    for (p, zi) in batch.iter().zip(z) {
        b_coefficient += zi * p.s;
        scalars.push(-zi);
        points.push(p.r);
        let zk = zi * p.k;
        match signers.iter().find(|(key, _)| *key == p.key) {
            Some(&(_, at)) => scalars[at] += zk,
            None => {
                signers.push((p.key, scalars.len()));
                scalars.push(zk);
                points.push(p.minus_a);
            }
        }
    }
    scalars.push(b_coefficient);
    points.push(curve25519::constants::ED25519_BASEPOINT_POINT);
    EdwardsPoint::vartime_multiscalar_mul(&scalars, &points)
        .mul_by_cofactor()
        .is_identity()
}

/// Verdicts for `batch` into `out`, bisecting on failure. `known_bad`: the caller already
/// knows the batch equation fails for this slice.
fn bisect(batch: &[Prepared<'_>], z: &[Scalar], out: &mut [bool], known_bad: bool) {
    if batch.len() < SINGLE_BELOW {
        for (p, v) in batch.iter().zip(out.iter_mut()) {
            *v = single(p);
        }
        return;
    }
    if !known_bad && batch_holds(batch, z) {
        out.fill(true);
        return;
    }
    let mid = batch.len() / 2;
    let (left, right) = batch.split_at(mid);
    let (z_left, z_right) = z.split_at(mid);
    let (out_left, out_right) = out.split_at_mut(mid);
    let left_holds = left.len() >= SINGLE_BELOW && batch_holds(left, z_left);
    if left_holds {
        out_left.fill(true);
    } else {
        bisect(left, z_left, out_left, left.len() >= SINGLE_BELOW);
    }
    // the whole failed and the left half holds: the right half fails
    bisect(right, z_right, out_right, left_holds);
}

/// Fresh 128-bit weights from the operating system's CSPRNG, or `None` when it fails.
fn weights(n: usize) -> Option<Vec<Scalar>> {
    let mut bytes = vec![0u8; 16 * n];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).ok()?;
    Some(
        bytes
            .chunks_exact(16)
            .map(|c| {
                let mut w = [0u8; 16];
                w.copy_from_slice(c);
                Scalar::from(u128::from_le_bytes(w))
            })
            .collect(),
    )
}

/// The share of signatures that reach the equation and fail it, as an estimate shared by
/// every chunk of a verifier (parts per million, smoothed), and the batch size it implies.
#[derive(Debug)]
pub(crate) struct FailureRate(AtomicU32);

impl Default for FailureRate {
    fn default() -> Self {
        // start as if 1% failed: batches of 32
        Self(AtomicU32::new(10_000))
    }
}

impl FailureRate {
    /// The batch size for the current estimate p: about 1/(2p), a power of two, at most
    /// [`MAX_BATCH`]; 1 (single verification) from p ≈ 1/8 up.
    ///
    /// Why: a batch of b holds a bad signature with probability ~1 − e^(−pb), and bisecting
    /// a failed batch costs one to two more batches (halves, quarters, … at the higher cost
    /// per point of small multiscalar multiplications), while the cost per point of a
    /// passing batch falls as b grows (Straus, then Pippenger past ~95 signatures). Measured
    /// with `txpipe bench --rule cofactored` (1% of transactions with a flipped signature
    /// bit): b ≈ 1/(4p) to 1/(2p) verified 90-99k signatures/s, 1/p 80-84k, 2/p 74-76k.
    /// Past p ≈ 1/8 batches no longer pay and signatures are verified one by one, so a
    /// flood of invalid signatures costs what single verification costs.
    pub(crate) fn batch_size(&self) -> usize {
        let ppm = self.0.load(Ordering::Relaxed).max(1) as usize;
        let ideal = 500_000 / ppm;
        if ideal < 4 {
            1
        } else {
            (1usize << ideal.ilog2()).min(MAX_BATCH)
        }
    }

    /// Folds in one chunk's observation: `failed` of `seen` failed the equation.
    fn observe(&self, failed: usize, seen: usize) {
        if seen == 0 {
            return;
        }
        let observed = (failed as u64 * 1_000_000 / seen as u64) as u32;
        // weight of the new observation grows with its size, up to a half
        let weight = (seen as u64).min(256) as u32;
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                let old = u64::from(old);
                let new =
                    (old * u64::from(512 - weight) + u64::from(observed) * u64::from(weight)) / 512;
                Some(new as u32)
            });
    }
}

/// Verifies a chunk with the cofactored rule; `out[i]` gets the verdict for `items[i]`.
pub(super) fn verify_chunk(
    cache: &KeyCache,
    rate: &FailureRate,
    items: &[SigItem<'_>],
    out: &mut [bool],
) {
    let mut prepared: Vec<Prepared<'_>> = Vec::with_capacity(items.len());
    let mut at: Vec<usize> = Vec::with_capacity(items.len());
    for (i, (item, verdict)) in items.iter().zip(out.iter_mut()).enumerate() {
        *verdict = false;
        if let Some(p) = prepare(item, |k| cache.get(k)) {
            prepared.push(p);
            at.push(i);
        }
    }
    let mut verdicts = vec![false; prepared.len()];
    let size = rate.batch_size();
    let z = if size > 1 {
        weights(prepared.len())
    } else {
        None
    };
    match z {
        Some(z) => {
            for ((batch, zs), out) in prepared
                .chunks(size)
                .zip(z.chunks(size))
                .zip(verdicts.chunks_mut(size))
            {
                bisect(batch, zs, out, false);
            }
        }
        None => {
            for (p, v) in prepared.iter().zip(verdicts.iter_mut()) {
                *v = single(p);
            }
        }
    }
    let failed = verdicts.iter().filter(|v| !**v).count();
    rate.observe(failed, verdicts.len());
    for (&i, v) in at.iter().zip(verdicts) {
        out[i] = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_size_follows_the_failure_rate() {
        let rate = FailureRate::default();
        assert_eq!(rate.batch_size(), 32);
        for _ in 0..50 {
            rate.observe(0, 256);
        }
        assert_eq!(rate.batch_size(), MAX_BATCH);
        for _ in 0..50 {
            rate.observe(77, 256);
        }
        assert_eq!(rate.batch_size(), 1, "30% invalid: one by one");
        for _ in 0..50 {
            rate.observe(3, 256);
        }
        let size = rate.batch_size();
        assert!((16..=64).contains(&size), "{size}");
    }
}
