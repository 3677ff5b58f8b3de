//! test-support: the transaction mixes of `txpipe bench --mix`, beyond plain transfers.
//!
//! - [`Mix::Transfer`]: System transfers (the workload of [`super::workload`] as it always
//!   was).
//! - [`Mix::Token`]: SPL Token transfers (half `Transfer`, half `TransferChecked`) between
//!   the associated token accounts of holders drawn Zipf(s) among the funded accounts, of
//!   [`HELD_MINTS`] mints themselves drawn Zipf(1) (mint 0 is the hot one); `s` is the
//!   exponent of `--contention zipf:S`, else 1.
//! - [`Mix::Mainnet`]: what a validator sees more of: ComputeBudget instructions on ~70%
//!   of transactions (a limit, and on most of them a price), then 50% token transfers
//!   (one in ten with a Memo), 15% System transfers, 10% associated-token-account
//!   creations (CreateIdempotent, for a mint no one holds yet: the first creation of an
//!   address creates it, a repeat finds it), 15% memos alone (v2 signed by the payer, one
//!   in four v1), and 10% transactions that fail: token transfers beyond the balance,
//!   transfers under a compute-unit limit too low for them, memos that are not UTF-8.
//!
//! Genesis of the token mixes (derived from the funded keys and the seed, so a cached
//! workload needs only the funded accounts): [`HELD_MINTS`] mints plus one fresh mint,
//! and for every funded account an associated token account of each held mint holding
//! [`TOKENS_PER_HOLDER`].

use ed25519_dalek::SigningKey;
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::execute::token::TokenInstruction;
use crate::execute::{
    associated_token_address, rent, ComputeBudgetInstruction, TokenProgram,
    ASSOCIATED_TOKEN_PROGRAM_ID, COMPUTE_BUDGET_PROGRAM_ID, MEMO_PROGRAM_ID, MEMO_V1_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
};
use crate::state::Account;
use crate::tx::build::{self, InstructionSpec, MessageSpec};
use crate::tx::{MessageHeader, Version};
use crate::Pubkey;

/// Which transactions a workload holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mix {
    /// System transfers.
    #[default]
    Transfer,
    /// SPL Token transfers among Zipf-drawn holders of a few mints.
    Token,
    /// ComputeBudget, token transfers, ATA creations, memos, System transfers, failures.
    Mainnet,
}

impl Mix {
    /// Its name on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Mix::Transfer => "transfer",
            Mix::Token => "token",
            Mix::Mainnet => "mainnet",
        }
    }
}

impl std::fmt::Display for Mix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Mix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "transfer" => Ok(Mix::Transfer),
            "token" => Ok(Mix::Token),
            "mainnet" => Ok(Mix::Mainnet),
            _ => Err(format!("mix {s:?}: expected transfer, token or mainnet")),
        }
    }
}

/// Mints with holders in the token mixes.
pub const HELD_MINTS: usize = 4;
/// Tokens each holder starts with, per held mint.
pub const TOKENS_PER_HOLDER: u64 = 1_000_000_000_000;
/// Decimals of every generated mint.
pub const DECIMALS: u8 = 6;

/// Generated mint `i` (`HELD_MINTS` is the fresh one).
pub fn mint_key(seed: u64, i: usize) -> Pubkey {
    crate::hash::sha256v(&[
        b"txpipe-mint",
        &seed.to_le_bytes(),
        &(i as u64).to_le_bytes(),
    ])
}

fn ata(wallet: &Pubkey, mint: &Pubkey) -> Pubkey {
    // No bump gives an on-curve address for all 256 tries in practice; a key that did
    // would get a hash instead (never happens for 32-byte keys, and stays deterministic).
    associated_token_address(wallet, mint, &TOKEN_PROGRAM_ID)
        .map_or_else(|| crate::hash::sha256v(&[wallet, mint]), |(a, _)| a)
}

/// Appends the token state of `mix` (mints, every funded account's token accounts).
pub(super) fn add_token_state(
    genesis: &mut Vec<(Pubkey, Account)>,
    funded: usize,
    mix: Mix,
    seed: u64,
) {
    if mix == Mix::Transfer {
        return;
    }
    let wallets: Vec<Pubkey> = genesis.iter().take(funded).map(|(k, _)| *k).collect();
    let supply = TOKENS_PER_HOLDER.saturating_mul(wallets.len() as u64);
    let mint_account = |supply: u64| {
        let mut a = Account::new(rent::minimum_balance(82), TOKEN_PROGRAM_ID);
        a.data = TokenProgram::mint_data(None, supply, DECIMALS, None);
        a
    };
    for i in 0..HELD_MINTS {
        genesis.push((mint_key(seed, i), mint_account(supply)));
    }
    genesis.push((mint_key(seed, HELD_MINTS), mint_account(0)));
    let holdings: Vec<(Pubkey, Account)> = (0..HELD_MINTS)
        .flat_map(|m| wallets.iter().map(move |w| (m, *w)))
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(m, w)| {
            let mint = mint_key(seed, m);
            let mut a = Account::new(rent::minimum_balance(165), TOKEN_PROGRAM_ID);
            a.data = TokenProgram::account_data(mint, w, TOKENS_PER_HOLDER);
            (ata(&w, &mint), a)
        })
        .collect();
    genesis.extend(holdings);
}

/// Zipf(s) over `n` items.
pub(super) struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    pub(super) fn new(n: usize, s: f64) -> Self {
        let mut acc = 0.0;
        Self {
            cumulative: (0..n.max(1))
                .map(|i| {
                    acc += 1.0 / ((i + 1) as f64).powf(s);
                    acc
                })
                .collect(),
        }
    }

    pub(super) fn draw(&self, rng: &mut impl Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.gen::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c < x)
            .min(self.cumulative.len() - 1)
    }
}

/// A message being put together: keys by role, instructions by key.
struct Draft {
    payer: Pubkey,
    writable: Vec<Pubkey>,
    readonly: Vec<Pubkey>,
    ixs: Vec<(Pubkey, Vec<Pubkey>, Vec<u8>)>,
}

impl Draft {
    fn new(payer: Pubkey) -> Self {
        Self {
            payer,
            writable: Vec::new(),
            readonly: Vec::new(),
            ixs: Vec::new(),
        }
    }

    fn w(&mut self, k: Pubkey) -> Pubkey {
        if k != self.payer && !self.writable.contains(&k) {
            self.readonly.retain(|r| *r != k);
            self.writable.push(k);
        }
        k
    }

    fn r(&mut self, k: Pubkey) -> Pubkey {
        if k != self.payer && !self.writable.contains(&k) && !self.readonly.contains(&k) {
            self.readonly.push(k);
        }
        k
    }

    fn ix(&mut self, program: Pubkey, accounts: Vec<Pubkey>, data: Vec<u8>) {
        self.r(program);
        self.ixs.push((program, accounts, data));
    }

    fn budget(&mut self, ix: ComputeBudgetInstruction) {
        self.ix(COMPUTE_BUDGET_PROGRAM_ID, vec![], ix.encode());
    }

    fn finish(self, v0: bool) -> MessageSpec {
        let mut keys = vec![self.payer];
        keys.extend(&self.writable);
        keys.extend(&self.readonly);
        let index = |k: &Pubkey| keys.iter().position(|x| x == k).unwrap_or(0) as u8;
        let instructions = self
            .ixs
            .iter()
            .map(|(p, accounts, data)| InstructionSpec {
                program_id_index: index(p),
                accounts: accounts.iter().map(index).collect(),
                data: data.clone(),
            })
            .collect();
        MessageSpec {
            version: if v0 { Version::V0 } else { Version::Legacy },
            header: MessageHeader {
                num_required_signatures: 1,
                num_readonly_signed_accounts: 0,
                num_readonly_unsigned_accounts: self.readonly.len() as u8,
            },
            static_keys: keys,
            recent_blockhash: [7u8; 32],
            instructions,
            lookups: Vec::new(),
        }
    }
}

/// What a token-mix planner needs.
pub(super) struct Planner<'a> {
    pub(super) mix: Mix,
    pub(super) seed: u64,
    pub(super) pubkeys: &'a [Pubkey],
    pub(super) holders: Zipf,
    pub(super) mints: Zipf,
}

/// One planned token-mix transaction: its payer (the only signer) and message.
pub(super) struct MixPlan {
    pub(super) payer: usize,
    pub(super) message: MessageSpec,
}

impl Planner<'_> {
    fn token_transfer(&self, d: &mut Draft, rng: &mut impl Rng, from: usize, amount: u64) {
        let n = self.pubkeys.len();
        let mut to = self.holders.draw(rng);
        if to == from {
            to = (from + 1) % n;
        }
        let mint = mint_key(self.seed, self.mints.draw(rng));
        let (wallet, dest) = (self.pubkeys[from], self.pubkeys[to]);
        let src = d.w(ata(&wallet, &mint));
        let dst = d.w(ata(&dest, &mint));
        if rng.gen_bool(0.5) {
            d.ix(
                TOKEN_PROGRAM_ID,
                vec![src, dst, wallet],
                TokenInstruction::Transfer { amount }.pack(),
            );
        } else {
            let mint = d.r(mint);
            d.ix(
                TOKEN_PROGRAM_ID,
                vec![src, mint, dst, wallet],
                TokenInstruction::TransferChecked {
                    amount,
                    decimals: DECIMALS,
                }
                .pack(),
            );
        }
    }

    /// Plans one transaction.
    pub(super) fn plan(&self, rng: &mut impl Rng, v0: bool) -> MixPlan {
        let n = self.pubkeys.len();
        let from = self.holders.draw(rng);
        let payer = self.pubkeys[from];
        let mut d = Draft::new(payer);
        let amount = rng.gen_range(1..1_000_000u64);
        if self.mix == Mix::Token {
            self.token_transfer(&mut d, rng, from, amount);
            return MixPlan {
                payer: from,
                message: d.finish(v0),
            };
        }
        let kind = rng.gen::<f64>();
        let low_limit_failure = kind >= 0.9 && rng.gen_bool(1.0 / 3.0);
        if low_limit_failure {
            d.budget(ComputeBudgetInstruction::SetComputeUnitLimit(2_000));
        } else if rng.gen_bool(0.7) {
            let limit = [40_000u32, 100_000, 200_000, 300_000][rng.gen_range(0..4)];
            d.budget(ComputeBudgetInstruction::SetComputeUnitLimit(limit));
            if rng.gen_bool(0.85) {
                d.budget(ComputeBudgetInstruction::SetComputeUnitPrice(
                    rng.gen_range(1..100_000),
                ));
            }
        }
        let memo_text = |rng: &mut dyn rand::RngCore| format!("txpipe memo {}", rng.next_u32());
        if kind < 0.5 {
            self.token_transfer(&mut d, rng, from, amount);
            if rng.gen_bool(0.1) {
                let text = memo_text(rng).into_bytes();
                d.ix(MEMO_PROGRAM_ID, vec![payer], text);
            }
        } else if kind < 0.65 {
            let mut to = rng.gen_range(0..n);
            if to == from {
                to = (from + 1) % n;
            }
            let to = d.w(self.pubkeys[to]);
            d.ix(
                build::SYSTEM_PROGRAM_ID,
                vec![payer, to],
                build::transfer_data(amount),
            );
        } else if kind < 0.75 {
            let fresh = mint_key(self.seed, HELD_MINTS);
            let address = d.w(ata(&payer, &fresh));
            let mint = d.r(fresh);
            let system = d.r(build::SYSTEM_PROGRAM_ID);
            let token = d.r(TOKEN_PROGRAM_ID);
            d.ix(
                ASSOCIATED_TOKEN_PROGRAM_ID,
                vec![payer, address, payer, mint, system, token],
                vec![1],
            );
        } else if kind < 0.9 {
            let text = memo_text(rng).into_bytes();
            if rng.gen_bool(0.25) {
                d.ix(MEMO_V1_PROGRAM_ID, vec![], text);
            } else {
                d.ix(MEMO_PROGRAM_ID, vec![payer], text);
            }
        } else if low_limit_failure {
            self.token_transfer(&mut d, rng, from, amount);
        } else if rng.gen_bool(0.5) {
            self.token_transfer(&mut d, rng, from, TOKENS_PER_HOLDER * 100);
        } else {
            d.ix(MEMO_PROGRAM_ID, vec![payer], vec![b'x', 0xff, 0xfe]);
        }
        MixPlan {
            payer: from,
            message: d.finish(v0),
        }
    }
}

/// Signs a planned message with its payer's key, corrupting one signature bit when asked.
pub(super) fn sign(plan: &MixPlan, keys: &[SigningKey], corrupt: Option<(usize, u8)>) -> Vec<u8> {
    let mut packet =
        build::sign_message(&build::encode_message(&plan.message), &[&keys[plan.payer]]);
    if let Some((byte, bit)) = corrupt {
        if let Some(b) = packet.get_mut(1 + byte) {
            *b ^= bit;
        }
    }
    packet
}
