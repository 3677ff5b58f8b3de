//! Signature cases as owned (public key, message, signature) triples, shared by the GPU
//! fault tests: the verifier input that borrows them, and dalek's verdicts.

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
