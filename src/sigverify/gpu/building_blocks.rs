//! Test entry points: each building block of the GPU ed25519 verifier (SHA-512, field
//! arithmetic mod 2^255 - 19, point decompression, double-scalar multiplication, reduction
//! mod l) run alone on the GPU for a batch of inputs, so tests can compare it with a CPU
//! reference (`tests/gpu_building_blocks.rs`). Not used on the verification path; buffers
//! are allocated per call.

use std::sync::{Arc, OnceLock};

use super::{
    params_words, Ed25519Kernel, BUILDING_BLOCKS_WGSL, ITEM_WORDS, PARAMS_BYTES, STATE_WORDS,
    TABLE_WORDS, WORKGROUP_SIZE,
};
use crate::gpu::context::GpuContext;
use crate::gpu::GpuError;

/// Result of decompressing one 32-byte encoding on the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// The encoding decodes to a curve point (curve25519-dalek's acceptance).
    pub ok: bool,
    /// The point has small order (8P is the identity). Meaningful when `ok`.
    pub small_order: bool,
    /// The canonical re-encoding of the point. Meaningful when `ok`.
    pub compressed: [u8; 32],
}

/// The building-block kernel, compiled once per process.
#[derive(Debug, Clone)]
pub struct BuildingBlocks {
    kernel: Arc<Ed25519Kernel>,
}

fn words(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}

fn bytes32(w: &[u32]) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (dst, src) in b.chunks_exact_mut(4).zip(w) {
        dst.copy_from_slice(&src.to_le_bytes());
    }
    b
}

impl BuildingBlocks {
    /// The process-wide instance (compiles the kernel on first use).
    ///
    /// # Errors
    /// [`GpuError`] when no adapter exists or the kernel fails to build.
    pub fn shared() -> Result<Self, GpuError> {
        static KERNEL: OnceLock<Result<Arc<Ed25519Kernel>, GpuError>> = OnceLock::new();
        KERNEL
            .get_or_init(|| {
                let ctx = GpuContext::shared()?;
                Ed25519Kernel::create(
                    ctx,
                    "ed25519 building blocks",
                    BUILDING_BLOCKS_WGSL,
                    &["building_blocks_main"],
                )
                .map(Arc::new)
            })
            .clone()
            .map(|kernel| Self { kernel })
    }

    /// Runs `op` on `count` items; returns `count * out_words` output words.
    fn run(
        &self,
        op: u32,
        pre: u32,
        count: usize,
        items: &[u32],
        msgs: &[u32],
        out_words: usize,
    ) -> Result<Vec<u32>, GpuError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let ctx = &self.kernel.ctx;
        let device = ctx.device();
        let count32 =
            u32::try_from(count).map_err(|_| GpuError::Limits("batch too large".into()))?;
        let params = ctx.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("building blocks params"),
            size: PARAMS_BYTES,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        ctx.queue().write_buffer(
            &params,
            0,
            bytemuck::cast_slice(&params_words(count32, op, pre, 0)),
        );
        let items_buf =
            ctx.storage_buffer_init("building blocks items", bytemuck::cast_slice(items));
        let msgs_buf = ctx.storage_buffer_init("building blocks msgs", bytemuck::cast_slice(msgs));
        let out_bytes = (count * out_words * 4) as u64;
        let out = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("building blocks out"),
            size: out_bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("building blocks readback"),
            size: out_bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let scratch = |label: &str, words: usize| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (count * words * 4) as u64,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            })
        };
        let state = scratch("building blocks state", STATE_WORDS);
        let tables = scratch("building blocks tables", TABLE_WORDS);
        let bind_group = self
            .kernel
            .bind_group(&params, &items_buf, &msgs_buf, &out, &state, &tables);
        let mut encoder = self.kernel.encode(
            "building blocks",
            &bind_group,
            count32.div_ceil(WORKGROUP_SIZE),
        );
        encoder.copy_buffer_to_buffer(&out, 0, &readback, 0, out_bytes);
        let index = ctx.submit([encoder.finish()])?;
        let timeout = ctx.default_timeout().for_items(count);
        ctx.wait(index.clone(), timeout)?;
        let bytes = ctx.read_mapped_after(&readback, out_bytes, Some(index), timeout)?;
        Ok(words(&bytes).collect())
    }

    /// Runs a field operation on (a, b) pairs (b ignored by unary operations).
    fn field_op(&self, op: u32, pairs: &[([u8; 32], [u8; 32])]) -> Result<Vec<[u8; 32]>, GpuError> {
        let items: Vec<u32> = pairs
            .iter()
            .flat_map(|(a, b)| words(&a[..]).chain(words(&b[..])).collect::<Vec<_>>())
            .collect();
        let out = self.run(op, 0, pairs.len(), &items, &[0], 8)?;
        Ok(out.chunks_exact(8).map(bytes32).collect())
    }

    fn unary(&self, op: u32, xs: &[[u8; 32]]) -> Result<Vec<[u8; 32]>, GpuError> {
        let pairs: Vec<([u8; 32], [u8; 32])> = xs.iter().map(|x| (*x, [0u8; 32])).collect();
        self.field_op(op, &pairs)
    }

    /// SHA-512 of each message (any length up to [`crate::sigverify::MAX_MESSAGE_BYTES`]).
    ///
    /// # Errors
    /// [`GpuError`] when the GPU fails.
    pub fn sha512(&self, messages: &[&[u8]]) -> Result<Vec<[u8; 64]>, GpuError> {
        let mut items = Vec::with_capacity(messages.len() * ITEM_WORDS);
        let mut msgs: Vec<u32> = Vec::new();
        for m in messages {
            let offset =
                u32::try_from(msgs.len()).map_err(|_| GpuError::Limits("messages".into()))?;
            items.extend(std::iter::repeat_n(0u32, 24));
            items.push(offset);
            items.push(u32::try_from(m.len()).map_err(|_| GpuError::Limits("message".into()))?);
            let mut padded = m.to_vec();
            padded.resize(m.len().div_ceil(4) * 4, 0);
            msgs.extend(words(&padded));
        }
        msgs.push(0);
        let out = self.run(1, 0, messages.len(), &items, &msgs, 16)?;
        Ok(out
            .chunks_exact(16)
            .map(|w| {
                let mut d = [0u8; 64];
                for (dst, src) in d.chunks_exact_mut(4).zip(w) {
                    dst.copy_from_slice(&src.to_le_bytes());
                }
                d
            })
            .collect())
    }

    /// `a * b mod p` (canonical little-endian bytes) for each pair. Inputs may be any 256-bit
    /// values (all bits used, values >= p allowed).
    ///
    /// # Errors
    /// [`GpuError`] when the GPU fails.
    pub fn fe_mul(&self, pairs: &[([u8; 32], [u8; 32])]) -> Result<Vec<[u8; 32]>, GpuError> {
        self.field_op(2, pairs)
    }

    /// `a + b mod p` for each pair.
    ///
    /// # Errors
    /// [`GpuError`] when the GPU fails.
    pub fn fe_add(&self, pairs: &[([u8; 32], [u8; 32])]) -> Result<Vec<[u8; 32]>, GpuError> {
        self.field_op(9, pairs)
    }

    /// `a - b mod p` for each pair.
    ///
    /// # Errors
    /// [`GpuError`] when the GPU fails.
    pub fn fe_sub(&self, pairs: &[([u8; 32], [u8; 32])]) -> Result<Vec<[u8; 32]>, GpuError> {
        self.field_op(10, pairs)
    }

    /// `a^2 mod p` for each input.
    ///
    /// # Errors
    /// [`GpuError`] when the GPU fails.
    pub fn fe_square(&self, xs: &[[u8; 32]]) -> Result<Vec<[u8; 32]>, GpuError> {
        self.unary(3, xs)
    }

    /// `a^(p-2) mod p` (the inverse; 0 maps to 0) for each input.
    ///
    /// # Errors
    /// [`GpuError`] when the GPU fails.
    pub fn fe_invert(&self, xs: &[[u8; 32]]) -> Result<Vec<[u8; 32]>, GpuError> {
        self.unary(4, xs)
    }

    /// curve25519-dalek's `sqrt_ratio_i(u, v)`: (u/v is a square, the nonnegative root).
    ///
    /// # Errors
    /// [`GpuError`] when the GPU fails.
    pub fn fe_sqrt_ratio_i(
        &self,
        pairs: &[([u8; 32], [u8; 32])],
    ) -> Result<Vec<(bool, [u8; 32])>, GpuError> {
        let items: Vec<u32> = pairs
            .iter()
            .flat_map(|(u, v)| words(&u[..]).chain(words(&v[..])).collect::<Vec<_>>())
            .collect();
        let out = self.run(5, 0, pairs.len(), &items, &[0], 9)?;
        Ok(out
            .chunks_exact(9)
            .map(|w| (w[0] == 1, bytes32(&w[1..])))
            .collect())
    }

    /// Decompresses each encoding as curve25519-dalek does, with the small-order test and
    /// the canonical re-encoding.
    ///
    /// # Errors
    /// [`GpuError`] when the GPU fails.
    pub fn decompress(&self, encodings: &[[u8; 32]]) -> Result<Vec<Decoded>, GpuError> {
        let items: Vec<u32> = encodings
            .iter()
            .flat_map(|e| words(&e[..]).collect::<Vec<_>>())
            .collect();
        let out = self.run(6, 0, encodings.len(), &items, &[0], 10)?;
        Ok(out
            .chunks_exact(10)
            .map(|w| Decoded {
                ok: w[0] == 1,
                small_order: w[1] == 1,
                compressed: bytes32(&w[2..]),
            })
            .collect())
    }

    /// `compress([k]P + [s]B)` for each (encoding of P, k, s), with k and s little-endian
    /// values below 2^255 (the kernel's signed radix-16 digits; scalars mod l are);
    /// `None` when P does not decompress.
    ///
    /// # Errors
    /// [`GpuError`] when the GPU fails.
    pub fn double_scalar_mul(
        &self,
        inputs: &[([u8; 32], [u8; 32], [u8; 32])],
    ) -> Result<Vec<Option<[u8; 32]>>, GpuError> {
        let items: Vec<u32> = inputs
            .iter()
            .flat_map(|(p, k, s)| {
                words(&p[..])
                    .chain(words(&k[..]))
                    .chain(words(&s[..]))
                    .collect::<Vec<_>>()
            })
            .collect();
        let out = self.run(7, 0, inputs.len(), &items, &[0], 9)?;
        Ok(out
            .chunks_exact(9)
            .map(|w| (w[0] == 1).then(|| bytes32(&w[1..])))
            .collect())
    }

    /// Each 512-bit little-endian integer reduced mod l (`Scalar::from_bytes_mod_order_wide`).
    ///
    /// # Errors
    /// [`GpuError`] when the GPU fails.
    pub fn reduce_wide(&self, xs: &[[u8; 64]]) -> Result<Vec<[u8; 32]>, GpuError> {
        let items: Vec<u32> = xs
            .iter()
            .flat_map(|x| words(&x[..]).collect::<Vec<_>>())
            .collect();
        let out = self.run(8, 0, xs.len(), &items, &[0], 8)?;
        Ok(out.chunks_exact(8).map(bytes32).collect())
    }

    /// Whether each 32-byte little-endian scalar is canonical (< l).
    ///
    /// # Errors
    /// [`GpuError`] when the GPU fails.
    pub fn scalar_is_canonical(&self, xs: &[[u8; 32]]) -> Result<Vec<bool>, GpuError> {
        let items: Vec<u32> = xs
            .iter()
            .flat_map(|x| words(&x[..]).collect::<Vec<_>>())
            .collect();
        let out = self.run(11, 0, xs.len(), &items, &[0], 1)?;
        Ok(out.iter().map(|&w| w == 1).collect())
    }
}
