//! Helpers shared by `tests/hashing.rs` and `tests/gpu_hashing.rs`: the CLI round trips.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use txpipe::hash::sha256;

/// Runs `txpipe hash --backend <backend>` on random hex lines (and a few bad ones) fed on
/// standard input and compares every output line with sha2.
pub fn cli_hash_check(backend: &str, seed: u64) {
    use std::io::Write;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut input = String::new();
    let mut want = Vec::new();
    for i in 0..400 {
        if i % 97 == 5 {
            input.push_str("xyz\n");
            want.push(None);
            continue;
        }
        if i % 89 == 7 {
            input.push_str("abc\n"); // odd length
            want.push(None);
            continue;
        }
        let len = match i {
            0 => 0,
            1..=6 => [55, 56, 63, 64, 119, 120][i - 1],
            _ => rng.gen_range(0..=2000),
        };
        let mut m = vec![0u8; len];
        rng.fill(&mut m[..]);
        let line = if i % 2 == 0 {
            hex::encode(&m)
        } else {
            hex::encode_upper(&m)
        };
        input.push_str(&line);
        input.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
        want.push(Some(hex::encode(sha256(&m))));
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_txpipe"))
        .args(["hash", "--backend", backend, "--batch-size", "128"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn txpipe");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("txpipe output");
    writer.join().expect("writer").expect("write stdin");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "txpipe hash failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), want.len(), "{stderr}");
    for (i, (got, want)) in lines.iter().zip(&want).enumerate() {
        match want {
            Some(d) => assert_eq!(got, d, "line {i}"),
            None => assert!(got.starts_with("error: "), "line {i}: {got}"),
        }
    }
}

/// `txpipe poh-gen` with defects, then `txpipe poh-verify --backend <backend>`.
pub fn cli_poh_check(backend: &str) {
    let dir = std::env::temp_dir().join(format!("txpipe-poh-{backend}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_txpipe"))
            .args(args)
            .output()
            .expect("run txpipe");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let good = dir.join("good.jsonl");
    let bad = dir.join("bad.jsonl");
    let common = [
        "--entries",
        "40",
        "--hashes-per-entry",
        "30",
        "--tx-share",
        "0.5",
    ];
    let mut args = vec!["poh-gen", "-o", good.to_str().expect("path")];
    args.extend(common);
    run(&args);
    let mut args = vec!["poh-gen", "-o", bad.to_str().expect("path")];
    args.extend(common);
    args.extend([
        "--wrong-mixin",
        "31",
        "--flip-bit",
        "12,35",
        "--wrong-num-hashes",
        "20",
    ]);
    run(&args);
    for (file, valid, first_bad, nbad) in [(&good, true, None, 0), (&bad, false, Some(12), 4)] {
        let out = run(&[
            "poh-verify",
            "--backend",
            backend,
            file.to_str().expect("path"),
        ]);
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
        assert_eq!(v["entries"], 40);
        assert_eq!(v["valid"], valid);
        assert_eq!(v["first_bad"].as_u64(), first_bad);
        assert_eq!(v["bad_entries"], nbad);
        assert_eq!(v["backend"], backend);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
