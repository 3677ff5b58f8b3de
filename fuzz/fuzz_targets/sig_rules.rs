//! Fuzz target: both signature rules on adversarial batches the fuzzer steers. The input
//! picks a seed and, per signature, an edge-case category of the adversarial generator
//! (valid, small-order, mixed-order, non-canonical, s ≥ l, off-curve, …), an optional bit
//! to flip and whether to reuse the previous signer; the batch is verified by the CPU
//! verifier under each rule (strict: cached keys, no R decompression, batched
//! compressions; cofactored: random linear combinations, bisection, adaptive batch size).
//! Every verdict must equal the rule's single-signature definition: dalek 2.2.0
//! `verify_strict`, and the library's unbatched cofactored check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ed25519_dalek::{Signer, SigningKey};
use rand::SeedableRng;
use txpipe::sigverify::{reference_verify, CpuVerifier, SigItem, SigVerifier, SignatureRule};
use txpipe::testing::{self, SigCase};

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let mut seed = [0u8; 8];
    seed.copy_from_slice(&data[..8]);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(u64::from_le_bytes(seed));
    // a few signers that sign again and again (merged terms in a cofactored batch)
    let pool: Vec<SigningKey> = (0..4u8).map(|i| SigningKey::from_bytes(&[i + 1; 32])).collect();
    let mut cases: Vec<SigCase> = Vec::new();
    // three bytes per signature: category, bit to flip (0xff: none), and key reuse: bit 0
    // takes the previous case's key, bit 1 signs validly with pool key (bits 2-3)
    for op in data[8..].chunks_exact(3).take(96) {
        let category = testing::CATEGORIES[usize::from(op[0]) % testing::CATEGORIES.len()];
        let mut case = testing::case(category, &mut rng);
        if op[2] & 1 == 1 {
            if let Some(last) = cases.last() {
                case.pubkey = last.pubkey;
            }
        } else if op[2] & 2 == 2 {
            let sk = &pool[usize::from(op[2] >> 2) % pool.len()];
            case.pubkey = sk.verifying_key().to_bytes();
            case.signature = sk.sign(&case.message).to_bytes();
        }
        if op[1] != 0xff {
            let bit = usize::from(op[1]) % (64 * 8 + case.message.len().min(32) * 8);
            match bit / 8 {
                i if i < 64 => case.signature[i] ^= 1 << (bit % 8),
                i => case.message[i - 64] ^= 1 << (bit % 8),
            }
        }
        cases.push(case);
    }
    let items: Vec<SigItem<'_>> = cases.iter().map(SigCase::item).collect();
    for rule in SignatureRule::ALL {
        let verifier = CpuVerifier::with_rule(rule);
        let got = verifier.verify(&items).expect("the CPU verifier never fails");
        for (c, v) in cases.iter().zip(&got) {
            let want = match rule {
                SignatureRule::Strict => reference_verify(&c.pubkey, &c.message, &c.signature),
                SignatureRule::Cofactored => {
                    txpipe::sigverify::cofactored_verify(&c.pubkey, &c.message, &c.signature)
                }
            };
            assert_eq!(*v, want, "{rule} on {} {c:?}", c.category);
        }
    }
});
