//! The transaction runtime: one transaction's fee, its instructions dispatched to their
//! programs under its compute meter, then its commit, or its roll back when an
//! instruction fails. Every execution path runs transactions through
//! [`Runtime::execute_tx`], against an [`AccountAccess`].

use crate::state::{self, Account};
use crate::tx::CompiledInstruction;

use super::access::AccountAccess;
use super::compute_budget::FeeDetails;
use super::error::{InstructionError, TxError, TxResult};
use super::program::{self, InstructionContext};
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
    /// Data bytes of the accounts loaded so far.
    loaded_bytes: u64,
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
        self.loaded_bytes = 0;
    }

    fn load(&mut self, access: &impl AccountAccess, i: usize) {
        if let (Some(false), Some(slot)) = (self.loaded.get(i).copied(), self.slots.get_mut(i)) {
            *slot = access.load(i);
            self.loaded_bytes = self.loaded_bytes.saturating_add(slot.data.len() as u64);
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

    /// The fee of `tx`: its signature count times the fee per signature, plus the
    /// prioritization fee of its compute budget ([`FeeDetails`]).
    pub(super) fn fee(&self, tx: &ExecTx<'_>) -> u64 {
        FeeDetails::new(
            tx.num_signers() as u64,
            self.lamports_per_signature,
            tx.budget(),
        )
        .total()
    }

    /// The compute units `tx` is expected to consume: the sum of its instructions'
    /// [`super::Program::estimate_units`] (an unknown program: 0), at most its limit.
    pub(super) fn estimate_units(&self, tx: &ExecTx<'_>) -> u64 {
        let keys = tx.keys();
        let sum = tx.instructions().iter().fold(0u64, |sum, ix| {
            let units = keys
                .get(usize::from(ix.program_id_index))
                .and_then(|id| self.registry.get(id))
                .map_or(0, |p| p.estimate_units(ix.data));
            sum.saturating_add(units)
        });
        sum.min(u64::from(tx.budget().compute_unit_limit))
    }

    /// Executes one transaction: fee, instructions, commit or roll back. Returns its
    /// result and the compute units it consumed (0 when it did not run).
    pub(super) fn execute_tx(
        &self,
        access: &mut impl AccountAccess,
        tx: &ExecTx<'_>,
        scratch: &mut Scratch,
    ) -> (TxResult, u64) {
        let limit = u64::from(tx.budget().compute_unit_limit);
        let mut meter = limit;
        let result = self.run_tx(access, tx, scratch, &mut meter);
        (result, limit - meter.min(limit))
    }

    fn run_tx(
        &self,
        access: &mut impl AccountAccess,
        tx: &ExecTx<'_>,
        scratch: &mut Scratch,
        meter: &mut u64,
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
        let loaded_limit = u64::from(tx.budget().loaded_accounts_bytes);
        for (index, ix) in tx.instructions().iter().enumerate() {
            for &a in ix.accounts {
                scratch.load(access, usize::from(a));
            }
            // Agave loads every account before the first instruction; loading them as the
            // instructions name them gives the same verdict for the accounts they name.
            if scratch.loaded_bytes > loaded_limit {
                access.charge_fee_only(fee);
                return Err(TxError::MaxLoadedAccountsDataSizeExceeded);
            }
            if let Err(error) = self.execute_instruction(tx, ix, scratch, meter) {
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

    /// Runs one instruction whose accounts are loaded.
    fn execute_instruction(
        &self,
        tx: &ExecTx<'_>,
        ix: &CompiledInstruction<'_>,
        scratch: &mut Scratch,
        meter: &mut u64,
    ) -> Result<(), InstructionError> {
        let keys = tx.keys();
        let program_id = keys
            .get(usize::from(ix.program_id_index))
            .ok_or(InstructionError::NotEnoughAccountKeys)?;
        let program = self
            .registry
            .get(program_id)
            .ok_or(InstructionError::UnknownProgram(*program_id))?;
        program::consume(meter, program.base_units())?;
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
            meter,
            programs: self.registry,
            extra_signers: &[],
            depth: 1,
        };
        program.process(&mut ctx)?;
        ctx.verify()
    }
}
