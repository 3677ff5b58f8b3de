//! The shipped real transactions (`solana/all.jsonl`) under the compute-budget rules: with
//! every writable signer funded (what `txpipe replay --fund` does), none stops at a
//! ComputeBudget instruction, and each one whose budget Agave accepts runs under its
//! declared limit and pays its prioritization fee.

mod exec_common;

use exec_common::table;
use txpipe::execute::{
    ExecConfig, ExecTx, Executor, ProgramRegistry, TxError, COMPUTE_BUDGET_PROGRAM_ID,
};
use txpipe::state::Account;
use txpipe::testing;
use txpipe::tx::TransactionView;

#[test]
fn real_transactions_do_not_stop_at_compute_budget_instructions() {
    let packets = testing::load_solana_jsonl(&testing::vectors_dir().join("solana/all.jsonl"))
        .expect("solana vectors");
    let views: Vec<TransactionView<'_>> = packets
        .iter()
        .filter_map(|p| TransactionView::parse(p).ok())
        .collect();
    let block: Vec<ExecTx<'_>> = views.iter().map(|v| ExecTx::from_view(v, None)).collect();
    let mut genesis = Vec::new();
    for v in &views {
        let signers = usize::from(v.header().num_required_signatures);
        for (i, k) in v.static_keys().iter().enumerate().take(signers) {
            if v.is_writable(i) {
                genesis.push((*k, Account::new(1_000_000_000_000, [0; 32])));
            }
        }
    }
    let t = table(&genesis, 64);
    let out = Executor::new(ProgramRegistry::default(), ExecConfig::default())
        .execute_sequential(&t, &block);
    let mut with_budget = 0;
    let mut priced = 0;
    for ((tx, r), &units) in block.iter().zip(&out.results).zip(&out.compute_units) {
        let keys = tx.keys();
        let is_cb = |index: u8| {
            tx.instructions()
                .get(usize::from(index))
                .and_then(|ix| keys.get(usize::from(ix.program_id_index)))
                == Some(&COMPUTE_BUDGET_PROGRAM_ID)
        };
        if tx.instructions().iter().any(|ix| {
            keys.get(usize::from(ix.program_id_index)) == Some(&COMPUTE_BUDGET_PROGRAM_ID)
        }) {
            with_budget += 1;
        }
        if let Err(TxError::Instruction { index, error }) = r {
            assert!(
                !is_cb(*index),
                "stopped at ComputeBudget instruction {index}: {error}"
            );
        }
        assert!(units <= u64::from(tx.budget().compute_unit_limit));
        if tx.budget().compute_unit_price > 0 {
            priced += 1;
        }
    }
    // 1,656 of the 2,352 carry ComputeBudget instructions (a few fail to parse here or
    // are v0 with lookups, which have no keys without a resolver).
    assert!(with_budget > 1_300, "{with_budget}");
    assert!(priced > 100, "{priced}");
    eprintln!("{with_budget} with ComputeBudget instructions, {priced} with a price");
}
