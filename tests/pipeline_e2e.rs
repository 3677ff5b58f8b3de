//! The pipeline end to end: every outcome, determinism across configurations against the
//! single-threaded reference, backpressure, shutdown, duplicates, GPU faults.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use txpipe::backend::BackendChoice;
use txpipe::execute::{InstructionError, TxError};
use txpipe::hash::BackendHasher;
use txpipe::pipeline::reference::run_reference;
use txpipe::pipeline::workload::{Contention, Workload, WorkloadSpec};
use txpipe::pipeline::{BlockResult, Pipeline, PipelineConfig, StageId, TrySubmitError, TxOutcome};
use txpipe::sigverify::{BackendVerifier, CpuVerifier, SigItem, SigVerifier, SigVerifyError};
use txpipe::state::Account;
use txpipe::tx::build::{self, InstructionSpec, LookupSpec, MessageSpec};
use txpipe::tx::{MessageHeader, Version};

fn key(i: u64) -> SigningKey {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&i.to_le_bytes());
    b[8] = 0x5a;
    SigningKey::from_bytes(&b)
}

fn pk(i: u64) -> [u8; 32] {
    key(i).verifying_key().to_bytes()
}

const BH: [u8; 32] = [3; 32];

/// Blocks in which every outcome appears, with the genesis they run against.
type Genesis = Vec<(txpipe::Pubkey, Account)>;
type Blocks = Vec<Vec<Vec<u8>>>;

fn mixed_blocks() -> (Genesis, Blocks) {
    let genesis: Vec<_> = (0..6)
        .map(|i| (pk(i), Account::new(1_000_000, build::SYSTEM_PROGRAM_ID)))
        .collect();
    let ok = build::system_transfer(&key(0), &pk(1), 10, &BH);
    let ok2 = build::system_transfer(&key(1), &pk(2), 20, &BH);
    let mut bad_sig = build::system_transfer(&key(2), &pk(3), 30, &BH);
    bad_sig[10] ^= 1;
    let too_much = build::system_transfer(&key(3), &pk(4), 10_000_000, &BH);
    let unfunded_payer = build::system_transfer(&key(99), &pk(4), 1, &BH);
    // transfer from key 5 where 5 is not a signer: payer 4 signs, 5 is a plain writable key
    let missing_signer = {
        let spec = MessageSpec {
            version: Version::Legacy,
            header: MessageHeader {
                num_required_signatures: 1,
                num_readonly_signed_accounts: 0,
                num_readonly_unsigned_accounts: 1,
            },
            static_keys: vec![pk(4), pk(5), pk(0), build::SYSTEM_PROGRAM_ID],
            recent_blockhash: BH,
            instructions: vec![InstructionSpec {
                program_id_index: 3,
                accounts: vec![1, 2],
                data: build::transfer_data(5),
            }],
            lookups: vec![],
        };
        build::sign_message(&build::encode_message(&spec), &[&key(4)])
    };
    let with_lookup = {
        let spec = MessageSpec {
            version: Version::V0,
            header: MessageHeader {
                num_required_signatures: 1,
                num_readonly_signed_accounts: 0,
                num_readonly_unsigned_accounts: 1,
            },
            static_keys: vec![pk(5), build::SYSTEM_PROGRAM_ID],
            recent_blockhash: BH,
            instructions: vec![InstructionSpec {
                program_id_index: 1,
                accounts: vec![0, 2],
                data: build::transfer_data(5),
            }],
            lookups: vec![LookupSpec {
                account_key: [77; 32],
                writable_indexes: vec![0],
                readonly_indexes: vec![],
            }],
        };
        build::sign_message(&build::encode_message(&spec), &[&key(5)])
    };
    let v0_ok = {
        let mut spec = build::system_transfer_message(&pk(5), &pk(0), 7, &BH);
        spec.version = Version::V0;
        build::sign_message(&build::encode_message(&spec), &[&key(5)])
    };
    let block0 = vec![
        ok.clone(),
        bad_sig,
        vec![1, 2, 3], // malformed
        too_much,
        ok.clone(), // replay in the same block
        unfunded_payer,
        missing_signer,
        with_lookup,
        v0_ok,
        ok2,
    ];
    let block1 = vec![ok, build::system_transfer(&key(0), &pk(1), 11, &BH)];
    (genesis, vec![block0, block1])
}

fn cpu_config(genesis: Vec<(txpipe::Pubkey, Account)>) -> PipelineConfig {
    PipelineConfig {
        backend: BackendChoice::Cpu,
        genesis,
        ..PipelineConfig::default()
    }
}

#[test]
fn every_outcome_end_to_end() {
    let (genesis, blocks) = mixed_blocks();
    let config = cpu_config(genesis);
    let pipeline = Pipeline::new(config.clone()).unwrap();
    let table = Arc::clone(pipeline.accounts());
    let (results, metrics) = pipeline.run(blocks.clone()).unwrap();
    let o = &results[0].outcomes;
    assert_eq!(o.len(), 10);
    assert_eq!(o[0], TxOutcome::Ok);
    assert_eq!(o[1], TxOutcome::InvalidSignature);
    assert!(matches!(o[2], TxOutcome::Malformed(_)));
    assert_eq!(o[2].stage(), Some(StageId::Parse));
    assert!(matches!(
        &o[3],
        TxOutcome::Failed(TxError::Instruction {
            error: InstructionError::InsufficientFunds,
            ..
        })
    ));
    assert_eq!(o[4], TxOutcome::Duplicate);
    assert!(
        matches!(&o[5], TxOutcome::Failed(e) if !e.fee_charged()),
        "{:?}",
        o[5]
    );
    assert!(matches!(
        &o[6],
        TxOutcome::Failed(TxError::Instruction {
            error: InstructionError::MissingRequiredSignature,
            ..
        })
    ));
    assert_eq!(o[7], TxOutcome::Failed(TxError::NeedsAddressResolver));
    assert_eq!(o[8], TxOutcome::Ok);
    assert_eq!(o[9], TxOutcome::Ok);
    // block 1: a replay across blocks, and a fresh transfer
    assert_eq!(
        results[1].outcomes,
        vec![TxOutcome::Duplicate, TxOutcome::Ok]
    );
    // the replayed transfer took effect once: 1 received 10 + 11, paid 20 + fee
    assert_eq!(table.lamports(&pk(1)), 1_000_000 + 10 + 11 - 20 - 5000);
    assert_eq!(metrics.outcomes.total(), 12);
    assert_eq!(metrics.blocks, 2);
    // counts and commits equal the reference
    let (reference, _) = run_reference(&config, &blocks).unwrap();
    assert_eq!(results, reference);
    assert_eq!(results[0].commit.counts.total(), 10);
    assert_eq!(results[0].commit.counts.failed_fee_charged, 2);
}

fn workload(txs: usize, accounts: usize, contention: Contention, seed: u64) -> Workload {
    Workload::generate(
        &WorkloadSpec {
            accounts,
            transactions: txs,
            signatures_per_tx: 2,
            contention,
            invalid_share: 0.05,
            duplicate_share: 0.05,
            v0_share: 0.3,
            seed,
            ..WorkloadSpec::default()
        },
        &|_, _| {},
    )
    .unwrap()
}

#[test]
fn deterministic_across_configurations() {
    let w = workload(1200, 40, Contention::Zipf(1.2), 11);
    let base = PipelineConfig {
        backend: BackendChoice::Cpu,
        genesis: w.genesis.clone(),
        ..PipelineConfig::default()
    };
    let blocks = w.blocks(300);
    let (reference, _) = run_reference(&base, &blocks).unwrap();
    let counts = reference.iter().fold(
        Default::default(),
        |mut c: txpipe::pipeline::OutcomeCounts, r| {
            c.merge(&r.commit.counts);
            c
        },
    );
    assert!(
        counts.ok > 0 && counts.duplicate > 0 && counts.invalid_signature > 0,
        "{counts:?}"
    );
    for (batch, workers, cap, stripes) in [
        (1, 1, 1, 1),
        (7, 2, 2, 4),
        (4096, 8, 8, 1024),
        (64, 3, 1, 16),
    ] {
        let config = PipelineConfig {
            sigverify_batch: batch,
            worker_threads: workers,
            channel_capacity: cap,
            stripes,
            ..base.clone()
        };
        let (results, _) = Pipeline::new(config).unwrap().run(blocks.clone()).unwrap();
        assert_eq!(
            results, reference,
            "batch {batch} workers {workers} cap {cap}"
        );
    }
    // the stream interface cuts the same blocks when blocks close only when full (the
    // time and idle rules cut wherever the scheduler happens to leave the stages)
    let mut p = Pipeline::new(PipelineConfig {
        block_size: 300,
        max_block_wait: None,
        ..base.clone()
    })
    .unwrap();
    let consumer = {
        let rx = p.results();
        std::thread::spawn(move || rx.iter().collect::<Vec<BlockResult>>())
    };
    for packet in &w.packets {
        p.submit(packet.clone()).unwrap();
    }
    p.close().unwrap();
    let streamed = consumer.join().unwrap();
    let (rest, _) = p.finish().unwrap();
    assert!(rest.is_empty());
    assert_eq!(streamed, reference);
}

/// A "GPU" that fails every other batch and otherwise answers like the CPU.
struct FlakyGpu {
    calls: AtomicUsize,
}

impl SigVerifier for FlakyGpu {
    fn name(&self) -> &'static str {
        "flaky-gpu"
    }
    fn verify_into(&self, items: &[SigItem<'_>], out: &mut [bool]) -> Result<(), SigVerifyError> {
        if self.calls.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) {
            // scribble over the output first: a failed batch must not leak verdicts
            out.iter_mut().for_each(|v| *v = true);
            return Err(SigVerifyError::GpuFailure(
                txpipe::gpu::GpuError::Submission(txpipe::gpu::Cause::msg("injected: device lost")),
            ));
        }
        CpuVerifier::new().verify_into(items, out)
    }
}

#[test]
fn gpu_faults_fall_back_to_cpu_with_identical_results() {
    let w = workload(800, 100, Contention::Uniform, 5);
    let blocks = w.blocks(100);
    let flaky = Arc::new(
        BackendVerifier::from_parts(
            BackendChoice::Gpu,
            CpuVerifier::new(),
            Some(Box::new(FlakyGpu {
                calls: AtomicUsize::new(0),
            })),
        )
        .with_crossover(1),
    );
    let config = PipelineConfig {
        backend: BackendChoice::Gpu,
        sigverify_batch: 64,
        genesis: w.genesis.clone(),
        verifier: Some(Arc::clone(&flaky)),
        // digests on the CPU: this test needs no adapter
        hasher: Some(Arc::new(BackendHasher::open(BackendChoice::Cpu).unwrap())),
        ..PipelineConfig::default()
    };
    let (results, metrics) = Pipeline::new(config.clone())
        .unwrap()
        .run(blocks.clone())
        .unwrap();
    let (reference, _) = run_reference(&config, &blocks).unwrap();
    assert_eq!(results, reference);
    let stats = flaky.stats();
    assert!(
        stats.gpu_failures > 0 && stats.gpu_signatures > 0,
        "{stats:?}"
    );
    assert_eq!(metrics.sigverify.gpu_fallbacks, stats.gpu_failures);
    assert!(metrics.sigverify.gpu_share > 0.2 && metrics.sigverify.gpu_share < 0.8);
}

#[test]
fn backpressure_bounds_blocks_in_flight_and_loses_nothing() {
    let w = workload(400, 50, Contention::Hot(0.5), 9);
    let config = PipelineConfig {
        backend: BackendChoice::Cpu,
        channel_capacity: 1,
        genesis: w.genesis.clone(),
        ..PipelineConfig::default()
    };
    let mut p = Pipeline::new(config.clone()).unwrap();
    // flood without consuming results: the pipeline must say "full" after a bounded
    // number of blocks (5 queues of 1 + 4 stages holding one each, at most)
    let mut accepted = 0;
    let mut full = false;
    for _ in 0..200 {
        match p.try_submit_block(w.packets[..10].to_vec()) {
            Ok(_) => accepted += 1,
            Err(TrySubmitError::Full(back)) => {
                assert_eq!(back.len(), 10, "the packets are handed back");
                full = true;
                break;
            }
            Err(TrySubmitError::Closed(_)) => panic!("closed"),
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert!(full, "never full after {accepted} blocks");
    assert!(accepted <= 10, "{accepted} blocks in flight");
    let (results, metrics) = p.finish().unwrap();
    assert_eq!(results.len(), accepted);
    assert!(results.iter().all(|r| r.outcomes.len() == 10));
    assert_eq!(metrics.submitted, 10 * accepted as u64);
    assert_eq!(metrics.completed, metrics.submitted);
}

#[test]
fn shutdown_gives_every_transaction_exactly_one_result() {
    let w = workload(600, 30, Contention::Uniform, 3);
    let config = PipelineConfig {
        backend: BackendChoice::Cpu,
        genesis: w.genesis.clone(),
        channel_capacity: 2,
        ..PipelineConfig::default()
    };
    let mut p = Pipeline::new(config.clone()).unwrap();
    let rx = p.results();
    let consumer = std::thread::spawn(move || rx.iter().collect::<Vec<_>>());
    let mut sizes = Vec::new();
    for (i, chunk) in w.packets.chunks(37).enumerate() {
        assert_eq!(p.submit_block(chunk.to_vec()).unwrap(), i as u64);
        sizes.push(chunk.len());
    }
    // close right away: everything in flight still completes
    p.close().unwrap();
    assert!(
        p.submit_block(vec![vec![1]]).is_err(),
        "closed for submissions"
    );
    let all = consumer.join().unwrap();
    let (rest, metrics) = p.finish().unwrap();
    assert!(rest.is_empty());
    assert_eq!(all.len(), sizes.len());
    for (i, (r, n)) in all.iter().zip(&sizes).enumerate() {
        assert_eq!(r.commit.block, i as u64);
        assert_eq!(r.outcomes.len(), *n);
        assert_eq!(r.commit.counts.total(), *n as u64);
    }
    assert_eq!(metrics.completed, 600);
    assert!(metrics.latency_p99_ms >= metrics.latency_p50_ms);
    assert_eq!(metrics.stages.len(), 4);
    assert_eq!(metrics.stages[0].items_in, 600);
    let prom = metrics.to_prometheus();
    assert!(
        prom.contains("txpipe_transactions_completed_total 600"),
        "{prom}"
    );
    assert_eq!(metrics.to_json()["completed"], 600);

    // dropping a pipeline with work in flight joins its threads without hanging
    let mut p = Pipeline::new(config).unwrap();
    p.submit_block(w.packets[..50].to_vec()).unwrap();
    drop(p);
}

#[test]
fn invalid_configuration_is_refused() {
    for bad in [
        PipelineConfig {
            channel_capacity: 0,
            ..PipelineConfig::default()
        },
        PipelineConfig {
            sigverify_batch: 0,
            ..PipelineConfig::default()
        },
        PipelineConfig {
            stripes: 3,
            backend: BackendChoice::Cpu,
            ..PipelineConfig::default()
        },
    ] {
        let err = Pipeline::new(bad).unwrap_err();
        assert!(err.to_string().contains("configuration"), "{err}");
    }
}

#[test]
fn each_signature_rule_end_to_end_equals_its_reference() {
    use rand::SeedableRng;
    use txpipe::sigverify::SignatureRule;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(376);
    let genesis: Vec<_> = (0..8)
        .map(|i| (pk(i), Account::new(1_000_000, build::SYSTEM_PROGRAM_ID)))
        .collect();
    // transfers; every fourth is signed with a torsion component in R (cofactored only)
    let mut block = Vec::new();
    let mut torsion = Vec::new();
    for i in 0..64u64 {
        let from = i % 8;
        let message = build::encode_message(&build::system_transfer_message(
            &pk(from),
            &pk((i + 1) % 8),
            1 + i,
            &BH,
        ));
        let signature = if i % 4 == 0 {
            torsion.push(block.len());
            txpipe::testing::sign_with_torsion(&key(from), &message, &mut rng)
        } else {
            use ed25519_dalek::Signer;
            key(from).sign(&message).to_bytes()
        };
        block.push(build::assemble(&[signature], &message));
    }
    let blocks = vec![block.clone(), block[..10].to_vec()];
    let mut results_by_rule = Vec::new();
    for rule in SignatureRule::ALL {
        let config = PipelineConfig {
            rule,
            sigverify_batch: 7,
            ..cpu_config(genesis.clone())
        };
        let (results, _) = Pipeline::new(config.clone())
            .unwrap()
            .run(blocks.clone())
            .unwrap();
        let (reference, _) = run_reference(&config, &blocks).unwrap();
        assert_eq!(results, reference, "{rule}");
        for (i, o) in results[0].outcomes.iter().enumerate() {
            let want_invalid = rule == SignatureRule::Strict && torsion.contains(&i);
            assert_eq!(
                *o == TxOutcome::InvalidSignature,
                want_invalid,
                "{rule}: tx {i}: {o:?}"
            );
        }
        results_by_rule.push(results);
    }
    assert_ne!(results_by_rule[0], results_by_rule[1]);

    // a ready verifier of another rule than the configuration's is refused
    let err = Pipeline::new(PipelineConfig {
        rule: SignatureRule::Cofactored,
        verifier: Some(Arc::new(BackendVerifier::from_parts(
            BackendChoice::Cpu,
            CpuVerifier::new(),
            None,
        ))),
        ..cpu_config(genesis.clone())
    })
    .expect_err("a strict verifier under a cofactored configuration");
    assert!(err.to_string().contains("rule"), "{err}");

    // a GPU part of another rule is never trusted: its batches fall back to the CPU
    let mixed = BackendVerifier::from_parts(
        BackendChoice::Gpu,
        CpuVerifier::with_rule(SignatureRule::Cofactored),
        Some(Box::new(CpuVerifier::new())),
    );
    let packets: Vec<txpipe::tx::TransactionView<'_>> = block
        .iter()
        .map(|p| txpipe::tx::TransactionView::parse(p).unwrap())
        .collect();
    let items: Vec<SigItem<'_>> = packets.iter().flat_map(|v| v.sig_items()).collect();
    let mut out = vec![false; items.len()];
    mixed.verify_into(&items, &mut out).unwrap();
    assert!(
        out.iter().all(|v| *v),
        "every signature is cofactored-valid"
    );
    let stats = mixed.stats();
    assert!(
        stats.gpu_failures >= 1 && stats.gpu_signatures == 0,
        "{stats:?}"
    );
    assert!(
        mixed.last_gpu_error().unwrap_or_default().contains("rule"),
        "{:?}",
        mixed.last_gpu_error()
    );
}
