//! The one rule that must never break: the GPU verifier, the CPU verifier and
//! `reference_verify` (ed25519-dalek 2.2.0 `verify_strict`) give the same verdict on every
//! input: Wycheproof and CCTV vectors, the adversarial generator, random batches of sizes
//! 1, 63, 64, 65 and ~2000 with messages of 0..=1232 bytes (SHA-512 block edges included),
//! many keys per batch. A failed GPU batch goes to the CPU through `BackendVerifier` with
//! nothing lost and the failure counted.
//!
//! The cofactored rule (SIMD-0376 as amended) gets the same differential tests: the GPU
//! verifier opened for it, `CpuVerifier::with_rule(Cofactored)` and the independent
//! `sig_cases::cofactored_reference` agree on the same inputs (and with ed25519-zebra
//! wherever A and R are canonical and not of small order), and the two rules are shown to
//! give different GPU verdicts on some of them, so a kernel running one rule twice fails.
//!
//! One GPU context and one compiled kernel per test binary (both rules share it). Without an adapter the tests
//! show as ignored, except with `CI=true`, where they fail (`gpu_support`).

#[path = "gpu_support/mod.rs"]
mod gpu_support;
#[path = "sig_cases/mod.rs"]
mod sig_cases;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use ed25519_dalek::{Signer, SigningKey};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sig_cases::{canonical_and_large, cofactored_reference, zebra_verdict};
use txpipe::backend::{Backend, BackendChoice};
use txpipe::error::error_chain;
use txpipe::sigverify::{
    reference_verify, BackendVerifier, CpuVerifier, GpuSigVerifier, SigItem, SigVerifier,
    SignatureRule,
};
use txpipe::testing::{self, FaultInjector, SigCase};

/// Held by every test for its whole run: the tests share one device and queue, so running
/// them side by side gains nothing, and a batch queued behind another test's large batch
/// can outlast its own timeout on a slow software adapter.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The verifier shared by the tests of this binary (one kernel compilation).
fn gpu() -> Arc<GpuSigVerifier> {
    static GPU: OnceLock<Result<Arc<GpuSigVerifier>, String>> = OnceLock::new();
    match GPU.get_or_init(|| {
        let t0 = Instant::now();
        let opened = GpuSigVerifier::open()
            .map(Arc::new)
            .map_err(|e| error_chain(&e));
        eprintln!("verifier opened in {:.2?}", t0.elapsed());
        if let Ok(report) = txpipe::gpu::startup_report() {
            for p in &report.pipelines {
                eprintln!("kernel creation: {} {:.2?}", p.label, p.elapsed);
            }
        }
        opened
    }) {
        Ok(g) => Arc::clone(g),
        Err(e) => panic!("a GPU adapter exists but the verifier does not open: {e}"),
    }
}

/// A verifier of the cofactored rule on the same device and kernel as [`gpu`].
fn gpu_cofactored() -> Arc<GpuSigVerifier> {
    static GPU: OnceLock<Result<Arc<GpuSigVerifier>, String>> = OnceLock::new();
    let _ = gpu(); // the kernel is built (and timed) by the strict verifier
    match GPU.get_or_init(|| {
        GpuSigVerifier::open_with_rule(SignatureRule::Cofactored)
            .map(Arc::new)
            .map_err(|e| error_chain(&e))
    }) {
        Ok(g) => Arc::clone(g),
        Err(e) => panic!("the cofactored verifier does not open: {e}"),
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

/// How the cofactored verdicts of a set of cases differ from the strict ones.
#[derive(Debug, Default, Clone, Copy)]
struct RuleDiff {
    /// Valid under the cofactored rule only (a torsion component in A or R).
    cofactored_only: usize,
    /// Valid under the strict rule only (needs a non-canonical A).
    strict_only: usize,
}

/// GPU (cofactored) == CPU (cofactored) == `cofactored_reference` on `cases`, and
/// ed25519-zebra agrees wherever A and R are canonical and not of small order. Returns how
/// the cofactored verdicts differ from the strict reference's.
fn check_cofactored(gpu: &dyn SigVerifier, cases: &[SigCase], what: &str) -> RuleDiff {
    assert_eq!(
        gpu.rule(),
        SignatureRule::Cofactored,
        "{what}: wrong verifier"
    );
    let items = items(cases);
    let reference: Vec<bool> = cases
        .iter()
        .map(|c| cofactored_reference(&c.pubkey, &c.message, &c.signature))
        .collect();
    let on_gpu = gpu.verify(&items).expect("GPU batch failed");
    let cpu = CpuVerifier::with_rule(SignatureRule::Cofactored);
    assert_eq!(cpu.rule(), SignatureRule::Cofactored);
    let on_cpu = cpu.verify(&items).expect("CPU batch failed");
    let mut bad = Vec::new();
    let mut diff = RuleDiff::default();
    let mut zebra_checked = 0;
    for (i, c) in cases.iter().enumerate() {
        let r_bytes: [u8; 32] = c.signature[..32].try_into().expect("32 bytes");
        if canonical_and_large(&c.pubkey) && canonical_and_large(&r_bytes) {
            zebra_checked += 1;
            let zebra = zebra_verdict(&c.pubkey, &c.message, &c.signature);
            assert_eq!(
                zebra, reference[i],
                "{what} #{i} {}: zebra and cofactored_reference differ",
                c.category
            );
        }
        let strict = reference_verify(&c.pubkey, &c.message, &c.signature);
        match (strict, reference[i]) {
            (false, true) => diff.cofactored_only += 1,
            (true, false) => {
                diff.strict_only += 1;
                assert!(
                    !canonical_and_large(&c.pubkey),
                    "{what} #{i}: strict-only valid with a canonical A"
                );
            }
            _ => {}
        }
        if on_gpu[i] != reference[i] || on_cpu[i] != reference[i] {
            bad.push(format!(
                "#{i} {}: cofactored reference {} gpu {} cpu {} (strict {strict}) pk {} sig {} msg_len {}",
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
        "{what} (cofactored): {} of {} verdicts differ:\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
    eprintln!(
        "{what} (cofactored): {} cases agree ({} valid; {zebra_checked} also against zebra; \
         valid under cofactored only {}, under strict only {})",
        cases.len(),
        reference.iter().filter(|v| **v).count(),
        diff.cofactored_only,
        diff.strict_only,
    );
    diff
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
    let _serial = serial();
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
    let _serial = serial();
    let gpu = gpu();
    let path = testing::vectors_dir().join("cctv_ed25519vectors.json");
    let cases = testing::load_cctv(&path).expect("cctv vectors");
    assert!(cases.len() >= 900, "only {} cctv cases", cases.len());
    check_all(gpu.as_ref(), &cases, "cctv");
}

fn adversarial_generator_agrees() {
    let _serial = serial();
    let gpu = gpu();
    let cases = testing::adversarial(testing::CATEGORIES.len() * 40, 0x5eed_0003);
    check_all(gpu.as_ref(), &cases, "adversarial");
}

fn sha512_block_edges_agree() {
    let _serial = serial();
    check_all(gpu().as_ref(), &block_edge_cases(7), "block edges");
}

/// A valid and a random case for each message length putting R || A || M (R || A is 64
/// bytes) at 111/112/127/128 and 239/240/255/256 bytes, and the largest packet.
fn block_edge_cases(seed: u64) -> Vec<SigCase> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut cases = Vec::new();
    for len in [
        0, 1, 3, 4, 46, 47, 48, 49, 63, 64, 65, 174, 175, 176, 177, 191, 192, 1231, 1232,
    ] {
        cases.push(signed(&mut rng, len));
        cases.push(random_case(&mut rng, len));
    }
    cases
}

/// `size` random cases with messages of 0..=1232 bytes.
fn random_batch(rng: &mut ChaCha20Rng, size: usize) -> Vec<SigCase> {
    (0..size)
        .map(|_| {
            let len = rng.gen_range(0..=1232);
            random_case(rng, len)
        })
        .collect()
}

fn random_batches_agree() {
    let _serial = serial();
    let gpu = gpu();
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    for size in [1usize, 63, 64, 65, 2000] {
        let cases = random_batch(&mut rng, size);
        check_all(gpu.as_ref(), &cases, &format!("random batch of {size}"));
    }
}

fn many_small_chunks_agree() {
    let _serial = serial();
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

/// The Wycheproof cases a 64-byte verifier can be asked about.
fn wycheproof_cases() -> Vec<SigCase> {
    let path = testing::vectors_dir().join("wycheproof_ed25519_test.json");
    let (cases, _) = testing::load_wycheproof(&path).expect("wycheproof vectors");
    assert!(cases.len() >= 130, "only {} wycheproof cases", cases.len());
    cases
}

fn cofactored_wycheproof_vectors_agree() {
    let _serial = serial();
    check_cofactored(gpu_cofactored().as_ref(), &wycheproof_cases(), "wycheproof");
}

fn cofactored_cctv_vectors_agree() {
    let _serial = serial();
    let path = testing::vectors_dir().join("cctv_ed25519vectors.json");
    let cases = testing::load_cctv(&path).expect("cctv vectors");
    assert!(cases.len() >= 900, "only {} cctv cases", cases.len());
    check_cofactored(gpu_cofactored().as_ref(), &cases, "cctv");
}

fn cofactored_adversarial_generator_agrees() {
    let _serial = serial();
    let cases = testing::adversarial(testing::CATEGORIES.len() * 40, 0x5eed_0003);
    let diff = check_cofactored(gpu_cofactored().as_ref(), &cases, "adversarial");
    assert!(
        diff.cofactored_only > 0,
        "the mixed-order cases must include some valid under the cofactored rule only"
    );
}

fn cofactored_sha512_block_edges_agree() {
    let _serial = serial();
    check_cofactored(
        gpu_cofactored().as_ref(),
        &block_edge_cases(17),
        "block edges",
    );
}

fn cofactored_random_batches_agree() {
    let _serial = serial();
    let gpu = gpu_cofactored();
    let mut rng = ChaCha20Rng::seed_from_u64(18);
    for size in [1usize, 63, 64, 65, 1000] {
        let cases = random_batch(&mut rng, size);
        check_cofactored(gpu.as_ref(), &cases, &format!("random batch of {size}"));
    }
}

fn cofactored_small_chunks_agree() {
    let _serial = serial();
    // The builder path, and chunks of 16 (double-buffered submit / read-back) with the rule.
    let small = GpuSigVerifier::open()
        .expect("second verifier")
        .with_chunk_size(16)
        .with_rule(SignatureRule::Cofactored);
    assert_eq!(small.rule(), SignatureRule::Cofactored);
    let mut cases = testing::adversarial(testing::CATEGORIES.len() * 4, 19);
    let mut rng = ChaCha20Rng::seed_from_u64(19);
    cases.extend((0..37).map(|i| random_case(&mut rng, (i * 37) % 1233)));
    check_cofactored(&small, &cases, "cofactored in chunks of 16");
}

/// The two rules run on the one kernel and give different verdicts on the same batch:
/// every GPU difference is a reference difference and the other way round, and there are
/// some (valid under the cofactored rule only: a torsion component in A or R). The other
/// direction (valid under the strict rule only) needs a valid signature under a
/// non-canonical A, i.e. the discrete logarithm of a point with y < 19: none can be built,
/// and none occurs in the vectors (`check_cofactored` counts them).
fn rules_differ_on_the_gpu() {
    let _serial = serial();
    let strict = gpu();
    let cofactored = gpu_cofactored();
    assert_eq!(strict.rule(), SignatureRule::Strict);
    assert_eq!(cofactored.rule(), SignatureRule::Cofactored);
    let mut cases = testing::adversarial(testing::CATEGORIES.len() * 20, 0x5eed_0021);
    let path = testing::vectors_dir().join("cctv_ed25519vectors.json");
    cases.extend(testing::load_cctv(&path).expect("cctv vectors"));
    cases.extend(wycheproof_cases());
    let items = items(&cases);
    let on_strict = strict.verify(&items).expect("strict GPU batch");
    let on_cofactored = cofactored.verify(&items).expect("cofactored GPU batch");
    let (mut cofactored_only, mut strict_only) = (0, 0);
    for (i, c) in cases.iter().enumerate() {
        let want_strict = reference_verify(&c.pubkey, &c.message, &c.signature);
        let want_cofactored = cofactored_reference(&c.pubkey, &c.message, &c.signature);
        assert_eq!(on_strict[i], want_strict, "#{i} {} strict", c.category);
        assert_eq!(
            on_cofactored[i], want_cofactored,
            "#{i} {} cofactored",
            c.category
        );
        match (on_strict[i], on_cofactored[i]) {
            (false, true) => cofactored_only += 1,
            (true, false) => strict_only += 1,
            _ => {}
        }
    }
    eprintln!(
        "rules on the GPU, {} cases: valid under cofactored only {cofactored_only}, \
         under strict only {strict_only}",
        cases.len()
    );
    assert!(
        cofactored_only > 0,
        "the rules must differ on mixed-order cases"
    );
}

fn injected_gpu_failure_falls_back_to_cpu() {
    let _serial = serial();
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
    let _serial = serial();
    let gpu = gpu();
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let cases = vec![signed(&mut rng, 10)];
    let items = items(&cases);
    let mut out = vec![false; 2];
    assert!(gpu.verify_into(&items, &mut out).is_err());
}

fn backend_gpu_choice_uses_the_gpu_and_agrees() {
    let _serial = serial();
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

/// Throughput of one 4,096-signature batch (valid and corrupted signatures, 0..=1232-byte
/// messages) under each rule, printed; runs only with `TXPIPE_GPU_THROUGHPUT=1` (slow on
/// lavapipe, and meaningless there as a GPU figure).
fn throughput_4096() {
    let _serial = serial();
    if std::env::var("TXPIPE_GPU_THROUGHPUT").as_deref() != Ok("1") {
        eprintln!("throughput_4096: skipped (set TXPIPE_GPU_THROUGHPUT=1)");
        return;
    }
    let mut rng = ChaCha20Rng::seed_from_u64(4096);
    let cases: Vec<SigCase> = (0..4096)
        .map(|_| {
            let len = rng.gen_range(0..=1232);
            random_case(&mut rng, len)
        })
        .collect();
    let items = items(&cases);
    for gpu in [gpu(), gpu_cofactored()] {
        let t0 = Instant::now();
        let verdicts = gpu.verify(&items).expect("GPU batch failed");
        let elapsed = t0.elapsed();
        eprintln!(
            "throughput_4096 {} ({}): {:.2?}, {:.0} signatures/s, {} valid",
            gpu.rule(),
            gpu.adapter_label(),
            elapsed,
            4096.0 / elapsed.as_secs_f64(),
            verdicts.iter().filter(|v| **v).count()
        );
    }
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
        (
            "cofactored_wycheproof_vectors_agree",
            cofactored_wycheproof_vectors_agree,
        ),
        (
            "cofactored_cctv_vectors_agree",
            cofactored_cctv_vectors_agree,
        ),
        (
            "cofactored_adversarial_generator_agrees",
            cofactored_adversarial_generator_agrees,
        ),
        (
            "cofactored_sha512_block_edges_agree",
            cofactored_sha512_block_edges_agree,
        ),
        (
            "cofactored_random_batches_agree",
            cofactored_random_batches_agree,
        ),
        (
            "cofactored_small_chunks_agree",
            cofactored_small_chunks_agree,
        ),
        ("rules_differ_on_the_gpu", rules_differ_on_the_gpu),
        ("throughput_4096", throughput_4096),
    ])
}
