//! The signature rule on standard and adversarial vectors: the CPU verifier (batched, on
//! rayon) against ed25519-dalek `verify_strict` called directly in the test.

use ed25519_dalek::{Signature, VerifyingKey};
use txpipe::sigverify::{CpuVerifier, SigItem, SigVerifier};
use txpipe::testing::{self, SigCase};

/// The rule, written out here independently of the library.
fn dalek_strict(c: &SigCase) -> bool {
    VerifyingKey::from_bytes(&c.pubkey)
        .and_then(|vk| vk.verify_strict(&c.message, &Signature::from_bytes(&c.signature)))
        .is_ok()
}

fn cpu_verdicts(cases: &[SigCase]) -> Vec<bool> {
    let items: Vec<SigItem<'_>> = cases.iter().map(SigCase::item).collect();
    CpuVerifier::new()
        .verify(&items)
        .expect("cpu verifier never fails")
}

fn check(cases: &[SigCase]) -> (usize, usize) {
    let got = cpu_verdicts(cases);
    let mut accepted = 0;
    for (i, (c, v)) in cases.iter().zip(&got).enumerate() {
        assert_eq!(*v, dalek_strict(c), "case {i} ({}) {c:?}", c.category);
        accepted += usize::from(*v);
    }
    (accepted, cases.len() - accepted)
}

#[test]
fn wycheproof_vectors() {
    let path = testing::vectors_dir().join("wycheproof_ed25519_test.json");
    let (cases, skipped) = testing::load_wycheproof(&path).expect("wycheproof vectors");
    assert_eq!(cases.len() + skipped.len(), 151);
    let (accepted, rejected) = check(&cases);
    assert!(
        accepted > 0 && rejected > 0,
        "{accepted} accepted, {rejected} rejected"
    );
}

#[test]
fn cctv_vectors() {
    let path = testing::vectors_dir().join("cctv_ed25519vectors.json");
    let cases = testing::load_cctv(&path).expect("cctv vectors");
    assert_eq!(cases.len(), 914);
    check(&cases);
    // what verify_strict means, flag by flag
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let verdicts = cpu_verdicts(&cases);
    for (v, ok) in json.as_array().unwrap().iter().zip(verdicts) {
        let flags: Vec<&str> = v["flags"]
            .as_array()
            .map(|f| f.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        let must_reject = flags
            .iter()
            .any(|f| matches!(*f, "low_order_A" | "low_order_R" | "non_canonical_R"));
        if must_reject {
            assert!(!ok, "vector {} with flags {flags:?} accepted", v["number"]);
        }
    }
}

#[test]
fn adversarial_generator() {
    let cases = testing::adversarial(3000, 0x7e57);
    check(&cases);
    // each category shows up, and the discriminating ones go both ways
    for cat in testing::CATEGORIES {
        let n = cases.iter().filter(|c| c.category == *cat).count();
        assert!(n >= 150, "category {cat}: {n} cases");
    }
    let verdicts = cpu_verdicts(&cases);
    let by_cat = |cat: &str| -> (usize, usize) {
        let v: Vec<bool> = cases
            .iter()
            .zip(&verdicts)
            .filter(|(c, _)| c.category == cat)
            .map(|(_, v)| *v)
            .collect();
        let ok = v.iter().filter(|x| **x).count();
        (ok, v.len() - ok)
    };
    // mixed-order keys pass the cofactorless check for some k only
    let (ok, bad) = by_cat("mixed_order_a");
    assert!(
        ok > 0 && bad > 0,
        "mixed_order_a: {ok} accepted, {bad} rejected"
    );
    for cat in ["valid", "valid_block_edge"] {
        assert_eq!(by_cat(cat).1, 0, "{cat} rejected");
    }
    for cat in [
        "small_order_a",
        "small_order_r",
        "s_plus_l",
        "s_high_bits",
        "off_curve_a",
        "off_curve_r",
        "wrong_key",
        "mixed_order_r",
    ] {
        assert_eq!(by_cat(cat).0, 0, "{cat} accepted");
    }
}

#[test]
fn small_order_encodings_are_all_rejected_as_keys() {
    let encodings = testing::small_order_encodings();
    assert_eq!(encodings.len(), 14);
    for a in encodings {
        let c = SigCase {
            pubkey: a,
            message: b"m".to_vec(),
            signature: [0; 64],
            category: "small_order_a",
        };
        assert!(!cpu_verdicts(std::slice::from_ref(&c))[0]);
    }
}

#[test]
fn order_and_length_preserved_across_batch_sizes() {
    let cases = testing::adversarial(700, 99);
    let expected: Vec<bool> = cases.iter().map(dalek_strict).collect();
    for size in [1, 2, 15, 16, 17, 63, 64, 65, 699, 700] {
        let got = cpu_verdicts(&cases[..size]);
        assert_eq!(got, expected[..size], "batch of {size}");
    }
    let pool = CpuVerifier::with_threads(3).unwrap();
    let items: Vec<SigItem<'_>> = cases.iter().map(SigCase::item).collect();
    assert_eq!(pool.verify(&items).unwrap(), expected);
    let mut short = vec![false; 3];
    assert!(pool.verify_into(&items, &mut short).is_err());
}
