//! Input and output helpers shared by the subcommands.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::Context;

/// Opens `path` for buffered reading, or standard input when `path` is `None` or `-`.
pub fn open_input(path: Option<&Path>) -> anyhow::Result<Box<dyn BufRead>> {
    match path {
        None => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) => {
            let file = File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            Ok(Box::new(BufReader::new(file)))
        }
    }
}

/// Buffered standard output.
pub fn stdout() -> BufWriter<io::StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

/// Reads up to `max` lines into `lines` (cleared first), without their line endings.
/// Returns how many were read; 0 at the end of input.
pub fn read_lines(
    input: &mut dyn BufRead,
    lines: &mut Vec<String>,
    max: usize,
) -> anyhow::Result<usize> {
    lines.clear();
    while lines.len() < max {
        let mut line = String::new();
        let n = input.read_line(&mut line).context("error reading input")?;
        if n == 0 {
            break;
        }
        while line.ends_with('\n') || line.ends_with('\r') {
            line.pop();
        }
        lines.push(line);
    }
    Ok(lines.len())
}

/// Writes one JSON value as a line.
pub fn write_json_line(out: &mut impl Write, value: &serde_json::Value) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value).context("error writing output")?;
    out.write_all(b"\n").context("error writing output")?;
    Ok(())
}
