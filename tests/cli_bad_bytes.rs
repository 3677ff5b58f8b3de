//! Bad bytes never cost good lines: binary garbage (not UTF-8) and over-long lines mixed
//! into the input of every line-oriented command give one error line per bad line, every
//! good line's verdict, and exit status 0. And the packets Agave drops for too many
//! instructions or too many accounts in one instruction are rejected with their own kinds.

#[path = "cli_support/mod.rs"]
mod cli_support;

use base64::Engine;
use cli_support::{json_lines, run, sig_line};
use ed25519_dalek::SigningKey;
use sha2::Digest;
use txpipe::testing;
use txpipe::tx::build::{self, InstructionSpec, MessageSpec};
use txpipe::tx::{MessageHeader, Version};

/// Garbage lines: none is UTF-8, none contains a newline.
const GARBAGE: &[&[u8]] = &[
    b"\xff\xfe\x00\x01binary",
    b"\xc3\x28",
    b"\x80",
    b"ok so far \xed\xa0\x80 (a surrogate)",
    b"\r\x9f\x92\x96\x00\x00",
];

/// `good` lines with a garbage line after every third; returns the input and, per input
/// line, `Some(i)` for good line `i` or `None` for garbage.
fn mix(good: &[Vec<u8>]) -> (Vec<u8>, Vec<Option<usize>>) {
    let mut input = Vec::new();
    let mut plan = Vec::new();
    for (i, g) in good.iter().enumerate() {
        if i % 3 == 1 {
            input.extend_from_slice(GARBAGE[i % GARBAGE.len()]);
            input.push(b'\n');
            plan.push(None);
        }
        input.extend_from_slice(g);
        input.push(b'\n');
        plan.push(Some(i));
    }
    input.extend_from_slice(GARBAGE[0]); // last line, no newline
    plan.push(None);
    (input, plan)
}

fn sample_packets() -> Vec<Vec<u8>> {
    testing::load_solana_jsonl(&testing::vectors_dir().join("solana/sample50.jsonl"))
        .expect("shared vectors")
}

fn b64(p: &[u8]) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .encode(p)
        .into_bytes()
}

#[test]
fn verify_txs_garbage_between_good_lines() {
    let packets = sample_packets();
    let good: Vec<Vec<u8>> = packets.iter().map(|p| b64(p)).collect();
    let (mut input, mut plan) = mix(&good);
    // and one line over the 16 MiB limit
    input.push(b'\n');
    input.extend(std::iter::repeat_n(b'A', (16 << 20) + 10));
    input.push(b'\n');
    plan.push(None);
    let (code, out, err) = run(
        &["verify-txs", "--backend", "cpu", "--batch-size", "7"],
        &input,
    );
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), plan.len(), "{out}");
    for (n, (line, p)) in lines.iter().zip(&plan).enumerate() {
        assert_eq!(line["line"], n as u64 + 1);
        match p {
            Some(_) => assert_eq!(line["valid"], true, "{line}"),
            None if n + 1 == plan.len() => assert_eq!(line["error"], "line_too_long"),
            None => assert_eq!(line["error"], "invalid_utf8", "{line}"),
        }
    }
}

#[test]
fn verify_sigs_garbage_between_good_lines() {
    let cases = testing::adversarial(40, 18);
    let good: Vec<Vec<u8>> = cases.iter().map(|c| sig_line(c).into_bytes()).collect();
    let (input, plan) = mix(&good);
    let (code, out, err) = run(&["verify-sigs", "--backend", "cpu"], &input);
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), plan.len());
    for (n, (line, p)) in lines.iter().zip(&plan).enumerate() {
        assert_eq!(line["line"], n as u64 + 1);
        match p {
            Some(i) => {
                let c = &cases[*i];
                let expected =
                    txpipe::sigverify::reference_verify(&c.pubkey, &c.message, &c.signature);
                assert_eq!(line["valid"], expected, "{line}");
            }
            None => assert!(
                line["error"].as_str().unwrap().contains("not valid UTF-8"),
                "{line}"
            ),
        }
    }
}

#[test]
fn replay_garbage_between_good_lines() {
    let packets = sample_packets();
    let good: Vec<Vec<u8>> = packets.iter().map(|p| b64(p)).collect();
    let (input, plan) = mix(&good);
    let (code, out, err) = run(
        &["replay", "--backend", "cpu", "--fund", "1000000000"],
        &input,
    );
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    let errors: Vec<u64> = lines
        .iter()
        .filter(|l| l["error"] == "invalid_utf8")
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    let expected_bad: Vec<u64> = (1..=plan.len() as u64)
        .filter(|n| plan[*n as usize - 1].is_none())
        .collect();
    assert_eq!(errors, expected_bad);
    let mut results: Vec<u64> = lines
        .iter()
        .filter(|l| l.get("outcome").is_some())
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    results.sort_unstable();
    let expected_good: Vec<u64> = (1..=plan.len() as u64)
        .filter(|n| plan[*n as usize - 1].is_some())
        .collect();
    assert_eq!(results, expected_good, "one result per good line");
}

#[test]
fn hash_garbage_between_good_lines() {
    let good: Vec<Vec<u8>> = (0..20u8)
        .map(|i| hex::encode(vec![i; i as usize]).into_bytes())
        .collect();
    let (input, plan) = mix(&good);
    let (code, out, err) = run(&["hash", "--backend", "cpu"], &input);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), plan.len());
    for (line, p) in lines.iter().zip(&plan) {
        match p {
            Some(i) => {
                let digest = sha2::Sha256::digest(vec![*i as u8; *i]);
                assert_eq!(*line, hex::encode(digest));
            }
            None => assert!(line.starts_with("error: not hex: line is not valid UTF-8")),
        }
    }
}

#[test]
fn poh_verify_garbage_between_entries() {
    let dir = std::env::temp_dir().join(format!("txpipe-bad-bytes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (code, chain, err) = run(
        &[
            "poh-gen",
            "--entries",
            "12",
            "--hashes-per-entry",
            "50",
            "--seed",
            "3",
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    let good: Vec<Vec<u8>> = chain.lines().map(|l| l.as_bytes().to_vec()).collect();
    let (input, plan) = mix(&good);
    let file = dir.join("chain.jsonl");
    std::fs::write(&file, &input).unwrap();
    let (code, out, err) = run(
        &["poh-verify", "--backend", "cpu", file.to_str().unwrap()],
        b"",
    );
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    let bad = plan.iter().filter(|p| p.is_none()).count();
    assert_eq!(lines.len(), bad + 1, "{out}");
    for l in &lines[..bad] {
        assert_eq!(l["error"], "invalid_utf8", "{l}");
    }
    let verdict = &lines[bad];
    // every entry read and verified: the junk cost nothing but its own line
    assert_eq!(verdict["entries"], 12, "{verdict}");
    assert_eq!(verdict["bad_entries"], 0, "{verdict}");
    assert_eq!(verdict["unreadable_lines"], bad, "{verdict}");
    assert_eq!(
        verdict["valid"], false,
        "a file with unreadable lines is not valid"
    );
}

fn signer() -> SigningKey {
    SigningKey::from_bytes(&[77; 32])
}

/// A signed legacy packet: payer, one unsigned writable key, the System program.
fn signed(instructions: Vec<InstructionSpec>) -> Vec<u8> {
    let spec = MessageSpec {
        version: Version::Legacy,
        header: MessageHeader {
            num_required_signatures: 1,
            num_readonly_signed_accounts: 0,
            num_readonly_unsigned_accounts: 1,
        },
        static_keys: vec![
            signer().verifying_key().to_bytes(),
            [5; 32],
            build::SYSTEM_PROGRAM_ID,
        ],
        recent_blockhash: [3; 32],
        instructions,
        lookups: vec![],
    };
    build::sign_message(&build::encode_message(&spec), &[&signer()])
}

/// The two packets of the issue: 65 instructions, and 256 account indexes in one.
fn over_the_limits() -> [Vec<u8>; 2] {
    let ix = |accounts: Vec<u8>| InstructionSpec {
        program_id_index: 2,
        accounts,
        data: vec![],
    };
    [signed(vec![ix(vec![]); 65]), signed(vec![ix(vec![1; 256])])]
}

#[test]
fn verify_txs_and_replay_reject_the_packets_agave_drops() {
    let input: Vec<u8> = over_the_limits()
        .iter()
        .flat_map(|p| [b64(p), b"\n".to_vec()].concat())
        .collect();
    let (code, out, err) = run(&["verify-txs", "--backend", "cpu"], &input);
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines[0]["error"], "too_many_instructions");
    assert_eq!(lines[1]["error"], "too_many_instruction_accounts");
    let (code, out, err) = run(&["replay", "--backend", "cpu"], &input);
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines[0]["outcome"], "malformed");
    assert_eq!(lines[0]["stage"], "parse");
    assert_eq!(lines[0]["error"], "too_many_instructions");
    assert_eq!(lines[1]["error"], "too_many_instruction_accounts");
}
