//! Fuzz target: a block decoded from the input (accounts, balances and System
//! transactions of several kinds, failing ones included) executed sequentially, by the
//! level-batch parallel executor and by the windowed path of `execute_block`: every result
//! and the final state must be equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use txpipe::execute::{ExecConfig, ExecTx, Executor, ProgramRegistry};
use txpipe::schedule::schedule;
use txpipe::state::{Account, AccountsTable};
use txpipe::tx::build::{self, InstructionSpec, MessageSpec, SYSTEM_PROGRAM_ID};
use txpipe::tx::{MessageHeader, TransactionView, Version};
use txpipe::Pubkey;

fn key(i: u8) -> Pubkey {
    let mut k = [0x5a; 32];
    k[0] = i;
    k
}

/// One transaction from 6 input bytes: kind, two account indexes, amount.
fn packet(b: &[u8], universe: u8) -> Vec<u8> {
    let (a, mut c) = (b[1] % universe, b[2] % universe);
    if a == c {
        c = (a + 1) % universe;
    }
    let amount = u64::from(u32::from_le_bytes([b[3], b[4], b[5], 0])) * 7;
    let transfer = |from: u8, to: u8, lamports: u64| InstructionSpec {
        program_id_index: 2,
        accounts: vec![from, to],
        data: build::transfer_data(lamports),
    };
    let (signed, readonly_unsigned, program, instructions) = match b[0] % 8 {
        0..=2 => (1, 1, SYSTEM_PROGRAM_ID, vec![transfer(0, 1, amount)]),
        // two transfers, the second may fail and roll back the first
        3 => (1, 1, SYSTEM_PROGRAM_ID, vec![transfer(0, 1, amount), transfer(0, 1, amount * 3)]),
        // the source is not a signer
        4 => (1, 1, SYSTEM_PROGRAM_ID, vec![transfer(1, 0, amount)]),
        // the destination is read-only
        5 => (1, 2, SYSTEM_PROGRAM_ID, vec![transfer(0, 1, amount)]),
        // unknown program
        6 => (1, 1, [9; 32], vec![transfer(0, 1, amount)]),
        // bad data
        _ => (
            1,
            1,
            SYSTEM_PROGRAM_ID,
            vec![InstructionSpec {
                program_id_index: 2,
                accounts: vec![0, 1],
                data: vec![2, 0, 0],
            }],
        ),
    };
    let spec = MessageSpec {
        version: Version::Legacy,
        header: MessageHeader {
            num_required_signatures: signed,
            num_readonly_signed_accounts: 0,
            num_readonly_unsigned_accounts: readonly_unsigned,
        },
        static_keys: vec![key(a), key(c), program],
        recent_blockhash: [1; 32],
        instructions,
        lookups: vec![],
    };
    // execution does not check signatures
    build::assemble(&[[0; 64]], &build::encode_message(&spec))
}

fn table(genesis: &[(Pubkey, Account)], stripes: usize) -> AccountsTable {
    let t = AccountsTable::new(stripes).expect("stripes");
    t.load(genesis.iter().cloned());
    t
}

fuzz_target!(|data: &[u8]| {
    let Some((&u, rest)) = data.split_first() else {
        return;
    };
    let universe = 2 + u % 30;
    let (balances, txs) = rest.split_at(rest.len().min(usize::from(universe)));
    let genesis: Vec<(Pubkey, Account)> = (0..universe)
        .map(|i| {
            let b = balances.get(usize::from(i)).copied().unwrap_or(0);
            (key(i), Account::new(u64::from(b) * 20_000, SYSTEM_PROGRAM_ID))
        })
        .collect();
    let packets: Vec<Vec<u8>> = txs.chunks_exact(6).map(|b| packet(b, universe)).collect();
    let block: Vec<ExecTx<'_>> = packets
        .iter()
        .map(|p| ExecTx::from_view(&TransactionView::parse(p).expect("built"), None))
        .collect();
    let config = ExecConfig {
        min_parallel_batch: 2,
        ..ExecConfig::default()
    };
    let executor = Executor::new(ProgramRegistry::default(), config.clone());
    let seq_table = table(&genesis, 4);
    let seq = executor.execute_sequential(&seq_table, &block);
    let par_table = table(&genesis, 8);
    let par = executor
        .execute_parallel(&par_table, &block, &schedule(&block))
        .expect("parallel run");
    assert_eq!(seq.results, par.results);
    assert_eq!(seq_table.snapshot(), par_table.snapshot());
    let windowed = Executor::new(
        ProgramRegistry::default(),
        ExecConfig {
            allow_sequential: false,
            window: 7,
            ..config
        },
    );
    let win_table = table(&genesis, 2);
    let win = windowed.execute_block(&win_table, &block);
    assert!(win.same_effects(&seq));
    assert_eq!(win_table.snapshot(), seq_table.snapshot());
});
