//! Both signature rules on the CPU, against definitions written independently of the
//! library:
//! - strict: ed25519-dalek 2.2.0 `verify_strict` (the fast path skips R's decompression,
//!   caches keys and batches compressions; `sigverify_vectors.rs` covers it too);
//! - cofactored: `sig_cases::cofactored_reference` (curve25519-dalek primitives, literal
//!   SIMD-0376), itself cross-checked against ed25519-zebra (ZIP-215) wherever the encoding
//!   rules do not apply, and against the CCTV vectors' flags.
//!
//! The batched cofactored path must give every single-signature verdict whatever the mix:
//! valid, invalid, mixed-order, small-order, non-canonical, in any proportion (its batch
//! size adapts to the failure rate, so runs at several shares exercise several sizes).

#[path = "sig_cases/mod.rs"]
mod sig_cases;

use proptest::prelude::*;
use sig_cases::{canonical_and_large, cofactored_reference, zebra_verdict};
use txpipe::sigverify::{
    cofactored_verify, reference_verify, CpuVerifier, SigItem, SigVerifier, SignatureRule,
};
use txpipe::testing::{self, SigCase};

fn r_bytes(c: &SigCase) -> [u8; 32] {
    let mut r = [0u8; 32];
    r.copy_from_slice(&c.signature[..32]);
    r
}

fn all_vector_sets() -> Vec<(&'static str, Vec<SigCase>)> {
    let dir = testing::vectors_dir();
    let (wycheproof, _) =
        testing::load_wycheproof(&dir.join("wycheproof_ed25519_test.json")).expect("wycheproof");
    let cctv = testing::load_cctv(&dir.join("cctv_ed25519vectors.json")).expect("cctv");
    vec![
        ("wycheproof", wycheproof),
        ("cctv", cctv),
        ("adversarial", testing::adversarial(3000, 0x5eed_0376)),
    ]
}

/// `verifier`'s verdicts equal `rule`'s definition on every case, with a readable report.
fn check(verifier: &CpuVerifier, cases: &[SigCase], what: &str) -> (usize, usize) {
    let items: Vec<SigItem<'_>> = cases.iter().map(SigCase::item).collect();
    let got = verifier
        .verify(&items)
        .expect("the CPU verifier never fails");
    let mut bad = Vec::new();
    let mut valid = 0;
    for (i, (c, v)) in cases.iter().zip(&got).enumerate() {
        let want = match verifier.rule() {
            SignatureRule::Strict => reference_verify(&c.pubkey, &c.message, &c.signature),
            SignatureRule::Cofactored => cofactored_reference(&c.pubkey, &c.message, &c.signature),
        };
        valid += usize::from(want);
        if *v != want {
            bad.push(format!("#{i} {}: want {want} got {v}", c.category));
        }
    }
    assert!(
        bad.is_empty(),
        "{what} ({}): {} of {} differ:\n{}",
        verifier.rule(),
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
    (valid, cases.len() - valid)
}

#[test]
fn the_cofactored_reference_agrees_with_zebra_where_the_encoding_rules_do_not_apply() {
    let mut compared = 0;
    let mut valid = 0;
    for (set, cases) in all_vector_sets() {
        for (i, c) in cases.iter().enumerate() {
            let ours = cofactored_reference(&c.pubkey, &c.message, &c.signature);
            let zebra = zebra_verdict(&c.pubkey, &c.message, &c.signature);
            if canonical_and_large(&c.pubkey) && canonical_and_large(&r_bytes(c)) {
                assert_eq!(ours, zebra, "{set} #{i} ({})", c.category);
                compared += 1;
                valid += usize::from(ours);
            } else {
                // the encoding rules only ever reject
                assert!(!ours, "{set} #{i} ({})", c.category);
            }
        }
    }
    assert!(
        compared > 1000 && valid > 300,
        "{compared} compared, {valid} valid"
    );
}

#[test]
fn the_library_single_cofactored_verdict_is_the_reference() {
    for (set, cases) in all_vector_sets() {
        for (i, c) in cases.iter().enumerate() {
            assert_eq!(
                cofactored_verify(&c.pubkey, &c.message, &c.signature),
                cofactored_reference(&c.pubkey, &c.message, &c.signature),
                "{set} #{i} ({})",
                c.category
            );
        }
    }
}

#[test]
fn both_rules_on_every_vector_set_batched_on_rayon() {
    for rule in SignatureRule::ALL {
        let verifier = CpuVerifier::with_rule(rule);
        let pool = CpuVerifier::with_threads_and_rule(3, rule).expect("pool");
        for (set, cases) in all_vector_sets() {
            let (valid, invalid) = check(&verifier, &cases, set);
            assert!(valid > 0 && invalid > 0, "{set} {rule}: {valid}/{invalid}");
            check(&pool, &cases, set);
            // one at a time and in odd-sized batches: other chunk and batch boundaries
            for size in [1, 7, 33] {
                for chunk in cases.chunks(size * 17) {
                    for part in chunk.chunks(size) {
                        check(&verifier, part, set);
                    }
                }
            }
        }
    }
}

/// What the CCTV vectors' flags say each rule decides. Every CCTV vector satisfies the
/// cofactored equation with k over the bytes as given; the flags say what else is wrong.
fn verdict_from_flags(rule: SignatureRule, flags: &[String]) -> bool {
    let has = |f: &str| flags.iter().any(|x| x == f);
    let small_order = has("low_order_A") || has("low_order_R");
    match rule {
        // dalek decodes a non-canonical A; a non-canonical R never equals compress(R');
        // a low-order residue breaks the cofactorless equation
        SignatureRule::Strict => {
            !small_order && !has("non_canonical_R") && !has("low_order_residue")
        }
        SignatureRule::Cofactored => {
            !small_order && !has("non_canonical_A") && !has("non_canonical_R")
        }
    }
}

#[test]
fn cctv_flags_decide_each_vectors_verdict_under_each_rule() {
    let path = testing::vectors_dir().join("cctv_ed25519vectors.json");
    let raw: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&path).expect("read cctv")).expect("json");
    let cases = testing::load_cctv(&path).expect("cctv");
    assert_eq!(raw.len(), cases.len());
    for rule in SignatureRule::ALL {
        let items: Vec<SigItem<'_>> = cases.iter().map(SigCase::item).collect();
        let got = CpuVerifier::with_rule(rule).verify(&items).expect("cpu");
        let mut valid = 0;
        for (i, (v, got)) in raw.iter().zip(&got).enumerate() {
            let flags: Vec<String> = v["flags"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let want = verdict_from_flags(rule, &flags);
            assert_eq!(*got, want, "{rule}: vector {i} flags {flags:?}");
            valid += usize::from(want);
        }
        assert!(valid > 20, "{rule}: {valid} valid");
    }
}

#[test]
fn the_rules_differ_both_ways() {
    // cofactored only: signatures whose equation holds only up to torsion
    let cases: Vec<SigCase> = all_vector_sets().into_iter().flat_map(|(_, c)| c).collect();
    let mut strict_only = 0;
    let mut cofactored_only = 0;
    for c in &cases {
        let s = reference_verify(&c.pubkey, &c.message, &c.signature);
        let k = cofactored_reference(&c.pubkey, &c.message, &c.signature);
        strict_only += usize::from(s && !k);
        cofactored_only += usize::from(k && !s);
    }
    assert!(cofactored_only > 100, "cofactored only {cofactored_only}");
    // strict only: a non-canonical encoding (y + p, y < 19) of a point not of small order
    // is a key dalek accepts and the cofactored rule refuses. No signature under such a key
    // is known (it would take the discrete log of a point with a tiny y), so no vector is
    // valid under strict alone: the difference is in which keys exist, shown here.
    assert_eq!(
        strict_only, 0,
        "a strict-only valid signature would be news"
    );
    let mut refused = 0;
    for y in 2u8..19 {
        let mut bytes = [0xffu8; 32];
        bytes[0] = 0xed + y;
        bytes[31] = 0x7f;
        let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&bytes) else {
            continue;
        };
        if vk.is_weak() {
            continue;
        }
        assert!(!canonical_and_large(&bytes));
        refused += 1;
    }
    assert!(
        refused > 0,
        "some y + p < 2^255 decodes to a point not of small order"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Batch ≡ single: one verifier (its failure-rate estimate carried across runs) over
    /// mixes from all valid to mostly hostile, in batches of any size.
    #[test]
    fn batched_cofactored_equals_single(
        seed in any::<u64>(),
        picks in prop::collection::vec((0usize..100, 0usize..testing::CATEGORIES.len()), 1..300),
        valid_share in 0usize..=100,
    ) {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let cases: Vec<SigCase> = picks
            .iter()
            .map(|&(roll, cat)| {
                let category = if roll < valid_share { "valid" } else { testing::CATEGORIES[cat] };
                testing::case(category, &mut rng)
            })
            .collect();
        static VERIFIER: std::sync::OnceLock<CpuVerifier> = std::sync::OnceLock::new();
        let verifier = VERIFIER.get_or_init(|| CpuVerifier::with_rule(SignatureRule::Cofactored));
        let items: Vec<SigItem<'_>> = cases.iter().map(SigCase::item).collect();
        let got = verifier.verify(&items).expect("cpu");
        for (c, v) in cases.iter().zip(&got) {
            prop_assert_eq!(
                *v,
                cofactored_reference(&c.pubkey, &c.message, &c.signature),
                "{}", c.category
            );
        }
    }
}

#[test]
fn many_fresh_signers_and_repeated_signers_agree_with_dalek() {
    use ed25519_dalek::{Signer, SigningKey};
    use rand::{RngCore, SeedableRng};
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let keys: Vec<SigningKey> = (0..40).map(|_| SigningKey::generate(&mut rng)).collect();
    let mut cases = Vec::new();
    for i in 0..1500usize {
        // a few hot signers and a stream of fresh ones
        let sk = if i % 3 == 0 {
            SigningKey::generate(&mut rng)
        } else {
            keys[i % keys.len()].clone()
        };
        let mut message = vec![0u8; (i * 7) % 300];
        rng.fill_bytes(&mut message);
        let mut signature = sk.sign(&message).to_bytes();
        if i % 11 == 0 {
            signature[i % 64] ^= 1 << (i % 8);
        }
        cases.push(SigCase {
            pubkey: sk.verifying_key().to_bytes(),
            message,
            signature,
            category: "mixed signers",
        });
    }
    for rule in SignatureRule::ALL {
        let (valid, invalid) = check(&CpuVerifier::with_rule(rule), &cases, "signers");
        assert!(valid > 1000 && invalid > 100, "{valid}/{invalid}");
    }
}
