//! Fuzz target: the `verify-sigs` line decoder on arbitrary bytes (split into lines, some
//! too long or not UTF-8). Never a panic; a decoded line re-encodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use txpipe::lines::{decode_sig_line, LineReader};

fuzz_target!(|data: &[u8]| {
    let mut reader = LineReader::new(data, 512);
    let mut numbers = 0;
    while let Ok(Some(line)) = reader.next_line() {
        numbers += 1;
        assert_eq!(line.number, numbers);
        if let Ok(s) = decode_sig_line(&line) {
            let again = serde_json::json!({
                "pubkey": hex::encode(s.pubkey),
                "message": hex::encode(&s.message),
                "signature": hex::encode(s.signature),
            })
            .to_string();
            let mut r = LineReader::new(again.as_bytes(), usize::MAX);
            let line = r.next_line().ok().flatten().expect("one line");
            assert_eq!(decode_sig_line(&line).ok(), Some(s));
        }
    }
});
