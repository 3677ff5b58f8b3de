//! `txpipe bench-exec` end to end: the JSON fields other tools read, equal results on
//! every path, the diagnostic options, and argument errors.

use std::process::Command;

use serde_json::Value;

fn bench_exec(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_txpipe"))
        .arg("bench-exec")
        .args(args)
        .output()
        .expect("run txpipe");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let (code, stdout, stderr) = bench_exec(&all);
    assert_eq!(code, 0, "bench-exec {args:?} failed: {stderr}");
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

/// The fields the issue names, with their types, and the run's equality verdicts.
fn check_contract(v: &Value, accounts: u64, txs: u64) {
    for field in ["sequential_tps", "parallel_tps"] {
        assert!(v[field].as_f64().is_some_and(|t| t > 0.0), "{field}: {v}");
    }
    assert!(
        v["batches"].as_u64().is_some_and(|b| b >= 1 && b <= txs),
        "{v}"
    );
    let seq = v["state_hash_sequential"].as_str().expect("hash string");
    assert_eq!(seq.len(), 64);
    assert!(seq.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(v["state_hash_parallel"].as_str(), Some(seq));
    assert_eq!(v["results_equal"], Value::Bool(true));
    assert_eq!(v["accounts"].as_u64(), Some(accounts));
    assert_eq!(v["txs"].as_u64(), Some(txs));
    // Every generated transfer is funded and signed: all succeed.
    assert_eq!(v["ok_txs"].as_u64(), Some(txs));
}

#[test]
fn random_pairs_on_every_path() {
    // Contended (sequential fallback), spread (windowed path), and forced windows.
    for (accounts, extra) in [
        (2u64, &[][..]),
        (64, &[][..]),
        (64, &["--force-parallel", "--window", "37"][..]),
    ] {
        let mut args = vec!["--txs", "300", "--threads", "2", "--repeat", "2"];
        let accounts_arg = accounts.to_string();
        args.extend(["--accounts", accounts_arg.as_str()]);
        args.extend(extra);
        let v = json(&args);
        check_contract(&v, accounts, 300);
        assert_eq!(v["pairs"], "random");
        assert!(v.get("ceiling_speedup").is_none());
        if extra.contains(&"--force-parallel") {
            assert_eq!(v["parallel_path"], "parallel");
        }
    }
}

#[test]
fn same_part_pairs_and_the_ceiling() {
    let v = json(&[
        "--accounts",
        "64",
        "--txs",
        "300",
        "--threads",
        "2",
        "--repeat",
        "2",
        "--pairs",
        "same-part",
        "--force-parallel",
        "--ceiling",
    ]);
    check_contract(&v, 64, 300);
    assert_eq!(v["pairs"], "same-part");
    assert!(
        v["ceiling_speedup"].as_f64().is_some_and(|r| r > 0.0),
        "{v}"
    );
    for field in ["ceiling_sequential_us", "ceiling_parallel_us"] {
        assert!(v[field].as_u64().is_some(), "{field}: {v}");
    }

    // The text report says the same.
    let (code, stdout, stderr) = bench_exec(&[
        "--accounts",
        "16",
        "--txs",
        "50",
        "--threads",
        "2",
        "--repeat",
        "1",
        "--ceiling",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("results_equal:         true"), "{stdout}");
    assert!(stdout.contains("ceiling:"), "{stdout}");
}

#[test]
fn bad_arguments_are_rejected() {
    for args in [
        &["--accounts", "1"][..],
        &["--txs", "0"][..],
        &["--threads", "0"][..],
        &["--pairs", "nearby"][..],
        &["--window", "0"][..],
    ] {
        let (code, stdout, stderr) = bench_exec(args);
        assert_ne!(code, 0, "{args:?} accepted: {stdout}");
        assert!(!stderr.is_empty(), "{args:?}: no message");
    }
}

#[test]
fn work_rounds_and_cost_distributions() {
    for (dist, extra) in [
        ("const", &[][..]),
        ("lognormal:1", &["--force-parallel", "--window", "53"][..]),
        ("lognormal:2", &["--pairs", "same-part"][..]),
    ] {
        let mut args = vec![
            "--txs",
            "300",
            "--accounts",
            "64",
            "--threads",
            "2",
            "--repeat",
            "2",
            "--work-rounds",
            "5",
            "--cost-dist",
            dist,
        ];
        args.extend(extra);
        let v = json(&args);
        check_contract(&v, 64, 300);
        assert_eq!(v["work_rounds"].as_u64(), Some(5), "{v}");
        assert_eq!(v["cost_dist"].as_str(), Some(dist), "{v}");
        assert!(v["mean_tx_us"].as_f64().is_some_and(|t| t > 0.0), "{v}");
        // Each transaction: 150 (transfer) + 150 + rounds × 103 (work).
        let units = v["compute_units"].as_u64().expect("units");
        if dist == "const" {
            assert_eq!(units, 300 * (300 + 5 * 103), "{v}");
        } else {
            assert!(units > 300 * 300, "{v}");
        }
    }
    // Plain transfers: 150 units each, and the new fields still there.
    let v = json(&["--txs", "100", "--accounts", "10", "--repeat", "1"]);
    assert_eq!(v["compute_units"].as_u64(), Some(100 * 150));
    assert_eq!(v["work_rounds"].as_u64(), Some(0));
    assert_eq!(v["cost_dist"].as_str(), Some("const"));
    let (code, _, stderr) = bench_exec(&["--cost-dist", "pareto:1"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("cost distribution"), "{stderr}");
}
