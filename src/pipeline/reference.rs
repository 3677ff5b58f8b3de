//! The single-threaded reference run: the same packets, one at a time, with the plainest
//! code for each step (sha2 digests, ed25519-dalek `verify_strict` per signature, the
//! sequential executor). Every pipeline configuration must give exactly its results.

use super::dedup::DedupWindow;
use super::outcome::{BlockResult, TxOutcome};
use super::stages::{commit_block, packet_key, prepare_block, record_results, CommitInput};
use super::{PipelineConfig, PipelineError};
use crate::execute::Executor;
use crate::state::AccountsTable;
use crate::tx::TransactionView;

/// Runs `blocks` with `config`'s genesis, programs, fees, resolver and de-duplication
/// window (its backend, batch and thread settings do not apply), on the calling thread.
///
/// Returns every block's result and the final account table.
///
/// # Errors
/// [`PipelineError::Table`] for an invalid stripe count.
pub fn run_reference(
    config: &PipelineConfig,
    blocks: &[Vec<Vec<u8>>],
) -> Result<(Vec<BlockResult>, AccountsTable), PipelineError> {
    let table = AccountsTable::new(config.stripes)?;
    table.load(config.genesis.iter().cloned());
    let executor = Executor::new(config.registry.clone(), config.exec.clone());
    let mut replay_window = DedupWindow::new(config.dedup_window);
    let mut signature_window = DedupWindow::new(config.dedup_window);
    let mut results = Vec::with_capacity(blocks.len());
    for (id, packets) in blocks.iter().enumerate() {
        let mut outcomes = Vec::with_capacity(packets.len());
        let mut layouts = Vec::with_capacity(packets.len());
        let mut digests = Vec::with_capacity(packets.len());
        for p in packets {
            let (outcome, layout, digest) = match TransactionView::parse(p) {
                Err(e) => (Some(TxOutcome::Malformed(e)), None, [0u8; 32]),
                Ok(v) => {
                    let digest = crate::hash::sha256(v.message());
                    let outcome = if !replay_window.insert(packet_key(&digest, v.signatures())) {
                        Some(TxOutcome::Duplicate)
                    } else if !v
                        .sig_items()
                        .all(|i| config.rule.verify_one(i.pubkey, i.message, i.signature))
                    {
                        Some(TxOutcome::InvalidSignature)
                    } else {
                        None
                    };
                    (outcome, Some(v.layout()), digest)
                }
            };
            outcomes.push(outcome);
            layouts.push(layout);
            digests.push(digest);
        }
        let (executed, txs) = prepare_block(
            packets,
            &layouts,
            &mut outcomes,
            &mut signature_window,
            config.resolver.as_deref(),
        );
        let outcome = executor.execute_sequential(&table, &txs);
        let state_hash = outcome.state_hash(&table);
        record_results(&mut outcomes, &executed, outcome.results);
        let input = CommitInput {
            block: id as u64,
            outcomes,
            digests,
            executed,
            state_hash,
            fees_charged: outcome.fees_charged,
        };
        results.push(commit_block(input, None));
    }
    Ok((results, table))
}
