//! Helpers shared by the execution tests: keys, hand-built packets, runs.
#![allow(dead_code)]

use txpipe::execute::{
    BlockOutcome, ComputeBudgetInstruction, ExecConfig, ExecTx, Executor, WorkProgram,
    COMPUTE_BUDGET_PROGRAM_ID,
};
use txpipe::schedule::schedule;
use txpipe::state::{Account, AccountsTable};
use txpipe::tx::build::{self, InstructionSpec, MessageSpec, SYSTEM_PROGRAM_ID};
use txpipe::tx::{MessageHeader, TransactionView, Version};
use txpipe::Pubkey;

/// A deterministic key for index `i` (never the System program id).
pub fn key(i: u32) -> Pubkey {
    let mut k = [0x5au8; 32];
    k[..4].copy_from_slice(&i.to_le_bytes());
    k[4..8].copy_from_slice(&i.wrapping_mul(0x9e37_79b9).to_le_bytes());
    k
}

/// A legacy message: `signed` signers first (`readonly_signed` of them read-only), then
/// unsigned keys (the last `readonly_unsigned` read-only).
pub fn message(
    keys: Vec<Pubkey>,
    signed: u8,
    readonly_signed: u8,
    readonly_unsigned: u8,
    instructions: Vec<InstructionSpec>,
) -> MessageSpec {
    MessageSpec {
        version: Version::Legacy,
        header: MessageHeader {
            num_required_signatures: signed,
            num_readonly_signed_accounts: readonly_signed,
            num_readonly_unsigned_accounts: readonly_unsigned,
        },
        static_keys: keys,
        recent_blockhash: [7; 32],
        instructions,
        lookups: Vec::new(),
    }
}

/// The packet of `spec` with zero signatures (execution never looks at them).
pub fn packet(spec: &MessageSpec) -> Vec<u8> {
    let n = usize::from(spec.header.num_required_signatures);
    build::assemble(&vec![[0u8; 64]; n], &build::encode_message(spec))
}

/// A transfer instruction over key indexes `from`, `to` (program at `program`).
pub fn transfer_ix(program: u8, from: u8, to: u8, lamports: u64) -> InstructionSpec {
    InstructionSpec {
        program_id_index: program,
        accounts: vec![from, to],
        data: build::transfer_data(lamports),
    }
}

/// `from` pays and transfers to `to` (keys `[from, to, system]`).
pub fn transfer(from: Pubkey, to: Pubkey, lamports: u64) -> Vec<u8> {
    packet(&message(
        vec![from, to, SYSTEM_PROGRAM_ID],
        1,
        0,
        1,
        vec![transfer_ix(2, 0, 1, lamports)],
    ))
}

/// `payer` pays; the transfer moves lamports out of `from`, which did not sign.
pub fn transfer_missing_signer(payer: Pubkey, from: Pubkey, lamports: u64) -> Vec<u8> {
    packet(&message(
        vec![payer, from, SYSTEM_PROGRAM_ID],
        1,
        0,
        1,
        vec![transfer_ix(2, 1, 0, lamports)],
    ))
}

/// A transfer to `to` declared read-only.
pub fn transfer_to_readonly(from: Pubkey, to: Pubkey, lamports: u64) -> Vec<u8> {
    packet(&message(
        vec![from, to, SYSTEM_PROGRAM_ID],
        1,
        0,
        2,
        vec![transfer_ix(2, 0, 1, lamports)],
    ))
}

/// Two transfers `from -> to` in one transaction (the second may fail and roll back the
/// first).
pub fn double_transfer(from: Pubkey, to: Pubkey, first: u64, second: u64) -> Vec<u8> {
    packet(&message(
        vec![from, to, SYSTEM_PROGRAM_ID],
        1,
        0,
        1,
        vec![transfer_ix(2, 0, 1, first), transfer_ix(2, 0, 1, second)],
    ))
}

/// CreateAccount: `funder` funds `new` (both sign).
pub fn create_account(
    funder: Pubkey,
    new: Pubkey,
    lamports: u64,
    space: u64,
    owner: Pubkey,
) -> Vec<u8> {
    packet(&message(
        vec![funder, new, SYSTEM_PROGRAM_ID],
        2,
        0,
        1,
        vec![InstructionSpec {
            program_id_index: 2,
            accounts: vec![0, 1],
            data: build::create_account_data(lamports, space, &owner),
        }],
    ))
}

/// Parses every packet and prepares it for execution (no resolver).
pub fn prepare(packets: &[Vec<u8>]) -> Vec<ExecTx<'_>> {
    packets
        .iter()
        .map(|p| {
            let view = TransactionView::parse(p).unwrap_or_else(|e| panic!("parse: {e}"));
            ExecTx::from_view(&view, None)
        })
        .collect()
}

/// A table holding `accounts`.
pub fn table(accounts: &[(Pubkey, Account)], stripes: usize) -> AccountsTable {
    let t = AccountsTable::new(stripes).unwrap_or_else(|e| panic!("{e}"));
    t.load(accounts.iter().cloned());
    t
}

/// Runs `block` sequentially on one table and scheduled in parallel on `threads` workers
/// on another (both from `genesis`); returns both tables and outcomes.
pub fn run_both(
    genesis: &[(Pubkey, Account)],
    block: &[ExecTx<'_>],
    config: ExecConfig,
    threads: usize,
) -> (AccountsTable, BlockOutcome, AccountsTable, BlockOutcome) {
    let executor = Executor::new(WorkProgram::registry(), config);
    let seq_table = table(genesis, 16);
    let seq = executor.execute_sequential(&seq_table, block);
    let par_table = table(genesis, 64);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let par = pool.install(|| {
        let s = schedule(block);
        executor
            .execute_parallel(&par_table, block, &s)
            .unwrap_or_else(|e| panic!("{e}"))
    });
    // The windowed path of `execute_block` (forced, small windows) must agree as well.
    let windowed = Executor::new(
        WorkProgram::registry(),
        ExecConfig {
            allow_sequential: false,
            window: 97,
            ..executor.config().clone()
        },
    );
    let win_table = table(genesis, 32);
    let win = pool.install(|| windowed.execute_block(&win_table, block));
    assert!(
        win.same_effects(&seq),
        "windowed path differs from sequential"
    );
    assert_eq!(win_table.snapshot(), seq_table.snapshot());
    (seq_table, seq, par_table, par)
}

/// A ComputeBudget instruction (program at key index `program`).
pub fn budget_ix(program: u8, ix: ComputeBudgetInstruction) -> InstructionSpec {
    InstructionSpec {
        program_id_index: program,
        accounts: vec![],
        data: ix.encode(),
    }
}

/// `from` pays, sets its compute budget with `budget` (ComputeBudget instructions first),
/// transfers to `to`, then runs `rounds` work rounds on its target
/// ([`WorkProgram::target_of`]) when `rounds` is `Some`. Keys: `[from, to, target,
/// System, ComputeBudget, work program]`.
pub fn budgeted(
    from: Pubkey,
    to: Pubkey,
    lamports: u64,
    budget: &[ComputeBudgetInstruction],
    rounds: Option<u32>,
) -> Vec<u8> {
    let mut ixs: Vec<InstructionSpec> = budget.iter().map(|&b| budget_ix(4, b)).collect();
    ixs.push(transfer_ix(3, 0, 1, lamports));
    if let Some(r) = rounds {
        ixs.push(InstructionSpec {
            program_id_index: 5,
            accounts: vec![2],
            data: WorkProgram::instruction_data(r),
        });
    }
    packet(&message(
        vec![
            from,
            to,
            WorkProgram::target_of(&from),
            SYSTEM_PROGRAM_ID,
            COMPUTE_BUDGET_PROGRAM_ID,
            WorkProgram::ID,
        ],
        1,
        0,
        3,
        ixs,
    ))
}

/// Like [`budgeted`], with raw ComputeBudget instruction data.
pub fn budgeted_raw(from: Pubkey, to: Pubkey, lamports: u64, data: Vec<u8>) -> Vec<u8> {
    packet(&message(
        vec![from, to, SYSTEM_PROGRAM_ID, COMPUTE_BUDGET_PROGRAM_ID],
        1,
        0,
        2,
        vec![
            InstructionSpec {
                program_id_index: 3,
                accounts: vec![],
                data,
            },
            transfer_ix(2, 0, 1, lamports),
        ],
    ))
}
