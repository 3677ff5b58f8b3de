//! The lock-striped account table.
//!
//! Keys are spread over `2^k` stripes, each a `RwLock` around a hash map; a key's stripe
//! comes from a seeded hash of the key (so that chosen keys cannot pile into one stripe
//! without knowing the seed). Each operation locks exactly one stripe for the duration of
//! one map operation, so readers and writers of different stripes never wait on each
//! other, and no lock is ever held while another is taken (no deadlock).
//!
//! Why not dashmap, scc or papaya: dashmap is this same design (shards of `RwLock` around
//! hash maps) but hashes a key twice (shard, then bucket) and has no bulk load that locks
//! each shard once; scc and papaya are lock-free designs whose advantage shows under
//! heavy write contention on one key, which the scheduler rules out (a batch never
//! writes a key twice). Own striping over `hashbrown::HashTable` takes one seeded hash
//! per operation and adds no crate to the tree (hashbrown and foldhash already come with
//! wgpu).

use std::hash::BuildHasher as _;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;
use rayon::prelude::*;

use super::{key_eq, Account, StateError};
use crate::Pubkey;

/// Stripe count of [`AccountsTable::default`].
pub const DEFAULT_STRIPES: usize = 256;
/// Largest accepted stripe count.
pub const MAX_STRIPES: usize = 1 << 16;

/// Bulk loads of at least this many accounts are spread over rayon.
const PAR_LOAD_MIN: usize = 16 * 1024;

type Stripe = HashTable<(Pubkey, Account)>;

/// One stripe under its read lock (see [`AccountsTable::read_stripe_with`]).
pub(crate) struct StripeReader<'g> {
    stripe: &'g Stripe,
}

impl StripeReader<'_> {
    /// The account at `key` (whose table hash is `hash`), if present.
    pub(crate) fn get(&self, hash: u64, key: &Pubkey) -> Option<&Account> {
        self.stripe
            .find(hash, |(k, _)| key_eq(k, key))
            .map(|(_, a)| a)
    }
}

/// One stripe under its write lock (see [`AccountsTable::write_stripe_with`]).
pub(crate) struct StripeWriter<'t, 'g> {
    table: &'t AccountsTable,
    stripe_index: usize,
    stripe: &'g mut Stripe,
}

impl StripeWriter<'_, '_> {
    /// Stores `account` at `key` (whose table hash is `hash`).
    pub(crate) fn insert(&mut self, hash: u64, key: Pubkey, account: Account) {
        debug_assert_eq!(hash, self.table.hash(&key));
        debug_assert_eq!(self.table.stripe_of_hash(hash), self.stripe_index);
        self.table.put(self.stripe, hash, key, account);
    }
}

/// A concurrent map from pubkey to [`Account`], striped over `RwLock`s.
///
/// Every method takes `&self`: the table is shared between worker threads by reference
/// (it is `Send + Sync`). A key that was never inserted reads as absent (`None`); the
/// execution stage treats an absent account as [`Account::default`].
///
/// One seeded 64-bit hash per operation: bits 32.. choose the stripe, and the stripe's
/// hash table uses the low bits (bucket) and the top 7 bits (tag), so the two uses do not
/// overlap for stripes of fewer than 2^32 buckets.
#[derive(Debug)]
pub struct AccountsTable {
    stripes: Box<[RwLock<Stripe>]>,
    mask: usize,
    hasher: KeyHasher,
}

/// The table's seeded key hash: two folded multiplies of the key's four words, each
/// XORed with a secret word, then one more to mix the halves (the construction foldhash
/// uses for a 32-byte input, without its generic `Hasher` plumbing: a key is hashed once
/// per table operation and once per access the scheduler interns, so this is hot).
/// The seed comes from foldhash's per-process random state; without it, colliding keys
/// cannot be chosen.
#[derive(Clone, Debug)]
struct KeyHasher {
    seed: [u64; 5],
}

impl KeyHasher {
    fn new() -> Self {
        let random = foldhash::fast::RandomState::default();
        Self {
            seed: std::array::from_fn(|i| random.hash_one(i as u64) | 1),
        }
    }

    #[inline]
    fn fold(a: u64, b: u64) -> u64 {
        let p = u128::from(a) * u128::from(b);
        (p as u64) ^ ((p >> 64) as u64)
    }

    #[inline]
    fn hash(&self, key: &Pubkey) -> u64 {
        let (words, _) = key.as_chunks::<8>();
        let w = |i: usize| words.get(i).map_or(0, |c| u64::from_le_bytes(*c));
        let [s0, s1, s2, s3, s4] = self.seed;
        let a = Self::fold(w(0) ^ s0, w(1) ^ s1);
        let b = Self::fold(w(2) ^ s2, w(3) ^ s3);
        Self::fold(a ^ s4, b.rotate_left(23) ^ s0)
    }
}

impl Default for AccountsTable {
    fn default() -> Self {
        Self::with_stripes(DEFAULT_STRIPES)
    }
}

impl AccountsTable {
    /// An empty table with `stripes` stripes.
    ///
    /// # Errors
    /// [`StateError::InvalidStripeCount`] unless `stripes` is a power of two in
    /// `1..=MAX_STRIPES`.
    pub fn new(stripes: usize) -> Result<Self, StateError> {
        if !stripes.is_power_of_two() || stripes > MAX_STRIPES {
            return Err(StateError::InvalidStripeCount(stripes));
        }
        Ok(Self::with_stripes(stripes))
    }

    /// Precondition: `stripes` is a power of two (checked by [`AccountsTable::new`]).
    fn with_stripes(stripes: usize) -> Self {
        let stripes: Box<[RwLock<Stripe>]> =
            (0..stripes).map(|_| RwLock::new(Stripe::new())).collect();
        let mask = stripes.len() - 1;
        Self {
            stripes,
            mask,
            hasher: KeyHasher::new(),
        }
    }

    /// Number of stripes.
    pub fn stripe_count(&self) -> usize {
        self.stripes.len()
    }

    fn hash(&self, key: &Pubkey) -> u64 {
        self.hasher.hash(key)
    }

    /// The table's seeded hash of `key`, so that a caller hashing keys anyway (the
    /// scheduler interning a window's keys) can hand the hashes to the `*_hashed` methods.
    pub fn key_hash(&self, key: &Pubkey) -> u64 {
        self.hasher.hash(key)
    }

    /// The stripe of a key whose hash by [`AccountsTable::key_hash`] is `hash`.
    pub(crate) fn stripe_of_hash(&self, hash: u64) -> usize {
        ((hash >> 32) as usize) & self.mask
    }

    /// Stores `account` at `key` (hash `hash`) in `stripe`, returning the previous account.
    fn put(
        &self,
        stripe: &mut Stripe,
        hash: u64,
        key: Pubkey,
        account: Account,
    ) -> Option<Account> {
        match stripe.entry(hash, |(k, _)| key_eq(k, &key), |(k, _)| self.hash(k)) {
            Entry::Occupied(mut o) => Some(std::mem::replace(&mut o.get_mut().1, account)),
            Entry::Vacant(v) => {
                v.insert((key, account));
                None
            }
        }
    }

    /// Looks up many keys of one stripe under a single read lock: `f` gets a reader whose
    /// [`StripeReader::get`] takes a key and its hash by [`AccountsTable::key_hash`] (each
    /// key must belong to stripe `stripe`; a key of another stripe is not found). Locking
    /// once per stripe instead of once per key lets the lookups' cache misses overlap.
    pub(crate) fn read_stripe_with<R>(
        &self,
        stripe: usize,
        f: impl FnOnce(&StripeReader<'_>) -> R,
    ) -> R {
        let guard = self.read_stripe(stripe);
        f(&StripeReader { stripe: &guard })
    }

    /// Stores many accounts of one stripe under a single write lock: `f` gets a writer
    /// whose [`StripeWriter::insert`] takes a key, its hash by [`AccountsTable::key_hash`]
    /// (each key must belong to stripe `stripe`, checked in debug builds) and the account.
    pub(crate) fn write_stripe_with<R>(
        &self,
        stripe: usize,
        f: impl FnOnce(&mut StripeWriter<'_, '_>) -> R,
    ) -> R {
        let mut guard = self.write_stripe(stripe);
        f(&mut StripeWriter {
            table: self,
            stripe_index: stripe & self.mask,
            stripe: &mut guard,
        })
    }

    /// The stripe that holds `key` (in `0..stripe_count()`).
    pub fn stripe_of(&self, key: &Pubkey) -> usize {
        self.stripe_of_hash(self.hash(key))
    }

    // A stripe is a plain table and every critical section is one table operation, so a
    // panic elsewhere cannot leave it half-updated: poisoning is ignored.
    fn read_stripe(&self, i: usize) -> RwLockReadGuard<'_, Stripe> {
        self.stripes[i & self.mask]
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write_stripe(&self, i: usize) -> RwLockWriteGuard<'_, Stripe> {
        self.stripes[i & self.mask]
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the account at `key` (or `None`) under the stripe's read lock, without
    /// copying it. `f` must not call back into the table (it would wait on itself if it
    /// wrote to the same stripe).
    pub fn with_account<R>(&self, key: &Pubkey, f: impl FnOnce(Option<&Account>) -> R) -> R {
        let h = self.hash(key);
        let stripe = self.read_stripe(self.stripe_of_hash(h));
        f(stripe.find(h, |(k, _)| key_eq(k, key)).map(|(_, a)| a))
    }

    /// A copy of the account at `key`, if present.
    pub fn get(&self, key: &Pubkey) -> Option<Account> {
        self.with_account(key, |a| a.cloned())
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &Pubkey) -> bool {
        self.with_account(key, |a| a.is_some())
    }

    /// The balance at `key` (0 when absent).
    pub fn lamports(&self, key: &Pubkey) -> u64 {
        self.with_account(key, |a| a.map_or(0, |a| a.lamports))
    }

    /// Stores `account` at `key`, returning the previous account.
    pub fn insert(&self, key: Pubkey, account: Account) -> Option<Account> {
        let h = self.hash(&key);
        let mut stripe = self.write_stripe(self.stripe_of_hash(h));
        self.put(&mut stripe, h, key, account)
    }

    /// Runs `f` on the account at `key` under the stripe's write lock, inserting the
    /// default account first when absent. `f` must not call back into the table.
    pub fn update<R>(&self, key: &Pubkey, f: impl FnOnce(&mut Account) -> R) -> R {
        let h = self.hash(key);
        let mut stripe = self.write_stripe(self.stripe_of_hash(h));
        let mut entry = match stripe.entry(h, |(k, _)| key_eq(k, key), |(k, _)| self.hash(k)) {
            Entry::Occupied(o) => o,
            Entry::Vacant(v) => v.insert((*key, Account::default())),
        };
        f(&mut entry.get_mut().1)
    }

    /// Removes and returns the account at `key`.
    pub fn remove(&self, key: &Pubkey) -> Option<Account> {
        let h = self.hash(key);
        let mut stripe = self.write_stripe(self.stripe_of_hash(h));
        let found = stripe.find_entry(h, |(k, _)| key_eq(k, key)).ok()?;
        Some(found.remove().0 .1)
    }

    /// Bulk load: inserts every `(key, account)`, replacing existing accounts (a key given
    /// twice keeps the later account). Each stripe is locked once; large loads run on
    /// rayon, one task per stripe.
    pub fn load(&self, accounts: impl IntoIterator<Item = (Pubkey, Account)>) {
        let mut buckets: Vec<Vec<(u64, Pubkey, Account)>> = vec![Vec::new(); self.stripes.len()];
        let mut total = 0usize;
        for (key, account) in accounts {
            let h = self.hash(&key);
            buckets[self.stripe_of_hash(h)].push((h, key, account));
            total += 1;
        }
        let fill = |(i, bucket): (usize, Vec<(u64, Pubkey, Account)>)| {
            if bucket.is_empty() {
                return;
            }
            let mut stripe = self.write_stripe(i);
            stripe.reserve(bucket.len(), |(k, _)| self.hash(k));
            for (h, key, account) in bucket {
                self.put(&mut stripe, h, key, account);
            }
        };
        if total >= PAR_LOAD_MIN {
            buckets.into_par_iter().enumerate().for_each(fill);
        } else {
            buckets.into_iter().enumerate().for_each(fill);
        }
    }

    /// Number of accounts (a sum over stripes, each read at a slightly different moment
    /// when writers are active).
    pub fn len(&self) -> usize {
        (0..self.stripes.len())
            .map(|i| self.read_stripe(i).len())
            .sum()
    }

    /// Whether the table holds no account.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every key, ascending.
    pub fn sorted_keys(&self) -> Vec<Pubkey> {
        let mut keys = Vec::with_capacity(self.len());
        for i in 0..self.stripes.len() {
            keys.extend(self.read_stripe(i).iter().map(|(k, _)| *k));
        }
        super::sort_keys(&mut keys);
        keys
    }

    /// A copy of every account, in ascending key order.
    pub fn snapshot(&self) -> Vec<(Pubkey, Account)> {
        let mut all = Vec::with_capacity(self.len());
        for i in 0..self.stripes.len() {
            all.extend(self.read_stripe(i).iter().cloned());
        }
        all.par_sort_unstable_by(|a, b| super::key_cmp(&a.0, &b.0));
        all
    }

    /// Sum of all balances (as `u128`, so that it cannot overflow).
    pub fn total_lamports(&self) -> u128 {
        (0..self.stripes.len())
            .map(|i| {
                self.read_stripe(i)
                    .iter()
                    .map(|(_, a)| u128::from(a.lamports))
                    .sum::<u128>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> Pubkey {
        let mut k = [0u8; 32];
        k[..4].copy_from_slice(&i.to_le_bytes());
        k[31] = 0xAA;
        k
    }

    #[test]
    fn stripe_counts() {
        assert!(AccountsTable::new(0).is_err());
        assert!(AccountsTable::new(3).is_err());
        assert!(AccountsTable::new(MAX_STRIPES * 2).is_err());
        for s in [1, 2, 64, 1024] {
            let t = AccountsTable::new(s).expect("power of two");
            assert_eq!(t.stripe_count(), s);
            assert!((0..1000).all(|i| t.stripe_of(&key(i)) < s));
        }
    }

    #[test]
    fn keys_spread_over_stripes() {
        let t = AccountsTable::new(64).expect("power of two");
        let mut used = [false; 64];
        for i in 0..4096 {
            used[t.stripe_of(&key(i))] = true;
        }
        assert!(used.iter().all(|&u| u));
    }

    #[test]
    fn insert_get_update_load_sorted() {
        let t = AccountsTable::new(4).expect("power of two");
        assert!(t.is_empty());
        t.load(
            (0..100)
                .rev()
                .map(|i| (key(i), Account::new(u64::from(i), [1; 32]))),
        );
        assert_eq!(t.len(), 100);
        assert_eq!(t.lamports(&key(7)), 7);
        assert_eq!(t.lamports(&key(1000)), 0);
        t.update(&key(7), |a| a.lamports += 1);
        t.update(&key(1000), |a| a.lamports = 5);
        assert_eq!(t.get(&key(7)).map(|a| a.lamports), Some(8));
        assert_eq!(t.get(&key(1000)), Some(Account::new(5, [0; 32])));
        assert_eq!(t.total_lamports(), (0..100u128).sum::<u128>() + 1 + 5);
        let keys = t.sorted_keys();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        let snap = t.snapshot();
        assert_eq!(snap.len(), 101);
        assert!(snap.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(t.remove(&key(1000)).map(|a| a.lamports), Some(5));
        assert!(!t.contains(&key(1000)));
    }

    #[test]
    fn concurrent_updates_from_threads() {
        let t = AccountsTable::new(8).expect("power of two");
        std::thread::scope(|s| {
            for w in 0..4u32 {
                let t = &t;
                s.spawn(move || {
                    for i in 0..2000u32 {
                        // Shared keys (contended) and private keys (inserted concurrently).
                        t.update(&key(i % 16), |a| a.lamports += 1);
                        t.insert(key(100_000 + w * 10_000 + i), Account::new(1, [0; 32]));
                    }
                });
            }
        });
        assert_eq!(t.len(), 16 + 4 * 2000);
        assert_eq!(t.total_lamports(), 4 * 2000 + 4 * 2000);
        assert_eq!(t.lamports(&key(3)), 4 * 2000 / 16);
    }
}
