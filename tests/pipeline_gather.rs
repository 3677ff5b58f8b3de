//! Gathering in the sigverify stage (issue 13): with a verifier that prefers large batches
//! (`SigVerifier::preferred_batch`, a GPU), the blocks already queued before the stage are
//! verified in one call of up to that many signatures, and the results are those of the
//! reference run, block for block, in submission order; a failure in the middle of a
//! gathered batch falls back to the CPU and loses nothing; a lone streamed transaction is
//! not held back; the CPU gathers nothing.
//!
//! The verifier here ([`Gathering`]) is a real `SigVerifier`: it gives the CPU's verdicts,
//! prefers large batches, records the size of every call it gets, can hold its first call
//! until the test has queued blocks behind it, and can fail chosen calls the way a GPU
//! fails (a `GpuFailure`), so the routed verifier falls back to the CPU for them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use txpipe::backend::BackendChoice;
use txpipe::hash::BackendHasher;
use txpipe::pipeline::reference::run_reference;
use txpipe::pipeline::workload::{Contention, Workload, WorkloadSpec};
use txpipe::pipeline::{BlockResult, Pipeline, PipelineConfig, StageId};
use txpipe::sigverify::{BackendVerifier, CpuVerifier, SigItem, SigVerifier, SigVerifyError};

/// A verifier that prefers batches of `preferred` signatures and records every call.
struct Gathering {
    cpu: CpuVerifier,
    preferred: usize,
    /// Size of every call, in order.
    calls: Mutex<Vec<usize>>,
    /// While `false`, the first call waits (at most 60 s).
    gate: (Mutex<bool>, Condvar),
    /// Calls (0-based) that fail as a GPU failure.
    failing: Vec<usize>,
    count: AtomicUsize,
}

impl Gathering {
    fn new(preferred: usize, gated: bool, failing: Vec<usize>) -> Arc<Self> {
        Arc::new(Self {
            cpu: CpuVerifier::new(),
            preferred,
            calls: Mutex::new(Vec::new()),
            gate: (Mutex::new(!gated), Condvar::new()),
            failing,
            count: AtomicUsize::new(0),
        })
    }

    fn open_gate(&self) {
        *self.gate.0.lock().expect("gate") = true;
        self.gate.1.notify_all();
    }

    fn calls(&self) -> Vec<usize> {
        self.calls.lock().expect("calls").clone()
    }
}

impl SigVerifier for Gathering {
    fn name(&self) -> &'static str {
        "gathering"
    }

    fn preferred_batch(&self) -> usize {
        self.preferred
    }

    fn verify_into(&self, items: &[SigItem<'_>], out: &mut [bool]) -> Result<(), SigVerifyError> {
        let call = self.count.fetch_add(1, Ordering::SeqCst);
        self.calls.lock().expect("calls").push(items.len());
        if call == 0 {
            let (lock, cv) = &self.gate;
            let open = lock.lock().expect("gate");
            let _open = cv
                .wait_timeout_while(open, Duration::from_secs(60), |open| !*open)
                .expect("gate");
        }
        if self.failing.contains(&call) {
            // scribble first: a failed batch must not leak verdicts
            out.iter_mut().for_each(|v| *v = true);
            return Err(SigVerifyError::GpuFailure(
                txpipe::gpu::GpuError::Submission(txpipe::gpu::Cause::msg(
                    "injected: device lost mid-gather",
                )),
            ));
        }
        self.cpu.verify_into(items, out)
    }
}

fn workload(txs: usize, seed: u64) -> Workload {
    Workload::generate(
        &WorkloadSpec {
            accounts: 80,
            transactions: txs,
            signatures_per_tx: 1,
            contention: Contention::Zipf(1.1),
            invalid_share: 0.05,
            duplicate_share: 0.05,
            v0_share: 0.3,
            seed,
            ..WorkloadSpec::default()
        },
        &|_, _| {},
    )
    .expect("workload")
}

fn config(w: &Workload, verifier: &Arc<Gathering>) -> (PipelineConfig, Arc<BackendVerifier>) {
    let routed = Arc::new(BackendVerifier::from_parts(
        BackendChoice::Gpu,
        CpuVerifier::new(),
        Some(Box::new(Arc::clone(verifier))),
    ));
    let config = PipelineConfig {
        backend: BackendChoice::Gpu,
        block_size: 64,
        // a floor only: the gathering verifier's calls are larger
        sigverify_batch: 16,
        max_block_wait: None,
        genesis: w.genesis.clone(),
        verifier: Some(Arc::clone(&routed)),
        // digests on the CPU: no adapter needed
        hasher: Some(Arc::new(
            BackendHasher::open(BackendChoice::Cpu).expect("cpu hasher"),
        )),
        ..PipelineConfig::default()
    };
    (config, routed)
}

/// Runs `blocks` with the verifier's first call (the first block alone) held until every
/// other block waits in the sigverify stage's queue; returns the results in order.
fn run_queued(
    config: &PipelineConfig,
    verifier: &Gathering,
    blocks: &[Vec<Vec<u8>>],
) -> Vec<BlockResult> {
    let mut p = Pipeline::new(config.clone()).expect("pipeline");
    let results = p.results();
    let collector = std::thread::spawn(move || results.iter().collect::<Vec<_>>());
    let deadline = Instant::now() + Duration::from_secs(60);
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        while !done() {
            assert!(Instant::now() < deadline, "{what} never happened");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    p.submit_block(blocks[0].clone()).expect("submit");
    wait_for("the first call", &|| !verifier.calls().is_empty());
    for block in &blocks[1..] {
        p.submit_block(block.clone()).expect("submit");
    }
    let sigverify = txpipe::pipeline::STAGE_THREADS
        .iter()
        .position(|&s| s == StageId::Sigverify)
        .expect("a sigverify stage");
    let queued = (blocks.len() - 1) as u64;
    wait_for("queueing", &|| {
        p.metrics().stages[sigverify].queue_depth == queued
    });
    verifier.open_gate();
    p.close().expect("close");
    let got = collector.join().expect("collector");
    let (rest, metrics) = p.finish().expect("finish");
    assert!(rest.is_empty());
    assert_eq!(metrics.in_flight, 0);
    got
}

#[test]
fn queued_blocks_are_verified_in_one_call_with_the_reference_results() {
    let w = workload(40 * 64, 11);
    let blocks = w.blocks(64);
    assert_eq!(blocks.len(), 40);
    let verifier = Gathering::new(4096, true, Vec::new());
    let (config, routed) = config(&w, &verifier);
    let bound = Pipeline::new(config.clone())
        .expect("pipeline")
        .in_flight_bound();
    assert_eq!(bound, 4 * 64 + 2 * 4096, "room for two gathered batches");

    let got = run_queued(&config, &verifier, &blocks);
    let (reference, _) = run_reference(&config, &blocks).expect("reference");
    assert_eq!(got, reference, "same results, block for block, in order");

    let calls = verifier.calls();
    let signatures = routed.stats().gpu_signatures as usize;
    // the first block alone (it was being verified while the rest queued), then the 39
    // queued blocks (fewer than 4096 signatures) in one call
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0] <= 64, "{calls:?}");
    assert!(calls[1] > 30 * 64, "{calls:?}");
    assert_eq!(calls.iter().sum::<usize>(), signatures);
    assert_eq!(routed.stats().cpu_signatures, 0);
}

#[test]
fn a_gathered_batch_stops_at_the_preferred_size() {
    let w = workload(30 * 64, 12);
    let blocks = w.blocks(64);
    let verifier = Gathering::new(200, true, Vec::new());
    let (mut config, _) = config(&w, &verifier);
    // every block fits the queues at once, so the test can hold them there
    config.channel_capacity = 64;
    config.max_in_flight = 1 << 20;
    let got = run_queued(&config, &verifier, &blocks);
    let (reference, _) = run_reference(&config, &blocks).expect("reference");
    assert_eq!(got, reference);
    let calls = verifier.calls();
    assert!(calls.iter().all(|&n| n <= 200), "{calls:?}");
    assert!(
        calls.iter().skip(1).all(|&n| n > 64),
        "three blocks of ~60 signatures per call: {calls:?}"
    );
    assert!(calls.len() < blocks.len() / 2, "{calls:?}");
}

#[test]
fn a_failure_in_a_gathered_batch_falls_back_and_loses_nothing() {
    let w = workload(30 * 64, 13);
    let blocks = w.blocks(64);
    // the first gathered call and a later one fail as a GPU does
    let verifier = Gathering::new(500, true, vec![1, 3]);
    let (mut config, routed) = config(&w, &verifier);
    // every block fits the queues at once, so the test can hold them there
    config.channel_capacity = 64;
    config.max_in_flight = 1 << 20;
    let got = run_queued(&config, &verifier, &blocks);
    let (reference, _) = run_reference(&config, &blocks).expect("reference");
    assert_eq!(
        got, reference,
        "nothing lost, nothing reordered, nothing applied twice"
    );
    let total: usize = got.iter().map(|r| r.outcomes.len()).sum();
    assert_eq!(total, w.packets.len());
    let calls = verifier.calls();
    let stats = routed.stats();
    assert_eq!(stats.gpu_failures, 2, "{stats:?}");
    assert!(
        calls[1] > 64,
        "the failing call was a gathered one: {calls:?}"
    );
    assert_eq!(
        stats.cpu_signatures as usize,
        calls[1] + calls[3],
        "exactly the failed batches went to the CPU: {calls:?} {stats:?}"
    );
    assert_eq!(
        (stats.gpu_signatures + stats.cpu_signatures) as usize,
        calls.iter().sum::<usize>()
    );
}

#[test]
fn a_lone_streamed_transaction_is_not_held_for_a_batch() {
    let w = workload(3, 14);
    let verifier = Gathering::new(1 << 20, false, Vec::new());
    let (mut config, _) = config(&w, &verifier);
    config.block_size = 1000;
    config.max_block_wait = Some(Duration::from_secs(3600));
    let mut p = Pipeline::new(config).expect("pipeline");
    let results = p.results();
    p.submit(w.packets[0].clone()).expect("submit");
    // the idle rule closes the block at once, and the stage verifies what it has
    let result = results
        .recv_timeout(Duration::from_secs(30))
        .expect("a result without more blocks");
    assert_eq!(result.outcomes.len(), 1);
    assert_eq!(verifier.calls(), vec![1]);
}

#[test]
fn only_a_verifier_that_prefers_large_batches_gathers() {
    let cpu = BackendVerifier::open(BackendChoice::Cpu).expect("cpu");
    assert_eq!(cpu.preferred_batch(), 0, "the CPU gathers nothing");
    assert_eq!(CpuVerifier::new().preferred_batch(), 0);
    let part = || Some(Box::new(Gathering::new(4096, false, Vec::new())) as Box<dyn SigVerifier>);
    for (choice, preferred) in [
        (BackendChoice::Gpu, 4096),
        (BackendChoice::Auto, 4096),
        (BackendChoice::Cpu, 0),
    ] {
        let v = BackendVerifier::from_parts(choice, CpuVerifier::new(), part());
        assert_eq!(v.preferred_batch(), preferred, "{choice:?}");
        assert_eq!(SigVerifier::preferred_batch(&Arc::new(v)), preferred);
    }
    // the bound: four blocks on the CPU, as before; an explicit bound is kept
    let w = workload(3, 15);
    let cpu_config = PipelineConfig {
        backend: BackendChoice::Cpu,
        block_size: 100,
        genesis: w.genesis.clone(),
        ..PipelineConfig::default()
    };
    assert_eq!(cpu_config.in_flight_bound(), 400);
    let p = Pipeline::new(cpu_config).expect("pipeline");
    assert_eq!(p.in_flight_bound(), 400);
    drop(p);
    let verifier = Gathering::new(4096, false, Vec::new());
    let (mut gathering, _) = config(&w, &verifier);
    gathering.max_in_flight = 1000;
    let p = Pipeline::new(gathering).expect("pipeline");
    assert_eq!(p.in_flight_bound(), 1000, "an explicit bound is kept");
}
