//! Execution benchmarks: a block of 10,000 p2p System transfers over N accounts
//! (N = 2 is full contention): sequential; the scheduler alone; the windowed parallel path
//! forced (`parallel_1t`, `parallel_2t`); and `execute_block`'s own choice (`auto_*`),
//! on 1 and 2 threads. Every table starts evicted from the private caches.
//!
//! `cargo bench --bench execute`; throughput is reported in transactions per second.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use txpipe::execute::workload::P2pBlock;
use txpipe::execute::{ExecConfig, ExecTx, Executor, ProgramRegistry};
use txpipe::schedule::schedule;
use txpipe::state::AccountsTable;
use txpipe::tx::TransactionView;

const TXS: usize = 10_000;
const ACCOUNTS: [usize; 5] = [2, 10, 100, 1000, 10_000];

/// A fresh genesis table, evicted from the loading core's private caches (so that no
/// path starts with it in its own L2; see `bench-exec`).
fn fresh(block: &P2pBlock) -> AccountsTable {
    let table = AccountsTable::default();
    table.load(block.genesis());
    let mut evict = vec![0u8; 16 << 20];
    for line in evict.chunks_mut(64) {
        line[0] = line[0].wrapping_add(1);
    }
    std::hint::black_box(&evict);
    table
}

fn execute(c: &mut Criterion) {
    let mut group = c.benchmark_group("execute");
    group.sample_size(10);
    group.throughput(Throughput::Elements(TXS as u64));
    let executor = Executor::default();
    let forced = Executor::new(
        ProgramRegistry::default(),
        ExecConfig {
            allow_sequential: false,
            ..ExecConfig::default()
        },
    );
    for n in ACCOUNTS {
        let block = match P2pBlock::generate(n, TXS, 7) {
            Ok(b) => b,
            Err(e) => panic!("workload: {e}"),
        };
        let views: Vec<TransactionView<'_>> = block
            .packets
            .iter()
            .map(|p| TransactionView::parse(p).unwrap_or_else(|e| panic!("parse: {e}")))
            .collect();
        let txs: Vec<ExecTx<'_>> = views.iter().map(|v| ExecTx::from_view(v, None)).collect();

        let seq_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap_or_else(|e| panic!("pool: {e}"));
        group.bench_function(BenchmarkId::new("sequential", n), |b| {
            b.iter_batched(
                || fresh(&block),
                |table| seq_pool.install(|| executor.execute_sequential(&table, &txs)),
                BatchSize::PerIteration,
            )
        });
        group.bench_function(BenchmarkId::new("schedule_only", n), |b| {
            b.iter(|| schedule(&txs))
        });
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap_or_else(|e| panic!("pool: {e}"));
            // The windowed parallel path, forced (no sequential fallback).
            group.bench_function(BenchmarkId::new(format!("parallel_{threads}t"), n), |b| {
                b.iter_batched(
                    || fresh(&block),
                    |table| pool.install(|| forced.execute_block(&table, &txs)),
                    BatchSize::PerIteration,
                )
            });
            // What `execute_block` chooses (sequential on one thread or a contended block).
            group.bench_function(BenchmarkId::new(format!("auto_{threads}t"), n), |b| {
                b.iter_batched(
                    || fresh(&block),
                    |table| pool.install(|| executor.execute_block(&table, &txs)),
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, execute);
criterion_main!(benches);
