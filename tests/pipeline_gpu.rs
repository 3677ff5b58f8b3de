//! The pipeline on the GPU (lavapipe in CI): results and commits equal the reference run,
//! and injected GPU failures are verified again on the CPU and counted, losing nothing.
//! Without an adapter the test shows as ignored, except with `CI=true`, where it fails
//! (`gpu_support`).

#[path = "gpu_support/mod.rs"]
mod gpu_support;

use std::sync::Arc;

use txpipe::backend::{BackendChoice, Breaker};
use txpipe::error::error_chain;
use txpipe::hash::BackendHasher;
use txpipe::pipeline::reference::run_reference;
use txpipe::pipeline::workload::{Contention, Workload, WorkloadSpec};
use txpipe::pipeline::{Pipeline, PipelineConfig};
use txpipe::sigverify::{BackendVerifier, CpuVerifier, GpuSigVerifier};
use txpipe::testing::FaultInjector;

fn gpu() -> GpuSigVerifier {
    GpuSigVerifier::open().unwrap_or_else(|e| {
        panic!(
            "a GPU adapter exists but the verifier does not open: {}",
            error_chain(&e)
        )
    })
}

fn gpu_pipeline_equals_reference_and_survives_faults() {
    // the test arms faults in the GPU half after handing it to the pipeline
    let (gpu, faults) = FaultInjector::new(gpu());
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
            ..WorkloadSpec::default()
        },
        &|_, _| {},
    )
    .expect("workload");
    let blocks = w.blocks(60);
    let verifier = Arc::new(
        BackendVerifier::from_parts(BackendChoice::Gpu, CpuVerifier::new(), Some(Box::new(gpu)))
            .with_crossover(1)
            // three failures in a row must not trip the breaker here: this test is about the
            // batches that fail, not about resting the GPU (tests/gpu_faults.rs)
            .with_breaker(Breaker {
                threshold: 4,
                ..Breaker::default()
            }),
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
    faults.fail_next(3);
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

/// The cofactored rule through the whole pipeline on the GPU: transfers, a quarter of them
/// signed with a torsion component in R (valid only under this rule), equal the reference
/// run under the same rule, every signature verified on the GPU.
fn cofactored_pipeline_on_the_gpu_equals_reference() {
    use ed25519_dalek::{Signer, SigningKey};
    use rand::SeedableRng;
    use txpipe::pipeline::TxOutcome;
    use txpipe::sigverify::SignatureRule;
    use txpipe::state::Account;
    use txpipe::tx::build;

    let key = |i: u64| SigningKey::from_bytes(&[i as u8 + 1; 32]);
    let pk = |i: u64| key(i).verifying_key().to_bytes();
    let genesis: Vec<_> = (0..8)
        .map(|i| (pk(i), Account::new(1_000_000, build::SYSTEM_PROGRAM_ID)))
        .collect();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0x376);
    let block: Vec<Vec<u8>> = (0..48u64)
        .map(|i| {
            let message = build::encode_message(&build::system_transfer_message(
                &pk(i % 8),
                &pk((i + 3) % 8),
                1 + i,
                &[9; 32],
            ));
            let signature = if i % 4 == 0 {
                txpipe::testing::sign_with_torsion(&key(i % 8), &message, &mut rng)
            } else {
                key(i % 8).sign(&message).to_bytes()
            };
            build::assemble(&[signature], &message)
        })
        .collect();
    let blocks = vec![block[..24].to_vec(), block[24..].to_vec()];
    let verifier = Arc::new(
        BackendVerifier::open_with_rule(BackendChoice::Gpu, SignatureRule::Cofactored)
            .unwrap_or_else(|e| panic!("cofactored GPU verifier: {}", error_chain(&e)))
            .with_crossover(1),
    );
    let config = PipelineConfig {
        backend: BackendChoice::Gpu,
        rule: SignatureRule::Cofactored,
        genesis,
        verifier: Some(Arc::clone(&verifier)),
        hasher: Some(Arc::new(
            BackendHasher::open(BackendChoice::Cpu).expect("cpu hasher"),
        )),
        ..PipelineConfig::default()
    };
    let (reference, _) = run_reference(&config, &blocks).expect("reference");
    let (results, metrics) = Pipeline::new(config)
        .expect("pipeline")
        .run(blocks)
        .expect("run");
    assert_eq!(results, reference);
    assert!(results
        .iter()
        .flat_map(|r| &r.outcomes)
        .all(|o| *o == TxOutcome::Ok));
    assert_eq!(metrics.sigverify.gpu_fallbacks, 0);
    assert_eq!(metrics.sigverify.gpu_signatures, 48);
}

fn main() -> std::process::ExitCode {
    gpu_support::run(&[
        (
            "gpu_pipeline_equals_reference_and_survives_faults",
            gpu_pipeline_equals_reference_and_survives_faults,
        ),
        (
            "cofactored_pipeline_on_the_gpu_equals_reference",
            cofactored_pipeline_on_the_gpu_equals_reference,
        ),
    ])
}
