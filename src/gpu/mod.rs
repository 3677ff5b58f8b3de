//! Every wgpu call of txpipe lives under this module.
//!
//! - [`context`]: the process-wide device, queue, pipeline cache and buffer helpers;
//! - [`sigverify`]: ed25519 `verify_strict` in WGSL (see `shaders/`), [`GpuSigVerifier`];
//! - [`kernels`]: test entry points running each ed25519 building block alone.

mod base_table;
pub mod context;
pub mod kernels;
pub mod sha256;
pub mod sigverify;

pub use context::{adapters_report, AdapterReport, GpuContext, GpuError, StartupReport};
pub use sigverify::GpuSigVerifier;

use crate::sigverify::{SigVerifier, SigVerifyError};

/// Opens the GPU signature verifier on the best adapter (shared context; the kernel is
/// compiled once per process).
///
/// # Errors
/// [`SigVerifyError::NoGpu`] when no adapter is found or the kernel cannot be built.
pub fn open_sig_verifier() -> Result<Box<dyn SigVerifier>, SigVerifyError> {
    GpuSigVerifier::open()
        .map(|v| Box::new(v) as Box<dyn SigVerifier>)
        .map_err(|e| SigVerifyError::NoGpu(e.to_string()))
}

/// Whether the adapter txpipe would use is a software renderer running on the CPU
/// (lavapipe/llvmpipe): correct but slower than the CPU backend, so `auto` does not pick
/// it. `None` when there is no adapter.
pub fn adapter_is_software() -> Option<bool> {
    GpuContext::shared()
        .ok()
        .map(|ctx| ctx.adapter_info().device_type == wgpu::DeviceType::Cpu)
}
