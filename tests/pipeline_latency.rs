//! Latency under load: streamed blocks close on time (a lone transaction is not held back
//! waiting for a full block), the in-flight bound holds in transactions, and an open-loop
//! run at an offered rate loses and reorders nothing (its results equal the reference run
//! over the same blocks). `txpipe bench --rate` reports the figures.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use txpipe::backend::BackendChoice;
use txpipe::pipeline::open_loop::{run_open_loop, Arrivals};
use txpipe::pipeline::reference::run_reference;
use txpipe::pipeline::workload::{Contention, Workload, WorkloadSpec};
use txpipe::pipeline::{BlockResult, Pipeline, PipelineConfig};
use txpipe::sigverify::{BackendVerifier, CpuVerifier, SigItem, SigVerifier, SigVerifyError};

fn workload(txs: usize, seed: u64) -> Workload {
    Workload::generate(
        &WorkloadSpec {
            accounts: 60,
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

fn config(w: &Workload, block_size: usize, wait: Option<Duration>) -> PipelineConfig {
    PipelineConfig {
        backend: BackendChoice::Cpu,
        block_size,
        max_block_wait: wait,
        genesis: w.genesis.clone(),
        ..PipelineConfig::default()
    }
}

/// The packets cut as the results' blocks are.
fn same_blocks(packets: &[Vec<u8>], results: &[BlockResult]) -> Vec<Vec<Vec<u8>>> {
    let mut rest = packets;
    results
        .iter()
        .map(|r| {
            let (block, tail) = rest.split_at(r.outcomes.len());
            rest = tail;
            block.to_vec()
        })
        .collect()
}

#[test]
fn a_lone_transaction_on_an_idle_pipeline_goes_at_once() {
    let w = workload(3, 1);
    // a time bound far away: only the idle rule can close this block
    let mut p = Pipeline::new(config(&w, 1000, Some(Duration::from_secs(3600)))).expect("pipeline");
    let results = p.results();
    p.submit(w.packets[0].clone()).expect("submit");
    // no flush, no full block: nothing else is in flight, so the block of one goes now
    let result = results
        .recv_timeout(Duration::from_secs(30))
        .expect("a result without a full block, a flush or the time bound");
    assert_eq!(result.outcomes.len(), 1);
    assert_eq!(p.in_flight(), 0, "its room is given back once committed");

    // with no time rule at all (`None`: only full blocks), the same packet waits for a
    // full block or a flush
    let mut held = Pipeline::new(config(&w, 1000, None)).expect("pipeline");
    let held_results = held.results();
    held.submit(w.packets[1].clone()).expect("submit");
    assert!(held_results
        .recv_timeout(Duration::from_millis(300))
        .is_err());
    held.flush().expect("flush");
    let r = held_results
        .recv_timeout(Duration::from_secs(30))
        .expect("flushed");
    assert_eq!(r.outcomes.len(), 1);
}

/// A verifier that holds large batches (100 signatures or more) until the test opens its
/// gate, then answers like the CPU: a test can keep the stages busy for exactly as long as
/// it needs, however slow the machine.
struct Gated {
    cpu: CpuVerifier,
    open: Arc<(Mutex<bool>, Condvar)>,
}

impl SigVerifier for Gated {
    fn name(&self) -> &'static str {
        "gated"
    }
    fn verify_into(&self, items: &[SigItem<'_>], out: &mut [bool]) -> Result<(), SigVerifyError> {
        if items.len() >= 100 {
            let (lock, cv) = &*self.open;
            let mut open = lock.lock().expect("gate");
            while !*open {
                open = cv.wait(open).expect("gate");
            }
        }
        self.cpu.verify_into(items, out)
    }
}

#[test]
fn a_streamed_block_closes_on_time_while_the_pipeline_is_busy() {
    // a large block keeps the stages busy (held in signature verification until the gate
    // opens); meanwhile a streamed packet's block must close when it has waited the bound,
    // not when the pipeline becomes idle
    let w = workload(202, 5);
    let wait = Duration::from_millis(20);
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let verifier = BackendVerifier::from_parts(
        BackendChoice::Gpu,
        CpuVerifier::new(),
        Some(Box::new(Gated {
            cpu: CpuVerifier::new(),
            open: Arc::clone(&gate),
        })),
    );
    let mut p = Pipeline::new(PipelineConfig {
        verifier: Some(Arc::new(verifier)),
        ..config(&w, 1000, Some(wait))
    })
    .expect("pipeline");
    let results = p.results();
    let collector = std::thread::spawn(move || results.iter().collect::<Vec<_>>());
    p.submit_block(w.packets[..200].to_vec()).expect("block");
    p.submit(w.packets[200].clone()).expect("packet a");
    // ten times the bound: a's block has closed on time by now, alone
    std::thread::sleep(wait * 10);
    assert!(p.in_flight() > 1, "the large block is still in flight");
    p.submit(w.packets[201].clone()).expect("packet b");
    {
        let (lock, cv) = &*gate;
        *lock.lock().expect("gate") = true;
        cv.notify_all();
    }
    p.close().expect("close");
    let got = collector.join().expect("collector");
    p.finish().expect("finish");
    let sizes: Vec<usize> = got.iter().map(|r| r.outcomes.len()).collect();
    // a's block closed on time, alone, long before b came and before the pipeline was idle
    assert_eq!(sizes, vec![200, 1, 1]);
    let (reference, _) =
        run_reference(&config(&w, 1000, None), &same_blocks(&w.packets, &got)).expect("ref");
    assert_eq!(got, reference);
}

#[test]
fn streamed_and_whole_blocks_keep_submission_order() {
    let w = workload(90, 2);
    let mut p = Pipeline::new(config(&w, 16, Some(Duration::from_millis(2)))).expect("pipeline");
    let results = p.results();
    let collector = std::thread::spawn(move || results.iter().collect::<Vec<_>>());
    let mut sent: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut stream = Vec::new();
    for (i, chunk) in w.packets.chunks(10).enumerate() {
        if i % 3 == 2 {
            // a whole block goes after the streamed packets before it
            if !stream.is_empty() {
                sent.push(std::mem::take(&mut stream));
            }
            p.submit_block(chunk.to_vec()).expect("block");
            sent.push(chunk.to_vec());
        } else {
            for packet in chunk {
                p.submit(packet.clone()).expect("packet");
                stream.push(packet.clone());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    p.close().expect("close");
    let got = collector.join().expect("collector");
    p.finish().expect("finish");
    let total: usize = got.iter().map(|r| r.outcomes.len()).sum();
    assert_eq!(total, w.packets.len(), "one result per packet");
    let blocks = same_blocks(&w.packets, &got);
    let (reference, _) = run_reference(&config(&w, 16, None), &blocks).expect("reference");
    assert_eq!(
        got, reference,
        "same results as the reference over the same blocks"
    );
    // every whole block came through as one block of its own
    for block in sent.iter().filter(|b| b.len() == 10) {
        assert!(blocks.iter().any(|b| b == block));
    }
}

#[test]
fn the_in_flight_bound_holds_in_transactions() {
    let w = workload(600, 3);
    let bound = 100;
    let mut cfg = config(&w, 40, Some(Duration::from_millis(1)));
    cfg.max_in_flight = bound;
    let mut p = Pipeline::new(cfg.clone()).expect("pipeline");
    let results = p.results();
    let collector = std::thread::spawn(move || {
        results
            .iter()
            .inspect(|_| std::thread::sleep(Duration::from_millis(2)))
            .collect::<Vec<_>>()
    });
    let mut most = 0;
    for packet in &w.packets {
        p.submit(packet.clone()).expect("submit");
        most = most.max(p.in_flight());
        assert!(p.in_flight() <= bound, "{} in flight", p.in_flight());
    }
    p.close().expect("close");
    let got = collector.join().expect("collector");
    let (_, metrics) = p.finish().expect("finish");
    assert!(most > bound / 2, "the bound was reached ({most})");
    assert_eq!(metrics.in_flight, 0);
    assert_eq!(metrics.completed, w.packets.len() as u64);
    let (reference, _) = run_reference(&cfg, &same_blocks(&w.packets, &got)).expect("reference");
    assert_eq!(got, reference);

    // a bound below the block size could never fill a block: refused
    let mut bad = config(&w, 40, None);
    bad.max_in_flight = 39;
    assert!(Pipeline::new(bad).is_err());
}

#[test]
fn an_open_loop_run_loses_and_reorders_nothing() {
    let w = workload(800, 4);
    let cfg = config(&w, 64, Some(Duration::from_millis(3)));
    for arrivals in [Arrivals::Constant, Arrivals::Poisson] {
        let p = Pipeline::new(cfg.clone()).expect("pipeline");
        let run = run_open_loop(p, &w.packets, 4000.0, arrivals, 9).expect("run");
        let total: usize = run.results.iter().map(|r| r.outcomes.len()).sum();
        assert_eq!(total, w.packets.len());
        assert_eq!(run.metrics.completed, w.packets.len() as u64);
        assert_eq!(run.metrics.submitted, w.packets.len() as u64);
        let blocks = same_blocks(&w.packets, &run.results);
        assert!(
            blocks.iter().all(|b| b.len() <= 64),
            "blocks never pass block_size"
        );
        let (reference, _) = run_reference(&cfg, &blocks).expect("reference");
        assert_eq!(run.results, reference, "{arrivals}");
        assert!(run.achieved_tps > 0.0 && run.offered_tps == 4000.0);
        let m = &run.metrics;
        assert!(
            m.latency_p50_ms <= m.latency_p90_ms
                && m.latency_p90_ms <= m.latency_p99_ms
                && m.latency_p99_ms <= m.latency_p999_ms
                && m.latency_p999_ms <= m.latency_max_ms * 1.02,
            "{m:?}"
        );
    }
}

#[test]
fn bench_rate_reports_load_and_latency_and_matches_the_reference() {
    let dir = std::env::temp_dir().join(format!("txpipe-bench-rate-{}", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_txpipe"))
        .args([
            "bench",
            "--txs",
            "1500",
            "--accounts",
            "200",
            "--rate",
            "5000",
            "--arrivals",
            "poisson",
            "--block-size",
            "256",
            "--backend",
            "cpu",
            "--json",
            "--check-reference",
            "--cache-dir",
        ])
        .arg(&dir)
        .output()
        .expect("run txpipe bench");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["reference_match"], true);
    assert_eq!(v["offered_tps"], 5000.0);
    assert_eq!(v["arrivals"], "poisson");
    assert!(v["achieved_tps"].as_f64().is_some_and(|t| t > 0.0));
    for q in ["p50", "p90", "p99", "p999", "max"] {
        assert!(v["latency_ms"][q].as_f64().is_some(), "latency_ms.{q}");
    }
    assert_eq!(v["transactions"], 1500);
}
