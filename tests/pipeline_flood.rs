//! Floods and faults: producers submit faster than the pipeline drains, for a bounded
//! time, while injected GPU faults make batches fall back to the CPU. Resident memory
//! stays bounded (measured from /proc/self/status on Linux), nothing deadlocks, every
//! submitted transaction gets exactly one result, and the results equal the
//! single-threaded reference run of the blocks in the order they were accepted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use txpipe::backend::BackendChoice;
use txpipe::hash::BackendHasher;
use txpipe::pipeline::reference::run_reference;
use txpipe::pipeline::workload::{Contention, Workload, WorkloadSpec};
use txpipe::pipeline::{Pipeline, PipelineConfig, TrySubmitError};
use txpipe::sigverify::{BackendVerifier, CpuVerifier};
use txpipe::testing::FaultInjector;

/// How long the producers flood.
const FLOOD: Duration = Duration::from_millis(2500);
/// The bound on resident memory growth during the flood (over the level before it). The
/// pipeline holds at most `channel_capacity` blocks per queue plus one per stage; the
/// measured growth on the 2-core VM is recorded in README.
const RSS_GROWTH_BOUND: u64 = 96 << 20;

/// Resident set size and its high-water mark, in bytes (`None` off Linux).
fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

#[test]
fn flood_with_gpu_faults_is_bounded_lossless_and_equals_the_reference() {
    let w = Workload::generate(
        &WorkloadSpec {
            accounts: 2_000,
            transactions: 6_000,
            signatures_per_tx: 1,
            contention: Contention::Uniform,
            invalid_share: 0.02,
            duplicate_share: 0.02,
            v0_share: 0.2,
            seed: 18,
            ..WorkloadSpec::default()
        },
        &|_, _| {},
    )
    .expect("workload");
    let pool = w.blocks(64);

    let (faulty, faults) = FaultInjector::new(CpuVerifier::new());
    let verifier = Arc::new(
        BackendVerifier::from_parts(
            BackendChoice::Gpu,
            CpuVerifier::new(),
            Some(Box::new(faulty)),
        )
        .with_crossover(1),
    );
    let config = PipelineConfig {
        backend: BackendChoice::Gpu,
        sigverify_batch: 128,
        block_size: 64,
        channel_capacity: 2,
        genesis: w.genesis.clone(),
        verifier: Some(Arc::clone(&verifier)),
        hasher: Some(Arc::new(
            BackendHasher::open(BackendChoice::Cpu).expect("cpu hasher"),
        )),
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::new(config.clone()).expect("pipeline");
    let results = pipeline.results();
    let pipeline = Arc::new(Mutex::new(pipeline));
    let before = rss();

    // the consumer drains slower than the producers submit
    let consumer = std::thread::spawn(move || {
        let mut got = Vec::new();
        for r in results.iter() {
            got.push(r);
            std::thread::sleep(Duration::from_millis(1));
        }
        got
    });
    let peak = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    // a sampler for resident memory, and GPU faults injected every 40 ms
    let sampler = {
        let (peak, stop) = (Arc::clone(&peak), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some((now, _)) = rss() {
                    peak.fetch_max(now, Ordering::Relaxed);
                }
                faults.fail_next(2);
                std::thread::sleep(Duration::from_millis(40));
            }
        })
    };
    // two producers take turns at the pipeline; a full pipeline hands the block back
    let accepted: Arc<Mutex<Vec<(u64, usize)>>> = Arc::default();
    let full = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let (pipeline, accepted, full) = (
                Arc::clone(&pipeline),
                Arc::clone(&accepted),
                Arc::clone(&full),
            );
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut next = p;
                while start.elapsed() < FLOOD {
                    let i = next % pool.len();
                    let mut guard = pipeline.lock().expect("pipeline lock");
                    match guard.try_submit_block(pool[i].clone()) {
                        Ok(id) => {
                            accepted.lock().expect("accepted").push((id, i));
                            next += 2;
                        }
                        Err(TrySubmitError::Full(_)) => {
                            drop(guard);
                            full.fetch_add(1, Ordering::Relaxed);
                            std::thread::yield_now();
                        }
                        Err(TrySubmitError::Closed(_)) => panic!("pipeline closed mid-flood"),
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    let pipeline = Arc::into_inner(pipeline)
        .expect("producers gone")
        .into_inner()
        .expect("pipeline lock");
    // shut down under a watchdog: a deadlock fails the test instead of hanging it
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut pipeline = pipeline;
        pipeline.close().expect("close");
        let got = consumer.join().expect("consumer");
        let (rest, metrics) = pipeline.finish().expect("finish");
        let _ = done_tx.send((got, rest, metrics));
    });
    let (got, rest, metrics) = done_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the pipeline drained (no deadlock)");
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    assert!(rest.is_empty(), "the consumer read every result");

    let mut accepted = Arc::into_inner(accepted).unwrap().into_inner().unwrap();
    accepted.sort_unstable();
    let full = full.load(Ordering::Relaxed);
    assert!(full > 0, "the producers never outran the pipeline");
    // every accepted block, and every transaction in it, has exactly one result, in order
    assert_eq!(got.len(), accepted.len());
    let blocks: Vec<Vec<Vec<u8>>> = accepted.iter().map(|&(_, i)| pool[i].clone()).collect();
    for ((r, &(id, _)), b) in got.iter().zip(&accepted).zip(&blocks) {
        assert_eq!(r.commit.block, id);
        assert_eq!(r.outcomes.len(), b.len());
    }
    let submitted: u64 = blocks.iter().map(|b| b.len() as u64).sum();
    assert_eq!(metrics.submitted, submitted);
    assert_eq!(metrics.completed, submitted);
    let stats = verifier.stats();
    assert!(stats.gpu_failures > 0, "faults were injected: {stats:?}");
    // the same blocks through the reference give the same results
    let (reference, _) = run_reference(&config, &blocks).expect("reference");
    assert_eq!(got, reference);

    if let (Some((base, _)), Some((_, hwm))) = (before, rss()) {
        let peak = peak.load(Ordering::Relaxed).max(base);
        let growth = peak.saturating_sub(base);
        eprintln!(
            "flood: {} blocks, {submitted} transactions in {:.1} s, {full} full hand-backs, \
             {} gpu faults; RSS before {} MiB, peak {} MiB (+{} MiB), VmHWM {} MiB",
            accepted.len(),
            FLOOD.as_secs_f64(),
            stats.gpu_failures,
            base >> 20,
            peak >> 20,
            growth >> 20,
            hwm >> 20
        );
        assert!(
            growth <= RSS_GROWTH_BOUND,
            "resident memory grew by {} MiB during the flood (bound {} MiB)",
            growth >> 20,
            RSS_GROWTH_BOUND >> 20
        );
    }
}
