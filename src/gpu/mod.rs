//! The device layer: adapter choice and report, the process-wide device and queue, the
//! pipeline cache, buffers, submission, read-back and waiting with a timeout.
//!
//! It knows nothing of signatures, hashes or transactions and imports nothing from the
//! modules that use it. The host code of each kernel sits beside its CPU sibling
//! (`sigverify/gpu`, `hash/gpu.rs`) and builds on `context`'s helpers; wgpu is named only
//! here and in those files, and no wgpu type appears in txpipe's public API.

pub(crate) mod context;
mod error;
mod report;

pub use context::cache_dir;
pub use error::{Cause, GpuError};
pub use report::{AdapterReport, PipelineTiming, StartupReport};

use std::time::Duration;

use context::GpuContext;

/// How long one GPU submission may take before it is declared failed (and its work
/// redone on the CPU): `base + per_item × items`, so a large batch gets the time it
/// needs and a hung device is noticed in seconds, not minutes.
///
/// Defaults: on a hardware adapter 2 s + 100 µs per item (a signature, or a unit of
/// hashing); on a software adapter (lavapipe, ~1 ms per signature) 10 s + 20 ms per item.
/// `TXPIPE_GPU_TIMEOUT_MS` and `TXPIPE_GPU_TIMEOUT_PER_ITEM_US` override the two parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpuTimeout {
    /// Time allowed to any submission.
    pub base: Duration,
    /// Time added per item of work in the submission.
    pub per_item: Duration,
}

impl GpuTimeout {
    /// The time allowed to a submission of `items` items.
    pub fn for_items(&self, items: usize) -> Duration {
        let items = u32::try_from(items).unwrap_or(u32::MAX);
        self.base
            .saturating_add(self.per_item.saturating_mul(items))
    }

    /// The default for an adapter (see the type's docs), with the environment's overrides.
    pub(crate) fn default_for(software: bool) -> Self {
        let env_u64 = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
        let (base, per_item) = if software {
            (Duration::from_secs(10), Duration::from_millis(20))
        } else {
            (Duration::from_secs(2), Duration::from_micros(100))
        };
        Self {
            base: env_u64("TXPIPE_GPU_TIMEOUT_MS").map_or(base, Duration::from_millis),
            per_item: env_u64("TXPIPE_GPU_TIMEOUT_PER_ITEM_US")
                .map_or(per_item, Duration::from_micros),
        }
    }
}

/// A [`GpuTimeout`] that a backend reads per batch and a caller may change at any time
/// (lock-free: two atomics, each part read whole).
#[derive(Debug)]
pub(crate) struct TimeoutCell {
    base_ns: std::sync::atomic::AtomicU64,
    per_item_ns: std::sync::atomic::AtomicU64,
}

impl TimeoutCell {
    pub(crate) fn new(timeout: GpuTimeout) -> Self {
        let cell = Self {
            base_ns: std::sync::atomic::AtomicU64::new(0),
            per_item_ns: std::sync::atomic::AtomicU64::new(0),
        };
        cell.set(timeout);
        cell
    }

    pub(crate) fn set(&self, timeout: GpuTimeout) {
        use std::sync::atomic::Ordering::Relaxed;
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.base_ns.store(ns(timeout.base), Relaxed);
        self.per_item_ns.store(ns(timeout.per_item), Relaxed);
    }

    pub(crate) fn get(&self) -> GpuTimeout {
        use std::sync::atomic::Ordering::Relaxed;
        GpuTimeout {
            base: Duration::from_nanos(self.base_ns.load(Relaxed)),
            per_item: Duration::from_nanos(self.per_item_ns.load(Relaxed)),
        }
    }
}

/// Fault injection: destroys the process-wide device, as a driver reset or a GPU fault
/// would. Work in flight on it fails; every GPU backend must then redo that work on the
/// CPU and, on its next batch, open a new device and rebuild its kernels. Returns whether
/// a device was open.
#[cfg(feature = "test-support")]
pub fn lose_device() -> bool {
    match GpuContext::current() {
        Some(ctx) => {
            ctx.destroy();
            true
        }
        None => false,
    }
}

/// Lists every adapter wgpu finds on this machine, marking the one txpipe would use.
pub fn adapters_report() -> Vec<AdapterReport> {
    context::adapters_report()
}

/// Opens the process-wide device if it is not open yet (slow: seconds on a software
/// renderer) and reports what start-up has cost so far: device, pipelines, cache.
///
/// # Errors
/// [`GpuError::NoAdapter`] or [`GpuError::RequestDevice`] (cached: the process does not
/// retry opening a device that is not there).
pub fn startup_report() -> Result<StartupReport, GpuError> {
    GpuContext::shared().map(|ctx| ctx.startup_report())
}

/// Whether the adapter txpipe would use is a software renderer running on the CPU
/// (lavapipe/llvmpipe): correct but slower than the CPU backends. `None` when there is no
/// adapter. Opens the shared device on first use.
pub fn adapter_is_software() -> Option<bool> {
    GpuContext::shared().ok().map(|ctx| ctx.is_software())
}
