//! The stage threads' work. Each stage takes blocks from its input channel in order, does
//! its work, and passes the block on; [`drive`](super::driver::drive) runs the loop around
//! it (a stage whose input closes finishes what it holds and closes its output, so
//! shutdown drains the whole pipeline).
//!
//! Packets are parsed once, by the parse stage: later stages re-attach the [`Layout`] it
//! kept to the packet instead of parsing it again.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::dedup::DedupWindow;
use super::driver::{Ran, Stage};
use super::intake::InFlightLimit;
use super::metrics::{Metrics, MetricsSnapshot, SigverifyShare, StageMetrics};
use super::outcome::{BlockResult, Commit, OutcomeCounts, TxOutcome};
use super::stage_id::StageId;
use super::{BlockIn, STAGE_THREADS};
use crate::execute::{ExecTx, Executor, TxError, TxResult};
use crate::hash::{merkle, BackendHasher, BatchHasher};
use crate::sigverify::{BackendVerifier, SigItem};
use crate::state::AccountsTable;
use crate::tx::{AddressResolver, Layout, TransactionView};
use crate::{Hash, Signature};

/// A block between stages: packets, the layout of each parsed packet (`None`: malformed),
/// the outcome of each so far (`None`: still going), and the message digest of each parsed
/// packet.
pub(crate) struct InFlight {
    pub id: u64,
    pub packets: Vec<Vec<u8>>,
    pub layouts: Vec<Option<Layout>>,
    pub outcomes: Vec<Option<TxOutcome>>,
    pub digests: Vec<Hash>,
    /// When each packet arrived (for its latency).
    pub arrivals: Vec<Instant>,
}

/// A block after execution: the commit stage finishes it.
pub(crate) struct Executed {
    pub commit: CommitInput,
    pub arrivals: Vec<Instant>,
}

/// What [`commit_block`] needs of an executed block (the pipeline's execute stage and the
/// reference run both build it).
pub(crate) struct CommitInput {
    /// Block number.
    pub block: u64,
    /// One outcome per packet; the execute stage fills every slot.
    pub outcomes: Vec<Option<TxOutcome>>,
    /// Message digest of each packet (meaningful for parsed packets).
    pub digests: Vec<Hash>,
    /// Indexes of the transactions that reached execution, in block order.
    pub executed: Vec<usize>,
    /// State hash after the block.
    pub state_hash: Hash,
    /// Fees taken in the block.
    pub fees_charged: u64,
}

/// The replay key of a packet: SHA-256 over its message digest and every signature.
pub(crate) fn packet_key(digest: &Hash, signatures: &[Signature]) -> Hash {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + signatures.len());
    parts.push(digest);
    parts.extend(signatures.iter().map(|s| &s[..]));
    crate::hash::sha256v(&parts)
}

/// Message digests of `messages`, through `hasher` (the pipeline opens it with a
/// [`crate::hash::CpuHasher::on_calling_thread`] CPU part: the rayon pool belongs to the
/// signature verifier and the executor).
fn digests(hasher: &BackendHasher, messages: &[&[u8]]) -> Vec<Hash> {
    let mut out = vec![[0u8; 32]; messages.len()];
    // a routed hasher fails only on a length mismatch, which cannot happen here; digests
    // are never left unset all the same
    if hasher.sha256_batch(messages, &mut out).is_err() {
        for (m, d) in messages.iter().zip(out.iter_mut()) {
            *d = crate::hash::sha256(m);
        }
    }
    out
}

/// Parses packets, digests their messages and drops replayed packets.
pub(crate) struct ParseStage {
    pub hasher: Arc<BackendHasher>,
    pub window: DedupWindow<Hash>,
}

impl Stage for ParseStage {
    type In = BlockIn;
    type Out = InFlight;
    const ID: StageId = StageId::Parse;

    fn run(&mut self, block: BlockIn) -> Ran<InFlight> {
        let n = block.packets.len();
        let mut outcomes: Vec<Option<TxOutcome>> = Vec::with_capacity(n);
        let mut layouts = Vec::with_capacity(n);
        let mut digests_out = vec![[0u8; 32]; n];
        {
            let mut messages = Vec::with_capacity(n);
            let mut parsed = Vec::with_capacity(n);
            for (i, p) in block.packets.iter().enumerate() {
                match TransactionView::parse(p) {
                    Ok(v) => {
                        messages.push(v.message());
                        parsed.push((i, v.signatures()));
                        layouts.push(Some(v.layout()));
                        outcomes.push(None);
                    }
                    Err(e) => {
                        layouts.push(None);
                        outcomes.push(Some(TxOutcome::Malformed(e)));
                    }
                }
            }
            let d = digests(&self.hasher, &messages);
            for ((i, sigs), digest) in parsed.into_iter().zip(d) {
                digests_out[i] = digest;
                if !self.window.insert(packet_key(&digest, sigs)) {
                    outcomes[i] = Some(TxOutcome::Duplicate);
                }
            }
        }
        let passed = outcomes.iter().filter(|o| o.is_none()).count();
        Ran {
            out: InFlight {
                id: block.id,
                packets: block.packets,
                layouts,
                outcomes,
                digests: digests_out,
                arrivals: block.arrivals,
            },
            items_in: n,
            items_out: passed,
        }
    }
}

/// Verifies the signatures of the transactions still going, in batches.
///
/// With a verifier that prefers large batches ([`BackendVerifier::preferred_batch`], a
/// GPU), the blocks already queued are gathered into calls of up to that many signatures
/// (the driver's gathering, [`Stage::gather_target`]); otherwise (the CPU) each block is
/// verified alone in calls of at most `batch` signatures, as it always was.
pub(crate) struct SigverifyStage {
    pub verifier: Arc<BackendVerifier>,
    pub batch: usize,
}

/// The signatures of a block's transactions still going (the signature items a
/// verification of the block will check; a transaction without a usable layout has none).
fn pending_signatures(block: &InFlight) -> usize {
    block
        .packets
        .iter()
        .zip(&block.layouts)
        .zip(&block.outcomes)
        .filter(|(_, o)| o.is_none())
        .map(|((p, l), _)| {
            l.as_ref()
                .and_then(|l| l.sig_items(p))
                .map_or(0, |items| items.len())
        })
        .sum()
}

impl SigverifyStage {
    /// Verifies every signature of the transactions still going in `blocks`, in calls of
    /// at most `chunk` signatures that may span blocks, and marks the transactions with an
    /// invalid signature. Returns, per block, the transactions it held going in and the
    /// ones that passed.
    fn verify_blocks(&self, blocks: &mut [InFlight], chunk: usize) -> Vec<(usize, usize)> {
        let chunk = chunk.max(1);
        let pending: Vec<usize> = blocks
            .iter()
            .map(|b| b.outcomes.iter().filter(|o| o.is_none()).count())
            .collect();
        let mut valid: Vec<Vec<bool>> =
            blocks.iter().map(|b| vec![true; b.packets.len()]).collect();
        {
            // (block, transaction index) and item for every signature of every pending
            // transaction, blocks in order
            let mut owners: Vec<(usize, usize)> = Vec::new();
            let mut items: Vec<SigItem<'_>> = Vec::new();
            for (b, block) in blocks.iter().enumerate() {
                for (i, p) in block.packets.iter().enumerate() {
                    if block.outcomes[i].is_some() {
                        continue;
                    }
                    match block.layouts[i].as_ref().and_then(|l| l.sig_items(p)) {
                        Some(sig_items) => {
                            for item in sig_items {
                                owners.push((b, i));
                                items.push(item);
                            }
                        }
                        // no layout for a parsed packet cannot happen; if it did, the
                        // transaction must not pass unverified
                        None => valid[b][i] = false,
                    }
                }
            }
            let mut verdicts = vec![false; items.len()];
            for (chunk, out) in items.chunks(chunk).zip(verdicts.chunks_mut(chunk)) {
                if self.verifier.verify_routed(chunk, out).is_err() {
                    // never lose a verdict: the rule's definition, one by one
                    let rule = self.verifier.signature_rule();
                    for (it, v) in chunk.iter().zip(out.iter_mut()) {
                        *v = rule.verify_one(it.pubkey, it.message, it.signature);
                    }
                }
            }
            for ((b, i), ok) in owners.into_iter().zip(verdicts) {
                valid[b][i] &= ok;
            }
        }
        blocks
            .iter_mut()
            .zip(valid)
            .zip(pending)
            .map(|((block, valid), pending)| {
                for (o, ok) in block.outcomes.iter_mut().zip(valid) {
                    if o.is_none() && !ok {
                        *o = Some(TxOutcome::InvalidSignature);
                    }
                }
                let passed = block.outcomes.iter().filter(|o| o.is_none()).count();
                (pending, passed)
            })
            .collect()
    }
}

impl Stage for SigverifyStage {
    type In = InFlight;
    type Out = InFlight;
    const ID: StageId = StageId::Sigverify;

    fn run(&mut self, mut block: InFlight) -> Ran<InFlight> {
        let counts = self.verify_blocks(std::slice::from_mut(&mut block), self.batch);
        let (items_in, items_out) = counts.first().copied().unwrap_or_default();
        Ran {
            out: block,
            items_in,
            items_out,
        }
    }

    fn gather_target(&self) -> usize {
        self.verifier.preferred_batch()
    }

    fn weight(&self, block: &InFlight) -> usize {
        pending_signatures(block)
    }

    fn run_gathered(&mut self, mut blocks: Vec<InFlight>) -> Vec<Ran<InFlight>> {
        // the verifier asks for calls this large: `batch` is only a floor
        let chunk = self.batch.max(self.verifier.preferred_batch());
        let counts = self.verify_blocks(&mut blocks, chunk);
        blocks
            .into_iter()
            .zip(counts)
            .map(|(out, (items_in, items_out))| Ran {
                out,
                items_in,
                items_out,
            })
            .collect()
    }
}

/// Drops replayed signatures, schedules and executes the block, hashes the state.
pub(crate) struct ExecuteStage {
    pub executor: Executor,
    pub table: Arc<AccountsTable>,
    pub resolver: Option<Arc<dyn AddressResolver>>,
    pub window: DedupWindow<Signature>,
    pub pool: rayon::ThreadPool,
}

/// Applies the signature de-duplication window and builds the executable transactions of
/// a verified block from the packets' layouts (shared with the reference run so both
/// apply one rule).
pub(crate) fn prepare_block<'a>(
    packets: &'a [Vec<u8>],
    layouts: &[Option<Layout>],
    outcomes: &mut [Option<TxOutcome>],
    window: &mut DedupWindow<Signature>,
    resolver: Option<&dyn AddressResolver>,
) -> (Vec<usize>, Vec<ExecTx<'a>>) {
    let mut indexes = Vec::new();
    let mut txs = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        if outcomes[i].is_some() {
            continue;
        }
        let Some(view) = layouts[i].as_ref().and_then(|l| l.view(p)) else {
            // cannot happen (the parse stage keeps a layout for every parsed packet); if it
            // did, the transaction gets its own result rather than none
            outcomes[i] = Some(TxOutcome::Failed(TxError::Malformed(
                "no layout for a parsed packet",
            )));
            continue;
        };
        let first = view.signatures().first().copied().unwrap_or([0; 64]);
        if !window.insert(first) {
            outcomes[i] = Some(TxOutcome::Duplicate);
            continue;
        }
        indexes.push(i);
        txs.push(ExecTx::from_view(&view, resolver));
    }
    (indexes, txs)
}

/// Records the execution results of the transactions at `indexes` in `outcomes`.
pub(crate) fn record_results(
    outcomes: &mut [Option<TxOutcome>],
    indexes: &[usize],
    results: Vec<TxResult>,
) {
    for (&i, r) in indexes.iter().zip(results) {
        outcomes[i] = Some(match r {
            Ok(()) => TxOutcome::Ok,
            Err(e) => TxOutcome::Failed(e),
        });
    }
}

impl Stage for ExecuteStage {
    type In = InFlight;
    type Out = Executed;
    const ID: StageId = StageId::Execute;

    fn run(&mut self, block: InFlight) -> Ran<Executed> {
        let InFlight {
            id,
            packets,
            layouts,
            mut outcomes,
            digests,
            arrivals,
        } = block;
        let pending = outcomes.iter().filter(|o| o.is_none()).count();
        let (executed, state_hash, fees_charged) = {
            let (indexes, txs) = prepare_block(
                &packets,
                &layouts,
                &mut outcomes,
                &mut self.window,
                self.resolver.as_deref(),
            );
            let (outcome, state_hash) = self.pool.install(|| {
                let outcome = self.executor.execute_block(&self.table, &txs);
                let state_hash = outcome.state_hash(&self.table);
                (outcome, state_hash)
            });
            record_results(&mut outcomes, &indexes, outcome.results);
            (indexes, state_hash, outcome.fees_charged)
        };
        let items_out = executed.len();
        Ran {
            out: Executed {
                commit: CommitInput {
                    block: id,
                    outcomes,
                    digests,
                    executed,
                    state_hash,
                    fees_charged,
                },
                arrivals,
            },
            items_in: pending,
            items_out,
        }
    }
}

/// Builds a block's result: outcomes (every slot filled) and commit.
pub(crate) fn commit_block(input: CommitInput, hasher: Option<&BackendHasher>) -> BlockResult {
    let CommitInput {
        block,
        outcomes,
        digests,
        executed,
        state_hash,
        fees_charged,
    } = input;
    let leaves: Vec<Hash> = executed.iter().map(|&i| digests[i]).collect();
    let transaction_root = match hasher {
        Some(h) => h.transaction_root(&leaves),
        None => merkle::transaction_root(&leaves),
    };
    let outcomes: Vec<TxOutcome> = outcomes
        .into_iter()
        // every slot is filled by the execute stage; a hole would be a bug, and is
        // reported as a failure rather than lost
        .map(|o| {
            o.unwrap_or(TxOutcome::Failed(TxError::Malformed(
                "transaction lost between stages",
            )))
        })
        .collect();
    BlockResult {
        commit: Commit {
            block,
            state_hash,
            transaction_root,
            counts: OutcomeCounts::of(&outcomes),
            fees_charged,
        },
        outcomes,
    }
}

/// Commits blocks, and records the end-to-end figures (latency, outcomes, blocks).
pub(crate) struct CommitStage {
    pub hasher: Arc<BackendHasher>,
    /// A one-thread pool, so the Merkle code's rayon calls run here instead of queueing
    /// behind signature verification on the global pool.
    pub pool: rayon::ThreadPool,
    /// Gives back the block's room under the in-flight bound once it is committed.
    pub in_flight: Arc<InFlightLimit>,
    /// When each packet of the block being committed arrived (for its latency).
    pub arrivals: Option<Vec<Instant>>,
}

impl Drop for CommitStage {
    /// The last stage has stopped (the input was closed, or a stage failed): nothing will
    /// free room under the in-flight bound any more, so no submitter may wait for it.
    fn drop(&mut self) {
        self.in_flight.close();
    }
}

impl Stage for CommitStage {
    type In = Executed;
    type Out = BlockResult;
    const ID: StageId = StageId::Commit;

    fn run(&mut self, done: Executed) -> Ran<BlockResult> {
        self.arrivals = Some(done.arrivals);
        let result = self
            .pool
            .install(|| commit_block(done.commit, Some(&self.hasher)));
        let n = result.outcomes.len();
        Ran {
            out: result,
            items_in: n,
            items_out: n,
        }
    }

    fn after(&mut self, result: &BlockResult, metrics: &Metrics) {
        if let Some(arrivals) = self.arrivals.take() {
            let now = Instant::now();
            if let Ok(mut h) = metrics.latency.lock() {
                for arrival in &arrivals {
                    h.record(now.saturating_duration_since(*arrival), 1);
                }
            }
            self.in_flight.release(arrivals.len());
        }
        if let Ok(mut c) = metrics.outcomes.lock() {
            c.merge(&result.commit.counts);
        }
        metrics.blocks.fetch_add(1, Ordering::Relaxed);
    }
}

/// The metrics now: counters of every stage thread ([`STAGE_THREADS`] order, as
/// `depths`, their input queues' depths), latency, outcomes, the verifier's split.
pub(crate) fn snapshot(
    m: &Metrics,
    verifier: &BackendVerifier,
    elapsed: f64,
    depths: &[usize],
    in_flight: usize,
) -> MetricsSnapshot {
    let per_sec = |n: f64, s: f64| if s > 0.0 { n / s } else { 0.0 };
    let stages = STAGE_THREADS
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let c = m.stage(id);
            let items_in = c.items_in.load(Ordering::Relaxed);
            let busy_s = c.busy_ns.load(Ordering::Relaxed) as f64 / 1e9;
            StageMetrics {
                stage: id.as_str(),
                items_in,
                items_out: c.items_out.load(Ordering::Relaxed),
                busy_s,
                busy_share: per_sec(busy_s, elapsed),
                tps: per_sec(items_in as f64, elapsed),
                capacity_tps: per_sec(items_in as f64, busy_s),
                queue_depth: depths.get(i).copied().unwrap_or(0) as u64,
                max_queue_depth: c.max_queue.load(Ordering::Relaxed),
            }
        })
        .collect();
    let latency = m
        .latency
        .lock()
        .map(|h| {
            [
                h.quantile_ms(0.5),
                h.quantile_ms(0.9),
                h.quantile_ms(0.99),
                h.quantile_ms(0.999),
                h.max_ms(),
            ]
        })
        .unwrap_or_default();
    let latency_histogram = m.latency.lock().map(|h| h.buckets_ms()).unwrap_or_default();
    let outcomes = m.outcomes.lock().map(|c| *c).unwrap_or_default();
    let s = verifier.stats();
    let total = (s.gpu_signatures + s.cpu_signatures) as f64;
    MetricsSnapshot {
        elapsed_s: elapsed,
        blocks: m.blocks.load(Ordering::Relaxed),
        submitted: m.submitted.load(Ordering::Relaxed),
        completed: outcomes.total(),
        tps: per_sec(outcomes.total() as f64, elapsed),
        stages,
        latency_p50_ms: latency[0],
        latency_p90_ms: latency[1],
        latency_p99_ms: latency[2],
        latency_p999_ms: latency[3],
        latency_max_ms: latency[4],
        latency_histogram,
        in_flight: in_flight as u64,
        sigverify: SigverifyShare {
            gpu_signatures: s.gpu_signatures,
            cpu_signatures: s.cpu_signatures,
            gpu_fallbacks: s.gpu_failures,
            gpu_share: if total > 0.0 {
                s.gpu_signatures as f64 / total
            } else {
                0.0
            },
        },
        outcomes,
    }
}
