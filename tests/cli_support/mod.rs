//! Running the `txpipe` binary from the CLI tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use txpipe::testing::SigCase;

/// Runs `txpipe ARGS` with `stdin` written on its own thread (so a large input cannot
/// deadlock against a full output pipe): exit code (-1 when killed), stdout, stderr.
pub fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_txpipe"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run txpipe");
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for txpipe");
    writer.join().expect("stdin writer");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("output is UTF-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each line of `out` as JSON.
pub fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// A case as a `verify-sigs` input line (no newline).
pub fn sig_line(c: &SigCase) -> String {
    serde_json::json!({
        "pubkey": hex::encode(c.pubkey),
        "message": hex::encode(&c.message),
        "signature": hex::encode(c.signature),
    })
    .to_string()
}
