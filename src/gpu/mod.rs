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

pub use context::{cache_dir, DEFAULT_TIMEOUT};
pub use error::{Cause, GpuError};
pub use report::{AdapterReport, PipelineTiming, StartupReport};

use context::GpuContext;

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
