//! The transaction runtime: one transaction's fee, its instructions dispatched to their
//! programs, then its commit, or its roll back when an instruction fails. Every execution
//! path runs transactions through [`Runtime::execute_tx`], against an
//! [`AccountAccess`].

use crate::state::{self, Account};
use crate::tx::CompiledInstruction;

use super::access::AccountAccess;
use super::error::{InstructionError, TxError, TxResult};
use super::program::InstructionContext;
use super::registry::ProgramRegistry;
use super::system::SystemProgram;
use super::transaction::ExecTx;

/// Per-worker scratch space, reused from one transaction to the next.
#[derive(Default)]
pub(super) struct Scratch {
    slots: Vec<Account>,
    loaded: Vec<bool>,
    touched: Vec<bool>,
    pre: Vec<(usize, Account)>,
}

impl Scratch {
    fn reset(&mut self, n: usize) {
        self.slots.clear();
        self.slots.resize_with(n, Account::default);
        self.loaded.clear();
        self.loaded.resize(n, false);
        self.touched.clear();
        self.touched.resize(n, false);
        self.pre.clear();
    }

    fn load(&mut self, access: &impl AccountAccess, i: usize) {
        if let (Some(false), Some(slot)) = (self.loaded.get(i).copied(), self.slots.get_mut(i)) {
            *slot = access.load(i);
            self.loaded[i] = true;
        }
    }
}

/// What running a transaction needs of the executor: its programs and its fee rate.
#[derive(Clone, Copy)]
pub(super) struct Runtime<'e> {
    registry: &'e ProgramRegistry,
    lamports_per_signature: u64,
}

impl<'e> Runtime<'e> {
    /// A runtime dispatching to `registry`, charging `lamports_per_signature` per
    /// signature.
    pub(super) fn new(registry: &'e ProgramRegistry, lamports_per_signature: u64) -> Self {
        Self {
            registry,
            lamports_per_signature,
        }
    }

    /// The fee of `tx`: its signature count times the fee per signature.
    pub(super) fn fee(&self, tx: &ExecTx<'_>) -> u64 {
        (tx.num_signers() as u64).saturating_mul(self.lamports_per_signature)
    }

    /// Executes one transaction: fee, instructions, commit or roll back.
    pub(super) fn execute_tx(
        &self,
        access: &mut impl AccountAccess,
        tx: &ExecTx<'_>,
        scratch: &mut Scratch,
    ) -> TxResult {
        if let Some(e) = tx.prepare_error() {
            return Err(e.clone());
        }
        let keys = tx.keys();
        if keys.is_empty() {
            return Err(TxError::Malformed("no fee payer"));
        }
        scratch.reset(keys.len());

        // Fee.
        let fee = self.fee(tx);
        scratch.load(access, 0);
        let Some(payer_account) = scratch.slots.first_mut() else {
            return Err(TxError::Malformed("no fee payer"));
        };
        if !state::key_eq(&payer_account.owner, &SystemProgram::ID)
            || !payer_account.data.is_empty()
        {
            return Err(if payer_account.lamports < fee {
                TxError::InsufficientFundsForFee
            } else {
                TxError::InvalidAccountForFee
            });
        }
        if payer_account.lamports < fee {
            return Err(TxError::InsufficientFundsForFee);
        }
        payer_account.lamports -= fee;
        scratch.touched[0] = true;

        // Instructions.
        for (index, ix) in tx.instructions().iter().enumerate() {
            if let Err(error) = self.execute_instruction(access, tx, ix, scratch) {
                // Roll back: nothing was committed yet; charge the fee alone.
                access.charge_fee_only(fee);
                return Err(TxError::Instruction {
                    index: u8::try_from(index).unwrap_or(u8::MAX),
                    error,
                });
            }
        }

        // Commit.
        for (i, touched) in scratch.touched.iter().enumerate() {
            if *touched {
                if let Some(slot) = scratch.slots.get_mut(i) {
                    access.store(i, std::mem::take(slot));
                }
            }
        }
        Ok(())
    }

    fn execute_instruction(
        &self,
        access: &impl AccountAccess,
        tx: &ExecTx<'_>,
        ix: &CompiledInstruction<'_>,
        scratch: &mut Scratch,
    ) -> Result<(), InstructionError> {
        let keys = tx.keys();
        let program_id = keys
            .get(usize::from(ix.program_id_index))
            .ok_or(InstructionError::UnknownProgram)?;
        let program = self
            .registry
            .get(program_id)
            .ok_or(InstructionError::UnknownProgram)?;
        for &a in ix.accounts {
            scratch.load(access, usize::from(a));
        }
        scratch.pre.clear();
        let Scratch {
            slots,
            touched,
            pre,
            ..
        } = scratch;
        let mut ctx = InstructionContext {
            program_id,
            data: ix.data,
            accounts: ix.accounts,
            keys,
            writable: tx.writable_flags(),
            num_signers: tx.num_signers(),
            slots,
            touched,
            pre,
        };
        program.process(&mut ctx)?;
        ctx.verify()
    }
}
