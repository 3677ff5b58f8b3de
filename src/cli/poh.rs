//! `txpipe poh-gen` and `txpipe poh-verify`: proof-of-history test chains.
//!
//! # Chain file format (JSON Lines)
//! The first line is a header, then one entry per line:
//! ```text
//! {"format":"txpipe-poh-v1","start_hash":"<64 hex>","entries":N}
//! {"num_hashes":12500,"hash":"<64 hex>","transactions":[]}
//! {"num_hashes":12500,"hash":"<64 hex>","transactions":[["<128 hex sig>","<128 hex sig>"],["<128 hex sig>"]]}
//! ```
//! `transactions` lists the entry's transactions, each as the list of its signatures in
//! order (all the proof of history depends on). Only `start_hash` is required in the
//! header; blank lines are ignored. A line that cannot be read (not UTF-8, too long, not an
//! entry) is reported as `{"line": N, "error": KIND, "detail": ...}` before the verdict and is
//! not an entry; the verdict is then not valid. The rule is Solana's (see `txpipe::hash::poh`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use txpipe::backend::{Backend, BackendChoice};
use txpipe::hash::poh::{self, Breakage, ChainSpec};
use txpipe::hash::BackendHasher;
use txpipe::Hash;

use txpipe::lines::read_chain;

use super::io::{open_lines, stdout, write_json_line};

/// Arguments of `poh-gen`.
#[derive(Args, Debug)]
pub struct PohGenArgs {
    /// Number of entries.
    #[arg(long, default_value_t = 64)]
    entries: usize,
    /// `num_hashes` of every entry (a Solana tick is 12,500).
    #[arg(long, default_value_t = 12_500)]
    hashes_per_entry: u64,
    /// Share of entries carrying transactions, 0.0 to 1.0 (the rest are ticks).
    #[arg(long, default_value_t = 0.25)]
    tx_share: f64,
    /// Most transactions per transaction entry.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    max_txs_per_entry: u32,
    /// Most signatures per transaction.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    max_sigs_per_tx: u32,
    /// Random seed (the chain is a function of the arguments).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Start hash in hex (default: derived from the seed).
    #[arg(long)]
    start_hash: Option<String>,
    /// Entry indexes whose hash gets one bit flipped (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    flip_bit: Vec<usize>,
    /// Entry indexes whose num_hashes is one more than the hashes done.
    #[arg(long, value_delimiter = ',')]
    wrong_num_hashes: Vec<usize>,
    /// Entry indexes whose transactions do not match the mixin that was hashed.
    #[arg(long, value_delimiter = ',')]
    wrong_mixin: Vec<usize>,
    /// Output file (standard output when absent or `-`).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Arguments of `poh-verify`.
#[derive(Args, Debug)]
pub struct PohVerifyArgs {
    /// Backend: auto (GPU for many entries on a hardware adapter), cpu, or gpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
    /// Refuse chains that ask for more SHA-256 applications than this in total (a hostile
    /// file could otherwise ask for 2^64). The default, 10^11, is about 8 hours of slots
    /// at Solana's pace.
    #[arg(long, default_value_t = 100_000_000_000)]
    max_hashes: u64,
    /// Chain file in the format `poh-gen` writes (`-` for standard input).
    file: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Header {
    #[serde(default)]
    format: Option<String>,
    start_hash: String,
    #[serde(default)]
    entries: Option<usize>,
}

#[derive(Serialize, Deserialize)]
struct EntryLine {
    num_hashes: u64,
    hash: String,
    #[serde(default)]
    transactions: Vec<Vec<String>>,
}

use txpipe::lines::CHAIN_FORMAT as FORMAT;

fn parse_hash(s: &str) -> anyhow::Result<Hash> {
    let mut h = [0u8; 32];
    hex::decode_to_slice(s.trim(), &mut h)
        .with_context(|| format!("not a 32-byte hex hash: {s:?}"))?;
    Ok(h)
}

/// Runs `txpipe poh-gen`.
pub fn poh_gen(args: PohGenArgs) -> anyhow::Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.tx_share) {
        bail!("--tx-share must be between 0 and 1");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let start: Hash = match &args.start_hash {
        Some(s) => parse_hash(s)?,
        None => rng.gen(),
    };
    let mut breaks: Vec<(usize, Breakage)> = Vec::new();
    breaks.extend(args.flip_bit.iter().map(|&i| (i, Breakage::FlipBit)));
    breaks.extend(
        args.wrong_num_hashes
            .iter()
            .map(|&i| (i, Breakage::WrongNumHashes)),
    );
    breaks.extend(args.wrong_mixin.iter().map(|&i| (i, Breakage::WrongMixin)));
    if let Some(&(i, _)) = breaks.iter().find(|(i, _)| *i >= args.entries) {
        bail!(
            "broken entry index {i} is past the end ({} entries)",
            args.entries
        );
    }
    let spec = ChainSpec {
        entries: args.entries,
        hashes_per_entry: args.hashes_per_entry,
        tx_share: args.tx_share,
        max_txs_per_entry: args.max_txs_per_entry as usize,
        max_sigs_per_tx: args.max_sigs_per_tx as usize,
    };
    let t0 = Instant::now();
    let entries = poh::generate_chain(&start, &spec, &breaks, &mut rng);
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) if p.as_os_str() != "-" => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        _ => Box::new(stdout()),
    };
    let header = Header {
        format: Some(FORMAT.into()),
        start_hash: hex::encode(start),
        entries: Some(entries.len()),
    };
    write_json_line(&mut out, &serde_json::to_value(&header)?)?;
    for e in &entries {
        let line = EntryLine {
            num_hashes: e.num_hashes,
            hash: hex::encode(e.hash),
            transactions: e
                .transactions
                .iter()
                .map(|tx| tx.iter().map(hex::encode).collect())
                .collect(),
        };
        write_json_line(&mut out, &serde_json::to_value(&line)?)?;
    }
    out.flush().context("error writing output")?;
    let mut bad: Vec<usize> = breaks.iter().map(|(i, _)| *i).collect();
    bad.sort_unstable();
    bad.dedup();
    eprintln!(
        "poh-gen: {} entries, {} hashes, {} with transactions, broken entries {:?}, {:.3} s",
        entries.len(),
        poh::total_hashes(&entries),
        entries.iter().filter(|e| !e.is_tick()).count(),
        bad,
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `txpipe poh-verify`.
pub fn poh_verify(args: PohVerifyArgs) -> anyhow::Result<ExitCode> {
    let hasher = BackendHasher::open(args.backend).context("cannot open the hash backend")?;
    let file = read_chain(&mut open_lines(Some(&args.file))?).context("error reading input")?;
    if file.start_hash.is_none() && file.bad_lines.is_empty() {
        bail!("empty chain file: no header line");
    }
    let mut out = stdout();
    for bad in &file.bad_lines {
        write_json_line(
            &mut out,
            &json!({"line": bad.line, "error": bad.error.kind(), "detail": bad.error.to_string()}),
        )?;
    }
    let entries = &file.entries;
    let requested = entries
        .iter()
        .fold(0u64, |sum, e| sum.saturating_add(e.num_hashes));
    if requested > args.max_hashes {
        anyhow::bail!(
            "the chain asks for {requested} hashes, more than --max-hashes {}",
            args.max_hashes
        );
    }
    let before = hasher.stats();
    let t0 = Instant::now();
    // without a readable header the first entry is the start: it cannot be checked
    let (from, rest, unchecked) = match (file.start_hash, entries.first()) {
        (Some(h), _) => (h, &entries[..], 0),
        (None, Some(first)) => (first.hash, &entries[1..], 1),
        (None, None) => ([0; 32], &entries[..], 0),
    };
    let verdicts = poh::entry_verdicts(&from, rest, &hasher)?;
    let secs = t0.elapsed().as_secs_f64();
    let after = hasher.stats();
    // The chains went to the GPU when routed there and no GPU failure was counted.
    let backend = if hasher.route_chains(entries.len()) == Backend::Gpu
        && after.gpu_failures == before.gpu_failures
    {
        "gpu"
    } else {
        "cpu"
    };
    let first_bad = verdicts.iter().position(|ok| !ok).map(|i| i + unchecked);
    let bad = verdicts.iter().filter(|ok| !**ok).count();
    let hashes = requested;
    write_json_line(
        &mut out,
        &json!({
            "entries": entries.len(),
            "valid": first_bad.is_none() && unchecked == 0 && file.bad_lines.is_empty(),
            "first_bad": first_bad,
            "first_bad_line": first_bad.and_then(|i| file.entry_lines.get(i)),
            "bad_entries": bad,
            "unreadable_lines": file.bad_lines.len(),
            "unchecked_entries": unchecked,
            "hashes": hashes,
            "backend": backend,
            "seconds": secs,
        }),
    )?;
    out.flush().context("error writing output")?;
    eprintln!(
        "poh-verify: {} entries, {hashes} hashes in {secs:.3} s ({:.2} Mhash/s) on {backend} ({}); \
         {bad} bad, first bad {first_bad:?}; {} gpu failures",
        entries.len(),
        hashes as f64 / secs.max(1e-9) / 1e6,
        hasher.gpu_label().unwrap_or("no GPU"),
        after.gpu_failures,
    );
    if let Some(e) = hasher.last_gpu_error() {
        eprintln!("poh-verify: last GPU error (redone on the CPU): {e}");
    }
    Ok(ExitCode::SUCCESS)
}
