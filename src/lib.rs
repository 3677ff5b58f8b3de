//! # txpipe
//!
//! A GPU-accelerated transaction validation pipeline for blockchain validators:
//! parse Solana wire-format transactions, drop duplicates, verify ed25519 signatures
//! (GPU through wgpu, or CPU through ed25519-dalek), schedule conflict-free batches,
//! execute them in parallel against a lock-striped account table, and commit.
//!
//! The stages, one module each, in pipeline order:
//! - [`tx`]: wire format (zero-copy parse, build and sign, access sets);
//! - [`sigverify`]: the [`sigverify::SigVerifier`] trait with its CPU and GPU backends
//!   side by side, and [`sigverify::BackendVerifier`] routing between them;
//! - [`schedule`]: conflict-free batches of a block from its access sets;
//! - [`execute`]: the `Program` trait, System program, fees, the executor;
//! - [`state`]: accounts, the lock-striped [`state::AccountsTable`], account digests and
//!   state hash;
//! - [`hash`]: batch SHA-256 (CPU and GPU backends), Merkle roots, proof-of-history entries;
//! - [`pipeline`]: the stages on threads joined by bounded channels, dedup, metrics,
//!   commit, and the single-threaded reference run.
//!
//! Beside them: [`backend`] (the `auto|cpu|gpu` choice and fall-back rule shared by
//! signature verification and hashing), [`gpu`] (the device layer: adapter, device, pipeline
//! cache, buffers, submission and read-back; it imports none of the modules above) and
//! [`error`] (helpers shared by every error type).
//!
//! # Cargo features
//! - `cli` (default): the `txpipe` command line; turns on `test-support`.
//! - `test-support`: workload and adversarial generators, test-vector loaders, the line
//!   readers and decoders of the command line's inputs (`lines`) and the GPU kernels'
//!   building-block entry points, for tests, benchmarks and fuzzing. A validator
//!   that links txpipe with `default-features = false` does not get them.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod tx;

pub mod sigverify;

pub mod schedule;

pub mod execute;

pub mod state;

pub mod hash;

pub mod pipeline;

pub mod backend;
pub mod error;
pub mod gpu;

#[cfg(feature = "test-support")]
pub mod lines;
#[cfg(feature = "test-support")]
pub mod testing;

/// A 32-byte public key (compressed Edwards point), as on the wire.
pub type Pubkey = [u8; 32];
/// A 64-byte ed25519 signature (`R || s`), as on the wire.
pub type Signature = [u8; 64];
/// A 32-byte hash (SHA-256 digest, blockhash).
pub type Hash = [u8; 32];
