//! `txpipe bench`: the main job. Generates (or loads from the cache) a signed workload,
//! runs it through the pipeline, and prints a summary table or one JSON object; with
//! `--sweep` once per value of a parameter (one row or JSON line each), and with `--plot`
//! and `--report` the plots and the HTML report of the run or sweep.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use txpipe::backend::BackendChoice;
use txpipe::execute::workload::CostDist;
use txpipe::pipeline::mix::Mix;
use txpipe::pipeline::open_loop::{run_open_loop, Arrivals};
use txpipe::pipeline::reference::run_reference;
use txpipe::pipeline::workload::{Contention, Workload, WorkloadSpec};
use txpipe::pipeline::{BlockResult, MetricsSnapshot, Pipeline, PipelineConfig};
use txpipe::sigverify::{BackendVerifier, SigItem, SignatureRule};
use txpipe::tx::TransactionView;

use super::machine;
use super::plot::{BenchPlots, Figure, Point};
use super::progress::{run_pipeline, Progress};
use super::report::{Report, Table};
use super::sweep::{self, parse, Param, Sweep};

/// Arguments of `bench`.
#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// Funded accounts.
    #[arg(long, default_value_t = 10_000)]
    accounts: usize,
    /// Transactions.
    #[arg(long, default_value_t = 100_000)]
    txs: usize,
    /// Signatures per transaction (1 to 8).
    #[arg(long, default_value_t = 1)]
    sigs_per_tx: usize,
    /// Contention: uniform, zipf:S (e.g. zipf:1.1) or hot:SHARE (e.g. hot:0.3).
    #[arg(long, default_value = "uniform")]
    contention: Contention,
    /// Share of transactions with an invalid signature.
    #[arg(long, default_value_t = 0.01)]
    invalid_share: f64,
    /// Share of transactions that replay an earlier packet.
    #[arg(long, default_value_t = 0.01)]
    duplicate_share: f64,
    /// Share of v0 messages.
    #[arg(long, default_value_t = 0.2)]
    v0_share: f64,
    /// Workload seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Give every transaction a work instruction of this many SHA-256 rounds on average
    /// (0: plain transfers); see `bench-exec --work-rounds`.
    #[arg(long, default_value_t = 0)]
    work_rounds: u32,
    /// How work rounds spread over the transactions: const or lognormal:SIGMA.
    #[arg(long, default_value = "const")]
    cost_dist: CostDist,
    /// Transactions: transfer (System transfers), token (SPL Token transfers among
    /// Zipf-drawn holders of a few mints) or mainnet (ComputeBudget on ~70%, token
    /// transfers, ATA creations, memos, System transfers, ~10% failing).
    #[arg(long, default_value = "transfer")]
    mix: Mix,
    /// Signature backend: auto, cpu or gpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
    /// Signature rule: strict (ed25519-dalek verify_strict) or cofactored (SIMD-0376).
    #[arg(long, default_value = "strict")]
    rule: SignatureRule,
    /// Transactions per block.
    #[arg(long, default_value_t = 4096)]
    block_size: usize,
    /// Signatures per verification batch (a floor: a GPU that prefers larger batches gets
    /// queued blocks gathered up to its own size).
    #[arg(long, default_value_t = 16_384)]
    sigverify_batch: usize,
    /// Execution worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Blocks per inter-stage channel.
    #[arg(long, default_value_t = 4)]
    channel_capacity: usize,
    /// Account table stripes (power of two).
    #[arg(long, default_value_t = 256)]
    stripes: usize,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Also run the single-threaded reference and report `reference_match`.
    #[arg(long)]
    check_reference: bool,
    /// Also time signature verification alone (before and after the pipeline run, averaged)
    /// and report `sigverify_only_tps`.
    #[arg(long)]
    baseline: bool,
    /// Where signed workloads are cached (default: $TXPIPE_CACHE_DIR/workloads, else
    /// $XDG_CACHE_HOME/txpipe/workloads, else ~/.cache/txpipe/workloads).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Neither read nor write the workload cache.
    #[arg(long)]
    no_cache: bool,
    /// Write the final metrics in Prometheus text format to this file.
    #[arg(long)]
    prometheus: Option<PathBuf>,
    /// Offer the transactions at this rate (per second), one at a time through the
    /// streaming API, whatever the results do (open loop); latency then runs from each
    /// transaction's scheduled arrival. Absent: a flood of whole blocks.
    #[arg(long)]
    rate: Option<f64>,
    /// With --rate: arrival spacing, constant or poisson.
    #[arg(long, default_value = "constant")]
    arrivals: Arrivals,
    /// A streamed block also closes when its first transaction has waited this long
    /// (milliseconds; 0: only when full).
    #[arg(long, default_value_t = 5.0)]
    max_block_wait_ms: f64,
    /// Transactions submitted and not yet committed, at most (0: four blocks, plus two of
    /// the verifier's preferred batches when it gathers blocks, as a GPU does).
    #[arg(long, default_value_t = 0)]
    max_in_flight: usize,
    /// Run the bench once per value of one parameter and print one row (with --json one
    /// JSON line) per value: PARAM=V1,V2,... with PARAM one of contention (e.g.
    /// uniform,zipf:1.0,hot:0.5), sigs-per-tx, block-size, sigverify-batch, workers,
    /// backend, rule, invalid-share.
    #[arg(long, value_name = "PARAM=V1,V2,...")]
    sweep: Option<Sweep<SweepParam>>,
    /// Write plots (PNG and SVG) of the run or sweep into this directory: throughput,
    /// latency, stage busy shares. Turns on --baseline and --check-reference.
    #[arg(long, value_name = "DIR")]
    plot: Option<PathBuf>,
    /// Write a self-contained HTML report (parameters, machine, tables, plots inline) to
    /// this file. Turns on --baseline and --check-reference.
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
}

/// A parameter `bench --sweep` can vary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepParam {
    /// `--contention`.
    Contention,
    /// `--sigs-per-tx`.
    SigsPerTx,
    /// `--block-size`.
    BlockSize,
    /// `--sigverify-batch`.
    SigverifyBatch,
    /// `--workers`.
    Workers,
    /// `--backend`.
    Backend,
    /// `--rule`.
    Rule,
    /// `--invalid-share`.
    InvalidShare,
}

impl Param for SweepParam {
    const ALL: &'static [SweepParam] = &[
        SweepParam::Contention,
        SweepParam::SigsPerTx,
        SweepParam::BlockSize,
        SweepParam::SigverifyBatch,
        SweepParam::Workers,
        SweepParam::Backend,
        SweepParam::Rule,
        SweepParam::InvalidShare,
    ];

    fn name(self) -> &'static str {
        match self {
            SweepParam::Contention => "contention",
            SweepParam::SigsPerTx => "sigs-per-tx",
            SweepParam::BlockSize => "block-size",
            SweepParam::SigverifyBatch => "sigverify-batch",
            SweepParam::Workers => "workers",
            SweepParam::Backend => "backend",
            SweepParam::Rule => "rule",
            SweepParam::InvalidShare => "invalid-share",
        }
    }
}

impl SweepParam {
    /// `args` with this parameter set to `value`.
    fn apply(self, args: &BenchArgs, value: &str) -> Result<BenchArgs, String> {
        let mut a = args.clone();
        match self {
            SweepParam::Contention => a.contention = parse(value)?,
            SweepParam::SigsPerTx => {
                a.sigs_per_tx = parse(value)?;
                if !(1..=8).contains(&a.sigs_per_tx) {
                    return Err("signatures per transaction run from 1 to 8".into());
                }
            }
            SweepParam::BlockSize => {
                a.block_size = parse(value)?;
                if a.block_size == 0 {
                    return Err("a block holds at least one transaction".into());
                }
            }
            SweepParam::SigverifyBatch => {
                a.sigverify_batch = parse(value)?;
                if a.sigverify_batch == 0 {
                    return Err("a batch holds at least one signature".into());
                }
            }
            SweepParam::Workers => a.workers = parse(value)?,
            SweepParam::Backend => a.backend = parse(value)?,
            SweepParam::Rule => a.rule = parse(value)?,
            SweepParam::InvalidShare => {
                a.invalid_share = parse(value)?;
                if !(0.0..=1.0).contains(&a.invalid_share) {
                    return Err("a share runs from 0 to 1".into());
                }
            }
        }
        Ok(a)
    }
}

fn cache_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(d) = explicit {
        return Some(d);
    }
    if let Some(d) = std::env::var_os("TXPIPE_CACHE_DIR") {
        return Some(PathBuf::from(d).join("workloads"));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("txpipe/workloads"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/txpipe/workloads"))
}

/// Loads the workload from the cache, or generates, signs and caches it.
fn load_workload(
    args: &BenchArgs,
    spec: &WorkloadSpec,
    progress: &Progress,
) -> anyhow::Result<(Workload, bool)> {
    let file = (!args.no_cache)
        .then(|| cache_dir(args.cache_dir.clone()))
        .flatten()
        .map(|d| {
            let key = serde_json::to_vec(spec).unwrap_or_default();
            let name = hex::encode(&txpipe::hash::sha256(&key)[..12]);
            d.join(format!("{name}.txpw"))
        });
    if let Some(f) = &file {
        if let Ok(fh) = std::fs::File::open(f) {
            match Workload::read_from(&mut std::io::BufReader::new(fh)) {
                Ok(w) if &w.spec == spec => return Ok((w, true)),
                _ => eprintln!("txpipe: ignoring unusable cached workload {}", f.display()),
            }
        }
    }
    let bar = std::sync::OnceLock::new();
    let w = Workload::generate(spec, &|done: usize, total: usize| {
        let bar = bar.get_or_init(|| progress.bar(total as u64, "signing workload", "txs"));
        bar.set_position(done as u64);
    });
    if let Some(bar) = bar.get() {
        bar.finish_and_clear();
    }
    let w = w?;
    if let Some(f) = &file {
        let write = || -> anyhow::Result<()> {
            if let Some(dir) = f.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = f.with_extension("tmp");
            let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            w.write_to(&mut out)?;
            std::io::Write::flush(&mut out)?;
            drop(out);
            std::fs::rename(&tmp, f)?;
            Ok(())
        };
        if let Err(e) = write() {
            eprintln!(
                "txpipe: cannot cache the workload at {}: {e:#}",
                f.display()
            );
        }
    }
    Ok((w, false))
}

/// Times signature verification alone over the signatures the pipeline verifies (every
/// signature of every parsed, distinct packet). Returns transactions per second.
fn sigverify_only(verifier: &BackendVerifier, packets: &[Vec<u8>], batch: usize) -> f64 {
    let mut seen = std::collections::HashSet::new();
    let views: Vec<TransactionView<'_>> = packets
        .iter()
        .filter(|p| seen.insert(p.as_slice()))
        .filter_map(|p| TransactionView::parse(p).ok())
        .collect();
    let items: Vec<SigItem<'_>> = views.iter().flat_map(|v| v.sig_items()).collect();
    let mut out = vec![false; items.len()];
    // calls as large as the pipeline's: a verifier that gathers gets its preferred size
    let batch = batch.max(verifier.preferred_batch()).max(1);
    let start = Instant::now();
    for (chunk, o) in items.chunks(batch).zip(out.chunks_mut(batch)) {
        // an error here only means a length mismatch: impossible by construction
        let _ = verifier.verify_routed(chunk, o);
    }
    let secs = start.elapsed().as_secs_f64();
    if secs > 0.0 {
        packets.len() as f64 / secs
    } else {
        0.0
    }
}

/// `packets` cut into blocks of the sizes the pipeline's results have, in order.
fn same_blocks(packets: &[Vec<u8>], results: &[BlockResult]) -> Vec<Vec<Vec<u8>>> {
    let mut rest = packets;
    results
        .iter()
        .map(|r| {
            let (block, tail) = rest.split_at(r.outcomes.len().min(rest.len()));
            rest = tail;
            block.to_vec()
        })
        .collect()
}

fn backend_label(m: &MetricsSnapshot, verifier: &BackendVerifier) -> String {
    let s = &m.sigverify;
    match (s.gpu_signatures, s.cpu_signatures, verifier.gpu_name()) {
        (0, _, _) => "cpu".into(),
        (_, 0, _) => "gpu".into(),
        _ => format!("gpu+cpu ({:.0}% gpu)", s.gpu_share * 100.0),
    }
}

/// One measured run of `bench`: what its table and its JSON object show.
struct BenchRun {
    spec: WorkloadSpec,
    cached: bool,
    prep_s: f64,
    backend: String,
    metrics: MetricsSnapshot,
    offered_tps: Option<f64>,
    achieved_tps: f64,
    state_hash: txpipe::Hash,
    reference_match: Option<bool>,
    sigverify_only_tps: Option<f64>,
    /// The run as one JSON object (the `--json` line).
    json: serde_json::Value,
}

/// Generates (or loads) the workload and runs it through the pipeline once.
fn run_once(args: &BenchArgs, progress: &Progress) -> anyhow::Result<BenchRun> {
    let spec = WorkloadSpec {
        accounts: args.accounts,
        transactions: args.txs,
        signatures_per_tx: args.sigs_per_tx,
        contention: args.contention,
        invalid_share: args.invalid_share,
        duplicate_share: args.duplicate_share,
        v0_share: args.v0_share,
        seed: args.seed,
        work_rounds: args.work_rounds,
        cost_dist: args.cost_dist,
        mix: args.mix,
    };
    let t = Instant::now();
    let (workload, cached) = load_workload(args, &spec, progress)?;
    let prep_s = t.elapsed().as_secs_f64();

    // opening a GPU verifier compiles its kernels: seconds, minutes on a software adapter
    let open = || BackendVerifier::open_with_rule(args.backend, args.rule);
    let verifier = if args.backend == BackendChoice::Cpu {
        open()
    } else {
        progress.spin("opening the GPU verifier (compiling kernels)", open)
    };
    let verifier =
        Arc::new(verifier.with_context(|| format!("cannot use backend {}", args.backend))?);
    // said once, not once per run of a sweep
    static SAID_NO_GPU: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if args.backend == BackendChoice::Auto
        && !verifier.has_gpu()
        && !SAID_NO_GPU.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        match txpipe::gpu::adapter_is_software() {
            Some(true) => eprintln!(
                "txpipe: only a software GPU adapter found (slower than the CPU); verifying signatures on the CPU (--backend gpu forces it)"
            ),
            _ => eprintln!("txpipe: no GPU adapter found; verifying signatures on the CPU"),
        }
    }
    if let Some(rate) = args.rate {
        anyhow::ensure!(
            rate.is_finite() && rate > 0.0,
            "--rate must be a positive number of transactions per second"
        );
    }
    anyhow::ensure!(
        args.max_block_wait_ms.is_finite() && args.max_block_wait_ms >= 0.0,
        "--max-block-wait-ms must be zero or more"
    );
    let config = PipelineConfig {
        backend: args.backend,
        sigverify_batch: args.sigverify_batch,
        channel_capacity: args.channel_capacity,
        worker_threads: args.workers,
        stripes: args.stripes,
        block_size: args.block_size,
        max_block_wait: (args.max_block_wait_ms > 0.0)
            .then(|| std::time::Duration::from_secs_f64(args.max_block_wait_ms / 1e3)),
        max_in_flight: args.max_in_flight,
        rule: args.rule,
        genesis: workload.genesis.clone(),
        registry: workload.registry(),
        verifier: Some(Arc::clone(&verifier)),
        ..PipelineConfig::default()
    };
    // the baseline is timed before and after the pipeline run, and averaged, so that
    // drift in a shared machine's speed does not bias the ratio either way
    let baseline = || {
        progress.spin("timing signature verification alone", || {
            sigverify_only(&verifier, &workload.packets, args.sigverify_batch)
        })
    };
    let baseline_before = args.baseline.then(baseline);
    let pipeline = Pipeline::new(config.clone())?;
    let table = Arc::clone(pipeline.accounts());
    let (results, metrics, offered_tps, achieved_tps) = match args.rate {
        Some(rate) => {
            let message = format!(
                "offering {} txs at {rate:.0} tx/s (open loop)",
                workload.packets.len()
            );
            let run = progress.spin(&message, || {
                run_open_loop(pipeline, &workload.packets, rate, args.arrivals, args.seed)
            })?;
            (
                run.results,
                run.metrics,
                Some(run.offered_tps),
                run.achieved_tps,
            )
        }
        None => {
            let (results, metrics) = run_pipeline(
                progress,
                "bench",
                pipeline,
                workload.blocks(args.block_size),
                workload.packets.len(),
            )?;
            let tps = metrics.tps;
            (results, metrics, None, tps)
        }
    };
    let state_hash = txpipe::state::full_state_hash(&table);
    let backend = backend_label(&metrics, &verifier);

    let reference_match = if args.check_reference {
        // the reference runs the same blocks: under --rate, blocks close on time, so
        // their boundaries are read back from the results
        let blocks = same_blocks(&workload.packets, &results);
        let (reference, ref_table) = progress.spin("single-threaded reference run", || {
            run_reference(&config, &blocks)
        })?;
        Some(reference == results && txpipe::state::full_state_hash(&ref_table) == state_hash)
    } else {
        None
    };
    let baseline_after = args.baseline.then(baseline);
    let sigverify_only_tps = baseline_before
        .zip(baseline_after)
        .map(|(before, after)| (before + after) / 2.0);

    if let Some(path) = &args.prometheus {
        std::fs::write(path, metrics.to_prometheus())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }

    let stages: serde_json::Map<String, serde_json::Value> = metrics
        .stages
        .iter()
        .map(|s| {
            (
                s.stage.to_string(),
                json!({"tps": s.tps, "busy_s": s.busy_s, "busy_share": s.busy_share,
                       "capacity_tps": s.capacity_tps, "items_in": s.items_in,
                       "items_out": s.items_out, "max_queue_depth": s.max_queue_depth}),
            )
        })
        .collect();
    let mut obj = json!({
        "transactions": workload.packets.len(),
        "mix": spec.mix.as_str(),
        "backend": backend,
        "rule": args.rule.name(),
        "elapsed_s": metrics.elapsed_s,
        "tps": metrics.tps,
        "stages": stages,
        "latency_ms": {"p50": metrics.latency_p50_ms, "p90": metrics.latency_p90_ms,
                       "p99": metrics.latency_p99_ms, "p999": metrics.latency_p999_ms,
                       "max": metrics.latency_max_ms},
        "offered_tps": offered_tps,
        "achieved_tps": achieved_tps,
        "arrivals": args.rate.map(|_| args.arrivals.to_string()),
        "max_block_wait_ms": args.max_block_wait_ms,
        "max_in_flight": config.in_flight_bound_with(verifier.preferred_batch()),
        "state_hash": hex::encode(state_hash),
        "blocks": metrics.blocks,
        "outcomes": metrics.outcomes,
        "sigverify": metrics.sigverify,
        "workload": spec,
        "workload_cached": cached,
        "workload_prep_s": prep_s,
        "threads": rayon::current_num_threads(),
    });
    if let Some(m) = reference_match {
        obj["reference_match"] = json!(m);
    }
    if let Some(b) = sigverify_only_tps {
        obj["sigverify_only_tps"] = json!(b);
        obj["sigverify_only_tps_before_after"] = json!([baseline_before, baseline_after]);
        obj["tps_over_sigverify_only"] = json!(if b > 0.0 { metrics.tps / b } else { 0.0 });
    }
    Ok(BenchRun {
        spec,
        cached,
        prep_s,
        backend,
        metrics,
        offered_tps,
        achieved_tps,
        state_hash,
        reference_match,
        sigverify_only_tps,
        json: obj,
    })
}

/// Prints one run as the summary table.
fn print_table(args: &BenchArgs, run: &BenchRun) {
    let BenchRun {
        spec,
        cached,
        prep_s,
        backend,
        metrics,
        offered_tps,
        achieved_tps,
        state_hash,
        reference_match,
        sigverify_only_tps,
        ..
    } = run;
    let (cached, prep_s, achieved_tps) = (*cached, *prep_s, *achieved_tps);
    let (offered_tps, reference_match, sigverify_only_tps) =
        (*offered_tps, *reference_match, *sigverify_only_tps);
    println!(
        "workload     {} txs ({} mix), {} accounts, {} sig/tx, contention {:?}, invalid {:.1}%, duplicates {:.1}%, v0 {:.1}% ({} in {:.1}s)",
        spec.transactions,
        spec.mix,
        spec.accounts,
        spec.signatures_per_tx,
        spec.contention,
        spec.invalid_share * 100.0,
        spec.duplicate_share * 100.0,
        spec.v0_share * 100.0,
        if cached { "loaded from cache" } else { "generated" },
        prep_s
    );
    println!(
        "backend      {backend}, {} rule (gpu fallbacks: {})",
        args.rule, metrics.sigverify.gpu_fallbacks
    );
    println!(
        "end to end   {:.0} tx/s  ({} txs in {:.3} s, {} blocks of at most {})",
        metrics.tps, metrics.completed, metrics.elapsed_s, metrics.blocks, args.block_size
    );
    match offered_tps {
        Some(offered) => println!(
            "load         offered {offered:.0} tx/s ({} arrivals), achieved {achieved_tps:.0} tx/s",
            args.arrivals
        ),
        None => println!("load         flood (whole blocks, as fast as the pipeline takes them)"),
    }
    println!(
        "latency      p50 {:.1} ms   p90 {:.1} ms   p99 {:.1} ms   p99.9 {:.1} ms   max {:.1} ms",
        metrics.latency_p50_ms,
        metrics.latency_p90_ms,
        metrics.latency_p99_ms,
        metrics.latency_p999_ms,
        metrics.latency_max_ms
    );
    println!("stage        tx/s (wall)   busy s   busy share   tx/s (busy)   max queue");
    for s in &metrics.stages {
        println!(
            "  {:<10} {:>11.0} {:>8.3} {:>11.0}% {:>13.0} {:>11}",
            s.stage,
            s.tps,
            s.busy_s,
            s.busy_share * 100.0,
            s.capacity_tps,
            s.max_queue_depth
        );
    }
    let o = &metrics.outcomes;
    println!(
        "outcomes     ok {}  failed(fee) {}  failed(no fee) {}  invalid sig {}  duplicate {}  malformed {}",
        o.ok, o.failed_fee_charged, o.failed_no_fee, o.invalid_signature, o.duplicate, o.malformed
    );
    println!("state hash   {}", hex::encode(state_hash));
    if let Some(m) = reference_match {
        println!("reference    {}", if m { "match" } else { "MISMATCH" });
    }
    if let Some(b) = sigverify_only_tps {
        println!(
            "baseline     sigverify alone {:.0} tx/s; pipeline / sigverify = {:.3}",
            b,
            if b > 0.0 { metrics.tps / b } else { 0.0 }
        );
    }
}

/// The sweep's row header (table output).
fn print_sweep_header(param: &str) {
    println!(
        "{:<16} {:>12} {:>12} {:>8} {:>8} {:>8} {:>8}  {:<10} {:<9} state hash",
        param, "tx/s", "sig tx/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "backend", "reference"
    );
}

/// One sweep row (table output).
fn print_sweep_row(value: &str, run: &BenchRun) {
    let m = &run.metrics;
    println!(
        "{:<16} {:>12.0} {:>12} {:>8.1} {:>8.1} {:>8.1} {:>8.1}  {:<10} {:<9} {}",
        value,
        m.tps,
        run.sigverify_only_tps
            .map_or_else(|| "-".to_string(), |b| format!("{b:.0}")),
        m.latency_p50_ms,
        m.latency_p99_ms,
        m.latency_p999_ms,
        m.latency_max_ms,
        run.backend,
        match run.reference_match {
            Some(true) => "match",
            Some(false) => "MISMATCH",
            None => "-",
        },
        &hex::encode(run.state_hash)[..16]
    );
}

/// A plot point from a run.
fn point(label: &str, run: &BenchRun) -> Point {
    let m = &run.metrics;
    Point {
        label: label.to_string(),
        tps: m.tps,
        sigverify_only_tps: run.sigverify_only_tps,
        reference_match: run.reference_match,
        latency_ms: [
            m.latency_p50_ms,
            m.latency_p90_ms,
            m.latency_p99_ms,
            m.latency_p999_ms,
            m.latency_max_ms,
        ],
        latency_histogram: m.latency_histogram.clone(),
        stages: m
            .stages
            .iter()
            .map(|s| (s.stage.to_string(), s.busy_share))
            .collect(),
    }
}

/// The report of a run or sweep.
fn report(
    args: &BenchArgs,
    param: &str,
    runs: &[(String, BenchRun)],
    figures: Vec<Figure>,
) -> Report {
    let swept = |name: &str, value: String| {
        if name == param {
            "(swept)".to_string()
        } else {
            value
        }
    };
    let params = vec![
        (
            "sweep".to_string(),
            match &args.sweep {
                Some(s) => format!("{} = {}", s.param.name(), s.values.join(", ")),
                None => "none (a single run)".to_string(),
            },
        ),
        ("transactions".into(), args.txs.to_string()),
        ("accounts".into(), args.accounts.to_string()),
        ("mix".into(), args.mix.to_string()),
        (
            "contention".into(),
            swept("contention", format!("{:?}", args.contention)),
        ),
        (
            "sigs-per-tx".into(),
            swept("sigs-per-tx", args.sigs_per_tx.to_string()),
        ),
        (
            "invalid-share".into(),
            swept("invalid-share", args.invalid_share.to_string()),
        ),
        ("duplicate-share".into(), args.duplicate_share.to_string()),
        ("v0-share".into(), args.v0_share.to_string()),
        (
            "work-rounds".into(),
            format!("{} ({})", args.work_rounds, args.cost_dist),
        ),
        ("backend".into(), swept("backend", args.backend.to_string())),
        ("rule".into(), swept("rule", args.rule.to_string())),
        (
            "block-size".into(),
            swept("block-size", args.block_size.to_string()),
        ),
        (
            "sigverify-batch".into(),
            swept("sigverify-batch", args.sigverify_batch.to_string()),
        ),
        ("workers".into(), swept("workers", args.workers.to_string())),
        (
            "load".into(),
            match args.rate {
                Some(r) => format!("open loop, {r} tx/s ({} arrivals)", args.arrivals),
                None => "flood".to_string(),
            },
        ),
        ("seed".into(), args.seed.to_string()),
        ("threads".into(), rayon::current_num_threads().to_string()),
    ];
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |b| format!("{b:.0}"));
    let results = Table {
        title: "Results".into(),
        header: [
            param,
            "backend",
            "tx/s end to end",
            "tx/s signatures only",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "ok",
            "invalid sig",
            "reference",
            "state hash",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        rows: runs
            .iter()
            .map(|(v, r)| {
                let m = &r.metrics;
                vec![
                    v.clone(),
                    r.backend.clone(),
                    format!("{:.0}", m.tps),
                    opt(r.sigverify_only_tps),
                    format!("{:.1}", m.latency_p50_ms),
                    format!("{:.1}", m.latency_p90_ms),
                    format!("{:.1}", m.latency_p99_ms),
                    format!("{:.1}", m.latency_p999_ms),
                    format!("{:.1}", m.latency_max_ms),
                    m.outcomes.ok.to_string(),
                    m.outcomes.invalid_signature.to_string(),
                    match r.reference_match {
                        Some(true) => "match".into(),
                        Some(false) => "MISMATCH".into(),
                        None => "-".into(),
                    },
                    hex::encode(r.state_hash)[..16].to_string(),
                ]
            })
            .collect(),
    };
    let stages = Table {
        title: "Stages".into(),
        header: [
            param,
            "stage",
            "tx/s (wall)",
            "busy s",
            "busy share %",
            "tx/s (busy)",
            "max queue",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        rows: runs
            .iter()
            .flat_map(|(v, r)| {
                r.metrics.stages.iter().map(move |s| {
                    vec![
                        v.clone(),
                        s.stage.to_string(),
                        format!("{:.0}", s.tps),
                        format!("{:.3}", s.busy_s),
                        format!("{:.0}", s.busy_share * 100.0),
                        format!("{:.0}", s.capacity_tps),
                        s.max_queue_depth.to_string(),
                    ]
                })
            })
            .collect(),
    };
    Report::new(
        "txpipe bench",
        args.sweep.as_ref().map(|s| s.param.name()),
        params,
        vec![results, stages],
        figures,
    )
}

/// `txpipe bench`: one run, or one per value of `--sweep`; plots and a report on request.
pub fn bench(mut args: BenchArgs) -> anyhow::Result<ExitCode> {
    let progress = Progress::stderr();
    if args.plot.is_some() || args.report.is_some() {
        // the throughput plot shows signature verification alone and the reference check
        args.baseline = true;
        args.check_reference = true;
    }
    // every input is checked before the first (possibly long) run
    let steps = sweep::steps(args.sweep.as_ref(), &args, |p, a, v| p.apply(a, v))?;
    sweep::check_outputs(args.plot.as_deref(), args.report.as_deref())?;
    let param = args.sweep.as_ref().map_or("run", |s| s.param.name());
    let total = steps.len();
    if args.sweep.is_some() && !args.json {
        print_sweep_header(param);
    }
    let mut runs: Vec<(String, BenchRun)> = Vec::with_capacity(total);
    for (i, (value, step)) in steps.iter().enumerate() {
        let progress = match &args.sweep {
            Some(_) => progress.with_prefix(format!("[{}/{total} {param}={value}] ", i + 1)),
            None => progress.clone(),
        };
        let run = run_once(step, &progress)?;
        match (&args.sweep, args.json) {
            (None, true) => println!("{}", run.json),
            (None, false) => print_table(step, &run),
            (Some(_), true) => {
                let mut obj = run.json.clone();
                obj["sweep"] = json!({"param": param, "value": value});
                println!("{obj}");
            }
            (Some(_), false) => print_sweep_row(value, &run),
        }
        if run.reference_match == Some(false) {
            match &args.sweep {
                Some(_) => eprintln!(
                    "txpipe: the pipeline's results differ from the reference run ({param}={value})"
                ),
                None => eprintln!("txpipe: the pipeline's results differ from the reference run"),
            }
        }
        runs.push((value.clone(), run));
    }
    if args.plot.is_some() || args.report.is_some() {
        let plots = BenchPlots {
            param: param.to_string(),
            caption: machine::caption(),
            points: runs.iter().map(|(v, r)| point(v, r)).collect(),
        };
        let mut figures = None;
        if let Some(dir) = &args.plot {
            let (figs, files) = plots.write(dir)?;
            figures = Some(figs);
            if !args.json {
                eprintln!(
                    "txpipe: wrote {} plot files into {}",
                    files.len(),
                    dir.display()
                );
            }
        }
        if let Some(file) = &args.report {
            let figures = match figures {
                Some(f) => f,
                None => plots.svgs()?,
            };
            report(&args, param, &runs, figures).write(file)?;
            if !args.json {
                eprintln!("txpipe: wrote the report {}", file.display());
            }
        }
    }
    if runs.iter().any(|(_, r)| r.reference_match == Some(false)) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
