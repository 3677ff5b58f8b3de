//! The GPU check (`scripts/gpu-check.sh BINARY --quick`, which runs `txpipe gpu-check`):
//! its last line of output is one JSON object with every field the README names, the GPU
//! and the CPU agree on every shipped vector set under both rules, and the quick batches
//! are 1k and 4k signatures. Runs the binary `cargo test` builds (debug: no release build
//! in CI). Needs an adapter (lavapipe in CI): without one the test is reported ignored, and
//! with `CI=true` it fails (`gpu_support`).

#[path = "gpu_support/mod.rs"]
mod gpu_support;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

fn positive(v: &Value, what: &str) -> f64 {
    let x = v
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"));
    assert!(x > 0.0 && x.is_finite(), "{what} = {x}");
    x
}

fn the_quick_check_reports_every_field_and_agreement() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gpu-check.sh");
    let cache = std::env::temp_dir().join(format!("txpipe-gpu-check-{}", std::process::id()));
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_txpipe"))
        .arg("--quick")
        // a fresh cache: the first start-up is a cold one
        .env("TXPIPE_CACHE_DIR", &cache)
        .output()
        .expect("run scripts/gpu-check.sh");
    let _ = std::fs::remove_dir_all(&cache);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "gpu-check.sh failed: {stderr}");
    eprintln!(
        "gpu-check.sh --quick: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().expect("some output");
    let v: Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("the last line is not JSON ({e}): {last}\n{stderr}"));

    let adapter = &v["adapter"];
    assert!(
        adapter["name"].as_str().is_some_and(|n| !n.is_empty()),
        "{adapter}"
    );
    assert!(adapter["backend"].is_string(), "{adapter}");
    positive(
        &adapter["limits"]["max_storage_buffer_binding_size"],
        "max_storage_buffer_binding_size",
    );
    positive(
        &adapter["limits"]["max_compute_workgroups_per_dimension"],
        "max_compute_workgroups_per_dimension",
    );

    let sigverify = v["sigverify"].as_array().expect("sigverify is a list");
    let batches: Vec<u64> = sigverify
        .iter()
        .map(|e| e["batch"].as_u64().expect("batch"))
        .collect();
    assert_eq!(batches, vec![1024, 4096]);
    for e in sigverify {
        positive(&e["gpu_sigs_per_s"], "gpu_sigs_per_s");
        positive(&e["cpu_sigs_per_s"], "cpu_sigs_per_s");
    }

    let cold = positive(&v["startup_s"]["cold"], "startup_s.cold");
    let warm = positive(&v["startup_s"]["warm"], "startup_s.warm");
    assert_eq!(
        v["startup_s"]["cold_cache_hit"],
        Value::Bool(false),
        "a fresh cache"
    );
    eprintln!("start-up: cold {cold:.1} s, warm {warm:.1} s");
    positive(&v["sha256_msgs_per_s"], "sha256_msgs_per_s");
    positive(&v["poh_hashes_per_s"], "poh_hashes_per_s");

    let bench = &v["bench"];
    assert_eq!(
        bench["transactions"].as_u64(),
        Some(10_000),
        "{bench}\n{stderr}"
    );
    assert_eq!(bench["backend"].as_str(), Some("gpu"), "{bench}");
    positive(&bench["tps"], "bench.tps");

    assert_eq!(
        v["agreement"],
        Value::Bool(true),
        "{}",
        v["agreement_detail"]
    );
    // every shipped set, under both rules
    let sets = v["agreement_detail"]["sets"].as_array().expect("sets");
    for rule in ["strict", "cofactored"] {
        for set in ["wycheproof", "cctv", "solana/all"] {
            assert!(
                sets.iter().any(|s| s["rule"] == rule
                    && s["set"] == set
                    && s["signatures"].as_u64() > Some(0)),
                "{set} under {rule}: {sets:?}"
            );
        }
    }
}

fn main() -> std::process::ExitCode {
    gpu_support::run(&[(
        "the_quick_check_reports_every_field_and_agreement",
        the_quick_check_reports_every_field_and_agreement,
    )])
}
