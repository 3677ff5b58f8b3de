//! `txpipe verify-sigs` and `txpipe verify-txs`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use txpipe::backend::BackendChoice;
use txpipe::sigverify::{BackendVerifier, SigItem, SignatureRule};
use txpipe::tx::TransactionView;

use txpipe::lines::{decode_packet_line, decode_sig_line, SigLine, SigLineError};

use super::io::{open_lines, read_lines, stdout, write_json_line};

/// Arguments of `verify-sigs`.
#[derive(Args, Debug)]
pub struct VerifySigsArgs {
    /// Backend: auto (GPU for large batches when an adapter exists), cpu, or gpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
    /// Signature rule: strict (ed25519-dalek verify_strict) or cofactored (SIMD-0376).
    #[arg(long, default_value = "strict")]
    rule: SignatureRule,
    /// Lines verified per batch.
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..))]
    batch_size: u32,
    /// JSON Lines input (standard input when absent or `-`).
    file: Option<PathBuf>,
}

/// Arguments of `verify-txs`.
#[derive(Args, Debug)]
pub struct VerifyTxsArgs {
    /// Backend: auto (GPU for large batches when an adapter exists), cpu, or gpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
    /// Signature rule: strict (ed25519-dalek verify_strict) or cofactored (SIMD-0376).
    #[arg(long, default_value = "strict")]
    rule: SignatureRule,
    /// Lines verified per batch.
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..))]
    batch_size: u32,
    /// One base64 wire transaction per line (standard input when absent or `-`).
    file: Option<PathBuf>,
}

/// Running totals for the summary line.
#[derive(Default)]
struct Totals {
    lines: u64,
    valid: u64,
    invalid: u64,
    errors: u64,
    signatures: u64,
}

fn open_backend(choice: BackendChoice, rule: SignatureRule) -> anyhow::Result<BackendVerifier> {
    BackendVerifier::open_with_rule(choice, rule)
        .with_context(|| format!("cannot use backend {choice}"))
}

fn summary(cmd: &str, t: &Totals, verifier: &BackendVerifier, started: Instant) {
    let elapsed = started.elapsed().as_secs_f64();
    let stats = verifier.stats();
    let backend = match (stats.gpu_signatures, stats.cpu_signatures) {
        (0, _) => "cpu".to_string(),
        (_, 0) => "gpu".to_string(),
        (g, c) => format!("gpu+cpu ({g} gpu, {c} cpu)"),
    };
    let rate = if elapsed > 0.0 {
        t.signatures as f64 / elapsed
    } else {
        0.0
    };
    eprintln!(
        "{cmd}: lines={} valid={} invalid={} errors={} backend={} gpu_fallbacks={} signatures={} elapsed={:.3}s signatures_per_second={:.0} rule={}",
        t.lines,
        t.valid,
        t.invalid,
        t.errors,
        backend,
        stats.gpu_failures,
        t.signatures,
        elapsed,
        rate,
        verifier.signature_rule()
    );
}

/// `txpipe verify-sigs`.
pub fn verify_sigs(args: VerifySigsArgs) -> anyhow::Result<ExitCode> {
    let verifier = open_backend(args.backend, args.rule)?;
    let mut input = open_lines(args.file.as_deref())?;
    let mut out = stdout();
    let mut lines = Vec::new();
    let mut totals = Totals::default();
    let started = Instant::now();
    let mut line_no = 0u64;
    while read_lines(&mut input, &mut lines, args.batch_size as usize)? > 0 {
        let parsed: Vec<Result<SigLine, SigLineError>> =
            lines.iter().map(decode_sig_line).collect();
        let items: Vec<SigItem<'_>> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .map(|s| SigItem {
                pubkey: &s.pubkey,
                message: &s.message,
                signature: &s.signature,
            })
            .collect();
        let mut verdicts = vec![false; items.len()];
        verifier
            .verify_routed(&items, &mut verdicts)
            .context("signature verification failed")?;
        totals.signatures += items.len() as u64;
        let mut verdicts = verdicts.into_iter();
        for p in &parsed {
            line_no += 1;
            totals.lines += 1;
            let value = match p {
                Ok(_) => {
                    let valid = verdicts.next().unwrap_or(false);
                    if valid {
                        totals.valid += 1;
                    } else {
                        totals.invalid += 1;
                    }
                    json!({"line": line_no, "valid": valid})
                }
                Err(e) => {
                    totals.errors += 1;
                    json!({"line": line_no, "error": e.to_string()})
                }
            };
            write_json_line(&mut out, &value)?;
        }
    }
    std::io::Write::flush(&mut out).context("error writing output")?;
    summary("verify-sigs", &totals, &verifier, started);
    Ok(ExitCode::SUCCESS)
}

/// `txpipe verify-txs`.
pub fn verify_txs(args: VerifyTxsArgs) -> anyhow::Result<ExitCode> {
    let verifier = open_backend(args.backend, args.rule)?;
    let mut input = open_lines(args.file.as_deref())?;
    let mut out = stdout();
    let mut lines = Vec::new();
    let mut totals = Totals::default();
    let started = Instant::now();
    let mut line_no = 0u64;
    while read_lines(&mut input, &mut lines, args.batch_size as usize)? > 0 {
        let first_line = line_no + 1;
        line_no += lines.len() as u64;
        let packets: Vec<Option<Result<Vec<u8>, serde_json::Value>>> = lines
            .iter()
            .map(|l| match decode_packet_line(l) {
                Ok(p) => p.map(Ok),
                Err(e) => Some(Err(json!({"error": e.kind(), "detail": e.to_string()}))),
            })
            .collect();
        let views: Vec<Option<Result<TransactionView<'_>, serde_json::Value>>> = packets
            .iter()
            .map(|p| {
                p.as_ref().map(|p| match p {
                    Ok(bytes) => TransactionView::parse(bytes)
                        .map_err(|e| json!({"error": e.kind(), "detail": e.to_string()})),
                    Err(e) => Err(e.clone()),
                })
            })
            .collect();
        let items: Vec<SigItem<'_>> = views
            .iter()
            .flatten()
            .filter_map(|v| v.as_ref().ok())
            .flat_map(|v| v.sig_items())
            .collect();
        let mut verdicts = vec![false; items.len()];
        verifier
            .verify_routed(&items, &mut verdicts)
            .context("signature verification failed")?;
        totals.signatures += items.len() as u64;
        let mut next = 0usize;
        for (i, view) in views.iter().enumerate() {
            let Some(view) = view else { continue };
            totals.lines += 1;
            let n = first_line + i as u64;
            let value = match view {
                Ok(v) => {
                    let count = v.signatures().len();
                    let valid = verdicts
                        .get(next..next + count)
                        .is_some_and(|s| s.iter().all(|&ok| ok));
                    next += count;
                    if valid {
                        totals.valid += 1;
                    } else {
                        totals.invalid += 1;
                    }
                    json!({"line": n, "valid": valid, "version": v.version().as_str(), "signatures": count})
                }
                Err(err) => {
                    totals.errors += 1;
                    let mut obj = json!({"line": n});
                    if let (Some(o), Some(e)) = (obj.as_object_mut(), err.as_object()) {
                        o.extend(e.clone());
                    }
                    obj
                }
            };
            write_json_line(&mut out, &value)?;
        }
    }
    std::io::Write::flush(&mut out).context("error writing output")?;
    summary("verify-txs", &totals, &verifier, started);
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `gen-sigs`.
#[derive(Args, Debug)]
pub struct GenSigsArgs {
    /// Number of cases (they cycle through every adversarial category).
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Seed: the same seed gives the same cases.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// `txpipe gen-sigs`: adversarial `verify-sigs` input (pubkey, message, signature, and the
/// case's `category`; no verdict, so a checker computes its own).
pub fn gen_sigs(args: GenSigsArgs) -> anyhow::Result<ExitCode> {
    let mut out = stdout();
    for c in txpipe::testing::adversarial(args.count, args.seed) {
        write_json_line(
            &mut out,
            &json!({
                "pubkey": hex::encode(c.pubkey),
                "message": hex::encode(&c.message),
                "signature": hex::encode(c.signature),
                "category": c.category,
            }),
        )?;
    }
    std::io::Write::flush(&mut out).context("error writing output")?;
    Ok(ExitCode::SUCCESS)
}
