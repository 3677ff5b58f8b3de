//! Fuzz target: the wire-format parser on arbitrary bytes. Any panic is a bug; a packet that
//! parses must re-encode to exactly its own bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use txpipe::tx::build::{assemble, encode_message, MessageSpec};
use txpipe::tx::TransactionView;

fuzz_target!(|data: &[u8]| {
    if let Ok(view) = TransactionView::parse(data) {
        let spec = MessageSpec::from_view(&view);
        assert_eq!(encode_message(&spec), view.message());
        assert_eq!(assemble(view.signatures(), view.message()), data);
        assert_eq!(view.sig_items().len(), view.signatures().len());
        for i in 0..view.num_account_keys() + 1 {
            let _ = (view.is_writable(i), view.is_signer(i));
        }
        let _ = view.account_keys(None);
    }
});
