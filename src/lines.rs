//! Line-oriented inputs (test-support): a line reader that never stops at bad bytes, and
//! the decoder of one line of each input format the command line reads (`verify-sigs`,
//! `verify-txs` and `replay`, the proof-of-history chain file). They live in the library so
//! that the fuzz targets can call them; the command line only prints what they return.
//!
//! The rule every reader follows: a line that is not valid UTF-8, or longer than its
//! limit, is one bad line with its own error; the lines around it are read as usual.
//! A line over the limit is skipped to its end without being held in memory.

use std::io::{self, BufRead};

use base64::Engine;

use crate::hash::poh::Entry;
use crate::{Hash, Pubkey, Signature};

/// Longest line the readers accept by default: 16 MiB, far above any line the formats
/// need (a `verify-sigs` message is at most a few KiB in practice, a packet 1,232 bytes).
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Why a line could not be read as text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The line is not valid UTF-8.
    #[error("line is not valid UTF-8 (first bad byte at column {column})")]
    NotUtf8 {
        /// 1-based byte column of the first invalid byte.
        column: usize,
    },
    /// The line is longer than the reader's limit.
    #[error("line longer than {limit} bytes")]
    TooLong {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl LineError {
    /// A stable snake_case name: `invalid_utf8` or `line_too_long`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotUtf8 { .. } => "invalid_utf8",
            Self::TooLong { .. } => "line_too_long",
        }
    }
}

/// One input line, without its line ending (`\n`, `\r\n`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number.
    pub number: u64,
    /// The line's bytes (empty when it was too long: they were not kept).
    pub bytes: Vec<u8>,
    /// The line was longer than the limit.
    pub too_long: bool,
    limit: usize,
}

impl Line {
    /// The line as text.
    ///
    /// # Errors
    /// [`LineError`] when the line is too long or not UTF-8.
    pub fn text(&self) -> Result<&str, LineError> {
        if self.too_long {
            return Err(LineError::TooLong { limit: self.limit });
        }
        std::str::from_utf8(&self.bytes).map_err(|e| LineError::NotUtf8 {
            column: e.valid_up_to() + 1,
        })
    }
}

/// Reads lines of at most `limit` bytes from a [`BufRead`]; longer lines come back marked
/// [`Line::too_long`], read to their end without being kept.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    limit: usize,
    number: u64,
}

impl<R: BufRead> LineReader<R> {
    /// A reader with a line limit of `limit` bytes (line ending not counted).
    pub fn new(inner: R, limit: usize) -> Self {
        Self {
            inner,
            limit,
            number: 0,
        }
    }

    /// The next line, or `None` at the end of the input.
    ///
    /// # Errors
    /// The underlying reader's I/O errors (never the line's content).
    pub fn next_line(&mut self) -> io::Result<Option<Line>> {
        let mut bytes = Vec::new();
        let mut too_long = false;
        let mut read_any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                if !read_any {
                    return Ok(None);
                }
                break;
            }
            read_any = true;
            let (content, used, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], i + 1, true),
                None => (chunk, chunk.len(), false),
            };
            if !too_long {
                if bytes.len() + content.len() > self.limit.saturating_add(1) {
                    // one byte of slack for a '\r' before the '\n'
                    too_long = true;
                    bytes = Vec::new();
                } else {
                    bytes.extend_from_slice(content);
                }
            }
            self.inner.consume(used);
            if done {
                break;
            }
        }
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        if bytes.len() > self.limit {
            too_long = true;
            bytes = Vec::new();
        }
        self.number += 1;
        Ok(Some(Line {
            number: self.number,
            bytes,
            too_long,
            limit: self.limit,
        }))
    }

    /// Reads up to `max` lines into `lines` (cleared first); returns how many.
    ///
    /// # Errors
    /// The underlying reader's I/O errors.
    pub fn next_lines(&mut self, lines: &mut Vec<Line>, max: usize) -> io::Result<usize> {
        lines.clear();
        while lines.len() < max {
            match self.next_line()? {
                Some(l) => lines.push(l),
                None => break,
            }
        }
        Ok(lines.len())
    }
}

/// Why a `verify-txs` or `replay` line (one base64 packet) could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PacketLineError {
    /// The line could not be read as text.
    #[error(transparent)]
    Line(#[from] LineError),
    /// The text is not base64.
    #[error("{0}")]
    Base64(String),
}

impl PacketLineError {
    /// A stable snake_case name: `invalid_utf8`, `line_too_long` or `invalid_base64`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Line(e) => e.kind(),
            Self::Base64(_) => "invalid_base64",
        }
    }
}

/// Decodes one `verify-txs`/`replay` line: `None` for a blank line, else the packet bytes
/// (standard base64, surrounding white space ignored).
///
/// # Errors
/// [`PacketLineError`] for an unreadable line or text that is not base64.
pub fn decode_packet_line(line: &Line) -> Result<Option<Vec<u8>>, PacketLineError> {
    let text = line.text()?.trim();
    if text.is_empty() {
        return Ok(None);
    }
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Some)
        .map_err(|e| PacketLineError::Base64(e.to_string()))
}

/// A decoded `verify-sigs` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigLine {
    /// The public key.
    pub pubkey: Pubkey,
    /// The message.
    pub message: Vec<u8>,
    /// The signature.
    pub signature: Signature,
}

/// Why a `verify-sigs` line could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigLineError {
    /// The line could not be read as text.
    #[error(transparent)]
    Line(#[from] LineError),
    /// The text is not JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// The JSON is not an object.
    #[error("expected a JSON object")]
    NotObject,
    /// A field is missing.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// A field is not a string.
    #[error("{0}: expected a hex string")]
    NotString(&'static str),
    /// A field is not hex.
    #[error("{field}: invalid hex: {reason}")]
    Hex {
        /// The field.
        field: &'static str,
        /// What the hex decoder said.
        reason: String,
    },
    /// A field has the wrong length.
    #[error("{field}: expected {expected} bytes, got {got}")]
    Length {
        /// The field.
        field: &'static str,
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        got: usize,
    },
}

fn hex_any(
    obj: &serde_json::Map<String, serde_json::Value>,
    field: &'static str,
) -> Result<Vec<u8>, SigLineError> {
    let text = obj
        .get(field)
        .ok_or(SigLineError::Missing(field))?
        .as_str()
        .ok_or(SigLineError::NotString(field))?;
    hex::decode(text).map_err(|e| SigLineError::Hex {
        field,
        reason: e.to_string(),
    })
}

fn hex_array<const N: usize>(
    obj: &serde_json::Map<String, serde_json::Value>,
    field: &'static str,
) -> Result<[u8; N], SigLineError> {
    let bytes = hex_any(obj, field)?;
    let got = bytes.len();
    bytes.try_into().map_err(|_| SigLineError::Length {
        field,
        expected: N,
        got,
    })
}

/// Decodes one `verify-sigs` line: a JSON object with hex `pubkey` (32 bytes), `message`
/// and `signature` (64 bytes); other fields are ignored.
///
/// # Errors
/// [`SigLineError`] for an unreadable line or a missing or malformed field.
pub fn decode_sig_line(line: &Line) -> Result<SigLine, SigLineError> {
    let value: serde_json::Value =
        serde_json::from_str(line.text()?).map_err(|e| SigLineError::Json(e.to_string()))?;
    let obj = value.as_object().ok_or(SigLineError::NotObject)?;
    Ok(SigLine {
        pubkey: hex_array::<32>(obj, "pubkey")?,
        message: hex_any(obj, "message")?,
        signature: hex_array::<64>(obj, "signature")?,
    })
}

/// The format name in a chain file's header.
pub const CHAIN_FORMAT: &str = "txpipe-poh-v1";

/// Why a chain file line could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainLineError {
    /// The line could not be read as text.
    #[error(transparent)]
    Line(#[from] LineError),
    /// The first line is not a chain header.
    #[error("not a chain header: {0}")]
    Header(String),
    /// The header names another format.
    #[error("unknown format {0:?} (expected \"txpipe-poh-v1\")")]
    Format(String),
    /// An entry line is not an entry.
    #[error("not an entry: {0}")]
    Entry(String),
    /// A hash or signature is not hex of the right length.
    #[error("{0}")]
    Hex(String),
}

impl ChainLineError {
    /// A stable snake_case name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Line(e) => e.kind(),
            Self::Header(_) => "invalid_header",
            Self::Format(_) => "unknown_format",
            Self::Entry(_) => "invalid_entry",
            Self::Hex(_) => "invalid_hex",
        }
    }
}

/// A chain file line that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    /// Why.
    pub error: ChainLineError,
}

/// A proof-of-history chain file as read: the start hash (`None` when the header line
/// was unreadable) and the readable entries in order. An unreadable line is not an entry:
/// the chain is the readable entries, so junk between entries costs nothing, and an entry
/// lost to bad bytes shows as a break at the entry after it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainFile {
    /// The header's start hash.
    pub start_hash: Option<Hash>,
    /// The readable entries, in order.
    pub entries: Vec<Entry>,
    /// The line number of each entry.
    pub entry_lines: Vec<u64>,
    /// Every unreadable line (header included), in order.
    pub bad_lines: Vec<BadLine>,
}

#[derive(serde::Deserialize)]
struct HeaderLine {
    #[serde(default)]
    format: Option<String>,
    start_hash: String,
}

#[derive(serde::Deserialize)]
struct EntryLine {
    num_hashes: u64,
    hash: String,
    #[serde(default)]
    transactions: Vec<Vec<String>>,
}

fn hex_n<const N: usize>(s: &str, what: &str) -> Result<[u8; N], ChainLineError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s.trim(), &mut out)
        .map_err(|_| ChainLineError::Hex(format!("not a {N}-byte hex {what}: {s:?}")))?;
    Ok(out)
}

fn chain_header(text: &str) -> Result<Hash, ChainLineError> {
    let h: HeaderLine =
        serde_json::from_str(text).map_err(|e| ChainLineError::Header(e.to_string()))?;
    if let Some(f) = h.format {
        if f != CHAIN_FORMAT {
            return Err(ChainLineError::Format(f));
        }
    }
    hex_n::<32>(&h.start_hash, "hash")
}

/// Decodes one entry line of a chain file.
///
/// # Errors
/// [`ChainLineError`] when the line is not an entry.
pub fn decode_chain_entry(line: &Line) -> Result<Entry, ChainLineError> {
    let e: EntryLine =
        serde_json::from_str(line.text()?).map_err(|e| ChainLineError::Entry(e.to_string()))?;
    let transactions = e
        .transactions
        .iter()
        .map(|tx| {
            tx.iter()
                .map(|s| hex_n::<64>(s, "signature"))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Entry {
        num_hashes: e.num_hashes,
        hash: hex_n::<32>(&e.hash, "hash")?,
        transactions,
    })
}

/// Reads a chain file (the format `txpipe poh-gen` writes): the first non-blank line is the
/// header, every later non-blank line an entry. An unreadable line is recorded in
/// [`ChainFile::bad_lines`] and the reading goes on.
///
/// # Errors
/// The underlying reader's I/O errors only.
pub fn read_chain<R: BufRead>(reader: &mut LineReader<R>) -> io::Result<ChainFile> {
    let mut file = ChainFile::default();
    let mut header_seen = false;
    while let Some(line) = reader.next_line()? {
        if !line.too_long && line.bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let result = if header_seen {
            decode_chain_entry(&line).map(|e| {
                file.entries.push(e);
                file.entry_lines.push(line.number);
            })
        } else {
            header_seen = true;
            line.text()
                .map_err(ChainLineError::from)
                .and_then(chain_header)
                .map(|h| file.start_hash = Some(h))
        };
        if let Err(error) = result {
            file.bad_lines.push(BadLine {
                line: line.number,
                error,
            });
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limit: usize) -> Vec<Line> {
        let mut r = LineReader::new(input, limit);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().expect("in memory") {
            out.push(l);
        }
        out
    }

    #[test]
    fn bad_bytes_and_long_lines_are_lines_of_their_own() {
        let input = b"ok\r\n\xff\xfe\nabcdefghij\n\nlast";
        let got = lines(input, 5);
        let texts: Vec<_> = got.iter().map(|l| l.text()).collect();
        assert_eq!(
            texts,
            vec![
                Ok("ok"),
                Err(LineError::NotUtf8 { column: 1 }),
                Err(LineError::TooLong { limit: 5 }),
                Ok(""),
                Ok("last"),
            ]
        );
        assert_eq!(
            got.iter().map(|l| l.number).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        // exactly at the limit, with and without '\r'
        assert_eq!(lines(b"abcde\r\nabcde", 5)[0].text(), Ok("abcde"));
        assert_eq!(lines(b"abcde\r\nabcde", 5)[1].text(), Ok("abcde"));
        assert!(lines(b"abcdef\r\n", 5)[0].too_long);
        assert!(lines(b"", 5).is_empty());
    }

    #[test]
    fn a_long_line_is_not_kept_in_memory() {
        // a reader with a small buffer: the 1 MiB line passes through in pieces
        let mut input = vec![b'a'; 1 << 20];
        input.extend_from_slice(b"\nnext\n");
        let mut r = LineReader::new(io::BufReader::with_capacity(64, &input[..]), 100);
        let long = r.next_line().unwrap().unwrap();
        assert!(long.too_long && long.bytes.capacity() < 1000);
        assert_eq!(r.next_line().unwrap().unwrap().text(), Ok("next"));
    }
}
