//! criterion group `hashing`: batch SHA-256 of 200-byte and 1232-byte messages, and
//! proof-of-history chains (a slot of 64 ticks x 12,500 hashes; many short chains), CPU vs
//! GPU. The GPU adapter is printed first: on lavapipe (a software renderer) the "gpu"
//! figures are CPU figures of Mesa's SIMD emulation, not GPU speed.
//!
//! Run: `XDG_RUNTIME_DIR=/tmp cargo bench --bench hashing`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use txpipe::hash::poh::{self, ChainSpec, Entry};
use txpipe::hash::GpuHasher;
use txpipe::hash::{BatchHasher, CpuHasher};
use txpipe::Hash;

const BATCH: usize = 4096;

fn gpu() -> Option<GpuHasher> {
    match GpuHasher::open() {
        Ok(g) => {
            let soft = if g.is_software() {
                " -- software renderer: 'gpu' figures are NOT GPU speed"
            } else {
                ""
            };
            eprintln!("hashing bench: GPU adapter {}{soft}", g.adapter_label());
            Some(g)
        }
        Err(e) => {
            eprintln!("hashing bench: no GPU adapter ({e}); GPU benchmarks skipped");
            None
        }
    }
}

fn chain(spec: &ChainSpec, seed: u64) -> (Hash, Vec<Entry>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start: Hash = rng.gen();
    let entries = poh::generate_chain(&start, spec, &[], &mut rng);
    (start, entries)
}

fn hashing(c: &mut Criterion) {
    let gpu = gpu();
    let cpu = CpuHasher::new();
    let mut backends: Vec<(&str, &dyn BatchHasher)> = vec![("cpu", &cpu)];
    if let Some(g) = &gpu {
        backends.push(("gpu", g));
    }

    let mut group = c.benchmark_group("hashing");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for len in [200usize, 1232] {
        let msgs: Vec<Vec<u8>> = (0..BATCH)
            .map(|_| {
                let mut m = vec![0u8; len];
                rng.fill(&mut m[..]);
                m
            })
            .collect();
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let mut out = vec![[0u8; 32]; BATCH];
        group.throughput(Throughput::Elements(BATCH as u64));
        for (name, h) in &backends {
            group.bench_function(
                BenchmarkId::new(format!("sha256_{len}B_x{BATCH}"), name),
                |b| {
                    b.iter(|| {
                        h.sha256_batch(black_box(&refs), &mut out).expect("hash");
                    })
                },
            );
        }
    }

    // A slot: 64 ticks x 12,500 hashes (some entries with transactions).
    let slot = ChainSpec {
        entries: 64,
        hashes_per_entry: 12_500,
        tx_share: 0.25,
        max_txs_per_entry: 4,
        max_sigs_per_tx: 2,
    };
    // Many short segments: what keeps a GPU's lanes busy.
    let wide = ChainSpec {
        entries: 4096,
        hashes_per_entry: 200,
        tx_share: 0.25,
        max_txs_per_entry: 4,
        max_sigs_per_tx: 2,
    };
    for (label, spec) in [("poh_slot_64x12500", &slot), ("poh_4096x200", &wide)] {
        let (start, entries) = chain(spec, 2);
        group.throughput(Throughput::Elements(poh::total_hashes(&entries)));
        for (name, h) in &backends {
            group.bench_function(BenchmarkId::new(label, name), |b| {
                b.iter(|| {
                    let r = poh::verify_entries(black_box(&start), &entries, *h).expect("verify");
                    assert_eq!(r, None);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
