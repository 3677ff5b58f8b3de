//! A transaction ready to execute.

use crate::schedule::AccessSet;
use crate::tx::{AddressResolver, CompiledInstruction, ResolveError, TransactionView};
use crate::Pubkey;

use super::compute_budget::ComputeBudgetLimits;
use super::error::TxError;

/// A transaction with its full key list resolved: what the executor runs and what the
/// scheduler reads (through [`AccessSet`]). Borrows the instructions from the packet.
///
/// Its compute budget ([`ExecTx::budget`]) is read from its ComputeBudget instructions when
/// it is prepared, as Agave does at sanitization.
///
/// A transaction that could not be prepared (lookups without resolver, a failed lookup,
/// an invalid compute budget) is still an `ExecTx`, so that block indexes stay aligned: it
/// touches nothing and executes to its [`ExecTx::prepare_error`], paying no fee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecTx<'a> {
    keys: Vec<Pubkey>,
    writable: Vec<bool>,
    num_signers: usize,
    instructions: Vec<CompiledInstruction<'a>>,
    budget: ComputeBudgetLimits,
    prepare_error: Option<TxError>,
}

impl<'a> ExecTx<'a> {
    /// Prepares a parsed transaction, resolving its address-table lookups with `resolver`.
    ///
    /// Never fails: a transaction whose keys cannot be resolved carries
    /// [`TxError::NeedsAddressResolver`] or [`TxError::AddressResolution`] as its
    /// [`ExecTx::prepare_error`].
    pub fn from_view(view: &TransactionView<'a>, resolver: Option<&dyn AddressResolver>) -> Self {
        match view.account_keys(resolver) {
            Ok(keys) => Self::with_budget(
                keys.keys,
                keys.writable,
                keys.num_signers,
                view.instructions().to_vec(),
            ),
            Err(e) => Self::unexecutable(match e {
                ResolveError::NoResolver => TxError::NeedsAddressResolver,
                e => TxError::AddressResolution(e),
            }),
        }
    }

    /// A transaction from its parts (for callers that do not start from a packet).
    ///
    /// # Errors
    /// [`TxError::Malformed`] unless: `keys` and `writable` have the same length,
    /// `1 <= num_signers <= keys.len()`, key 0 (the fee payer) is writable, no key appears
    /// twice, and every instruction index is in range with a program index other than 0.
    /// (An invalid compute budget is no error here: the transaction is built and executes
    /// to it, as a parsed one does.)
    pub fn new(
        keys: Vec<Pubkey>,
        writable: Vec<bool>,
        num_signers: usize,
        instructions: Vec<CompiledInstruction<'a>>,
    ) -> Result<Self, TxError> {
        if keys.len() != writable.len() {
            return Err(TxError::Malformed(
                "keys and writable flags differ in length",
            ));
        }
        if num_signers == 0 || num_signers > keys.len() {
            return Err(TxError::Malformed("signer count out of range"));
        }
        if !writable.first().copied().unwrap_or(false) {
            return Err(TxError::Malformed("fee payer is not writable"));
        }
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(TxError::Malformed("a key appears twice"));
        }
        for ix in &instructions {
            let p = usize::from(ix.program_id_index);
            if p == 0 || p >= keys.len() {
                return Err(TxError::Malformed("program index out of range"));
            }
            if ix.accounts.iter().any(|&a| usize::from(a) >= keys.len()) {
                return Err(TxError::Malformed("account index out of range"));
            }
        }
        Ok(Self::with_budget(keys, writable, num_signers, instructions))
    }

    /// A transaction with its compute budget read from its instructions (unexecutable
    /// when the budget is invalid).
    fn with_budget(
        keys: Vec<Pubkey>,
        writable: Vec<bool>,
        num_signers: usize,
        instructions: Vec<CompiledInstruction<'a>>,
    ) -> Self {
        const NO_PROGRAM: Pubkey = [0xff; 32];
        let budget = ComputeBudgetLimits::from_instructions(instructions.iter().map(|ix| {
            let program = keys
                .get(usize::from(ix.program_id_index))
                .unwrap_or(&NO_PROGRAM);
            (program, ix.data)
        }));
        match budget {
            Ok(budget) => Self {
                keys,
                writable,
                num_signers,
                instructions,
                budget,
                prepare_error: None,
            },
            Err(e) => Self::unexecutable(e),
        }
    }

    /// A transaction that executes to `error` and touches nothing.
    pub fn unexecutable(error: TxError) -> Self {
        Self {
            keys: Vec::new(),
            writable: Vec::new(),
            num_signers: 0,
            instructions: Vec::new(),
            budget: ComputeBudgetLimits::for_instructions(0),
            prepare_error: Some(error),
        }
    }

    /// Every loaded key: static keys, then lookups' writable keys, then read-only ones.
    pub fn keys(&self) -> &[Pubkey] {
        &self.keys
    }

    /// Whether key `i` may be written (false past the end).
    pub fn is_writable(&self, i: usize) -> bool {
        self.writable.get(i).copied().unwrap_or(false)
    }

    /// The writable flag of every key.
    pub fn writable_flags(&self) -> &[bool] {
        &self.writable
    }

    /// Whether key `i` signed the transaction.
    pub fn is_signer(&self, i: usize) -> bool {
        i < self.num_signers
    }

    /// Number of signers (= signatures, which is what the fee counts).
    pub fn num_signers(&self) -> usize {
        self.num_signers
    }

    /// The compiled instructions.
    pub fn instructions(&self) -> &[CompiledInstruction<'a>] {
        &self.instructions
    }

    /// Its compute budget: limit, price, heap, loaded data size.
    pub fn budget(&self) -> &ComputeBudgetLimits {
        &self.budget
    }

    /// Why this transaction cannot execute, if it cannot.
    pub fn prepare_error(&self) -> Option<&TxError> {
        self.prepare_error.as_ref()
    }
}

/// Every loaded key with its writable flag (program ids included, read-only). An
/// unexecutable transaction touches nothing.
impl AccessSet for ExecTx<'_> {
    type Key = Pubkey;

    fn for_each_access(&self, mut f: impl FnMut(Pubkey, bool)) {
        for (k, &w) in self.keys.iter().zip(&self.writable) {
            f(*k, w);
        }
    }
}
