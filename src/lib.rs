//! # txpipe
//!
//! A GPU-accelerated transaction validation pipeline for blockchain validators:
//! parse Solana wire-format transactions, drop duplicates, verify ed25519 signatures
//! (GPU through wgpu, or CPU through ed25519-dalek), schedule conflict-free batches,
//! execute them in parallel against a lock-striped account table, and commit.
//!
//! The stages, one module each:
//! - [`tx`]: wire format (zero-copy parse, build and sign, access sets);
//! - [`sigverify`]: the [`sigverify::SigVerifier`] trait, the exact CPU backend, backend choice;
//! - [`hash`]: batch SHA-256 (transaction digests), Merkle roots, proof-of-history entries;
//! - [`gpu`]: every wgpu call (device, pipelines, buffers, dispatch);
//! - [`state`]: accounts, the lock-striped [`state::AccountsTable`], account digests and state hash;
//! - [`schedule`]: conflict-free batches of a block from its access sets;
//! - [`execute`]: the `Program` trait, System program, fees, sequential and parallel executors;
//! - [`pipeline`]: the stages on threads joined by bounded channels, dedup, metrics, commit;
//!   the single-threaded reference run and the benchmark workload generator;
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod execute;
pub mod gpu;
pub mod hash;
pub mod pipeline;
pub mod schedule;
pub mod sigverify;
pub mod state;
pub mod testing;
pub mod tx;

/// A 32-byte public key (compressed Edwards point), as on the wire.
pub type Pubkey = [u8; 32];
/// A 64-byte ed25519 signature (`R || s`), as on the wire.
pub type Signature = [u8; 64];
/// A 32-byte hash (SHA-256 digest, blockhash).
pub type Hash = [u8; 32];
