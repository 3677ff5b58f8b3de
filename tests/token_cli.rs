//! The command line with the SPL programs: `bench --mix` (the reference run agrees, the
//! JSON says which mix) and `replay --fund` over the shipped real transactions (no
//! transaction whose programs txpipe runs stops as unsupported; the others name theirs).

#[path = "cli_support/mod.rs"]
mod cli_support;

use std::collections::{BTreeMap, BTreeSet};

use cli_support::run;

use serde_json::Value;
use txpipe::execute::token::TOKEN_2022_PROGRAM_ID;
use txpipe::execute::{
    ASSOCIATED_TOKEN_PROGRAM_ID, COMPUTE_BUDGET_PROGRAM_ID, MEMO_PROGRAM_ID, MEMO_V1_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
};
use txpipe::tx::{base58, TransactionView};

fn txpipe(args: &[&str], stdin: Option<&[u8]>) -> (String, String) {
    let (code, stdout, stderr) = run(args, stdin.unwrap_or_default());
    assert_eq!(code, 0, "txpipe {args:?}: {stderr}");
    (stdout, stderr)
}

#[test]
fn bench_mixes_match_the_reference() {
    for mix in ["mainnet", "token", "transfer"] {
        let (out, _) = txpipe(
            &[
                "bench",
                "--mix",
                mix,
                "--accounts",
                "64",
                "--txs",
                "600",
                "--block-size",
                "128",
                "--backend",
                "cpu",
                "--no-cache",
                "--check-reference",
                "--json",
            ],
            None,
        );
        let v: Value = serde_json::from_str(out.trim()).expect("one JSON object");
        assert_eq!(v["mix"], mix, "{v}");
        assert_eq!(v["reference_match"], true, "{mix}: {v}");
        let o = &v["outcomes"];
        assert!(o["ok"].as_u64().is_some_and(|n| n > 400), "{mix}: {o}");
        if mix == "mainnet" {
            assert!(
                o["failed_fee_charged"].as_u64().is_some_and(|n| n > 10),
                "{o}"
            );
            assert_eq!(v["workload"]["mix"], "mainnet");
        } else if mix == "transfer" {
            assert!(
                v["workload"].get("mix").is_none(),
                "transfer spec unchanged: {v}"
            );
        }
    }
}

#[test]
fn replay_names_unsupported_programs_and_runs_the_supported_ones() {
    let path = txpipe::testing::vectors_dir().join("solana/all.jsonl");
    let packets = txpipe::testing::load_solana_jsonl(&path).expect("solana vectors");
    let input: String = packets
        .iter()
        .map(|p| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(p) + "\n"
        })
        .collect();
    let (out, err) = txpipe(
        &["replay", "--backend", "cpu", "--fund", "1000000000000", "-"],
        Some(input.as_bytes()),
    );
    let supported: BTreeSet<[u8; 32]> = [
        [0u8; 32],
        COMPUTE_BUDGET_PROGRAM_ID,
        TOKEN_PROGRAM_ID,
        ASSOCIATED_TOKEN_PROGRAM_ID,
        MEMO_PROGRAM_ID,
        MEMO_V1_PROGRAM_ID,
    ]
    .into_iter()
    .collect();
    // The programs each line's transaction calls: its instructions' programs, and the
    // token program an ATA instruction calls.
    let calls: Vec<Option<BTreeSet<[u8; 32]>>> = packets
        .iter()
        .map(|p| {
            let v = TransactionView::parse(p).ok()?;
            let keys = v.static_keys();
            let mut set = BTreeSet::new();
            for ix in v.instructions() {
                let program = *keys.get(usize::from(ix.program_id_index))?;
                set.insert(program);
                if program == ASSOCIATED_TOKEN_PROGRAM_ID {
                    let token = ix.accounts.get(5).and_then(|&a| keys.get(usize::from(a)));
                    set.insert(token.copied().unwrap_or(TOKEN_2022_PROGRAM_ID));
                }
            }
            Some(set)
        })
        .collect();
    let mut fully_supported = 0;
    let mut fully_supported_ok = 0;
    let mut named = BTreeMap::<String, usize>::new();
    let mut lines = 0;
    for l in out.lines() {
        let v: Value = serde_json::from_str(l).expect("JSON line");
        let Some(line) = v["line"].as_u64() else {
            continue; // a commit line
        };
        lines += 1;
        let programs = calls[line as usize - 1].as_ref().expect("parsed");
        let reason = v["reason"].as_str().unwrap_or("");
        let all_supported = programs.iter().all(|p| supported.contains(p));
        if all_supported {
            fully_supported += 1;
            fully_supported_ok += usize::from(v["outcome"] == "ok");
            assert!(
                !reason.contains("unsupported program") && v.get("unsupported_program").is_none(),
                "line {line}: {reason}"
            );
        }
        if let Some(id) = v["unsupported_program"].as_str() {
            let key = base58::decode_pubkey(id).expect("base58 key");
            assert!(
                programs.contains(&key) && !supported.contains(&key),
                "line {line}: {id}"
            );
            assert!(reason.ends_with(id), "{reason}");
            *named.entry(id.to_string()).or_default() += 1;
        }
    }
    assert_eq!(lines, packets.len());
    // The summary counts them by id.
    for (id, n) in &named {
        assert!(
            err.contains(&format!("replay: unsupported {id} {n}\n")),
            "{id} {n}: {err}"
        );
    }
    assert!(fully_supported >= 100, "{fully_supported}");
    eprintln!(
        "{fully_supported} of {} real transactions call only supported programs ({fully_supported_ok} of them ok); {} stopped at {} unsupported programs",
        packets.len(),
        named.values().sum::<usize>(),
        named.len()
    );
}
