//! The level-batch strategy, [`Executor::execute_parallel`]: a block batch by batch from a
//! [`Schedule`], straight against the table. Tests compare it, a second parallel
//! strategy independent of the windowed path, against the sequential reference; so it is
//! built with the `test-support` feature (or in the crate's own tests) only.

use rayon::prelude::*;

use crate::schedule::Schedule;
use crate::state::AccountsTable;
use crate::Pubkey;

use super::access::TableAccess;
use super::error::{BlockError, TxError, TxResult};
use super::executor::{BlockOutcome, Executor};
use super::path_choice::ExecPath;
use super::runtime::Scratch;
use super::transaction::ExecTx;

impl Executor {
    /// Runs `block` batch by batch as `schedule` says (a schedule made by
    /// [`crate::schedule::schedule`] from this block), the transactions of each batch on
    /// the current rayon pool (wrap the call in `ThreadPool::install` to choose the
    /// threads). Batches smaller than [`super::ExecConfig::min_parallel_batch`] run on the
    /// calling thread. Same results and state as [`Executor::execute_sequential`].
    ///
    /// Built with the `test-support` feature only: a second parallel strategy for tests to
    /// compare against the sequential one.
    ///
    /// # Errors
    /// [`BlockError::ScheduleMismatch`] when the schedule is for a block of another size
    /// (nothing is executed).
    pub fn execute_parallel(
        &self,
        table: &AccountsTable,
        block: &[ExecTx<'_>],
        schedule: &Schedule,
    ) -> Result<BlockOutcome, BlockError> {
        if schedule.num_txs() != block.len() {
            return Err(BlockError::ScheduleMismatch {
                schedule: schedule.num_txs(),
                block: block.len(),
            });
        }
        let runtime = self.runtime();
        let mut results: Vec<TxResult> = vec![Ok(()); block.len()];
        let mut units: Vec<u64> = vec![0; block.len()];
        let mut modified = Vec::new();
        let threads = rayon::current_num_threads().max(1);
        let min_batch = self.config().min_parallel_batch.max(2);
        let mut scratch = Scratch::default();
        for batch in schedule.batches() {
            if threads == 1 || batch.len() < min_batch {
                for &i in batch {
                    if let (Some(tx), Some(r), Some(u)) =
                        (block.get(i), results.get_mut(i), units.get_mut(i))
                    {
                        let mut access = TableAccess {
                            table,
                            keys: tx.keys(),
                            modified: &mut modified,
                        };
                        (*r, *u) = runtime.execute_tx(&mut access, tx, &mut scratch);
                    }
                }
                continue;
            }
            // A few chunks per thread, for balance when transactions differ in cost.
            let chunk = batch.len().div_ceil(threads * 4).max(16);
            type Chunk = (Vec<(TxResult, u64)>, Vec<Pubkey>);
            let parts: Vec<Chunk> = batch
                .par_chunks(chunk)
                .map(|idxs| {
                    let mut scratch = Scratch::default();
                    let mut modified = Vec::new();
                    let out = idxs
                        .iter()
                        .map(|&i| match block.get(i) {
                            Some(tx) => {
                                let mut access = TableAccess {
                                    table,
                                    keys: tx.keys(),
                                    modified: &mut modified,
                                };
                                runtime.execute_tx(&mut access, tx, &mut scratch)
                            }
                            None => (Err(TxError::Malformed("schedule index out of range")), 0),
                        })
                        .collect();
                    (out, modified)
                })
                .collect();
            for (idxs, (out, keys)) in batch.chunks(chunk).zip(parts) {
                for (&i, (r, u)) in idxs.iter().zip(out) {
                    if let (Some(slot), Some(us)) = (results.get_mut(i), units.get_mut(i)) {
                        *slot = r;
                        *us = u;
                    }
                }
                modified.extend(keys);
            }
        }
        Ok(self.finish(table, block, results, units, modified, ExecPath::Parallel))
    }
}
