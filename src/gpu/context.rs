//! The process-wide GPU context: instance, adapter, device, queue, pipeline cache, and the
//! small helpers every GPU kernel of txpipe shares (pipeline creation with captured
//! validation errors, growable storage buffers, read-back with a timeout).
//!
//! The context is created once per process ([`GpuContext::shared`]); creating a device and
//! compiling shaders is slow (seconds on a software renderer), so tests and the CLI reuse
//! the same one.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::error::{Cause, GpuError};
use super::report::{AdapterReport, PipelineTiming, StartupReport};
use super::GpuTimeout;

/// The process-wide GPU context. See the module documentation.
pub(crate) struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    pipeline_cache: Option<wgpu::PipelineCache>,
    cache_path: Option<PathBuf>,
    uncaptured: Arc<Mutex<Option<Cause>>>,
    lost: Arc<AtomicBool>,
    startup: Mutex<StartupReport>,
    timeout: GpuTimeout,
    // Kept last so it outlives the device.
    _instance: wgpu::Instance,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.info.name)
            .field("backend", &self.info.backend)
            .field("pipeline_cache", &self.pipeline_cache.is_some())
            .finish()
    }
}

/// Why [`GpuContext::poll_wait`] returned early.
enum PollFailure {
    Timeout(Duration),
    Failed(Cause),
}

impl PollFailure {
    /// The error to report: a timeout as such, any other failure as `kind`.
    fn into_error(self, kind: fn(Cause) -> GpuError) -> GpuError {
        match self {
            PollFailure::Timeout(t) => GpuError::Timeout(t),
            PollFailure::Failed(c) => kind(c),
        }
    }
}

/// The process-wide context: `None` before the first use; a context that was lost is
/// replaced on the next use; only "no adapter" is remembered as an error.
static SHARED: Mutex<Option<Result<Arc<GpuContext>, GpuError>>> = Mutex::new(None);

fn device_type_rank(t: wgpu::DeviceType) -> u32 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

fn backend_rank(b: wgpu::Backend) -> u32 {
    match b {
        wgpu::Backend::Vulkan => 0,
        wgpu::Backend::Metal | wgpu::Backend::Dx12 => 1,
        wgpu::Backend::Gl => 3,
        _ => 2,
    }
}

/// Adapter preference: Vulkan first, then by device type (discrete first, CPU last).
fn adapter_rank(info: &wgpu::AdapterInfo) -> (u32, u32) {
    (
        backend_rank(info.backend),
        device_type_rank(info.device_type),
    )
}

fn new_instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle())
}

fn enumerate(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.sort_by_key(|a| adapter_rank(&a.get_info()));
    adapters
}

/// The directory of txpipe's persistent caches: `$TXPIPE_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/txpipe`, else `$HOME/.cache/txpipe`.
pub fn cache_dir() -> Option<PathBuf> {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = nonempty("TXPIPE_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = nonempty("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("txpipe"));
    }
    nonempty("HOME").map(|h| PathBuf::from(h).join(".cache").join("txpipe"))
}

/// Lists every adapter wgpu finds, marking the one txpipe would use.
pub(crate) fn adapters_report() -> Vec<AdapterReport> {
    let instance = new_instance();
    let adapters = enumerate(&instance);
    adapters
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let info = a.get_info();
            let limits = a.limits();
            let features = a.features();
            AdapterReport {
                name: info.name.clone(),
                backend: format!("{:?}", info.backend),
                device_type: format!("{:?}", info.device_type),
                driver: format!("{} {}", info.driver, info.driver_info)
                    .trim()
                    .to_string(),
                max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
                max_buffer_size: limits.max_buffer_size,
                max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
                max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
                pipeline_cache: features.contains(wgpu::Features::PIPELINE_CACHE),
                shader_int64: features.contains(wgpu::Features::SHADER_INT64),
                selected: i == 0,
            }
        })
        .collect()
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

impl GpuContext {
    /// The process-wide context, created on first use, and created anew when the device
    /// was lost (a driver reset, [`crate::gpu::lose_device`]): kernels built on the old one
    /// notice with [`GpuContext::is_lost`] and rebuild on the new one. "No adapter" is
    /// remembered (the process does not look again for a device that is not there); a
    /// device that fails to open is tried again on the next call.
    ///
    /// # Errors
    /// [`GpuError::NoAdapter`] or [`GpuError::RequestDevice`].
    pub(crate) fn shared() -> Result<Arc<GpuContext>, GpuError> {
        let mut shared = SHARED
            .lock()
            .map_err(|_| GpuError::RequestDevice(Cause::msg("GPU context lock poisoned")))?;
        match &*shared {
            Some(Ok(ctx)) if !ctx.is_lost() => return Ok(Arc::clone(ctx)),
            Some(Err(e @ GpuError::NoAdapter(_))) => return Err(e.clone()),
            _ => {}
        }
        let opened = GpuContext::open().map(Arc::new);
        *shared = Some(opened.clone());
        opened
    }

    /// The process-wide context if one is open (lost or not), without opening one.
    pub(crate) fn current() -> Option<Arc<GpuContext>> {
        match SHARED.lock().ok()?.as_ref() {
            Some(Ok(ctx)) => Some(Arc::clone(ctx)),
            _ => None,
        }
    }

    /// Whether the device has been lost (destroyed, reset by the driver): nothing can run
    /// on it any more, and [`GpuContext::shared`] opens a new one.
    pub(crate) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// After a failed batch: lets wgpu deliver a pending device-loss notice (it arrives on
    /// a poll), then says whether the device is lost.
    pub(crate) fn check_lost(&self) -> bool {
        if !self.is_lost() {
            let _ = self.device.poll(wgpu::PollType::Poll);
        }
        self.is_lost()
    }

    /// Destroys the device, as a driver reset would (fault injection).
    #[cfg(feature = "test-support")]
    pub(crate) fn destroy(&self) {
        self.device.destroy();
    }

    /// Opens a new context on the preferred adapter. Prefer [`GpuContext::shared`].
    ///
    /// # Errors
    /// [`GpuError::NoAdapter`] or [`GpuError::RequestDevice`].
    pub(crate) fn open() -> Result<GpuContext, GpuError> {
        let t0 = Instant::now();
        let instance = new_instance();
        let adapter = enumerate(&instance).into_iter().next().ok_or_else(|| {
            GpuError::NoAdapter(
                "wgpu found no adapter (no Vulkan/Metal/DX12/GL driver; \
                 on Linux install mesa-vulkan-drivers for lavapipe)"
                    .into(),
            )
        })?;
        let info = adapter.get_info();
        let adapter_features = adapter.features();
        let mut features = wgpu::Features::empty();
        if adapter_features.contains(wgpu::Features::PIPELINE_CACHE) {
            features |= wgpu::Features::PIPELINE_CACHE;
        }
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("txpipe"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| GpuError::RequestDevice(Cause::new(e)))?;

        // wgpu's default handler panics; record instead and report it from the next batch.
        let uncaptured: Arc<Mutex<Option<Cause>>> = Arc::new(Mutex::new(None));
        let sink = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut slot) = sink.lock() {
                *slot = Some(Cause::new(e));
            }
        }));
        let sink = Arc::clone(&uncaptured);
        let lost = Arc::new(AtomicBool::new(false));
        let lost_flag = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, msg| {
            lost_flag.store(true, Ordering::SeqCst);
            if let Ok(mut slot) = sink.lock() {
                *slot = Some(Cause::msg(format!("device lost ({reason:?}): {msg}")));
            }
        });

        let mut cache_path = None;
        let mut cache_bytes_loaded = 0;
        let pipeline_cache = if features.contains(wgpu::Features::PIPELINE_CACHE) {
            let key = wgpu::util::pipeline_cache_key(&info).map(|k| {
                format!(
                    "{k}_{}_wgpu30.0.1_txpipe{}.bin",
                    sanitize(&info.driver_info),
                    env!("CARGO_PKG_VERSION")
                )
            });
            cache_path = key.and_then(|k| cache_dir().map(|d| d.join(k)));
            let data = cache_path.as_ref().and_then(|p| std::fs::read(p).ok());
            cache_bytes_loaded = data.as_ref().map_or(0, Vec::len);
            // SAFETY: the data, if any, was written by `PipelineCache::get_data` of this same
            // wgpu version for an adapter with the same cache key (vendor, device, driver
            // version are in the file name); the driver validates the header again, and
            // `fallback: true` makes an unusable blob yield an empty cache instead of an error.
            #[allow(unsafe_code)]
            let cache = unsafe {
                device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                    label: Some("txpipe pipeline cache"),
                    data: data.as_deref(),
                    fallback: true,
                })
            };
            Some(cache)
        } else {
            None
        };

        let timeout = GpuTimeout::default_for(info.device_type == wgpu::DeviceType::Cpu);

        let startup = StartupReport {
            device_open: t0.elapsed(),
            pipeline_cache_enabled: pipeline_cache.is_some(),
            cache_path: cache_path.clone(),
            cache_bytes_loaded,
            pipelines: Vec::new(),
        };
        Ok(GpuContext {
            device,
            queue,
            info,
            limits,
            pipeline_cache,
            cache_path,
            uncaptured,
            lost,
            startup: Mutex::new(startup),
            timeout,
            _instance: instance,
        })
    }

    /// Whether the adapter is a software renderer running on the CPU (lavapipe/llvmpipe).
    pub(crate) fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// The adapter's description: name, device type, API.
    pub(crate) fn label(&self) -> String {
        format!(
            "{} [{:?}, {:?}]",
            self.info.name, self.info.device_type, self.info.backend
        )
    }

    /// The wgpu device.
    pub(crate) fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The wgpu queue.
    pub(crate) fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The device limits (the adapter's own limits were requested).
    pub(crate) fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// A copy of the start-up report (device open time, pipeline creation times, cache).
    pub(crate) fn startup_report(&self) -> StartupReport {
        self.startup.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Takes the last error reported outside any error scope (or a device loss), if any.
    pub(crate) fn take_uncaptured_error(&self) -> Option<Cause> {
        self.uncaptured.lock().ok().and_then(|mut s| s.take())
    }

    /// Creates a compute pipeline from WGSL source, through the pipeline cache, capturing
    /// validation errors instead of panicking. `layout: None` derives the layout from the
    /// shader.
    ///
    /// # Errors
    /// [`GpuError::Pipeline`] when the shader or pipeline fails validation.
    pub(crate) fn compute_pipeline(
        &self,
        label: &str,
        wgsl: &str,
        entry: &str,
        layout: Option<&wgpu::PipelineLayout>,
    ) -> Result<wgpu::ComputePipeline, GpuError> {
        let t0 = Instant::now();
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(wgsl.into()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout,
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                cache: self.pipeline_cache.as_ref(),
            });
        if let Some(err) = pollster::block_on(scope.pop()) {
            return Err(GpuError::Pipeline {
                label: label.to_string(),
                cause: Cause::new(err),
            });
        }
        if let Ok(mut s) = self.startup.lock() {
            s.pipelines.push(PipelineTiming {
                label: label.to_string(),
                elapsed: t0.elapsed(),
            });
        }
        Ok(pipeline)
    }

    /// Adds a timing line to the start-up report (e.g. a first dispatch that compiled).
    pub(crate) fn record_timing(&self, label: &str, elapsed: Duration) {
        if let Ok(mut s) = self.startup.lock() {
            s.pipelines.push(PipelineTiming {
                label: label.to_string(),
                elapsed,
            });
        }
    }

    /// Writes the pipeline cache to disk (atomically: temp file then rename). Called after
    /// pipelines are created; errors are ignored (the cache is an optimisation).
    pub(crate) fn save_pipeline_cache(&self) {
        let (Some(cache), Some(path)) = (&self.pipeline_cache, &self.cache_path) else {
            return;
        };
        let Some(data) = cache.get_data() else {
            return;
        };
        if let Some(dir) = path.parent() {
            if std::fs::create_dir_all(dir).is_err() {
                return;
            }
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, &data).is_ok() && std::fs::rename(&tmp, path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    /// Submits command buffers inside an error scope and waits for them, at most
    /// `timeout`.
    ///
    /// # Errors
    /// [`GpuError::Submission`] on a validation/out-of-memory error or device loss,
    /// [`GpuError::Timeout`] when the GPU does not finish in time.
    pub(crate) fn submit_and_wait(
        &self,
        commands: impl IntoIterator<Item = wgpu::CommandBuffer>,
        timeout: Duration,
    ) -> Result<(), GpuError> {
        let index = self.submit(commands)?;
        self.wait(index, timeout)
    }

    /// Submits command buffers inside an error scope (validation and out-of-memory errors
    /// are captured and returned), without waiting.
    ///
    /// # Errors
    /// [`GpuError::Submission`].
    pub(crate) fn submit(
        &self,
        commands: impl IntoIterator<Item = wgpu::CommandBuffer>,
    ) -> Result<wgpu::SubmissionIndex, GpuError> {
        if let Some(e) = self.take_uncaptured_error() {
            return Err(GpuError::Submission(e));
        }
        if self.is_lost() {
            return Err(GpuError::Submission(Cause::msg("the device was lost")));
        }
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let val = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let index = self.queue.submit(commands);
        let v = pollster::block_on(val.pop());
        let o = pollster::block_on(oom.pop());
        if let Some(e) = v.or(o) {
            return Err(GpuError::Submission(Cause::new(e)));
        }
        Ok(index)
    }

    /// The timeout this device's kernels start from (see [`GpuTimeout`]).
    pub(crate) fn default_timeout(&self) -> GpuTimeout {
        self.timeout
    }

    /// Largest buffer a shader may bind as storage (bytes).
    pub(crate) fn storage_limit(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    /// Largest buffer of any kind (bytes).
    pub(crate) fn buffer_limit(&self) -> u64 {
        self.limits.max_buffer_size
    }

    /// Waits for a submission, at most `timeout`.
    ///
    /// # Errors
    /// [`GpuError::Timeout`] or [`GpuError::Submission`] (device lost).
    pub(crate) fn wait(
        &self,
        index: wgpu::SubmissionIndex,
        timeout: Duration,
    ) -> Result<(), GpuError> {
        self.poll_wait(Some(index), Some(timeout))
            .map_err(|e| e.into_error(GpuError::Submission))?;
        if let Some(e) = self.take_uncaptured_error() {
            return Err(GpuError::Submission(e));
        }
        Ok(())
    }

    /// Waits for a submission with no time limit: only for a first dispatch, where a
    /// software driver compiles the kernel (a minute on lavapipe).
    ///
    /// # Errors
    /// [`GpuError::Submission`] (device lost).
    pub(crate) fn wait_untimed(&self, index: wgpu::SubmissionIndex) -> Result<(), GpuError> {
        self.poll_wait(Some(index), None)
            .map_err(|e| e.into_error(GpuError::Submission))?;
        if let Some(e) = self.take_uncaptured_error() {
            return Err(GpuError::Submission(e));
        }
        Ok(())
    }

    /// The one place that waits for the GPU: polls until submission `index` (every
    /// submission when `None`) has finished, at most `timeout`.
    fn poll_wait(
        &self,
        index: Option<wgpu::SubmissionIndex>,
        timeout: Option<Duration>,
    ) -> Result<(), PollFailure> {
        match self.device.poll(wgpu::PollType::Wait {
            submission_index: index,
            timeout,
        }) {
            Ok(_) => Ok(()),
            Err(wgpu::PollError::Timeout) => Err(PollFailure::Timeout(timeout.unwrap_or_default())),
            Err(e) => Err(PollFailure::Failed(Cause::new(e))),
        }
    }

    /// Maps `size` bytes at the start of a `MAP_READ` buffer (after the submission that
    /// filled it has completed), copies them out and unmaps.
    ///
    /// # Errors
    /// [`GpuError::Readback`] or [`GpuError::Timeout`].
    pub(crate) fn read_mapped(
        &self,
        buffer: &wgpu::Buffer,
        size: u64,
        timeout: Duration,
    ) -> Result<Vec<u8>, GpuError> {
        self.read_mapped_after(buffer, size, None, timeout)
    }

    /// As [`GpuContext::read_mapped`], but waits only for submission `after` (the one that
    /// filled the buffer), not for later submissions, so the GPU can keep running them.
    ///
    /// # Errors
    /// [`GpuError::Readback`] or [`GpuError::Timeout`].
    pub(crate) fn read_mapped_after(
        &self,
        buffer: &wgpu::Buffer,
        size: u64,
        after: Option<wgpu::SubmissionIndex>,
        timeout: Duration,
    ) -> Result<Vec<u8>, GpuError> {
        if size == 0 {
            return Ok(Vec::new());
        }
        let slice = buffer.slice(..size);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.poll_wait(after, Some(timeout))
            .map_err(|e| e.into_error(GpuError::Readback))?;
        let mapped = match rx.try_recv() {
            Ok(r) => r,
            Err(_) => {
                // The callback fires on a later poll: wait for everything submitted so far.
                self.poll_wait(None, Some(timeout))
                    .map_err(|e| e.into_error(GpuError::Readback))?;
                rx.recv_timeout(timeout)
                    .map_err(|e| GpuError::Readback(Cause::new(e)))?
            }
        };
        mapped.map_err(|e| GpuError::Readback(Cause::new(e)))?;
        let out = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| GpuError::Readback(Cause::new(e)))?;
            view.to_vec()
        };
        buffer.unmap();
        Ok(out)
    }

    /// A bind group of whole buffers: `(binding, buffer)` pairs.
    pub(crate) fn bind_buffers(
        &self,
        label: &str,
        layout: &wgpu::BindGroupLayout,
        buffers: &[(u32, &wgpu::Buffer)],
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry<'_>> = buffers
            .iter()
            .map(|&(binding, buffer)| wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout,
            entries: &entries,
        })
    }

    /// A command encoder holding `passes` compute passes, each one dispatch of `pipeline`
    /// over `workgroups` workgroups with `bind` as group 0 (a pass boundary orders the
    /// buffer writes of one dispatch before the reads of the next on every backend).
    pub(crate) fn encode_dispatches(
        &self,
        label: &str,
        pipeline: &wgpu::ComputePipeline,
        bind: &wgpu::BindGroup,
        workgroups: u32,
        passes: u32,
    ) -> wgpu::CommandEncoder {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        for _ in 0..passes {
            record_pass(&mut encoder, label, pipeline, bind, workgroups);
        }
        encoder
    }

    /// Creates a storage buffer initialised with `data` (used once, e.g. constant tables).
    pub(crate) fn storage_buffer_init(&self, label: &str, data: &[u8]) -> wgpu::Buffer {
        let size = (data.len() as u64).max(16).next_multiple_of(4);
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        if !data.is_empty() {
            let mut padded;
            let bytes = if data.len().is_multiple_of(4) {
                data
            } else {
                padded = data.to_vec();
                padded.resize(data.len().next_multiple_of(4), 0);
                &padded[..]
            };
            self.queue.write_buffer(&buffer, 0, bytes);
        }
        buffer
    }
}

/// The capacity a buffer of `capacity` bytes needs for `size` bytes: itself when it is
/// enough, else at least double (rounded to 256 bytes) but never past `limit`; `None` when
/// `size` is over `limit`.
fn grown_capacity(capacity: u64, size: u64, limit: u64) -> Option<u64> {
    if size > limit {
        return None;
    }
    let size = size.max(16).next_multiple_of(256).min(limit);
    if capacity >= size {
        return Some(capacity);
    }
    Some(size.max(capacity.saturating_mul(2).min(limit)))
}

/// A buffer that is reused across batches and only reallocated when a batch needs more
/// room (then at least doubling, but never past `limit`, the device's limit for this kind
/// of buffer), so steady-state batches allocate nothing and growth never asks the device
/// for a buffer it cannot give.
#[derive(Debug)]
pub(crate) struct GrowableBuffer {
    label: &'static str,
    usage: wgpu::BufferUsages,
    limit: u64,
    buffer: Option<wgpu::Buffer>,
    capacity: u64,
    generation: u64,
}

impl GrowableBuffer {
    /// A buffer with no storage yet, never larger than `limit` bytes.
    pub(crate) fn new(label: &'static str, usage: wgpu::BufferUsages, limit: u64) -> Self {
        Self {
            label,
            usage,
            limit,
            buffer: None,
            capacity: 0,
            generation: 0,
        }
    }

    /// A storage buffer the host writes and shaders read/write, within the device's
    /// storage binding limit.
    pub(crate) fn storage(label: &'static str, ctx: &GpuContext) -> Self {
        Self::new(
            label,
            wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            ctx.storage_limit(),
        )
    }

    /// A buffer the host maps to read results back, within the device's buffer limit.
    pub(crate) fn readback(label: &'static str, ctx: &GpuContext) -> Self {
        Self::new(
            label,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            ctx.buffer_limit(),
        )
    }

    /// Makes sure the buffer holds at least `size` bytes; returns true when it was
    /// (re)allocated (bind groups referring to it must then be rebuilt).
    ///
    /// # Errors
    /// [`GpuError::Limits`] when `size` is over the limit (the caller must split its work
    /// to fit); the buffer is then left as it was.
    pub(crate) fn ensure(&mut self, device: &wgpu::Device, size: u64) -> Result<bool, GpuError> {
        let capacity = match grown_capacity(self.capacity, size, self.limit) {
            Some(c) if self.buffer.is_none() || c > self.capacity => c,
            Some(_) => return Ok(false),
            None => {
                return Err(GpuError::Limits(format!(
                    "{}: {size} bytes asked, the device allows {}",
                    self.label, self.limit
                )))
            }
        };
        self.buffer = Some(device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(self.label),
            size: capacity,
            usage: self.usage,
            mapped_at_creation: false,
        }));
        self.capacity = capacity;
        self.generation += 1;
        Ok(true)
    }

    /// The buffer, once [`GrowableBuffer::ensure`] has been called.
    pub(crate) fn buffer(&self) -> Option<&wgpu::Buffer> {
        self.buffer.as_ref()
    }

    /// Incremented on every reallocation.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }
}

/// Records one compute pass on `encoder`: `pipeline` over `workgroups` workgroups with
/// `bind` as group 0.
pub(crate) fn record_pass(
    encoder: &mut wgpu::CommandEncoder,
    label: &str,
    pipeline: &wgpu::ComputePipeline,
    bind: &wgpu::BindGroup,
    workgroups: u32,
) {
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some(label),
        timestamp_writes: None,
    });
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, bind, &[]);
    pass.dispatch_workgroups(workgroups, 1, 1);
}

#[cfg(test)]
mod tests {
    use super::grown_capacity;

    #[test]
    fn buffers_grow_by_doubling_but_never_past_the_limit() {
        let limit = 128 << 20;
        assert_eq!(grown_capacity(0, 1, limit), Some(256));
        assert_eq!(grown_capacity(1024, 1000, limit), Some(1024));
        assert_eq!(grown_capacity(1024, 1025, limit), Some(2048));
        assert_eq!(grown_capacity(1024, 5000, limit), Some(5120));
        // doubling would pass the limit: clamped to it
        assert_eq!(
            grown_capacity(100 << 20, (100 << 20) + 1, limit),
            Some(limit)
        );
        // exactly the limit, even when not a multiple of 256
        assert_eq!(grown_capacity(0, 1000, 1000), Some(1000));
        // past the limit: refused, so the caller splits its work
        assert_eq!(grown_capacity(1024, limit + 1, limit), None);
    }
}
