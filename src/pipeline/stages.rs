//! The stage threads. Each takes blocks from its input channel in order, does its work,
//! and passes the block on; a stage whose input closes finishes what it holds and closes
//! its output, so shutdown drains the whole pipeline.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};

use super::dedup::DedupWindow;
use super::metrics::{Metrics, MetricsSnapshot, SigverifyShare, StageMetrics};
use super::outcome::{BlockResult, Commit, OutcomeCounts, TxOutcome};
use super::{BlockIn, STAGE_THREADS};
use crate::backend::Backend;
use crate::execute::{ExecTx, Executor};
use crate::hash::{merkle, BackendHasher};
use crate::sigverify::{reference_verify, BackendVerifier, SigItem};
use crate::state::AccountsTable;
use crate::tx::{AddressResolver, TransactionView};
use crate::{Hash, Signature};

/// A block between stages: packets, the outcome of each so far (`None`: still going),
/// and the message digest of each parsed packet.
pub(crate) struct InFlight {
    pub id: u64,
    pub packets: Vec<Vec<u8>>,
    pub outcomes: Vec<Option<TxOutcome>>,
    pub digests: Vec<Hash>,
    pub submitted: Instant,
}

/// A block after execution: the commit stage finishes it.
pub(crate) struct Executed {
    pub block: InFlight,
    pub state_hash: Hash,
    pub executed: Vec<usize>,
    pub fees_charged: u64,
}

/// The replay key of a packet: SHA-256 over its message digest and every signature.
pub(crate) fn packet_key(digest: &Hash, signatures: &[Signature]) -> Hash {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + signatures.len());
    parts.push(digest);
    parts.extend(signatures.iter().map(|s| &s[..]));
    crate::hash::sha256v(&parts)
}

/// Message digests of `messages`: through `hasher` when it routes the batch to the GPU,
/// else with sha2 on the stage's own thread (the rayon pool belongs to the signature
/// verifier and the executor; queueing small hashing jobs behind them only adds latency).
fn digests(hasher: &BackendHasher, messages: &[&[u8]]) -> Vec<Hash> {
    let mut out = vec![[0u8; 32]; messages.len()];
    let on_gpu = hasher.route(messages.len()) == Backend::Gpu
        && hasher.sha256_routed(messages, &mut out).is_ok();
    if !on_gpu {
        for (m, d) in messages.iter().zip(out.iter_mut()) {
            *d = crate::hash::sha256(m);
        }
    }
    out
}

pub(crate) struct ParseStage {
    pub hasher: Arc<BackendHasher>,
    pub window: DedupWindow<Hash>,
    pub metrics: Arc<Metrics>,
}

impl ParseStage {
    pub fn run(mut self, input: Receiver<BlockIn>, output: Sender<InFlight>) {
        for block in input.iter() {
            let start = Instant::now();
            let n = block.packets.len();
            let mut outcomes: Vec<Option<TxOutcome>> = Vec::with_capacity(n);
            let mut digests_out = vec![[0u8; 32]; n];
            {
                let mut messages = Vec::with_capacity(n);
                let mut parsed = Vec::with_capacity(n);
                for (i, p) in block.packets.iter().enumerate() {
                    match TransactionView::parse(p) {
                        Ok(v) => {
                            messages.push(v.message());
                            parsed.push((i, v.signatures()));
                            outcomes.push(None);
                        }
                        Err(e) => outcomes.push(Some(TxOutcome::Malformed(e))),
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
            self.metrics.stages[0].record(n, passed, start.elapsed());
            let msg = InFlight {
                id: block.id,
                packets: block.packets,
                outcomes,
                digests: digests_out,
                submitted: block.submitted,
            };
            if output.send(msg).is_err() {
                return;
            }
            self.metrics.stages[1].observe_queue(output.len());
        }
    }
}

pub(crate) struct SigverifyStage {
    pub verifier: Arc<BackendVerifier>,
    pub batch: usize,
    pub metrics: Arc<Metrics>,
}

impl SigverifyStage {
    pub fn run(self, input: Receiver<InFlight>, output: Sender<InFlight>) {
        for mut block in input.iter() {
            let start = Instant::now();
            let pending = block.outcomes.iter().filter(|o| o.is_none()).count();
            let mut valid = vec![true; block.packets.len()];
            {
                // (transaction index, item) for every signature of every pending transaction
                let mut owners = Vec::new();
                let mut items: Vec<SigItem<'_>> = Vec::new();
                for (i, p) in block.packets.iter().enumerate() {
                    if block.outcomes[i].is_some() {
                        continue;
                    }
                    if let Ok(v) = TransactionView::parse(p) {
                        for item in v.sig_items() {
                            owners.push(i);
                            items.push(item);
                        }
                    }
                }
                let mut verdicts = vec![false; items.len()];
                for (chunk, out) in items
                    .chunks(self.batch)
                    .zip(verdicts.chunks_mut(self.batch))
                {
                    if self.verifier.verify_routed(chunk, out).is_err() {
                        // never lose a verdict: the reference rule, one by one
                        for (it, v) in chunk.iter().zip(out.iter_mut()) {
                            *v = reference_verify(it.pubkey, it.message, it.signature);
                        }
                    }
                }
                for (owner, ok) in owners.into_iter().zip(verdicts) {
                    valid[owner] &= ok;
                }
            }
            for (o, ok) in block.outcomes.iter_mut().zip(valid) {
                if o.is_none() && !ok {
                    *o = Some(TxOutcome::InvalidSignature);
                }
            }
            let passed = block.outcomes.iter().filter(|o| o.is_none()).count();
            self.metrics.stages[1].record(pending, passed, start.elapsed());
            if output.send(block).is_err() {
                return;
            }
            self.metrics.stages[2].observe_queue(output.len());
        }
    }
}

pub(crate) struct ExecuteStage {
    pub executor: Executor,
    pub table: Arc<AccountsTable>,
    pub resolver: Option<Arc<dyn AddressResolver>>,
    pub window: DedupWindow<Signature>,
    pub pool: rayon::ThreadPool,
    pub metrics: Arc<Metrics>,
}

/// Applies the signature de-duplication window and builds the executable transactions of
/// a verified block (shared with the reference run so both apply one rule).
pub(crate) fn prepare_block<'a>(
    packets: &'a [Vec<u8>],
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
        let Ok(view) = TransactionView::parse(p) else {
            continue; // unreachable: the parse stage kept only parsed packets
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

impl ExecuteStage {
    pub fn run(mut self, input: Receiver<InFlight>, output: Sender<Executed>) {
        for mut block in input.iter() {
            let start = Instant::now();
            let pending = block.outcomes.iter().filter(|o| o.is_none()).count();
            let (executed, state_hash, fees_charged) = {
                let (indexes, txs) = prepare_block(
                    &block.packets,
                    &mut block.outcomes,
                    &mut self.window,
                    self.resolver.as_deref(),
                );
                let (outcome, state_hash) = self.pool.install(|| {
                    let outcome = self.executor.execute_block(&self.table, &txs);
                    let state_hash = outcome.state_hash(&self.table);
                    (outcome, state_hash)
                });
                for (&i, r) in indexes.iter().zip(outcome.results) {
                    block.outcomes[i] = Some(match r {
                        Ok(()) => TxOutcome::Ok,
                        Err(e) => TxOutcome::Failed(e),
                    });
                }
                (indexes, state_hash, outcome.fees_charged)
            };
            self.metrics.stages[2].record(pending, executed.len(), start.elapsed());
            let msg = Executed {
                block,
                state_hash,
                executed,
                fees_charged,
            };
            if output.send(msg).is_err() {
                return;
            }
            self.metrics.stages[3].observe_queue(output.len());
        }
    }
}

/// Builds a block's result: outcomes (every slot filled) and commit.
pub(crate) fn commit_block(done: Executed, hasher: Option<&BackendHasher>) -> BlockResult {
    let Executed {
        block,
        state_hash,
        executed,
        fees_charged,
    } = done;
    let leaves: Vec<Hash> = executed.iter().map(|&i| block.digests[i]).collect();
    let transaction_root = match hasher {
        Some(h) if h.route(leaves.len()) == Backend::Gpu => {
            merkle::transaction_root_with(&leaves, h)
                .unwrap_or_else(|_| merkle::transaction_root(&leaves))
        }
        _ => merkle::transaction_root(&leaves),
    };
    let outcomes: Vec<TxOutcome> = block
        .outcomes
        .into_iter()
        // every slot is filled by the execute stage; a hole would be a bug, and is
        // reported as a failure rather than lost
        .map(|o| {
            o.unwrap_or(TxOutcome::Failed(crate::execute::TxError::Malformed(
                "transaction lost between stages",
            )))
        })
        .collect();
    BlockResult {
        commit: Commit {
            block: block.id,
            state_hash,
            transaction_root,
            counts: OutcomeCounts::of(&outcomes),
            fees_charged,
        },
        outcomes,
    }
}

pub(crate) struct CommitStage {
    pub hasher: Arc<BackendHasher>,
    /// A one-thread pool, so the Merkle code's rayon calls run here instead of queueing
    /// behind signature verification on the global pool.
    pub pool: rayon::ThreadPool,
    pub metrics: Arc<Metrics>,
}

impl CommitStage {
    pub fn run(self, input: Receiver<Executed>, output: Sender<BlockResult>) {
        for done in input.iter() {
            let start = Instant::now();
            let submitted = done.block.submitted;
            let result = self.pool.install(|| commit_block(done, Some(&self.hasher)));
            let n = result.outcomes.len();
            self.metrics.stages[3].record(n, n, start.elapsed());
            if let Ok(mut h) = self.metrics.latency.lock() {
                h.record(submitted.elapsed(), n as u64);
            }
            if let Ok(mut c) = self.metrics.outcomes.lock() {
                c.merge(&result.commit.counts);
            }
            self.metrics.blocks.fetch_add(1, Ordering::Relaxed);
            if output.send(result).is_err() {
                return;
            }
        }
    }
}

pub(crate) fn snapshot(
    m: &Metrics,
    verifier: &BackendVerifier,
    elapsed: f64,
    depths: &[usize],
) -> MetricsSnapshot {
    let per_sec = |n: f64, s: f64| if s > 0.0 { n / s } else { 0.0 };
    let stages = STAGE_THREADS
        .iter()
        .zip(m.stages.iter())
        .enumerate()
        .map(|(i, (name, c))| {
            let items_in = c.items_in.load(Ordering::Relaxed);
            let busy_s = c.busy_ns.load(Ordering::Relaxed) as f64 / 1e9;
            StageMetrics {
                stage: name,
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
    let (p50, p99) = m
        .latency
        .lock()
        .map(|h| (h.quantile_ms(0.5), h.quantile_ms(0.99)))
        .unwrap_or((0.0, 0.0));
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
        latency_p50_ms: p50,
        latency_p99_ms: p99,
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
