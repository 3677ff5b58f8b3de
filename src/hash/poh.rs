//! Proof of history: entries and their verification.
//!
//! # The rule (exact)
//! Source: anza-xyz/agave `entry/src/entry.rs` (`next_hash_with_signatures`,
//! `hash_signatures`, `hash_transactions`, `EntryVerificationData::verify`,
//! `verify_entries_cpu_generic`) and `entry/src/poh.rs` (`Poh::hash`, `Poh::tick`,
//! `Poh::record`). From the previous entry's hash `h` (the start hash for the first entry):
//! - no transactions and `num_hashes == 0`: the expected hash is `h` itself;
//! - no transactions: apply SHA-256 `num_hashes` times to `h`;
//! - with transactions: apply SHA-256 `num_hashes - 1` times (saturating: `num_hashes == 0`
//!   behaves like 1), then `h = SHA-256(h || mixin)`, where `mixin` is the Merkle root
//!   ([`super::merkle`], Solana's rule) of all signatures of all the entry's transactions,
//!   in order, each 64-byte signature being a leaf item. An entry whose transactions carry
//!   no signature at all still mixes in: the empty tree's root, 32 zero bytes.
//!
//! The entry is valid when the result equals its `hash`. "With transactions" means the
//! transaction list is non-empty, whatever the signature count.
//!
//! Tick counts (`num_hashes` per tick against `hashes_per_tick`) are a separate check in
//! Solana (`verify_tick_hash_count`) and are not part of this module.

use rayon::prelude::*;

use super::merkle::merkle_root_of;
use super::{sha256_chain, sha256v, BatchHasher, HashError};
use crate::{Hash, Signature};

/// One proof-of-history entry: the hash count since the previous entry, the resulting hash,
/// and the entry's transactions, each given by its signatures (all that the hash depends
/// on).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// Number of hashes since the previous entry.
    pub num_hashes: u64,
    /// The hash after those `num_hashes` hashes (the last one mixing in the transactions).
    pub hash: Hash,
    /// The entry's transactions, each as its list of signatures, in order.
    pub transactions: Vec<Vec<Signature>>,
}

impl Entry {
    /// Whether the entry is a tick (no transactions).
    pub fn is_tick(&self) -> bool {
        self.transactions.is_empty()
    }

    /// Creates the entry following `prev_hash` with `num_hashes` hashes and `transactions`,
    /// like agave's `Entry::new`: with transactions, `num_hashes == 0` becomes 1.
    pub fn new(prev_hash: &Hash, num_hashes: u64, transactions: Vec<Vec<Signature>>) -> Self {
        let num_hashes = if num_hashes == 0 && !transactions.is_empty() {
            1
        } else {
            num_hashes
        };
        let hash = next_hash(prev_hash, num_hashes, &transactions);
        Self {
            num_hashes,
            hash,
            transactions,
        }
    }

    /// The mixin of this entry (see [`mixin`]); `None` for a tick.
    pub fn mixin(&self) -> Option<Hash> {
        (!self.is_tick()).then(|| mixin(&self.transactions))
    }

    /// Checks this entry against the previous hash, on the calling thread.
    pub fn verify(&self, prev_hash: &Hash) -> bool {
        next_hash(prev_hash, self.num_hashes, &self.transactions) == self.hash
    }
}

/// The mixin of a list of transactions: Merkle root of all their signatures in order
/// (agave `hash_transactions`); 32 zero bytes when there is no signature.
pub fn mixin(transactions: &[Vec<Signature>]) -> Hash {
    let sigs: Vec<&Signature> = transactions.iter().flatten().collect();
    merkle_root_of(&sigs)
}

/// The hash `num_hashes` after `prev_hash` with `transactions` mixed into the last hash
/// (agave `next_hash`); the reference rule, one entry at a time, on the calling thread.
pub fn next_hash(prev_hash: &Hash, num_hashes: u64, transactions: &[Vec<Signature>]) -> Hash {
    if transactions.is_empty() {
        sha256_chain(prev_hash, num_hashes)
    } else {
        let h = sha256_chain(prev_hash, num_hashes.saturating_sub(1));
        sha256v(&[&h, &mixin(transactions)])
    }
}

/// Verdict of every entry of a chain starting at `start`: entry `i` is checked against the
/// stored hash of entry `i - 1` (or `start`), so a bad entry does not make its successors
/// bad. Mixins are computed on the CPU (rayon); the hash chains, one per entry, go through
/// `hasher` (one GPU invocation per entry on the GPU backend).
///
/// # Errors
/// A backend failure of `hasher` (a [`BackendHasher`](super::BackendHasher) falls back to
/// the CPU instead).
pub fn entry_verdicts(
    start: &Hash,
    entries: &[Entry],
    hasher: &dyn BatchHasher,
) -> Result<Vec<bool>, HashError> {
    let mixins: Vec<Option<Hash>> = entries.par_iter().map(Entry::mixin).collect();
    let starts: Vec<Hash> = std::iter::once(start)
        .chain(entries.iter().map(|e| &e.hash))
        .take(entries.len())
        .copied()
        .collect();
    let counts: Vec<u64> = entries
        .iter()
        .map(|e| {
            if e.is_tick() {
                e.num_hashes
            } else {
                e.num_hashes.saturating_sub(1)
            }
        })
        .collect();
    let mut ends = vec![[0u8; 32]; entries.len()];
    hasher.hash_chains(&starts, &counts, &mut ends)?;
    Ok(entries
        .par_iter()
        .zip(ends.par_iter().zip(mixins.par_iter()))
        .map(|(e, (end, m))| {
            let got = match m {
                Some(m) => sha256v(&[end, m]),
                None => *end,
            };
            got == e.hash
        })
        .collect())
}

/// Verifies a chain of entries from `start`: `Ok(None)` when every entry is valid, else
/// `Ok(Some(i))` with `i` the index of the first bad entry.
///
/// # Errors
/// As [`entry_verdicts`].
pub fn verify_entries(
    start: &Hash,
    entries: &[Entry],
    hasher: &dyn BatchHasher,
) -> Result<Option<usize>, HashError> {
    Ok(entry_verdicts(start, entries, hasher)?
        .iter()
        .position(|ok| !ok))
}

/// Total SHA-256 applications needed to verify `entries` (for throughput figures).
pub fn total_hashes(entries: &[Entry]) -> u64 {
    entries.iter().fold(0u64, |acc, e| {
        let n = if e.is_tick() {
            e.num_hashes
        } else {
            e.num_hashes.max(1)
        };
        acc.saturating_add(n)
    })
}

/// Shape of a generated test chain (see [`generate_chain`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ChainSpec {
    /// Number of entries.
    pub entries: usize,
    /// `num_hashes` of every entry.
    pub hashes_per_entry: u64,
    /// Share of entries carrying transactions (0.0 to 1.0; the rest are ticks).
    pub tx_share: f64,
    /// Upper bound of transactions per transaction entry (at least 1 is used).
    pub max_txs_per_entry: usize,
    /// Upper bound of signatures per transaction (1 to this many).
    pub max_sigs_per_tx: usize,
}

impl Default for ChainSpec {
    fn default() -> Self {
        Self {
            entries: 64,
            hashes_per_entry: 100,
            tx_share: 0.25,
            max_txs_per_entry: 4,
            max_sigs_per_tx: 2,
        }
    }
}

/// A deliberate defect for test chains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breakage {
    /// One bit of the entry's hash flipped.
    FlipBit,
    /// `num_hashes` one more than the hashes actually done.
    WrongNumHashes,
    /// The mixin does not match: a signature bit flipped after hashing (or, for a tick, a
    /// transaction added after hashing).
    WrongMixin,
}

impl std::str::FromStr for Breakage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "flip-bit" => Ok(Self::FlipBit),
            "wrong-num-hashes" => Ok(Self::WrongNumHashes),
            "wrong-mixin" => Ok(Self::WrongMixin),
            other => Err(format!(
                "unknown breakage {other:?} (expected flip-bit, wrong-num-hashes or wrong-mixin)"
            )),
        }
    }
}

fn random_signature(rng: &mut impl rand::Rng) -> Signature {
    let mut s = [0u8; 64];
    rng.fill(&mut s[..]);
    s
}

/// Generates a test chain from `start`: entry `i` follows the stored hash of entry `i - 1`,
/// and the defects in `breaks` (entry index, kind) are applied as the chain is built, so
/// every listed entry is bad and every other entry is valid. Signatures are random bytes
/// (proof of history only hashes them). Indexes past the end are ignored.
pub fn generate_chain(
    start: &Hash,
    spec: &ChainSpec,
    breaks: &[(usize, Breakage)],
    rng: &mut impl rand::Rng,
) -> Vec<Entry> {
    let mut prev = *start;
    let mut out = Vec::with_capacity(spec.entries);
    for i in 0..spec.entries {
        let with_tx = spec.tx_share > 0.0 && rng.gen_bool(spec.tx_share.clamp(0.0, 1.0));
        let transactions: Vec<Vec<Signature>> = if with_tx {
            let ntx = rng.gen_range(1..=spec.max_txs_per_entry.max(1));
            (0..ntx)
                .map(|_| {
                    let nsig = rng.gen_range(1..=spec.max_sigs_per_tx.max(1));
                    (0..nsig).map(|_| random_signature(rng)).collect()
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut entry = Entry::new(&prev, spec.hashes_per_entry, transactions);
        for &(_, how) in breaks.iter().filter(|(idx, _)| *idx == i) {
            match how {
                Breakage::FlipBit => {
                    let bit = rng.gen_range(0..256usize);
                    entry.hash[bit / 8] ^= 1 << (bit % 8);
                }
                Breakage::WrongNumHashes => entry.num_hashes += 1,
                Breakage::WrongMixin => {
                    let sig = entry.transactions.iter_mut().flatten().next();
                    match sig {
                        Some(sig) => {
                            let bit = rng.gen_range(0..512usize);
                            sig[bit / 8] ^= 1 << (bit % 8);
                        }
                        None => match entry.transactions.first_mut() {
                            Some(tx) => tx.push(random_signature(rng)),
                            None => entry.transactions.push(vec![random_signature(rng)]),
                        },
                    }
                }
            }
        }
        prev = entry.hash;
        out.push(entry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{sha256, CpuHasher};

    /// agave `poh.rs` `test_poh_verify` cases, restated.
    #[test]
    fn agave_poh_cases() {
        let zero = [0u8; 32];
        let one = sha256(&zero);
        let two = sha256(&one);
        assert_eq!(next_hash(&zero, 1, &[]), one);
        assert_eq!(next_hash(&zero, 2, &[]), two);
        assert_eq!(next_hash(&zero, 0, &[]), zero);
        // A transaction without signatures mixes in the empty root (zeros).
        let one_with_zero = sha256v(&[&zero, &zero]);
        assert_eq!(next_hash(&zero, 1, &[vec![]]), one_with_zero);
        assert_eq!(next_hash(&zero, 0, &[vec![]]), one_with_zero);
        let e = Entry::new(&zero, 0, vec![vec![[7u8; 64]]]);
        assert_eq!(e.num_hashes, 1);
        assert!(e.verify(&zero));
        assert_eq!(
            verify_entries(
                &zero,
                &[e.clone(), Entry::new(&e.hash, 3, vec![])],
                &CpuHasher::new()
            )
            .ok(),
            Some(None)
        );
    }
}
