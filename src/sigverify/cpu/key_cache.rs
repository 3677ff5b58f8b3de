//! A bounded cache of decoded public keys, shared by the rayon workers.
//!
//! Decoding a public key (decompression: one field exponentiation, then the small-order
//! check) costs about a fifth of a verification; validators see the same signers again and
//! again, so each key is decoded once and kept. The cache never grows past its capacity
//! whatever the traffic: hostile traffic with fresh keys only evicts (clock replacement per
//! shard, so a hot key survives a scan of cold ones). Shards are picked by a seeded hash, so
//! the rayon workers rarely meet on a lock; a miss decodes outside the lock.
//!
//! What is cached is the decoding's outcome, never a verdict: the decoded point (negated,
//! as the verification equation uses it) and whether the encoding was canonical, or the
//! fact that the key cannot verify anything under either rule (it does not decode, or it
//! has small order).

use std::hash::BuildHasher;
use std::sync::Mutex;

use curve25519::edwards::{CompressedEdwardsY, EdwardsPoint};
use hashbrown::HashTable;

/// Keys kept by a cache made with [`KeyCache::default`]: 64k keys, about 13 MiB.
pub(crate) const DEFAULT_CAPACITY: usize = 1 << 16;

const SHARDS: usize = 64;

/// A public key after decoding.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DecodedKey {
    /// The key decodes to a point that is not of small order.
    Usable {
        /// −A, the negated point.
        minus_a: EdwardsPoint,
        /// The bytes are the point's canonical encoding (`compress(decompress(b)) == b`).
        canonical: bool,
    },
    /// The key does not decode, or decodes to a point of small order: no signature under
    /// it is valid under either rule.
    Unusable,
}

impl DecodedKey {
    /// Decodes `bytes` (the work a cache hit saves).
    pub(crate) fn decode(bytes: &[u8; 32]) -> DecodedKey {
        match CompressedEdwardsY(*bytes).decompress() {
            Some(a) if !a.is_small_order() => DecodedKey::Usable {
                minus_a: -a,
                canonical: is_canonical_encoding(bytes),
            },
            _ => DecodedKey::Unusable,
        }
    }
}

/// Whether the encoding of a point that decompresses and is **not of small order** is
/// canonical, i.e. `compress(decompress(bytes)) == bytes`, without the field inversion that
/// compressing costs.
///
/// Proof. `decompress` reads y as the 255 low bits reduced mod p and takes the sign of x
/// from the top bit; `compress` writes y reduced (so < p) and the sign bit of x (its low
/// bit). So the round trip gives back the same bytes iff (a) the 255-bit y is < p, and
/// (b) the sign bit written equals the one read. Decompression negates the non-negative
/// square root when the sign bit is set, so the decoded x has the requested sign unless
/// x = 0, where −0 = 0 and a set sign bit is lost. x = 0 only for y = ±1: the identity and
/// the point of order 2, both of small order and excluded by the precondition. So for the
/// points this is asked about, canonical ⟺ y < p, which is what this checks.
pub(crate) fn is_canonical_encoding(bytes: &[u8; 32]) -> bool {
    // y >= p = 2^255 - 19 iff the low 255 bits are 0x7fff…ffed..=0x7fff…ffff
    let top_ones = bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff);
    !(top_ones && bytes[0] >= 0xed)
}

struct Slot {
    key: [u8; 32],
    value: DecodedKey,
    referenced: bool,
}

#[derive(Default)]
struct Shard {
    /// Indices into `slots`, by key.
    index: HashTable<usize>,
    slots: Vec<Slot>,
    /// The clock hand: the next slot considered for eviction.
    hand: usize,
}

/// The bounded, sharded cache of decoded keys.
pub(crate) struct KeyCache {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    hasher: foldhash::fast::RandomState,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("capacity", &(self.per_shard * SHARDS))
            .finish_non_exhaustive()
    }
}

impl KeyCache {
    /// A cache holding at most `capacity` keys (rounded up to a multiple of the shard count;
    /// at least one key per shard).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// Keys held now (at most the capacity).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|s| s.slots.len()).unwrap_or(0))
            .sum()
    }

    /// The decoded key, from the cache or decoded now (and then kept).
    pub(crate) fn get(&self, key: &[u8; 32]) -> DecodedKey {
        let hash = self.hasher.hash_one(key);
        // the high bits pick the shard, the table uses the low ones
        let shard = &self.shards[(hash >> 58) as usize % SHARDS];
        {
            // a poisoned shard (a panic elsewhere while holding it) only costs a decode
            let Ok(mut s) = shard.lock() else {
                return DecodedKey::decode(key);
            };
            let s = &mut *s;
            if let Some(&i) = s.index.find(hash, |&i| s.slots[i].key == *key) {
                s.slots[i].referenced = true;
                return s.slots[i].value;
            }
        }
        let value = DecodedKey::decode(key);
        if let Ok(mut s) = shard.lock() {
            self.insert(&mut s, hash, *key, value);
        }
        value
    }

    fn insert(&self, s: &mut Shard, hash: u64, key: [u8; 32], value: DecodedKey) {
        if s.index.find(hash, |&i| s.slots[i].key == key).is_some() {
            // another worker decoded it meanwhile
            return;
        }
        let hasher = &self.hasher;
        let slot = if s.slots.len() < self.per_shard {
            s.slots.push(Slot {
                key,
                value,
                referenced: false,
            });
            s.slots.len() - 1
        } else {
            // clock: skip (and clear) recently used slots; at most one full turn
            let victim = loop {
                let h = s.hand;
                s.hand = (h + 1) % s.slots.len();
                if !std::mem::replace(&mut s.slots[h].referenced, false) {
                    break h;
                }
            };
            let old = s.slots[victim].key;
            let old_hash = hasher.hash_one(old);
            if let Ok(entry) = s.index.find_entry(old_hash, |&i| i == victim) {
                entry.remove();
            }
            s.slots[victim] = Slot {
                key,
                value,
                referenced: false,
            };
            victim
        };
        let slots = &s.slots;
        s.index
            .insert_unique(hash, slot, |&i| hasher.hash_one(slots[i].key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519::constants::ED25519_BASEPOINT_POINT;
    use curve25519::Scalar;

    fn key(n: u64) -> [u8; 32] {
        (ED25519_BASEPOINT_POINT * Scalar::from(n + 1))
            .compress()
            .to_bytes()
    }

    #[test]
    fn the_cache_stays_within_capacity_and_keeps_answering_right() {
        let cache = KeyCache::with_capacity(128);
        for round in 0..3 {
            for n in 0..1000 {
                let k = key(n);
                let DecodedKey::Usable { minus_a, canonical } = cache.get(&k) else {
                    panic!("round {round} key {n} is usable");
                };
                assert!(canonical);
                assert_eq!((-minus_a).compress().to_bytes(), k);
                assert!(cache.len() <= 128, "{} keys held", cache.len());
            }
        }
        // a hot key survives a scan of cold ones
        let hot = key(5000);
        cache.get(&hot);
        for n in 0..64 {
            cache.get(&hot);
            cache.get(&key(10_000 + n));
        }
        assert!(cache.len() <= 128);
    }

    #[test]
    fn unusable_keys_are_remembered_as_unusable() {
        let cache = KeyCache::with_capacity(64);
        // y = 2 is not on the curve; the identity has small order
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        let mut identity = [0u8; 32];
        identity[0] = 1;
        for k in [off_curve, identity, identity, off_curve] {
            assert!(matches!(cache.get(&k), DecodedKey::Unusable));
        }
    }

    #[test]
    fn canonical_encoding_check_matches_the_round_trip() {
        // every y in p-5..p+19 region with both sign bits, and random points
        let mut checked = 0;
        for low in 0xd0u8..=0xff {
            for sign in [0u8, 0x80] {
                let mut b = [0xffu8; 32];
                b[0] = low;
                b[31] = 0x7f | sign;
                if let Some(p) = CompressedEdwardsY(b).decompress() {
                    if !p.is_small_order() {
                        assert_eq!(is_canonical_encoding(&b), p.compress().to_bytes() == b);
                        checked += 1;
                    }
                }
                // small y, non-canonical y + p, for y < 19
                let mut small = [0u8; 32];
                small[0] = low.wrapping_sub(0xd0);
                small[31] = sign;
                if let Some(p) = CompressedEdwardsY(small).decompress() {
                    if !p.is_small_order() {
                        assert_eq!(
                            is_canonical_encoding(&small),
                            p.compress().to_bytes() == small
                        );
                        checked += 1;
                    }
                }
            }
        }
        for n in 0..200 {
            let k = key(n);
            assert!(is_canonical_encoding(&k));
            checked += 1;
        }
        assert!(checked > 200, "{checked}");
    }
}
