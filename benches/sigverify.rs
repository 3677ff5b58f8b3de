//! Signature verification.
//!
//! `sigverify_rules`: the comparison, 4,096 signatures with 200-byte messages, on
//! rayon's pool (all threads): a rayon loop of dalek `verify_strict` (`dalek_rayon`)
//! beside `CpuVerifier` with the strict rule (`strict`, same verdicts) and the cofactored
//! rule (`cofactored`), with repeated signers (256 keys, as in the bench workload) and with
//! all-fresh keys (4,096 keys, and a new verifier, so an empty key cache, per iteration).
//!
//! `sigverify`: by batch size, the plain single-threaded dalek loop, the CPU verifier and
//! the GPU verifier when an adapter exists.
//!
//! On a machine with only a software renderer (llvmpipe), the GPU figures are CPU emulation
//! and say nothing about GPU speed. `TXPIPE_BENCH_GPU_MAX` caps the GPU batch sizes
//! (default 1024; the software renderer is slow).

use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use ed25519_dalek::{Signer, SigningKey};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use txpipe::sigverify::{reference_verify, CpuVerifier, SigItem, SigVerifier, SignatureRule};

struct Case {
    pubkey: [u8; 32],
    message: Vec<u8>,
    signature: [u8; 64],
}

fn cases(n: usize) -> Vec<Case> {
    signed(n, 64, None)
}

/// `n` signatures by `signers` keys, messages of `len` bytes (100..=400 when `None`).
fn signed(n: usize, signers: usize, len: Option<usize>) -> Vec<Case> {
    let mut rng = ChaCha20Rng::seed_from_u64(42 + signers as u64);
    let keys: Vec<SigningKey> = (0..signers)
        .map(|_| SigningKey::from_bytes(&rng.gen()))
        .collect();
    (0..n)
        .map(|i| {
            let sk = &keys[i % keys.len()];
            let mut message = vec![0u8; len.unwrap_or_else(|| rng.gen_range(100..=400))];
            rng.fill_bytes(&mut message);
            Case {
                pubkey: sk.verifying_key().to_bytes(),
                signature: sk.sign(&message).to_bytes(),
                message,
            }
        })
        .collect()
}

fn items(cases: &[Case]) -> Vec<SigItem<'_>> {
    cases
        .iter()
        .map(|c| SigItem {
            pubkey: &c.pubkey,
            message: &c.message,
            signature: &c.signature,
        })
        .collect()
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let all = cases(16384);
    let cpu = CpuVerifier::new();
    let gpu = match txpipe::sigverify::GpuSigVerifier::open() {
        Ok(g) => {
            let name = g.adapter_label();
            eprintln!("GPU adapter: {name} (a software renderer if it says llvmpipe)");
            Some(g)
        }
        Err(e) => {
            eprintln!("note: no GPU adapter ({e}); benchmarking the CPU only");
            None
        }
    };
    let gpu_max: usize = std::env::var("TXPIPE_BENCH_GPU_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);

    rules(&mut c);

    let mut group = c.benchmark_group("sigverify");
    for size in [64usize, 256, 1024, 4096, 16384] {
        let batch = items(&all[..size]);
        let mut out = vec![false; size];
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::new("dalek_loop", size), &batch, |b, batch| {
            b.iter(|| {
                for (o, it) in out.iter_mut().zip(batch.iter()) {
                    *o = txpipe::sigverify::reference_verify(it.pubkey, it.message, it.signature);
                }
            })
        });
        let mut out = vec![false; size];
        group.bench_with_input(BenchmarkId::new("cpu", size), &batch, |b, batch| {
            b.iter(|| cpu.verify_into(batch, &mut out).expect("cpu"))
        });
        if let Some(gpu) = gpu.as_ref().filter(|_| size <= gpu_max) {
            let mut out = vec![false; size];
            // Warm-up outside the measurement (first dispatch may compile the kernel).
            if gpu.verify_into(&batch, &mut out).is_err() {
                eprintln!("note: GPU batch of {size} failed; skipping GPU benches");
                continue;
            }
            group.bench_with_input(BenchmarkId::new("gpu", size), &batch, |b, batch| {
                b.iter(|| gpu.verify_into(batch, &mut out).expect("gpu"))
            });
        }
    }
    group.finish();
    c.final_summary();
}

/// The rules' comparison at 4,096 signatures (see the module docs).
fn rules(c: &mut Criterion) {
    const N: usize = 4096;
    let mut group = c.benchmark_group("sigverify_rules");
    group.throughput(Throughput::Elements(N as u64));
    for (signers, label) in [(256, "repeated"), (N, "fresh")] {
        let cases = signed(N, signers, Some(200));
        let batch = items(&cases);
        let mut out = vec![false; N];
        group.bench_function(BenchmarkId::new("dalek_rayon", label), |b| {
            b.iter(|| {
                batch
                    .par_iter()
                    .zip(out.par_iter_mut())
                    .for_each(|(it, o)| *o = reference_verify(it.pubkey, it.message, it.signature))
            })
        });
        for rule in SignatureRule::ALL {
            let id = BenchmarkId::new(rule.name(), label);
            if signers == N {
                // a new verifier each time: every key is decoded
                group.bench_function(id, |b| {
                    b.iter_batched(
                        || CpuVerifier::with_rule(rule),
                        |v| v.verify_into(&batch, &mut out).expect("cpu"),
                        BatchSize::PerIteration,
                    )
                });
            } else {
                let v = CpuVerifier::with_rule(rule);
                group.bench_function(id, |b| {
                    b.iter(|| v.verify_into(&batch, &mut out).expect("cpu"))
                });
            }
        }
    }
    group.finish();
}
