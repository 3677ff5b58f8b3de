//! SPL Token, instruction by instruction: every rule of `spl-token`'s processor that the
//! module docs of `txpipe::execute::token` cite, one row per rule, run as a transaction
//! through the executor (fees, rollback and the runtime's account rules included).

mod token_support;

use token_support::*;
use txpipe::execute::token::{
    AccountState, AuthorityType, TokenAccount, TokenError, TokenInstruction as T, NATIVE_MINT,
};
use txpipe::execute::{rent, InstructionError as E, TOKEN_PROGRAM_ID};
use txpipe::state::Account;
use txpipe::Pubkey;

const TOKEN: Pubkey = TOKEN_PROGRAM_ID;

fn te(e: TokenError) -> E {
    E::Custom(e.code())
}

fn ix(accounts: Vec<Meta>, data: T<'_>) -> Ix {
    Ix {
        program: TOKEN,
        accounts,
        data: data.pack(),
    }
}

fn raw(accounts: Vec<Meta>, data: Vec<u8>) -> Ix {
    Ix {
        program: TOKEN,
        accounts,
        data,
    }
}

/// The world every row starts from.
struct World {
    accounts: Vec<(Pubkey, Account)>,
}

// Keys.
fn m() -> Pubkey {
    k("mint")
}
fn m2() -> Pubkey {
    k("mint2 (no freeze authority)")
}
fn fixed() -> Pubkey {
    k("fixed-supply mint")
}
fn uninit_mint() -> Pubkey {
    k("uninitialized mint")
}
fn fake_mint() -> Pubkey {
    k("system-owned mint data")
}
fn mint_auth() -> Pubkey {
    k("mint authority")
}
fn freeze_auth() -> Pubkey {
    k("freeze authority")
}
fn alice() -> Pubkey {
    k("alice")
}
fn bob() -> Pubkey {
    k("bob")
}
fn del() -> Pubkey {
    k("delegate")
}
fn a() -> Pubkey {
    k("alice's account")
}
fn b() -> Pubkey {
    k("bob's account")
}
fn c() -> Pubkey {
    k("alice's mint2 account")
}
fn frozen() -> Pubkey {
    k("frozen account")
}
fn delegated() -> Pubkey {
    k("delegated account")
}
fn wsol() -> Pubkey {
    k("alice's wrapped SOL")
}
fn wsol_b() -> Pubkey {
    k("bob's wrapped SOL")
}
fn ms() -> Pubkey {
    k("multisig")
}
fn signer(i: u8) -> Pubkey {
    k(&format!("multisig signer {i}"))
}
fn ms_acc() -> Pubkey {
    k("multisig's account")
}
fn blank82() -> Pubkey {
    k("blank 82")
}
fn blank165() -> Pubkey {
    k("blank 165")
}
fn blank355() -> Pubkey {
    k("blank 355")
}
fn poor82() -> Pubkey {
    k("blank 82 below rent exemption")
}
fn poor165() -> Pubkey {
    k("blank 165 below rent exemption")
}
fn sys_token_data() -> Pubkey {
    k("System-owned account with token data")
}
fn burnable() -> Pubkey {
    k("account owned by the System program id")
}
fn closeable() -> Pubkey {
    k("empty account with a close authority")
}
fn closer() -> Pubkey {
    k("close authority")
}
fn fixed_acc() -> Pubkey {
    k("fixed-supply account")
}
fn rent_id() -> Pubkey {
    rent::RENT_SYSVAR_ID
}

fn world() -> World {
    let blank = |len: usize, lamports: u64| {
        let mut acc = Account::new(lamports, TOKEN);
        acc.data = vec![0; len];
        acc
    };
    let mut fake = mint(Some(mint_auth()), 0, 6, None);
    fake.owner = [0; 32];
    let mut sys_data = acc(holding(m(), alice(), 5));
    sys_data.owner = [0; 32];
    World {
        accounts: vec![
            (m(), mint(Some(mint_auth()), 1_100, 6, Some(freeze_auth()))),
            (m2(), mint(Some(mint_auth()), 0, 2, None)),
            (fixed(), mint(None, 10, 0, None)),
            (uninit_mint(), blank(82, rent::minimum_balance(82))),
            (fake_mint(), fake),
            (a(), acc(holding(m(), alice(), 600))),
            (b(), acc(holding(m(), bob(), 400))),
            (c(), acc(holding(m2(), alice(), 0))),
            (
                frozen(),
                acc(TokenAccount {
                    state: AccountState::Frozen,
                    ..holding(m(), alice(), 0)
                }),
            ),
            (
                delegated(),
                acc(TokenAccount {
                    delegate: Some(del()),
                    delegated_amount: 100,
                    ..holding(m(), alice(), 100)
                }),
            ),
            (wsol(), native(alice(), 5_000)),
            (wsol_b(), native(bob(), 0)),
            (NATIVE_MINT, mint(None, 0, 9, None)),
            (ms(), multisig(2, &[signer(1), signer(2), signer(3)])),
            (ms_acc(), acc(holding(m(), ms(), 0))),
            (blank82(), blank(82, rent::minimum_balance(82))),
            (blank165(), blank(165, rent::minimum_balance(165))),
            (blank355(), blank(355, rent::minimum_balance(355))),
            (poor165(), blank(165, rent::minimum_balance(165) - 1)),
            (poor82(), blank(82, rent::minimum_balance(82) - 1)),
            (sys_token_data(), sys_data),
            (burnable(), acc(holding(m(), [0; 32], 0))),
            (
                closeable(),
                acc(TokenAccount {
                    close_authority: Some(closer()),
                    ..holding(m(), alice(), 0)
                }),
            ),
            (fixed_acc(), acc(holding(fixed(), bob(), 10))),
            (alice(), sys(1_000_000)),
            (bob(), sys(1_000_000)),
        ],
    }
}

type Check = fn(&Run);

/// One row: a name, the instructions, the expected result (the failing instruction's
/// error), and what must hold after a success.
struct Case {
    name: &'static str,
    ixs: Vec<Ix>,
    expect: Result<(), (u8, E)>,
    check: Option<Check>,
}

fn ok(name: &'static str, ixs: Vec<Ix>, check: Check) -> Case {
    Case {
        name,
        ixs,
        expect: Ok(()),
        check: Some(check),
    }
}

fn fails(name: &'static str, ixs: Vec<Ix>, error: E) -> Case {
    Case {
        name,
        ixs,
        expect: Err((0, error)),
        check: None,
    }
}

fn transfer(from: Pubkey, to: Pubkey, auth: Meta, amount: u64) -> Ix {
    ix(vec![w(from), w(to), auth], T::Transfer { amount })
}

fn cases() -> Vec<Case> {
    use AuthorityType as At;
    use TokenError as Te;
    vec![
        // Decoding.
        fails(
            "empty data",
            vec![raw(vec![w(a())], vec![])],
            te(Te::InvalidInstruction),
        ),
        fails(
            "unknown tag",
            vec![raw(vec![w(a())], vec![99])],
            te(Te::InvalidInstruction),
        ),
        fails(
            "tag 25 (Token-2022 only)",
            vec![raw(vec![w(a())], vec![25])],
            te(Te::InvalidInstruction),
        ),
        fails(
            "truncated amount",
            vec![raw(vec![w(a()), w(b()), s(alice())], vec![3, 1, 2])],
            te(Te::InvalidInstruction),
        ),
        fails(
            "bad authority option tag",
            vec![raw(vec![w(m()), s(mint_auth())], vec![6, 0, 2])],
            te(Te::InvalidInstruction),
        ),
        fails(
            "unknown authority type",
            vec![raw(vec![w(m()), s(mint_auth())], vec![6, 4, 0])],
            te(Te::InvalidInstruction),
        ),
        fails(
            "missing accounts",
            vec![raw(vec![w(a()), w(b())], T::Transfer { amount: 1 }.pack())],
            E::NotEnoughAccountKeys,
        ),
        // InitializeMint / InitializeMint2.
        ok(
            "InitializeMint",
            vec![ix(
                vec![w(blank82()), r(rent_id())],
                T::InitializeMint {
                    decimals: 9,
                    mint_authority: alice(),
                    freeze_authority: Some(bob()),
                    with_rent_sysvar: true,
                },
            )],
            |r| {
                let mt = r.mint(&blank82());
                assert_eq!(
                    (
                        mt.mint_authority,
                        mt.freeze_authority,
                        mt.decimals,
                        mt.supply
                    ),
                    (Some(alice()), Some(bob()), 9, 0)
                );
            },
        ),
        ok(
            "InitializeMint2",
            vec![ix(
                vec![w(blank82())],
                T::InitializeMint {
                    decimals: 0,
                    mint_authority: alice(),
                    freeze_authority: None,
                    with_rent_sysvar: false,
                },
            )],
            |r| {
                assert_eq!(r.mint(&blank82()).freeze_authority, None);
            },
        ),
        fails(
            "InitializeMint: already in use",
            vec![ix(
                vec![w(m())],
                T::InitializeMint {
                    decimals: 0,
                    mint_authority: alice(),
                    freeze_authority: None,
                    with_rent_sysvar: false,
                },
            )],
            te(Te::AlreadyInUse),
        ),
        fails(
            "InitializeMint: wrong rent sysvar",
            vec![ix(
                vec![w(blank82()), r(alice())],
                T::InitializeMint {
                    decimals: 0,
                    mint_authority: alice(),
                    freeze_authority: None,
                    with_rent_sysvar: true,
                },
            )],
            E::InvalidArgument,
        ),
        fails(
            "InitializeMint: wrong length",
            vec![ix(
                vec![w(blank165())],
                T::InitializeMint {
                    decimals: 0,
                    mint_authority: alice(),
                    freeze_authority: None,
                    with_rent_sysvar: false,
                },
            )],
            E::InvalidAccountData,
        ),
        fails(
            "InitializeMint: not rent-exempt",
            vec![ix(
                vec![w(poor82())],
                T::InitializeMint {
                    decimals: 0,
                    mint_authority: alice(),
                    freeze_authority: None,
                    with_rent_sysvar: false,
                },
            )],
            te(Te::NotRentExempt),
        ),
        // InitializeAccount / 2 / 3.
        ok(
            "InitializeAccount",
            vec![ix(
                vec![w(blank165()), r(m()), r(bob()), r(rent_id())],
                T::InitializeAccount,
            )],
            |r| {
                let t = r.token(&blank165());
                assert_eq!(
                    (t.mint, t.owner, t.amount, t.is_native, t.state),
                    (m(), bob(), 0, None, AccountState::Initialized)
                );
            },
        ),
        ok(
            "InitializeAccount2",
            vec![ix(
                vec![w(blank165()), r(m()), r(rent_id())],
                T::InitializeAccount2 { owner: bob() },
            )],
            |r| {
                assert_eq!(r.token(&blank165()).owner, bob());
            },
        ),
        ok(
            "InitializeAccount3, native mint: amount = lamports above the reserve",
            vec![
                Ix {
                    program: [0; 32],
                    accounts: vec![ws(payer()), w(blank165())],
                    data: [2u32.to_le_bytes().to_vec(), 777u64.to_le_bytes().to_vec()].concat(),
                },
                ix(
                    vec![w(blank165()), r(NATIVE_MINT)],
                    T::InitializeAccount3 { owner: alice() },
                ),
            ],
            |r| {
                let t = r.token(&blank165());
                assert_eq!(
                    (t.amount, t.is_native),
                    (777, Some(rent::minimum_balance(165)))
                );
            },
        ),
        fails(
            "InitializeAccount: already in use",
            vec![ix(
                vec![w(a()), r(m())],
                T::InitializeAccount3 { owner: bob() },
            )],
            te(Te::AlreadyInUse),
        ),
        fails(
            "InitializeAccount: not rent-exempt",
            vec![ix(
                vec![w(poor165()), r(m())],
                T::InitializeAccount3 { owner: bob() },
            )],
            te(Te::NotRentExempt),
        ),
        fails(
            "InitializeAccount: uninitialized mint",
            vec![ix(
                vec![w(blank165()), r(uninit_mint())],
                T::InitializeAccount3 { owner: bob() },
            )],
            te(Te::InvalidMint),
        ),
        fails(
            "InitializeAccount: mint not owned by Token",
            vec![ix(
                vec![w(blank165()), r(fake_mint())],
                T::InitializeAccount3 { owner: bob() },
            )],
            E::IncorrectProgramId,
        ),
        fails(
            "InitializeAccount: wrong rent sysvar",
            vec![ix(
                vec![w(blank165()), r(m()), r(bob()), r(alice())],
                T::InitializeAccount,
            )],
            E::InvalidArgument,
        ),
        fails(
            "InitializeAccount: account not writable",
            vec![ix(
                vec![r(blank165()), r(m())],
                T::InitializeAccount3 { owner: bob() },
            )],
            E::AccountNotWritable,
        ),
        // InitializeMultisig / 2.
        ok(
            "InitializeMultisig 2 of 3",
            vec![ix(
                vec![
                    w(blank355()),
                    r(rent_id()),
                    r(signer(1)),
                    r(signer(2)),
                    r(signer(3)),
                ],
                T::InitializeMultisig {
                    m: 2,
                    with_rent_sysvar: true,
                },
            )],
            |r| {
                let ms = txpipe::execute::token::Multisig::unpack(&r.account(&blank355()).data)
                    .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!((ms.m, ms.n, ms.signers[2]), (2, 3, signer(3)));
            },
        ),
        fails(
            "InitializeMultisig: no signers",
            vec![ix(
                vec![w(blank355())],
                T::InitializeMultisig {
                    m: 1,
                    with_rent_sysvar: false,
                },
            )],
            te(Te::InvalidNumberOfProvidedSigners),
        ),
        fails(
            "InitializeMultisig: m = 0",
            vec![ix(
                vec![w(blank355()), r(signer(1))],
                T::InitializeMultisig {
                    m: 0,
                    with_rent_sysvar: false,
                },
            )],
            te(Te::InvalidNumberOfRequiredSigners),
        ),
        fails(
            "InitializeMultisig: already in use",
            vec![ix(
                vec![w(ms()), r(signer(1))],
                T::InitializeMultisig {
                    m: 1,
                    with_rent_sysvar: false,
                },
            )],
            te(Te::AlreadyInUse),
        ),
        // Transfer.
        ok(
            "Transfer by the owner",
            vec![transfer(a(), b(), s(alice()), 250)],
            |r| {
                assert_eq!((r.token(&a()).amount, r.token(&b()).amount), (350, 650));
            },
        ),
        ok(
            "Transfer of everything",
            vec![transfer(a(), b(), s(alice()), 600)],
            |r| {
                assert_eq!(r.token(&a()).amount, 0);
            },
        ),
        ok(
            "Transfer to itself changes nothing",
            vec![transfer(a(), a(), s(alice()), 600)],
            |r| {
                assert_eq!(r.token(&a()).amount, 600);
            },
        ),
        ok(
            "Transfer by the delegate: allowance spent, delegate cleared at 0",
            vec![transfer(delegated(), b(), s(del()), 100)],
            |r| {
                let t = r.token(&delegated());
                assert_eq!((t.amount, t.delegate, t.delegated_amount), (0, None, 0));
            },
        ),
        ok(
            "Transfer by the delegate, part of the allowance",
            vec![transfer(delegated(), b(), s(del()), 30)],
            |r| {
                let t = r.token(&delegated());
                assert_eq!((t.delegate, t.delegated_amount), (Some(del()), 70));
            },
        ),
        ok(
            "Transfer by the owner leaves the allowance",
            vec![transfer(delegated(), b(), s(alice()), 30)],
            |r| {
                assert_eq!(r.token(&delegated()).delegated_amount, 100);
            },
        ),
        ok(
            "Transfer of wrapped SOL moves lamports",
            vec![transfer(wsol(), wsol_b(), s(alice()), 1_500)],
            |r| {
                let reserve = rent::minimum_balance(165);
                assert_eq!(r.account(&wsol()).lamports, reserve + 3_500);
                assert_eq!(r.account(&wsol_b()).lamports, reserve + 1_500);
                assert_eq!(r.token(&wsol_b()).amount, 1_500);
            },
        ),
        ok(
            "Transfer from a multisig, 2 of 3 signed",
            vec![
                ix(
                    vec![w(m()), w(ms_acc()), s(mint_auth())],
                    T::MintTo { amount: 9 },
                ),
                ix(
                    vec![w(ms_acc()), w(b()), r(ms()), s(signer(1)), s(signer(3))],
                    T::Transfer { amount: 9 },
                ),
            ],
            |r| {
                assert_eq!(r.token(&b()).amount, 409);
            },
        ),
        fails(
            "Transfer: insufficient funds",
            vec![transfer(a(), b(), s(alice()), 601)],
            te(Te::InsufficientFunds),
        ),
        fails(
            "Transfer: delegate over its allowance",
            vec![transfer(delegated(), b(), s(del()), 101)],
            te(Te::InsufficientFunds),
        ),
        fails(
            "Transfer: mint mismatch",
            vec![transfer(a(), c(), s(alice()), 1)],
            te(Te::MintMismatch),
        ),
        fails(
            "Transfer: source frozen",
            vec![transfer(frozen(), b(), s(alice()), 0)],
            te(Te::AccountFrozen),
        ),
        fails(
            "Transfer: destination frozen",
            vec![transfer(a(), frozen(), s(alice()), 1)],
            te(Te::AccountFrozen),
        ),
        fails(
            "Transfer: not the owner",
            vec![transfer(a(), b(), s(bob()), 1)],
            te(Te::OwnerMismatch),
        ),
        fails(
            "Transfer: owner did not sign",
            vec![transfer(a(), b(), r(alice()), 1)],
            E::MissingRequiredSignature,
        ),
        fails(
            "Transfer: multisig, 1 of 3 signed",
            vec![ix(
                vec![w(ms_acc()), w(b()), r(ms()), s(signer(1)), r(signer(2))],
                T::Transfer { amount: 0 },
            )],
            E::MissingRequiredSignature,
        ),
        fails(
            "Transfer: multisig, one signer listed twice",
            vec![ix(
                vec![w(ms_acc()), w(b()), r(ms()), s(signer(1)), s(signer(1))],
                T::Transfer { amount: 0 },
            )],
            E::MissingRequiredSignature,
        ),
        fails(
            "Transfer: uninitialized destination",
            vec![transfer(a(), blank165(), s(alice()), 1)],
            E::UninitializedAccount,
        ),
        fails(
            "Transfer: destination is no token account",
            vec![transfer(a(), bob(), s(alice()), 1)],
            E::InvalidAccountData,
        ),
        fails(
            "Transfer: source read-only",
            vec![ix(
                vec![r(a()), w(b()), s(alice())],
                T::Transfer { amount: 1 },
            )],
            E::AccountNotWritable,
        ),
        fails(
            "Transfer: destination not owned by Token (runtime rule)",
            vec![transfer(a(), sys_token_data(), s(alice()), 1)],
            E::ExternalAccountDataModified,
        ),
        fails(
            "Transfer of 0: destination not owned by Token",
            vec![transfer(a(), sys_token_data(), s(alice()), 0)],
            E::IncorrectProgramId,
        ),
        // TransferChecked.
        ok(
            "TransferChecked",
            vec![ix(
                vec![w(a()), r(m()), w(b()), s(alice())],
                T::TransferChecked {
                    amount: 5,
                    decimals: 6,
                },
            )],
            |r| {
                assert_eq!(r.token(&b()).amount, 405);
            },
        ),
        fails(
            "TransferChecked: decimals mismatch",
            vec![ix(
                vec![w(a()), r(m()), w(b()), s(alice())],
                T::TransferChecked {
                    amount: 5,
                    decimals: 2,
                },
            )],
            te(Te::MintDecimalsMismatch),
        ),
        fails(
            "TransferChecked: wrong mint account",
            vec![ix(
                vec![w(a()), r(m2()), w(b()), s(alice())],
                T::TransferChecked {
                    amount: 5,
                    decimals: 2,
                },
            )],
            te(Te::MintMismatch),
        ),
        // Approve / ApproveChecked / Revoke.
        ok(
            "Approve",
            vec![ix(
                vec![w(a()), r(del()), s(alice())],
                T::Approve { amount: 42 },
            )],
            |r| {
                let t = r.token(&a());
                assert_eq!((t.delegate, t.delegated_amount), (Some(del()), 42));
            },
        ),
        ok(
            "ApproveChecked",
            vec![ix(
                vec![w(a()), r(m()), r(del()), s(alice())],
                T::ApproveChecked {
                    amount: 7,
                    decimals: 6,
                },
            )],
            |r| {
                assert_eq!(r.token(&a()).delegated_amount, 7);
            },
        ),
        fails(
            "Approve: frozen",
            vec![ix(
                vec![w(frozen()), r(del()), s(alice())],
                T::Approve { amount: 1 },
            )],
            te(Te::AccountFrozen),
        ),
        fails(
            "Approve: not the owner",
            vec![ix(
                vec![w(a()), r(del()), s(bob())],
                T::Approve { amount: 1 },
            )],
            te(Te::OwnerMismatch),
        ),
        fails(
            "ApproveChecked: decimals mismatch",
            vec![ix(
                vec![w(a()), r(m()), r(del()), s(alice())],
                T::ApproveChecked {
                    amount: 7,
                    decimals: 7,
                },
            )],
            te(Te::MintDecimalsMismatch),
        ),
        ok(
            "Revoke",
            vec![ix(vec![w(delegated()), s(alice())], T::Revoke)],
            |r| {
                let t = r.token(&delegated());
                assert_eq!((t.delegate, t.delegated_amount), (None, 0));
            },
        ),
        fails(
            "Revoke: owner did not sign",
            vec![ix(vec![w(delegated()), r(alice())], T::Revoke)],
            E::MissingRequiredSignature,
        ),
        fails(
            "Revoke: frozen",
            vec![ix(vec![w(frozen()), s(alice())], T::Revoke)],
            te(Te::AccountFrozen),
        ),
        // SetAuthority.
        ok(
            "SetAuthority: account owner, delegate cleared",
            vec![ix(
                vec![w(delegated()), s(alice())],
                T::SetAuthority {
                    authority_type: At::AccountOwner,
                    new_authority: Some(bob()),
                },
            )],
            |r| {
                let t = r.token(&delegated());
                assert_eq!((t.owner, t.delegate), (bob(), None));
            },
        ),
        ok(
            "SetAuthority: close authority",
            vec![ix(
                vec![w(a()), s(alice())],
                T::SetAuthority {
                    authority_type: At::CloseAccount,
                    new_authority: Some(bob()),
                },
            )],
            |r| {
                assert_eq!(r.token(&a()).close_authority, Some(bob()));
            },
        ),
        ok(
            "SetAuthority: mint authority removed (fixed supply)",
            vec![ix(
                vec![w(m()), s(mint_auth())],
                T::SetAuthority {
                    authority_type: At::MintTokens,
                    new_authority: None,
                },
            )],
            |r| {
                assert_eq!(r.mint(&m()).mint_authority, None);
            },
        ),
        ok(
            "SetAuthority: freeze authority",
            vec![ix(
                vec![w(m()), s(freeze_auth())],
                T::SetAuthority {
                    authority_type: At::FreezeAccount,
                    new_authority: Some(bob()),
                },
            )],
            |r| {
                assert_eq!(r.mint(&m()).freeze_authority, Some(bob()));
            },
        ),
        fails(
            "SetAuthority: account owner to none",
            vec![ix(
                vec![w(a()), s(alice())],
                T::SetAuthority {
                    authority_type: At::AccountOwner,
                    new_authority: None,
                },
            )],
            te(Te::InvalidInstruction),
        ),
        fails(
            "SetAuthority: mint type on an account",
            vec![ix(
                vec![w(a()), s(alice())],
                T::SetAuthority {
                    authority_type: At::MintTokens,
                    new_authority: None,
                },
            )],
            te(Te::AuthorityTypeNotSupported),
        ),
        fails(
            "SetAuthority: owner type on a mint",
            vec![ix(
                vec![w(m()), s(mint_auth())],
                T::SetAuthority {
                    authority_type: At::AccountOwner,
                    new_authority: None,
                },
            )],
            te(Te::AuthorityTypeNotSupported),
        ),
        fails(
            "SetAuthority: fixed supply",
            vec![ix(
                vec![w(fixed()), s(mint_auth())],
                T::SetAuthority {
                    authority_type: At::MintTokens,
                    new_authority: None,
                },
            )],
            te(Te::FixedSupply),
        ),
        fails(
            "SetAuthority: mint cannot freeze",
            vec![ix(
                vec![w(m2()), s(mint_auth())],
                T::SetAuthority {
                    authority_type: At::FreezeAccount,
                    new_authority: None,
                },
            )],
            te(Te::MintCannotFreeze),
        ),
        fails(
            "SetAuthority: frozen account",
            vec![ix(
                vec![w(frozen()), s(alice())],
                T::SetAuthority {
                    authority_type: At::CloseAccount,
                    new_authority: None,
                },
            )],
            te(Te::AccountFrozen),
        ),
        fails(
            "SetAuthority: neither account nor mint",
            vec![ix(
                vec![w(ms()), s(alice())],
                T::SetAuthority {
                    authority_type: At::CloseAccount,
                    new_authority: None,
                },
            )],
            E::InvalidArgument,
        ),
        fails(
            "SetAuthority: wrong authority",
            vec![ix(
                vec![w(m()), s(alice())],
                T::SetAuthority {
                    authority_type: At::MintTokens,
                    new_authority: None,
                },
            )],
            te(Te::OwnerMismatch),
        ),
        // MintTo / MintToChecked.
        ok(
            "MintTo: amount and supply grow",
            vec![ix(
                vec![w(m()), w(b()), s(mint_auth())],
                T::MintTo { amount: 11 },
            )],
            |r| {
                assert_eq!((r.token(&b()).amount, r.mint(&m()).supply), (411, 1_111));
            },
        ),
        ok(
            "MintToChecked",
            vec![ix(
                vec![w(m()), w(b()), s(mint_auth())],
                T::MintToChecked {
                    amount: 1,
                    decimals: 6,
                },
            )],
            |r| {
                assert_eq!(r.mint(&m()).supply, 1_101);
            },
        ),
        fails(
            "MintTo: fixed supply",
            vec![ix(
                vec![w(fixed()), w(fixed_acc()), s(mint_auth())],
                T::MintTo { amount: 1 },
            )],
            te(Te::FixedSupply),
        ),
        fails(
            "MintTo: wrong mint",
            vec![ix(
                vec![w(m2()), w(b()), s(mint_auth())],
                T::MintTo { amount: 1 },
            )],
            te(Te::MintMismatch),
        ),
        fails(
            "MintTo: not the mint authority",
            vec![ix(vec![w(m()), w(b()), s(bob())], T::MintTo { amount: 1 })],
            te(Te::OwnerMismatch),
        ),
        fails(
            "MintTo: frozen",
            vec![ix(
                vec![w(m()), w(frozen()), s(mint_auth())],
                T::MintTo { amount: 1 },
            )],
            te(Te::AccountFrozen),
        ),
        fails(
            "MintTo: native",
            vec![ix(
                vec![w(NATIVE_MINT), w(wsol()), s(mint_auth())],
                T::MintTo { amount: 1 },
            )],
            te(Te::NativeNotSupported),
        ),
        fails(
            "MintTo: supply overflow",
            vec![ix(
                vec![w(m()), w(b()), s(mint_auth())],
                T::MintTo {
                    amount: u64::MAX - 500,
                },
            )],
            te(Te::Overflow),
        ),
        fails(
            "MintToChecked: decimals mismatch",
            vec![ix(
                vec![w(m()), w(b()), s(mint_auth())],
                T::MintToChecked {
                    amount: 1,
                    decimals: 9,
                },
            )],
            te(Te::MintDecimalsMismatch),
        ),
        // Burn / BurnChecked.
        ok(
            "Burn: amount and supply shrink",
            vec![ix(
                vec![w(a()), w(m()), s(alice())],
                T::Burn { amount: 100 },
            )],
            |r| {
                assert_eq!((r.token(&a()).amount, r.mint(&m()).supply), (500, 1_000));
            },
        ),
        ok(
            "Burn by the delegate",
            vec![ix(
                vec![w(delegated()), w(m()), s(del())],
                T::BurnChecked {
                    amount: 100,
                    decimals: 6,
                },
            )],
            |r| {
                assert_eq!(r.token(&delegated()).delegate, None);
            },
        ),
        ok(
            "Burn from an account owned by the System program id needs no signature",
            vec![ix(
                vec![w(burnable()), w(m()), r(alice())],
                T::Burn { amount: 0 },
            )],
            |_| {},
        ),
        fails(
            "Burn: insufficient funds",
            vec![ix(
                vec![w(a()), w(m()), s(alice())],
                T::Burn { amount: 601 },
            )],
            te(Te::InsufficientFunds),
        ),
        fails(
            "Burn: mint mismatch",
            vec![ix(vec![w(a()), w(m2()), s(alice())], T::Burn { amount: 1 })],
            te(Te::MintMismatch),
        ),
        fails(
            "Burn: native",
            vec![ix(
                vec![w(wsol()), w(NATIVE_MINT), s(alice())],
                T::Burn { amount: 1 },
            )],
            te(Te::NativeNotSupported),
        ),
        fails(
            "Burn: frozen",
            vec![ix(
                vec![w(frozen()), w(m()), s(alice())],
                T::Burn { amount: 0 },
            )],
            te(Te::AccountFrozen),
        ),
        fails(
            "Burn: delegate over its allowance",
            vec![ix(
                vec![w(delegated()), w(m()), s(del())],
                T::Burn { amount: 101 },
            )],
            te(Te::InsufficientFunds),
        ),
        fails(
            "BurnChecked: decimals mismatch",
            vec![ix(
                vec![w(a()), w(m()), s(alice())],
                T::BurnChecked {
                    amount: 1,
                    decimals: 0,
                },
            )],
            te(Te::MintDecimalsMismatch),
        ),
        // CloseAccount.
        ok(
            "CloseAccount: lamports to the destination, account deleted",
            vec![ix(vec![w(c()), w(bob()), s(alice())], T::CloseAccount)],
            |r| {
                assert_eq!(
                    r.account(&bob()).lamports,
                    1_000_000 + rent::minimum_balance(165)
                );
                assert_eq!(r.account(&c()), Account::default());
            },
        ),
        ok(
            "CloseAccount: wrapped SOL with a balance",
            vec![ix(vec![w(wsol()), w(bob()), s(alice())], T::CloseAccount)],
            |r| {
                assert_eq!(
                    r.account(&bob()).lamports,
                    1_000_000 + rent::minimum_balance(165) + 5_000
                );
            },
        ),
        ok(
            "CloseAccount by the close authority",
            vec![ix(
                vec![w(closeable()), w(bob()), s(closer())],
                T::CloseAccount,
            )],
            |r| {
                assert_eq!(r.account(&closeable()).lamports, 0);
            },
        ),
        fails(
            "CloseAccount: close authority set, owner signs",
            vec![ix(
                vec![w(closeable()), w(bob()), s(alice())],
                T::CloseAccount,
            )],
            te(Te::OwnerMismatch),
        ),
        fails(
            "CloseAccount: tokens left",
            vec![ix(vec![w(a()), w(bob()), s(alice())], T::CloseAccount)],
            te(Te::NonNativeHasBalance),
        ),
        fails(
            "CloseAccount: into itself",
            vec![ix(vec![w(c()), w(c()), s(alice())], T::CloseAccount)],
            E::InvalidAccountData,
        ),
        fails(
            "CloseAccount: System-owned tokens only into the incinerator",
            vec![ix(
                vec![w(burnable()), w(bob()), s(alice())],
                T::CloseAccount,
            )],
            E::InvalidAccountData,
        ),
        // FreezeAccount / ThawAccount.
        ok(
            "FreezeAccount",
            vec![ix(vec![w(a()), r(m()), s(freeze_auth())], T::FreezeAccount)],
            |r| {
                assert_eq!(r.token(&a()).state, AccountState::Frozen);
            },
        ),
        ok(
            "ThawAccount",
            vec![ix(
                vec![w(frozen()), r(m()), s(freeze_auth())],
                T::ThawAccount,
            )],
            |r| {
                assert_eq!(r.token(&frozen()).state, AccountState::Initialized);
            },
        ),
        fails(
            "FreezeAccount: already frozen",
            vec![ix(
                vec![w(frozen()), r(m()), s(freeze_auth())],
                T::FreezeAccount,
            )],
            te(Te::InvalidState),
        ),
        fails(
            "ThawAccount: not frozen",
            vec![ix(vec![w(a()), r(m()), s(freeze_auth())], T::ThawAccount)],
            te(Te::InvalidState),
        ),
        fails(
            "FreezeAccount: mint cannot freeze",
            vec![ix(
                vec![w(c()), r(m2()), s(freeze_auth())],
                T::FreezeAccount,
            )],
            te(Te::MintCannotFreeze),
        ),
        fails(
            "FreezeAccount: mint mismatch",
            vec![ix(
                vec![w(a()), r(m2()), s(freeze_auth())],
                T::FreezeAccount,
            )],
            te(Te::MintMismatch),
        ),
        fails(
            "FreezeAccount: native",
            vec![ix(
                vec![w(wsol()), r(NATIVE_MINT), s(freeze_auth())],
                T::FreezeAccount,
            )],
            te(Te::NativeNotSupported),
        ),
        fails(
            "FreezeAccount: not the freeze authority",
            vec![ix(vec![w(a()), r(m()), s(mint_auth())], T::FreezeAccount)],
            te(Te::OwnerMismatch),
        ),
        // SyncNative.
        ok(
            "SyncNative after lamports arrive",
            vec![
                Ix {
                    program: [0; 32],
                    accounts: vec![ws(payer()), w(wsol())],
                    data: [2u32.to_le_bytes().to_vec(), 1_000u64.to_le_bytes().to_vec()].concat(),
                },
                ix(vec![w(wsol())], T::SyncNative),
            ],
            |r| {
                assert_eq!(r.token(&wsol()).amount, 6_000);
            },
        ),
        fails(
            "SyncNative: not native",
            vec![ix(vec![w(a())], T::SyncNative)],
            te(Te::NonNativeNotSupported),
        ),
        fails(
            "SyncNative: not owned by Token",
            vec![ix(vec![w(sys_token_data())], T::SyncNative)],
            E::IncorrectProgramId,
        ),
        // Queries and InitializeImmutableOwner.
        ok(
            "GetAccountDataSize",
            vec![ix(vec![r(m())], T::GetAccountDataSize)],
            |_| {},
        ),
        ok(
            "UiAmountToAmount",
            vec![ix(vec![r(m())], T::UiAmountToAmount { ui_amount: "1.5" })],
            |_| {},
        ),
        fails(
            "UiAmountToAmount: too many decimals",
            vec![ix(
                vec![r(m2())],
                T::UiAmountToAmount { ui_amount: "1.005" },
            )],
            E::InvalidArgument,
        ),
        fails(
            "GetAccountDataSize: not a mint",
            vec![ix(vec![r(uninit_mint())], T::GetAccountDataSize)],
            te(Te::InvalidMint),
        ),
        ok(
            "InitializeImmutableOwner on a blank account",
            vec![ix(vec![w(blank165())], T::InitializeImmutableOwner)],
            |_| {},
        ),
        fails(
            "InitializeImmutableOwner: already initialized",
            vec![ix(vec![w(a())], T::InitializeImmutableOwner)],
            te(Te::AlreadyInUse),
        ),
    ]
}

#[test]
fn every_rule_in_a_table() {
    let world = world();
    let mut failures = Vec::new();
    for case in cases() {
        let r = run(&world.accounts, &case.ixs);
        let got = r.instruction_result();
        // The first instruction of a row that is expected to fail is the token one, unless
        // the row begins with a System set-up instruction.
        let expect = match (&case.expect, case.ixs.first().map(|i| i.program)) {
            (Err((_, e)), Some(p)) if p == [0; 32] => Err((1, e.clone())),
            (e, _) => e.clone(),
        };
        if got != expect {
            failures.push(format!("{}: got {got:?}, expected {expect:?}", case.name));
            continue;
        }
        match (&got, case.check) {
            (Ok(()), Some(check)) => check(&r),
            (Err(_), _) => {
                // Rolled back: only the fee left the payer.
                for (key, before) in &world.accounts {
                    assert_eq!(&r.account(key), before, "{}: rolled back", case.name);
                }
            }
            _ => {}
        }
        assert!(r.units > 0, "{}: consumed no compute units", case.name);
    }
    assert!(
        failures.is_empty(),
        "{} rows wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn instruction_data_round_trips() {
    use T::*;
    let all = [
        InitializeMint {
            decimals: 3,
            mint_authority: [1; 32],
            freeze_authority: Some([2; 32]),
            with_rent_sysvar: true,
        },
        InitializeMint {
            decimals: 3,
            mint_authority: [1; 32],
            freeze_authority: None,
            with_rent_sysvar: false,
        },
        InitializeAccount,
        InitializeMultisig {
            m: 2,
            with_rent_sysvar: true,
        },
        InitializeMultisig {
            m: 2,
            with_rent_sysvar: false,
        },
        Transfer { amount: 1 },
        Approve { amount: 2 },
        Revoke,
        SetAuthority {
            authority_type: AuthorityType::CloseAccount,
            new_authority: Some([3; 32]),
        },
        MintTo { amount: 3 },
        Burn { amount: 4 },
        CloseAccount,
        FreezeAccount,
        ThawAccount,
        TransferChecked {
            amount: 5,
            decimals: 1,
        },
        ApproveChecked {
            amount: 6,
            decimals: 2,
        },
        MintToChecked {
            amount: 7,
            decimals: 3,
        },
        BurnChecked {
            amount: 8,
            decimals: 4,
        },
        InitializeAccount2 { owner: [4; 32] },
        SyncNative,
        InitializeAccount3 { owner: [5; 32] },
        GetAccountDataSize,
        InitializeImmutableOwner,
        AmountToUiAmount { amount: 9 },
        UiAmountToAmount { ui_amount: "2.5" },
    ];
    for i in all {
        assert_eq!(T::unpack(&i.pack()), Ok(i));
    }
    // The tags SPL uses.
    assert_eq!(Transfer { amount: 0 }.pack()[0], 3);
    assert_eq!(
        TransferChecked {
            amount: 0,
            decimals: 0
        }
        .pack()[0],
        12
    );
    assert_eq!(InitializeAccount3 { owner: [0; 32] }.pack()[0], 18);
    assert_eq!(
        InitializeMint {
            decimals: 0,
            mint_authority: [0; 32],
            freeze_authority: None,
            with_rent_sysvar: false
        }
        .pack()[0],
        20
    );
    // Trailing bytes are ignored, as spl-token does.
    assert_eq!(
        T::unpack(&[3, 1, 0, 0, 0, 0, 0, 0, 0, 9, 9]),
        Ok(Transfer { amount: 1 })
    );
    // Truncations of every encoding never decode to something else silently, nor panic.
    for i in all {
        let bytes = i.pack();
        for cut in 0..bytes.len() {
            let _ = T::unpack(&bytes[..cut]);
        }
    }
}
