//! Merkle roots: the tree rule of Solana's `merkle-tree` crate, and the block commitments
//! built on it.
//!
//! # The rule (exact)
//! Source: `merkle-tree/src/merkle_tree.rs` in anza-xyz/agave (`MerkleTree::new`,
//! `hash_leaf!`, `hash_intermediate!`), and `entry/src/entry.rs` (`hash_signatures`) for
//! the empty tree.
//! - leaf node for item `x` (any byte string): `SHA-256(0x00 || x)`;
//! - inner node: `SHA-256(0x01 || left || right)`;
//! - a level of odd length pairs its last node with itself (`right = left`);
//! - levels are reduced until one node is left: that node is the root (a single item's
//!   root is its leaf node `SHA-256(0x00 || x)`, not `x`);
//! - the empty tree's root is 32 zero bytes (agave's `MerkleTree::get_root` returns `None`
//!   and `hash_signatures` maps that to `Hash::default()`).
//!
//! The prefixes separate leaves from inner nodes so that no inner node can be passed off
//! as a leaf (second pre-image attack).
//!
//! # Block commitments
//! - [`transaction_root`]: the Merkle root over the block's transaction digests
//!   (`SHA-256(message)` each, in block order), each digest being a 32-byte leaf item;
//! - [`state_root`]: the Merkle root over one 32-byte digest per account the block
//!   modified, in ascending key order (the per-account digest is defined by the execution
//!   stage).

use rayon::prelude::*;

use super::{sha256v, BatchHasher, HashError};
use crate::Hash;

/// Leaf prefix byte (`SHA-256(0x00 || item)`).
pub const LEAF_PREFIX: u8 = 0;
/// Inner-node prefix byte (`SHA-256(0x01 || left || right)`).
pub const INTERMEDIATE_PREFIX: u8 = 1;
/// Root of the empty tree: 32 zero bytes.
pub const EMPTY_ROOT: Hash = [0u8; 32];

/// Levels with fewer nodes than this are hashed on the calling thread (CPU path) or on the
/// CPU (batched path).
const PARALLEL_MIN_NODES: usize = 2048;

/// The leaf node of an item: `SHA-256(0x00 || item)`.
pub fn hash_leaf(item: &[u8]) -> Hash {
    sha256v(&[&[LEAF_PREFIX], item])
}

/// An inner node: `SHA-256(0x01 || left || right)`.
pub fn hash_intermediate(left: &Hash, right: &Hash) -> Hash {
    sha256v(&[&[INTERMEDIATE_PREFIX], left, right])
}

/// Reduces one level to the next (odd last node paired with itself).
fn next_level(level: &[Hash]) -> Vec<Hash> {
    let pair = |c: &[Hash]| match c {
        [l, r] => hash_intermediate(l, r),
        [l] => hash_intermediate(l, l),
        _ => EMPTY_ROOT, // chunks(2) never yields other shapes
    };
    if level.len() >= PARALLEL_MIN_NODES {
        level.par_chunks(2).map(pair).collect()
    } else {
        level.chunks(2).map(pair).collect()
    }
}

fn reduce(mut level: Vec<Hash>) -> Hash {
    while level.len() > 1 {
        level = next_level(&level);
    }
    level.first().copied().unwrap_or(EMPTY_ROOT)
}

/// Merkle root of arbitrary byte-string items (e.g. 64-byte signatures), on the CPU.
pub fn merkle_root_of<T: AsRef<[u8]> + Sync>(items: &[T]) -> Hash {
    let leaves: Vec<Hash> = if items.len() >= PARALLEL_MIN_NODES {
        items.par_iter().map(|x| hash_leaf(x.as_ref())).collect()
    } else {
        items.iter().map(|x| hash_leaf(x.as_ref())).collect()
    };
    reduce(leaves)
}

/// Merkle root of 32-byte items (digests), on the CPU. Each item is a leaf item: it is
/// hashed as `SHA-256(0x00 || item)` first.
pub fn merkle_root(leaves: &[Hash]) -> Hash {
    merkle_root_of(leaves)
}

/// Merkle root of arbitrary items with every large level hashed as one batch through
/// `hasher` (e.g. a GPU [`BackendHasher`](super::BackendHasher)); small levels stay on the
/// CPU. Same result as [`merkle_root_of`].
///
/// # Errors
/// A backend failure of `hasher` (a `BackendHasher` falls back to the CPU instead).
pub fn merkle_root_batched<T: AsRef<[u8]> + Sync>(
    items: &[T],
    hasher: &dyn BatchHasher,
) -> Result<Hash, HashError> {
    if items.len() < PARALLEL_MIN_NODES {
        return Ok(merkle_root_of(items));
    }
    let prefixed: Vec<Vec<u8>> = items
        .par_iter()
        .map(|x| {
            let x = x.as_ref();
            let mut v = Vec::with_capacity(1 + x.len());
            v.push(LEAF_PREFIX);
            v.extend_from_slice(x);
            v
        })
        .collect();
    let refs: Vec<&[u8]> = prefixed.iter().map(Vec::as_slice).collect();
    let mut level = hasher.sha256_vec(&refs)?;
    drop(refs);
    drop(prefixed);
    while level.len() >= PARALLEL_MIN_NODES {
        let msgs: Vec<[u8; 65]> = level
            .par_chunks(2)
            .map(|c| {
                let (l, r) = match c {
                    [l, r] => (l, r),
                    [l] => (l, l),
                    _ => (&EMPTY_ROOT, &EMPTY_ROOT),
                };
                let mut m = [0u8; 65];
                m[0] = INTERMEDIATE_PREFIX;
                m[1..33].copy_from_slice(l);
                m[33..].copy_from_slice(r);
                m
            })
            .collect();
        let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        level = hasher.sha256_vec(&refs)?;
    }
    Ok(reduce(level))
}

/// The block's transaction commitment: Merkle root over its transaction digests, in block
/// order (see the module docs for the rule).
pub fn transaction_root(tx_digests: &[Hash]) -> Hash {
    merkle_root(tx_digests)
}

/// The block's state commitment: Merkle root over one digest per modified account, in
/// ascending account-key order (the caller sorts; see the module docs for the rule).
pub fn state_root(account_digests_in_key_order: &[Hash]) -> Hash {
    merkle_root(account_digests_in_key_order)
}

/// [`transaction_root`] with large levels batched through `hasher`.
///
/// # Errors
/// As [`merkle_root_batched`].
pub fn transaction_root_with(
    tx_digests: &[Hash],
    hasher: &dyn BatchHasher,
) -> Result<Hash, HashError> {
    merkle_root_batched(tx_digests, hasher)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// agave's `test_tree_from_many` golden root.
    #[test]
    fn agave_golden_root() {
        const TEST: &[&[u8]] = &[
            b"my", b"very", b"eager", b"mother", b"just", b"served", b"us", b"nine", b"pizzas",
            b"make", b"prime",
        ];
        assert_eq!(
            hex::encode(merkle_root_of(TEST)),
            "b40c847546fdceea166f927fc46c5ca33c3638236a36275c1346d3dffb84e1bc"
        );
        assert_eq!(merkle_root_of(&[b"test"]), hash_leaf(b"test"));
        assert_eq!(merkle_root(&[]), EMPTY_ROOT);
    }
}
