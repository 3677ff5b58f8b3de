//! Fuzz target: txpipe's parser and Agave's (`agave-transaction-view` 6.1) on arbitrary
//! bytes must agree, or differ only as listed in `tests/agave_parity/compare.rs`.
#![no_main]

#[path = "../../tests/agave_parity/compare.rs"]
mod compare;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = compare::compare(data) {
        panic!("txpipe and Agave disagree: {e}");
    }
});
