//! Account state: the [`Account`] record, its digest, and the lock-striped
//! [`AccountsTable`] that execution workers read and write concurrently.
//!
//! This module knows nothing of transactions, signatures or GPUs: it stores accounts by
//! their 32-byte key and hashes them.
//!
//! # Digests and the state hash
//! - [`Account::digest`]: `SHA-256(pubkey || lamports (u64 LE) || owner || executable (one
//!   byte, 0 or 1) || data_len (u64 LE) || data)`.
//! - [`state_hash`]: the Merkle root ([`crate::hash::merkle::state_root`], Solana's
//!   merkle-tree rule) over the digests of a set of accounts (for a block: the accounts it
//!   modified) in ascending key order. An account missing from the table is hashed as the
//!   default account (0 lamports, system owner, no data, not executable).

mod account;
mod table;

pub use account::Account;
pub use table::{AccountsTable, DEFAULT_STRIPES, MAX_STRIPES};

use crate::{Hash, Pubkey};

/// Errors of the account-state module.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The stripe count must be a power of two between 1 and [`MAX_STRIPES`].
    #[error("stripe count {0} is not a power of two in 1..={max}", max = MAX_STRIPES)]
    InvalidStripeCount(usize),
}

/// Key equality without a `memcmp` call (inlined, branch-free: keys are compared on every
/// hash-table probe).
#[inline]
pub(crate) fn key_eq(a: &Pubkey, b: &Pubkey) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The first 8 bytes of a key as a big-endian integer (orders like the key's prefix).
#[inline]
fn key_prefix(k: &Pubkey) -> u64 {
    let mut p = [0u8; 8];
    p.copy_from_slice(&k[..8]);
    u64::from_be_bytes(p)
}

/// Byte-wise key order (the order of `[u8; 32]`), comparing an integer prefix first.
#[inline]
pub(crate) fn key_cmp(a: &Pubkey, b: &Pubkey) -> std::cmp::Ordering {
    key_prefix(a).cmp(&key_prefix(b)).then_with(|| a.cmp(b))
}

/// Sorts keys ascending (byte-wise, as `[u8; 32]` orders); large sets on rayon.
pub fn sort_keys(keys: &mut [Pubkey]) {
    use rayon::prelude::*;
    if keys.len() >= 4096 {
        keys.par_sort_unstable_by(key_cmp);
    } else {
        keys.sort_unstable_by(key_cmp);
    }
}

/// Sorts keys ascending and removes duplicates.
pub fn sort_dedup_keys(keys: &mut Vec<Pubkey>) {
    sort_keys(keys);
    keys.dedup_by(|a, b| key_eq(a, b));
}

/// The state hash of `keys` (any order, duplicates allowed): the Merkle root over the
/// digests of the accounts in ascending key order, each key counted once.
///
/// Keys are sorted and deduplicated here; digests of large sets are computed on rayon.
pub fn state_hash(table: &AccountsTable, keys: &[Pubkey]) -> Hash {
    let mut sorted = keys.to_vec();
    sort_dedup_keys(&mut sorted);
    state_hash_sorted(table, &sorted)
}

/// [`state_hash`] for keys already sorted ascending and free of duplicates
/// (precondition; not checked).
pub fn state_hash_sorted(table: &AccountsTable, sorted_keys: &[Pubkey]) -> Hash {
    use rayon::prelude::*;
    const PAR_MIN: usize = 4096;
    let digest = |key: &Pubkey| {
        table
            .with_account(key, |a| a.map(|a| a.digest(key)))
            .unwrap_or_else(|| Account::default().digest(key))
    };
    let digests: Vec<Hash> = if sorted_keys.len() >= PAR_MIN {
        sorted_keys.par_iter().map(digest).collect()
    } else {
        sorted_keys.iter().map(digest).collect()
    };
    crate::hash::merkle::state_root(&digests)
}

/// The state hash of every account in the table, in key order.
pub fn full_state_hash(table: &AccountsTable) -> Hash {
    state_hash_sorted(table, &table.sorted_keys())
}
