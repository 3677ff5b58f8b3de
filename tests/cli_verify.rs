//! The `verify-sigs` and `verify-txs` commands end to end, on input they have never seen.

#[path = "cli_support/mod.rs"]
mod cli_support;

use base64::Engine;
use cli_support::{json_lines, run, sig_line};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;
use txpipe::testing;

fn txpipe(args: &[&str], stdin: &[u8]) -> (i32, Vec<Value>, String) {
    let (code, out, err) = run(args, stdin);
    (code, json_lines(&out), err)
}

#[test]
fn verify_sigs_agrees_with_dalek_and_reports_bad_lines() {
    let cases = testing::adversarial(1500, 0xdec0de);
    let mut input = String::new();
    let mut expected = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        input.push_str(
            &serde_json::json!({
                "pubkey": hex::encode(c.pubkey),
                "message": hex::encode(&c.message),
                "signature": hex::encode(c.signature),
                "note": c.category,
            })
            .to_string(),
        );
        input.push('\n');
        let ok = VerifyingKey::from_bytes(&c.pubkey)
            .and_then(|vk| vk.verify_strict(&c.message, &Signature::from_bytes(&c.signature)))
            .is_ok();
        expected.push(Some(ok));
        // interleave malformed lines
        if i % 97 == 0 {
            let bad = [
                "not json".to_string(),
                r#"{"pubkey":"00","message":"","signature":"00"}"#.to_string(),
                format!(
                    r#"{{"pubkey":"{}","message":"zz","signature":"{}"}}"#,
                    "11".repeat(32),
                    "22".repeat(64)
                ),
                format!(
                    r#"{{"pubkey":"{}","signature":"{}"}}"#,
                    "11".repeat(32),
                    "22".repeat(64)
                ),
                format!(
                    r#"{{"pubkey":"{}","message":"","signature":"{}"}}"#,
                    "11".repeat(33),
                    "22".repeat(64)
                ),
                format!(
                    r#"{{"pubkey":"{}","message":7,"signature":"{}"}}"#,
                    "11".repeat(32),
                    "22".repeat(64)
                ),
                "".to_string(),
                "[1,2]".to_string(),
            ][(i / 97) % 8]
                .clone();
            input.push_str(&bad);
            input.push('\n');
            expected.push(None);
        }
    }
    let (code, lines, stderr) = txpipe(
        &["verify-sigs", "--backend", "cpu", "--batch-size", "333"],
        input.as_bytes(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines.len(), expected.len());
    for (n, (line, exp)) in lines.iter().zip(&expected).enumerate() {
        assert_eq!(line["line"], n as u64 + 1);
        match exp {
            Some(ok) => assert_eq!(line["valid"], *ok, "line {}", n + 1),
            None => assert!(line["error"].is_string(), "line {}: {line}", n + 1),
        }
    }
    assert!(stderr.contains("backend=cpu"), "{stderr}");
    assert!(stderr.contains("signatures_per_second="), "{stderr}");
}

#[path = "sig_cases/mod.rs"]
mod sig_cases;

#[test]
fn verify_sigs_rule_flag_gives_each_rules_verdicts() {
    // CCTV edge cases and adversarial ones: the two rules disagree on many of them
    let mut cases =
        testing::load_cctv(&testing::vectors_dir().join("cctv_ed25519vectors.json")).unwrap();
    cases.extend(testing::adversarial(400, 0x0376));
    let input: String = cases.iter().map(|c| sig_line(c) + "\n").collect();
    // the GPU kernel too wherever an adapter exists (lavapipe in CI, where it must)
    let mut backends = vec!["cpu"];
    if std::env::var("CI").is_ok_and(|v| v == "true")
        || txpipe::gpu::adapter_is_software().is_some()
    {
        backends.push("gpu");
    }
    let mut differ = 0;
    for backend in backends {
        for (rule, verdict) in [
            (
                "strict",
                txpipe::sigverify::reference_verify as fn(&[u8; 32], &[u8], &[u8; 64]) -> bool,
            ),
            ("cofactored", sig_cases::cofactored_reference),
        ] {
            let (code, lines, stderr) = txpipe(
                &["verify-sigs", "--backend", backend, "--rule", rule],
                input.as_bytes(),
            );
            assert_eq!(code, 0, "{stderr}");
            assert!(stderr.contains(&format!("rule={rule}")), "{stderr}");
            assert!(stderr.contains(&format!("backend={backend}")), "{stderr}");
            assert_eq!(lines.len(), cases.len());
            for (c, line) in cases.iter().zip(&lines) {
                let want = verdict(&c.pubkey, &c.message, &c.signature);
                assert_eq!(line["valid"], want, "{backend} {rule}: {line}");
                if rule == "cofactored" {
                    differ += usize::from(
                        want != txpipe::sigverify::reference_verify(
                            &c.pubkey,
                            &c.message,
                            &c.signature,
                        ),
                    );
                }
            }
        }
    }
    assert!(differ > 50, "the rules differ on {differ} inputs");
    // an unknown rule is refused by name
    let (code, _, stderr) = txpipe(&["verify-sigs", "--rule", "zip215"], b"");
    assert_ne!(code, 0);
    assert!(
        stderr.contains("zip215") && stderr.contains("cofactored"),
        "{stderr}"
    );
}

#[test]
fn verify_sigs_bad_arguments_and_missing_file() {
    let (code, _, stderr) = txpipe(&["verify-sigs", "--backend", "tpu"], b"");
    assert_ne!(code, 0);
    assert!(stderr.contains("tpu"), "{stderr}");
    let (code, _, stderr) = txpipe(&["verify-sigs", "/nonexistent/file.jsonl"], b"");
    assert_ne!(code, 0);
    assert!(stderr.contains("cannot open"), "{stderr}");
}

#[test]
fn verify_txs_real_transactions_and_mutations() {
    let packets = testing::load_solana_jsonl(&testing::vectors_dir().join("solana/sample50.jsonl"))
        .expect("solana sample");
    assert_eq!(packets.len(), 50);
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut input = String::new();
    for p in &packets {
        input.push_str(&b64.encode(p));
        input.push('\n');
        // one signature byte changed
        let mut q = p.clone();
        q[1 + 5] ^= 0x01;
        input.push_str(&b64.encode(&q));
        input.push('\n');
        // the recent blockhash changed: a message byte that always still parses
        let view = txpipe::tx::TransactionView::parse(p).unwrap();
        let off = view.recent_blockhash().as_ptr() as usize - p.as_ptr() as usize;
        let mut q = p.clone();
        q[off] ^= 0x80;
        input.push_str(&b64.encode(&q));
        input.push_str("\n\n");
    }
    input.push_str("%%%not base64\n");
    input.push_str(&b64.encode([1u8, 2, 3]));
    input.push('\n');
    let (code, lines, stderr) = txpipe(&["verify-txs", "--backend", "cpu"], input.as_bytes());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines.len(), 152);
    for (i, chunk) in lines[..150].chunks(3).enumerate() {
        assert_eq!(chunk[0]["valid"], true, "{}", chunk[0]);
        assert_eq!(chunk[1]["valid"], false, "{}", chunk[1]);
        assert_eq!(chunk[2]["valid"], false, "{}", chunk[2]);
        // blank lines are skipped but still counted
        assert_eq!(chunk[0]["line"], (i * 4 + 1) as u64);
        assert!(chunk[0]["version"] == "legacy" || chunk[0]["version"] == "v0");
        assert!(chunk[0]["signatures"].as_u64().unwrap() >= 1);
    }
    assert_eq!(lines[150]["error"], "invalid_base64");
    assert_eq!(lines[151]["error"], "truncated");
}
