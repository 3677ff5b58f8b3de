//! GPU batch verification of ed25519 signatures (shaders in `shaders/`: sha512,
//! field25519, edwards25519, ed25519_verify), under either [`SignatureRule`]:
//!
//! - [`SignatureRule::Strict`] (the default, [`GpuSigVerifier::open`]): exactly
//!   ed25519-dalek 2.2.0 `verify_strict` ([`super::reference_verify`]): `s < l`; A and R
//!   decompress; neither has small order; `compress([k](−A) + [s]B)` equals R's bytes.
//! - [`SignatureRule::Cofactored`] ([`GpuSigVerifier::open_with_rule`]): SIMD-0376 as
//!   amended ([`super::cofactored_verify`]): A and R canonical encodings; `s < l`; neither
//!   has small order; `[8]([s]B − R − [k]A)` is the identity.
//!
//! One compiled pipeline serves both rules: the rule is a word of the kernel's uniform
//! parameters, read per dispatch, so choosing the cofactored rule costs no second kernel
//! build. The two rules share all the work up to `[k](−A) + [s]B`.
//!
//! Host habits: the pipeline, its layout and the base-point table are created once per
//! process; each verifier owns two slots of buffers (double buffering) that grow and are
//! reused; a batch is cut into chunks that fit the device limits, and the host packs chunk
//! N+1 while the GPU runs chunk N. One byte of verdict per signature is read back.

mod base_table;
#[cfg(feature = "test-support")]
pub mod building_blocks;

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base_table::BASE_TABLE;

use super::{SigItem, SigVerifier, SigVerifyError, SignatureRule};
use crate::gpu::context::{GpuContext, GrowableBuffer};
use crate::gpu::{Cause, GpuError, GpuTimeout, TimeoutCell};

/// `u32` words per signature in the items buffer (A, R, s, message offset, message length).
pub(crate) const ITEM_WORDS: usize = 26;
/// Invocations per workgroup in the WGSL kernels.
pub(crate) const WORKGROUP_SIZE: u32 = 64;
/// Longest message the GPU kernel verifies: the per-invocation cap. Longer messages are
/// [`SigVerifyError::Unsupported`] here, and [`super::BackendVerifier`] routes them to the
/// CPU (a routing, not a fault), so no verdict ever depends on an adapter's loop limits or
/// watchdog.
///
/// One invocation hashes its whole message (SHA-512, one 80-round loop per 128-byte
/// block) before the fixed work of the verification. llvmpipe (lavapipe) silently ends
/// every loop of an invocation once it has run 65,535 iterations in all, which turns the
/// verdict into garbage; measured on llvmpipe 15: messages up to 63,576 bytes verify
/// exactly, 63,640 bytes and more do not. 16 KiB leaves four times that headroom in message
/// length, and on a hardware GPU bounds an invocation's hashing to 129 blocks (microseconds,
/// far from any watchdog). Solana packets are at most 1,232 bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// The WGSL sources of the ed25519 kernel, in order, followed by `$extra` sources.
macro_rules! ed25519_wgsl {
    ($($extra:expr),*) => {
        concat!(
            include_str!("../../../shaders/sha512.wgsl"),
            include_str!("../../../shaders/field25519.wgsl"),
            include_str!("../../../shaders/field25519_ops.wgsl"),
            include_str!("../../../shaders/ed25519_programs.wgsl"),
            include_str!("../../../shaders/edwards25519.wgsl"),
            include_str!("../../../shaders/ed25519_verify.wgsl"),
            $($extra),*
        )
    };
}

/// The WGSL of the verification kernel (entry point `verify_main`).
const VERIFY_WGSL: &str = ed25519_wgsl!();

/// The WGSL of the building-block test kernel (entry point `building_blocks_main`).
#[cfg(feature = "test-support")]
const BUILDING_BLOCKS_WGSL: &str =
    ed25519_wgsl!(include_str!("../../../shaders/building_blocks.wgsl"));

/// A compiled ed25519 kernel with its layout and the uploaded base-point table.
#[derive(Debug)]
pub(crate) struct Ed25519Kernel {
    pub(crate) ctx: Arc<GpuContext>,
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
    pub(crate) base_table: wgpu::Buffer,
}

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl Ed25519Kernel {
    pub(crate) fn create(
        ctx: Arc<GpuContext>,
        label: &str,
        wgsl: &str,
        entry: &str,
    ) -> Result<Self, GpuError> {
        let device = ctx.device();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("ed25519 bind group layout"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                storage_entry(1, true),
                storage_entry(2, true),
                storage_entry(3, true),
                storage_entry(4, false),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("ed25519 pipeline layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = ctx.compute_pipeline(label, wgsl, entry, Some(&pipeline_layout))?;
        ctx.save_pipeline_cache();
        let base_table =
            ctx.storage_buffer_init("ed25519 base table", bytemuck::cast_slice(&BASE_TABLE));
        let kernel = Self {
            ctx,
            pipeline,
            layout,
            base_table,
        };
        kernel.warm_up(label)?;
        Ok(kernel)
    }

    /// One empty dispatch, waited for without the batch timeout: some drivers (llvmpipe)
    /// compile at the first dispatch, which must not count against a batch.
    fn warm_up(&self, label: &str) -> Result<(), GpuError> {
        let t0 = std::time::Instant::now();
        let device = self.ctx.device();
        let params = self.ctx.storage_buffer_init("warm-up items", &[0u8; 16]);
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("warm-up params"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let msgs = self.ctx.storage_buffer_init("warm-up msgs", &[0u8; 16]);
        let out = self.ctx.storage_buffer_init("warm-up out", &[0u8; 16]);
        let bind_group = self.bind_group(&uniform, &params, &msgs, &out);
        let encoder = self
            .ctx
            .encode_dispatches("warm-up", &self.pipeline, &bind_group, 1, 1);
        let index = self.ctx.submit([encoder.finish()])?;
        self.ctx.wait_untimed(index)?;
        self.ctx
            .record_timing(&format!("{label} (first dispatch)"), t0.elapsed());
        Ok(())
    }

    /// The verification kernel on the process-wide device: compiled once per device, and
    /// again on the new device after a loss. A failed build is not remembered: the next
    /// call tries again.
    pub(crate) fn verify_shared() -> Result<Arc<Self>, GpuError> {
        static KERNEL: Mutex<Option<Arc<Ed25519Kernel>>> = Mutex::new(None);
        let ctx = GpuContext::shared()?;
        let mut cached = KERNEL.lock().map_err(|_| GpuError::Pipeline {
            label: "ed25519 verify".into(),
            cause: Cause::msg("kernel cache lock poisoned"),
        })?;
        if let Some(kernel) = cached.as_ref().filter(|k| Arc::ptr_eq(&k.ctx, &ctx)) {
            return Ok(Arc::clone(kernel));
        }
        let kernel = Arc::new(Self::create(
            ctx,
            "ed25519 verify",
            VERIFY_WGSL,
            "verify_main",
        )?);
        *cached = Some(Arc::clone(&kernel));
        Ok(kernel)
    }

    pub(crate) fn bind_group(
        &self,
        params: &wgpu::Buffer,
        items: &wgpu::Buffer,
        msgs: &wgpu::Buffer,
        out: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        self.ctx.bind_buffers(
            "ed25519 bind group",
            &self.layout,
            &[
                (0, params),
                (1, items),
                (2, msgs),
                (3, &self.base_table),
                (4, out),
            ],
        )
    }
}

/// Host staging vectors keep at most this many words between batches (4 MiB each); a
/// peak above it is given back after the batch.
const STAGING_KEEP_WORDS: usize = 1 << 20;

/// Gives back a staging vector's peak capacity once it is much larger than its use.
fn trim(v: &mut Vec<u32>) {
    if v.capacity() > STAGING_KEEP_WORDS && v.capacity() > 2 * v.len() {
        v.shrink_to(v.len().max(STAGING_KEEP_WORDS));
    }
}

/// Per-chunk GPU buffers plus the host staging vectors, reused across batches.
#[derive(Debug)]
struct Slot {
    params: wgpu::Buffer,
    items: GrowableBuffer,
    msgs: GrowableBuffer,
    out: GrowableBuffer,
    readback: GrowableBuffer,
    bind_group: Option<wgpu::BindGroup>,
    bound: (u64, u64, u64),
    host_items: Vec<u32>,
    host_msgs: Vec<u32>,
}

impl Slot {
    fn new(ctx: &GpuContext) -> Self {
        Self {
            params: ctx.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some("ed25519 params"),
                size: 16,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            items: GrowableBuffer::storage("ed25519 items", ctx),
            msgs: GrowableBuffer::storage("ed25519 messages", ctx),
            out: GrowableBuffer::storage("ed25519 verdicts", ctx),
            readback: GrowableBuffer::readback("ed25519 verdicts readback", ctx),
            bind_group: None,
            bound: (0, 0, 0),
            host_items: Vec::new(),
            host_msgs: Vec::new(),
        }
    }

    /// Packs `items` into the host staging vectors (items table + word-aligned messages).
    fn pack(&mut self, items: &[SigItem<'_>]) -> Result<(), SigVerifyError> {
        self.host_items.clear();
        self.host_msgs.clear();
        for it in items {
            let offset = u32::try_from(self.host_msgs.len()).map_err(|_| {
                SigVerifyError::Unsupported("message buffer over 2^32 words".into())
            })?;
            let len = u32::try_from(it.message.len())
                .map_err(|_| SigVerifyError::Unsupported("message over 2^32 bytes".into()))?;
            for chunk in [&it.pubkey[..], &it.signature[..]] {
                self.host_items.extend(
                    chunk
                        .chunks_exact(4)
                        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])),
                );
            }
            self.host_items.push(offset);
            self.host_items.push(len);
            let mut words = it.message.chunks_exact(4);
            self.host_msgs.extend(
                words
                    .by_ref()
                    .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])),
            );
            let rest = words.remainder();
            if !rest.is_empty() {
                let mut last = [0u8; 4];
                last[..rest.len()].copy_from_slice(rest);
                self.host_msgs.push(u32::from_le_bytes(last));
            }
        }
        if self.host_msgs.is_empty() {
            self.host_msgs.push(0);
        }
        Ok(())
    }

    /// Uploads the packed chunk of `count` signatures and records + submits its dispatch.
    fn submit(
        &mut self,
        kernel: &Ed25519Kernel,
        count: u32,
        rule: SignatureRule,
    ) -> Result<wgpu::SubmissionIndex, GpuError> {
        let ctx = &kernel.ctx;
        let device = ctx.device();
        let queue = ctx.queue();
        let items_bytes = (self.host_items.len() * 4) as u64;
        let msgs_bytes = (self.host_msgs.len() * 4) as u64;
        // one byte per verdict, four to a word
        let out_bytes = u64::from(count).div_ceil(4) * 4;
        self.items.ensure(device, items_bytes)?;
        self.msgs.ensure(device, msgs_bytes)?;
        self.out.ensure(device, out_bytes)?;
        self.readback.ensure(device, out_bytes)?;
        let (Some(items), Some(msgs), Some(out), Some(readback)) = (
            self.items.buffer(),
            self.msgs.buffer(),
            self.out.buffer(),
            self.readback.buffer(),
        ) else {
            return Err(GpuError::Submission(Cause::msg("buffers not allocated")));
        };
        let generations = (
            self.items.generation(),
            self.msgs.generation(),
            self.out.generation(),
        );
        if self.bind_group.is_none() || self.bound != generations {
            self.bind_group = Some(kernel.bind_group(&self.params, items, msgs, out));
            self.bound = generations;
        }
        let Some(bind_group) = self.bind_group.as_ref() else {
            return Err(GpuError::Submission(Cause::msg("bind group missing")));
        };
        queue.write_buffer(
            &self.params,
            0,
            bytemuck::cast_slice(&[count, 0u32, 64, rule_word(rule)]),
        );
        queue.write_buffer(items, 0, bytemuck::cast_slice(&self.host_items));
        queue.write_buffer(msgs, 0, bytemuck::cast_slice(&self.host_msgs));
        let mut encoder = ctx.encode_dispatches(
            "ed25519 verify",
            &kernel.pipeline,
            bind_group,
            count.div_ceil(WORKGROUP_SIZE),
            1,
        );
        encoder.copy_buffer_to_buffer(out, 0, readback, 0, out_bytes);
        ctx.submit([encoder.finish()])
    }

    fn read(
        &self,
        ctx: &GpuContext,
        index: wgpu::SubmissionIndex,
        out: &mut [bool],
        timeout: Duration,
    ) -> Result<(), GpuError> {
        let Some(readback) = self.readback.buffer() else {
            return Err(GpuError::Readback(Cause::msg("read-back buffer missing")));
        };
        ctx.wait(index.clone(), timeout)?;
        let len = out.len().div_ceil(4) * 4;
        let bytes = ctx.read_mapped_after(readback, len as u64, Some(index), timeout)?;
        if bytes.len() != len {
            return Err(GpuError::Readback(Cause::msg(format!(
                "got {} bytes of verdicts, expected {len}",
                bytes.len(),
            ))));
        }
        for (v, b) in out.iter_mut().zip(&bytes) {
            *v = *b == 1;
        }
        Ok(())
    }

    fn trim(&mut self) {
        trim(&mut self.host_items);
        trim(&mut self.host_msgs);
    }
}

/// What a verifier runs on: the kernel (and through it the device) and two slots of
/// buffers. Replaced whole after a device loss; its slots are replaced after any failed
/// batch (a timed-out batch may still hold its buffers).
#[derive(Debug)]
struct Device {
    kernel: Arc<Ed25519Kernel>,
    slots: [Slot; 2],
}

impl Device {
    fn open() -> Result<Self, GpuError> {
        let kernel = Ed25519Kernel::verify_shared()?;
        let slots = [Slot::new(&kernel.ctx), Slot::new(&kernel.ctx)];
        Ok(Self { kernel, slots })
    }

    fn fresh_slots(&mut self) {
        self.slots = [Slot::new(&self.kernel.ctx), Slot::new(&self.kernel.ctx)];
    }

    /// Runs `chunks` of `items` under `rule`, double-buffered: packing chunk N+1 overlaps
    /// with the GPU running chunk N.
    fn run(
        &mut self,
        items: &[SigItem<'_>],
        chunks: Vec<Range<usize>>,
        out: &mut [bool],
        timeout: GpuTimeout,
        rule: SignatureRule,
    ) -> Result<(), SigVerifyError> {
        let ctx = Arc::clone(&self.kernel.ctx);
        let mut pending: Option<(usize, Range<usize>, wgpu::SubmissionIndex)> = None;
        for (n, range) in chunks.into_iter().enumerate() {
            let s = n % 2;
            self.slots[s].pack(&items[range.clone()])?;
            let count = u32::try_from(range.len())
                .map_err(|_| SigVerifyError::Unsupported("chunk too large".into()))?;
            let index = self.slots[s]
                .submit(&self.kernel, count, rule)
                .map_err(failure)?;
            if let Some((ps, prange, pindex)) = pending.take() {
                let limit = timeout.for_items(prange.len());
                self.slots[ps]
                    .read(&ctx, pindex, &mut out[prange], limit)
                    .map_err(failure)?;
            }
            pending = Some((s, range, index));
        }
        if let Some((ps, prange, pindex)) = pending {
            let limit = timeout.for_items(prange.len());
            self.slots[ps]
                .read(&ctx, pindex, &mut out[prange], limit)
                .map_err(failure)?;
        }
        Ok(())
    }
}

/// The GPU implementation of [`SigVerifier`]: exactly the verdicts of its
/// [`SignatureRule`] ([`SignatureRule::verify_one`]: [`crate::sigverify::reference_verify`]
/// for the default strict rule, [`crate::sigverify::cofactored_verify`] for the cofactored
/// one), computed by WGSL compute shaders, for messages up to [`MAX_MESSAGE_BYTES`].
///
/// The rule is fixed when the verifier is made ([`GpuSigVerifier::open_with_rule`],
/// [`GpuSigVerifier::with_rule`]) and reported by [`SigVerifier::rule`]. Verifiers of
/// both rules share one compiled kernel.
///
/// A failed batch (an error, a timeout, a lost device) is an error, never a verdict:
/// [`super::BackendVerifier`] redoes it on the CPU. The verifier itself recovers: after
/// a failure its buffers are made anew, and after a device loss the next batch opens a new
/// device and rebuilds the kernel.
pub struct GpuSigVerifier {
    device: Mutex<Device>,
    rule: SignatureRule,
    timeout: TimeoutCell,
    chunk_size: usize,
    max_chunk: usize,
    max_chunk_msg_bytes: usize,
}

impl std::fmt::Debug for GpuSigVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuSigVerifier")
            .field("adapter", &self.adapter_label())
            .field("rule", &self.rule)
            .field("chunk_size", &self.chunk_size)
            .field("max_chunk_msg_bytes", &self.max_chunk_msg_bytes)
            .finish()
    }
}

/// The kernel's `params.rule` word for `rule` (`RULE_STRICT` / `RULE_COFACTORED` in
/// `shaders/ed25519_verify.wgsl`).
fn rule_word(rule: SignatureRule) -> u32 {
    match rule {
        SignatureRule::Strict => 0,
        SignatureRule::Cofactored => 1,
    }
}

/// Default signatures per GPU submission on a discrete or integrated GPU.
pub const DEFAULT_CHUNK: usize = 65_536;
/// Default signatures per submission on a software (CPU) adapter, small enough that packing
/// overlaps with the previous chunk.
pub const DEFAULT_CHUNK_SOFTWARE: usize = 1024;

impl GpuSigVerifier {
    /// Opens a verifier of the default (strict) rule on the shared device (compiling the
    /// kernel on first use). Same as `open_with_rule(SignatureRule::Strict)`.
    ///
    /// # Errors
    /// [`GpuError`] when no adapter exists or the kernel fails to build.
    pub fn open() -> Result<Self, GpuError> {
        Self::open_with_rule(SignatureRule::Strict)
    }

    /// Opens a verifier of `rule` on the shared device (compiling the kernel on first use;
    /// both rules share the one kernel, so a second verifier of either rule compiles
    /// nothing).
    ///
    /// # Errors
    /// [`GpuError`] when no adapter exists or the kernel fails to build.
    pub fn open_with_rule(rule: SignatureRule) -> Result<Self, GpuError> {
        let device = Device::open()?;
        let ctx = Arc::clone(&device.kernel.ctx);
        let preferred = if ctx.is_software() {
            DEFAULT_CHUNK_SOFTWARE
        } else {
            DEFAULT_CHUNK
        };
        let mut this = Self {
            device: Mutex::new(device),
            rule,
            timeout: TimeoutCell::new(ctx.default_timeout()),
            chunk_size: preferred,
            max_chunk: 1,
            max_chunk_msg_bytes: 0,
        };
        this.fit_binding(ctx.storage_limit(), &ctx);
        Ok(this)
    }

    /// Sizes chunks to a binding limit of `binding` bytes (the device's, or lower).
    fn fit_binding(&mut self, binding: u64, ctx: &GpuContext) {
        let binding = usize::try_from(binding.min(ctx.storage_limit())).unwrap_or(usize::MAX);
        let by_groups = (ctx.limits().max_compute_workgroups_per_dimension as usize)
            .saturating_mul(WORKGROUP_SIZE as usize);
        let by_items = binding / (ITEM_WORDS * 4);
        self.max_chunk = by_groups.min(by_items).max(1);
        self.chunk_size = self.chunk_size.clamp(1, self.max_chunk);
        self.max_chunk_msg_bytes = binding.saturating_sub(4);
    }

    /// Sets the signature rule of this verifier's batches (the kernel is shared; nothing
    /// is compiled).
    pub fn with_rule(mut self, rule: SignatureRule) -> Self {
        self.rule = rule;
        self
    }

    /// Sets the number of signatures per GPU submission (clamped to the device limits).
    pub fn with_chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = chunk_size.clamp(1, self.max_chunk);
        self
    }

    /// Keeps every buffer this verifier binds under `bytes` (never above the device's own
    /// limit): a batch whose messages are larger is cut into more chunks.
    pub fn with_binding_limit(mut self, bytes: u64) -> Self {
        let ctx = self.device.get_mut().map(|d| Arc::clone(&d.kernel.ctx));
        if let Ok(ctx) = ctx {
            self.fit_binding(bytes, &ctx);
        }
        self
    }

    /// Sets how long a chunk may take on the GPU before it is declared failed.
    pub fn with_timeout(self, timeout: GpuTimeout) -> Self {
        self.set_timeout(timeout);
        self
    }

    /// Changes the timeout for the following batches.
    pub fn set_timeout(&self, timeout: GpuTimeout) {
        self.timeout.set(timeout);
    }

    /// The timeout in force.
    pub fn timeout(&self) -> GpuTimeout {
        self.timeout.get()
    }

    /// Signatures per GPU submission.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// The adapter this verifier runs on: name, device type, API.
    pub fn adapter_label(&self) -> String {
        match self.device.lock() {
            Ok(d) => d.kernel.ctx.label(),
            Err(_) => "unknown (verifier state poisoned)".into(),
        }
    }

    /// Cuts `items` into chunks: at most `chunk_size` signatures and at most
    /// `max_chunk_msg_bytes` of packed messages each.
    fn chunks(&self, items: &[SigItem<'_>]) -> Result<Vec<Range<usize>>, SigVerifyError> {
        let mut chunks = Vec::new();
        let mut start = 0;
        let mut bytes = 0usize;
        let limit = self.max_message_len();
        for (i, it) in items.iter().enumerate() {
            let len = it.message.len();
            if len > limit {
                return Err(SigVerifyError::Unsupported(format!(
                    "message {i} has {len} bytes (GPU limit {limit})"
                )));
            }
            let words = len.div_ceil(4) * 4;
            if i > start
                && (i - start >= self.chunk_size || bytes + words + 4 > self.max_chunk_msg_bytes)
            {
                chunks.push(start..i);
                start = i;
                bytes = 0;
            }
            bytes += words;
        }
        if start < items.len() {
            chunks.push(start..items.len());
        }
        Ok(chunks)
    }
}

fn failure(e: GpuError) -> SigVerifyError {
    match e {
        GpuError::NoAdapter(_) => SigVerifyError::NoGpu(e),
        other => SigVerifyError::GpuFailure(other),
    }
}

impl SigVerifier for GpuSigVerifier {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn rule(&self) -> SignatureRule {
        self.rule
    }

    fn max_message_len(&self) -> usize {
        MAX_MESSAGE_BYTES.min(self.max_chunk_msg_bytes.saturating_sub(4))
    }

    fn verify_into(&self, items: &[SigItem<'_>], out: &mut [bool]) -> Result<(), SigVerifyError> {
        super::check_batch(items, out)?;
        if items.is_empty() {
            return Ok(());
        }
        let chunks = self.chunks(items)?;
        let timeout = self.timeout();
        let mut device = self.device.lock().map_err(|_| {
            SigVerifyError::GpuFailure(GpuError::Submission(Cause::msg("verifier state poisoned")))
        })?;
        if device.kernel.ctx.is_lost() {
            // a new device and kernel; if that fails, this batch goes to the CPU and the
            // next one tries again
            *device = Device::open().map_err(failure)?;
        }
        let result = device.run(items, chunks, out, timeout, self.rule);
        if result.is_err() && !device.kernel.ctx.check_lost() {
            // the device lives on: new buffers (a timed-out batch may still hold the old
            // ones); a lost device is replaced whole at the next batch
            device.fresh_slots();
        }
        for slot in &mut device.slots {
            slot.trim();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::{rule_word, trim, SignatureRule, STAGING_KEEP_WORDS};

    #[test]
    fn rule_words_match_the_kernel_constants() {
        let wgsl = include_str!("../../../shaders/ed25519_verify.wgsl");
        for rule in SignatureRule::ALL {
            let name = match rule {
                SignatureRule::Strict => "RULE_STRICT",
                SignatureRule::Cofactored => "RULE_COFACTORED",
            };
            let decl = format!("const {name}: u32 = {}u;", rule_word(rule));
            assert!(wgsl.contains(&decl), "shader lacks `{decl}`");
        }
    }

    #[test]
    fn staging_gives_back_a_peak_but_keeps_a_working_size() {
        let mut v: Vec<u32> = Vec::with_capacity(STAGING_KEEP_WORDS * 8);
        v.resize(100, 0);
        trim(&mut v);
        assert!(v.capacity() >= STAGING_KEEP_WORDS && v.capacity() < STAGING_KEEP_WORDS * 2);
        let mut small: Vec<u32> = Vec::with_capacity(1000);
        trim(&mut small);
        assert_eq!(
            small.capacity(),
            1000,
            "below the working size nothing is given back"
        );
        let mut busy: Vec<u32> = vec![0; STAGING_KEEP_WORDS * 3];
        let cap = busy.capacity();
        trim(&mut busy);
        assert_eq!(busy.capacity(), cap, "in use: kept");
    }
}
