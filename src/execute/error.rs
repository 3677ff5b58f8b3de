//! Per-transaction and per-instruction errors.

use crate::tx::ResolveError;

/// The result of one transaction.
pub type TxResult = Result<(), TxError>;

/// Why a transaction did not succeed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The fee payer holds less than the fee: dropped, no state change, no fee.
    #[error("fee payer cannot pay the fee")]
    InsufficientFundsForFee,
    /// The fee payer is not a System-owned account without data: dropped, no fee.
    #[error("fee payer is not a System account without data")]
    InvalidAccountForFee,
    /// The transaction uses address-table lookups and no resolver was given: not executed.
    #[error("transaction uses address lookup tables and no resolver was given")]
    NeedsAddressResolver,
    /// The lookups could not be resolved (unknown table, index, a key loaded twice): not
    /// executed.
    #[error("address lookup failed: {0}")]
    AddressResolution(ResolveError),
    /// The transaction's shape is inconsistent (only for hand-built [`super::ExecTx`]; the
    /// parser already rejects such packets): not executed.
    #[error("malformed transaction: {0}")]
    Malformed(&'static str),
    /// ComputeBudget instruction `index` has data that does not decode, or requests an
    /// invalid heap frame: not executed, no fee (Agave:
    /// `TransactionError::InstructionError(index, InvalidInstructionData)`, raised while
    /// validating the fee payer, before any charge).
    #[error("compute budget instruction {index}: invalid instruction data")]
    InvalidComputeBudgetData {
        /// Index of the instruction in the transaction.
        index: u8,
    },
    /// ComputeBudget instruction `index` repeats a kind already set: not executed, no fee
    /// (Agave: `TransactionError::DuplicateInstruction(index)`).
    #[error("transaction contains a duplicate instruction ({0}) that is not allowed")]
    DuplicateInstruction(u8),
    /// `SetLoadedAccountsDataSizeLimit(0)`: not executed, no fee (Agave:
    /// `TransactionError::InvalidLoadedAccountsDataSizeLimit`).
    #[error("loaded accounts data size limit requested is invalid")]
    InvalidLoadedAccountsDataSizeLimit,
    /// The accounts the transaction loaded hold more data than its compute budget's
    /// loaded-accounts limit: rolled back, the fee stays paid (Agave:
    /// `TransactionError::MaxLoadedAccountsDataSizeExceeded`, a fee-only transaction).
    #[error("transaction loaded more account data than its limit")]
    MaxLoadedAccountsDataSizeExceeded,
    /// Instruction `index` failed: every change rolled back, the fee stays paid.
    #[error("instruction {index} failed: {error}")]
    Instruction {
        /// Index of the failed instruction in the transaction.
        index: u8,
        /// What went wrong.
        error: InstructionError,
    },
}

impl TxError {
    /// Whether the fee was charged (the transaction was executed and an instruction
    /// failed, or it loaded more account data than its limit).
    pub fn fee_charged(&self) -> bool {
        matches!(
            self,
            TxError::Instruction { .. } | TxError::MaxLoadedAccountsDataSizeExceeded
        )
    }

    /// The instruction error, when an instruction failed.
    pub fn instruction_error(&self) -> Option<&InstructionError> {
        match self {
            TxError::Instruction { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Why an instruction failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InstructionError {
    /// No program is registered under this program id (the instruction's, or a
    /// cross-program invocation's callee): txpipe does not support it. Its text names the
    /// id in base58.
    #[error("unsupported program {}", crate::tx::base58::encode(.0))]
    UnknownProgram(crate::Pubkey),
    /// The instruction data could not be decoded (too short, unknown discriminant).
    #[error("invalid instruction data")]
    InvalidInstructionData,
    /// Fewer accounts than the instruction needs.
    #[error("not enough account keys")]
    NotEnoughAccountKeys,
    /// An account that must sign did not.
    #[error("missing required signature")]
    MissingRequiredSignature,
    /// A write to an account not declared writable.
    #[error("account not writable")]
    AccountNotWritable,
    /// Not enough lamports for the operation.
    #[error("insufficient funds")]
    InsufficientFunds,
    /// CreateAccount target already holds lamports, data, or another owner.
    #[error("account already in use")]
    AccountAlreadyInUse,
    /// Requested data length over [`super::MAX_PERMITTED_DATA_LENGTH`].
    #[error("invalid account data length")]
    InvalidAccountDataLength,
    /// An argument is invalid (e.g. transfer from an account that carries data).
    #[error("invalid argument")]
    InvalidArgument,
    /// A lamport balance would overflow.
    #[error("arithmetic overflow")]
    ArithmeticOverflow,
    /// The program debited an account it does not own.
    #[error("program spent lamports of an account it does not own")]
    ExternalAccountLamportSpend,
    /// The program changed the data of an account it does not own.
    #[error("program modified data of an account it does not own")]
    ExternalAccountDataModified,
    /// The program changed the owner of an account it does not own.
    #[error("program changed the owner of an account it does not own")]
    ModifiedProgramId,
    /// The program changed the executable flag.
    #[error("program changed an executable flag")]
    ExecutableModified,
    /// The instruction's accounts hold a different lamport total after it than before.
    #[error("sum of account balances changed")]
    UnbalancedInstruction,
    /// The transaction's compute units ran out (its compute budget's limit): the units
    /// consumed are the limit.
    #[error("computational budget exceeded")]
    ComputationalBudgetExceeded,
    /// The account's data is not what the program expects (length, layout).
    #[error("invalid account data")]
    InvalidAccountData,
    /// An account is not owned by the program that must own it (Agave:
    /// `ProgramError::IncorrectProgramId`).
    #[error("incorrect program id for account")]
    IncorrectProgramId,
    /// An account a program reads is not initialized (Agave:
    /// `ProgramError::UninitializedAccount`).
    #[error("uninitialized account")]
    UninitializedAccount,
    /// An address does not match its program-derived address seeds (Agave:
    /// `ProgramError::InvalidSeeds`).
    #[error("invalid seeds for program address")]
    InvalidSeeds,
    /// An account is owned by a program it must not be (Agave:
    /// `ProgramError::IllegalOwner`).
    #[error("account owned by an illegal program")]
    IllegalOwner,
    /// Cross-program invocations nested deeper than the runtime allows (Agave:
    /// `InstructionError::CallDepth`).
    #[error("cross-program invocation call depth too deep")]
    CallDepth,
    /// A program-defined error code.
    #[error("custom program error {0}")]
    Custom(u32),
}

/// Why a whole block could not be executed (no transaction was run).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The schedule was made for a block of another size.
    #[error("schedule covers {schedule} transactions, block has {block}")]
    ScheduleMismatch {
        /// Transactions in the schedule.
        schedule: usize,
        /// Transactions in the block.
        block: usize,
    },
}
