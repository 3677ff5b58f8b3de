//! The SPL Memo programs, v1 (`Memo1UhkJRfHyvLMcVucJwxXeuD728EQVDDwekLjF8Y`) and v2
//! (`MemoSq4gqABAXKb96qNH8TysNcWxMyWCqXgDLGmfcHr`). They change no account; the memo is
//! only logged, and txpipe keeps no logs.
//!
//! Rules (`spl-memo` `processor.rs` `process_instruction`):
//! - v2: every account passed to the instruction must have signed (checked first, any
//!   unsigned one fails with [`InstructionError::MissingRequiredSignature`]); then the
//!   data must be valid UTF-8 ([`InstructionError::InvalidInstructionData`]). Empty data
//!   is a valid (empty) memo.
//! - v1 (the program's first release, still deployed): the data must be valid UTF-8; it
//!   reads no account, so accounts passed to it need not sign.
//!
//! Compute units: the programs are BPF on Solana and their cost is dominated by logging;
//! modelled here (an estimate, not a measurement) as [`MemoProgram::BASE_UNITS`] plus
//! [`MemoProgram::UNITS_PER_SIGNER`] per account (v2 logs each signer) plus
//! [`MemoProgram::UNITS_PER_BYTE`] per byte of memo (UTF-8 check and the formatted log).

use crate::Pubkey;

use super::error::InstructionError;
use super::program::{InstructionContext, Program};

/// Memo v1's program id, `Memo1UhkJRfHyvLMcVucJwxXeuD728EQVDDwekLjF8Y`.
pub const MEMO_V1_PROGRAM_ID: Pubkey = [
    0x05, 0x4a, 0x53, 0x50, 0xf8, 0x5d, 0xc8, 0x82, 0xd6, 0x14, 0xa5, 0x56, 0x72, 0x78, 0x8a, 0x29,
    0x6d, 0xdf, 0x1e, 0xab, 0xab, 0xd0, 0xa5, 0xe4, 0x9b, 0x8c, 0x7d, 0x5e, 0xf9, 0x70, 0x58, 0x8d,
];

/// Memo v2's program id, `MemoSq4gqABAXKb96qNH8TysNcWxMyWCqXgDLGmfcHr`.
pub const MEMO_PROGRAM_ID: Pubkey = [
    0x05, 0x4a, 0x53, 0x5a, 0x99, 0x29, 0x21, 0x06, 0x4d, 0x24, 0xe8, 0x71, 0x60, 0xd7, 0xf5, 0xda,
    0x46, 0x20, 0x3e, 0x2a, 0x1a, 0xd1, 0x16, 0xdf, 0x43, 0xf3, 0xd0, 0x83, 0x29, 0x05, 0x44, 0x8d,
];

/// A memo program: v2 (signers checked) or v1 (UTF-8 only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoProgram {
    /// Whether accounts passed to it must have signed (v2).
    pub check_signers: bool,
}

impl MemoProgram {
    /// Memo v2.
    pub const V2: Self = Self {
        check_signers: true,
    };
    /// Memo v1.
    pub const V1: Self = Self {
        check_signers: false,
    };
    /// Units of any memo instruction (estimate).
    pub const BASE_UNITS: u64 = 400;
    /// Units per account passed (estimate: v2 logs each signer).
    pub const UNITS_PER_SIGNER: u64 = 300;
    /// Units per byte of memo (estimate).
    pub const UNITS_PER_BYTE: u64 = 4;

    /// Units of a memo of `len` bytes with `signers` accounts.
    pub fn units(&self, len: usize, signers: usize) -> u64 {
        let per_signer = if self.check_signers {
            Self::UNITS_PER_SIGNER
        } else {
            0
        };
        Self::BASE_UNITS
            .saturating_add(per_signer.saturating_mul(signers as u64))
            .saturating_add(Self::UNITS_PER_BYTE.saturating_mul(len as u64))
    }
}

impl Program for MemoProgram {
    fn estimate_units(&self, data: &[u8]) -> u64 {
        self.units(data.len(), 1)
    }

    fn process(&self, ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        ctx.consume_units(self.units(ctx.data().len(), ctx.num_accounts()))?;
        if self.check_signers && (0..ctx.num_accounts()).any(|i| !ctx.is_signer(i)) {
            return Err(InstructionError::MissingRequiredSignature);
        }
        std::str::from_utf8(ctx.data()).map_err(|_| InstructionError::InvalidInstructionData)?;
        Ok(())
    }
}
