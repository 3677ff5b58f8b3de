//! The strict rule (ed25519-dalek 2.2.0 `verify_strict`), fast, with the same verdicts.
//!
//! dalek's `verify_strict` on (A, M, R‖s) does, in order:
//! 1. `s` canonical (`s < l`), else reject;
//! 2. decompress A (at key construction) and R, else reject;
//! 3. reject when A or R has small order;
//! 4. k = SHA-512(R‖A‖M) mod l over the bytes as given; R′ = [k](−A) + [s]B;
//!    accept iff `compress(R′)` equals R's bytes.
//!
//! That costs three field exponentiations besides the double-scalar multiplication: the
//! decompressions of A and R and the inversion in `compress`. Here:
//! - A comes from the [`KeyCache`] (decoded once per signer, small-order flag included);
//! - R is **not decompressed**: accept iff `compress(R′)` equals R's bytes **and** R′ is
//!   not of small order. This is dalek's verdict. If the bytes differ, dalek rejects at
//!   step 4 (whether or not R decodes). If they are equal, R's bytes are the canonical
//!   encoding `compress(R′)` of R′, so R decompresses (step 2 passes) and decompresses to
//!   R′ itself (decompress ∘ compress is the identity on curve points); then step 3's check
//!   on R is exactly the small-order check on R′, and step 4 passes. ∎
//! - the compressions of a whole chunk share one field inversion
//!   (`EdwardsPoint::compress_batch_alloc`, Montgomery's trick).

use curve25519::edwards::EdwardsPoint;

use super::key_cache::{DecodedKey, KeyCache};
use super::{canonical_scalar, challenge};
use crate::sigverify::SigItem;

/// Verifies a chunk with the strict rule; `out[i]` gets the verdict for `items[i]`.
pub(super) fn verify_chunk(cache: &KeyCache, items: &[SigItem<'_>], out: &mut [bool]) {
    let mut candidates: Vec<EdwardsPoint> = Vec::with_capacity(items.len());
    let mut at: Vec<usize> = Vec::with_capacity(items.len());
    for (i, (item, verdict)) in items.iter().zip(out.iter_mut()).enumerate() {
        *verdict = false;
        let Some(s) = canonical_scalar(item.signature) else {
            continue;
        };
        let DecodedKey::Usable { minus_a, .. } = cache.get(item.pubkey) else {
            continue;
        };
        let k = challenge(item);
        candidates.push(EdwardsPoint::vartime_double_scalar_mul_basepoint(
            &k, &minus_a, &s,
        ));
        at.push(i);
    }
    let compressed = EdwardsPoint::compress_batch_alloc(&candidates);
    for ((&i, r_prime), point) in at.iter().zip(&compressed).zip(&candidates) {
        let r_bytes = &items[i].signature[..32];
        out[i] = r_prime.as_bytes()[..] == r_bytes[..] && !point.is_small_order();
    }
}
