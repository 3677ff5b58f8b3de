//! Command-line front end: argument parsing, printing, progress. The library never prints.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench_exec;
mod io;
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
    /// Execute a block of p2p transfers sequentially and in parallel; compare speed and state.
    BenchExec(bench_exec::BenchExecArgs),
}

/// Runs the command line; errors are printed to stderr with a non-zero exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::VerifySigs(args) => verify::verify_sigs(args),
        Command::VerifyTxs(args) => verify::verify_txs(args),
        Command::BenchExec(args) => bench_exec::bench_exec(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("txpipe: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
