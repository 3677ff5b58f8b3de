//! Signature cases as owned (public key, message, signature) triples, shared by the GPU
//! fault tests: the verifier input that borrows them, and dalek's verdicts.
//!
//! Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use txpipe::sigverify::{reference_verify, SigItem};

/// (public key, message, signature).
pub type Case = ([u8; 32], Vec<u8>, [u8; 64]);

/// The cases as a verifier batch (borrowing them).
pub fn items(cases: &[Case]) -> Vec<SigItem<'_>> {
    cases
        .iter()
        .map(|(pubkey, message, signature)| SigItem {
            pubkey,
            message,
            signature,
        })
        .collect()
}

/// ed25519-dalek `verify_strict`'s verdict on each case.
pub fn reference(cases: &[Case]) -> Vec<bool> {
    cases
        .iter()
        .map(|(pk, m, s)| reference_verify(pk, m, s))
        .collect()
}

/// The cofactored rule (SIMD-0376 as amended), written here directly from curve25519-dalek
/// primitives and independently of the library: A and R decode and re-encode to the same
/// bytes and are not of small order; `s < l`; `[8]([s]B − R − [k]A)` is the identity
/// (constant-time scalar multiplications, unlike the library's variable-time ones).
pub fn cofactored_reference(pubkey: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    use curve25519::constants::ED25519_BASEPOINT_POINT;
    use curve25519::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519::traits::IsIdentity;
    use curve25519::Scalar;
    use sha2::{Digest, Sha512};

    fn decode(bytes: [u8; 32]) -> Option<EdwardsPoint> {
        let p = CompressedEdwardsY(bytes).decompress()?;
        (p.compress().to_bytes() == bytes && !p.is_small_order()).then_some(p)
    }
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&signature[..32]);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&signature[32..]);
    let (Some(a), Some(r)) = (decode(*pubkey), decode(r_bytes)) else {
        return false;
    };
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
        return false;
    };
    let digest = Sha512::new()
        .chain_update(r_bytes)
        .chain_update(pubkey)
        .chain_update(message)
        .finalize();
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&digest);
    let k = Scalar::from_bytes_mod_order_wide(&wide);
    (ED25519_BASEPOINT_POINT * s - r - a * k)
        .mul_by_cofactor()
        .is_identity()
}

/// ed25519-zebra's verdict (ZIP-215: the cofactored equation, accepting non-canonical and
/// small-order encodings): equals [`cofactored_reference`] on every input whose A and R are
/// canonical and not of small order.
pub fn zebra_verdict(pubkey: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    ed25519_zebra::VerificationKey::try_from(*pubkey)
        .and_then(|vk| vk.verify(&ed25519_zebra::Signature::from_bytes(signature), message))
        .is_ok()
}

/// Whether `bytes` is a canonical encoding of a point not of small order (where
/// [`zebra_verdict`] and [`cofactored_reference`] must agree).
pub fn canonical_and_large(bytes: &[u8; 32]) -> bool {
    curve25519::edwards::CompressedEdwardsY(*bytes)
        .decompress()
        .is_some_and(|p| p.compress().to_bytes() == *bytes && !p.is_small_order())
}

/// [`cofactored_reference`]'s verdict on each case.
pub fn cofactored(cases: &[Case]) -> Vec<bool> {
    cases
        .iter()
        .map(|(pk, m, s)| cofactored_reference(pk, m, s))
        .collect()
}
