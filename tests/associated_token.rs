//! The Associated Token Account program (Create, CreateIdempotent, their failures, the
//! System and Token invocations) and the Memo programs, run as transactions; the address
//! derivation checked against every ATA creation in the shipped real transactions.

mod token_support;

use token_support::*;
use txpipe::execute::token::{TokenAccount, TOKEN_2022_PROGRAM_ID};
use txpipe::execute::{
    associated_token_address, rent, InstructionError as E, ASSOCIATED_TOKEN_PROGRAM_ID,
    MEMO_PROGRAM_ID, MEMO_V1_PROGRAM_ID, TOKEN_PROGRAM_ID,
};
use txpipe::state::Account;
use txpipe::tx::{base58, TransactionView};
use txpipe::Pubkey;

const SYSTEM: Pubkey = [0; 32];

fn mint_key() -> Pubkey {
    k("mint")
}
fn wallet() -> Pubkey {
    k("wallet")
}

fn ata_of(wallet: &Pubkey, token_program: &Pubkey) -> Pubkey {
    associated_token_address(wallet, &mint_key(), token_program)
        .map(|(a, _)| a)
        .unwrap_or_else(|| panic!("no address"))
}

fn create(data: Vec<u8>, ata: Pubkey, token_program: Pubkey) -> Ix {
    Ix {
        program: ASSOCIATED_TOKEN_PROGRAM_ID,
        accounts: vec![
            ws(payer()),
            w(ata),
            r(wallet()),
            r(mint_key()),
            r(SYSTEM),
            r(token_program),
        ],
        data,
    }
}

fn world() -> Vec<(Pubkey, Account)> {
    vec![
        (mint_key(), mint(Some(k("auth")), 0, 6, None)),
        (wallet(), sys(5)),
    ]
}

#[test]
fn create_makes_a_rent_exempt_token_account_of_the_wallet() {
    let ata = ata_of(&wallet(), &TOKEN_PROGRAM_ID);
    for data in [vec![], vec![0], vec![1]] {
        let r = run(&world(), &[create(data.clone(), ata, TOKEN_PROGRAM_ID)]);
        assert_eq!(r.instruction_result(), Ok(()), "data {data:?}");
        let account = r.account(&ata);
        assert_eq!(account.owner, TOKEN_PROGRAM_ID);
        assert_eq!(account.lamports, rent::minimum_balance(TokenAccount::LEN));
        let t = r.token(&ata);
        assert_eq!((t.mint, t.owner, t.amount), (mint_key(), wallet(), 0));
        // The funder paid the fee and the rent.
        assert_eq!(
            r.account(&payer()).lamports,
            10_000_000_000 - 5_000 - rent::minimum_balance(165)
        );
        assert!(
            (15_000..30_000).contains(&r.units),
            "a Create costs about 20k units: {}",
            r.units
        );
    }
}

#[test]
fn create_over_an_address_already_holding_lamports_tops_it_up() {
    let ata = ata_of(&wallet(), &TOKEN_PROGRAM_ID);
    let mut w0 = world();
    w0.push((ata, sys(1_000)));
    let r = run(&w0, &[create(vec![0], ata, TOKEN_PROGRAM_ID)]);
    assert_eq!(r.instruction_result(), Ok(()));
    assert_eq!(r.account(&ata).lamports, rent::minimum_balance(165));
    assert_eq!(r.token(&ata).owner, wallet());
    let mut rich = world();
    rich.push((ata, sys(5_000_000)));
    let r = run(&rich, &[create(vec![0], ata, TOKEN_PROGRAM_ID)]);
    assert_eq!(r.instruction_result(), Ok(()));
    assert_eq!(
        r.account(&ata).lamports,
        5_000_000,
        "no transfer when enough"
    );
}

#[test]
fn idempotent_create_of_an_existing_account_changes_nothing() {
    let ata = ata_of(&wallet(), &TOKEN_PROGRAM_ID);
    let mut w0 = world();
    w0.push((ata, acc(holding(mint_key(), wallet(), 77))));
    let r = run(&w0, &[create(vec![1], ata, TOKEN_PROGRAM_ID)]);
    assert_eq!(r.instruction_result(), Ok(()));
    assert_eq!(r.token(&ata).amount, 77);
    // Plain Create of an existing one: it is no longer System-owned.
    let r = run(&w0, &[create(vec![0], ata, TOKEN_PROGRAM_ID)]);
    assert_eq!(r.instruction_result(), Err((0, E::IllegalOwner)));
    // Idempotent over an account of another owner or mint.
    let mut other = world();
    other.push((ata, acc(holding(mint_key(), k("someone else"), 0))));
    let r = run(&other, &[create(vec![1], ata, TOKEN_PROGRAM_ID)]);
    assert_eq!(r.instruction_result(), Err((0, E::Custom(0))));
    let mut other = world();
    other.push((ata, acc(holding(k("other mint"), wallet(), 0))));
    let r = run(&other, &[create(vec![1], ata, TOKEN_PROGRAM_ID)]);
    assert_eq!(r.instruction_result(), Err((0, E::InvalidAccountData)));
}

#[test]
fn create_failures() {
    let ata = ata_of(&wallet(), &TOKEN_PROGRAM_ID);
    type Row = (&'static str, Vec<(Pubkey, Account)>, Ix, E);
    let table: Vec<Row> = vec![
        (
            "wrong address",
            world(),
            create(vec![0], k("not the ATA"), TOKEN_PROGRAM_ID),
            E::InvalidSeeds,
        ),
        (
            "unknown instruction",
            world(),
            create(vec![3], ata, TOKEN_PROGRAM_ID),
            E::InvalidInstructionData,
        ),
        (
            "extra data",
            world(),
            create(vec![0, 0], ata, TOKEN_PROGRAM_ID),
            E::InvalidInstructionData,
        ),
        (
            "account owned by another program",
            {
                let mut w0 = world();
                w0.push((ata, Account::new(10, k("some program"))));
                w0
            },
            create(vec![0], ata, TOKEN_PROGRAM_ID),
            E::IllegalOwner,
        ),
        (
            "mint not owned by Token",
            vec![(mint_key(), sys(1)), (wallet(), sys(5))],
            create(vec![0], ata, TOKEN_PROGRAM_ID),
            E::IncorrectProgramId,
        ),
        (
            "mint not initialized",
            vec![(mint_key(), token_owned(vec![0; 82])), (wallet(), sys(5))],
            create(vec![0], ata, TOKEN_PROGRAM_ID),
            E::Custom(2),
        ),
        (
            "Token-2022 is not supported, and says so",
            world(),
            create(
                vec![0],
                ata_of(&wallet(), &TOKEN_2022_PROGRAM_ID),
                TOKEN_2022_PROGRAM_ID,
            ),
            E::UnknownProgram(TOKEN_2022_PROGRAM_ID),
        ),
        (
            "funder did not sign",
            world(),
            Ix {
                accounts: {
                    let mut a = create(vec![0], ata, TOKEN_PROGRAM_ID).accounts;
                    a[0] = w(k("unsigned funder"));
                    a
                },
                ..create(vec![0], ata, TOKEN_PROGRAM_ID)
            },
            E::MissingRequiredSignature,
        ),
        (
            "missing accounts",
            world(),
            Ix {
                accounts: create(vec![0], ata, TOKEN_PROGRAM_ID).accounts[..5].to_vec(),
                ..create(vec![0], ata, TOKEN_PROGRAM_ID)
            },
            E::NotEnoughAccountKeys,
        ),
    ];
    for (name, world, ix, error) in table {
        let r = run(&world, &[ix]);
        assert_eq!(r.instruction_result(), Err((0, error)), "{name}");
        assert!(r.account(&ata).data.is_empty(), "{name}: rolled back");
    }
    // The error text names the program in base58.
    assert_eq!(
        E::UnknownProgram(TOKEN_2022_PROGRAM_ID).to_string(),
        "unsupported program TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
    );
}

#[test]
fn program_ids_are_the_published_ones() {
    for (id, text) in [
        (
            TOKEN_PROGRAM_ID,
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
        ),
        (
            ASSOCIATED_TOKEN_PROGRAM_ID,
            "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL",
        ),
        (
            MEMO_V1_PROGRAM_ID,
            "Memo1UhkJRfHyvLMcVucJwxXeuD728EQVDDwekLjF8Y",
        ),
        (
            MEMO_PROGRAM_ID,
            "MemoSq4gqABAXKb96qNH8TysNcWxMyWCqXgDLGmfcHr",
        ),
        (
            txpipe::execute::token::NATIVE_MINT,
            "So11111111111111111111111111111111111111112",
        ),
        (
            txpipe::execute::token::INCINERATOR,
            "1nc1nerator11111111111111111111111111111111",
        ),
    ] {
        assert_eq!(base58::encode(&id), text);
    }
}

/// Every ATA Create/CreateIdempotent in the shipped real transactions names, as its
/// second account, the address derived from its wallet, mint and token program: the
/// derivation (SHA-256, bump search, off-curve test) is Solana's.
#[test]
fn derivation_matches_every_real_creation() {
    let packets = txpipe::testing::load_solana_jsonl(
        &txpipe::testing::vectors_dir().join("solana/all.jsonl"),
    )
    .unwrap_or_else(|e| panic!("solana vectors: {e}"));
    let mut checked = 0;
    let mut token_2022 = 0;
    for p in &packets {
        let Ok(v) = TransactionView::parse(p) else {
            continue;
        };
        let keys = v.static_keys();
        for ix in v.instructions() {
            if keys.get(usize::from(ix.program_id_index)) != Some(&ASSOCIATED_TOKEN_PROGRAM_ID)
                || ix.data.len() > 1
                || ix.data.first().is_some_and(|&d| d > 1)
            {
                continue;
            }
            let key = |i: usize| ix.accounts.get(i).and_then(|&a| keys.get(usize::from(a)));
            let (Some(ata), Some(wallet), Some(mint), Some(program)) =
                (key(1), key(2), key(3), key(5))
            else {
                continue; // an account from a lookup table: not in the static keys
            };
            let (derived, _) = associated_token_address(wallet, mint, program)
                .unwrap_or_else(|| panic!("no address"));
            assert_eq!(
                base58::encode(&derived),
                base58::encode(ata),
                "wallet {} mint {}",
                base58::encode(wallet),
                base58::encode(mint)
            );
            checked += 1;
            token_2022 += usize::from(*program == TOKEN_2022_PROGRAM_ID);
        }
    }
    assert!(checked >= 20, "only {checked} real creations checked");
    eprintln!("{checked} real ATA creations derived ({token_2022} under Token-2022)");
}

fn memo(program: Pubkey, accounts: Vec<Meta>, data: &[u8]) -> Ix {
    Ix {
        program,
        accounts,
        data: data.to_vec(),
    }
}

#[test]
fn memo_rules() {
    let text = "héllo, memo".as_bytes();
    let rows: Vec<(&str, Ix, Result<(), E>)> = vec![
        (
            "v2, signed",
            memo(MEMO_PROGRAM_ID, vec![s(payer())], text),
            Ok(()),
        ),
        (
            "v2, no accounts",
            memo(MEMO_PROGRAM_ID, vec![], text),
            Ok(()),
        ),
        ("v2, empty memo", memo(MEMO_PROGRAM_ID, vec![], b""), Ok(())),
        (
            "v2, an account did not sign",
            memo(MEMO_PROGRAM_ID, vec![s(payer()), r(k("x"))], text),
            Err(E::MissingRequiredSignature),
        ),
        (
            "v2, not UTF-8",
            memo(MEMO_PROGRAM_ID, vec![s(payer())], &[0xff, 0xfe]),
            Err(E::InvalidInstructionData),
        ),
        (
            "v2, unsigned and not UTF-8: the signers first",
            memo(MEMO_PROGRAM_ID, vec![r(k("x"))], &[0xc3]),
            Err(E::MissingRequiredSignature),
        ),
        (
            "v1, unsigned account",
            memo(MEMO_V1_PROGRAM_ID, vec![r(k("x"))], text),
            Ok(()),
        ),
        (
            "v1, not UTF-8",
            memo(MEMO_V1_PROGRAM_ID, vec![], &[0x80]),
            Err(E::InvalidInstructionData),
        ),
    ];
    for (name, ix, expect) in rows {
        let r = run(&[], &[ix]);
        assert_eq!(r.instruction_result(), expect.map_err(|e| (0, e)), "{name}");
        assert!(r.units > 0, "{name}");
    }
}
