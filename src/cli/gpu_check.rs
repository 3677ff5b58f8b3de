//! `txpipe gpu-check`: what a machine's GPU does for txpipe, as one JSON object on stdout
//! (progress on stderr). `scripts/gpu-check.sh` runs it on a machine with a real GPU.
//!
//! Fields: `adapter` (name, backend, device type, driver, limits), `sigverify` (GPU and CPU
//! signatures per second on batches of valid signatures with 200-byte messages, distinct
//! signers: 16k, 128k and 1M, or 1k and 4k with `--quick`), `startup_s` (`cold`: a fresh
//! process of this binary opening the device and the verification kernel and verifying its
//! first signature; `warm`: the same in this process, after it, so with the pipeline
//! cache the first one wrote), `sha256_msgs_per_s` and `poh_hashes_per_s` (the GPU hasher),
//! `bench` (the object of `txpipe bench --backend gpu --json`, run as a child process:
//! 1M transactions, 10k with `--quick`), and `agreement` (GPU and CPU verdicts equal on
//! every shipped vector set under both signature rules; `null` with `agreement_reason`
//! when the vectors cannot be read). Lavapipe's figures are a software renderer's, never
//! GPU speed.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use ed25519_dalek::{Signer, SigningKey};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use serde_json::{json, Value};

use txpipe::error::error_chain;
use txpipe::gpu::{adapters_report, AdapterReport};
use txpipe::hash::{BatchHasher, CpuHasher, GpuHasher};
use txpipe::sigverify::{CpuVerifier, GpuSigVerifier, SigItem, SigVerifier, SignatureRule};
use txpipe::testing;
use txpipe::tx::TransactionView;

/// Arguments of `txpipe gpu-check`.
#[derive(Args, Debug)]
pub struct GpuCheckArgs {
    /// Small sizes: batches of 1k and 4k signatures, a bench of 10k transactions (a minute
    /// or two on a software adapter).
    #[arg(long)]
    quick: bool,
    /// Directory of the shipped test vectors (Wycheproof, CCTV, solana/*.jsonl). Default:
    /// `$TXPIPE_VECTORS`, else the first that exists of `vectors` and `../shared/vectors`
    /// under the working directory, the same next to the binary, and the source tree's.
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// Transactions for the bench (default 1,000,000; 10,000 with --quick; 0: no bench).
    #[arg(long)]
    bench_txs: Option<usize>,
    /// Without a GPU adapter, measure the CPU only (GPU fields null) instead of failing.
    #[arg(long)]
    allow_cpu_only: bool,
    /// Only open the GPU verifier, verify one signature and print `{"startup_s": …}` (what
    /// the check runs in a fresh process to time a cold start).
    #[arg(long)]
    startup_only: bool,
}

/// Signature batch sizes measured.
const FULL_BATCHES: [usize; 3] = [16_384, 131_072, 1_048_576];
const QUICK_BATCHES: [usize; 2] = [1024, 4096];
/// Message length of the measured signatures (a typical transfer's message).
const MESSAGE_BYTES: usize = 200;

/// Runs `txpipe gpu-check`.
pub fn gpu_check(args: GpuCheckArgs) -> anyhow::Result<ExitCode> {
    if args.startup_only {
        let (_, startup) = open_verifier()?;
        println!(
            "{}",
            json!({ "startup_s": startup.seconds, "cache_hit": startup.cache_hit })
        );
        return Ok(ExitCode::SUCCESS);
    }
    let adapter = adapters_report().into_iter().find(|a| a.selected);
    if adapter.is_none() && !args.allow_cpu_only {
        bail!(
            "no GPU adapter found (install the Vulkan loader and a driver; see README, \
             \"Checking a real GPU\"), or pass --allow-cpu-only for CPU figures alone"
        );
    }
    let has_gpu = adapter.is_some();
    if let Some(a) = &adapter {
        progress(&format!(
            "adapter: {} ({}, {})",
            a.name, a.backend, a.device_type
        ));
        if a.device_type == "Cpu" {
            progress("a software renderer: its timings say nothing about GPU speed");
        }
    }

    // the cold start first, in a fresh process, before this one writes anything
    let cold = if has_gpu {
        progress("cold start: a fresh process opens the verifier");
        Some(cold_startup())
    } else {
        None
    };
    let (gpu, warm) = if has_gpu {
        progress("warm start: this process opens the verifier");
        let (gpu, warm) = open_verifier()?;
        (Some(gpu), Some(warm))
    } else {
        (None, None)
    };
    let startup = json!({
        "cold": cold.as_ref().and_then(|c| c.as_ref().ok()).map(|s| s.seconds),
        "warm": warm.as_ref().map(|s| s.seconds),
        "cold_cache_hit": cold.as_ref().and_then(|c| c.as_ref().ok()).map(|s| s.cache_hit),
        "warm_cache_hit": warm.as_ref().map(|s| s.cache_hit),
        "cold_error": cold.as_ref().and_then(|c| c.as_ref().err()).map(|e| format!("{e:#}")),
    });

    let batches: &[usize] = if args.quick {
        &QUICK_BATCHES
    } else {
        &FULL_BATCHES
    };
    let sigverify = measure_sigverify(gpu.as_ref(), batches, args.quick);
    let (sha256, sha256_cpu) = measure_sha256(has_gpu, if args.quick { 4096 } else { 262_144 });
    let poh = if has_gpu {
        measure_poh(if args.quick {
            (1024, 2000)
        } else {
            (16_384, 20_000)
        })
    } else {
        Value::Null
    };
    let (agreement, agreement_detail) = match &gpu {
        Some(_) => agreement(args.vectors.as_deref()),
        None => (Value::Null, json!({"reason": "no GPU adapter"})),
    };
    let bench_txs = args
        .bench_txs
        .unwrap_or(if args.quick { 10_000 } else { 1_000_000 });
    let (bench, bench_error) = if has_gpu && bench_txs > 0 {
        progress(&format!(
            "bench --backend gpu --txs {bench_txs} (a child process)"
        ));
        match run_bench(bench_txs) {
            Ok(v) => (v, None),
            Err(e) => (Value::Null, Some(format!("{e:#}"))),
        }
    } else {
        (Value::Null, None)
    };

    let report = json!({
        "adapter": adapter.as_ref().map(adapter_json),
        "quick": args.quick,
        "sigverify": sigverify,
        "startup_s": startup,
        "sha256_msgs_per_s": sha256,
        "sha256_cpu_msgs_per_s": sha256_cpu,
        "poh_hashes_per_s": poh,
        "bench": bench,
        "bench_error": bench_error,
        "agreement": agreement,
        "agreement_detail": agreement_detail,
        "version": env!("CARGO_PKG_VERSION"),
    });
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

fn progress(line: &str) {
    eprintln!("gpu-check: {line}");
}

fn adapter_json(a: &AdapterReport) -> Value {
    json!({
        "name": a.name,
        "backend": a.backend,
        "device_type": a.device_type,
        "driver": a.driver,
        "limits": {
            "max_storage_buffer_binding_size": a.max_storage_buffer_binding_size,
            "max_buffer_size": a.max_buffer_size,
            "max_compute_workgroups_per_dimension": a.max_compute_workgroups_per_dimension,
            "max_compute_invocations_per_workgroup": a.max_compute_invocations_per_workgroup,
        },
        "pipeline_cache": a.pipeline_cache,
        "shader_int64": a.shader_int64,
    })
}

/// What opening the GPU verifier cost: device, kernel, first signature verified.
struct Startup {
    seconds: f64,
    /// Whether the pipeline cache had something to load.
    cache_hit: bool,
}

/// Opens the device and the (strict) verification kernel and verifies one signature
/// (some drivers compile at the first dispatch), timing all of it.
fn open_verifier() -> anyhow::Result<(GpuSigVerifier, Startup)> {
    let t0 = Instant::now();
    let gpu = GpuSigVerifier::open()
        .map_err(|e| anyhow::anyhow!("cannot open the GPU verifier: {}", error_chain(&e)))?;
    let (pk, sig, msg) = ([0u8; 32], [0u8; 64], [0u8; 0]);
    let item = SigItem {
        pubkey: &pk,
        message: &msg,
        signature: &sig,
    };
    let mut out = [false];
    gpu.verify_into(&[item], &mut out)
        .map_err(|e| anyhow::anyhow!("the first GPU batch failed: {}", error_chain(&e)))?;
    let seconds = t0.elapsed().as_secs_f64();
    let cache_hit = txpipe::gpu::startup_report()
        .map(|r| r.warm())
        .unwrap_or(false);
    Ok((gpu, Startup { seconds, cache_hit }))
}

/// Runs this binary with `gpu-check --startup-only` and reads its start-up.
fn cold_startup() -> anyhow::Result<Startup> {
    let exe = std::env::current_exe().context("cannot find this binary")?;
    let out = Command::new(exe)
        .args(["gpu-check", "--startup-only"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run this binary again")?;
    if !out.status.success() {
        bail!("the start-up process failed ({})", out.status);
    }
    let v = last_json_line(&out.stdout)?;
    Ok(Startup {
        seconds: v["startup_s"]
            .as_f64()
            .context("no startup_s in the start-up process's output")?,
        cache_hit: v["cache_hit"].as_bool().unwrap_or(false),
    })
}

/// The last non-empty line of `stdout`, as JSON.
fn last_json_line(stdout: &[u8]) -> anyhow::Result<Value> {
    let text = String::from_utf8_lossy(stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .context("no output")?;
    serde_json::from_str(line).context("the last line of output is not JSON")
}

/// `n` valid signatures over 200-byte messages, each by its own signer (deterministic).
struct Signed {
    pubkeys: Vec<[u8; 32]>,
    messages: Vec<[u8; MESSAGE_BYTES]>,
    signatures: Vec<[u8; 64]>,
}

impl Signed {
    fn generate(n: usize) -> Self {
        let triples: Vec<([u8; 32], [u8; MESSAGE_BYTES], [u8; 64])> = (0..n as u64)
            .into_par_iter()
            .map(|i| {
                let mut rng = ChaCha20Rng::seed_from_u64(i ^ 0x6770_752d_6368_6563);
                let mut secret = [0u8; 32];
                rng.fill_bytes(&mut secret);
                let key = SigningKey::from_bytes(&secret);
                let mut message = [0u8; MESSAGE_BYTES];
                rng.fill_bytes(&mut message);
                let signature = key.sign(&message).to_bytes();
                (key.verifying_key().to_bytes(), message, signature)
            })
            .collect();
        let mut s = Self {
            pubkeys: Vec::with_capacity(n),
            messages: Vec::with_capacity(n),
            signatures: Vec::with_capacity(n),
        };
        for (p, m, sig) in triples {
            s.pubkeys.push(p);
            s.messages.push(m);
            s.signatures.push(sig);
        }
        s
    }

    fn items(&self, n: usize) -> Vec<SigItem<'_>> {
        (0..n.min(self.pubkeys.len()))
            .map(|i| SigItem {
                pubkey: &self.pubkeys[i],
                message: &self.messages[i],
                signature: &self.signatures[i],
            })
            .collect()
    }
}

/// Best rate of `reps` runs of `run` over `n` items (the run returns whether it worked and
/// every verdict was `true`).
fn best_rate(
    n: usize,
    reps: usize,
    mut run: impl FnMut() -> anyhow::Result<bool>,
) -> (Option<f64>, Option<String>) {
    let mut best: Option<f64> = None;
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        match run() {
            Ok(true) => {}
            Ok(false) => return (None, Some("a valid signature was refused".into())),
            Err(e) => return (None, Some(format!("{e:#}"))),
        }
        let rate = n as f64 / t.elapsed().as_secs_f64().max(1e-9);
        best = Some(best.map_or(rate, |b: f64| b.max(rate)));
    }
    (best, None)
}

fn measure_sigverify(gpu: Option<&GpuSigVerifier>, batches: &[usize], quick: bool) -> Value {
    let largest = batches.iter().copied().max().unwrap_or(0);
    progress(&format!("signing {largest} signatures"));
    let signed = Signed::generate(largest);
    let entries: Vec<Value> = batches
        .iter()
        .map(|&n| {
            let items = signed.items(n);
            // repeated runs of small batches; one of the largest
            let reps = if quick || n >= 1 << 20 { 1 } else { 3 };
            let mut out = vec![false; n];
            let (gpu_rate, gpu_error) = match gpu {
                Some(g) => best_rate(n, reps, || {
                    g.verify_into(&items, &mut out)
                        .map_err(|e| anyhow::anyhow!(error_chain(&e)))?;
                    Ok(out.iter().all(|&v| v))
                }),
                None => (None, Some("no GPU adapter".to_string())),
            };
            // a fresh verifier per run: its key cache starts empty, as for new signers
            let (cpu_rate, cpu_error) = best_rate(n, reps, || {
                CpuVerifier::new()
                    .verify_into(&items, &mut out)
                    .map_err(|e| anyhow::anyhow!(error_chain(&e)))?;
                Ok(out.iter().all(|&v| v))
            });
            progress(&format!(
                "sigverify {n}: gpu {} sig/s, cpu {} sig/s",
                gpu_rate.map_or("-".into(), |r| format!("{r:.0}")),
                cpu_rate.map_or("-".into(), |r| format!("{r:.0}"))
            ));
            json!({
                "batch": n,
                "gpu_sigs_per_s": gpu_rate,
                "cpu_sigs_per_s": cpu_rate,
                "gpu_error": gpu_error,
                "cpu_error": cpu_error,
            })
        })
        .collect();
    Value::Array(entries)
}

/// SHA-256 of `n` 200-byte messages: (GPU rate, CPU rate), messages per second.
fn measure_sha256(has_gpu: bool, n: usize) -> (Value, Value) {
    progress(&format!("sha256 of {n} messages of {MESSAGE_BYTES} bytes"));
    let data: Vec<[u8; MESSAGE_BYTES]> = (0..n)
        .map(|i| {
            let mut m = [0u8; MESSAGE_BYTES];
            ChaCha20Rng::seed_from_u64(i as u64).fill_bytes(&mut m);
            m
        })
        .collect();
    let messages: Vec<&[u8]> = data.iter().map(|m| &m[..]).collect();
    let mut out = vec![[0u8; 32]; n];
    let rate = |hasher: &dyn BatchHasher, out: &mut [[u8; 32]]| {
        let (rate, _) = best_rate(n, 3, || {
            hasher
                .sha256_batch(&messages, out)
                .map_err(|e| anyhow::anyhow!(error_chain(&e)))?;
            Ok(true)
        });
        rate
    };
    let cpu = rate(&CpuHasher::new(), &mut out);
    let gpu = if has_gpu {
        match GpuHasher::open() {
            Ok(h) => {
                // the first batch may compile the kernel: not timed
                let _ = h.sha256_batch(&messages[..1], &mut out[..1]);
                let r = rate(&h, &mut out);
                // the GPU digests must be the CPU's
                let wrong = messages
                    .iter()
                    .zip(&out)
                    .any(|(m, d)| txpipe::hash::sha256(m) != *d);
                if wrong {
                    progress("sha256: the GPU's digests differ from the CPU's");
                    None
                } else {
                    r
                }
            }
            Err(e) => {
                progress(&format!("sha256: no GPU hasher: {}", error_chain(&e)));
                None
            }
        }
    } else {
        None
    };
    progress(&format!(
        "sha256: gpu {} msg/s, cpu {} msg/s",
        gpu.map_or("-".into(), |r| format!("{r:.0}")),
        cpu.map_or("-".into(), |r| format!("{r:.0}"))
    ));
    (json!(gpu), json!(cpu))
}

/// Proof-of-history chains on the GPU: `chains` chains of `hashes` hashes, hashes per
/// second (the first chain checked against the CPU).
fn measure_poh((chains, hashes): (usize, u64)) -> Value {
    progress(&format!("poh: {chains} chains x {hashes} hashes"));
    let h = match GpuHasher::open() {
        Ok(h) => h,
        Err(e) => {
            progress(&format!("poh: no GPU hasher: {}", error_chain(&e)));
            return Value::Null;
        }
    };
    let starts: Vec<[u8; 32]> = (0..chains)
        .map(|i| txpipe::hash::sha256(&(i as u64).to_le_bytes()))
        .collect();
    let counts = vec![hashes; chains];
    let mut out = vec![[0u8; 32]; chains];
    let _ = h.hash_chains(&starts[..1], &counts[..1], &mut out[..1]);
    let total = chains.saturating_mul(hashes as usize);
    let (rate, error) = best_rate(total, 2, || {
        h.hash_chains(&starts, &counts, &mut out)
            .map_err(|e| anyhow::anyhow!(error_chain(&e)))?;
        Ok(out[0] == txpipe::hash::sha256_chain(&starts[0], hashes))
    });
    if let Some(e) = error {
        progress(&format!("poh: {e}"));
    }
    progress(&format!(
        "poh: gpu {} hash/s",
        rate.map_or("-".into(), |r| format!("{r:.0}"))
    ));
    json!(rate)
}

/// Runs `txpipe bench --backend gpu --json --txs N` and returns its JSON object.
fn run_bench(txs: usize) -> anyhow::Result<Value> {
    let exe = std::env::current_exe().context("cannot find this binary")?;
    let out = Command::new(exe)
        .args(["bench", "--backend", "gpu", "--json", "--txs"])
        .arg(txs.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run the bench")?;
    if !out.status.success() {
        bail!("the bench failed ({})", out.status);
    }
    last_json_line(&out.stdout)
}

/// The vectors directory: the one given, else the default search (module docs).
fn find_vectors(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(dir) = given {
        return if dir.is_dir() {
            Ok(dir.to_path_buf())
        } else {
            Err(format!("{} is not a directory", dir.display()))
        };
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("TXPIPE_VECTORS") {
        candidates.push(dir.into());
    }
    candidates.push("vectors".into());
    candidates.push("../shared/vectors".into());
    if let Some(bin_dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        candidates.push(bin_dir.join("vectors"));
        candidates.push(bin_dir.join("../shared/vectors"));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"));
    candidates
        .iter()
        .find(|d| d.join("wycheproof_ed25519_test.json").is_file())
        .cloned()
        .ok_or_else(|| {
            format!(
                "no vectors directory (looked for wycheproof_ed25519_test.json in {}); pass --vectors DIR",
                candidates
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// One loaded vector set: owned (pubkey, message, signature) triples.
struct VectorSet {
    name: String,
    cases: Vec<([u8; 32], Vec<u8>, [u8; 64])>,
}

/// Every shipped set under `dir`: Wycheproof, CCTV and each `solana/*.jsonl` (the
/// signatures of every transaction that parses).
fn load_sets(dir: &Path) -> Result<Vec<VectorSet>, String> {
    let of = |cases: Vec<testing::SigCase>| {
        cases
            .into_iter()
            .map(|c| (c.pubkey, c.message, c.signature))
            .collect::<Vec<_>>()
    };
    let mut sets = Vec::new();
    let (wycheproof, _) = testing::load_wycheproof(&dir.join("wycheproof_ed25519_test.json"))
        .map_err(|e| error_chain(&e))?;
    sets.push(VectorSet {
        name: "wycheproof".into(),
        cases: of(wycheproof),
    });
    let cctv =
        testing::load_cctv(&dir.join("cctv_ed25519vectors.json")).map_err(|e| error_chain(&e))?;
    sets.push(VectorSet {
        name: "cctv".into(),
        cases: of(cctv),
    });
    let mut solana: Vec<PathBuf> = std::fs::read_dir(dir.join("solana"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .collect()
        })
        .unwrap_or_default();
    solana.sort();
    for path in solana {
        let packets = testing::load_solana_jsonl(&path).map_err(|e| error_chain(&e))?;
        let mut cases = Vec::new();
        for p in &packets {
            if let Ok(view) = TransactionView::parse(p) {
                cases.extend(
                    view.sig_items()
                        .map(|it| (*it.pubkey, it.message.to_vec(), *it.signature)),
                );
            }
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        sets.push(VectorSet {
            name: format!("solana/{stem}"),
            cases,
        });
    }
    Ok(sets)
}

/// GPU against CPU verdicts on every shipped set under both rules: (`true`/`false`, or
/// `null` when the vectors cannot be read; the detail per set and rule).
fn agreement(given: Option<&Path>) -> (Value, Value) {
    let sets = match find_vectors(given).and_then(|dir| load_sets(&dir).map(|s| (dir, s))) {
        Ok(found) => found,
        Err(reason) => {
            progress(&format!("agreement: not checked: {reason}"));
            return (Value::Null, json!({ "reason": reason }));
        }
    };
    let (dir, sets) = sets;
    progress(&format!("agreement: vectors from {}", dir.display()));
    let mut all = true;
    let mut rows = Vec::new();
    for rule in [SignatureRule::Strict, SignatureRule::Cofactored] {
        let gpu = match GpuSigVerifier::open_with_rule(rule) {
            Ok(g) => g,
            Err(e) => {
                let reason = format!("cannot open the GPU verifier: {}", error_chain(&e));
                return (json!(false), json!({ "reason": reason }));
            }
        };
        let cpu = CpuVerifier::with_rule(rule);
        for set in &sets {
            let items: Vec<SigItem<'_>> = set
                .cases
                .iter()
                .map(|(p, m, s)| SigItem {
                    pubkey: p,
                    message: m,
                    signature: s,
                })
                .collect();
            let mut on_gpu = vec![false; items.len()];
            let mut on_cpu = vec![false; items.len()];
            let gpu_result = gpu.verify_into(&items, &mut on_gpu);
            let cpu_result = cpu.verify_into(&items, &mut on_cpu);
            let definition: Vec<bool> = items
                .iter()
                .map(|it| rule.verify_one(it.pubkey, it.message, it.signature))
                .collect();
            let error = match (&gpu_result, &cpu_result) {
                (Err(e), _) => Some(format!("gpu: {}", error_chain(e))),
                (_, Err(e)) => Some(format!("cpu: {}", error_chain(e))),
                _ => None,
            };
            let mismatches = on_gpu.iter().zip(&on_cpu).filter(|(g, c)| g != c).count();
            let off_definition = on_gpu
                .iter()
                .zip(&definition)
                .filter(|(g, d)| g != d)
                .count();
            let agree = error.is_none() && mismatches == 0 && off_definition == 0;
            all &= agree;
            progress(&format!(
                "agreement {rule} {}: {} signatures, {} valid, {}",
                set.name,
                items.len(),
                on_cpu.iter().filter(|&&v| v).count(),
                if agree { "agree" } else { "DIFFER" }
            ));
            rows.push(json!({
                "set": set.name,
                "rule": rule.to_string(),
                "signatures": items.len(),
                "gpu_valid": on_gpu.iter().filter(|&&v| v).count(),
                "cpu_valid": on_cpu.iter().filter(|&&v| v).count(),
                "mismatches": mismatches,
                "gpu_off_definition": off_definition,
                "error": error,
            }));
        }
    }
    (
        json!(all),
        json!({ "vectors": dir.display().to_string(), "sets": rows }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_vectors_give_a_null_agreement_with_a_reason() {
        let missing = Path::new("/nonexistent/txpipe-vectors");
        let (verdict, detail) = agreement(Some(missing));
        assert_eq!(verdict, Value::Null);
        assert!(detail["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not a directory")));
        // a directory without the vector files: also a reason, not a crash
        let empty = std::env::temp_dir();
        let (verdict, detail) = agreement(Some(&empty));
        assert_eq!(verdict, Value::Null);
        assert!(detail["reason"].is_string(), "{detail}");
    }

    #[test]
    fn the_measured_signatures_are_valid() {
        let signed = Signed::generate(8);
        let items = signed.items(8);
        assert!(CpuVerifier::new()
            .verify(&items)
            .expect("verdicts")
            .iter()
            .all(|&v| v));
        assert!(items.iter().all(|it| it.message.len() == MESSAGE_BYTES));
    }
}
