//! One packet through txpipe's parser and Agave's, and what the two must agree on. Shared
//! by `tests/agave_parity.rs` and the fuzz target `fuzz/fuzz_targets/agave_parity.rs`
//! (both include this file with `#[path]`).
//!
//! Agave's side is `agave-transaction-view` 6.1 (`SanitizedTransactionView::try_new_sanitized`,
//! the gate Agave's sigverify stage applies to every packet) with the protocol limits Agave
//! passes it today ([`AGAVE_CONFIG`]). On every packet the two must give the same
//! accept/reject and, when both accept, the same version, signature count, and signer and
//! writable flags for every static key.
//!
//! # Every intentional difference, and why
//!
//! Accept/reject ([`Difference`], the only packets on which the verdicts may differ):
//! - [`Difference::V1Format`]: Agave 6.1 also parses the v1 transaction format (SIMD-0385:
//!   the packet starts with the version byte 0x81, signatures come last). txpipe implements
//!   legacy and v0 only, the formats the network accepts today, and rejects every packet
//!   whose first byte has the high bit set (as a signature count it would be 128 or more,
//!   or non-minimal, so no legacy or v0 packet starts that way): v1 is a separate decision.
//! - [`Difference::DuplicateStaticKeys`]: a static key listed twice. txpipe rejects it at
//!   parse (`duplicate_account_key`); Agave's sanitizer skips the check "to avoid redundant
//!   work on the hot path" and rejects the transaction when it locks the accounts
//!   (`validate_account_locks`, `AccountLoadedTwice`). Same packets dropped, another stage.
//!
//! Flags (both accept, flags differ only here):
//! - Agave's resolved view demotes the write lock of a key an instruction invokes as its
//!   program unless the upgradeable BPF loader is among the loaded keys, and of reserved
//!   keys (sysvars, builtins; the set is chain state, empty here). txpipe's
//!   `TransactionView::is_writable` is the flag the header requests; demotion belongs to
//!   account locking (txpipe's scheduler only over-serialises on a requested lock). The
//!   comparison applies the demotion rule to txpipe's flags before comparing.

use std::collections::HashSet;

use agave_transaction_view::resolved_transaction_view::ResolvedTransactionView;
use agave_transaction_view::sanitize::SanitizeConfig;
use agave_transaction_view::transaction_version::TransactionVersion;
use agave_transaction_view::transaction_view::SanitizedTransactionView;
use solana_message::v0::LoadedAddresses;
use solana_pubkey::Pubkey as AgaveKey;
use solana_svm_transaction::svm_message::{SVMMessage, SVMStaticMessage};
use txpipe::tx::{ParseError, TransactionView, Version};

/// The limits Agave's sigverify stage passes the sanitizer today (SIMD-0160: 64
/// instructions; SIMD-0406: 255 accounts per instruction; heap bounds for v1 only).
pub const AGAVE_CONFIG: SanitizeConfig = SanitizeConfig {
    min_requested_heap_size: 32 * 1024,
    max_requested_heap_size: 256 * 1024,
    max_instructions: 64,
    max_accounts_per_instruction: 255,
};

/// The listed packets on which txpipe and Agave may disagree (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Difference {
    /// Agave accepts a v1-format packet; txpipe rejects it.
    V1Format,
    /// txpipe rejects a repeated static key at parse; Agave later, at account locking.
    DuplicateStaticKeys,
}

/// How a packet fared on both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// Both accept, with the same version, signature count and flags.
    BothAccept,
    /// Both reject.
    BothReject,
    /// A listed difference.
    Listed(Difference),
}

/// Runs both parsers on `packet`.
///
/// # Errors
/// A sentence naming the disagreement, when the two differ other than as listed.
pub fn compare(packet: &[u8]) -> Result<Verdict, String> {
    let ours = TransactionView::parse(packet);
    let theirs = SanitizedTransactionView::try_new_sanitized(packet, &AGAVE_CONFIG);
    match (ours, theirs) {
        (Err(_), Err(_)) => Ok(Verdict::BothReject),
        (Ok(v), Err(e)) => Err(format!(
            "txpipe accepts ({:?}), Agave rejects: {e:?}",
            v.version()
        )),
        (Err(e), Ok(a)) => {
            if matches!(a.version(), TransactionVersion::V1) {
                return Ok(Verdict::Listed(Difference::V1Format));
            }
            let keys = a.static_account_keys();
            let unique: HashSet<_> = keys.iter().collect();
            if matches!(e, ParseError::DuplicateAccountKey { .. }) && unique.len() < keys.len() {
                return Ok(Verdict::Listed(Difference::DuplicateStaticKeys));
            }
            Err(format!("txpipe rejects ({}: {e}), Agave accepts", e.kind()))
        }
        (Ok(v), Ok(a)) => {
            let version = match a.version() {
                TransactionVersion::Legacy => Version::Legacy,
                TransactionVersion::V0 => Version::V0,
                TransactionVersion::V1 => return Err("txpipe accepts a v1 packet".into()),
            };
            if v.version() != version {
                return Err(format!("version {:?} vs {version:?}", v.version()));
            }
            if v.signatures().len() != usize::from(a.num_signatures()) {
                return Err(format!(
                    "{} signatures vs {}",
                    v.signatures().len(),
                    a.num_signatures()
                ));
            }
            let num_static = v.static_keys().len();
            if num_static != usize::from(a.num_static_account_keys()) {
                return Err(format!(
                    "{num_static} static keys vs {}",
                    a.num_static_account_keys()
                ));
            }
            // lookups resolved to distinct placeholder keys (none is the loader)
            let placeholder = |i: usize| {
                let mut k = [0xa5; 32];
                k[..8].copy_from_slice(&(i as u64).to_le_bytes());
                AgaveKey::new_from_array(k)
            };
            let w = usize::from(a.total_writable_lookup_accounts());
            let r = usize::from(a.total_readonly_lookup_accounts());
            let loaded = (version == Version::V0).then(|| LoadedAddresses {
                writable: (0..w).map(placeholder).collect(),
                readonly: (w..w + r).map(placeholder).collect(),
            });
            let resolved = ResolvedTransactionView::try_new(a, loaded, &HashSet::<AgaveKey>::new())
                .map_err(|e| format!("Agave cannot resolve its own sanitized view: {e:?}"))?;
            let loader = solana_sdk_ids::bpf_loader_upgradeable::ID.to_bytes();
            let loader_loaded = v.static_keys().contains(&loader);
            for i in 0..num_static {
                let invoked = v
                    .instructions()
                    .iter()
                    .any(|ix| usize::from(ix.program_id_index) == i);
                let demoted = invoked && !loader_loaded;
                let expected = v.is_writable(i) && !demoted;
                if resolved.is_writable(i) != expected || resolved.is_signer(i) != v.is_signer(i) {
                    return Err(format!(
                        "static key {i}: txpipe signer {} writable {} (after demotion {expected}), \
                         Agave signer {} writable {}",
                        v.is_signer(i),
                        v.is_writable(i),
                        resolved.is_signer(i),
                        resolved.is_writable(i)
                    ));
                }
            }
            Ok(Verdict::BothAccept)
        }
    }
}
