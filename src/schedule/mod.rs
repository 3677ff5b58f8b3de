//! Conflict-free batching of an ordered block.
//!
//! Input: the block's transactions in order, each described only by its access set
//! ([`AccessSet`]: a list of `(key, writable)`); the scheduler knows nothing of
//! signatures, programs or state. Output: a [`Schedule`], a sequence of batches such that
//! - no two transactions of a batch conflict (one writes a key the other reads or writes);
//! - for every key, the transactions that touch it in conflicting ways run in block order
//!   (a later batch for a later transaction);
//!
//! so running the batches in order, the transactions of each batch in any order or in
//! parallel, gives exactly the result of running the block sequentially.
//!
//! # Algorithm (levels)
//! Each key remembers the last level that wrote it and the highest level that read it. A
//! transaction's level is the smallest level after every conflicting earlier access:
//! `max over its keys of (writes ? max(last_write, last_read) : last_write) + 1`. Batch `k`
//! holds the transactions of level `k + 1`, in block order. One hash-map lookup per
//! account reference plus a counting sort: the cost is linear in the number of account
//! references, whatever the contention (a block where every transaction writes one hot
//! key gives one transaction per batch in linear time).
//!
//! Levels are assigned as early as possible, so the number of batches equals the critical
//! path: the longest chain of transactions each conflicting with the next, which no valid
//! schedule can beat.
//!
//! ```text
//!   tx0: w A        level 1   batch 0: [tx0, tx2]
//!   tx1: r A, w B   level 2   batch 1: [tx1, tx3]
//!   tx2: w C        level 1   batch 2: [tx4]
//!   tx3: r A, r C   level 2
//!   tx4: w A        level 3   (after the readers tx1 and tx3)
//! ```

mod access;
mod deps;
mod levels;

pub use access::AccessSet;
pub use deps::{DepAccess, KeyDeps, DUPLICATE_ACCESS};
pub use levels::{schedule, schedule_indexed, KeyIndex, Schedule, ScheduleStats};
