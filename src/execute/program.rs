//! The program interface: [`Program`] and the [`InstructionContext`] it runs in.

use crate::state::{key_eq, Account};
use crate::Pubkey;

use super::error::InstructionError;

/// A program the executor can run. Implementations must be deterministic: the same
/// instruction over the same accounts must give the same changes, and consume the same
/// compute units, on every thread.
///
/// # Compute units
/// Each transaction has a compute meter holding its compute budget's limit
/// ([`super::ComputeBudgetLimits::compute_unit_limit`]). Before [`Program::process`]
/// runs, the runtime consumes [`Program::base_units`] (Agave: a builtin's
/// `DEFAULT_COMPUTE_UNITS`, consumed by `declare_process_instruction!`); the program
/// consumes more for its own work with [`InstructionContext::consume_units`] (Agave:
/// `InvokeContext::consume_checked`), before doing that work. Running out fails the
/// instruction with [`InstructionError::ComputationalBudgetExceeded`] (the transaction
/// is rolled back, the fee stays paid, and the units consumed are the limit).
/// [`Program::estimate_units`] is what the parallel executor balances its workers by.
///
/// Any `Fn(&mut InstructionContext) -> Result<(), InstructionError> + Send + Sync` closure
/// is a program (with no base cost).
pub trait Program: Send + Sync {
    /// Compute units consumed by the runtime before every instruction of this program
    /// (default 0).
    fn base_units(&self) -> u64 {
        0
    }

    /// An estimate of the compute units an instruction with `data` consumes in all,
    /// [`Program::base_units`] included, before running it (default: the base units).
    /// Used to balance work between threads, never to meter: a wrong estimate costs time,
    /// not correctness.
    fn estimate_units(&self, data: &[u8]) -> u64 {
        let _ = data;
        self.base_units()
    }

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
///
/// A program may call another one ([`InstructionContext::invoke_signed`], Agave's
/// cross-program invocation): the callee runs over a subset of the caller's accounts,
/// its changes checked against the rules above under its own program id, so that the
/// Associated Token Account program can have the System program create an account and
/// the Token program initialize it.
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
    /// Compute units left to the transaction.
    pub(super) meter: &'t mut u64,
    /// The programs a cross-program invocation can reach.
    pub(super) programs: &'t dyn ProgramLookup,
    /// Keys that sign for this instruction besides the transaction's signers (program
    /// derived addresses a caller signed for).
    pub(super) extra_signers: &'t [Pubkey],
    /// Invocation depth: 1 for a transaction's instruction, +1 per nested call.
    pub(super) depth: usize,
}

impl std::fmt::Debug for InstructionContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstructionContext")
            .field("program_id", &hex::encode(self.program_id))
            .field("data", &hex::encode(self.data))
            .field("accounts", &self.accounts)
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

/// Where a cross-program invocation finds its callee (the executor's registry).
pub(super) trait ProgramLookup: Sync {
    /// The program registered under `id`.
    fn program(&self, id: &Pubkey) -> Option<&dyn Program>;
}

/// Compute units of one cross-program invocation, before the callee's own (Agave:
/// `solana-compute-budget` `ComputeBudget::invoke_units`, 1,000).
pub const INVOKE_UNITS: u64 = 1_000;

/// Deepest invocation stack, the transaction's instruction included (Agave:
/// `max_instruction_stack_depth`, 5).
pub const MAX_INVOKE_DEPTH: usize = 5;

impl<'t> InstructionContext<'t> {
    /// The id of the program being run.
    pub fn program_id(&self) -> &Pubkey {
        self.program_id
    }

    /// The instruction data.
    pub fn data(&self) -> &'t [u8] {
        self.data
    }

    /// Consumes `units` compute units of the transaction's budget (Agave:
    /// `InvokeContext::consume_checked`): when fewer are left, the meter drops to 0 and
    /// the instruction fails.
    ///
    /// # Errors
    /// [`InstructionError::ComputationalBudgetExceeded`] when fewer than `units` are left.
    pub fn consume_units(&mut self, units: u64) -> Result<(), InstructionError> {
        consume(self.meter, units)
    }

    /// Compute units left to the transaction.
    pub fn remaining_units(&self) -> u64 {
        *self.meter
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

    /// Whether instruction account `i` signed the transaction, or is a program-derived
    /// address the calling program signed for (false when out of range).
    pub fn is_signer(&self, i: usize) -> bool {
        self.slot(i).is_ok_and(|s| {
            s < self.num_signers
                || self
                    .keys
                    .get(s)
                    .is_some_and(|k| self.extra_signers.iter().any(|e| key_eq(e, k)))
        })
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

    /// Calls program `program_id` (one of this instruction's accounts, registered) with
    /// `data` over this instruction's accounts at positions `accounts`, `pda_signers`
    /// signing besides this instruction's signers (Agave: `invoke_signed`). The changes
    /// made so far are checked first (the caller's own, against the rules above, as
    /// Agave checks the caller's accounts before it pushes the callee); the callee's are
    /// checked under the callee's id when it returns. Costs [`INVOKE_UNITS`] and the
    /// callee's [`Program::base_units`] before it runs. Writable flags are the
    /// transaction's, so a callee can never write what the caller could not.
    ///
    /// # Errors
    /// [`InstructionError::UnknownProgram`] naming `program_id` when nothing is registered
    /// under it; [`InstructionError::NotEnoughAccountKeys`] when it (or an account
    /// position) is not among this instruction's accounts;
    /// [`InstructionError::CallDepth`] past [`MAX_INVOKE_DEPTH`]; whatever the callee or
    /// the rules reject.
    pub fn invoke_signed(
        &mut self,
        program_id: &Pubkey,
        accounts: &[usize],
        data: &[u8],
        pda_signers: &[Pubkey],
    ) -> Result<(), InstructionError> {
        let passed =
            (0..self.num_accounts()).any(|i| self.key(i).is_ok_and(|k| key_eq(k, program_id)));
        if !passed {
            return Err(InstructionError::NotEnoughAccountKeys);
        }
        let program = self
            .programs
            .program(program_id)
            .ok_or(InstructionError::UnknownProgram(*program_id))?;
        if self.depth >= MAX_INVOKE_DEPTH {
            return Err(InstructionError::CallDepth);
        }
        let callee_accounts = accounts
            .iter()
            .map(|&i| {
                self.accounts
                    .get(i)
                    .copied()
                    .ok_or(InstructionError::NotEnoughAccountKeys)
            })
            .collect::<Result<Vec<u8>, _>>()?;
        self.verify()?;
        consume(
            self.meter,
            INVOKE_UNITS.saturating_add(program.base_units()),
        )?;
        let mut signers: Vec<Pubkey> = self.extra_signers.to_vec();
        signers.extend_from_slice(pda_signers);
        let mut callee_pre = Vec::new();
        let mut callee = InstructionContext {
            program_id,
            data,
            accounts: &callee_accounts,
            keys: self.keys,
            writable: self.writable,
            num_signers: self.num_signers,
            slots: &mut *self.slots,
            touched: &mut *self.touched,
            pre: &mut callee_pre,
            meter: &mut *self.meter,
            programs: self.programs,
            extra_signers: &signers,
            depth: self.depth + 1,
        };
        program.process(&mut callee)?;
        callee.verify()?;
        // The caller's checks start again from here: its changes so far were checked
        // before the call, the callee's after it.
        for (s, _) in callee_pre {
            if !self.pre.iter().any(|(p, _)| *p == s) {
                self.pre.push((s, Account::default()));
            }
        }
        for (s, pre) in self.pre.iter_mut() {
            if let Some(now) = self.slots.get(*s) {
                pre.clone_from(now);
            }
        }
        Ok(())
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

/// Takes `units` from `meter`; when fewer are left, empties it and fails.
pub(super) fn consume(meter: &mut u64, units: u64) -> Result<(), InstructionError> {
    let exceeded = *meter < units;
    *meter = meter.saturating_sub(units);
    if exceeded {
        Err(InstructionError::ComputationalBudgetExceeded)
    } else {
        Ok(())
    }
}
