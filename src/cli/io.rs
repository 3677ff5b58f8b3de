//! Input and output helpers shared by the subcommands.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use txpipe::lines::{Line, LineReader, MAX_LINE_BYTES};

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

/// Opens `path` (as [`open_input`]) as a line reader with the 16 MiB line limit: a bad
/// line (not UTF-8, too long) comes back as a line of its own.
pub fn open_lines(path: Option<&Path>) -> anyhow::Result<LineReader<Box<dyn BufRead>>> {
    Ok(LineReader::new(open_input(path)?, MAX_LINE_BYTES))
}

/// Reads up to `max` lines into `lines` (cleared first); returns how many, 0 at the end.
pub fn read_lines(
    input: &mut LineReader<Box<dyn BufRead>>,
    lines: &mut Vec<Line>,
    max: usize,
) -> anyhow::Result<usize> {
    input.next_lines(lines, max).context("error reading input")
}

/// Writes one JSON value as a line.
pub fn write_json_line(out: &mut impl Write, value: &serde_json::Value) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value).context("error writing output")?;
    out.write_all(b"\n").context("error writing output")?;
    Ok(())
}

/// Fails early, before any run, when `dir` cannot hold files.
pub fn check_writable_dir(dir: &Path, what: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the {what} directory {}", dir.display()))?;
    let probe = dir.join(format!(".txpipe-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("cannot write into the {what} directory {}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
