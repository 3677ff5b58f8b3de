//! The work program: a deterministic, metered instruction whose cost the caller chooses,
//! so that a benchmark sets what a transaction costs.
//!
//! Instruction data: `u32 rounds` little-endian, then any bytes (hashed along). Accounts:
//! `[target]`, writable, owned by the work program, holding [`WorkProgram::ACCOUNT_LEN`]
//! bytes of data. The instruction sets `h` to the target's data, then `rounds` times
//! `h = SHA-256(h || data)`, and writes `h` back into the target: the result depends on
//! every earlier instruction on that account, so executing out of order shows in the
//! state hash.
//!
//! Compute units, modelled on what a Solana program doing the same work through the
//! `sol_sha256` syscall is charged (`solana-compute-budget` `ComputeBudget` defaults,
//! `solana-bpf-loader-program` `SyscallHash`): [`WorkProgram::BASE_UNITS`] per
//! instruction, then per round, before it runs, `sha256_base_cost` (85) +
//! max(`mem_op_base_cost` (10), `sha256_byte_cost` (1) × bytes hashed / 2). A transaction
//! whose rounds do not fit its compute budget fails with
//! [`InstructionError::ComputationalBudgetExceeded`] once its meter runs out (so the meter
//! bounds the time it takes, whatever `rounds` says).

use std::sync::Arc;

use crate::Pubkey;

use super::error::InstructionError;
use super::program::{InstructionContext, Program};
use super::registry::ProgramRegistry;

/// The work program (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkProgram;

impl WorkProgram {
    /// The program id (32 bytes of ASCII, never a curve point anyone holds a key for).
    pub const ID: Pubkey = *b"txpipe::work-program/bench/v1...";
    /// Compute units charged before an instruction runs.
    pub const BASE_UNITS: u64 = 150;
    /// `sha256_base_cost`: units per round before the bytes.
    pub const ROUND_BASE_UNITS: u64 = 85;
    /// `mem_op_base_cost`: the least a round's bytes cost.
    pub const MEM_OP_BASE_UNITS: u64 = 10;
    /// Data length of a target account.
    pub const ACCOUNT_LEN: usize = 32;

    /// The instruction data for `rounds` rounds.
    pub fn instruction_data(rounds: u32) -> Vec<u8> {
        rounds.to_le_bytes().to_vec()
    }

    /// Compute units of one round with `data_len` bytes of instruction data (the round
    /// hashes the 32-byte state and the data).
    pub fn round_units(data_len: usize) -> u64 {
        let bytes = (Self::ACCOUNT_LEN + data_len) as u64;
        Self::ROUND_BASE_UNITS + Self::MEM_OP_BASE_UNITS.max(bytes / 2)
    }

    /// Compute units of a successful instruction of `rounds` rounds with `data_len` bytes
    /// of data.
    pub fn units(rounds: u32, data_len: usize) -> u64 {
        Self::BASE_UNITS
            .saturating_add(u64::from(rounds).saturating_mul(Self::round_units(data_len)))
    }

    /// The most rounds (with 4 bytes of data) whose instruction fits `budget` units.
    pub fn max_rounds(budget: u64) -> u32 {
        let rounds = budget.saturating_sub(Self::BASE_UNITS) / Self::round_units(4);
        u32::try_from(rounds).unwrap_or(u32::MAX)
    }

    /// A target account's initial state: `lamports`, owned by the work program, zeroed
    /// data.
    pub fn account(lamports: u64) -> crate::state::Account {
        let mut a = crate::state::Account::new(lamports, Self::ID);
        a.data = vec![0; Self::ACCOUNT_LEN];
        a
    }

    /// The target account of `owner` in generated workloads: SHA-256 of a tag and the
    /// owner's key.
    pub fn target_of(owner: &Pubkey) -> Pubkey {
        crate::hash::sha256v(&[b"txpipe-work-target", owner])
    }

    /// The default registry ([`ProgramRegistry::default`]) plus the work program.
    pub fn registry() -> ProgramRegistry {
        let mut r = ProgramRegistry::default();
        r.register(Self::ID, Arc::new(WorkProgram));
        r
    }

    fn rounds(data: &[u8]) -> Option<u32> {
        data.first_chunk::<4>().map(|b| u32::from_le_bytes(*b))
    }
}

impl Program for WorkProgram {
    fn base_units(&self) -> u64 {
        Self::BASE_UNITS
    }

    /// Exact for an instruction that succeeds.
    fn estimate_units(&self, data: &[u8]) -> u64 {
        Self::rounds(data).map_or(Self::BASE_UNITS, |r| Self::units(r, data.len()))
    }

    fn process(&self, ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        let data = ctx.data();
        let rounds = Self::rounds(data).ok_or(InstructionError::InvalidInstructionData)?;
        let round_units = Self::round_units(data.len());
        let target = ctx.account(0)?;
        if target.owner != Self::ID {
            return Err(InstructionError::InvalidAccountData);
        }
        let mut h: [u8; 32] = target
            .data
            .as_slice()
            .try_into()
            .map_err(|_| InstructionError::InvalidAccountData)?;
        if !ctx.is_writable(0) {
            return Err(InstructionError::AccountNotWritable);
        }
        for _ in 0..rounds {
            ctx.consume_units(round_units)?;
            h = crate::hash::sha256v(&[&h, ctx.data()]);
        }
        ctx.account_mut(0)?.data.copy_from_slice(&h);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs() {
        // 32 + 4 bytes: 85 + 18.
        assert_eq!(WorkProgram::round_units(4), 103);
        // Short data: the mem-op floor does not bind until below 20 bytes in all.
        assert_eq!(WorkProgram::round_units(0), 85 + 16);
        assert_eq!(WorkProgram::units(0, 4), 150);
        assert_eq!(WorkProgram::units(10, 4), 150 + 1030);
        assert_eq!(WorkProgram::max_rounds(150 + 1030), 10);
        assert_eq!(WorkProgram::max_rounds(150 + 1029), 9);
        assert_eq!(WorkProgram::max_rounds(0), 0);
        assert_eq!(
            WorkProgram.estimate_units(&WorkProgram::instruction_data(10)),
            1180
        );
        assert_eq!(WorkProgram.estimate_units(&[]), 150);
    }
}
