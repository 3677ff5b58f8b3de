//! Fuzz target: the `replay`/`verify-txs` line decoder on arbitrary bytes, then the parser
//! on every decoded packet, as `txpipe replay` does. Never a panic; decoding is
//! base64-exact (a decoded packet re-encodes to the trimmed line).
#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use txpipe::lines::{decode_packet_line, LineReader};
use txpipe::tx::TransactionView;

fuzz_target!(|data: &[u8]| {
    let mut reader = LineReader::new(data, 2048);
    while let Ok(Some(line)) = reader.next_line() {
        if let Ok(Some(packet)) = decode_packet_line(&line) {
            let text = line.text().map(str::trim).unwrap_or_default();
            let b64 = base64::engine::general_purpose::STANDARD;
            assert_eq!(b64.encode(&packet), text);
            if let Ok(view) = TransactionView::parse(&packet) {
                assert_eq!(view.packet(), &packet[..]);
            }
        }
    }
});
