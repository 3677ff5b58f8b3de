//! A lost device (`Device::destroy`, as a driver reset would do) in the middle of a run:
//! the work in flight is redone on the CPU with nothing lost, and a later batch runs on
//! the GPU again, on a new device with rebuilt kernels, for signatures and for hashing.
//! Its own binary: losing the device takes it from every test of the process.
//!
//! Without an adapter the test shows as ignored, except with `CI=true`, where it fails
//! (`gpu_support`).

#[path = "gpu_support/mod.rs"]
mod gpu_support;
#[path = "sig_cases/mod.rs"]
mod sig_cases;

use std::time::Duration;

use sig_cases::{items, reference, Case};

use ed25519_dalek::{Signer, SigningKey};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use txpipe::backend::{Backend, BackendChoice};
use txpipe::hash::{sha256, BackendHasher, BatchHasher};
use txpipe::sigverify::BackendVerifier;

fn cases(rng: &mut ChaCha20Rng, n: usize) -> Vec<Case> {
    (0..n)
        .map(|i| {
            let sk = SigningKey::from_bytes(&rng.gen());
            let mut message = vec![0u8; rng.gen_range(0..400)];
            rng.fill_bytes(&mut message);
            let mut signature = sk.sign(&message).to_bytes();
            if i % 3 == 0 {
                signature[40] ^= 4;
            }
            (sk.verifying_key().to_bytes(), message, signature)
        })
        .collect()
}

/// Verifies `cases` through `backend` until a batch runs on the GPU (the first batches
/// after a loss may fail over to the CPU); every batch must give the reference verdicts.
fn until_on_gpu(backend: &BackendVerifier, cases: &[Case]) -> usize {
    let items = items(cases);
    let expected = reference(cases);
    for attempt in 1..=3 {
        let mut out = vec![false; items.len()];
        let used = backend.verify_routed(&items, &mut out).expect("verify");
        assert_eq!(out, expected, "verdicts of attempt {attempt}");
        if used == Backend::Gpu {
            return attempt;
        }
    }
    panic!(
        "no batch ran on the GPU after the device loss: {:?}",
        backend.last_gpu_error()
    );
}

fn device_loss_mid_run_is_survived_and_recovered() {
    let backend = BackendVerifier::open(BackendChoice::Gpu).expect("--backend gpu opens");
    let hasher = BackendHasher::open(BackendChoice::Gpu).expect("GPU hasher opens");
    let mut rng = ChaCha20Rng::seed_from_u64(0x12_0006);
    let batch = cases(&mut rng, 96);
    assert_eq!(until_on_gpu(&backend, &batch), 1, "a healthy device");

    // 1. the device is destroyed while a batch runs on it
    let big = cases(&mut rng, 768);
    let expected = reference(&big);
    std::thread::scope(|s| {
        let running = s.spawn(|| {
            let items = items(&big);
            let mut out = vec![false; items.len()];
            backend.verify_routed(&items, &mut out).expect("verify");
            out
        });
        std::thread::sleep(Duration::from_millis(30));
        assert!(txpipe::gpu::lose_device(), "a device was open");
        let out = running.join().expect("the batch thread");
        assert_eq!(
            out, expected,
            "every signature of the batch in flight, exactly"
        );
    });

    // 2. later batches run on the GPU again: a new device, the kernel rebuilt
    let before = backend.stats();
    let recovered_after = until_on_gpu(&backend, &batch);
    let after = backend.stats();
    assert!(after.gpu_signatures > before.gpu_signatures);

    // 3. a loss between batches, seen by the next one
    assert!(txpipe::gpu::lose_device());
    let attempts = until_on_gpu(&backend, &batch);
    assert!(attempts <= 2, "{attempts} attempts");
    let stats = backend.stats();
    let total = (batch.len() * (1 + recovered_after + attempts) + big.len()) as u64;
    assert_eq!(
        stats.gpu_signatures + stats.cpu_signatures,
        total,
        "one verdict per signature, none twice: {stats:?}"
    );

    // 4. the hasher recovers the same way
    assert!(txpipe::gpu::lose_device());
    let messages: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8; 100 + i]).collect();
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let expected: Vec<[u8; 32]> = refs.iter().map(|m| sha256(m)).collect();
    let mut on_gpu = false;
    for _ in 0..3 {
        let mut out = vec![[0u8; 32]; refs.len()];
        let used = hasher.sha256_routed(&refs, &mut out).expect("hash");
        assert_eq!(out, expected);
        if used == Backend::Gpu {
            on_gpu = true;
            break;
        }
    }
    assert!(
        on_gpu,
        "hashing never came back to the GPU: {:?}",
        hasher.last_gpu_error()
    );
    assert_eq!(hasher.sha256_vec(&refs).expect("hash"), expected);
}

fn main() -> std::process::ExitCode {
    gpu_support::run(&[(
        "device_loss_mid_run_is_survived_and_recovered",
        device_loss_mid_run_is_survived_and_recovered,
    )])
}
