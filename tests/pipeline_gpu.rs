//! The pipeline on the GPU (lavapipe in CI): results and commits equal the reference run,
//! and injected GPU failures are verified again on the CPU and counted, losing nothing.
//! Without an adapter the test prints why and passes, except with `CI=true`, where it fails.

use std::sync::Arc;

use txpipe::gpu::sigverify::GpuSigVerifier;
use txpipe::hash::BackendHasher;
use txpipe::pipeline::reference::run_reference;
use txpipe::pipeline::workload::{Contention, Workload, WorkloadSpec};
use txpipe::pipeline::{Pipeline, PipelineConfig};
use txpipe::sigverify::{
    BackendChoice, BackendVerifier, CpuVerifier, SigItem, SigVerifier, SigVerifyError,
};

/// Shares one GPU verifier between the pipeline and the test (for fault injection).
struct Shared(Arc<GpuSigVerifier>);

impl SigVerifier for Shared {
    fn name(&self) -> &'static str {
        "gpu"
    }
    fn verify_into(&self, items: &[SigItem<'_>], out: &mut [bool]) -> Result<(), SigVerifyError> {
        self.0.verify_into(items, out)
    }
}

fn gpu() -> Option<Arc<GpuSigVerifier>> {
    match GpuSigVerifier::open() {
        Ok(g) => Some(Arc::new(g)),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but no usable GPU adapter: {e}")
        }
        Err(e) => {
            eprintln!("skipping: no usable GPU adapter: {e}");
            None
        }
    }
}

#[test]
fn gpu_pipeline_equals_reference_and_survives_faults() {
    let Some(gpu) = gpu() else { return };
    let w = Workload::generate(
        &WorkloadSpec {
            accounts: 30,
            transactions: 240,
            signatures_per_tx: 1,
            contention: Contention::Hot(0.3),
            invalid_share: 0.1,
            duplicate_share: 0.05,
            v0_share: 0.5,
            seed: 77,
        },
        &|_, _| {},
    )
    .expect("workload");
    let blocks = w.blocks(60);
    let verifier = Arc::new(
        BackendVerifier::from_parts(
            BackendChoice::Gpu,
            CpuVerifier::new(),
            Some(Box::new(Shared(Arc::clone(&gpu)))),
        )
        .with_crossover(1),
    );
    let config = PipelineConfig {
        backend: BackendChoice::Gpu,
        sigverify_batch: 30,
        genesis: w.genesis.clone(),
        verifier: Some(Arc::clone(&verifier)),
        hasher: Some(Arc::new(
            BackendHasher::open(BackendChoice::Cpu).expect("cpu hasher"),
        )),
        ..PipelineConfig::default()
    };
    let (reference, _) = run_reference(&config, &blocks).expect("reference");

    // clean run: everything on the GPU
    let (results, metrics) = Pipeline::new(config.clone())
        .expect("pipeline")
        .run(blocks.clone())
        .expect("run");
    assert_eq!(results, reference);
    assert_eq!(metrics.sigverify.gpu_fallbacks, 0);
    assert!(metrics.sigverify.gpu_signatures > 0);
    assert_eq!(metrics.sigverify.cpu_signatures, 0);

    // faulty run: the first three GPU batches fail
    let before = verifier.stats();
    gpu.inject_faults(3);
    let (results, _) = Pipeline::new(config)
        .expect("pipeline")
        .run(blocks)
        .expect("run");
    assert_eq!(results, reference);
    let after = verifier.stats();
    assert_eq!(after.gpu_failures - before.gpu_failures, 3);
    assert!(after.cpu_signatures > before.cpu_signatures);
    assert!(after.gpu_signatures > before.gpu_signatures);
}
