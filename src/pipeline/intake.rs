//! How packets enter the pipeline: whole blocks, or one packet at a time grouped into
//! blocks that close when full, **or** when their first packet has waited
//! [`PipelineConfig::max_block_wait`](super::PipelineConfig::max_block_wait), **or** as soon
//! as the pipeline has nothing else in flight (so light traffic is not held back waiting for
//! a full block, and heavy traffic forms larger blocks while the stages are busy); and the
//! bound on transactions in flight, so the queues never hold more than a fixed amount of
//! work whatever the load.
//!
//! Every send to the first stage happens under the intake's lock, in submission order:
//! streamed packets, a block closed on time by the closer thread and whole blocks never
//! overtake one another.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};

use super::metrics::Metrics;
use super::{BlockIn, PipelineError, TrySubmitError};

/// Transactions submitted and not yet committed, bounded by `max` (0: no bound).
#[derive(Debug)]
pub(crate) struct InFlightLimit {
    max: usize,
    count: Mutex<usize>,
    freed: Condvar,
    /// The intake's closer waits on this: a release may make the pipeline idle.
    idle: Arc<Condvar>,
    /// Set when the stages have stopped: nothing will free room any more.
    closed: std::sync::atomic::AtomicBool,
}

impl InFlightLimit {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            count: Mutex::new(0),
            freed: Condvar::new(),
            idle: Arc::new(Condvar::new()),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The stages have stopped: every waiting and later `acquire` fails.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _guard = self.count.lock();
        self.freed.notify_all();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn fits(&self, count: usize, n: usize) -> bool {
        // a block larger than the bound is let in alone, rather than never
        self.max == 0 || count == 0 || count.saturating_add(n) <= self.max
    }

    fn lock(&self) -> Result<MutexGuard<'_, usize>, PipelineError> {
        self.count.lock().map_err(|_| PipelineError::Closed)
    }

    /// Takes room for `n` transactions, waiting while there is none.
    fn acquire(&self, n: usize) -> Result<(), PipelineError> {
        let mut count = self.lock()?;
        while !self.fits(*count, n) {
            if self.is_closed() {
                return Err(PipelineError::Closed);
            }
            count = self.freed.wait(count).map_err(|_| PipelineError::Closed)?;
        }
        *count += n;
        Ok(())
    }

    /// Takes room for `n` transactions if there is some now.
    fn try_acquire(&self, n: usize) -> bool {
        match self.lock() {
            Ok(mut count) if self.fits(*count, n) => {
                *count += n;
                true
            }
            _ => false,
        }
    }

    /// Gives back room for `n` transactions (committed, or never sent).
    pub(crate) fn release(&self, n: usize) {
        if let Ok(mut count) = self.count.lock() {
            *count = count.saturating_sub(n);
            self.freed.notify_all();
        }
        // without the intake's lock (its holder may be waiting on the stages): a closer
        // that misses this notice still closes its block at the time bound
        self.idle.notify_all();
    }

    /// Transactions in flight now.
    pub(crate) fn current(&self) -> usize {
        self.count.lock().map_or(0, |c| *c)
    }
}

/// The block being filled, and what every send needs.
struct Pending {
    packets: Vec<Vec<u8>>,
    arrivals: Vec<Instant>,
    /// When the first packet of the block entered the intake (the closing deadline runs
    /// from here, not from a scheduled arrival that may lie in the past).
    opened: Option<Instant>,
    next_block: u64,
    input: Option<Sender<BlockIn>>,
}

/// The pipeline's intake, shared by the submitting thread and the closer thread.
pub(crate) struct Intake {
    state: Mutex<Pending>,
    /// Shared with the in-flight limit, which notifies it when work is committed.
    wake: Arc<Condvar>,
    block_size: usize,
    max_wait: Option<Duration>,
    pub(crate) limit: Arc<InFlightLimit>,
    metrics: Arc<Metrics>,
    started: Arc<OnceLock<Instant>>,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("block_size", &self.block_size)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

impl Intake {
    pub(crate) fn new(
        input: Sender<BlockIn>,
        block_size: usize,
        max_wait: Option<Duration>,
        limit: Arc<InFlightLimit>,
        metrics: Arc<Metrics>,
        started: Arc<OnceLock<Instant>>,
    ) -> Self {
        Self {
            state: Mutex::new(Pending {
                packets: Vec::new(),
                arrivals: Vec::new(),
                opened: None,
                next_block: 0,
                input: Some(input),
            }),
            wake: Arc::clone(&limit.idle),
            block_size,
            max_wait,
            limit,
            metrics,
            started,
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Pending>, PipelineError> {
        self.state.lock().map_err(|_| PipelineError::Closed)
    }

    fn block(&self, st: &mut Pending, packets: Vec<Vec<u8>>, arrivals: Vec<Instant>) -> BlockIn {
        let now = Instant::now();
        self.started.get_or_init(|| now);
        let id = st.next_block;
        BlockIn {
            id,
            packets,
            arrivals,
        }
    }

    fn sent(&self, st: &mut Pending, n: usize) {
        st.next_block += 1;
        self.metrics
            .submitted
            .fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Sends the block being filled, if any (waiting under backpressure).
    fn send_pending(&self, st: &mut Pending) -> Result<Option<u64>, PipelineError> {
        if st.packets.is_empty() {
            return Ok(None);
        }
        let packets = std::mem::take(&mut st.packets);
        let arrivals = std::mem::take(&mut st.arrivals);
        st.opened = None;
        let n = packets.len();
        let block = self.block(st, packets, arrivals);
        let id = block.id;
        let input = st.input.as_ref().ok_or(PipelineError::Closed)?;
        input.send(block).map_err(|_| PipelineError::Closed)?;
        self.sent(st, n);
        Ok(Some(id))
    }

    /// A whole block: the block being filled goes first, then this one.
    pub(crate) fn submit_block(&self, packets: Vec<Vec<u8>>) -> Result<u64, PipelineError> {
        let n = packets.len();
        self.limit.acquire(n)?;
        let now = Instant::now();
        let mut st = self.lock()?;
        self.send_pending(&mut st)?;
        let block = self.block(&mut st, packets, vec![now; n]);
        let id = block.id;
        let input = st.input.as_ref().ok_or(PipelineError::Closed)?;
        input.send(block).map_err(|_| PipelineError::Closed)?;
        self.sent(&mut st, n);
        Ok(id)
    }

    /// A whole block if there is room now, else the packets back.
    pub(crate) fn try_submit_block(&self, packets: Vec<Vec<u8>>) -> Result<u64, TrySubmitError> {
        let n = packets.len();
        if self.limit.is_closed() {
            return Err(TrySubmitError::Closed(packets));
        }
        if !self.limit.try_acquire(n) {
            return Err(TrySubmitError::Full(packets));
        }
        let Ok(mut st) = self.lock() else {
            self.limit.release(n);
            return Err(TrySubmitError::Closed(packets));
        };
        let Some(input) = st.input.clone() else {
            self.limit.release(n);
            return Err(TrySubmitError::Closed(packets));
        };
        if !st.packets.is_empty() {
            let pending = std::mem::take(&mut st.packets);
            let arrivals = std::mem::take(&mut st.arrivals);
            let count = pending.len();
            let block = self.block(&mut st, pending, arrivals);
            match input.try_send(block) {
                Ok(()) => {
                    st.opened = None;
                    self.sent(&mut st, count);
                }
                Err(e) => {
                    // the streamed packets stay where they were
                    let back = e.into_inner();
                    st.packets = back.packets;
                    st.arrivals = back.arrivals;
                    self.limit.release(n);
                    return Err(TrySubmitError::Full(packets));
                }
            }
        }
        let now = Instant::now();
        let block = self.block(&mut st, packets, vec![now; n]);
        let id = block.id;
        match input.try_send(block) {
            Ok(()) => {
                self.sent(&mut st, n);
                Ok(id)
            }
            Err(TrySendError::Full(b)) => {
                self.limit.release(n);
                Err(TrySubmitError::Full(b.packets))
            }
            Err(TrySendError::Disconnected(b)) => {
                self.limit.release(n);
                Err(TrySubmitError::Closed(b.packets))
            }
        }
    }

    /// One packet that arrived at `arrival`; the block it joins is sent when full.
    pub(crate) fn submit_at(
        &self,
        packet: Vec<u8>,
        arrival: Instant,
    ) -> Result<Option<u64>, PipelineError> {
        self.limit.acquire(1)?;
        let mut st = self.lock()?;
        if st.input.is_none() {
            self.limit.release(1);
            return Err(PipelineError::Closed);
        }
        st.packets.push(packet);
        st.arrivals.push(arrival);
        if st.packets.len() >= self.block_size {
            return self.send_pending(&mut st);
        }
        if st.opened.is_none() {
            st.opened = Some(Instant::now());
            self.wake.notify_all();
        }
        Ok(None)
    }

    /// Sends the block being filled now.
    pub(crate) fn flush(&self) -> Result<Option<u64>, PipelineError> {
        let mut st = self.lock()?;
        self.send_pending(&mut st)
    }

    /// Sends the block being filled and closes the pipeline's input; the closer thread
    /// ends.
    pub(crate) fn close(&self) -> Result<(), PipelineError> {
        let mut st = self.lock()?;
        let flushed = self.send_pending(&mut st);
        st.input = None;
        self.wake.notify_all();
        flushed.map(|_| ())
    }

    /// Closes the pipeline's input without sending the block being filled (its packets
    /// are dropped: the pipeline is being dropped).
    pub(crate) fn shutdown(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.input = None;
            let dropped = st.packets.len();
            st.packets.clear();
            st.arrivals.clear();
            st.opened = None;
            self.limit.release(dropped);
            self.wake.notify_all();
        }
    }

    /// The closer thread: sends the block being filled once its first packet has waited
    /// `max_wait`, until the intake closes.
    pub(crate) fn run_closer(&self) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        loop {
            if st.input.is_none() {
                return;
            }
            let deadline = match (st.opened, self.max_wait) {
                // nothing else in flight: the stages are idle, so the block goes now
                (Some(_), Some(_)) if self.limit.current() <= st.packets.len() => Instant::now(),
                (Some(opened), Some(wait)) => opened + wait,
                _ => match self.wake.wait(st) {
                    Ok(g) => {
                        st = g;
                        continue;
                    }
                    Err(_) => return,
                },
            };
            let now = Instant::now();
            if now >= deadline {
                if self.send_pending(&mut st).is_err() {
                    // the stages are gone: nothing more can be sent
                    return;
                }
                continue;
            }
            match self.wake.wait_timeout(st, deadline - now) {
                Ok((g, _)) => st = g,
                Err(_) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_waits_for_room_and_lets_an_oversized_block_in_alone() {
        let limit = Arc::new(InFlightLimit::new(10));
        assert!(limit.try_acquire(6));
        assert!(!limit.try_acquire(5));
        assert!(limit.try_acquire(4));
        assert_eq!(limit.current(), 10);
        let waiter = {
            let limit = Arc::clone(&limit);
            std::thread::spawn(move || limit.acquire(3))
        };
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(limit.current(), 10, "the waiter waits");
        limit.release(6);
        waiter.join().expect("thread").expect("acquired");
        assert_eq!(limit.current(), 7);
        limit.release(7);
        // larger than the bound: admitted when nothing else is in flight
        assert!(limit.try_acquire(25));
        assert!(!limit.try_acquire(1));
        limit.release(25);
        let unbounded = InFlightLimit::new(0);
        assert!(unbounded.try_acquire(usize::MAX / 2));
    }
}
