//! The built-in System program: CreateAccount and Transfer.
//!
//! Instruction data starts with a `u32` little-endian discriminant (trailing bytes after
//! the fields are ignored, as Solana's bincode decoding does):
//! - `0` CreateAccount: `u64 lamports, u64 space, [u8; 32] owner`; accounts
//!   `[funder (writable signer), new (writable signer)]`;
//! - `1` Assign: `[u8; 32] owner`; accounts `[account (writable signer)]`: nothing when it
//!   already has that owner, else it must sign ([`InstructionError::MissingRequiredSignature`])
//!   and gets the owner (the runtime rules then require it System-owned);
//! - `2` Transfer: `u64 lamports`; accounts `[from (writable signer), to (writable)]`;
//! - `8` Allocate: `u64 space`; accounts `[account (writable signer)]`: it must sign, hold
//!   no data and be System-owned ([`InstructionError::AccountAlreadyInUse`]), `space` at
//!   most [`MAX_PERMITTED_DATA_LENGTH`]; it gets `space` zero bytes.
//!
//! (Agave: `solana-system-program` `system_processor.rs`, `create_account`, `assign`,
//! `allocate`, `transfer`.)
//!
//! Other discriminants are [`InstructionError::InvalidInstructionData`].

use crate::Pubkey;

use super::error::InstructionError;
use super::program::{InstructionContext, Program};

/// Largest data length CreateAccount accepts (10 MiB, as in Solana).
pub const MAX_PERMITTED_DATA_LENGTH: u64 = 10 * 1024 * 1024;

/// The System program (id: 32 zero bytes).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemProgram;

impl SystemProgram {
    /// The program id: 32 zero bytes.
    pub const ID: Pubkey = [0; 32];
    /// CreateAccount discriminant.
    pub const CREATE_ACCOUNT: u32 = 0;
    /// Assign discriminant.
    pub const ASSIGN: u32 = 1;
    /// Transfer discriminant.
    pub const TRANSFER: u32 = 2;
    /// Allocate discriminant.
    pub const ALLOCATE: u32 = 8;
    /// Compute units of one instruction (`DEFAULT_COMPUTE_UNITS`, 150).
    pub const UNITS: u64 = 150;
}

/// Little-endian reader over instruction data; running out is invalid data.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], InstructionError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(InstructionError::InvalidInstructionData)?;
        self.0 = rest;
        Ok(*head)
    }

    fn u32(&mut self) -> Result<u32, InstructionError> {
        self.take::<4>().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, InstructionError> {
        self.take::<8>().map(u64::from_le_bytes)
    }
}

impl Program for SystemProgram {
    /// 150 units per instruction (Agave: `solana-system-program`
    /// `system_processor::DEFAULT_COMPUTE_UNITS`).
    fn base_units(&self) -> u64 {
        Self::UNITS
    }

    fn process(&self, ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        let mut r = Reader(ctx.data());
        match r.u32()? {
            Self::CREATE_ACCOUNT => {
                let lamports = r.u64()?;
                let space = r.u64()?;
                let owner = r.take::<32>()?;
                create_account(ctx, lamports, space, &owner)
            }
            Self::TRANSFER => {
                let lamports = r.u64()?;
                transfer(ctx, 0, 1, lamports)
            }
            Self::ASSIGN => {
                let owner = r.take::<32>()?;
                assign(ctx, &owner)
            }
            Self::ALLOCATE => {
                let space = r.u64()?;
                allocate(ctx, space)
            }
            _ => Err(InstructionError::InvalidInstructionData),
        }
    }
}

/// Moves `lamports` from instruction account `from` (a signer without data) to `to`.
fn transfer(
    ctx: &mut InstructionContext<'_>,
    from: usize,
    to: usize,
    lamports: u64,
) -> Result<(), InstructionError> {
    if ctx.num_accounts() < 2 {
        return Err(InstructionError::NotEnoughAccountKeys);
    }
    if !ctx.is_signer(from) {
        return Err(InstructionError::MissingRequiredSignature);
    }
    let source = ctx.account(from)?;
    if !source.data.is_empty() {
        return Err(InstructionError::InvalidArgument);
    }
    if source.lamports < lamports {
        return Err(InstructionError::InsufficientFunds);
    }
    let source = ctx.account_mut(from)?;
    source.lamports -= lamports;
    let dest = ctx.account_mut(to)?;
    dest.lamports = dest
        .lamports
        .checked_add(lamports)
        .ok_or(InstructionError::ArithmeticOverflow)?;
    Ok(())
}

/// CreateAccount: allocates `space` zero bytes in `new`, assigns it to `owner`, and funds
/// it with `lamports` from `funder`.
fn create_account(
    ctx: &mut InstructionContext<'_>,
    lamports: u64,
    space: u64,
    owner: &Pubkey,
) -> Result<(), InstructionError> {
    const FUNDER: usize = 0;
    const NEW: usize = 1;
    if ctx.num_accounts() < 2 {
        return Err(InstructionError::NotEnoughAccountKeys);
    }
    let target = ctx.account(NEW)?;
    if target.lamports > 0 || !target.data.is_empty() || target.owner != SystemProgram::ID {
        return Err(InstructionError::AccountAlreadyInUse);
    }
    if !ctx.is_signer(NEW) {
        return Err(InstructionError::MissingRequiredSignature);
    }
    if space > MAX_PERMITTED_DATA_LENGTH {
        return Err(InstructionError::InvalidAccountDataLength);
    }
    let len = usize::try_from(space).map_err(|_| InstructionError::InvalidAccountDataLength)?;
    let target = ctx.account_mut(NEW)?;
    target.data = vec![0; len];
    target.owner = *owner;
    transfer(ctx, FUNDER, NEW, lamports)
}

/// Assign: account 0 gets `owner` (a no-op when it already has it).
fn assign(ctx: &mut InstructionContext<'_>, owner: &Pubkey) -> Result<(), InstructionError> {
    if ctx.account(0)?.owner == *owner {
        return Ok(());
    }
    if !ctx.is_signer(0) {
        return Err(InstructionError::MissingRequiredSignature);
    }
    ctx.account_mut(0)?.owner = *owner;
    Ok(())
}

/// Allocate: account 0 gets `space` zero bytes.
fn allocate(ctx: &mut InstructionContext<'_>, space: u64) -> Result<(), InstructionError> {
    if !ctx.is_signer(0) {
        return Err(InstructionError::MissingRequiredSignature);
    }
    let account = ctx.account(0)?;
    if !account.data.is_empty() || account.owner != SystemProgram::ID {
        return Err(InstructionError::AccountAlreadyInUse);
    }
    if space > MAX_PERMITTED_DATA_LENGTH {
        return Err(InstructionError::InvalidAccountDataLength);
    }
    let len = usize::try_from(space).map_err(|_| InstructionError::InvalidAccountDataLength)?;
    ctx.account_mut(0)?.data = vec![0; len];
    Ok(())
}
