//! Fuzz target: the proof-of-history chain-file reader on arbitrary bytes, then the
//! verification of what it read (when the hash count is small). Never a panic; every
//! non-blank line is an entry, the header, or a bad line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use txpipe::hash::{poh, CpuHasher};
use txpipe::lines::{read_chain, LineReader};

fuzz_target!(|data: &[u8]| {
    let mut reader = LineReader::new(data, 4096);
    let Ok(file) = read_chain(&mut reader) else {
        return;
    };
    assert_eq!(file.entries.len(), file.entry_lines.len());
    let non_blank = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    let header = usize::from(file.start_hash.is_some());
    assert_eq!(file.entries.len() + file.bad_lines.len() + header, non_blank);
    let hashes = file
        .entries
        .iter()
        .fold(0u64, |s, e| s.saturating_add(e.num_hashes));
    if hashes <= 10_000 {
        let start = file.start_hash.unwrap_or_default();
        let cpu = CpuHasher::new();
        let verdicts = poh::entry_verdicts(&start, &file.entries, &cpu).expect("cpu");
        assert_eq!(verdicts.len(), file.entries.len());
    }
});
