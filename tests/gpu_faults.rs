//! The GPU signature path exact for every input length, and alive after real faults
//! (lavapipe in CI): messages of 0 B to 1 MiB, valid and invalid, give dalek's verdicts
//! under `--backend gpu` (messages over the kernel's per-invocation cap are verified on the
//! CPU, counted as a routing); a 1 ms timeout and a batch past the binding limit lose
//! nothing and leave the verifier usable. Device loss has its own binary
//! (`gpu_device_loss`), since it takes the device from every test of its process.
//!
//! Without an adapter the tests show as ignored, except with `CI=true`, where they fail
//! (`gpu_support`).

#[path = "gpu_support/mod.rs"]
mod gpu_support;
#[path = "sig_cases/mod.rs"]
mod sig_cases;

use std::sync::Arc;
use std::time::Duration;

use sig_cases::{items, reference, Case};

use ed25519_dalek::{Signer, SigningKey};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use txpipe::backend::{Backend, BackendChoice, Breaker};
use txpipe::gpu::GpuTimeout;
use txpipe::sigverify::{
    reference_verify, BackendVerifier, CpuVerifier, GpuSigVerifier, SigItem, SigVerifier,
    SigVerifyError, MAX_MESSAGE_BYTES,
};

/// A valid signature over `len` random bytes and a corrupted one (message or signature).
fn pair(rng: &mut ChaCha20Rng, len: usize) -> [Case; 2] {
    let sk = SigningKey::from_bytes(&rng.gen());
    let mut message = vec![0u8; len];
    rng.fill_bytes(&mut message);
    let signature = sk.sign(&message).to_bytes();
    let pk = sk.verifying_key().to_bytes();
    let mut bad = (pk, message.clone(), signature);
    if len > 0 {
        let i = rng.gen_range(0..len);
        bad.1[i] ^= 0x40;
    } else {
        bad.2[rng.gen_range(0..32)] ^= 1;
    }
    [(pk, message, signature), bad]
}

/// Message lengths from empty to 1 MiB: SHA-512 block edges, the cap and around it, where
/// llvmpipe's loop limiter starts to corrupt an uncapped kernel (~63.6 KB), and beyond.
fn lengths() -> Vec<usize> {
    vec![
        0,
        1,
        63,
        64,
        111,
        112,
        127,
        128,
        129,
        239,
        240,
        1232,
        4096,
        MAX_MESSAGE_BYTES - 1,
        MAX_MESSAGE_BYTES,
        MAX_MESSAGE_BYTES + 1,
        20_000,
        63_576,
        63_640,
        100_000,
        300_000,
        1 << 20,
    ]
}

fn open_gpu() -> GpuSigVerifier {
    GpuSigVerifier::open().unwrap_or_else(|e| {
        panic!(
            "a GPU adapter exists but the verifier does not open: {}",
            txpipe::error::error_chain(&e)
        )
    })
}

fn every_length_up_to_1_mib_equals_dalek() {
    let mut rng = ChaCha20Rng::seed_from_u64(0x12_0001);
    let cases: Vec<Case> = lengths()
        .into_iter()
        .flat_map(|l| pair(&mut rng, l))
        .collect();
    let items = items(&cases);
    let expected = reference(&cases);
    assert!(expected.iter().filter(|&&v| v).count() == lengths().len());

    // the kernel itself: every message up to the cap verified exactly, a longer one an
    // error, never a verdict
    let gpu = open_gpu();
    assert_eq!(gpu.max_message_len(), MAX_MESSAGE_BYTES);
    let (small, big): (Vec<usize>, Vec<usize>) =
        (0..cases.len()).partition(|&i| cases[i].1.len() <= MAX_MESSAGE_BYTES);
    let small_items: Vec<SigItem<'_>> = small.iter().map(|&i| items[i]).collect();
    let on_gpu = gpu.verify(&small_items).expect("GPU batch");
    for (k, &i) in small.iter().enumerate() {
        assert_eq!(
            on_gpu[k],
            expected[i],
            "GPU verdict for a {}-byte message",
            cases[i].1.len()
        );
    }
    for &i in &big {
        assert!(matches!(
            gpu.verify(&items[i..=i]),
            Err(SigVerifyError::Unsupported(_))
        ));
    }

    // `--backend gpu`: the long ones go to the CPU as a routing, in the same batch
    let backend =
        BackendVerifier::from_parts(BackendChoice::Gpu, CpuVerifier::new(), Some(Box::new(gpu)));
    let mut out = vec![false; items.len()];
    let used = backend.verify_routed(&items, &mut out).expect("verify");
    assert_eq!(used, Backend::Gpu);
    assert_eq!(out, expected);
    let stats = backend.stats();
    assert_eq!(stats.gpu_failures, 0, "{:?}", backend.last_gpu_error());
    assert_eq!(stats.oversized_on_cpu, big.len() as u64);
    assert_eq!(stats.gpu_signatures, small.len() as u64);
    assert_eq!(stats.cpu_signatures, big.len() as u64);
}

fn cli_verify_sigs_gpu_equals_cpu_up_to_1_mib() {
    let mut rng = ChaCha20Rng::seed_from_u64(0x12_0002);
    let mut input = String::new();
    let mut expected = Vec::new();
    for case in lengths().into_iter().flat_map(|l| pair(&mut rng, l)) {
        expected.push(reference_verify(&case.0, &case.1, &case.2));
        input.push_str(&format!(
            "{{\"pubkey\":\"{}\",\"message\":\"{}\",\"signature\":\"{}\"}}\n",
            hex::encode(case.0),
            hex::encode(&case.1),
            hex::encode(case.2)
        ));
    }
    let dir = std::env::temp_dir().join(format!("txpipe-gpu-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("sigs.jsonl");
    std::fs::write(&file, input).expect("write input");
    let run = |backend: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_txpipe"))
            .args(["verify-sigs", "--backend", backend])
            .arg(&file)
            .output()
            .expect("run txpipe");
        assert!(
            out.status.success(),
            "verify-sigs --backend {backend}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    };
    let (gpu, cpu) = (run("gpu"), run("cpu"));
    let _ = std::fs::remove_dir_all(&dir);
    let differ: Vec<(&str, &str)> = gpu
        .lines()
        .zip(cpu.lines())
        .filter(|(g, c)| g != c)
        .collect();
    assert!(
        differ.is_empty() && gpu.lines().count() == cpu.lines().count(),
        "--backend gpu and --backend cpu differ: {differ:?}"
    );
    let verdicts: Vec<bool> = gpu
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            v["valid"].as_bool().expect("a verdict on every line")
        })
        .collect();
    assert_eq!(verdicts, expected);
}

fn a_1ms_timeout_falls_back_and_the_verifier_recovers() {
    let gpu = Arc::new(open_gpu());
    let normal = gpu.timeout();
    gpu.set_timeout(GpuTimeout {
        base: Duration::from_millis(1),
        per_item: Duration::ZERO,
    });
    let backend = BackendVerifier::from_parts(
        BackendChoice::Gpu,
        CpuVerifier::new(),
        Some(Box::new(Arc::clone(&gpu))),
    );
    let mut rng = ChaCha20Rng::seed_from_u64(0x12_0003);
    // enough work that no adapter finishes it in a millisecond (lavapipe: ~1 s)
    let cases: Vec<Case> = (0..512).flat_map(|i| pair(&mut rng, i % 300)).collect();
    let items = items(&cases);
    let expected = reference(&cases);

    let mut out = vec![false; items.len()];
    // (the device is shared with this binary's other tests, running in parallel: a wait
    // can queue behind another test's and find its batch done, so a batch may beat the
    // timeout; one of a few must not)
    let mut fell_back = false;
    for _ in 0..5 {
        let used = backend.verify_routed(&items, &mut out).expect("fall-back");
        assert_eq!(out, expected, "verdicts after a timeout");
        if used == Backend::Cpu {
            fell_back = true;
            break;
        }
    }
    assert!(fell_back, "no batch timed out");
    let stats = backend.stats();
    assert_eq!(stats.gpu_failures, 1);
    assert_eq!(stats.cpu_signatures, items.len() as u64);
    let error = backend.last_gpu_error().unwrap_or_default();
    assert!(error.contains("did not finish"), "{error}");

    // the same verifier, with its timeout back, runs the next batch on the GPU
    gpu.set_timeout(normal);
    let mut out = vec![false; items.len()];
    let used = backend.verify_routed(&items, &mut out).expect("verify");
    assert_eq!(used, Backend::Gpu, "{:?}", backend.last_gpu_error());
    assert_eq!(out, expected);
    assert_eq!(
        backend.stats().gpu_signatures,
        stats.gpu_signatures + items.len() as u64
    );
}

fn a_batch_past_the_binding_limit_is_split() {
    let mut rng = ChaCha20Rng::seed_from_u64(0x12_0004);
    // 300 packets of 1,232 bytes: ~370 KB of messages, bound 64 KiB at a time
    let cases: Vec<Case> = (0..150).flat_map(|_| pair(&mut rng, 1232)).collect();
    let items = items(&cases);
    let expected = reference(&cases);
    let gpu = open_gpu().with_binding_limit(64 * 1024);
    assert_eq!(gpu.max_message_len(), MAX_MESSAGE_BYTES);
    let backend =
        BackendVerifier::from_parts(BackendChoice::Gpu, CpuVerifier::new(), Some(Box::new(gpu)));
    let mut out = vec![false; items.len()];
    assert_eq!(
        backend.verify_routed(&items, &mut out).ok(),
        Some(Backend::Gpu)
    );
    assert_eq!(out, expected);
    let stats = backend.stats();
    assert_eq!(
        (stats.gpu_signatures, stats.gpu_failures),
        (items.len() as u64, 0)
    );

    // a binding limit below the cap lowers the message limit with it: longer messages are
    // routed to the CPU, not failed
    let gpu = open_gpu().with_binding_limit(8 * 1024);
    let limit = gpu.max_message_len();
    assert!(limit < 8 * 1024, "{limit}");
    let cases: Vec<Case> = [100, limit, limit + 1, 12_000]
        .into_iter()
        .flat_map(|l| pair(&mut rng, l))
        .collect();
    let items = self::items(&cases);
    let backend =
        BackendVerifier::from_parts(BackendChoice::Gpu, CpuVerifier::new(), Some(Box::new(gpu)));
    let mut out = vec![false; items.len()];
    backend.verify_routed(&items, &mut out).expect("verify");
    assert_eq!(out, reference(&cases));
    let stats = backend.stats();
    assert_eq!(stats.gpu_failures, 0);
    assert_eq!(stats.oversized_on_cpu, 4);
}

fn a_persistently_failing_gpu_trips_the_breaker_and_is_tried_again() {
    let gpu = Arc::new(open_gpu());
    let normal = gpu.timeout();
    gpu.set_timeout(GpuTimeout {
        base: Duration::ZERO,
        per_item: Duration::ZERO,
    });
    let backend = BackendVerifier::from_parts(
        BackendChoice::Gpu,
        CpuVerifier::new(),
        Some(Box::new(Arc::clone(&gpu))),
    )
    .with_breaker(Breaker {
        threshold: 2,
        cool_down: Duration::from_millis(300),
    });
    let mut rng = ChaCha20Rng::seed_from_u64(0x12_0005);
    let cases: Vec<Case> = (0..256).flat_map(|_| pair(&mut rng, 200)).collect();
    let items = items(&cases);
    let expected = reference(&cases);
    let mut out = vec![false; items.len()];
    // A zero timeout fails every batch that is still running when its wait starts. The
    // device is shared with the other tests of this binary, running in parallel: a wait
    // can queue behind another test's (wgpu serialises polls), and find its batch done.
    // So the breaker must open within a few batches, not necessarily after exactly two.
    let mut calls = 0;
    while !backend.breaker_open() && calls < 10 {
        backend.verify_routed(&items, &mut out).expect("fall-back");
        assert_eq!(out, expected);
        calls += 1;
    }
    assert!(backend.breaker_open(), "no trip after {calls} batches");
    let before = backend.stats();
    assert!(before.gpu_failures >= 2, "{before:?}");
    assert_eq!(before.gpu_breaker_trips, 1);
    // open: the batch goes straight to the CPU, no GPU attempt, no new failure
    assert_eq!(backend.route(items.len()), Backend::Cpu);
    backend.verify_routed(&items, &mut out).expect("cpu");
    assert_eq!(out, expected);
    assert_eq!(backend.stats().gpu_failures, before.gpu_failures);
    // after the cool-down, with the GPU healthy again, it is used again
    gpu.set_timeout(normal);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        backend.verify_routed(&items, &mut out).ok(),
        Some(Backend::Gpu)
    );
    assert_eq!(out, expected);
    assert!(!backend.breaker_open());
}

fn main() -> std::process::ExitCode {
    gpu_support::run(&[
        (
            "every_length_up_to_1_mib_equals_dalek",
            every_length_up_to_1_mib_equals_dalek,
        ),
        (
            "cli_verify_sigs_gpu_equals_cpu_up_to_1_mib",
            cli_verify_sigs_gpu_equals_cpu_up_to_1_mib,
        ),
        (
            "a_1ms_timeout_falls_back_and_the_verifier_recovers",
            a_1ms_timeout_falls_back_and_the_verifier_recovers,
        ),
        (
            "a_batch_past_the_binding_limit_is_split",
            a_batch_past_the_binding_limit_is_split,
        ),
        (
            "a_persistently_failing_gpu_trips_the_breaker_and_is_tried_again",
            a_persistently_failing_gpu_trips_the_breaker_and_is_tried_again,
        ),
    ])
}
