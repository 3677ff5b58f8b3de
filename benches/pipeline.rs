//! criterion group `pipeline`: the whole pipeline (CPU backend) on a signed workload,
//! beside signature verification alone on the same signatures, so their ratio shows what
//! parsing, dedup, hashing, scheduling, execution and commit cost on top.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use txpipe::backend::BackendChoice;
use txpipe::pipeline::workload::{Contention, Workload, WorkloadSpec};
use txpipe::pipeline::{Pipeline, PipelineConfig};
use txpipe::sigverify::{CpuVerifier, SigItem, SigVerifier};
use txpipe::tx::TransactionView;

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    for (name, contention) in [
        ("uniform", Contention::Uniform),
        ("hot0.5", Contention::Hot(0.5)),
    ] {
        let w = Workload::generate(
            &WorkloadSpec {
                accounts: 1000,
                transactions: 8192,
                contention,
                ..WorkloadSpec::default()
            },
            &|_, _| {},
        )
        .expect("workload");
        group.throughput(Throughput::Elements(w.packets.len() as u64));
        let config = PipelineConfig {
            backend: BackendChoice::Cpu,
            block_size: 2048,
            genesis: w.genesis.clone(),
            ..PipelineConfig::default()
        };
        let blocks = w.blocks(2048);
        group.bench_function(BenchmarkId::new("end_to_end_cpu", name), |b| {
            b.iter(|| {
                Pipeline::new(config.clone())
                    .expect("pipeline")
                    .run(blocks.clone())
                    .expect("run")
            })
        });
        let views: Vec<TransactionView<'_>> = w
            .packets
            .iter()
            .filter_map(|p| TransactionView::parse(p).ok())
            .collect();
        let items: Vec<SigItem<'_>> = views.iter().flat_map(|v| v.sig_items()).collect();
        let cpu = CpuVerifier::new();
        group.bench_function(BenchmarkId::new("sigverify_only_cpu", name), |b| {
            b.iter(|| cpu.verify(&items).expect("verify"))
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
