//! Token-heavy blocks: token supply and lamports conserved, and parallel ≡ sequential
//! (level batches and the windowed path too) on random blocks over hot mints and hot
//! holders, and on generated `token` and `mainnet` mix workloads.

mod exec_common;
mod token_support;

use proptest::prelude::*;
use token_support::*;
use txpipe::execute::token::{Mint, TokenAccount, TokenInstruction as T, NATIVE_MINT};
use txpipe::execute::{
    rent, ExecConfig, ExecTx, ASSOCIATED_TOKEN_PROGRAM_ID, MEMO_PROGRAM_ID, TOKEN_PROGRAM_ID,
};
use txpipe::pipeline::mix::Mix;
use txpipe::pipeline::workload::{Contention, Workload, WorkloadSpec};
use txpipe::state::{Account, AccountsTable};
use txpipe::tx::CompiledInstruction;
use txpipe::Pubkey;

const HOLDERS: usize = 4;
const MINTS: usize = 2;

fn wallet(i: usize) -> Pubkey {
    k(&format!("wallet {i}"))
}
fn mint_of(m: usize) -> Pubkey {
    k(&format!("mint {m}"))
}
fn account_of(i: usize, m: usize) -> Pubkey {
    k(&format!("account {i} of mint {m}"))
}
fn wsol_of(i: usize) -> Pubkey {
    k(&format!("wrapped SOL {i}"))
}
fn fresh_ata(i: usize) -> Pubkey {
    txpipe::execute::associated_token_address(&wallet(i), &mint_of(0), &TOKEN_PROGRAM_ID)
        .map(|(a, _)| a)
        .unwrap_or_else(|| panic!("no address"))
}

fn genesis() -> Vec<(Pubkey, Account)> {
    let mut g = vec![];
    for m in 0..MINTS {
        g.push((
            mint_of(m),
            mint(Some(wallet(0)), 1_000 * HOLDERS as u64, 2, Some(wallet(1))),
        ));
        for i in 0..HOLDERS {
            g.push((account_of(i, m), acc(holding(mint_of(m), wallet(i), 1_000))));
        }
    }
    for i in 0..HOLDERS {
        g.push((wallet(i), sys(1_000_000_000)));
        g.push((wsol_of(i), native(wallet(i), 10_000)));
    }
    g.push((NATIVE_MINT, mint(None, 0, 9, None)));
    g
}

/// One random operation, as the instructions of one transaction paid by `wallet(payer)`.
#[derive(Clone, Debug)]
enum Op {
    Transfer {
        from: usize,
        to: usize,
        m: usize,
        amount: u64,
        checked: bool,
    },
    MintTo {
        to: usize,
        m: usize,
        amount: u64,
    },
    Burn {
        from: usize,
        m: usize,
        amount: u64,
    },
    ApproveThenDelegateSpends {
        from: usize,
        to: usize,
        m: usize,
        allow: u64,
        spend: u64,
    },
    Freeze {
        who: usize,
        m: usize,
    },
    Thaw {
        who: usize,
        m: usize,
    },
    WrapAndSync {
        who: usize,
        lamports: u64,
    },
    WrappedTransfer {
        from: usize,
        to: usize,
        amount: u64,
    },
    CloseWrapped {
        who: usize,
        to: usize,
    },
    CreateAta {
        who: usize,
    },
    Memo {
        who: usize,
        valid: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let h = 0..HOLDERS;
    let m = 0..MINTS;
    prop_oneof![
        4 => (h.clone(), h.clone(), m.clone(), 0..1_500u64, any::<bool>()).prop_map(|(from, to, m, amount, checked)| Op::Transfer { from, to, m, amount, checked }),
        1 => (h.clone(), m.clone(), 0..500u64).prop_map(|(to, m, amount)| Op::MintTo { to, m, amount }),
        1 => (h.clone(), m.clone(), 0..1_500u64).prop_map(|(from, m, amount)| Op::Burn { from, m, amount }),
        1 => (h.clone(), h.clone(), m.clone(), 0..300u64, 0..400u64).prop_map(|(from, to, m, allow, spend)| Op::ApproveThenDelegateSpends { from, to, m, allow, spend }),
        1 => (h.clone(), m.clone()).prop_map(|(who, m)| Op::Freeze { who, m }),
        1 => (h.clone(), m.clone()).prop_map(|(who, m)| Op::Thaw { who, m }),
        1 => (h.clone(), 0..5_000u64).prop_map(|(who, lamports)| Op::WrapAndSync { who, lamports }),
        1 => (h.clone(), h.clone(), 0..20_000u64).prop_map(|(from, to, amount)| Op::WrappedTransfer { from, to, amount }),
        1 => (h.clone(), h.clone()).prop_map(|(who, to)| Op::CloseWrapped { who, to }),
        1 => h.clone().prop_map(|who| Op::CreateAta { who }),
        1 => (h, any::<bool>()).prop_map(|(who, valid)| Op::Memo { who, valid }),
    ]
}

fn tok(accounts: Vec<Meta>, data: T<'_>) -> Ix {
    Ix {
        program: TOKEN_PROGRAM_ID,
        accounts,
        data: data.pack(),
    }
}

/// The payer (signer index) and instructions of `op`.
fn ixs(op: &Op) -> (Pubkey, Vec<Ix>) {
    match *op {
        Op::Transfer {
            from,
            to,
            m,
            amount,
            checked,
        } => (
            wallet(from),
            vec![if checked {
                tok(
                    vec![
                        w(account_of(from, m)),
                        r(mint_of(m)),
                        w(account_of(to, m)),
                        s(wallet(from)),
                    ],
                    T::TransferChecked {
                        amount,
                        decimals: 2,
                    },
                )
            } else {
                tok(
                    vec![
                        w(account_of(from, m)),
                        w(account_of(to, m)),
                        s(wallet(from)),
                    ],
                    T::Transfer { amount },
                )
            }],
        ),
        Op::MintTo { to, m, amount } => (
            wallet(0),
            vec![tok(
                vec![w(mint_of(m)), w(account_of(to, m)), s(wallet(0))],
                T::MintTo { amount },
            )],
        ),
        Op::Burn { from, m, amount } => (
            wallet(from),
            vec![tok(
                vec![w(account_of(from, m)), w(mint_of(m)), s(wallet(from))],
                T::Burn { amount },
            )],
        ),
        Op::ApproveThenDelegateSpends {
            from,
            to,
            m,
            allow,
            spend,
        } => (
            wallet(from),
            vec![
                tok(
                    vec![w(account_of(from, m)), r(wallet(to)), s(wallet(from))],
                    T::Approve { amount: allow },
                ),
                tok(
                    vec![w(account_of(from, m)), w(account_of(to, m)), s(wallet(to))],
                    T::Transfer { amount: spend },
                ),
            ],
        ),
        Op::Freeze { who, m } => (
            wallet(1),
            vec![tok(
                vec![w(account_of(who, m)), r(mint_of(m)), s(wallet(1))],
                T::FreezeAccount,
            )],
        ),
        Op::Thaw { who, m } => (
            wallet(1),
            vec![tok(
                vec![w(account_of(who, m)), r(mint_of(m)), s(wallet(1))],
                T::ThawAccount,
            )],
        ),
        Op::WrapAndSync { who, lamports } => (
            wallet(who),
            vec![
                Ix {
                    program: [0; 32],
                    accounts: vec![ws(wallet(who)), w(wsol_of(who))],
                    data: [2u32.to_le_bytes().to_vec(), lamports.to_le_bytes().to_vec()].concat(),
                },
                tok(vec![w(wsol_of(who))], T::SyncNative),
            ],
        ),
        Op::WrappedTransfer { from, to, amount } => (
            wallet(from),
            vec![tok(
                vec![w(wsol_of(from)), w(wsol_of(to)), s(wallet(from))],
                T::Transfer { amount },
            )],
        ),
        Op::CloseWrapped { who, to } => (
            wallet(who),
            vec![tok(
                vec![w(wsol_of(who)), w(wallet(to)), s(wallet(who))],
                T::CloseAccount,
            )],
        ),
        Op::CreateAta { who } => (
            wallet(who),
            vec![Ix {
                program: ASSOCIATED_TOKEN_PROGRAM_ID,
                accounts: vec![
                    ws(wallet(who)),
                    w(fresh_ata(who)),
                    r(wallet(who)),
                    r(mint_of(0)),
                    r([0; 32]),
                    r(TOKEN_PROGRAM_ID),
                ],
                data: vec![u8::from(who % 2 == 0)],
            }],
        ),
        Op::Memo { who, valid } => (
            wallet(who),
            vec![Ix {
                program: MEMO_PROGRAM_ID,
                accounts: vec![s(wallet(who))],
                data: if valid { b"ok".to_vec() } else { vec![0xff] },
            }],
        ),
    }
}

/// Keys, flags and instruction indexes of each op's transaction, its payer first.
struct Built {
    keys: Vec<Pubkey>,
    writable: Vec<bool>,
    signers: usize,
    compiled: Vec<(u8, Vec<u8>)>,
    data: Vec<Vec<u8>>,
}

fn build(op: &Op) -> Built {
    let (payer, ixs) = ixs(op);
    let (keys, writable, signers, compiled) = layout_with(payer, &ixs);
    Built {
        keys,
        writable,
        signers,
        compiled,
        data: ixs.into_iter().map(|i| i.data).collect(),
    }
}

fn exec_txs(built: &[Built]) -> Vec<ExecTx<'_>> {
    built
        .iter()
        .map(|b| {
            let instructions = b
                .compiled
                .iter()
                .zip(&b.data)
                .map(|((p, accounts), data)| CompiledInstruction {
                    program_id_index: *p,
                    accounts,
                    data,
                })
                .collect();
            ExecTx::new(b.keys.clone(), b.writable.clone(), b.signers, instructions)
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

fn total_lamports(t: &AccountsTable) -> u128 {
    t.snapshot()
        .iter()
        .map(|(_, a)| u128::from(a.lamports))
        .sum()
}

/// Every mint's supply equals the tokens its accounts hold.
fn supply_conserved(t: &AccountsTable) {
    let snap = t.snapshot();
    for m in 0..MINTS {
        let key = mint_of(m);
        let supply = snap
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, a)| Mint::unpack(&a.data).ok())
            .map_or(0, |mt| mt.supply);
        let held: u64 = snap
            .iter()
            .filter_map(|(_, a)| TokenAccount::unpack(&a.data).ok())
            .filter(|ta| ta.mint == key)
            .map(|ta| ta.amount)
            .sum();
        assert_eq!(supply, held, "mint {m}");
    }
    // Wrapped SOL: every native account's amount is its lamports above the reserve or less
    // (SyncNative pending).
    for (_, a) in &snap {
        if let Ok(ta) = TokenAccount::unpack(&a.data) {
            if let Some(reserve) = ta.is_native {
                assert!(ta.amount + reserve <= a.lamports);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn supply_and_lamports_conserved_and_parallel_equals_sequential(ops in prop::collection::vec(op(), 1..120)) {
        let g = genesis();
        let built: Vec<Built> = ops.iter().map(build).collect();
        let block = exec_txs(&built);
        let before = {
            let t = exec_common::table(&g, 16);
            total_lamports(&t)
        };
        let (seq_t, seq, par_t, par) = exec_common::run_both(&g, &block, ExecConfig::default(), 2);
        prop_assert_eq!(&seq.results, &par.results);
        prop_assert_eq!(seq_t.snapshot(), par_t.snapshot());
        prop_assert_eq!(seq.state_hash(&seq_t), par.state_hash(&par_t));
        supply_conserved(&seq_t);
        prop_assert_eq!(total_lamports(&seq_t) + u128::from(seq.fees_burnt), before);
    }
}

#[test]
fn the_random_blocks_reach_every_kind_of_outcome() {
    // A fixed block of every op, run once: successes and token errors both occur, so the
    // property above is not vacuous.
    let ops = vec![
        Op::Transfer {
            from: 0,
            to: 1,
            m: 0,
            amount: 10,
            checked: true,
        },
        Op::Transfer {
            from: 0,
            to: 1,
            m: 0,
            amount: 5_000,
            checked: false,
        },
        Op::Freeze { who: 2, m: 1 },
        Op::Transfer {
            from: 2,
            to: 3,
            m: 1,
            amount: 1,
            checked: false,
        },
        Op::WrapAndSync {
            who: 0,
            lamports: 77,
        },
        Op::CreateAta { who: 3 },
        Op::CreateAta { who: 3 },
        Op::CloseWrapped { who: 1, to: 2 },
        Op::Memo {
            who: 0,
            valid: false,
        },
    ];
    let built: Vec<Built> = ops.iter().map(build).collect();
    let block = exec_txs(&built);
    let (t, out, _, _) = exec_common::run_both(&genesis(), &block, ExecConfig::default(), 2);
    let ok: Vec<bool> = out.results.iter().map(|r| r.is_ok()).collect();
    assert_eq!(
        ok,
        vec![true, false, true, false, true, true, false, true, false],
        "{:?}",
        out.results
    );
    assert_eq!(
        t.get(&fresh_ata(3)).map(|a| a.lamports),
        Some(rent::minimum_balance(165))
    );
    supply_conserved(&t);
}

fn mix_workload(mix: Mix, accounts: usize, txs: usize) -> Workload {
    Workload::generate(
        &WorkloadSpec {
            accounts,
            transactions: txs,
            contention: Contention::Zipf(1.2),
            invalid_share: 0.0,
            duplicate_share: 0.0,
            mix,
            seed: 7,
            ..WorkloadSpec::default()
        },
        &|_, _| {},
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn generated_token_and_mainnet_blocks_equal_sequential() {
    for (mix, accounts) in [(Mix::Token, 16), (Mix::Mainnet, 16), (Mix::Mainnet, 500)] {
        let w = mix_workload(mix, accounts, 1_500);
        let block = exec_common::prepare(&w.packets);
        let (seq_t, seq, par_t, par) =
            exec_common::run_both(&w.genesis, &block, ExecConfig::default(), 2);
        assert_eq!(seq.results, par.results, "{mix}");
        assert_eq!(seq_t.snapshot(), par_t.snapshot(), "{mix}");
        let failed = seq.results.iter().filter(|r| r.is_err()).count();
        if mix == Mix::Mainnet {
            assert!(
                (50..400).contains(&failed),
                "{mix}: {failed} of 1500 failed"
            );
        } else {
            assert_eq!(
                failed,
                0,
                "{mix}: {:?}",
                seq.results.iter().find(|r| r.is_err())
            );
        }
    }
}
