//! The scheduler's view of a transaction: the keys it touches and how.

use std::hash::Hash;

/// The accounts one transaction touches: `(key, writable)` pairs, in any order (a key may
/// appear more than once; it is then written if any of its entries is writable).
pub trait AccessSet {
    /// The account key type (e.g. a 32-byte pubkey).
    type Key: Hash + Eq + Copy;

    /// Calls `f(key, writable)` for every access.
    fn for_each_access(&self, f: impl FnMut(Self::Key, bool));
}

impl<K: Hash + Eq + Copy> AccessSet for [(K, bool)] {
    type Key = K;

    fn for_each_access(&self, mut f: impl FnMut(K, bool)) {
        for &(k, w) in self {
            f(k, w);
        }
    }
}

impl<K: Hash + Eq + Copy> AccessSet for Vec<(K, bool)> {
    type Key = K;

    fn for_each_access(&self, f: impl FnMut(K, bool)) {
        self.as_slice().for_each_access(f);
    }
}

impl<T: AccessSet + ?Sized> AccessSet for &T {
    type Key = T::Key;

    fn for_each_access(&self, f: impl FnMut(T::Key, bool)) {
        (**self).for_each_access(f);
    }
}
