//! CPU hashing: SHA-256 against NIST vectors and sha2, Merkle roots against a plain
//! reference, proof-of-history chains (valid, and every kind of defect at every index).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use txpipe::backend::{Backend, BackendChoice};
use txpipe::hash::merkle::{self, hash_intermediate, hash_leaf, EMPTY_ROOT};
use txpipe::hash::poh::{self, Breakage, ChainSpec, Entry};
use txpipe::hash::{sha256, BackendHasher, BatchHasher, CpuHasher};
use txpipe::Hash;

#[path = "hash_support/mod.rs"]
mod hash_support;
use hash_support::{cli_hash_check, cli_poh_check};

/// (message, digest) from FIPS 180-2 appendix B and the NIST SHAVS short-message file.
fn nist_vectors() -> Vec<(Vec<u8>, &'static str)> {
    vec![
        (b"".to_vec(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (b"abc".to_vec(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".to_vec(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
        (
            b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".to_vec(),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
        ),
        (vec![0xd3], "28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1"),
        (vec![0x11, 0xaf], "5ca7133fa735326081558ac312c620eeca9970d1e70a4b95533d956f072d1f98"),
        (vec![0xb4, 0x19, 0x0e], "dff2e73091f6c05e528896c4c831b9448653dc2ff043528f6769437bc7b975c2"),
    ]
}

fn edge_and_random_messages(seed: u64) -> Vec<Vec<u8>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut lens: Vec<usize> = vec![
        0, 1, 3, 4, 5, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128,
    ];
    lens.extend((0..200).map(|_| rng.gen_range(0..=2000)));
    lens.iter()
        .map(|&l| {
            let mut m = vec![0u8; l];
            rng.fill(&mut m[..]);
            m
        })
        .collect()
}

#[test]
fn nist_vectors_on_cpu_paths() {
    let vectors = nist_vectors();
    let msgs: Vec<&[u8]> = vectors.iter().map(|(m, _)| m.as_slice()).collect();
    let backend = BackendHasher::open(BackendChoice::Cpu).expect("cpu backend");
    for hasher in [&CpuHasher::new() as &dyn BatchHasher, &backend] {
        let got = hasher.sha256_vec(&msgs).expect("cpu never fails");
        for ((m, want), got) in vectors.iter().zip(&got) {
            assert_eq!(hex::encode(got), *want, "message {}", hex::encode(m));
            assert_eq!(hex::encode(sha256(m)), *want);
        }
    }
}

#[test]
fn one_million_a() {
    let m = vec![b'a'; 1_000_000];
    assert_eq!(
        hex::encode(CpuHasher::new().sha256_vec(&[&m]).expect("cpu")[0]),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
}

#[test]
fn cpu_batch_matches_sha2_sequential_and_parallel() {
    let msgs = edge_and_random_messages(1);
    let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    // The whole batch is > 64 KiB (rayon path); small slices take the sequential path.
    let all = CpuHasher::new().sha256_vec(&refs).expect("cpu");
    let small = CpuHasher::new().sha256_vec(&refs[..8]).expect("cpu");
    for (i, m) in refs.iter().enumerate() {
        assert_eq!(all[i], sha256(m), "len {}", m.len());
    }
    assert_eq!(&all[..8], &small[..]);
    let mut out = vec![[0u8; 32]; 3];
    assert!(CpuHasher::new().sha256_batch(&refs[..2], &mut out).is_err());
}

/// Plain recursive reference of Solana's rule: pair up (odd last node with itself) until
/// one node is left.
fn reference_root(items: &[&[u8]]) -> Hash {
    fn up(nodes: Vec<Hash>) -> Hash {
        if nodes.len() == 1 {
            return nodes[0];
        }
        let mut next = Vec::new();
        let mut i = 0;
        while i < nodes.len() {
            let l = nodes[i];
            let r = if i + 1 < nodes.len() { nodes[i + 1] } else { l };
            let mut buf = vec![1u8];
            buf.extend_from_slice(&l);
            buf.extend_from_slice(&r);
            next.push(sha256(&buf));
            i += 2;
        }
        up(next)
    }
    if items.is_empty() {
        return [0u8; 32];
    }
    up(items
        .iter()
        .map(|x| {
            let mut buf = vec![0u8];
            buf.extend_from_slice(x);
            sha256(&buf)
        })
        .collect())
}

#[test]
fn merkle_matches_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let backend = BackendHasher::open(BackendChoice::Cpu).expect("cpu");
    for n in (0..40).chain([255, 256, 257, 2047, 2048, 2049, 4097, 5000]) {
        let leaves: Vec<Hash> = (0..n).map(|_| rng.gen()).collect();
        let refs: Vec<&[u8]> = leaves.iter().map(|l| l.as_slice()).collect();
        let want = reference_root(&refs);
        assert_eq!(merkle::merkle_root(&leaves), want, "n = {n}");
        assert_eq!(merkle::transaction_root(&leaves), want);
        assert_eq!(merkle::state_root(&leaves), want);
        assert_eq!(
            merkle::merkle_root_batched(&leaves, &backend).expect("cpu"),
            want,
            "batched n = {n}"
        );
        assert_eq!(
            merkle::transaction_root_with(&leaves, &CpuHasher::new()).expect("cpu"),
            want
        );
    }
    // 64-byte items (signatures), the PoH mixin.
    let sigs: Vec<[u8; 64]> = (0..7)
        .map(|_| {
            let mut s = [0u8; 64];
            rng.fill(&mut s[..]);
            s
        })
        .collect();
    let refs: Vec<&[u8]> = sigs.iter().map(|s| s.as_slice()).collect();
    assert_eq!(merkle::merkle_root_of(&sigs), reference_root(&refs));
    assert_eq!(merkle::merkle_root(&[]), EMPTY_ROOT);
    let a = [1u8; 32];
    assert_eq!(merkle::merkle_root(&[a]), hash_leaf(&a));
    let la = hash_leaf(&a);
    assert_eq!(merkle::merkle_root(&[a, a, a]), {
        let p = hash_intermediate(&la, &la);
        hash_intermediate(&p, &p)
    });
}

fn chain(seed: u64, spec: &ChainSpec, breaks: &[(usize, Breakage)]) -> (Hash, Vec<Entry>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start: Hash = rng.gen();
    let entries = poh::generate_chain(&start, spec, breaks, &mut rng);
    (start, entries)
}

fn small_spec() -> ChainSpec {
    ChainSpec {
        entries: 24,
        hashes_per_entry: 17,
        tx_share: 0.5,
        max_txs_per_entry: 3,
        max_sigs_per_tx: 2,
    }
}

#[test]
fn poh_valid_chains_pass() {
    let cpu = CpuHasher::new();
    for seed in 0..5 {
        let (start, entries) = chain(seed, &small_spec(), &[]);
        assert_eq!(
            poh::verify_entries(&start, &entries, &cpu).expect("cpu"),
            None
        );
        for (i, e) in entries.iter().enumerate() {
            let prev = if i == 0 { start } else { entries[i - 1].hash };
            assert!(e.verify(&prev));
        }
    }
    assert_eq!(poh::verify_entries(&[0; 32], &[], &cpu).expect("cpu"), None);
}

#[test]
fn poh_every_defect_found_at_its_index() {
    let backend = BackendHasher::open(BackendChoice::Cpu).expect("cpu");
    let spec = small_spec();
    for how in [
        Breakage::FlipBit,
        Breakage::WrongNumHashes,
        Breakage::WrongMixin,
    ] {
        for i in 0..spec.entries {
            let (start, entries) = chain(100 + i as u64, &spec, &[(i, how)]);
            let verdicts = poh::entry_verdicts(&start, &entries, &backend).expect("cpu");
            let bad: Vec<usize> = (0..entries.len()).filter(|&j| !verdicts[j]).collect();
            assert_eq!(bad, vec![i], "{how:?} at {i}");
            assert_eq!(
                poh::verify_entries(&start, &entries, &backend).expect("cpu"),
                Some(i)
            );
        }
    }
    // Several defects: the first is reported.
    let (start, entries) = chain(
        7,
        &spec,
        &[
            (20, Breakage::FlipBit),
            (5, Breakage::WrongMixin),
            (9, Breakage::WrongNumHashes),
        ],
    );
    assert_eq!(
        poh::verify_entries(&start, &entries, &backend).expect("cpu"),
        Some(5)
    );
    assert_eq!(backend.route_chains(entries.len()), Backend::Cpu);
}

#[test]
fn poh_edge_cases_follow_solana() {
    let cpu = CpuHasher::new();
    let h: Hash = [9u8; 32];
    // A tick with num_hashes == 0 repeats the previous hash.
    let tick0 = Entry {
        num_hashes: 0,
        hash: h,
        transactions: vec![],
    };
    assert_eq!(
        poh::verify_entries(&h, std::slice::from_ref(&tick0), &cpu).expect("cpu"),
        None
    );
    // num_hashes == 0 with transactions behaves like 1: hash(h || mixin).
    let txs = vec![vec![[3u8; 64]], vec![]];
    let one = Entry::new(&h, 1, txs.clone());
    let zero = Entry {
        num_hashes: 0,
        hash: one.hash,
        transactions: txs,
    };
    assert_eq!(poh::verify_entries(&h, &[zero], &cpu).expect("cpu"), None);
    // Transactions without any signature mix in 32 zero bytes.
    let nosig = Entry::new(&h, 5, vec![vec![]]);
    let want = txpipe::hash::sha256v(&[&txpipe::hash::sha256_chain(&h, 4), &[0u8; 32]]);
    assert_eq!(nosig.hash, want);
    assert_eq!(poh::verify_entries(&h, &[nosig], &cpu).expect("cpu"), None);
    assert_eq!(poh::total_hashes(&[tick0, one]), 1);
}

/// A GPU that always fails: every batch must come back from the CPU, counted.
struct FailingGpu;

impl BatchHasher for FailingGpu {
    fn name(&self) -> &'static str {
        "failing-gpu"
    }
    fn sha256_batch(&self, _: &[&[u8]], out: &mut [Hash]) -> Result<(), txpipe::hash::HashError> {
        out.fill([0xee; 32]);
        Err(txpipe::hash::HashError::GpuFailure(injected()))
    }
    fn hash_chains(
        &self,
        _: &[Hash],
        _: &[u64],
        out: &mut [Hash],
    ) -> Result<(), txpipe::hash::HashError> {
        out.fill([0xee; 32]);
        Err(txpipe::hash::HashError::GpuFailure(injected()))
    }
}

#[test]
fn gpu_failure_falls_back_to_cpu_and_is_counted() {
    let backend = BackendHasher::from_parts(
        BackendChoice::Auto,
        CpuHasher::new(),
        Some(Box::new(FailingGpu)),
    )
    .with_crossover(4)
    .with_chain_crossover(2);
    // Below the crossover: CPU, no GPU attempt.
    let msgs: Vec<&[u8]> = vec![b"a", b"b"];
    assert_eq!(backend.route(msgs.len()), Backend::Cpu);
    let mut out = vec![[0u8; 32]; 2];
    assert_eq!(
        backend.sha256_routed(&msgs, &mut out).expect("ok"),
        Backend::Cpu
    );
    assert_eq!(backend.stats().gpu_failures, 0);
    // At the crossover: GPU attempted, fails, CPU digests returned.
    let msgs: Vec<&[u8]> = vec![b"a", b"b", b"abc", b""];
    let mut out = vec![[0u8; 32]; 4];
    assert_eq!(
        backend.sha256_routed(&msgs, &mut out).expect("ok"),
        Backend::Cpu
    );
    for (m, d) in msgs.iter().zip(&out) {
        assert_eq!(*d, sha256(m));
    }
    let (start, entries) = chain(3, &small_spec(), &[(4, Breakage::WrongMixin)]);
    assert_eq!(
        poh::verify_entries(&start, &entries, &backend).expect("ok"),
        Some(4)
    );
    let s = backend.stats();
    assert_eq!(s.gpu_failures, 2);
    assert_eq!(s.gpu_messages, 0);
    assert_eq!(s.cpu_messages, 6);
    assert_eq!(s.cpu_chain_hashes, poh_chain_hashes(&entries));
    assert!(backend
        .last_gpu_error()
        .is_some_and(|e| e.contains("injected")));
    assert_eq!(backend.name(), "auto");
}

fn poh_chain_hashes(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|e| {
            if e.is_tick() {
                e.num_hashes
            } else {
                e.num_hashes.saturating_sub(1)
            }
        })
        .sum()
}

#[test]
fn cli_hash_cpu() {
    cli_hash_check("cpu", 21);
}

#[test]
fn cli_poh_cpu() {
    cli_poh_check("cpu");
}

#[test]
fn cli_poh_verify_refuses_hostile_hash_counts() {
    let dir = std::env::temp_dir().join(format!("txpipe-poh-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("chain.jsonl");
    let zero = "00".repeat(32);
    std::fs::write(
        &file,
        format!(
            "{{\"format\":\"txpipe-poh-v1\",\"start_hash\":\"{zero}\"}}\n{{\"num_hashes\":18446744073709551615,\"hash\":\"{zero}\",\"transactions\":[]}}\n"
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_txpipe"))
        .args(["poh-verify", "--backend", "cpu"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--max-hashes"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

fn injected() -> txpipe::gpu::GpuError {
    txpipe::gpu::GpuError::Submission(txpipe::gpu::Cause::msg("injected"))
}
