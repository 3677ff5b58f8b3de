//! GPU batch verification of ed25519 signatures with the `verify_strict` rule
//! (shaders in `shaders/`: sha512, field25519, edwards25519, ed25519_verify).
//!
//! Host habits: the pipeline, its layout and the base-point table are created once per
//! process; each verifier owns two slots of buffers (double buffering) that grow and are
//! reused; a batch is cut into chunks that fit the device limits, and the host packs chunk
//! N+1 while the GPU runs chunk N. One byte of verdict per signature is read back.

mod base_table;
#[cfg(feature = "test-support")]
pub mod building_blocks;

use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use base_table::BASE_TABLE;

use super::{SigItem, SigVerifier, SigVerifyError};
use crate::gpu::context::{GpuContext, GrowableBuffer};
use crate::gpu::{Cause, GpuError};

/// `u32` words per signature in the items buffer (A, R, s, message offset, message length).
pub(crate) const ITEM_WORDS: usize = 26;
/// Invocations per workgroup in the WGSL kernels.
pub(crate) const WORKGROUP_SIZE: u32 = 64;
/// Longest message the GPU path takes (longer ones are `Unsupported`: verify on the CPU).
/// Keeps the SHA-512 bit length within 32 bits with a wide margin.
pub const MAX_MESSAGE_BYTES: usize = 1 << 24;

/// The WGSL of the verification kernel (entry point `verify_main`).
const VERIFY_WGSL: &str = concat!(
    include_str!("../../../shaders/sha512.wgsl"),
    include_str!("../../../shaders/field25519.wgsl"),
    include_str!("../../../shaders/field25519_ops.wgsl"),
    include_str!("../../../shaders/ed25519_programs.wgsl"),
    include_str!("../../../shaders/edwards25519.wgsl"),
    include_str!("../../../shaders/ed25519_verify.wgsl"),
);

/// The WGSL of the building-block test kernel (entry point `building_blocks_main`).
#[cfg(feature = "test-support")]
const BUILDING_BLOCKS_WGSL: &str = concat!(
    include_str!("../../../shaders/sha512.wgsl"),
    include_str!("../../../shaders/field25519.wgsl"),
    include_str!("../../../shaders/field25519_ops.wgsl"),
    include_str!("../../../shaders/ed25519_programs.wgsl"),
    include_str!("../../../shaders/edwards25519.wgsl"),
    include_str!("../../../shaders/ed25519_verify.wgsl"),
    include_str!("../../../shaders/building_blocks.wgsl"),
);

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
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("warm-up"),
        });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("warm-up"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(1, 1, 1);
        }
        let index = self.ctx.submit([encoder.finish()])?;
        self.ctx.wait_untimed(index)?;
        self.ctx
            .record_timing(&format!("{label} (first dispatch)"), t0.elapsed());
        Ok(())
    }

    /// The process-wide verification kernel (compiled once).
    pub(crate) fn verify_shared() -> Result<Arc<Self>, GpuError> {
        static KERNEL: OnceLock<Result<Arc<Ed25519Kernel>, GpuError>> = OnceLock::new();
        KERNEL
            .get_or_init(|| {
                let ctx = GpuContext::shared()?;
                Self::create(ctx, "ed25519 verify", VERIFY_WGSL, "verify_main").map(Arc::new)
            })
            .clone()
    }

    pub(crate) fn bind_group(
        &self,
        params: &wgpu::Buffer,
        items: &wgpu::Buffer,
        msgs: &wgpu::Buffer,
        out: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
            wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            }
        }
        self.ctx
            .device()
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("ed25519 bind group"),
                layout: &self.layout,
                entries: &[
                    entry(0, params),
                    entry(1, items),
                    entry(2, msgs),
                    entry(3, &self.base_table),
                    entry(4, out),
                ],
            })
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
    fn new(device: &wgpu::Device) -> Self {
        Self {
            params: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("ed25519 params"),
                size: 16,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            items: GrowableBuffer::storage("ed25519 items"),
            msgs: GrowableBuffer::storage("ed25519 messages"),
            out: GrowableBuffer::storage("ed25519 verdicts"),
            readback: GrowableBuffer::readback("ed25519 verdicts readback"),
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
    ) -> Result<wgpu::SubmissionIndex, GpuError> {
        let ctx = &kernel.ctx;
        let device = ctx.device();
        let queue = ctx.queue();
        let items_bytes = (self.host_items.len() * 4) as u64;
        let msgs_bytes = (self.host_msgs.len() * 4) as u64;
        // one byte per verdict, four to a word
        let out_bytes = u64::from(count).div_ceil(4) * 4;
        self.items.ensure(device, items_bytes);
        self.msgs.ensure(device, msgs_bytes);
        self.out.ensure(device, out_bytes);
        self.readback.ensure(device, out_bytes);
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
        queue.write_buffer(&self.params, 0, bytemuck::cast_slice(&[count, 0u32, 64, 0]));
        queue.write_buffer(items, 0, bytemuck::cast_slice(&self.host_items));
        queue.write_buffer(msgs, 0, bytemuck::cast_slice(&self.host_msgs));
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("ed25519 verify"),
        });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("ed25519 verify"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&kernel.pipeline);
            pass.set_bind_group(0, bind_group, &[]);
            pass.dispatch_workgroups(count.div_ceil(WORKGROUP_SIZE), 1, 1);
        }
        encoder.copy_buffer_to_buffer(out, 0, readback, 0, out_bytes);
        ctx.submit([encoder.finish()])
    }

    fn read(
        &self,
        ctx: &GpuContext,
        index: wgpu::SubmissionIndex,
        out: &mut [bool],
    ) -> Result<(), GpuError> {
        let Some(readback) = self.readback.buffer() else {
            return Err(GpuError::Readback(Cause::msg("read-back buffer missing")));
        };
        ctx.wait(index.clone())?;
        let len = out.len().div_ceil(4) * 4;
        let bytes = ctx.read_mapped_after(readback, len as u64, Some(index))?;
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
}

/// The GPU implementation of [`SigVerifier`]: exactly the verdicts of
/// [`crate::sigverify::reference_verify`], computed by WGSL compute shaders.
pub struct GpuSigVerifier {
    kernel: Arc<Ed25519Kernel>,
    slots: Mutex<[Slot; 2]>,
    chunk_size: usize,
    max_chunk: usize,
    max_chunk_msg_bytes: usize,
}

impl std::fmt::Debug for GpuSigVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuSigVerifier")
            .field("adapter", &self.kernel.ctx.adapter_info().name)
            .field("chunk_size", &self.chunk_size)
            .finish()
    }
}

/// Default signatures per GPU submission on a discrete or integrated GPU.
pub const DEFAULT_CHUNK: usize = 65_536;
/// Default signatures per submission on a software (CPU) adapter, small enough that packing
/// overlaps with the previous chunk.
pub const DEFAULT_CHUNK_SOFTWARE: usize = 1024;

impl GpuSigVerifier {
    /// Opens the verifier on the shared context (compiling the kernel on first use).
    ///
    /// # Errors
    /// [`GpuError`] when no adapter exists or the kernel fails to build.
    pub fn open() -> Result<Self, GpuError> {
        let kernel = Ed25519Kernel::verify_shared()?;
        let ctx = &kernel.ctx;
        let limits = ctx.limits();
        let binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let binding = usize::try_from(binding).unwrap_or(usize::MAX);
        let by_groups = (limits.max_compute_workgroups_per_dimension as usize)
            .saturating_mul(WORKGROUP_SIZE as usize);
        let by_items = binding / (ITEM_WORDS * 4);
        let preferred = if ctx.is_software() {
            DEFAULT_CHUNK_SOFTWARE
        } else {
            DEFAULT_CHUNK
        };
        let max_chunk = by_groups.min(by_items).max(1);
        let chunk_size = preferred.min(max_chunk);
        let slots = [Slot::new(ctx.device()), Slot::new(ctx.device())];
        Ok(Self {
            chunk_size,
            max_chunk,
            max_chunk_msg_bytes: binding.saturating_sub(4),
            kernel,
            slots: Mutex::new(slots),
        })
    }

    /// Sets the number of signatures per GPU submission (clamped to the device limits).
    pub fn with_chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = chunk_size.clamp(1, self.max_chunk);
        self
    }

    /// Signatures per GPU submission.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// The adapter this verifier runs on: name, device type, API.
    pub fn adapter_label(&self) -> String {
        self.kernel.ctx.label()
    }

    /// Cuts `items` into chunks: at most `chunk_size` signatures and at most
    /// `max_chunk_msg_bytes` of packed messages each.
    fn chunks(&self, items: &[SigItem<'_>]) -> Result<Vec<Range<usize>>, SigVerifyError> {
        let mut chunks = Vec::new();
        let mut start = 0;
        let mut bytes = 0usize;
        for (i, it) in items.iter().enumerate() {
            let len = it.message.len();
            if len > MAX_MESSAGE_BYTES || len + 4 > self.max_chunk_msg_bytes {
                return Err(SigVerifyError::Unsupported(format!(
                    "message {i} has {len} bytes (GPU limit {})",
                    MAX_MESSAGE_BYTES.min(self.max_chunk_msg_bytes.saturating_sub(4))
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

    fn verify_into(&self, items: &[SigItem<'_>], out: &mut [bool]) -> Result<(), SigVerifyError> {
        super::check_batch(items, out)?;
        if items.is_empty() {
            return Ok(());
        }
        let chunks = self.chunks(items)?;
        let mut slots = self.slots.lock().map_err(|_| {
            SigVerifyError::GpuFailure(GpuError::Submission(Cause::msg("verifier state poisoned")))
        })?;
        let ctx = &self.kernel.ctx;
        let mut pending: Option<(usize, Range<usize>, wgpu::SubmissionIndex)> = None;
        for (n, range) in chunks.into_iter().enumerate() {
            let s = n % 2;
            // Packing this chunk overlaps with the GPU running the previous one.
            slots[s].pack(&items[range.clone()])?;
            let count = u32::try_from(range.len())
                .map_err(|_| SigVerifyError::Unsupported("chunk too large".into()))?;
            let index = slots[s].submit(&self.kernel, count).map_err(failure)?;
            if let Some((ps, prange, pindex)) = pending.take() {
                slots[ps]
                    .read(ctx, pindex, &mut out[prange])
                    .map_err(failure)?;
            }
            pending = Some((s, range, index));
        }
        if let Some((ps, prange, pindex)) = pending {
            slots[ps]
                .read(ctx, pindex, &mut out[prange])
                .map_err(failure)?;
        }
        Ok(())
    }
}
