//! Execution: programs, fees, and the sequential and parallel block executors.
//!
//! - [`ExecTx`]: a transaction ready to execute (resolved keys, access flags, compiled
//!   instructions); built from a parsed [`crate::tx::TransactionView`]. Signatures are not
//!   looked at: verification is the previous stage.
//! - [`Program`]: the trait a program implements; it sees the instruction data and an
//!   [`InstructionContext`] over the instruction's accounts, may change only accounts
//!   declared writable, and is held to the runtime rules listed on [`InstructionContext`].
//!   A [`ProgramRegistry`] maps program ids to programs; [`SystemProgram`] is built in.
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
//! - The fee is `lamports_per_signature` (default 5000) per required signature, taken from
//!   the fee payer (key 0) before any instruction runs. The payer must be a System-owned
//!   account without data ([`TxError::InvalidAccountForFee`]) holding at least the fee
//!   ([`TxError::InsufficientFundsForFee`]); otherwise the transaction is dropped with no
//!   state change and no fee.
//! - If an instruction fails, every change of the transaction is rolled back; the fee stays
//!   paid ([`TxError::Instruction`] names the instruction).
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
//! `access` (where a transaction's accounts are read and committed), `runtime` (one
//! transaction: fee, instruction dispatch, commit or roll back), `path_choice` (the
//! measured choice and the contention probe), `working_set` and `window` (the windowed
//! parallel path: the working copies, and the runner over them), `executor` (the
//! [`Executor`] tying them), `level_batches` (the level-batch strategy, `test-support`
//! only).

mod access;
mod error;
mod executor;
#[cfg(any(test, feature = "test-support"))]
mod level_batches;
mod path_choice;
mod program;
mod registry;
mod runtime;
mod system;
mod transaction;
mod window;
mod working_set;
#[cfg(feature = "test-support")]
pub mod workload;

pub use error::{BlockError, InstructionError, TxError, TxResult};
pub use executor::{
    BlockOutcome, ExecConfig, Executor, DEFAULT_MIN_PARALLEL_BATCH, DEFAULT_WINDOW,
};
pub use path_choice::{ExecPath, PROBE_TXS};
pub use program::{InstructionContext, Program};
pub use registry::ProgramRegistry;
pub use system::{SystemProgram, MAX_PERMITTED_DATA_LENGTH};
pub use transaction::ExecTx;
pub use window::ExecPhases;
pub use working_set::window_part;
