//! Errors of the device layer. They name no wgpu type: an error reported by wgpu is kept
//! as the [`Cause`] (the `source()`) of the variant that says what failed.

use std::sync::Arc;
use std::time::Duration;

/// The underlying error of a [`GpuError`]: the error wgpu (or the driver) reported, kept
/// whole so that `source()` chains reach it. Cheap to clone (the process caches a failed
/// device open and a failed kernel build, and hands the same error to every caller).
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync + 'static>);

/// A cause that is only a message (a device-loss reason, an internal inconsistency).
#[derive(Debug)]
struct Message(String);

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}

impl Cause {
    /// Wraps an error reported by wgpu or the driver.
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(e))
    }

    /// A cause given only as a message.
    pub fn msg(m: impl Into<String>) -> Self {
        Self(Arc::new(Message(m.into())))
    }
}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Why the GPU could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GpuError {
    /// No adapter was found (no driver, no device).
    #[error("no GPU adapter found: {0}")]
    NoAdapter(String),
    /// The adapter was found but the device could not be opened.
    #[error("could not open the GPU device")]
    RequestDevice(#[source] Cause),
    /// A shader or pipeline failed validation or compilation.
    #[error("pipeline {label:?} failed")]
    Pipeline {
        /// Label of the pipeline.
        label: String,
        /// The error reported by wgpu.
        #[source]
        cause: Cause,
    },
    /// A submission reported an error (validation, out of memory, device lost).
    #[error("GPU submission failed")]
    Submission(#[source] Cause),
    /// Waiting for the GPU took longer than the configured timeout.
    #[error("GPU did not finish within {0:?}")]
    Timeout(Duration),
    /// Mapping a read-back buffer failed.
    #[error("GPU read-back failed")]
    Readback(#[source] Cause),
    /// The request does not fit the device's limits.
    #[error("request exceeds the device limits: {0}")]
    Limits(String),
}
