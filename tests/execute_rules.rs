//! Execution rules one by one: fees, the System program's instructions and errors,
//! rollback, runtime rules on plug-in programs, fee collector, address lookups, state hash.

mod exec_common;

use std::sync::Arc;

use exec_common::*;
use txpipe::execute::{
    ExecConfig, ExecPath, ExecTx, Executor, InstructionContext, InstructionError, ProgramRegistry,
    TxError, MAX_PERMITTED_DATA_LENGTH,
};
use txpipe::hash::merkle::merkle_root;
use txpipe::state::{Account, AccountsTable};
use txpipe::tx::build::{self, InstructionSpec, LookupSpec, SYSTEM_PROGRAM_ID};
use txpipe::tx::{TransactionView, Version};
use txpipe::Pubkey;

const FEE: u64 = 5000;

fn sys(l: u64) -> Account {
    Account::new(l, SYSTEM_PROGRAM_ID)
}

fn run(
    genesis: &[(Pubkey, Account)],
    packets: &[Vec<u8>],
) -> (AccountsTable, txpipe::execute::BlockOutcome) {
    run_with(Executor::default(), genesis, packets)
}

fn run_with(
    executor: Executor,
    genesis: &[(Pubkey, Account)],
    packets: &[Vec<u8>],
) -> (AccountsTable, txpipe::execute::BlockOutcome) {
    let block = prepare(packets);
    let t = table(genesis, 8);
    let out = executor.execute_sequential(&t, &block);
    // The parallel path must agree on every rule test too.
    let t2 = table(genesis, 8);
    let s = txpipe::schedule::schedule(&block);
    let par = executor
        .execute_parallel(&t2, &block, &s)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.same_effects(&par));
    assert_eq!(t.snapshot(), t2.snapshot());
    (t, out)
}

fn ix_err(index: u8, error: InstructionError) -> Result<(), TxError> {
    Err(TxError::Instruction { index, error })
}

#[test]
fn transfer_moves_lamports_and_charges_fee() {
    let (a, b) = (key(1), key(2));
    let (t, out) = run(&[(a, sys(100_000))], &[transfer(a, b, 1234)]);
    assert_eq!(out.results, vec![Ok(())]);
    assert_eq!(t.lamports(&a), 100_000 - FEE - 1234);
    assert_eq!(t.lamports(&b), 1234);
    assert_eq!(out.fees_charged, FEE);
    assert_eq!(out.fees_burnt, FEE);
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(out.modified_accounts(), want);
}

#[test]
fn payer_that_cannot_pay_is_dropped_without_change() {
    let (a, b) = (key(1), key(2));
    let genesis = [(a, sys(FEE - 1)), (b, sys(7))];
    let (t, out) = run(&genesis, &[transfer(a, b, 1), transfer(key(3), b, 0)]);
    assert_eq!(
        out.results,
        vec![
            Err(TxError::InsufficientFundsForFee),
            Err(TxError::InsufficientFundsForFee)
        ]
    );
    assert_eq!(t.snapshot(), table(&genesis, 1).snapshot());
    assert_eq!(out.fees_charged, 0);
    assert!(out.modified_accounts().is_empty());
}

#[test]
fn payer_with_data_or_foreign_owner_is_invalid_for_fee() {
    let (a, b, c) = (key(1), key(2), key(3));
    let with_data = Account {
        data: vec![1],
        ..sys(1_000_000)
    };
    let genesis = [(a, with_data), (c, Account::new(1_000_000, [4; 32]))];
    let (t, out) = run(&genesis, &[transfer(a, b, 1), transfer(c, b, 1)]);
    assert_eq!(
        out.results,
        vec![
            Err(TxError::InvalidAccountForFee),
            Err(TxError::InvalidAccountForFee)
        ]
    );
    assert_eq!(t.lamports(&a), 1_000_000);
}

#[test]
fn failures_keep_the_fee_and_nothing_else() {
    let (a, b, c) = (key(1), key(2), key(3));
    let genesis = [(a, sys(100_000)), (b, sys(50_000)), (c, sys(0))];
    let packets = [
        transfer(a, b, 100_000),              // insufficient after the fee
        transfer_missing_signer(a, b, 10),    // b did not sign
        transfer_to_readonly(a, b, 10),       // b read-only
        double_transfer(a, c, 10, 1_000_000), // second fails: first rolled back
        packet(&message(
            vec![a, b, [9; 32]],
            1,
            0,
            1,
            vec![transfer_ix(2, 0, 1, 1)],
        )),
        packet(&message(
            vec![a, b, SYSTEM_PROGRAM_ID],
            1,
            0,
            1,
            vec![InstructionSpec {
                program_id_index: 2,
                accounts: vec![0, 1],
                data: vec![2, 0, 0],
            }],
        )),
        packet(&message(
            vec![a, b, SYSTEM_PROGRAM_ID],
            1,
            0,
            1,
            vec![InstructionSpec {
                program_id_index: 2,
                accounts: vec![0, 1],
                data: vec![7, 0, 0, 0],
            }],
        )),
        packet(&message(
            vec![a, b, SYSTEM_PROGRAM_ID],
            1,
            0,
            1,
            vec![
                transfer_ix(2, 0, 0, 1),
                InstructionSpec {
                    program_id_index: 2,
                    accounts: vec![0],
                    data: build::transfer_data(1),
                },
            ],
        )),
    ];
    let (t, out) = run(&genesis, &packets);
    assert_eq!(
        out.results,
        vec![
            ix_err(0, InstructionError::InsufficientFunds),
            ix_err(0, InstructionError::MissingRequiredSignature),
            ix_err(0, InstructionError::AccountNotWritable),
            ix_err(1, InstructionError::InsufficientFunds),
            ix_err(0, InstructionError::UnknownProgram([9; 32])),
            ix_err(0, InstructionError::InvalidInstructionData),
            ix_err(0, InstructionError::InvalidInstructionData),
            ix_err(1, InstructionError::NotEnoughAccountKeys),
        ]
    );
    assert_eq!(t.lamports(&a), 100_000 - 8 * FEE);
    assert_eq!(t.lamports(&b), 50_000);
    assert_eq!(t.lamports(&c), 0);
    assert_eq!(out.fees_burnt, 8 * FEE);
    assert_eq!(out.modified_accounts(), vec![a]);
}

#[test]
fn create_account_rules() {
    let (f, n1, n2, n3, n4) = (key(1), key(10), key(11), key(12), key(13));
    let owner = [3u8; 32];
    let genesis = [(f, sys(10_000_000)), (n2, sys(1))];
    let not_signed_new = packet(&message(
        vec![f, n4, SYSTEM_PROGRAM_ID],
        1,
        0,
        1,
        vec![InstructionSpec {
            program_id_index: 2,
            accounts: vec![0, 1],
            data: build::create_account_data(5, 0, &owner),
        }],
    ));
    let packets = [
        create_account(f, n1, 1_000, 16, owner),
        create_account(f, n1, 1_000, 16, owner), // now in use
        create_account(f, n2, 1_000, 0, owner),  // holds lamports
        create_account(f, n3, 1_000, MAX_PERMITTED_DATA_LENGTH + 1, owner),
        create_account(f, n3, 100_000_000, 0, owner),
        not_signed_new,
    ];
    let (t, out) = run(&genesis, &packets);
    assert_eq!(
        out.results,
        vec![
            Ok(()),
            ix_err(0, InstructionError::AccountAlreadyInUse),
            ix_err(0, InstructionError::AccountAlreadyInUse),
            ix_err(0, InstructionError::InvalidAccountDataLength),
            ix_err(0, InstructionError::InsufficientFunds),
            ix_err(0, InstructionError::MissingRequiredSignature),
        ]
    );
    assert_eq!(
        t.get(&n1),
        Some(Account {
            lamports: 1_000,
            owner,
            data: vec![0; 16],
            executable: false
        })
    );
    assert!(!t.contains(&n3));
    assert_eq!(t.lamports(&f), 10_000_000 - 1_000 - 2 * FEE * 5 - FEE);
}

/// A plug-in program: data `[op]` on its instruction accounts.
fn test_program(ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
    match ctx.data().first().copied() {
        // Increment byte 0 of account 0 (which it must own).
        Some(0) => {
            let a = ctx.account_mut(0)?;
            match a.data.first_mut() {
                Some(b) => *b = b.wrapping_add(1),
                None => return Err(InstructionError::Custom(1)),
            }
            Ok(())
        }
        // Move one lamport from account 0 to account 1 (allowed only if it owns account 0).
        Some(1) => {
            ctx.account_mut(0)?.lamports -= 1;
            ctx.account_mut(1)?.lamports += 1;
            Ok(())
        }
        // Mint a lamport.
        Some(2) => {
            ctx.account_mut(0)?.lamports += 1;
            Ok(())
        }
        // Flip the executable flag.
        Some(3) => {
            let a = ctx.account_mut(0)?;
            a.executable = !a.executable;
            Ok(())
        }
        // Change data of an account it does not own / reassign it.
        Some(4) => {
            ctx.account_mut(0)?.data.push(1);
            Ok(())
        }
        Some(5) => {
            ctx.account_mut(0)?.owner = [6; 32];
            Ok(())
        }
        _ => Err(InstructionError::InvalidInstructionData),
    }
}

#[test]
fn plug_in_program_is_held_to_runtime_rules() {
    let pid: Pubkey = [0xab; 32];
    let mut registry = ProgramRegistry::default();
    registry.register(pid, Arc::new(test_program));
    let executor = Executor::new(registry, ExecConfig::default());
    let (payer, owned, foreign) = (key(1), key(2), key(3));
    let genesis = [
        (payer, sys(1_000_000)),
        (
            owned,
            Account {
                lamports: 10,
                owner: pid,
                data: vec![0],
                executable: false,
            },
        ),
        (foreign, sys(10)),
    ];
    let tx = |accounts: Vec<u8>, op: u8, readonly_unsigned: u8| {
        packet(&message(
            vec![payer, owned, foreign, pid],
            1,
            0,
            readonly_unsigned,
            vec![InstructionSpec {
                program_id_index: 3,
                accounts,
                data: vec![op],
            }],
        ))
    };
    let packets = [
        tx(vec![1], 0, 1),    // ok: data of an owned account
        tx(vec![1, 2], 1, 1), // ok: debit owned, credit foreign
        tx(vec![2, 1], 1, 1), // debit foreign
        tx(vec![1], 2, 1),    // mint
        tx(vec![1], 3, 1),    // executable flip
        tx(vec![2], 4, 1),    // foreign data
        tx(vec![2], 5, 1),    // foreign owner
        tx(vec![1], 0, 3),    // owned declared read-only
        tx(vec![1], 9, 1),    // program's own error
    ];
    let (t, out) = run_with(executor, &genesis, &packets);
    assert_eq!(
        out.results,
        vec![
            Ok(()),
            Ok(()),
            ix_err(0, InstructionError::ExternalAccountLamportSpend),
            ix_err(0, InstructionError::UnbalancedInstruction),
            ix_err(0, InstructionError::ExecutableModified),
            ix_err(0, InstructionError::ExternalAccountDataModified),
            ix_err(0, InstructionError::ModifiedProgramId),
            ix_err(0, InstructionError::AccountNotWritable),
            ix_err(0, InstructionError::InvalidInstructionData),
        ]
    );
    assert_eq!(
        t.get(&owned),
        Some(Account {
            lamports: 9,
            owner: pid,
            data: vec![1],
            executable: false
        })
    );
    assert_eq!(t.lamports(&foreign), 11);
    assert_eq!(t.lamports(&payer), 1_000_000 - 9 * FEE);
}

#[test]
fn fee_collector_is_credited_once_after_the_block() {
    let (a, b, collector) = (key(1), key(2), key(99));
    let genesis = [(a, sys(1_000_000)), (b, sys(0))];
    let executor = Executor::new(
        ProgramRegistry::default(),
        ExecConfig {
            fee_collector: Some(collector),
            ..ExecConfig::default()
        },
    );
    let packets = [
        transfer(a, b, 10),
        transfer(b, a, 1),
        transfer_to_readonly(a, b, 1),
    ];
    let (t, out) = run_with(executor, &genesis, &packets);
    assert_eq!(out.results[1], Err(TxError::InsufficientFundsForFee));
    assert_eq!(out.fees_charged, 2 * FEE);
    assert_eq!(out.fees_collected, 2 * FEE);
    assert_eq!(out.fees_burnt, 0);
    assert_eq!(t.lamports(&collector), 2 * FEE);
    assert_eq!(t.total_lamports(), 1_000_000);
    assert!(out.modified_accounts().contains(&collector));
}

#[test]
fn lookups_without_resolver_are_not_executed() {
    let (a, b) = (key(1), key(2));
    let mut spec = message(
        vec![a, SYSTEM_PROGRAM_ID],
        1,
        0,
        1,
        vec![transfer_ix(1, 0, 2, 5)],
    );
    spec.version = Version::V0;
    spec.lookups = vec![LookupSpec {
        account_key: b,
        writable_indexes: vec![0],
        readonly_indexes: vec![],
    }];
    let p = packet(&spec);
    let view = TransactionView::parse(&p).unwrap_or_else(|e| panic!("{e}"));
    let tx = ExecTx::from_view(&view, None);
    assert_eq!(tx.prepare_error(), Some(&TxError::NeedsAddressResolver));
    let t = table(&[(a, sys(1_000_000))], 4);
    let out = Executor::default().execute_sequential(&t, &[tx]);
    assert_eq!(out.results, vec![Err(TxError::NeedsAddressResolver)]);
    assert_eq!(t.lamports(&a), 1_000_000);
}

#[test]
fn state_hash_is_the_merkle_root_of_modified_digests_in_key_order() {
    let (a, b, c) = (key(1), key(2), key(3));
    let genesis = [(a, sys(1_000_000)), (c, sys(5))];
    let (t, out) = run(&genesis, &[transfer(a, b, 10), transfer(a, b, 20)]);
    let mut keys = [a, b];
    keys.sort();
    let digests: Vec<[u8; 32]> = keys
        .iter()
        .map(|k| t.get(k).unwrap_or_default().digest(k))
        .collect();
    assert_eq!(out.state_hash(&t), merkle_root(&digests));
    assert_ne!(out.state_hash(&t), txpipe::state::full_state_hash(&t));
}

#[test]
fn hand_built_transactions_are_checked() {
    let ix = txpipe::tx::CompiledInstruction {
        program_id_index: 1,
        accounts: &[0, 5],
        data: &[],
    };
    assert!(matches!(
        ExecTx::new(
            vec![key(1), SYSTEM_PROGRAM_ID],
            vec![true, false],
            1,
            vec![ix]
        ),
        Err(TxError::Malformed(_))
    ));
    assert!(matches!(
        ExecTx::new(vec![key(1), key(1)], vec![true, true], 1, vec![]),
        Err(TxError::Malformed(_))
    ));
    assert!(matches!(
        ExecTx::new(vec![key(1)], vec![false], 1, vec![]),
        Err(TxError::Malformed(_))
    ));
    assert!(ExecTx::new(
        vec![key(1), SYSTEM_PROGRAM_ID],
        vec![true, false],
        1,
        vec![]
    )
    .is_ok());
}

#[test]
fn schedule_of_the_wrong_block_is_refused() {
    let (a, b) = (key(1), key(2));
    let packets = [transfer(a, b, 1), transfer(b, a, 1)];
    let block = prepare(&packets);
    let s = txpipe::schedule::schedule(&block[..1]);
    let t = table(&[(a, sys(1_000_000))], 4);
    assert!(Executor::default()
        .execute_parallel(&t, &block, &s)
        .is_err());
    assert_eq!(t.lamports(&a), 1_000_000);
}

#[test]
fn execute_block_falls_back_to_sequential_on_contended_blocks() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let genesis: Vec<(Pubkey, Account)> = (0..2000).map(|i| (key(i), sys(100_000_000))).collect();
    let hot: Vec<Vec<u8>> = (0..3000)
        .map(|i| transfer(key(i % 2), key(1 - i % 2), 1))
        .collect();
    let wide: Vec<Vec<u8>> = (0..3000)
        .map(|i| transfer(key(i % 1000), key(1000 + i % 1000), 1))
        .collect();
    for (packets, want) in [(hot, ExecPath::Sequential), (wide, ExecPath::Parallel)] {
        let block = prepare(&packets);
        let t1 = table(&genesis, 16);
        let reference = Executor::default().execute_sequential(&t1, &block);
        let t2 = table(&genesis, 16);
        let out = pool.install(|| Executor::default().execute_block(&t2, &block));
        assert_eq!(out.path, want);
        assert!(out.same_effects(&reference));
        assert_eq!(out.state_hash(&t2), reference.state_hash(&t1));
        assert_eq!(out.num_ok(), 3000);
    }
    // One thread: always sequential.
    let one = [transfer(key(1), key(2), 1)];
    let block = prepare(&one);
    let t = table(&genesis, 16);
    assert_eq!(
        Executor::default().execute_block(&t, &block).path,
        ExecPath::Sequential
    );
}

/// Fault injection: a plug-in program that panics in the middle of a block run by the
/// windowed parallel path. The panic must reach the caller (not hang the other worker,
/// which may be waiting for the panicking transaction), and the table stays usable.
#[test]
fn panicking_program_in_a_parallel_window_reaches_the_caller() {
    let pid: Pubkey = [0xcd; 32];
    let mut registry = ProgramRegistry::default();
    registry.register(
        pid,
        Arc::new(
            |_: &mut InstructionContext<'_>| -> Result<(), InstructionError> {
                panic!("injected program panic")
            },
        ),
    );
    let executor = Executor::new(
        registry,
        ExecConfig {
            allow_sequential: false,
            ..ExecConfig::default()
        },
    );
    let genesis: Vec<(Pubkey, Account)> = (0..400).map(|i| (key(i), sys(100_000_000))).collect();
    let mut packets: Vec<Vec<u8>> = (0..1500)
        .map(|i| transfer(key(i % 200), key(200 + (i * 7) % 200), 1))
        .collect();
    // The panicking transaction writes key(0) and key(1), which later transfers wait for.
    packets[700] = packet(&message(
        vec![key(0), key(1), pid],
        1,
        0,
        1,
        vec![InstructionSpec {
            program_id_index: 2,
            accounts: vec![0, 1],
            data: vec![0],
        }],
    ));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let block = prepare(&packets);
        let t = table(&genesis, 16);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| executor.execute_block(&t, &block))
        }));
        let _ = tx.send((result.is_err(), t.len()));
    });
    let (panicked, accounts) = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("the parallel window hung after a program panic"));
    assert!(panicked, "the program's panic was swallowed");
    assert_eq!(accounts, 400);
}

/// The windowed path with fewer stripes than workers (one part per stripe, idle workers)
/// and with one stripe per worker, against the sequential run.
#[test]
fn windowed_path_with_few_stripes_matches_sequential() {
    let genesis: Vec<(Pubkey, Account)> = (0..600).map(|i| (key(i), sys(100_000_000))).collect();
    let packets: Vec<Vec<u8>> = (0..2500)
        .map(|i| {
            transfer(
                key((i * 13) % 600),
                key((i * 7 + 1) % 600),
                1 + u64::from(i % 5),
            )
        })
        .collect();
    let block = prepare(&packets);
    let reference_table = table(&genesis, 4);
    let reference = Executor::default().execute_sequential(&reference_table, &block);
    let forced = Executor::new(
        ProgramRegistry::default(),
        ExecConfig {
            allow_sequential: false,
            ..ExecConfig::default()
        },
    );
    for (stripes, threads) in [(1, 4), (2, 2), (2, 8), (4, 3)] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let t = table(&genesis, stripes);
        let out = pool.install(|| forced.execute_block(&t, &block));
        assert_eq!(out.path, ExecPath::Parallel);
        assert!(
            out.same_effects(&reference),
            "{stripes} stripes, {threads} threads"
        );
        assert_eq!(t.snapshot(), reference_table.snapshot());
    }
}

/// Extreme settings are taken as they come: a minimum batch larger than the largest
/// window, a window of 0 or 1, never a panic; the result is the sequential one.
#[test]
fn extreme_window_settings_do_not_panic() {
    let genesis: Vec<(Pubkey, Account)> = (0..50).map(|i| (key(i), sys(100_000_000))).collect();
    let packets: Vec<Vec<u8>> = (0..300)
        .map(|i| transfer(key(i % 50), key((i * 3 + 1) % 50), 1))
        .collect();
    let block = prepare(&packets);
    let reference_table = table(&genesis, 4);
    let reference = Executor::default().execute_sequential(&reference_table, &block);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let settings = [(usize::MAX, 1), (1 << 30, 0), (0, 0), (0, 1)];
    for ((min_parallel_batch, window), allow_sequential) in
        settings.iter().flat_map(|&s| [(s, false), (s, true)])
    {
        let executor = Executor::new(
            ProgramRegistry::default(),
            ExecConfig {
                allow_sequential,
                min_parallel_batch,
                window,
                ..ExecConfig::default()
            },
        );
        let t = table(&genesis, 4);
        let out = pool.install(|| executor.execute_block(&t, &block));
        assert!(
            out.same_effects(&reference),
            "{min_parallel_batch} / {window}"
        );
        assert_eq!(t.snapshot(), reference_table.snapshot());
    }
}
