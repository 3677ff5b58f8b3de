//! De-duplication windows.
//!
//! Two filters, both deterministic and in submission order:
//! - before signature verification, a window of *packet keys* (SHA-256 over the message
//!   digest and every signature) drops byte-identical replays cheaply, before they cost a
//!   verification. Keying on the whole packet means nobody can pre-empt a transaction by
//!   sending a corrupted copy that shares its first signature;
//! - after signature verification, a window of *first signatures* of verified transactions
//!   drops a transaction whose first signature already reached execution (the same message
//!   re-signed by its co-signers). Only verified signatures enter it, for the same reason.

use std::collections::{HashSet, VecDeque};
use std::hash::Hash as StdHash;

/// A set of the last `capacity` keys inserted (oldest evicted first).
#[derive(Debug)]
pub struct DedupWindow<K> {
    set: HashSet<K>,
    order: VecDeque<K>,
    capacity: usize,
}

impl<K: StdHash + Eq + Copy> DedupWindow<K> {
    /// A window remembering up to `capacity` keys (0 disables de-duplication).
    pub fn new(capacity: usize) -> Self {
        Self {
            set: HashSet::with_capacity(capacity.min(1 << 16)),
            order: VecDeque::with_capacity(capacity.min(1 << 16)),
            capacity,
        }
    }

    /// Records `key`; returns `false` when it is already in the window (a duplicate).
    pub fn insert(&mut self, key: K) -> bool {
        if self.capacity == 0 {
            return true;
        }
        if !self.set.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    /// Keys currently remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the window is empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_evicts_oldest() {
        let mut w = DedupWindow::new(2);
        assert!(w.insert(1));
        assert!(!w.insert(1));
        assert!(w.insert(2));
        assert!(w.insert(3)); // evicts 1
        assert!(w.insert(1));
        assert!(!w.insert(3));
        assert_eq!(w.len(), 2);
        let mut off = DedupWindow::new(0);
        assert!(off.insert(1) && off.insert(1));
    }
}
