//! The wire-format parser: one malformed case per sanity rule, every truncation of valid
//! legacy and v0 transactions, random bytes, real transactions, and build -> parse round trips.

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use txpipe::testing;
use txpipe::tx::build::{self, InstructionSpec, LookupSpec, MessageSpec};
use txpipe::tx::{MessageHeader, ParseError, TransactionView, Version};

fn key(i: u8) -> [u8; 32] {
    [i; 32]
}

fn signer(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i.wrapping_add(100); 32])
}

/// A valid v0 message with two signers (one read-only), two unsigned keys, two
/// instructions and a lookup table.
fn base_spec() -> MessageSpec {
    MessageSpec {
        version: Version::V0,
        header: MessageHeader {
            num_required_signatures: 2,
            num_readonly_signed_accounts: 1,
            num_readonly_unsigned_accounts: 1,
        },
        static_keys: vec![
            signer(0).verifying_key().to_bytes(),
            signer(1).verifying_key().to_bytes(),
            key(7),
            build::SYSTEM_PROGRAM_ID,
        ],
        recent_blockhash: key(9),
        instructions: vec![
            InstructionSpec {
                program_id_index: 3,
                accounts: vec![0, 2, 4],
                data: build::transfer_data(5),
            },
            InstructionSpec {
                program_id_index: 3,
                accounts: vec![],
                data: vec![],
            },
        ],
        lookups: vec![LookupSpec {
            account_key: key(42),
            writable_indexes: vec![1],
            readonly_indexes: vec![2, 3],
        }],
    }
}

fn packet(spec: &MessageSpec, signers: u8) -> Vec<u8> {
    let keys: Vec<SigningKey> = (0..signers).map(signer).collect();
    let refs: Vec<&SigningKey> = keys.iter().collect();
    build::sign_message(&build::encode_message(spec), &refs)
}

fn kind(bytes: &[u8]) -> &'static str {
    match TransactionView::parse(bytes) {
        Ok(_) => "ok",
        Err(e) => e.kind(),
    }
}

#[test]
fn base_transactions_parse() {
    let spec = base_spec();
    let p = packet(&spec, 2);
    let view = TransactionView::parse(&p).unwrap();
    assert_eq!(MessageSpec::from_view(&view), spec);
    assert_eq!(view.version(), Version::V0);
    assert_eq!(view.num_account_keys(), 7);
    // static: payer w+s, signer ro, key7 writable, program ro; lookups: 1 writable, 2 ro
    let writable: Vec<bool> = (0..7).map(|i| view.is_writable(i)).collect();
    assert_eq!(writable, [true, false, true, false, true, false, false]);
    let signers: Vec<bool> = (0..7).map(|i| view.is_signer(i)).collect();
    assert_eq!(signers, [true, true, false, false, false, false, false]);
    assert!(view
        .sig_items()
        .all(|i| txpipe::sigverify::reference_verify(i.pubkey, i.message, i.signature)));
    let mut legacy = base_spec();
    legacy.version = Version::Legacy;
    legacy.lookups.clear();
    legacy.instructions[0].accounts = vec![0, 2];
    let p = packet(&legacy, 2);
    assert_eq!(
        MessageSpec::from_view(&TransactionView::parse(&p).unwrap()),
        legacy
    );
}

#[test]
fn one_malformed_case_per_rule() {
    type Mutation = Box<dyn Fn() -> Vec<u8>>;
    let with = |f: fn(&mut MessageSpec), signers: u8| -> Mutation {
        Box::new(move || {
            let mut s = base_spec();
            f(&mut s);
            packet(&s, signers)
        })
    };
    let table: Vec<(&str, Mutation)> = vec![
        (
            "packet_too_long",
            with(|s| s.instructions[1].data = vec![0; 1000], 2),
        ),
        (
            "truncated",
            Box::new(|| {
                let mut p = packet(&base_spec(), 2);
                p.pop();
                p
            }),
        ),
        (
            "trailing_bytes",
            Box::new(|| {
                let mut p = packet(&base_spec(), 2);
                p.push(0);
                p
            }),
        ),
        ("compact_u16_overflow", Box::new(|| vec![0xff, 0xff, 0x04])),
        (
            "compact_u16_non_minimal",
            Box::new(|| {
                let p = packet(&base_spec(), 2);
                // num_signatures 2 encoded as 0x82 0x00
                let mut q = vec![0x82, 0x00];
                q.extend_from_slice(&p[1..]);
                q
            }),
        ),
        (
            "unknown_version",
            Box::new(|| {
                let mut p = packet(&base_spec(), 2);
                p[1 + 128] = 0x81;
                p
            }),
        ),
        (
            "no_required_signatures",
            with(
                |s| {
                    s.header.num_required_signatures = 0;
                    s.header.num_readonly_signed_accounts = 0;
                },
                0,
            ),
        ),
        ("signature_count_mismatch", with(|_| {}, 1)),
        (
            "fee_payer_not_writable",
            with(|s| s.header.num_readonly_signed_accounts = 2, 2),
        ),
        (
            "not_enough_static_keys",
            with(|s| s.header.num_readonly_unsigned_accounts = 3, 2),
        ),
        (
            "too_many_account_keys",
            with(
                |s| {
                    s.lookups.push(LookupSpec {
                        account_key: key(43),
                        writable_indexes: (0..=255).collect(),
                        readonly_indexes: vec![],
                    })
                },
                2,
            ),
        ),
        (
            "too_many_instructions",
            with(
                |s| {
                    let ix = s.instructions[1].clone();
                    s.instructions.resize(65, ix);
                },
                2,
            ),
        ),
        (
            "too_many_instruction_accounts",
            with(|s| s.instructions[1].accounts = vec![2; 256], 2),
        ),
        (
            "program_id_is_fee_payer",
            with(|s| s.instructions[1].program_id_index = 0, 2),
        ),
        (
            "program_id_index_out_of_range",
            with(|s| s.instructions[1].program_id_index = 4, 2),
        ),
        (
            "account_index_out_of_range",
            with(|s| s.instructions[0].accounts.push(7), 2),
        ),
        (
            "duplicate_account_key",
            with(|s| s.static_keys[2] = s.static_keys[0], 2),
        ),
        (
            "empty_address_table_lookup",
            with(
                |s| {
                    s.lookups.push(LookupSpec {
                        account_key: key(44),
                        ..Default::default()
                    })
                },
                2,
            ),
        ),
    ];
    let mut seen = std::collections::HashSet::new();
    for (expected, make) in &table {
        let bytes = make();
        assert_eq!(kind(&bytes), *expected, "{}", hex::encode(&bytes));
        // the message is a sentence, not a debug dump
        let msg = TransactionView::parse(&bytes).unwrap_err().to_string();
        assert!(msg.len() > 10 && !msg.contains("{"), "{msg}");
        seen.insert(*expected);
    }
    assert_eq!(seen.len(), table.len(), "each case hits a different rule");
    // the lookups of program ids: a program index pointing at a lookup key is rejected
    let mut s = base_spec();
    s.instructions[1].program_id_index = 5;
    assert_eq!(kind(&packet(&s, 2)), "program_id_index_out_of_range");
    // exactly 1232 bytes is fine, 1233 is not
    let mut s = base_spec();
    let len = packet(&s, 2).len();
    s.instructions[1].data = vec![0; 1232 - len - 1];
    let p = packet(&s, 2);
    assert_eq!(p.len(), 1232);
    assert_eq!(kind(&p), "ok");
    let mut q = p.clone();
    q.push(0);
    assert_eq!(
        TransactionView::parse(&q).unwrap_err(),
        ParseError::PacketTooLong { len: 1233 }
    );
}

#[test]
fn every_truncation_is_an_error() {
    let mut legacy = base_spec();
    legacy.version = Version::Legacy;
    legacy.lookups.clear();
    legacy.instructions[0].accounts = vec![0, 2];
    let mut real =
        testing::load_solana_jsonl(&testing::vectors_dir().join("solana/sample50.jsonl"))
            .expect("solana sample");
    real.push(packet(&base_spec(), 2));
    real.push(packet(&legacy, 2));
    for p in &real {
        assert!(TransactionView::parse(p).is_ok());
        for cut in 0..p.len() {
            let k = kind(&p[..cut]);
            assert!(
                matches!(
                    k,
                    "truncated" | "signature_count_mismatch" | "no_required_signatures"
                ),
                "cut at {cut} of {}: {k}",
                p.len()
            );
        }
    }
}

#[test]
fn every_real_transaction_parses_and_round_trips() {
    let all = testing::load_solana_jsonl(&testing::vectors_dir().join("solana/all.jsonl"))
        .expect("solana vectors");
    assert_eq!(all.len(), 2352);
    let (mut legacy, mut v0) = (0, 0);
    for p in &all {
        let view = TransactionView::parse(p).unwrap_or_else(|e| panic!("{e}: {}", hex::encode(p)));
        match view.version() {
            Version::Legacy => legacy += 1,
            Version::V0 => v0 += 1,
        }
        let spec = MessageSpec::from_view(&view);
        assert_eq!(build::encode_message(&spec), view.message());
        assert_eq!(build::assemble(view.signatures(), view.message()), *p);
    }
    assert!(legacy > 100 && v0 > 100, "{legacy} legacy, {v0} v0");
}

/// What a view says about its transaction, for comparing two views of one packet.
fn described(v: &TransactionView<'_>) -> impl PartialEq + std::fmt::Debug {
    let items: Vec<_> = v
        .sig_items()
        .map(|i| (*i.pubkey, i.message.to_vec(), *i.signature))
        .collect();
    let writable: Vec<bool> = (0..v.num_account_keys() + 1)
        .map(|i| v.is_writable(i))
        .collect();
    (
        MessageSpec::from_view(v),
        v.signatures().to_vec(),
        v.message().to_vec(),
        v.packet().to_vec(),
        items,
        writable,
        v.num_account_keys(),
    )
}

#[test]
fn layouts_reattach_to_their_packet_without_reparsing() {
    let all = testing::load_solana_jsonl(&testing::vectors_dir().join("solana/all.jsonl"))
        .expect("solana vectors");
    let mut built = vec![packet(&base_spec(), 2)];
    built.extend(all);
    for p in &built {
        let view = TransactionView::parse(p).unwrap();
        let layout = view.layout();
        let again = layout.view(p).expect("same packet");
        assert_eq!(described(&again), described(&view));
        let items: Vec<_> = layout
            .sig_items(p)
            .expect("same packet")
            .map(|i| (*i.pubkey, i.message.to_vec(), *i.signature))
            .collect();
        let expected: Vec<_> = view
            .sig_items()
            .map(|i| (*i.pubkey, i.message.to_vec(), *i.signature))
            .collect();
        assert_eq!(items, expected);
        // another length cannot be the layout's packet
        assert!(layout.view(&p[..p.len() - 1]).is_none());
        assert!(layout.sig_items(&p[..p.len() - 1]).is_none());
    }
}

fn arb_spec() -> impl Strategy<Value = (MessageSpec, u8)> {
    (
        1u8..4,
        0u8..3,
        0u8..3,
        1usize..6,
        any::<bool>(),
        proptest::collection::vec(
            (
                0u8..16,
                proptest::collection::vec(any::<u8>(), 0..8),
                proptest::collection::vec(any::<u8>(), 0..200),
            ),
            0..4,
        ),
        proptest::collection::vec(
            (
                proptest::collection::vec(any::<u8>(), 0..4),
                proptest::collection::vec(any::<u8>(), 0..4),
            ),
            0..3,
        ),
        any::<[u8; 32]>(),
    )
        .prop_map(
            |(req, ro_signed, ro_unsigned, extra, v0, ixs, lookups, blockhash)| {
                let ro_signed = ro_signed.min(req - 1);
                let unsigned = extra.max(usize::from(ro_unsigned) + 1);
                let mut keys: Vec<[u8; 32]> = (0..req)
                    .map(|i| signer(i).verifying_key().to_bytes())
                    .collect();
                keys.extend((0..unsigned).map(|i| key(200 + i as u8)));
                let lookups: Vec<LookupSpec> = if v0 {
                    lookups
                        .into_iter()
                        .enumerate()
                        .filter(|(_, (w, r))| !w.is_empty() || !r.is_empty())
                        .map(|(i, (w, r))| LookupSpec {
                            account_key: key(50 + i as u8),
                            writable_indexes: w,
                            readonly_indexes: r,
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let total = keys.len()
                    + lookups
                        .iter()
                        .map(|l| l.writable_indexes.len() + l.readonly_indexes.len())
                        .sum::<usize>();
                let instructions = ixs
                    .into_iter()
                    .map(|(p, accts, data)| InstructionSpec {
                        program_id_index: 1 + p % (keys.len() as u8 - 1),
                        accounts: accts.into_iter().map(|a| a % total as u8).collect(),
                        data,
                    })
                    .collect();
                let spec = MessageSpec {
                    version: if v0 { Version::V0 } else { Version::Legacy },
                    header: MessageHeader {
                        num_required_signatures: req,
                        num_readonly_signed_accounts: ro_signed,
                        num_readonly_unsigned_accounts: ro_unsigned,
                    },
                    static_keys: keys,
                    recent_blockhash: blockhash,
                    instructions,
                    lookups,
                };
                (spec, req)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn build_parse_round_trip((spec, signers) in arb_spec()) {
        let p = packet(&spec, signers);
        let view = TransactionView::parse(&p).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(MessageSpec::from_view(&view), spec);
        prop_assert!(view.sig_items().all(|i| txpipe::sigverify::reference_verify(i.pubkey, i.message, i.signature)));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1400)) {
        let _ = TransactionView::parse(&bytes);
    }

    #[test]
    fn mutated_real_packets_never_panic(idx in 0usize..50, pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        thread_local! {
            static SAMPLE: Vec<Vec<u8>> = testing::load_solana_jsonl(&testing::vectors_dir().join("solana/sample50.jsonl")).unwrap();
        }
        SAMPLE.with(|s| {
            let mut p = s[idx].clone();
            let i = pos.index(p.len());
            p[i] = byte;
            if let Ok(v) = TransactionView::parse(&p) {
                let _ = v.account_keys(None);
                let flags: Vec<bool> = (0..v.num_account_keys() + 2).map(|i| v.is_writable(i)).collect();
                assert!(!flags[v.num_account_keys()], "past the last key is not writable");
            }
        });
    }
}

/// SIMD-0160 and SIMD-0406: 64 instructions and 255 accounts per instruction are the
/// limits; one more is rejected with its own kind, exactly at the limit is accepted.
#[test]
fn instruction_limits_at_and_past_the_edge() {
    for (n, expected) in [(64, "ok"), (65, "too_many_instructions")] {
        let mut s = base_spec();
        let ix = s.instructions[1].clone();
        s.instructions.resize(n, ix);
        assert_eq!(kind(&packet(&s, 2)), expected, "{n} instructions");
    }
    for (n, expected) in [(255, "ok"), (256, "too_many_instruction_accounts")] {
        let mut s = base_spec();
        s.instructions[0].accounts = vec![2; n];
        assert_eq!(kind(&packet(&s, 2)), expected, "{n} accounts");
    }
}
