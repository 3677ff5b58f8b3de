//! A transaction ready to execute.

use crate::schedule::AccessSet;
use crate::tx::{AddressResolver, CompiledInstruction, ResolveError, TransactionView};
use crate::Pubkey;

use super::error::TxError;

/// A transaction with its full key list resolved: what the executor runs and what the
/// scheduler reads (through [`AccessSet`]). Borrows the instructions from the packet.
///
/// A transaction that could not be prepared (lookups without resolver, a failed lookup)
/// is still an `ExecTx`, so that block indexes stay aligned: it touches nothing and
/// executes to its [`ExecTx::prepare_error`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecTx<'a> {
    keys: Vec<Pubkey>,
    writable: Vec<bool>,
    num_signers: usize,
    instructions: Vec<CompiledInstruction<'a>>,
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
            Ok(keys) => Self {
                keys: keys.keys,
                writable: keys.writable,
                num_signers: keys.num_signers,
                instructions: view.instructions().to_vec(),
                prepare_error: None,
            },
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
        Ok(Self {
            keys,
            writable,
            num_signers,
            instructions,
            prepare_error: None,
        })
    }

    /// A transaction that executes to `error` and touches nothing.
    pub fn unexecutable(error: TxError) -> Self {
        Self {
            keys: Vec::new(),
            writable: Vec::new(),
            num_signers: 0,
            instructions: Vec::new(),
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
