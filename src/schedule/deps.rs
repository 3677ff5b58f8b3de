//! The per-key rule behind [`super::KeyIndex::tx_deps`] and [`super::KeyIndex::tx_signals`],
//! shared by the scheduler and by the executor's partitioned window builder.

/// [`super::KeyIndex::tx_deps`] of an access repeating a key already named by the same
/// transaction.
pub const DUPLICATE_ACCESS: u32 = u32::MAX;

/// One key's state while a block's accesses are numbered in block order.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyDeps {
    /// Transactions that accessed the key so far.
    count: u32,
    /// `1 +` the rank (among `count`) of the last writer; 0 when none.
    write_end: u32,
    /// The stamp of the last transaction that accessed the key.
    seen: u32,
    /// Position of that transaction's first access to the key.
    first: u32,
}

/// What [`KeyDeps::access`] decided for one access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepAccess {
    /// The transaction's first access to the key: wait until `dep` transactions on the
    /// key have finished; the access is the key's `rank`-th.
    First {
        /// Dependency count.
        dep: u32,
        /// Rank among the key's accesses (for [`KeyDeps::signals`]).
        rank: u32,
    },
    /// A repeat: its dependency count is [`DUPLICATE_ACCESS`]; when it writes and the
    /// first access only read, the first access (at `first`) must now wait for `dep`.
    Repeat {
        /// `(position of the first access, its new dependency count)`.
        upgrade: Option<(u32, u32)>,
    },
}

impl KeyDeps {
    /// Records an access at position `pos` by the transaction with stamp `stamp` (stamps
    /// are non-zero and increase with the block order; one per transaction).
    pub fn access(&mut self, stamp: u32, pos: u32, writable: bool) -> DepAccess {
        if self.seen == stamp {
            // The same key again in this transaction: one access, a write if any is (its
            // rank is `count - 1`; as a writer it waits for all `count - 1` before).
            let rank = self.count.saturating_sub(1);
            let mut upgrade = None;
            if writable && self.write_end != rank.saturating_add(1) {
                upgrade = Some((self.first, rank));
                self.write_end = rank.saturating_add(1);
            }
            return DepAccess::Repeat { upgrade };
        }
        self.seen = stamp;
        self.first = pos;
        let rank = self.count;
        let dep = if writable { rank } else { self.write_end };
        self.count = self.count.saturating_add(1);
        if writable {
            self.write_end = self.count;
        }
        DepAccess::First { dep, rank }
    }

    /// Whether, once every access is recorded, the access of rank `rank` is waited for by
    /// a later one: it comes before the key's last writer, or is that writer and some
    /// access follows it.
    pub fn signals(&self, rank: u32) -> bool {
        let next = rank.saturating_add(1);
        next < self.write_end || (next == self.write_end && next < self.count)
    }
}
