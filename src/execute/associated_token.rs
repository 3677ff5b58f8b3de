//! The Associated Token Account program (`ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL`):
//! a wallet's token account for a mint at an address anyone can compute.
//!
//! Address: the program-derived address of seeds `[wallet, token program id, mint]` under
//! this program's id ([`associated_token_address`], `spl-associated-token-account`
//! `get_associated_token_address_and_bump_seed_internal`, derivation in `pda`).
//!
//! Instructions (`spl-associated-token-account` `processor.rs`
//! `process_create_associated_token_account`; data: empty or `[0]` Create, `[1]`
//! CreateIdempotent; anything else, or extra bytes, is
//! [`InstructionError::InvalidInstructionData`], as borsh decoding is, and so is `[2]`
//! RecoverNested, which txpipe does not implement). Accounts: `[funder (writable signer), associated account (writable), wallet, mint,
//! System program, token program]`.
//! 1. The associated account's key must be the derived address, else
//!    [`InstructionError::InvalidSeeds`].
//! 2. CreateIdempotent only: when the account is owned by the token program and unpacks
//!    as a token account, its owner must be the wallet (`AssociatedTokenAccountError::
//!    InvalidOwner`, [`InstructionError::Custom`] 0) and its mint the mint
//!    ([`InstructionError::InvalidAccountData`]); then nothing more happens.
//! 3. The account must be owned by the System program, else
//!    [`InstructionError::IllegalOwner`].
//! 4. The token program is asked for the account size (`GetAccountDataSize` on the mint;
//!    an invalid mint fails there); for SPL Token it is 165 bytes.
//! 5. `create_pda_account`: an account without lamports is created by the System
//!    program's CreateAccount (funded with the rent-exempt minimum, signed for by this
//!    program with the address's seeds); one that already holds lamports gets the
//!    missing lamports by a System Transfer from the funder, then Allocate and Assign.
//! 6. The token program runs `InitializeImmutableOwner`, then `InitializeAccount3` with
//!    the wallet as owner.
//!
//! Every System and Token step is a cross-program invocation
//! ([`InstructionContext::invoke_signed`]): it runs the registered program under the
//! same account rules as a transaction's own instruction. A token program that is not
//! registered (Token-2022) fails the instruction as an unsupported program, naming it.
//!
//! Compute units: [`AssociatedTokenProgram::OWN_UNITS`] (an estimate of the program's own
//! work), plus [`pda::CREATE_PROGRAM_ADDRESS_UNITS`] per bump tried in the derivation,
//! plus each invocation's cost and its callee's units (together about 20,000 for a
//! Create, close to what mainnet reports for it).

use crate::state::key_eq;
use crate::Pubkey;

use super::error::InstructionError;
use super::pda;
use super::program::{InstructionContext, Program};
use super::rent;
use super::system::SystemProgram;
use super::token::TokenAccount;

/// The Associated Token Account program id, `ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL`.
pub const ASSOCIATED_TOKEN_PROGRAM_ID: Pubkey = [
    0x8c, 0x97, 0x25, 0x8f, 0x4e, 0x24, 0x89, 0xf1, 0xbb, 0x3d, 0x10, 0x29, 0x14, 0x8e, 0x0d, 0x83,
    0x0b, 0x5a, 0x13, 0x99, 0xda, 0xff, 0x10, 0x84, 0x04, 0x8e, 0x7b, 0xd8, 0xdb, 0xe9, 0xf8, 0x59,
];

/// The associated token account of `wallet` for `mint` under `token_program`, and its bump
/// seed (`None` only if no bump gives an off-curve address, which never happens in
/// practice).
pub fn associated_token_address(
    wallet: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Option<(Pubkey, u8)> {
    pda::find_program_address(&[wallet, token_program, mint], &ASSOCIATED_TOKEN_PROGRAM_ID)
        .map(|(address, bump, _)| (address, bump))
}

/// The Associated Token Account program (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct AssociatedTokenProgram;

/// `AssociatedTokenAccountError::InvalidOwner`.
const INVALID_OWNER: u32 = 0;

impl AssociatedTokenProgram {
    /// The program's own compute units per instruction (an estimate), before the
    /// derivation and the invocations.
    pub const OWN_UNITS: u64 = 4_000;

    /// Instruction data of Create (`[0]`; empty data is Create too).
    pub const CREATE: u8 = 0;
    /// Instruction data of CreateIdempotent (`[1]`).
    pub const CREATE_IDEMPOTENT: u8 = 1;
}

fn system_data(discriminant: u32, fields: &[&[u8]]) -> Vec<u8> {
    let mut data = discriminant.to_le_bytes().to_vec();
    for f in fields {
        data.extend_from_slice(f);
    }
    data
}

impl Program for AssociatedTokenProgram {
    fn estimate_units(&self, _data: &[u8]) -> u64 {
        20_000
    }

    fn process(&self, ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        const FUNDER: usize = 0;
        const ATA: usize = 1;
        const WALLET: usize = 2;
        const MINT: usize = 3;
        const TOKEN: usize = 5;
        ctx.consume_units(Self::OWN_UNITS)?;
        let idempotent = match ctx.data() {
            [] | [Self::CREATE] => false,
            [Self::CREATE_IDEMPOTENT] => true,
            _ => return Err(InstructionError::InvalidInstructionData),
        };
        if ctx.num_accounts() < 6 {
            return Err(InstructionError::NotEnoughAccountKeys);
        }
        let wallet = *ctx.key(WALLET)?;
        let mint = *ctx.key(MINT)?;
        let token_program = *ctx.key(TOKEN)?;
        let (address, _bump, tries) =
            pda::find_program_address(&[&wallet, &token_program, &mint], ctx.program_id())
                .ok_or(InstructionError::InvalidSeeds)?;
        ctx.consume_units(pda::CREATE_PROGRAM_ADDRESS_UNITS.saturating_mul(u64::from(tries)))?;
        if !key_eq(&address, ctx.key(ATA)?) {
            return Err(InstructionError::InvalidSeeds);
        }
        let account = ctx.account(ATA)?;
        if idempotent && key_eq(&account.owner, &token_program) {
            if let Ok(existing) = TokenAccount::unpack(&account.data) {
                if !key_eq(&existing.owner, &wallet) {
                    return Err(InstructionError::Custom(INVALID_OWNER));
                }
                if !key_eq(&existing.mint, &mint) {
                    return Err(InstructionError::InvalidAccountData);
                }
                return Ok(());
            }
        }
        if !key_eq(&account.owner, &SystemProgram::ID) {
            return Err(InstructionError::IllegalOwner);
        }
        let held = account.lamports;
        // GetAccountDataSize with the ImmutableOwner extension (type 7), as `get_account_len`
        // asks; SPL Token answers 165 bytes.
        ctx.invoke_signed(&token_program, &[MINT], &[21, 7, 0], &[])?;
        let space = TokenAccount::LEN;
        let minimum = rent::minimum_balance(space).max(1);
        let signer = [address];
        if held > 0 {
            let missing = minimum.saturating_sub(held);
            if missing > 0 {
                let data = system_data(SystemProgram::TRANSFER, &[&missing.to_le_bytes()]);
                ctx.invoke_signed(&SystemProgram::ID, &[FUNDER, ATA], &data, &[])?;
            }
            let data = system_data(SystemProgram::ALLOCATE, &[&(space as u64).to_le_bytes()]);
            ctx.invoke_signed(&SystemProgram::ID, &[ATA], &data, &signer)?;
            let data = system_data(SystemProgram::ASSIGN, &[&token_program]);
            ctx.invoke_signed(&SystemProgram::ID, &[ATA], &data, &signer)?;
        } else {
            let data = system_data(
                SystemProgram::CREATE_ACCOUNT,
                &[
                    &minimum.to_le_bytes(),
                    &(space as u64).to_le_bytes(),
                    &token_program,
                ],
            );
            ctx.invoke_signed(&SystemProgram::ID, &[FUNDER, ATA], &data, &signer)?;
        }
        ctx.invoke_signed(&token_program, &[ATA], &[22], &[])?;
        let mut init = vec![18u8];
        init.extend_from_slice(&wallet);
        ctx.invoke_signed(&token_program, &[ATA, MINT], &init, &[])
    }
}
