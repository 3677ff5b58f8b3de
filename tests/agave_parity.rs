//! Differential test against Agave's own parser (`agave-transaction-view` 6.1,
//! `SanitizedTransactionView::try_new_sanitized`): the 2,352 real transactions and seeded
//! mutants of each (byte and bit flips, header bytes, compact-u16 prefixes including
//! non-minimal and overflowing ones, truncations, appended bytes, program and account index
//! edits, lookup-table edits, signature-count mismatches, and every limit at and past its
//! edge) must get the same verdict from both, or one of the differences listed in
//! `tests/agave_parity/compare.rs`.

#[path = "agave_parity/compare.rs"]
mod compare;

use std::collections::BTreeMap;

use compare::{compare, Difference, Verdict};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use txpipe::testing;
use txpipe::tx::build::{InstructionSpec, LookupSpec, MessageSpec};
use txpipe::tx::{encode_compact_u16, MessageHeader, TransactionView, Version};

/// How one compact-u16 field of a packet is written.
#[derive(Clone, Copy, Debug)]
enum Compact {
    /// Minimal (the only valid encoding).
    Minimal,
    /// The value with a needless continuation byte: `v|0x80, 0x00` (or three bytes).
    NonMinimal,
    /// `0xff 0xff 0x04`: above 2^16.
    Overflow,
    /// A continuation bit on the third byte.
    FourBytes,
    /// The value plus or minus one (the bytes that follow are unchanged).
    Off(i32),
}

/// Encodes a packet from its parts, writing compact-u16 field number `field` (counted in
/// wire order from 0, the signature count) in style `style`.
struct Encoder {
    field: usize,
    style: Compact,
    seen: usize,
    out: Vec<u8>,
}

impl Encoder {
    fn compact(&mut self, value: usize) {
        let value = value as u16;
        let style = if self.seen == self.field {
            self.style
        } else {
            Compact::Minimal
        };
        self.seen += 1;
        match style {
            Compact::Minimal => encode_compact_u16(value, &mut self.out),
            Compact::NonMinimal => {
                let mut minimal = Vec::new();
                encode_compact_u16(value, &mut minimal);
                if let Some(last) = minimal.last_mut() {
                    *last |= 0x80;
                }
                minimal.push(0);
                self.out.extend(minimal);
            }
            Compact::Overflow => self.out.extend([0xff, 0xff, 0x04]),
            Compact::FourBytes => self.out.extend([0x80, 0x80, 0x80, 0x01]),
            Compact::Off(d) => {
                encode_compact_u16((i32::from(value) + d).clamp(0, 65535) as u16, &mut self.out)
            }
        }
    }

    fn packet(signatures: &[[u8; 64]], m: &MessageSpec, field: usize, style: Compact) -> Vec<u8> {
        let mut e = Encoder {
            field,
            style,
            seen: 0,
            out: Vec::with_capacity(1300),
        };
        e.compact(signatures.len());
        signatures.iter().for_each(|s| e.out.extend_from_slice(s));
        if m.version == Version::V0 {
            e.out.push(0x80);
        }
        let h = m.header;
        e.out.extend([
            h.num_required_signatures,
            h.num_readonly_signed_accounts,
            h.num_readonly_unsigned_accounts,
        ]);
        e.compact(m.static_keys.len());
        m.static_keys
            .iter()
            .for_each(|k| e.out.extend_from_slice(k));
        e.out.extend_from_slice(&m.recent_blockhash);
        e.compact(m.instructions.len());
        for ix in &m.instructions {
            e.out.push(ix.program_id_index);
            e.compact(ix.accounts.len());
            e.out.extend_from_slice(&ix.accounts);
            e.compact(ix.data.len());
            e.out.extend_from_slice(&ix.data);
        }
        if m.version == Version::V0 {
            e.compact(m.lookups.len());
            for l in &m.lookups {
                e.out.extend_from_slice(&l.account_key);
                e.compact(l.writable_indexes.len());
                e.out.extend_from_slice(&l.writable_indexes);
                e.compact(l.readonly_indexes.len());
                e.out.extend_from_slice(&l.readonly_indexes);
            }
        }
        e.out
    }

    /// How many compact-u16 fields the packet has.
    fn fields(m: &MessageSpec) -> usize {
        3 + 2 * m.instructions.len()
            + usize::from(m.version == Version::V0) * (1 + 2 * m.lookups.len())
    }
}

/// A valid transaction taken apart: signatures and message.
#[derive(Clone)]
struct Parts {
    signatures: Vec<[u8; 64]>,
    message: MessageSpec,
}

impl Parts {
    fn of(packet: &[u8]) -> Option<Self> {
        let v = TransactionView::parse(packet).ok()?;
        Some(Self {
            signatures: v.signatures().to_vec(),
            message: MessageSpec::from_view(&v),
        })
    }

    fn encode(&self) -> Vec<u8> {
        Encoder::packet(
            &self.signatures,
            &self.message,
            usize::MAX,
            Compact::Minimal,
        )
    }

    fn total_keys(&self) -> usize {
        let m = &self.message;
        m.static_keys.len()
            + m.lookups
                .iter()
                .map(|l| l.writable_indexes.len() + l.readonly_indexes.len())
                .sum::<usize>()
    }
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, xs: &[T]) -> T {
    xs[rng.gen_range(0..xs.len())]
}

/// One seeded mutant of a real packet.
fn mutant(rng: &mut ChaCha8Rng, packet: &[u8], parts: &Parts) -> Vec<u8> {
    let mut p = parts.clone();
    let m = &mut p.message;
    let num_static = m.static_keys.len();
    let total = parts.total_keys();
    match rng.gen_range(0..15) {
        0 => {
            let mut b = packet.to_vec();
            let i = rng.gen_range(0..b.len());
            b[i] = rng.gen();
            return b;
        }
        1 => {
            let mut b = packet.to_vec();
            let i = rng.gen_range(0..b.len() * 8);
            b[i / 8] ^= 1 << (i % 8);
            return b;
        }
        2 => {
            let around = |rng: &mut ChaCha8Rng, v: u8| -> u8 {
                match rng.gen_range(0..4) {
                    0 => v.wrapping_add(1),
                    1 => v.wrapping_sub(1),
                    2 => rng.gen_range(0..=(num_static as u8).saturating_add(2)),
                    _ => rng.gen(),
                }
            };
            let h = &mut m.header;
            match rng.gen_range(0..3) {
                0 => h.num_required_signatures = around(rng, h.num_required_signatures),
                1 => h.num_readonly_signed_accounts = around(rng, h.num_readonly_signed_accounts),
                _ => {
                    h.num_readonly_unsigned_accounts = around(rng, h.num_readonly_unsigned_accounts)
                }
            }
        }
        3 => {
            let field = rng.gen_range(0..Encoder::fields(m));
            let style = pick(
                rng,
                &[
                    Compact::NonMinimal,
                    Compact::Overflow,
                    Compact::FourBytes,
                    Compact::Off(1),
                    Compact::Off(-1),
                ],
            );
            return Encoder::packet(&p.signatures, &p.message, field, style);
        }
        4 => return packet[..rng.gen_range(0..packet.len())].to_vec(),
        5 => {
            let mut b = packet.to_vec();
            for _ in 0..rng.gen_range(1..=4) {
                b.push(rng.gen());
            }
            return b;
        }
        6 => {
            let any: u8 = rng.gen();
            let index = pick(rng, &[0, 1, num_static as u8 - 1, num_static as u8, any]);
            if let Some(ix) = pick_ix(rng, m) {
                ix.program_id_index = index;
            }
        }
        7 => {
            let any = rng.gen_range(0..256);
            let index = pick(rng, &[total - 1, total, 255, any]) as u8;
            if let Some(ix) = pick_ix(rng, m) {
                match ix.accounts.len() {
                    0 => ix.accounts.push(index),
                    n => ix.accounts[rng.gen_range(0..n)] = index,
                }
            }
        }
        8 => {
            if m.version == Version::Legacy {
                m.version = Version::V0;
            }
            let room = 256usize.saturating_sub(total);
            match rng.gen_range(0..5) {
                0 => m.lookups.push(LookupSpec {
                    account_key: rng.gen(),
                    ..Default::default()
                }),
                1 => m.lookups.push(LookupSpec {
                    account_key: rng.gen(),
                    writable_indexes: (0..room.min(200)).map(|i| i as u8).collect(),
                    readonly_indexes: (0..(room.saturating_sub(200) + rng.gen_range(0..2)))
                        .map(|i| i as u8)
                        .collect(),
                }),
                2 => {
                    if let Some(l) = m.lookups.first_mut() {
                        l.writable_indexes.clear();
                        l.readonly_indexes.clear();
                    }
                }
                3 => {
                    m.lookups.pop();
                }
                _ => {
                    if let Some(l) = m.lookups.last_mut() {
                        l.readonly_indexes.push(rng.gen());
                    }
                }
            }
        }
        9 => match rng.gen_range(0..3) {
            0 => p
                .signatures
                .push(rng.gen::<[[u8; 32]; 2]>().concat().try_into().unwrap()),
            1 => {
                p.signatures.pop();
            }
            _ => {
                m.header.num_required_signatures = m.header.num_required_signatures.wrapping_add(1);
            }
        },
        10 => {
            let (i, j) = (rng.gen_range(0..num_static), rng.gen_range(0..num_static));
            m.static_keys[i] = m.static_keys[j];
        }
        11 => {
            // instruction count and accounts per instruction at and past their limits
            let filler = InstructionSpec {
                program_id_index: num_static as u8 - 1,
                accounts: vec![],
                data: vec![],
            };
            if rng.gen() {
                let n = pick(rng, &[63, 64, 65, 66]);
                m.instructions.resize(n, filler);
            } else {
                let n = pick(rng, &[254, 255, 256, 300]);
                m.instructions.truncate(1);
                m.instructions.resize(1, filler);
                m.instructions[0].accounts = vec![0; n];
                m.instructions[0].data.clear();
            }
        }
        12 => {
            let mut b = packet.to_vec();
            let at = 1 + 64 * parts.signatures.len();
            match rng.gen_range(0..3) {
                // another message version byte
                0 => b[at] = rng.gen_range(0x80..=0xff),
                // a v1-looking first byte
                1 => b[0] = rng.gen_range(0x80..=0xff),
                // v0 <-> legacy
                _ => {
                    m.version = match m.version {
                        Version::V0 => Version::Legacy,
                        Version::Legacy => Version::V0,
                    };
                    return p.encode();
                }
            }
            return b;
        }
        13 => {
            // the packet size at and past 1232 bytes
            let len = packet.len();
            let target = pick(rng, &[1231, 1232, 1233, 1300]);
            if let Some(ix) = m.instructions.last_mut() {
                if target > len + 2 {
                    ix.data.resize(ix.data.len() + target - len - 2, 7);
                }
            }
        }
        _ => {
            // static keys added or removed
            if rng.gen() {
                for _ in 0..rng.gen_range(1..40) {
                    m.static_keys.push(rng.gen());
                }
            } else if num_static > 1 {
                m.static_keys.pop();
            }
        }
    }
    p.encode()
}

fn pick_ix<'a>(rng: &mut ChaCha8Rng, m: &'a mut MessageSpec) -> Option<&'a mut InstructionSpec> {
    let n = m.instructions.len();
    if n == 0 {
        None
    } else {
        m.instructions.get_mut(rng.gen_range(0..n))
    }
}

#[derive(Default)]
struct Tally {
    verdicts: BTreeMap<Verdict, usize>,
    disagreements: Vec<String>,
}

impl Tally {
    fn check(&mut self, what: &str, packet: &[u8]) {
        match compare(packet) {
            Ok(v) => *self.verdicts.entry(v).or_default() += 1,
            Err(e) => self
                .disagreements
                .push(format!("{what}: {e}\n  {}", hex::encode(packet))),
        }
    }

    fn assert_none(&self) {
        assert!(
            self.disagreements.is_empty(),
            "{} unexplained disagreements, first ones:\n{}",
            self.disagreements.len(),
            self.disagreements
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

const MUTANTS_PER_PACKET: usize = 10;

#[test]
fn real_transactions_and_their_mutants_agree_with_agave() {
    let path = testing::vectors_dir().join("solana/all.jsonl");
    let packets = testing::load_solana_jsonl(&path).expect("shared vectors");
    assert_eq!(packets.len(), 2352);
    let mut tally = Tally::default();
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let mut mutants = 0;
    for (i, packet) in packets.iter().enumerate() {
        tally.check(&format!("real transaction {i}"), packet);
        let parts = Parts::of(packet).expect("real transactions parse");
        for k in 0..MUTANTS_PER_PACKET {
            let m = mutant(&mut rng, packet, &parts);
            tally.check(&format!("mutant {k} of real transaction {i}"), &m);
            mutants += 1;
        }
    }
    eprintln!(
        "agave parity: {} real, {mutants} mutants: {:?}",
        packets.len(),
        tally.verdicts
    );
    tally.assert_none();
    let count = |v: Verdict| tally.verdicts.get(&v).copied().unwrap_or(0);
    // every real transaction is accepted by both, and the mutants reach both verdicts and
    // both listed differences
    assert!(count(Verdict::BothAccept) > packets.len());
    assert!(count(Verdict::BothReject) > mutants / 3);
    assert!(count(Verdict::Listed(Difference::DuplicateStaticKeys)) > 0);
}

/// The v1 format (SIMD-0385), which Agave 6.1 parses and txpipe does not: a minimal v1
/// packet (version byte 0x81, header, config mask, lifetime, counts, one address, then the
/// signature) is a listed difference, and txpipe rejects it.
#[test]
fn a_v1_packet_is_the_listed_difference() {
    let mut b = vec![0x81, 1, 0, 0];
    b.extend(0u32.to_le_bytes());
    b.extend([9; 32]);
    b.extend([0, 1]);
    b.extend([10; 32]);
    b.extend([1; 64]);
    assert!(TransactionView::parse(&b).is_err());
    assert_eq!(compare(&b), Ok(Verdict::Listed(Difference::V1Format)));
}

/// A small valid v0 message with room to grow.
fn base() -> Parts {
    Parts {
        signatures: vec![[1; 64], [2; 64]],
        message: MessageSpec {
            version: Version::V0,
            header: MessageHeader {
                num_required_signatures: 2,
                num_readonly_signed_accounts: 1,
                num_readonly_unsigned_accounts: 1,
            },
            static_keys: vec![[10; 32], [11; 32], [12; 32], [0; 32]],
            recent_blockhash: [9; 32],
            instructions: vec![InstructionSpec {
                program_id_index: 3,
                accounts: vec![0, 2, 4],
                data: vec![2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0],
            }],
            lookups: vec![LookupSpec {
                account_key: [42; 32],
                writable_indexes: vec![1],
                readonly_indexes: vec![2, 3],
            }],
        },
    }
}

/// Every limit of the format, exactly at it (both accept) and one past it (both reject,
/// txpipe with the rule's own kind).
#[test]
fn every_limit_at_and_past_its_edge() {
    let mut tally = Tally::default();
    let kind = |p: &[u8]| TransactionView::parse(p).err().map(|e| e.kind());
    let mut at_and_past = |name: &str, at: Parts, past: Parts, kind_past: &str| {
        let (a, b) = (at.encode(), past.encode());
        assert_eq!(kind(&a), None, "{name}: at the limit");
        assert_eq!(kind(&b), Some(kind_past), "{name}: past the limit");
        tally.check(&format!("{name} at the limit"), &a);
        tally.check(&format!("{name} past the limit"), &b);
        assert_eq!(compare(&a), Ok(Verdict::BothAccept), "{name}");
        assert_eq!(compare(&b), Ok(Verdict::BothReject), "{name}");
    };
    let with = |f: &dyn Fn(&mut Parts)| {
        let mut p = base();
        f(&mut p);
        p
    };
    let instructions = |n: usize| {
        move |p: &mut Parts| {
            let ix = InstructionSpec {
                program_id_index: 3,
                accounts: vec![0],
                data: vec![],
            };
            p.message.instructions.resize(n, ix)
        }
    };
    at_and_past(
        "instructions (64, SIMD-0160)",
        with(&instructions(64)),
        with(&instructions(65)),
        "too_many_instructions",
    );
    let accounts = |n: usize| move |p: &mut Parts| p.message.instructions[0].accounts = vec![2; n];
    at_and_past(
        "accounts per instruction (255, SIMD-0406)",
        with(&accounts(255)),
        with(&accounts(256)),
        "too_many_instruction_accounts",
    );
    let keys = |n: usize| {
        move |p: &mut Parts| {
            let extra = n - 7;
            p.message.lookups.push(LookupSpec {
                account_key: [43; 32],
                writable_indexes: vec![0; extra / 2],
                readonly_indexes: vec![0; extra - extra / 2],
            })
        }
    };
    at_and_past(
        "account keys (256)",
        with(&keys(256)),
        with(&keys(257)),
        "too_many_account_keys",
    );
    let size = |n: usize| {
        move |p: &mut Parts| {
            let len = p.encode().len();
            let data = &mut p.message.instructions[0].data;
            // data grows past 127 bytes: its length prefix takes a second byte
            data.resize(data.len() + n - len - 1, 0);
        }
    };
    at_and_past(
        "packet size (1232)",
        with(&size(1232)),
        with(&size(1233)),
        "packet_too_long",
    );
    assert_eq!(with(&size(1232)).encode().len(), 1232);
    // signatures: 12 fit with their 12 keys, 13 do not (13 x 96 > 1232)
    let signers = |n: usize| {
        move |p: &mut Parts| {
            let m = &mut p.message;
            m.lookups.clear();
            m.instructions[0].accounts = vec![0];
            m.instructions[0].data.clear();
            m.instructions[0].program_id_index = n as u8;
            m.header.num_required_signatures = n as u8;
            m.static_keys = (0..n as u8).map(|i| [100 + i; 32]).collect();
            m.static_keys.push([0; 32]);
            p.signatures = (0..n as u8).map(|i| [i; 64]).collect();
        }
    };
    at_and_past(
        "signatures (12 fit)",
        with(&signers(12)),
        with(&signers(13)),
        "packet_too_long",
    );
    tally.assert_none();
}

/// The packets the issue found: a signed packet with 65 instructions, and one whose
/// instruction lists 256 account indexes, dropped by both.
#[test]
fn the_reported_packets_are_rejected_by_both() {
    let mut p = base();
    let ix = p.message.instructions[0].clone();
    p.message.instructions.resize(65, ix);
    assert_eq!(compare(&p.encode()), Ok(Verdict::BothReject));
    let mut p = base();
    p.message.instructions[0].accounts = vec![0; 256];
    assert_eq!(compare(&p.encode()), Ok(Verdict::BothReject));
}

/// Every compact-u16 field of a v0 packet written non-minimally, overflowing, with a fourth
/// byte, or off by one: rejected by both (or, for some off-by-one values, by neither).
#[test]
fn every_compact_u16_field_in_every_bad_encoding() {
    let p = base();
    let mut tally = Tally::default();
    for field in 0..Encoder::fields(&p.message) {
        for style in [
            Compact::NonMinimal,
            Compact::Overflow,
            Compact::FourBytes,
            Compact::Off(1),
            Compact::Off(-1),
            Compact::Off(200),
        ] {
            let b = Encoder::packet(&p.signatures, &p.message, field, style);
            tally.check(&format!("field {field} {style:?}"), &b);
            if !matches!(style, Compact::Off(_)) {
                assert!(
                    TransactionView::parse(&b).is_err(),
                    "field {field} {style:?}"
                );
            }
        }
    }
    tally.assert_none();
}
