//! Every wgpu call of txpipe lives under this module.
//!
//! - [`context`]: the process-wide device, queue, pipeline cache and buffer helpers;
//! - `sigverify`: ed25519 `verify_strict` in WGSL (see `shaders/`).

pub mod context;
pub mod sha256;

pub use context::{adapters_report, AdapterReport, GpuContext, GpuError, StartupReport};

use crate::sigverify::{SigVerifier, SigVerifyError};

/// Opens the GPU signature verifier on the best adapter.
///
/// # Errors
/// [`SigVerifyError::NoGpu`] when no adapter is found.
pub fn open_sig_verifier() -> Result<Box<dyn SigVerifier>, SigVerifyError> {
    Err(SigVerifyError::NoGpu(
        "the GPU signature backend is not built yet".into(),
    ))
}
