//! The one rule that must never break: the GPU verifier, the CPU verifier and
//! `reference_verify` (ed25519-dalek 2.2.0 `verify_strict`) give the same verdict on every
//! input: Wycheproof and CCTV vectors, the adversarial generator, random batches of sizes
//! 1, 63, 64, 65 and ~2000 with messages of 0..=1232 bytes (SHA-512 block edges included),
//! many keys per batch. A failed GPU batch goes to the CPU through `BackendVerifier` with
//! nothing lost and the failure counted.
//!
//! One GPU context and one compiled kernel per test binary. Without an adapter the tests
//! show as ignored, except with `CI=true`, where they fail (`gpu_support`).

#[path = "gpu_support/mod.rs"]
mod gpu_support;

use std::sync::{Arc, OnceLock};

use ed25519_dalek::{Signer, SigningKey};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use txpipe::backend::{Backend, BackendChoice};
use txpipe::error::error_chain;
use txpipe::sigverify::{
    reference_verify, BackendVerifier, CpuVerifier, GpuSigVerifier, SigItem, SigVerifier,
};
use txpipe::testing::{self, FaultInjector, SigCase};

/// The verifier shared by the tests of this binary (one kernel compilation).
fn gpu() -> Arc<GpuSigVerifier> {
    static GPU: OnceLock<Result<Arc<GpuSigVerifier>, String>> = OnceLock::new();
    match GPU.get_or_init(|| {
        GpuSigVerifier::open()
            .map(Arc::new)
            .map_err(|e| error_chain(&e))
    }) {
        Ok(g) => Arc::clone(g),
        Err(e) => panic!("a GPU adapter exists but the verifier does not open: {e}"),
    }
}

fn items(cases: &[SigCase]) -> Vec<SigItem<'_>> {
    cases.iter().map(SigCase::item).collect()
}

/// GPU == CPU == reference on `cases`, with a readable report of every disagreement.
fn check_all(gpu: &dyn SigVerifier, cases: &[SigCase], what: &str) {
    let items = items(cases);
    let reference: Vec<bool> = cases
        .iter()
        .map(|c| reference_verify(&c.pubkey, &c.message, &c.signature))
        .collect();
    let on_gpu = gpu.verify(&items).expect("GPU batch failed");
    let on_cpu = CpuVerifier::new().verify(&items).expect("CPU batch failed");
    let mut bad = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        if on_gpu[i] != reference[i] || on_cpu[i] != reference[i] {
            bad.push(format!(
                "#{i} {}: reference {} gpu {} cpu {} pk {} sig {} msg_len {}",
                c.category,
                reference[i],
                on_gpu[i],
                on_cpu[i],
                hex::encode(c.pubkey),
                hex::encode(c.signature),
                c.message.len()
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{what}: {} of {} verdicts differ:\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
    eprintln!(
        "{what}: {} cases agree ({} valid)",
        cases.len(),
        reference.iter().filter(|v| **v).count()
    );
}

fn signed(rng: &mut ChaCha20Rng, len: usize) -> SigCase {
    let sk = SigningKey::from_bytes(&rng.gen());
    let mut message = vec![0u8; len];
    rng.fill_bytes(&mut message);
    let signature = sk.sign(&message).to_bytes();
    SigCase {
        pubkey: sk.verifying_key().to_bytes(),
        message,
        signature,
        category: "random_signed",
    }
}

/// A valid signature, or one of a few corruptions of it (so batches mix verdicts).
fn random_case(rng: &mut ChaCha20Rng, len: usize) -> SigCase {
    let mut c = signed(rng, len);
    match rng.gen_range(0..4) {
        0 => {
            let bit = rng.gen_range(0..512);
            c.signature[bit / 8] ^= 1 << (bit % 8);
            c.category = "sig_bit_flip";
        }
        1 if !c.message.is_empty() => {
            let i = rng.gen_range(0..c.message.len());
            c.message[i] ^= 1;
            c.category = "msg_bit_flip";
        }
        _ => {}
    }
    c
}

fn wycheproof_vectors_agree() {
    let gpu = gpu();
    let path = testing::vectors_dir().join("wycheproof_ed25519_test.json");
    let (cases, skipped) = testing::load_wycheproof(&path).expect("wycheproof vectors");
    assert!(
        cases.len() + skipped.len() >= 150 && cases.len() >= 130,
        "only {} wycheproof cases ({} skipped)",
        cases.len(),
        skipped.len()
    );
    eprintln!("wycheproof: {} skipped (wrong lengths)", skipped.len());
    check_all(gpu.as_ref(), &cases, "wycheproof");
}

fn cctv_vectors_agree() {
    let gpu = gpu();
    let path = testing::vectors_dir().join("cctv_ed25519vectors.json");
    let cases = testing::load_cctv(&path).expect("cctv vectors");
    assert!(cases.len() >= 900, "only {} cctv cases", cases.len());
    check_all(gpu.as_ref(), &cases, "cctv");
}

fn adversarial_generator_agrees() {
    let gpu = gpu();
    let cases = testing::adversarial(testing::CATEGORIES.len() * 40, 0x5eed_0003);
    check_all(gpu.as_ref(), &cases, "adversarial");
}

fn sha512_block_edges_agree() {
    let gpu = gpu();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    // R || A is 64 bytes: message lengths putting R || A || M at 111/112/127/128 and
    // 239/240/255/256 bytes, and the largest packet.
    let mut cases = Vec::new();
    for len in [
        0, 1, 3, 4, 46, 47, 48, 49, 63, 64, 65, 174, 175, 176, 177, 191, 192, 1231, 1232,
    ] {
        cases.push(signed(&mut rng, len));
        cases.push(random_case(&mut rng, len));
    }
    check_all(gpu.as_ref(), &cases, "block edges");
}

fn random_batches_agree() {
    let gpu = gpu();
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    for size in [1usize, 63, 64, 65, 2000] {
        let cases: Vec<SigCase> = (0..size)
            .map(|_| {
                let len = rng.gen_range(0..=1232);
                random_case(&mut rng, len)
            })
            .collect();
        check_all(gpu.as_ref(), &cases, &format!("random batch of {size}"));
    }
}

fn many_small_chunks_agree() {
    // Chunks of 16: exercises the double-buffered submit / read-back path and buffer reuse.
    let small = GpuSigVerifier::open()
        .expect("second verifier")
        .with_chunk_size(16);
    assert_eq!(small.chunk_size(), 16);
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    for size in [100usize, 37] {
        let cases: Vec<SigCase> = (0..size)
            .map(|i| random_case(&mut rng, (i * 37) % 1233))
            .collect();
        check_all(&small, &cases, &format!("{size} in chunks of 16"));
    }
    let empty: Vec<SigItem<'_>> = Vec::new();
    assert!(small.verify(&empty).expect("empty batch").is_empty());
}

fn injected_gpu_failure_falls_back_to_cpu() {
    let (faulty, faults) = FaultInjector::new(gpu());
    let backend = BackendVerifier::from_parts(
        BackendChoice::Gpu,
        CpuVerifier::new(),
        Some(Box::new(faulty)),
    );
    let cases = testing::adversarial(testing::CATEGORIES.len() * 2, 11);
    let items = items(&cases);
    let reference: Vec<bool> = cases
        .iter()
        .map(|c| reference_verify(&c.pubkey, &c.message, &c.signature))
        .collect();

    faults.fail_next(1);
    let mut out = vec![false; items.len()];
    let used = backend.verify_routed(&items, &mut out).expect("fallback");
    assert_eq!(used, Backend::Cpu);
    assert_eq!(out, reference, "verdicts after a GPU failure");
    let stats = backend.stats();
    assert_eq!(stats.gpu_failures, 1);
    assert_eq!(stats.cpu_signatures, items.len() as u64);
    assert!(backend
        .last_gpu_error()
        .is_some_and(|e| e.contains("injected")));

    // The fault is consumed: the next batch runs on the GPU, with the same verdicts.
    let mut out = vec![false; items.len()];
    let used = backend.verify_routed(&items, &mut out).expect("gpu");
    assert_eq!(used, Backend::Gpu);
    assert_eq!(out, reference);
    let stats = backend.stats();
    assert_eq!(stats.gpu_failures, 1);
    assert_eq!(stats.gpu_signatures, items.len() as u64);
}

fn mismatched_lengths_are_an_error_not_a_verdict() {
    let gpu = gpu();
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let cases = vec![signed(&mut rng, 10)];
    let items = items(&cases);
    let mut out = vec![false; 2];
    assert!(gpu.verify_into(&items, &mut out).is_err());
}

fn backend_gpu_choice_uses_the_gpu_and_agrees() {
    let backend = BackendVerifier::open(BackendChoice::Gpu).expect("--backend gpu must open");
    let cases = testing::adversarial(testing::CATEGORIES.len() * 3, 13);
    let items = items(&cases);
    let mut out = vec![false; items.len()];
    let used = backend.verify_routed(&items, &mut out).expect("verify");
    assert_eq!(used, Backend::Gpu);
    let reference: Vec<bool> = cases
        .iter()
        .map(|c| reference_verify(&c.pubkey, &c.message, &c.signature))
        .collect();
    assert_eq!(out, reference);
    assert_eq!(backend.stats().gpu_signatures, items.len() as u64);
    assert_eq!(backend.stats().gpu_failures, 0);
}

fn main() -> std::process::ExitCode {
    gpu_support::run(&[
        ("wycheproof_vectors_agree", wycheproof_vectors_agree),
        ("cctv_vectors_agree", cctv_vectors_agree),
        ("adversarial_generator_agrees", adversarial_generator_agrees),
        ("sha512_block_edges_agree", sha512_block_edges_agree),
        ("random_batches_agree", random_batches_agree),
        ("many_small_chunks_agree", many_small_chunks_agree),
        (
            "injected_gpu_failure_falls_back_to_cpu",
            injected_gpu_failure_falls_back_to_cpu,
        ),
        (
            "mismatched_lengths_are_an_error_not_a_verdict",
            mismatched_lengths_are_an_error_not_a_verdict,
        ),
        (
            "backend_gpu_choice_uses_the_gpu_and_agrees",
            backend_gpu_choice_uses_the_gpu_and_agrees,
        ),
    ])
}
