//! The parallel executor equals the sequential reference: random blocks of 1 to 5000
//! transactions over key universes of 2, 10, 100 and 10,000 accounts, with failing
//! transactions mixed in (insufficient funds, fee payer cannot pay, missing signer,
//! read-only write attempt, rollback of a multi-instruction transaction, account already in
//! use, unknown program, bad data), compute budgets (limits, prices, over-budget work,
//! duplicate and invalid ComputeBudget instructions) and work instructions of skewed cost,
//! on 1, 2 and 8 threads. Every per-transaction result and compute-unit count, the state
//! hash, the whole final state and the fees must be equal; lamports are conserved (fees
//! burnt, or credited to a collector); read-only accounts never change.

mod exec_common;

use std::collections::HashSet;

use exec_common::*;
use proptest::prelude::*;
use txpipe::execute::{ComputeBudgetInstruction as Cb, ExecConfig, WorkProgram};
use txpipe::state::Account;
use txpipe::tx::build::{InstructionSpec, SYSTEM_PROGRAM_ID};
use txpipe::Pubkey;

/// Number of transaction kinds [`build_packet`] makes.
const KINDS: u8 = 16;

/// One generated transaction: a kind and random parameters.
#[derive(Clone, Debug)]
struct TxSpec {
    kind: u8,
    a: u32,
    b: u32,
    amount: u64,
    extra: u64,
}

fn tx_spec() -> impl Strategy<Value = TxSpec> {
    (
        0u8..KINDS,
        any::<u32>(),
        any::<u32>(),
        0u64..400_000,
        0u64..400_000,
    )
        .prop_map(|(kind, a, b, amount, extra)| TxSpec {
            kind,
            a,
            b,
            amount,
            extra,
        })
}

#[derive(Clone, Debug)]
struct Case {
    universe: u32,
    balances: Vec<u64>,
    txs: Vec<TxSpec>,
    threads: usize,
    min_parallel_batch: usize,
    collector: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(2u32), Just(10), Just(100), Just(10_000)],
        prop_oneof![
            4 => prop::collection::vec(tx_spec(), 1..300),
            1 => prop::collection::vec(tx_spec(), 1..5000),
        ],
        prop_oneof![Just(1usize), Just(2), Just(8)],
        prop_oneof![Just(2usize), Just(64)],
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(universe, txs, threads, min_parallel_batch, collector, seed)| {
                // Balances: some accounts cannot pay a fee, most can pay a few transfers.
                let balances = (0..universe)
                    .map(|i| {
                        let r = (seed ^ u64::from(i)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
                        match r % 8 {
                            0 => 0,
                            1 => 4_000,
                            _ => r % 2_000_000,
                        }
                    })
                    .collect();
                Case {
                    universe,
                    balances,
                    txs,
                    threads,
                    min_parallel_batch,
                    collector,
                }
            },
        )
}

fn build_packet(t: &TxSpec, universe: u32) -> Vec<u8> {
    let a = t.a % universe;
    let mut b = t.b % universe;
    if b == a {
        b = (a + 1) % universe;
    }
    let (ka, kb) = (key(a), key(b));
    match t.kind {
        0..=3 => transfer(ka, kb, t.amount),
        4 => transfer_missing_signer(ka, kb, t.amount),
        5 => transfer_to_readonly(ka, kb, t.amount),
        6 => double_transfer(ka, kb, t.amount, t.extra),
        // A small pool of new keys, so that some creations collide (already in use).
        7 => create_account(
            ka,
            key(1_000_000 + (t.b % 64)),
            t.amount,
            t.extra % 64,
            [3; 32],
        ),
        8 => packet(&message(
            vec![ka, kb, [9; 32]],
            1,
            0,
            1,
            vec![transfer_ix(2, 0, 1, t.amount)],
        )),
        9 => packet(&message(
            vec![ka, kb, SYSTEM_PROGRAM_ID],
            1,
            0,
            1,
            vec![InstructionSpec {
                program_id_index: 2,
                accounts: vec![0, 1],
                data: vec![2, 0, 0, 0, 1],
            }],
        )),
        // Work of skewed cost: mostly a few rounds, one in eight 100 to 400.
        10 | 11 => budgeted(ka, kb, t.amount, &[], Some(skewed_rounds(t.extra))),
        // A declared limit (sometimes too small for the work: over budget) and a price.
        12 => budgeted(
            ka,
            kb,
            t.amount,
            &[
                Cb::SetComputeUnitPrice(t.extra % 5000),
                Cb::SetComputeUnitLimit((t.extra % 9000) as u32),
            ],
            Some(skewed_rounds(t.extra >> 3)),
        ),
        // A heap frame and a loaded-data limit, valid or not.
        13 => budgeted(
            ka,
            kb,
            t.amount,
            &[
                Cb::RequestHeapFrame(if t.extra.is_multiple_of(2) {
                    64 * 1024
                } else {
                    1000
                }),
                Cb::SetLoadedAccountsDataSizeLimit((t.extra % 3) as u32 * 16),
            ],
            t.extra.is_multiple_of(4).then_some(3),
        ),
        // A duplicate ComputeBudget instruction.
        14 => budgeted(
            ka,
            kb,
            t.amount,
            &[Cb::SetComputeUnitPrice(1), Cb::SetComputeUnitPrice(2)],
            None,
        ),
        // ComputeBudget data that does not decode.
        _ => budgeted_raw(ka, kb, t.amount, vec![(t.extra % 7) as u8 * 5, 1]),
    }
}

/// Work rounds with a skewed spread: 0 to 7, and one in eight 100 to 400.
fn skewed_rounds(x: u64) -> u32 {
    if x.is_multiple_of(8) {
        100 + (x % 301) as u32
    } else {
        (x % 8) as u32
    }
}

/// Checks one case; returns the sequential results' kinds (for coverage checks).
fn check(c: &Case) -> Result<Vec<String>, TestCaseError> {
    let mut genesis: Vec<(Pubkey, Account)> = c
        .balances
        .iter()
        .enumerate()
        .map(|(i, &l)| (key(i as u32), Account::new(l, SYSTEM_PROGRAM_ID)))
        .collect();
    // Every account's work target (1 lamport each).
    let targets: Vec<(Pubkey, Account)> = genesis
        .iter()
        .map(|(k, _)| (WorkProgram::target_of(k), WorkProgram::account(1)))
        .collect();
    genesis.extend(targets);
    let packets: Vec<Vec<u8>> = c.txs.iter().map(|t| build_packet(t, c.universe)).collect();
    let block = prepare(&packets);
    let config = ExecConfig {
        min_parallel_batch: c.min_parallel_batch,
        fee_collector: c.collector.then_some([0xfe; 32]),
        ..ExecConfig::default()
    };
    let (seq_table, seq, par_table, par) = run_both(&genesis, &block, config, c.threads);

    prop_assert_eq!(&seq.results, &par.results);
    prop_assert_eq!(&seq.compute_units, &par.compute_units);
    // Units: 0 for a transaction that did not run, never over its limit.
    for ((r, &u), tx) in seq.results.iter().zip(&seq.compute_units).zip(&block) {
        prop_assert!(u <= u64::from(tx.budget().compute_unit_limit));
        if r.as_ref().err().is_some_and(|e| !e.fee_charged()) {
            prop_assert_eq!(u, 0);
        }
    }
    prop_assert!(seq.same_effects(&par));
    prop_assert_eq!(seq.state_hash(&seq_table), par.state_hash(&par_table));
    prop_assert_eq!(seq_table.snapshot(), par_table.snapshot());

    // Conservation: before = after + burnt.
    let before: u128 = genesis.iter().map(|(_, a)| u128::from(a.lamports)).sum();
    prop_assert_eq!(
        before,
        seq_table.total_lamports() + u128::from(seq.fees_burnt)
    );
    prop_assert_eq!(seq.fees_charged, seq.fees_collected + seq.fees_burnt);
    if !c.collector {
        prop_assert_eq!(seq.fees_collected, 0);
    }

    // Accounts no transaction may write keep their value.
    let mut writable: HashSet<Pubkey> = HashSet::new();
    for tx in &block {
        for (i, k) in tx.keys().iter().enumerate() {
            if tx.is_writable(i) {
                writable.insert(*k);
            }
        }
    }
    for (k, a) in &genesis {
        if !writable.contains(k) {
            let now = seq_table.get(k);
            prop_assert_eq!(now.as_ref(), Some(a));
        }
    }
    // Modified accounts are exactly the written ones that exist.
    for k in seq.modified_accounts() {
        prop_assert!(writable.contains(&k) || Some(k) == config_collector(c));
    }
    Ok(seq
        .results
        .iter()
        .map(|r| match r {
            Ok(()) => "Ok".to_string(),
            Err(e) => {
                let name = match e.instruction_error() {
                    Some(ie) => format!("{ie:?}"),
                    None => format!("{e:?}"),
                };
                name.split(['(', ' '])
                    .next()
                    .unwrap_or_default()
                    .to_string()
            }
        })
        .collect())
}

fn config_collector(c: &Case) -> Option<Pubkey> {
    c.collector.then_some([0xfe; 32])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn parallel_equals_sequential(c in case()) {
        let _ = check(&c)?;
    }
}

/// Large blocks on every universe and thread count (the proptest draws mostly small ones).
#[test]
fn full_size_blocks_every_universe_and_thread_count() {
    for (n, universe) in [2u32, 10, 100, 10_000].into_iter().enumerate() {
        for threads in [1usize, 2, 8] {
            let mut x = 0x1234_5678_9abc_def0u64 ^ (n as u64) << 8 ^ threads as u64;
            let mut next = move || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let txs: Vec<TxSpec> = (0..5000)
                .map(|_| TxSpec {
                    kind: (next() % u64::from(KINDS)) as u8,
                    a: next() as u32,
                    b: next() as u32,
                    amount: next() % 400_000,
                    extra: next() % 400_000,
                })
                .collect();
            let balances = (0..universe).map(|i| u64::from(i % 7) * 300_000).collect();
            let c = Case {
                universe,
                balances,
                txs,
                threads,
                min_parallel_batch: 2,
                collector: threads == 2,
            };
            let kinds = match check(&c) {
                Ok(k) => k,
                Err(e) => panic!("universe {universe}, {threads} threads: {e}"),
            };
            if universe >= 10 {
                for want in [
                    "Ok",
                    "InsufficientFundsForFee",
                    "InsufficientFunds",
                    "MissingRequiredSignature",
                    "AccountNotWritable",
                    "AccountAlreadyInUse",
                    "UnknownProgram",
                    "InvalidInstructionData",
                    "ComputationalBudgetExceeded",
                    "DuplicateInstruction",
                    "InvalidComputeBudgetData",
                    "InvalidLoadedAccountsDataSizeLimit",
                    "MaxLoadedAccountsDataSizeExceeded",
                ] {
                    assert!(
                        kinds.iter().any(|k| k == want),
                        "universe {universe}: no {want} in the block"
                    );
                }
            }
        }
    }
}
