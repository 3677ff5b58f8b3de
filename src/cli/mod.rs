//! Command-line front end: argument parsing, printing, progress. The library never prints.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod bench_exec;
mod gpu_check;
mod hash;
mod info;
mod io;
mod machine;
mod plot;
mod poh;
mod progress;
mod replay;
mod report;
mod sweep;
mod verify;

/// GPU-accelerated transaction validation pipeline.
#[derive(Parser, Debug)]
#[command(name = "txpipe", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Verify ed25519 signatures given as JSON Lines (pubkey, message, signature in hex).
    VerifySigs(verify::VerifySigsArgs),
    /// Parse and verify wire transactions, one base64 packet per line.
    VerifyTxs(verify::VerifyTxsArgs),
    /// Write adversarial verify-sigs input (JSON Lines) from a seed.
    GenSigs(verify::GenSigsArgs),
    /// The main job: generate a signed workload and run it through the whole pipeline.
    Bench(bench::BenchArgs),
    /// Run a file of wire transactions (one base64 packet per line) through the pipeline.
    Replay(replay::ReplayArgs),
    /// Execute a block of p2p transfers sequentially and in parallel; compare speed and state.
    BenchExec(bench_exec::BenchExecArgs),
    /// SHA-256 of hex messages, one per line (one hex digest per output line).
    Hash(hash::HashArgs),
    /// Write a proof-of-history test chain (JSON Lines), optionally with broken entries.
    PohGen(poh::PohGenArgs),
    /// Verify a proof-of-history chain file; prints a JSON verdict with the first bad entry.
    PohVerify(poh::PohVerifyArgs),
    /// GPU adapters found, the one txpipe uses, pipeline cache, start-up times.
    Info(info::InfoArgs),
    /// Measure the GPU against the CPU (signatures, hashing, start-up, bench) and check
    /// their verdicts agree on the shipped vectors; one JSON object on stdout.
    GpuCheck(gpu_check::GpuCheckArgs),
}

/// Runs the command line; errors are printed to stderr with a non-zero exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::VerifySigs(args) => verify::verify_sigs(args),
        Command::VerifyTxs(args) => verify::verify_txs(args),
        Command::GenSigs(args) => verify::gen_sigs(args),
        Command::Bench(args) => bench::bench(args),
        Command::Replay(args) => replay::replay(args),
        Command::BenchExec(args) => bench_exec::bench_exec(args),
        Command::Hash(args) => hash::hash(args),
        Command::PohGen(args) => poh::poh_gen(args),
        Command::PohVerify(args) => poh::poh_verify(args),
        Command::Info(args) => info::info(args),
        Command::GpuCheck(args) => gpu_check::gpu_check(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("txpipe: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
