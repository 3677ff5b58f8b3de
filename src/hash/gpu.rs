//! SHA-256 on the GPU (`shaders/sha256.wgsl`): batches of variable-length messages (one
//! invocation per message) and hash chains for proof of history (one invocation per chain
//! segment).
//!
//! Buffers live as long as the hasher and only grow; a batch larger than the per-dispatch
//! limits (bytes per storage binding, workgroups per dimension) is split into chunks.

use std::sync::{Arc, Mutex};

use super::{check_lengths, BatchHasher, HashError};
use crate::gpu::context::{GpuContext, GrowableBuffer};
use crate::gpu::{Cause, GpuError, GpuTimeout, TimeoutCell};
use crate::Hash;

const WGSL: &str = include_str!("../../shaders/sha256.wgsl");
const WORKGROUP: u32 = 64;
/// Largest packed message data per dispatch (also bounds every buffer's capacity to twice
/// this, well under the 128 MiB storage binding size WebGPU guarantees).
const MAX_CHUNK_BYTES: u64 = 32 << 20;
/// Hashes per chain and per dispatch: a long chain is split over several dispatches so no
/// single dispatch runs long enough to trip a driver watchdog, and so the chain loop stays
/// under lavapipe's bound of 65,535 loop iterations per invocation (see the shader).
const CHAIN_ITERS_PER_DISPATCH: u32 = 8192;
/// Largest message the GPU path takes: one loop iteration per 64-byte block must stay under
/// lavapipe's loop bound (65,535 iterations, 4 MiB); larger messages are
/// [`HashError::Unsupported`] and a [`crate::hash::BackendHasher`] hashes them on the CPU.
pub const MAX_GPU_MESSAGE_BYTES: usize = 2 << 20;

/// The pipelines and buffers of a hasher on one device: replaced whole after a device
/// loss; its buffers are replaced after any failed batch (a timed-out batch may still hold
/// them).
struct State {
    ctx: Arc<GpuContext>,
    batch_pipeline: wgpu::ComputePipeline,
    chain_pipeline: wgpu::ComputePipeline,
    params: wgpu::Buffer,
    data: GrowableBuffer,
    index: GrowableBuffer,
    out: GrowableBuffer,
    remaining: GrowableBuffer,
    readback: GrowableBuffer,
    // Host-side staging, reused across batches.
    words: Vec<u32>,
    entries: Vec<[u32; 2]>,
}

impl State {
    /// Compiles the two pipelines on the process-wide device (a new one after a loss).
    fn open() -> Result<Self, GpuError> {
        let ctx = GpuContext::shared()?;
        let batch_pipeline = ctx.compute_pipeline("sha256_batch", WGSL, "sha256_batch", None)?;
        let chain_pipeline = ctx.compute_pipeline("sha256_chain", WGSL, "sha256_chain", None)?;
        ctx.save_pipeline_cache();
        let params = ctx.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("sha256 params"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Ok(Self {
            data: GrowableBuffer::storage("sha256 data", &ctx),
            index: GrowableBuffer::storage("sha256 index", &ctx),
            out: GrowableBuffer::storage("sha256 out", &ctx),
            remaining: GrowableBuffer::storage("sha256 remaining", &ctx),
            readback: GrowableBuffer::readback("sha256 readback", &ctx),
            words: Vec::new(),
            entries: Vec::new(),
            params,
            batch_pipeline,
            chain_pipeline,
            ctx,
        })
    }

    /// New buffers on the same device, after a failed batch.
    fn fresh_buffers(&mut self) {
        let ctx = Arc::clone(&self.ctx);
        self.data = GrowableBuffer::storage("sha256 data", &ctx);
        self.index = GrowableBuffer::storage("sha256 index", &ctx);
        self.out = GrowableBuffer::storage("sha256 out", &ctx);
        self.remaining = GrowableBuffer::storage("sha256 remaining", &ctx);
        self.readback = GrowableBuffer::readback("sha256 readback", &ctx);
    }

    /// Gives back the staging vectors' peak capacity once it is much larger than their use.
    fn trim(&mut self) {
        const KEEP: usize = 1 << 20;
        if self.words.capacity() > KEEP && self.words.capacity() > 2 * self.words.len() {
            self.words.shrink_to(self.words.len().max(KEEP));
        }
        if self.entries.capacity() > KEEP && self.entries.capacity() > 2 * self.entries.len() {
            self.entries.shrink_to(self.entries.len().max(KEEP));
        }
    }
}

/// The GPU SHA-256 backend on the process-wide device.
///
/// A failed batch (an error, a timeout, a lost device) is an error, never a digest:
/// [`super::BackendHasher`] redoes it on the CPU. The hasher recovers by itself: after a
/// failure its buffers are made anew, and after a device loss the next batch opens a new
/// device and compiles its pipelines again.
pub struct GpuHasher {
    state: Mutex<State>,
    timeout: TimeoutCell,
    max_invocations: u64,
    max_chunk_bytes: u64,
}

impl std::fmt::Debug for GpuHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuHasher")
            .field("adapter", &self.adapter_label())
            .finish()
    }
}

fn failure(m: &str) -> HashError {
    HashError::GpuFailure(GpuError::Submission(Cause::msg(m)))
}

impl GpuHasher {
    /// Opens the shared GPU context and compiles the two SHA-256 pipelines.
    ///
    /// # Errors
    /// [`GpuError`] when there is no adapter or the shader cannot be compiled.
    pub fn open() -> Result<Self, GpuError> {
        let state = State::open()?;
        let ctx = Arc::clone(&state.ctx);
        // Items per dispatch: bounded by the workgroup grid and by the 32-byte outputs
        // fitting one chunk (so every buffer stays under twice the chunk size).
        let max_chunk_bytes = MAX_CHUNK_BYTES.min(ctx.storage_limit() / 2);
        let max_invocations = u64::from(ctx.limits().max_compute_workgroups_per_dimension)
            .saturating_mul(u64::from(WORKGROUP))
            .clamp(u64::from(WORKGROUP), max_chunk_bytes / 32);
        Ok(Self {
            state: Mutex::new(state),
            timeout: TimeoutCell::new(ctx.default_timeout()),
            max_invocations,
            max_chunk_bytes,
        })
    }

    /// Changes how long a dispatch may take before it is declared failed (see
    /// [`GpuTimeout`]; an item is a message or a chain, plus one per KiB hashed or per 1,024
    /// chain hashes).
    pub fn set_timeout(&self, timeout: GpuTimeout) {
        self.timeout.set(timeout);
    }

    /// The timeout in force.
    pub fn timeout(&self) -> GpuTimeout {
        self.timeout.get()
    }

    /// Caps the messages (or chains) per dispatch below the device-derived limit, so that
    /// large batches are split into several dispatches (tests use it to exercise the split).
    pub fn with_max_items_per_dispatch(mut self, items: usize) -> Self {
        self.max_invocations = self.max_invocations.min(items.max(1) as u64);
        self
    }

    /// The adapter: name, device type and API (e.g. `llvmpipe (LLVM 15.0.6, 256 bits)
    /// [Cpu, Vulkan]`).
    pub fn adapter_label(&self) -> String {
        match self.state.lock() {
            Ok(st) => st.ctx.label(),
            Err(_) => "unknown (hasher state poisoned)".into(),
        }
    }

    /// Whether the adapter is a software renderer running on the CPU (lavapipe/llvmpipe):
    /// correct, but no faster than the CPU backend.
    pub fn is_software(&self) -> bool {
        self.state.lock().is_ok_and(|st| st.ctx.is_software())
    }

    /// Runs `work` on the hasher's device: a new device first if the old one was lost,
    /// new buffers after a failure.
    fn with_state(
        &self,
        work: impl FnOnce(&Self, &mut State) -> Result<(), HashError>,
    ) -> Result<(), HashError> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| failure("GPU hasher state poisoned"))?;
        if st.ctx.is_lost() {
            *st = State::open().map_err(HashError::GpuFailure)?;
        }
        let result = work(self, &mut st);
        if result.is_err() && !st.ctx.check_lost() {
            // the device lives on: new buffers (a timed-out batch may still hold the old
            // ones); a lost device is replaced whole at the next batch
            st.fresh_buffers();
        }
        st.trim();
        result
    }

    /// Hashes `messages` (already checked to fit one chunk) into `out`.
    fn run_batch_chunk(
        &self,
        st: &mut State,
        messages: &[&[u8]],
        out: &mut [Hash],
    ) -> Result<(), HashError> {
        let ctx = Arc::clone(&st.ctx);
        let (device, queue) = (ctx.device(), ctx.queue());
        let n = messages.len();
        if n == 0 {
            return Ok(());
        }
        st.words.clear();
        st.entries.clear();
        for m in messages {
            let first = u32::try_from(st.words.len())
                .map_err(|_| HashError::Unsupported("packed batch too large".into()))?;
            let len = u32::try_from(m.len())
                .map_err(|_| HashError::Unsupported("message too large".into()))?;
            st.entries.push([first, len]);
            for c in m.chunks(4) {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                st.words.push(u32::from_le_bytes(b));
            }
        }
        if st.words.is_empty() {
            st.words.push(0); // bindings may not be empty
        }
        let data_bytes = (st.words.len() * 4) as u64;
        let index_bytes = (n * 8) as u64;
        let out_bytes = (n * 32) as u64;
        st.data.ensure(device, data_bytes)?;
        st.index.ensure(device, index_bytes)?;
        st.out.ensure(device, out_bytes)?;
        st.readback.ensure(device, out_bytes)?;
        let (Some(data), Some(index), Some(outb), Some(readback)) = (
            st.data.buffer(),
            st.index.buffer(),
            st.out.buffer(),
            st.readback.buffer(),
        ) else {
            return Err(failure("buffer allocation failed"));
        };
        let count = n as u32; // n <= max_invocations <= u32::MAX
        queue.write_buffer(&st.params, 0, bytemuck::cast_slice(&[count, 0u32, 0, 0]));
        queue.write_buffer(data, 0, bytemuck::cast_slice(&st.words));
        queue.write_buffer(index, 0, bytemuck::cast_slice(&st.entries));
        let layout = st.batch_pipeline.get_bind_group_layout(0);
        let bind = ctx.bind_buffers(
            "sha256_batch",
            &layout,
            &[(0, &st.params), (1, data), (2, index), (3, outb)],
        );
        let pass = Passes {
            label: "sha256_batch",
            pipeline: &st.batch_pipeline,
            bind: &bind,
            count,
            passes: 1,
        };
        let units = n + usize::try_from(data_bytes / 1024).unwrap_or(usize::MAX);
        self.run_and_read(&ctx, &pass, (outb, readback), out_bytes, units, out)
    }

    /// Encodes `pass.passes` compute passes of `pass.pipeline` over `pass.count` items (one
    /// pass per dispatch: a pass boundary orders the read-modify-write of buffers between
    /// dispatches on every backend), copies `bytes` of `outb` to `readback`, submits, waits,
    /// and converts the read-back words into `out`.
    fn run_and_read(
        &self,
        ctx: &GpuContext,
        pass: &Passes<'_>,
        (outb, readback): (&wgpu::Buffer, &wgpu::Buffer),
        bytes: u64,
        units: usize,
        out: &mut [Hash],
    ) -> Result<(), HashError> {
        let timeout = self.timeout().for_items(units);
        let mut enc = ctx.encode_dispatches(
            pass.label,
            pass.pipeline,
            pass.bind,
            pass.count.div_ceil(WORKGROUP),
            pass.passes,
        );
        enc.copy_buffer_to_buffer(outb, 0, readback, 0, bytes);
        ctx.submit_and_wait([enc.finish()], timeout)
            .map_err(HashError::GpuFailure)?;
        let read = ctx
            .read_mapped(readback, bytes, timeout)
            .map_err(HashError::GpuFailure)?;
        words_to_hashes(&read, out)
    }

    /// Runs chains (already checked to fit one chunk).
    fn run_chain_chunk(
        &self,
        st: &mut State,
        starts: &[Hash],
        counts: &[u32],
        out: &mut [Hash],
    ) -> Result<(), HashError> {
        let ctx = Arc::clone(&st.ctx);
        let (device, queue) = (ctx.device(), ctx.queue());
        let n = starts.len();
        if n == 0 {
            return Ok(());
        }
        st.words.clear();
        for s in starts {
            for c in s.chunks_exact(4) {
                st.words.push(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
            }
        }
        let state_bytes = (n * 32) as u64;
        let rem_bytes = (n * 4) as u64;
        st.out.ensure(device, state_bytes)?;
        st.remaining.ensure(device, rem_bytes)?;
        st.readback.ensure(device, state_bytes)?;
        let (Some(outb), Some(rem), Some(readback)) =
            (st.out.buffer(), st.remaining.buffer(), st.readback.buffer())
        else {
            return Err(failure("buffer allocation failed"));
        };
        let count = n as u32; // n <= max_invocations <= u32::MAX
        let max = counts.iter().copied().max().unwrap_or(0);
        let dispatches = max.div_ceil(CHAIN_ITERS_PER_DISPATCH);
        queue.write_buffer(
            &st.params,
            0,
            bytemuck::cast_slice(&[count, CHAIN_ITERS_PER_DISPATCH, 0, 0]),
        );
        queue.write_buffer(outb, 0, bytemuck::cast_slice(&st.words));
        queue.write_buffer(rem, 0, bytemuck::cast_slice(counts));
        let layout = st.chain_pipeline.get_bind_group_layout(0);
        let bind = ctx.bind_buffers(
            "sha256_chain",
            &layout,
            &[(0, &st.params), (3, outb), (4, rem)],
        );
        let pass = Passes {
            label: "sha256_chain",
            pipeline: &st.chain_pipeline,
            bind: &bind,
            count,
            passes: dispatches,
        };
        let hashes: u64 = counts.iter().map(|&c| u64::from(c)).sum();
        let units = n + usize::try_from(hashes / 1024).unwrap_or(usize::MAX);
        self.run_and_read(&ctx, &pass, (outb, readback), state_bytes, units, out)
    }
}

/// What [`GpuHasher::run_and_read`] records: `passes` dispatches of `pipeline` over
/// `count` items.
struct Passes<'a> {
    label: &'static str,
    pipeline: &'a wgpu::ComputePipeline,
    bind: &'a wgpu::BindGroup,
    count: u32,
    passes: u32,
}

/// Converts read-back bytes (8 native-endian u32 word values per hash, each the big-endian
/// value of 4 digest bytes) into digests.
fn words_to_hashes(bytes: &[u8], out: &mut [Hash]) -> Result<(), HashError> {
    if bytes.len() < out.len() * 32 {
        return Err(HashError::GpuFailure(GpuError::Readback(Cause::msg(
            "short read-back",
        ))));
    }
    for (h, chunk) in out.iter_mut().zip(bytes.chunks_exact(32)) {
        for (dst, w) in h.chunks_exact_mut(4).zip(chunk.chunks_exact(4)) {
            let v = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            dst.copy_from_slice(&v.to_be_bytes());
        }
    }
    Ok(())
}

impl BatchHasher for GpuHasher {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn max_message_len(&self) -> usize {
        MAX_GPU_MESSAGE_BYTES
    }

    fn sha256_batch(&self, messages: &[&[u8]], out: &mut [Hash]) -> Result<(), HashError> {
        check_lengths(messages.len(), out.len())?;
        if let Some(m) = messages.iter().find(|m| m.len() > MAX_GPU_MESSAGE_BYTES) {
            return Err(HashError::Unsupported(format!(
                "message of {} bytes exceeds the GPU limit of {MAX_GPU_MESSAGE_BYTES} bytes",
                m.len()
            )));
        }
        self.with_state(|this, st| {
            let mut start = 0;
            while start < messages.len() {
                // Grow the chunk while it fits the per-dispatch limits.
                let mut end = start;
                let mut bytes = 0u64;
                while end < messages.len() && ((end - start) as u64) < this.max_invocations {
                    let b = (messages[end].len() as u64).div_ceil(4) * 4;
                    if bytes + b > this.max_chunk_bytes {
                        break;
                    }
                    bytes += b;
                    end += 1;
                }
                if end == start {
                    return Err(HashError::Unsupported(format!(
                        "message of {} bytes exceeds the GPU chunk size ({} bytes)",
                        messages[start].len(),
                        this.max_chunk_bytes
                    )));
                }
                this.run_batch_chunk(st, &messages[start..end], &mut out[start..end])?;
                start = end;
            }
            Ok(())
        })
    }

    fn hash_chains(
        &self,
        starts: &[Hash],
        counts: &[u64],
        out: &mut [Hash],
    ) -> Result<(), HashError> {
        check_lengths(starts.len(), out.len())?;
        check_lengths(counts.len(), out.len())?;
        let counts32 = counts
            .iter()
            .map(|&c| u32::try_from(c))
            .collect::<Result<Vec<u32>, _>>()
            .map_err(|_| HashError::Unsupported("a chain longer than u32::MAX hashes".into()))?;
        self.with_state(|this, st| {
            let per_chunk = usize::try_from(this.max_invocations).unwrap_or(usize::MAX);
            let mut start = 0;
            while start < starts.len() {
                let end = start.saturating_add(per_chunk).min(starts.len());
                this.run_chain_chunk(
                    st,
                    &starts[start..end],
                    &counts32[start..end],
                    &mut out[start..end],
                )?;
                start = end;
            }
            Ok(())
        })
    }
}
