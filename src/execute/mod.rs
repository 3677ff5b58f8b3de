//! Execution: programs, fees, and the sequential and parallel block executors.
//!
//! - [`ExecTx`]: a transaction ready to execute (resolved keys, access flags, compiled
//!   instructions); built from a parsed [`crate::tx::TransactionView`]. Signatures are not
//!   looked at: verification is the previous stage.
//! - [`Program`]: the trait a program implements; it sees the instruction data and an
//!   [`InstructionContext`] over the instruction's accounts, may change only accounts
//!   declared writable, and is held to the runtime rules listed on [`InstructionContext`].
//!   A [`ProgramRegistry`] maps program ids to programs; [`SystemProgram`] and
//!   [`ComputeBudgetProgram`] are built in, and so are the native SPL programs
//!   ([`TokenProgram`] in `token`, [`AssociatedTokenProgram`], [`MemoProgram`] v1 and v2);
//!   a program may call another ([`InstructionContext::invoke_signed`]); [`WorkProgram`] (a metered SHA-256 loop for
//!   benchmarks) is registered by those who want it ([`WorkProgram::registry`]).
//! - Compute units: every transaction runs under a compute meter holding its compute
//!   budget's limit ([`ComputeBudgetLimits`], read from its ComputeBudget instructions by
//!   Agave's rules, see `compute_budget`); each instruction consumes its program's
//!   [`Program::base_units`] and whatever the program consumes
//!   ([`InstructionContext::consume_units`]); running out fails the transaction with the
//!   fee charged. [`BlockOutcome::compute_units`] reports what each transaction consumed.
//! - [`Executor`]: fees, then instructions, for each transaction of a block; either
//!   sequentially ([`Executor::execute_sequential`], the reference) or, with the
//!   `test-support` feature, batch by batch from a [`crate::schedule::Schedule`] on rayon
//!   workers (`Executor::execute_parallel`, a second parallel strategy for tests to
//!   compare). Both give the same per-transaction results and the same state.
//!   [`Executor::execute_block`] chooses: sequential on one thread or when a contention
//!   probe finds the block too contended to gain from workers; otherwise whichever of
//!   sequential and windowed parallel execution it has measured faster (window by window
//!   against working copies of the window's accounts, each transaction run by a worker as
//!   soon as the earlier ones it conflicts with have finished).
//! - [`workload`]: generated blocks (the p2p transfer workload) for benchmarks.
//!
//! # Fees and failures
//! - The fee is `lamports_per_signature` (default 5000) per required signature plus the
//!   prioritization fee, ceil(compute-unit price in micro-lamports × compute-unit limit /
//!   1,000,000) ([`FeeDetails`]), taken from the fee payer (key 0) before any instruction
//!   runs. The payer must be a System-owned
//!   account without data ([`TxError::InvalidAccountForFee`]) holding at least the fee
//!   ([`TxError::InsufficientFundsForFee`]); otherwise the transaction is dropped with no
//!   state change and no fee.
//! - A transaction whose compute budget is invalid (bad ComputeBudget data, a duplicate
//!   ComputeBudget instruction, an invalid heap frame or loaded-data limit) is not
//!   executed and pays no fee, as in Agave.
//! - If an instruction fails (compute units exhausted included), every change of the
//!   transaction is rolled back; the fee stays paid ([`TxError::Instruction`] names the
//!   instruction). So it does when the accounts its instructions name hold more data
//!   than its loaded-accounts limit ([`TxError::MaxLoadedAccountsDataSizeExceeded`]).
//! - Fees are **burnt** by default; with [`ExecConfig::fee_collector`] set, the block's
//!   fees are credited to that account once, after the last transaction (so the collector
//!   is no hot account during the block). Conservation: lamports before the block =
//!   lamports after + [`BlockOutcome::fees_burnt`].
//! - Rent is not modelled: any balance, including 0, is allowed; a zero-lamport account
//!   stays in the table.
//!
//! # What a block modifies
//! The fee payer of every transaction that paid its fee, and for a successful transaction
//! every account an instruction borrowed mutably ([`InstructionContext::account_mut`]),
//! plus the fee collector when it was credited. [`BlockOutcome::state_hash`] hashes these
//! accounts ([`crate::state::state_hash`]).
//!
//! # Layout
//! `access` (where a transaction's accounts are read and committed), `compute_budget`
//! (ComputeBudget instructions, limits, fees), `runtime` (one transaction: fee, compute
//! meter, instruction dispatch, commit or roll back), `work` (the work program), `path_choice` (the
//! measured choice and the contention probe), `working_set` and `window` (the windowed
//! parallel path: the working copies, and the runner over them), `executor` (the
//! [`Executor`] tying them), `level_batches` (the level-batch strategy, `test-support`
//! only).

mod access;
mod associated_token;
mod compute_budget;
mod error;
mod executor;
#[cfg(any(test, feature = "test-support"))]
mod level_batches;
mod memo;
mod path_choice;
pub mod pda;
mod program;
mod registry;
pub mod rent;
mod runtime;
mod system;
pub mod token;
mod transaction;
mod window;
mod work;
mod working_set;
#[cfg(feature = "test-support")]
pub mod workload;

pub use associated_token::{
    associated_token_address, AssociatedTokenProgram, ASSOCIATED_TOKEN_PROGRAM_ID,
};
pub use compute_budget::{
    prioritization_fee, ComputeBudgetInstruction, ComputeBudgetLimits, ComputeBudgetProgram,
    FeeDetails, COMPUTE_BUDGET_PROGRAM_ID, DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT,
    MAX_COMPUTE_UNIT_LIMIT, MAX_HEAP_FRAME_BYTES, MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES,
    MICRO_LAMPORTS_PER_LAMPORT, MIN_HEAP_FRAME_BYTES,
};
pub use error::{BlockError, InstructionError, TxError, TxResult};
pub use executor::{
    BlockOutcome, ExecConfig, Executor, DEFAULT_MIN_PARALLEL_BATCH, DEFAULT_WINDOW,
};
pub use memo::{MemoProgram, MEMO_PROGRAM_ID, MEMO_V1_PROGRAM_ID};
pub use path_choice::{ExecPath, PROBE_TXS};
pub use program::{InstructionContext, Program, INVOKE_UNITS, MAX_INVOKE_DEPTH};
pub use registry::ProgramRegistry;
pub use system::{SystemProgram, MAX_PERMITTED_DATA_LENGTH};
pub use token::{TokenProgram, TOKEN_PROGRAM_ID};
pub use transaction::ExecTx;
pub use window::ExecPhases;
pub use work::WorkProgram;
pub use working_set::window_part;
