//! What the device layer reports: the adapters found (`txpipe info`) and what start-up
//! cost. Plain data, no wgpu type.

use std::path::PathBuf;
use std::time::Duration;

/// One adapter found on this machine, for `txpipe info`.
#[derive(Debug, Clone)]
pub struct AdapterReport {
    /// Adapter name (e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`).
    pub name: String,
    /// Backend (Vulkan, Metal, Dx12, Gl).
    pub backend: String,
    /// Device type (DiscreteGpu, IntegratedGpu, Cpu, ...).
    pub device_type: String,
    /// Driver name and version info.
    pub driver: String,
    /// `max_storage_buffer_binding_size` in bytes.
    pub max_storage_buffer_binding_size: u64,
    /// `max_buffer_size` in bytes.
    pub max_buffer_size: u64,
    /// `max_compute_workgroups_per_dimension`.
    pub max_compute_workgroups_per_dimension: u32,
    /// `max_compute_invocations_per_workgroup`.
    pub max_compute_invocations_per_workgroup: u32,
    /// Whether the adapter supports a persistent pipeline cache.
    pub pipeline_cache: bool,
    /// Whether the adapter offers 64-bit integers in shaders.
    pub shader_int64: bool,
    /// Whether txpipe would pick this adapter.
    pub selected: bool,
}

/// Timing of one pipeline creation.
#[derive(Debug, Clone)]
pub struct PipelineTiming {
    /// Pipeline label.
    pub label: String,
    /// Wall time of shader module + pipeline creation.
    pub elapsed: Duration,
}

/// What start-up cost, for `txpipe info` and the README.
#[derive(Debug, Clone, Default)]
pub struct StartupReport {
    /// Time to create the instance, pick the adapter and open the device.
    pub device_open: Duration,
    /// Whether a pipeline cache exists on this device.
    pub pipeline_cache_enabled: bool,
    /// Where the pipeline cache is stored, when persisted.
    pub cache_path: Option<PathBuf>,
    /// Bytes of pipeline cache loaded from disk at start (0: cold start).
    pub cache_bytes_loaded: usize,
    /// Each pipeline created so far and how long it took.
    pub pipelines: Vec<PipelineTiming>,
}

impl StartupReport {
    /// Whether this process started with a pipeline cache from an earlier run.
    pub fn warm(&self) -> bool {
        self.cache_bytes_loaded > 0
    }
}
