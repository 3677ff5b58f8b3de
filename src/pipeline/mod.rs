//! The staged pipeline a validator links: parse → dedup → sigverify → schedule + execute →
//! commit, each stage on its own thread, joined by bounded crossbeam channels, so that the
//! GPU (or the CPU verifier pool) verifies block N+1 while the workers execute block N.
//!
//! ```text
//!  submit ──▶ [parse + replay dedup + digests] ──▶ [sigverify] ──▶ [signature dedup +
//!             schedule + execute] ──▶ [commit] ──▶ results (one per packet, in order)
//! ```
//!
//! Every stage thread runs one loop (receive a block, time the stage's work on it, record
//! the stage's metrics under its [`StageId`], send it on); only the work differs. Packets
//! are parsed once, in the first stage: later stages re-attach the kept
//! [`Layout`](crate::tx::Layout) to the packet instead of parsing it again.
//!
//! With a verifier that prefers large batches (a GPU,
//! [`SigVerifier::preferred_batch`](crate::sigverify::SigVerifier::preferred_batch)), the
//! sigverify stage gathers the blocks already waiting in its queue (never waiting for
//! more) into one call of up to that many signatures, splits the verdicts back per block
//! and passes the blocks on in order; the queues around it and the default in-flight bound
//! make room for such batches ([`PipelineConfig::in_flight_bound_with`]). The CPU gathers
//! nothing: each block is verified alone.
//!
//! Every submitted packet gets exactly one [`TxOutcome`], in submission order, and every
//! block a [`Commit`]. A block's commit equals the single-threaded [`reference`](mod@reference) run of the
//! same packets whatever the backend, batch sizes and thread counts.

mod dedup;
mod driver;
mod intake;
mod metrics;
#[cfg(feature = "test-support")]
pub mod mix;
#[cfg(feature = "test-support")]
pub mod open_loop;
mod outcome;
pub mod reference;
mod stage_id;
mod stages;
#[cfg(feature = "test-support")]
pub mod workload;

use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver};

pub use dedup::DedupWindow;
pub use metrics::{MetricsSnapshot, SigverifyShare, StageMetrics};
pub use outcome::{BlockResult, Commit, OutcomeCounts, TxOutcome};
pub use stage_id::StageId;

use crate::backend::BackendChoice;
use crate::execute::{ExecConfig, ProgramRegistry};
use crate::hash::{BackendHasher, CpuHasher};
use crate::sigverify::{BackendVerifier, SignatureRule};
use crate::state::{Account, AccountsTable};
use crate::tx::AddressResolver;
use crate::Pubkey;
use intake::{InFlightLimit, Intake};
use metrics::Metrics;

/// The pipeline's threads, in order (also the stages of [`MetricsSnapshot::stages`], named
/// by [`StageId::as_str`]).
pub const STAGE_THREADS: [StageId; 4] = [
    StageId::Parse,
    StageId::Sigverify,
    StageId::Execute,
    StageId::Commit,
];

/// Default [`PipelineConfig::max_block_wait`]: 5 ms.
pub const DEFAULT_MAX_BLOCK_WAIT: Duration = Duration::from_millis(5);

impl PipelineConfig {
    /// The in-flight bound with a verifier that gathers nothing (the CPU):
    /// [`PipelineConfig::max_in_flight`], or four blocks. See
    /// [`PipelineConfig::in_flight_bound_with`] for a verifier that prefers large batches.
    pub fn in_flight_bound(&self) -> usize {
        self.in_flight_bound_with(0)
    }

    /// The in-flight bound in force with a verifier whose
    /// [`preferred_batch`](crate::sigverify::SigVerifier::preferred_batch) is
    /// `preferred_batch` signatures: [`PipelineConfig::max_in_flight`] when set; else four
    /// blocks plus room for two such batches (one being verified while the next gathers
    /// in the sigverify stage's queue), so a GPU's target batch can fill under load. With
    /// 0 (the CPU) that is four blocks, as before. An explicit `max_in_flight` below the
    /// preferred batch caps the gathered batches at what it lets in.
    pub fn in_flight_bound_with(&self, preferred_batch: usize) -> usize {
        match self.max_in_flight {
            0 => self
                .block_size
                .saturating_mul(4)
                .saturating_add(preferred_batch.saturating_mul(2)),
            n => n,
        }
    }
}

/// How to build a [`Pipeline`].
#[derive(Clone)]
pub struct PipelineConfig {
    /// Signature verification backend (`auto`, `cpu`, `gpu`).
    pub backend: BackendChoice,
    /// Signatures per verification call (a GPU batch; split further to device limits).
    /// With a verifier that prefers larger batches
    /// ([`SigVerifier::preferred_batch`](crate::sigverify::SigVerifier::preferred_batch),
    /// a GPU), the blocks already queued are gathered and verified in calls of up to that
    /// many signatures instead; this is then a floor.
    pub sigverify_batch: usize,
    /// Blocks each inter-stage channel holds: with the stages themselves this bounds
    /// the blocks in flight, hence memory. With a verifier that prefers large batches, the
    /// queues before and after the sigverify stage hold one such batch's worth of
    /// `block_size` blocks more (the in-flight bound, in transactions, still holds).
    pub channel_capacity: usize,
    /// Execution worker threads (0: one per core).
    pub worker_threads: usize,
    /// Stripes of the account table (a power of two).
    pub stripes: usize,
    /// Transactions remembered by each de-duplication window (0 disables it).
    pub dedup_window: usize,
    /// Transactions per block for [`Pipeline::submit`] (streaming).
    pub block_size: usize,
    /// In streaming, a block also closes when its first packet has waited this long, and
    /// at once whenever nothing else is in flight (`None`: only when full). Light traffic
    /// is then not held back waiting for a full block, and heavy traffic forms larger
    /// blocks while the stages are busy.
    pub max_block_wait: Option<Duration>,
    /// Transactions submitted and not yet committed, at most (0: four blocks,
    /// `4 × block_size`, plus twice the verifier's preferred batch when it gathers, see
    /// [`PipelineConfig::in_flight_bound_with`]); submitting waits for room
    /// (`try_submit_block` says `Full`). Must be at least `block_size`.
    pub max_in_flight: usize,
    /// The signature rule ([`SignatureRule::Strict`] by default). A ready `verifier` must
    /// implement the same rule.
    pub rule: SignatureRule,
    /// Fees and execution settings.
    pub exec: ExecConfig,
    /// Programs the executor knows (System by default).
    pub registry: ProgramRegistry,
    /// Accounts present before the first block.
    pub genesis: Vec<(Pubkey, Account)>,
    /// Resolver of v0 address-table lookups (without one, such transactions fail with
    /// [`crate::execute::TxError::NeedsAddressResolver`]).
    pub resolver: Option<Arc<dyn AddressResolver>>,
    /// A ready verifier to use instead of opening `backend` (tests plug faulty GPUs here).
    pub verifier: Option<Arc<BackendVerifier>>,
    /// A ready hasher to use instead of opening `backend` for message digests.
    pub hasher: Option<Arc<BackendHasher>>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            backend: BackendChoice::Auto,
            sigverify_batch: 16_384,
            channel_capacity: 4,
            worker_threads: 0,
            stripes: crate::state::DEFAULT_STRIPES,
            dedup_window: 1 << 20,
            block_size: 4096,
            max_block_wait: Some(DEFAULT_MAX_BLOCK_WAIT),
            max_in_flight: 0,
            rule: SignatureRule::Strict,
            exec: ExecConfig::default(),
            registry: ProgramRegistry::default(),
            genesis: Vec::new(),
            resolver: None,
            verifier: None,
            hasher: None,
        }
    }
}

impl std::fmt::Debug for PipelineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineConfig")
            .field("backend", &self.backend)
            .field("sigverify_batch", &self.sigverify_batch)
            .field("channel_capacity", &self.channel_capacity)
            .field("worker_threads", &self.worker_threads)
            .field("stripes", &self.stripes)
            .field("dedup_window", &self.dedup_window)
            .field("block_size", &self.block_size)
            .field("max_block_wait", &self.max_block_wait)
            .field("rule", &self.rule)
            .field("max_in_flight", &self.max_in_flight)
            .field("genesis_accounts", &self.genesis.len())
            .field("resolver", &self.resolver.is_some())
            .finish_non_exhaustive()
    }
}

/// Why the pipeline could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The configuration is invalid.
    #[error("invalid pipeline configuration: {0}")]
    Config(String),
    /// The account table cannot be built as configured (stripe count).
    #[error("invalid pipeline configuration")]
    Table(#[from] crate::state::StateError),
    /// The signature backend could not be opened (e.g. `gpu` without an adapter).
    #[error(transparent)]
    Backend(#[from] crate::sigverify::SigVerifyError),
    /// The hashing backend could not be opened.
    #[error(transparent)]
    Hash(#[from] crate::hash::HashError),
    /// A thread could not be started.
    #[error("cannot start a pipeline thread")]
    Spawn(#[source] std::io::Error),
    /// A worker pool could not be started.
    #[error("cannot start a pipeline worker pool")]
    Pool(#[from] rayon::ThreadPoolBuildError),
    /// The pipeline has stopped (a stage thread ended); nothing more can be submitted.
    #[error("the pipeline has stopped")]
    Closed,
    /// A stage thread panicked: a bug. The blocks it held have no result.
    #[error("pipeline stage {0} panicked")]
    StagePanicked(&'static str),
}

/// Answer of [`Pipeline::try_submit_block`] when the block was not taken.
#[derive(Debug)]
pub enum TrySubmitError {
    /// The first queue is full: the packets are handed back; try again later.
    Full(Vec<Vec<u8>>),
    /// The pipeline has stopped.
    Closed(Vec<Vec<u8>>),
}

/// A block on its way through the stages, with each packet's arrival time (latency runs
/// from there to the block's result).
pub(crate) struct BlockIn {
    id: u64,
    packets: Vec<Vec<u8>>,
    arrivals: Vec<Instant>,
}

/// A running pipeline. Dropping it shuts it down gracefully (results not yet received
/// are discarded); [`Pipeline::finish`] shuts down and returns them.
pub struct Pipeline {
    intake: Arc<Intake>,
    output: Receiver<BlockResult>,
    queue_depths: Vec<Box<dyn Fn() -> usize + Send + Sync>>,
    threads: Vec<(&'static str, JoinHandle<()>)>,
    metrics: Arc<Metrics>,
    verifier: Arc<BackendVerifier>,
    hasher: Arc<BackendHasher>,
    table: Arc<AccountsTable>,
    started: Arc<OnceLock<Instant>>,
    in_flight_bound: usize,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("intake", &self.intake)
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Starts the stage threads.
    ///
    /// # Errors
    /// An invalid configuration, a backend that cannot be opened (`gpu` without an
    /// adapter), or threads that cannot be started.
    pub fn new(config: PipelineConfig) -> Result<Self, PipelineError> {
        if config.channel_capacity == 0 || config.sigverify_batch == 0 || config.block_size == 0 {
            return Err(PipelineError::Config(
                "channel_capacity, sigverify_batch and block_size must be at least 1".into(),
            ));
        }
        if config.in_flight_bound() < config.block_size {
            return Err(PipelineError::Config(format!(
                "max_in_flight ({}) must be at least block_size ({})",
                config.max_in_flight, config.block_size
            )));
        }
        let verifier = match &config.verifier {
            Some(v) if v.signature_rule() != config.rule => {
                return Err(PipelineError::Config(format!(
                    "the verifier implements the {} signature rule, the configuration asks for {}",
                    v.signature_rule(),
                    config.rule
                )));
            }
            Some(v) => Arc::clone(v),
            None => Arc::new(BackendVerifier::open_with_rule(
                config.backend,
                config.rule,
            )?),
        };
        let hasher = match &config.hasher {
            Some(h) => Arc::clone(h),
            // digests are hashed on the parse and commit stages' own threads when not on
            // the GPU
            None => Arc::new(
                BackendHasher::open(config.backend)?.with_cpu(CpuHasher::on_calling_thread()),
            ),
        };
        let table = Arc::new(AccountsTable::new(config.stripes)?);
        table.load(config.genesis.iter().cloned());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.worker_threads)
            .thread_name(|i| format!("txpipe-exec-{i}"))
            .build()?;
        let metrics = Arc::new(Metrics::new());
        let started = Arc::new(OnceLock::new());
        // a verifier that gathers queued blocks into large batches (a GPU) needs room for
        // them: in transactions under the bound, and in blocks in the queues around it
        let preferred = verifier.preferred_batch();
        let in_flight_bound = config.in_flight_bound_with(preferred);
        let limit = Arc::new(InFlightLimit::new(in_flight_bound));

        let cap = config.channel_capacity;
        let around_sigverify = cap.saturating_add(preferred.div_ceil(config.block_size));
        let (in_tx, in_rx) = bounded::<BlockIn>(cap);
        let (parsed_tx, parsed_rx) = bounded(around_sigverify);
        let (verified_tx, verified_rx) = bounded(around_sigverify);
        let (executed_tx, executed_rx) = bounded(cap);
        let (out_tx, out_rx) = bounded::<BlockResult>(cap);
        // the input queue of each stage thread, in STAGE_THREADS order
        let queue_depths: Vec<Box<dyn Fn() -> usize + Send + Sync>> = vec![
            Box::new({
                let r = in_rx.clone();
                move || r.len()
            }),
            Box::new({
                let r = parsed_rx.clone();
                move || r.len()
            }),
            Box::new({
                let r = verified_rx.clone();
                move || r.len()
            }),
            Box::new({
                let r = executed_rx.clone();
                move || r.len()
            }),
        ];

        let mut threads = Vec::with_capacity(STAGE_THREADS.len());
        let parse = stages::ParseStage {
            hasher: Arc::clone(&hasher),
            window: DedupWindow::new(config.dedup_window),
        };
        driver::spawn(parse, in_rx, parsed_tx, &metrics, &mut threads)?;
        let sigverify = stages::SigverifyStage {
            verifier: Arc::clone(&verifier),
            batch: config.sigverify_batch,
        };
        driver::spawn(sigverify, parsed_rx, verified_tx, &metrics, &mut threads)?;
        let execute = stages::ExecuteStage {
            executor: crate::execute::Executor::new(config.registry.clone(), config.exec.clone()),
            table: Arc::clone(&table),
            resolver: config.resolver.clone(),
            window: DedupWindow::new(config.dedup_window),
            pool,
        };
        driver::spawn(execute, verified_rx, executed_tx, &metrics, &mut threads)?;
        let commit = stages::CommitStage {
            in_flight: Arc::clone(&limit),
            hasher: Arc::clone(&hasher),
            pool: rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .thread_name(|_| "txpipe-commit-hash".into())
                .build()?,
            arrivals: None,
        };
        driver::spawn(commit, executed_rx, out_tx, &metrics, &mut threads)?;
        let intake = Arc::new(Intake::new(
            in_tx,
            config.block_size,
            config.max_block_wait,
            limit,
            Arc::clone(&metrics),
            Arc::clone(&started),
        ));
        let closer = Arc::clone(&intake);
        let handle = std::thread::Builder::new()
            .name("txpipe-intake".into())
            .spawn(move || closer.run_closer())
            .map_err(PipelineError::Spawn)?;
        threads.push(("intake", handle));

        Ok(Self {
            intake,
            output: out_rx,
            queue_depths,
            threads,
            metrics,
            verifier,
            hasher,
            table,
            started,
            in_flight_bound,
        })
    }

    /// Submits a block of packets; blocks while the first queue is full or the in-flight
    /// bound is reached (backpressure). Streamed packets not yet in a block go first.
    /// Returns the block number. Results must be received ([`Pipeline::recv`]) for the
    /// pipeline to make progress: run the consumer on another thread, or use
    /// [`Pipeline::run`].
    ///
    /// # Errors
    /// [`PipelineError::Closed`] when the pipeline has stopped.
    pub fn submit_block(&mut self, packets: Vec<Vec<u8>>) -> Result<u64, PipelineError> {
        self.intake.submit_block(packets)
    }

    /// Submits a block without waiting: a full first queue, or no room under the in-flight
    /// bound, hands the packets back.
    ///
    /// # Errors
    /// [`TrySubmitError::Full`] or [`TrySubmitError::Closed`], with the packets.
    pub fn try_submit_block(&mut self, packets: Vec<Vec<u8>>) -> Result<u64, TrySubmitError> {
        self.intake.try_submit_block(packets)
    }

    /// Streams one packet, arriving now: packets are grouped into blocks that close when
    /// `block_size` long, when their first packet has waited `max_block_wait`, or when the
    /// pipeline has nothing else in flight (a thread of the pipeline closes those). Waits while the in-flight bound is reached, or a full
    /// block meets a full first queue. Returns the number of the block submitted, if any.
    ///
    /// # Errors
    /// [`PipelineError::Closed`] when the pipeline has stopped.
    pub fn submit(&mut self, packet: Vec<u8>) -> Result<Option<u64>, PipelineError> {
        self.intake.submit_at(packet, Instant::now())
    }

    /// As [`Pipeline::submit`], for a packet that arrived at `arrival` (its latency runs
    /// from there: an open-loop load generator passes the scheduled arrival time, so time
    /// spent waiting to be submitted counts).
    ///
    /// # Errors
    /// [`PipelineError::Closed`] when the pipeline has stopped.
    pub fn submit_at(
        &mut self,
        packet: Vec<u8>,
        arrival: Instant,
    ) -> Result<Option<u64>, PipelineError> {
        self.intake.submit_at(packet, arrival)
    }

    /// Submits the streamed packets not yet in a block, if any.
    ///
    /// # Errors
    /// [`PipelineError::Closed`] when the pipeline has stopped.
    pub fn flush(&mut self) -> Result<Option<u64>, PipelineError> {
        self.intake.flush()
    }

    /// The in-flight bound in force, in transactions
    /// ([`PipelineConfig::in_flight_bound_with`] the verifier's preferred batch).
    pub fn in_flight_bound(&self) -> usize {
        self.in_flight_bound
    }

    /// Transactions submitted and not yet committed.
    pub fn in_flight(&self) -> usize {
        self.intake.limit.current()
    }

    /// The next block's result, waiting for it; `None` once the pipeline has shut down.
    pub fn recv(&self) -> Option<BlockResult> {
        self.output.recv().ok()
    }

    /// The next block's result if one is ready.
    pub fn try_recv(&self) -> Option<BlockResult> {
        self.output.try_recv().ok()
    }

    /// A clone of the results channel, for a consumer thread.
    pub fn results(&self) -> Receiver<BlockResult> {
        self.output.clone()
    }

    /// The account table (live: it changes as blocks execute).
    pub fn accounts(&self) -> &Arc<AccountsTable> {
        &self.table
    }

    /// The signature verifier in use (its counters show the GPU/CPU split).
    pub fn verifier(&self) -> &Arc<BackendVerifier> {
        &self.verifier
    }

    /// The message hasher in use.
    pub fn hasher(&self) -> &Arc<BackendHasher> {
        &self.hasher
    }

    /// Current metrics.
    pub fn metrics(&self) -> MetricsSnapshot {
        let elapsed = self
            .started
            .get()
            .map(|t| t.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        let depths: Vec<usize> = self.queue_depths.iter().map(|f| f()).collect();
        stages::snapshot(
            &self.metrics,
            &self.verifier,
            elapsed,
            &depths,
            self.intake.limit.current(),
        )
    }

    /// Submits any streamed packets and closes the input, without waiting: the stages
    /// finish what they hold, and the results channel ends after the last block's result.
    /// Use it when a consumer thread reads [`Pipeline::results`] to the end; then call
    /// [`Pipeline::finish`] to join the threads.
    ///
    /// # Errors
    /// [`PipelineError::Closed`] when the streamed packets could not be submitted.
    pub fn close(&mut self) -> Result<(), PipelineError> {
        self.intake.close()
    }

    /// Submits any streamed packets, closes the input, waits until every submitted
    /// transaction has its result, joins every thread, and returns the results not yet
    /// received plus the final metrics. (With a consumer thread of its own, call
    /// [`Pipeline::close`] first and let the consumer read to the end: two readers of one
    /// channel would split the results between them.)
    ///
    /// # Errors
    /// [`PipelineError::StagePanicked`] when a stage thread panicked (a bug).
    pub fn finish(mut self) -> Result<(Vec<BlockResult>, MetricsSnapshot), PipelineError> {
        // results are read while the last packets go in, so a full output queue cannot
        // stall the close
        let output = self.output.clone();
        let collector = std::thread::Builder::new()
            .name("txpipe-collect".into())
            .spawn(move || output.iter().collect::<Vec<_>>())
            .map_err(PipelineError::Spawn)?;
        let closed = self.intake.close();
        let results = collector
            .join()
            .map_err(|_| PipelineError::StagePanicked("collect"))?;
        self.join()?;
        closed?;
        let metrics = self.metrics();
        Ok((results, metrics))
    }

    fn join(&mut self) -> Result<(), PipelineError> {
        let mut first_err = None;
        for (name, handle) in self.threads.drain(..) {
            if handle.join().is_err() && first_err.is_none() {
                first_err = Some(PipelineError::StagePanicked(name));
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Runs `blocks` through the pipeline to the end: submits them on this thread while
    /// another collects results, then shuts down. Returns every block's result in order
    /// and the final metrics.
    ///
    /// # Errors
    /// As [`Pipeline::submit_block`] and [`Pipeline::finish`].
    pub fn run(
        mut self,
        blocks: impl IntoIterator<Item = Vec<Vec<u8>>>,
    ) -> Result<(Vec<BlockResult>, MetricsSnapshot), PipelineError> {
        let results = self.results();
        let collector = std::thread::Builder::new()
            .name("txpipe-collect".into())
            .spawn(move || results.iter().collect::<Vec<_>>())
            .map_err(PipelineError::Spawn)?;
        let mut submit_err = None;
        for block in blocks {
            if let Err(e) = self.submit_block(block) {
                submit_err = Some(e);
                break;
            }
        }
        let flushed = self.intake.close(); // the stages drain and stop; the collector sees the end
        let all = collector
            .join()
            .map_err(|_| PipelineError::StagePanicked("collect"))?;
        self.join()?;
        let metrics = self.metrics();
        match submit_err.map_or(flushed, Err) {
            Err(e) => Err(e),
            Ok(()) => Ok((all, metrics)),
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        // drain (on another thread, started first) so that no stage, and no block being
        // closed on time, waits on a full queue while the input closes; then join
        let output = self.output.clone();
        let drainer = std::thread::Builder::new()
            .name("txpipe-drain".into())
            .spawn(move || for _ in output.iter() {});
        self.intake.shutdown();
        match drainer {
            Ok(handle) => {
                let _ = handle.join();
            }
            Err(_) => for _ in self.output.iter() {},
        }
        let _ = self.join();
    }
}
