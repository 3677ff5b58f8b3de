//! Signature verification by batch size: the CPU verifier (`CpuVerifier`, rayon + dalek)
//! beside a plain loop of dalek `verify_strict` on the same input (their ratio is the
//! trait/batching overhead or gain), and the GPU verifier when an adapter exists.
//!
//! On a machine with only a software renderer (llvmpipe), the GPU figures are CPU emulation
//! and say nothing about GPU speed. `TXPIPE_BENCH_GPU_MAX` caps the GPU batch sizes
//! (default 1024; the software renderer is slow).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use ed25519_dalek::{Signer, SigningKey};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use txpipe::sigverify::{CpuVerifier, SigItem, SigVerifier};

struct Case {
    pubkey: [u8; 32],
    message: Vec<u8>,
    signature: [u8; 64],
}

fn cases(n: usize) -> Vec<Case> {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let keys: Vec<SigningKey> = (0..64)
        .map(|_| SigningKey::from_bytes(&rng.gen()))
        .collect();
    (0..n)
        .map(|i| {
            let sk = &keys[i % keys.len()];
            let mut message = vec![0u8; rng.gen_range(100..=400)];
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
