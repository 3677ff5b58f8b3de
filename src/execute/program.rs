//! The program interface: [`Program`] and the [`InstructionContext`] it runs in.

use crate::state::{key_eq, Account};
use crate::Pubkey;

use super::error::InstructionError;

/// A program the executor can run. Implementations must be deterministic: the same
/// instruction over the same accounts must give the same changes on every thread.
///
/// Any `Fn(&mut InstructionContext) -> Result<(), InstructionError> + Send + Sync` closure
/// is a program.
pub trait Program: Send + Sync {
    /// Executes one instruction. On `Err`, the executor rolls back the whole transaction
    /// (the fee stays paid), so a program need not undo partial changes.
    ///
    /// # Errors
    /// Whatever the instruction's rules reject.
    fn process(&self, ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError>;
}

impl<F> Program for F
where
    F: Fn(&mut InstructionContext<'_>) -> Result<(), InstructionError> + Send + Sync,
{
    fn process(&self, ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        self(ctx)
    }
}

/// What a program sees of one instruction: its data and views of its accounts, by
/// position in the instruction's account list (`0..num_accounts()`).
///
/// The runtime rules, checked when the instruction returns (in this order, the first
/// broken rule failing the instruction):
/// - only accounts declared writable can be borrowed mutably
///   ([`InstructionError::AccountNotWritable`], at the borrow);
/// - the executable flag never changes ([`InstructionError::ExecutableModified`]);
/// - only the owning program may change an account's owner, debit its lamports or change
///   its data ([`InstructionError::ModifiedProgramId`],
///   [`InstructionError::ExternalAccountLamportSpend`],
///   [`InstructionError::ExternalAccountDataModified`]);
/// - the lamport total over the changed accounts is unchanged
///   ([`InstructionError::UnbalancedInstruction`]).
///
/// Signer requirements are the program's to enforce with [`InstructionContext::is_signer`]
/// (signers are the transaction's; their signatures were verified upstream).
#[derive(Debug)]
pub struct InstructionContext<'t> {
    pub(super) program_id: &'t Pubkey,
    pub(super) data: &'t [u8],
    /// The instruction's account indexes into the transaction's key list.
    pub(super) accounts: &'t [u8],
    pub(super) keys: &'t [Pubkey],
    pub(super) writable: &'t [bool],
    pub(super) num_signers: usize,
    /// The transaction's working copies, by key index (the instruction's are loaded).
    pub(super) slots: &'t mut [Account],
    /// Key indexes borrowed mutably during the transaction.
    pub(super) touched: &'t mut [bool],
    /// Pre-images of the slots borrowed mutably during this instruction.
    pub(super) pre: &'t mut Vec<(usize, Account)>,
}

impl InstructionContext<'_> {
    /// The id of the program being run.
    pub fn program_id(&self) -> &Pubkey {
        self.program_id
    }

    /// The instruction data.
    pub fn data(&self) -> &[u8] {
        self.data
    }

    /// Number of accounts passed to the instruction.
    pub fn num_accounts(&self) -> usize {
        self.accounts.len()
    }

    /// The transaction key index of instruction account `i`.
    fn slot(&self, i: usize) -> Result<usize, InstructionError> {
        self.accounts
            .get(i)
            .map(|&s| usize::from(s))
            .filter(|&s| s < self.slots.len())
            .ok_or(InstructionError::NotEnoughAccountKeys)
    }

    /// The key of instruction account `i`.
    ///
    /// # Errors
    /// [`InstructionError::NotEnoughAccountKeys`] when `i >= num_accounts()`.
    pub fn key(&self, i: usize) -> Result<&Pubkey, InstructionError> {
        let s = self.slot(i)?;
        self.keys
            .get(s)
            .ok_or(InstructionError::NotEnoughAccountKeys)
    }

    /// Whether instruction account `i` signed the transaction (false when out of range).
    pub fn is_signer(&self, i: usize) -> bool {
        self.slot(i).is_ok_and(|s| s < self.num_signers)
    }

    /// Whether instruction account `i` is writable (false when out of range).
    pub fn is_writable(&self, i: usize) -> bool {
        self.slot(i)
            .is_ok_and(|s| self.writable.get(s).copied().unwrap_or(false))
    }

    /// Instruction account `i`, as the transaction's earlier instructions left it.
    ///
    /// # Errors
    /// [`InstructionError::NotEnoughAccountKeys`] when `i >= num_accounts()`.
    pub fn account(&self, i: usize) -> Result<&Account, InstructionError> {
        let s = self.slot(i)?;
        self.slots
            .get(s)
            .ok_or(InstructionError::NotEnoughAccountKeys)
    }

    /// Instruction account `i`, mutably. The same account passed twice is one account.
    ///
    /// # Errors
    /// [`InstructionError::NotEnoughAccountKeys`] when out of range;
    /// [`InstructionError::AccountNotWritable`] when not declared writable.
    pub fn account_mut(&mut self, i: usize) -> Result<&mut Account, InstructionError> {
        let s = self.slot(i)?;
        if !self.writable.get(s).copied().unwrap_or(false) {
            return Err(InstructionError::AccountNotWritable);
        }
        let account = self
            .slots
            .get_mut(s)
            .ok_or(InstructionError::NotEnoughAccountKeys)?;
        if !self.pre.iter().any(|(p, _)| *p == s) {
            self.pre.push((s, account.clone()));
            if let Some(t) = self.touched.get_mut(s) {
                *t = true;
            }
        }
        Ok(account)
    }

    /// Checks the runtime rules (see the type docs) against the pre-images.
    pub(super) fn verify(&self) -> Result<(), InstructionError> {
        let mut before = 0u128;
        let mut after = 0u128;
        for (s, pre) in self.pre.iter() {
            let post = self
                .slots
                .get(*s)
                .ok_or(InstructionError::NotEnoughAccountKeys)?;
            let owned = key_eq(&pre.owner, self.program_id);
            if post.executable != pre.executable {
                return Err(InstructionError::ExecutableModified);
            }
            if !owned && !key_eq(&post.owner, &pre.owner) {
                return Err(InstructionError::ModifiedProgramId);
            }
            if post.lamports < pre.lamports && !owned {
                return Err(InstructionError::ExternalAccountLamportSpend);
            }
            let data_changed = post.data.len() != pre.data.len()
                || (!post.data.is_empty() && post.data != pre.data);
            if data_changed && !owned {
                return Err(InstructionError::ExternalAccountDataModified);
            }
            before += u128::from(pre.lamports);
            after += u128::from(post.lamports);
        }
        if before != after {
            return Err(InstructionError::UnbalancedInstruction);
        }
        Ok(())
    }
}
