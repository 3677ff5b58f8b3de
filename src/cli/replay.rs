//! `txpipe replay`: real wire transactions through the pipeline, with per-transaction
//! results and each block's commit. A transaction stopped by a program txpipe does not
//! run names it (base58) in its reason and in `unsupported_program`; the summary on
//! standard error counts them by program id, most frequent first.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use txpipe::backend::BackendChoice;
use txpipe::execute::{InstructionError, TxError};
use txpipe::pipeline::{BlockResult, Pipeline, PipelineConfig, TxOutcome};
use txpipe::sigverify::SignatureRule;
use txpipe::state::Account;
use txpipe::tx::TransactionView;

use txpipe::lines::{decode_packet_line, PacketLineError};

use super::io::{open_lines, read_lines, stdout, write_json_line};
use super::progress::{run_pipeline, Progress};

/// Arguments of `replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Signature backend: auto, cpu or gpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
    /// Signature rule: strict (ed25519-dalek verify_strict) or cofactored (SIMD-0376).
    #[arg(long, default_value = "strict")]
    rule: SignatureRule,
    /// Transactions per block.
    #[arg(long, default_value_t = 4096)]
    block_size: usize,
    /// Before running, fund every writable signer found in the file with this many
    /// lamports (System-owned), so real transactions can pay their fees.
    #[arg(long)]
    fund: Option<u64>,
    /// One base64 wire transaction per line (standard input when absent or `-`); blank
    /// lines are skipped.
    file: Option<PathBuf>,
}

/// `txpipe replay`.
pub fn replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let mut input = open_lines(args.file.as_deref())?;
    let mut lines = Vec::new();
    let mut packets: Vec<Vec<u8>> = Vec::new();
    let mut line_numbers = Vec::new();
    let mut decode_errors = Vec::new();
    while read_lines(&mut input, &mut lines, 65_536)? > 0 {
        for l in &lines {
            match decode_packet_line(l) {
                Ok(Some(p)) => {
                    packets.push(p);
                    line_numbers.push(l.number);
                }
                Ok(None) => {}
                Err(e) => decode_errors.push((l.number, e)),
            }
        }
    }
    let mut genesis = Vec::new();
    if let Some(lamports) = args.fund {
        let mut seen = std::collections::BTreeSet::new();
        for p in &packets {
            if let Ok(v) = TransactionView::parse(p) {
                let signers = usize::from(v.header().num_required_signatures);
                for (i, k) in v.static_keys().iter().enumerate().take(signers) {
                    if v.is_writable(i) {
                        seen.insert(*k);
                    }
                }
            }
        }
        genesis = seen
            .into_iter()
            .map(|k| (k, Account::new(lamports, [0u8; 32])))
            .collect();
    }
    let config = PipelineConfig {
        backend: args.backend,
        block_size: args.block_size,
        rule: args.rule,
        genesis,
        ..PipelineConfig::default()
    };
    // on a terminal: a spinner while a GPU verifier compiles its kernels, then a bar
    let progress = Progress::stderr();
    let pipeline = if args.backend == BackendChoice::Cpu {
        Pipeline::new(config)
    } else {
        progress.spin("opening the GPU verifier (compiling kernels)", || {
            Pipeline::new(config)
        })
    }
    .context("cannot start the pipeline")?;
    let blocks = packets.chunks(args.block_size.max(1)).map(|c| c.to_vec());
    let (results, metrics) = run_pipeline(&progress, "replay", pipeline, blocks, packets.len())?;
    let mut out = stdout();
    for (line, e) in &decode_errors {
        let v = match e {
            PacketLineError::Base64(reason) => {
                json!({"line": line, "outcome": "invalid_base64", "reason": reason})
            }
            PacketLineError::Line(e) => {
                json!({"line": line, "error": e.kind(), "detail": e.to_string()})
            }
        };
        write_json_line(&mut out, &v)?;
    }
    let mut next = 0usize;
    let mut unsupported: std::collections::BTreeMap<String, usize> = Default::default();
    for BlockResult { outcomes, commit } in &results {
        for o in outcomes {
            let line = line_numbers.get(next).copied().unwrap_or(0);
            next += 1;
            let mut v = json!({"line": line, "block": commit.block, "outcome": o.kind()});
            if let Some(stage) = o.stage() {
                v["stage"] = json!(stage.as_str());
                v["reason"] = json!(o.reason());
            }
            if let TxOutcome::Malformed(e) = o {
                v["error"] = json!(e.kind());
            }
            if let TxOutcome::Failed(TxError::Instruction {
                error: InstructionError::UnknownProgram(id),
                ..
            }) = o
            {
                let id = txpipe::tx::base58::encode(id);
                v["unsupported_program"] = json!(id);
                *unsupported.entry(id).or_default() += 1;
            }
            write_json_line(&mut out, &v)?;
        }
        write_json_line(
            &mut out,
            &json!({"commit": {
                "block": commit.block,
                "state_hash": hex::encode(commit.state_hash),
                "transaction_root": hex::encode(commit.transaction_root),
                "fees_charged": commit.fees_charged,
                "counts": commit.counts,
            }}),
        )?;
    }
    std::io::Write::flush(&mut out).context("error writing output")?;
    eprintln!(
        "replay: transactions={} blocks={} ok={} failed={} invalid_signature={} duplicate={} malformed={} invalid_base64={} unreadable_lines={} elapsed={:.3}s",
        packets.len(),
        results.len(),
        metrics.outcomes.ok,
        metrics.outcomes.failed_fee_charged + metrics.outcomes.failed_no_fee,
        metrics.outcomes.invalid_signature,
        metrics.outcomes.duplicate,
        metrics.outcomes.malformed,
        decode_errors
            .iter()
            .filter(|(_, e)| matches!(e, PacketLineError::Base64(_)))
            .count(),
        decode_errors
            .iter()
            .filter(|(_, e)| matches!(e, PacketLineError::Line(_)))
            .count(),
        metrics.elapsed_s
    );
    let mut by_count: Vec<(String, usize)> = unsupported.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    eprintln!(
        "replay: stopped_at_unsupported_program={} programs={}",
        by_count.iter().map(|(_, n)| n).sum::<usize>(),
        by_count.len()
    );
    for (id, n) in &by_count {
        eprintln!("replay: unsupported {id} {n}");
    }
    Ok(ExitCode::SUCCESS)
}
