//! A small world of mints, token accounts and wallets, and a way to run one hand-built
//! transaction over it: shared by the token, ATA and memo tests.
#![allow(dead_code)]

use txpipe::execute::token::{Mint, Multisig, TokenAccount, MAX_SIGNERS};
use txpipe::execute::{
    rent, ExecConfig, ExecTx, Executor, InstructionError, ProgramRegistry, TxError, TxResult,
    TOKEN_PROGRAM_ID,
};
use txpipe::state::{Account, AccountsTable};
use txpipe::tx::CompiledInstruction;
use txpipe::Pubkey;

/// A named key: 32 bytes from a short label.
pub fn k(label: &str) -> Pubkey {
    txpipe::hash::sha256v(&[b"token-test", label.as_bytes()])
}

/// A System account with `lamports`.
pub fn sys(lamports: u64) -> Account {
    Account::new(lamports, [0; 32])
}

/// A rent-exempt account owned by the Token program holding `data`.
pub fn token_owned(data: Vec<u8>) -> Account {
    let mut a = Account::new(rent::minimum_balance(data.len()), TOKEN_PROGRAM_ID);
    a.data = data;
    a
}

/// An initialized mint.
pub fn mint(
    authority: Option<Pubkey>,
    supply: u64,
    decimals: u8,
    freeze: Option<Pubkey>,
) -> Account {
    token_owned(
        Mint {
            mint_authority: authority,
            supply,
            decimals,
            is_initialized: true,
            freeze_authority: freeze,
        }
        .pack(),
    )
}

/// An initialized token account.
pub fn holding(mint: Pubkey, owner: Pubkey, amount: u64) -> TokenAccount {
    TokenAccount::initialized(mint, owner, amount)
}

/// The account holding token account `a`.
pub fn acc(a: TokenAccount) -> Account {
    token_owned(a.pack())
}

/// A native (wrapped SOL) account of `owner` holding `amount` above its reserve.
pub fn native(owner: Pubkey, amount: u64) -> Account {
    let reserve = rent::minimum_balance(TokenAccount::LEN);
    let mut a = acc(TokenAccount {
        is_native: Some(reserve),
        ..holding(txpipe::execute::token::NATIVE_MINT, owner, amount)
    });
    a.lamports = reserve + amount;
    a
}

/// A multisig of `m` among `signers`.
pub fn multisig(m: u8, signers: &[Pubkey]) -> Account {
    let mut keys = [[0u8; 32]; MAX_SIGNERS];
    for (slot, s) in keys.iter_mut().zip(signers) {
        *slot = *s;
    }
    token_owned(
        Multisig {
            m,
            n: signers.len() as u8,
            is_initialized: true,
            signers: keys,
        }
        .pack(),
    )
}

/// An instruction account: key, writable, signer.
pub type Meta = (Pubkey, bool, bool);

/// Writable signer.
pub fn ws(key: Pubkey) -> Meta {
    (key, true, true)
}
/// Writable, not signing.
pub fn w(key: Pubkey) -> Meta {
    (key, true, false)
}
/// Read-only signer.
pub fn s(key: Pubkey) -> Meta {
    (key, false, true)
}
/// Read-only, not signing.
pub fn r(key: Pubkey) -> Meta {
    (key, false, false)
}

/// One instruction: program, accounts, data.
pub struct Ix {
    /// Program id.
    pub program: Pubkey,
    /// Its accounts.
    pub accounts: Vec<Meta>,
    /// Its data.
    pub data: Vec<u8>,
}

/// The fee payer of every test transaction.
pub fn payer() -> Pubkey {
    k("payer")
}

/// A transaction's keys, writable flags, signer count, and each instruction's program
/// index and account indexes.
pub type Layout = (Vec<Pubkey>, Vec<bool>, usize, Vec<(u8, Vec<u8>)>);

/// Keys, writable flags, signer count and each instruction's (program index, account
/// indexes) for `ixs`, the payer first.
pub fn layout(ixs: &[Ix]) -> Layout {
    layout_with(payer(), ixs)
}

/// [`layout`] with another fee payer.
pub fn layout_with(fee_payer: Pubkey, ixs: &[Ix]) -> Layout {
    let mut metas: Vec<Meta> = vec![ws(fee_payer)];
    let mut add = |m: Meta| {
        if let Some(e) = metas.iter_mut().find(|e| e.0 == m.0) {
            e.1 |= m.1;
            e.2 |= m.2;
        } else {
            metas.push(m);
        }
    };
    for ix in ixs {
        for &m in &ix.accounts {
            add(m);
        }
        add(r(ix.program));
    }
    // Signers first (payer stays first), then the rest; order otherwise kept.
    let mut ordered: Vec<Meta> = metas.iter().copied().filter(|m| m.2).collect();
    let num_signers = ordered.len();
    ordered.extend(metas.iter().copied().filter(|m| !m.2));
    let keys: Vec<Pubkey> = ordered.iter().map(|m| m.0).collect();
    let writable: Vec<bool> = ordered.iter().map(|m| m.1).collect();
    let index = |key: &Pubkey| keys.iter().position(|x| x == key).unwrap_or(0) as u8;
    let compiled = ixs
        .iter()
        .map(|ix| {
            (
                index(&ix.program),
                ix.accounts.iter().map(|m| index(&m.0)).collect(),
            )
        })
        .collect();
    (keys, writable, num_signers, compiled)
}

/// The outcome of one transaction run over a world.
pub struct Run {
    /// The transaction's result.
    pub result: TxResult,
    /// Compute units it consumed.
    pub units: u64,
    /// The state after it.
    pub table: AccountsTable,
}

impl Run {
    /// An account after the run (the default when absent).
    pub fn account(&self, key: &Pubkey) -> Account {
        self.table.get(key).unwrap_or_default()
    }

    /// A token account after the run.
    pub fn token(&self, key: &Pubkey) -> TokenAccount {
        TokenAccount::unpack(&self.account(key).data)
            .unwrap_or_else(|e| panic!("not a token account: {e}"))
    }

    /// A mint after the run.
    pub fn mint(&self, key: &Pubkey) -> Mint {
        Mint::unpack(&self.account(key).data).unwrap_or_else(|e| panic!("not a mint: {e}"))
    }

    /// The error of instruction `index`, or `Ok`.
    pub fn instruction_result(&self) -> Result<(), (u8, InstructionError)> {
        match &self.result {
            Ok(()) => Ok(()),
            Err(TxError::Instruction { index, error }) => Err((*index, error.clone())),
            Err(e) => panic!("transaction-level failure: {e}"),
        }
    }
}

/// Runs one transaction of `ixs` (payer funded with 10 SOL) over `world`.
pub fn run(world: &[(Pubkey, Account)], ixs: &[Ix]) -> Run {
    run_with(ProgramRegistry::default(), world, ixs)
}

/// [`run`] with another registry.
pub fn run_with(registry: ProgramRegistry, world: &[(Pubkey, Account)], ixs: &[Ix]) -> Run {
    let (keys, writable, num_signers, compiled) = layout(ixs);
    let instructions: Vec<CompiledInstruction<'_>> = ixs
        .iter()
        .zip(&compiled)
        .map(|(ix, (program, accounts))| CompiledInstruction {
            program_id_index: *program,
            accounts,
            data: &ix.data,
        })
        .collect();
    let tx = ExecTx::new(keys, writable, num_signers, instructions)
        .unwrap_or_else(|e| panic!("bad test transaction: {e}"));
    let table = AccountsTable::new(16).unwrap_or_else(|e| panic!("{e}"));
    let mut genesis = world.to_vec();
    genesis.push((payer(), sys(10_000_000_000)));
    table.load(genesis);
    let out = Executor::new(registry, ExecConfig::default())
        .execute_sequential(&table, std::slice::from_ref(&tx));
    Run {
        result: out.results[0].clone(),
        units: out.compute_units[0],
        table,
    }
}

/// Sum of the lamports of `keys` in `run`'s table.
pub fn lamports_of(run: &Run, keys: &[Pubkey]) -> u64 {
    keys.iter().map(|key| run.account(key).lamports).sum()
}
