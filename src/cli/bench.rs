//! `txpipe bench`: the main job. Generates (or loads from the cache) a signed workload,
//! runs it through the pipeline, and prints a summary table or one JSON object.

use std::io::IsTerminal;
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

/// Arguments of `bench`.
#[derive(Args, Debug)]
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

fn progress_printer(quiet: bool) -> impl Fn(usize, usize) + Sync {
    let tty = std::io::stderr().is_terminal();
    let last = std::sync::atomic::AtomicUsize::new(usize::MAX);
    move |done: usize, total: usize| {
        if quiet && !tty {
            return;
        }
        let pct = done * 100 / total.max(1);
        let step = if tty { pct } else { pct / 25 * 25 };
        if last.swap(step, std::sync::atomic::Ordering::Relaxed) == step {
            return;
        }
        let width = 30;
        let filled = width * done / total.max(1);
        let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
        if tty {
            eprint!("\rsigning workload [{bar}] {pct:3}% ({done}/{total})");
            if done == total {
                eprintln!();
            }
        } else {
            eprintln!("signing workload [{bar}] {pct:3}% ({done}/{total})");
        }
    }
}

/// Loads the workload from the cache, or generates, signs and caches it.
fn load_workload(args: &BenchArgs, spec: &WorkloadSpec) -> anyhow::Result<(Workload, bool)> {
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
    let w = Workload::generate(spec, &progress_printer(args.json))?;
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

/// `txpipe bench`.
pub fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
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
    let (workload, cached) = load_workload(&args, &spec)?;
    let prep_s = t.elapsed().as_secs_f64();

    let verifier = Arc::new(
        BackendVerifier::open_with_rule(args.backend, args.rule)
            .with_context(|| format!("cannot use backend {}", args.backend))?,
    );
    if args.backend == BackendChoice::Auto && !verifier.has_gpu() {
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
    let baseline_before = args
        .baseline
        .then(|| sigverify_only(&verifier, &workload.packets, args.sigverify_batch));
    let pipeline = Pipeline::new(config.clone())?;
    let table = Arc::clone(pipeline.accounts());
    let (results, metrics, offered_tps, achieved_tps) = match args.rate {
        Some(rate) => {
            let run = run_open_loop(pipeline, &workload.packets, rate, args.arrivals, args.seed)?;
            (
                run.results,
                run.metrics,
                Some(run.offered_tps),
                run.achieved_tps,
            )
        }
        None => {
            let (results, metrics) = pipeline.run(workload.blocks(args.block_size))?;
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
        let (reference, ref_table) = run_reference(&config, &blocks)?;
        Some(reference == results && txpipe::state::full_state_hash(&ref_table) == state_hash)
    } else {
        None
    };
    let baseline_after = args
        .baseline
        .then(|| sigverify_only(&verifier, &workload.packets, args.sigverify_batch));
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
    if args.json {
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
        println!("{obj}");
    } else {
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
    if reference_match == Some(false) {
        eprintln!("txpipe: the pipeline's results differ from the reference run");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
