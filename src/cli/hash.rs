//! `txpipe hash`: SHA-256 of hex messages, one per line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use txpipe::backend::{Backend, BackendChoice};
use txpipe::hash::{BackendHasher, BatchHasher};

use txpipe::lines::Line;

use super::io::{open_lines, read_lines, stdout};

/// Arguments of `hash`.
#[derive(Args, Debug)]
pub struct HashArgs {
    /// Backend: auto (GPU for large batches on a hardware adapter), cpu, or gpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
    /// Lines hashed per batch.
    #[arg(long, default_value_t = 16384, value_parser = clap::value_parser!(u32).range(1..))]
    batch_size: u32,
    /// One hex message per line (an empty line is the empty message; surrounding spaces
    /// are ignored); standard input when absent or `-`. Output: one lowercase hex digest per
    /// line, same order, or `error: <reason>` for a line that is not hex.
    file: Option<PathBuf>,
}

/// Runs `txpipe hash`.
pub fn hash(args: HashArgs) -> anyhow::Result<ExitCode> {
    let hasher = BackendHasher::open(args.backend).context("cannot open the hash backend")?;
    let mut input = open_lines(args.file.as_deref())?;
    let mut out = stdout();
    let t0 = Instant::now();
    let batch = args.batch_size as usize;

    let (mut lines, mut digests, mut errors, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    let (mut gpu_batches, mut cpu_batches) = (0u64, 0u64);
    let mut raw: Vec<Line> = Vec::with_capacity(batch);
    let mut decoded: Vec<Result<Vec<u8>, String>> = Vec::with_capacity(batch);
    while read_lines(&mut input, &mut raw, batch)? > 0 {
        decoded.clear();
        decoded.extend(raw.iter().map(decode_line));
        let msgs: Vec<&[u8]> = decoded
            .iter()
            .filter_map(|d| d.as_ref().ok().map(Vec::as_slice))
            .collect();
        let mut out_digests = vec![[0u8; 32]; msgs.len()];
        match hasher.sha256_routed(&msgs, &mut out_digests)? {
            Backend::Gpu => gpu_batches += 1,
            Backend::Cpu => cpu_batches += 1,
        }
        bytes += msgs.iter().map(|m| m.len() as u64).sum::<u64>();
        let mut next = out_digests.iter();
        for d in &decoded {
            lines += 1;
            match d {
                Ok(_) => {
                    let digest = next.next().context("internal: digest count mismatch")?;
                    writeln!(out, "{}", hex::encode(digest)).context("error writing output")?;
                    digests += 1;
                }
                Err(reason) => {
                    writeln!(out, "error: {reason}").context("error writing output")?;
                    errors += 1;
                }
            }
        }
    }
    out.flush().context("error writing output")?;
    let secs = t0.elapsed().as_secs_f64();
    let stats = hasher.stats();
    eprintln!(
        "hash: {lines} lines, {digests} digests, {errors} errors; {bytes} message bytes in \
         {secs:.3} s; backend {} ({}); batches: {gpu_batches} gpu, {cpu_batches} cpu, \
         {} gpu failures",
        hasher.name(),
        hasher.gpu_label().unwrap_or("no GPU"),
        stats.gpu_failures,
    );
    if let Some(e) = hasher.last_gpu_error() {
        eprintln!("hash: last GPU error (batch redone on the CPU): {e}");
    }
    Ok(ExitCode::SUCCESS)
}

/// One input line to message bytes, or the reason it is not a hex message.
fn decode_line(line: &Line) -> Result<Vec<u8>, String> {
    let text = line.text().map_err(|e| format!("not hex: {e}"))?;
    hex::decode(text.trim()).map_err(|e| format!("not hex: {e}"))
}
