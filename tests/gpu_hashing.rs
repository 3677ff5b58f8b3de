//! The WGSL SHA-256 kernels against sha2: NIST vectors, random lengths with the block edges,
//! hash chains, Merkle roots and proof-of-history verification through the GPU.
//!
//! One GPU hasher (and so one device and one pipeline compilation) per test binary. Without
//! an adapter the tests show as ignored, except with `CI=true`, where they fail
//! (`gpu_support`).

#[path = "gpu_support/mod.rs"]
mod gpu_support;

use std::sync::OnceLock;

#[path = "hash_support/mod.rs"]
mod hash_support;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use txpipe::backend::{Backend, BackendChoice};
use txpipe::error::error_chain;
use txpipe::hash::poh::{self, Breakage, ChainSpec};
use txpipe::hash::{
    merkle, sha256, sha256_chain, BackendHasher, BatchHasher, CpuHasher, GpuHasher, HashError,
};
use txpipe::Hash;

/// The hasher shared by the tests of this binary (one pipeline compilation).
fn gpu() -> &'static GpuHasher {
    static GPU: OnceLock<Result<GpuHasher, String>> = OnceLock::new();
    match GPU.get_or_init(|| GpuHasher::open().map_err(|e| error_chain(&e))) {
        Ok(g) => g,
        Err(e) => panic!("a GPU adapter exists but the hasher does not open: {e}"),
    }
}

fn gpu_backend(g: &'static GpuHasher) -> BackendHasher {
    BackendHasher::from_parts(BackendChoice::Gpu, CpuHasher::new(), Some(Box::new(g)))
}

fn check_batch(g: &GpuHasher, msgs: &[Vec<u8>]) {
    let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    let got = g.sha256_vec(&refs).expect("GPU batch");
    for (m, d) in refs.iter().zip(&got) {
        assert_eq!(*d, sha256(m), "len {}: {}", m.len(), hex::encode(m));
    }
}

fn nist_vectors() {
    let g = gpu();
    let vectors: &[(&[u8], &str)] = &[
        (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
        (
            b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
        ),
        (&[0xd3], "28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1"),
        (&[0x11, 0xaf], "5ca7133fa735326081558ac312c620eeca9970d1e70a4b95533d956f072d1f98"),
        (&[0xb4, 0x19, 0x0e], "dff2e73091f6c05e528896c4c831b9448653dc2ff043528f6769437bc7b975c2"),
    ];
    let msgs: Vec<&[u8]> = vectors.iter().map(|(m, _)| *m).collect();
    let got = g.sha256_vec(&msgs).expect("GPU batch");
    for ((m, want), d) in vectors.iter().zip(&got) {
        assert_eq!(hex::encode(d), *want, "message {}", hex::encode(m));
    }
    // One million 'a' (FIPS 180-2 B.3): 15,625 blocks in one invocation.
    let million = vec![b'a'; 1_000_000];
    assert_eq!(
        hex::encode(g.sha256_vec(&[&million]).expect("GPU")[0]),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
}

fn random_lengths_and_block_edges() {
    let g = gpu();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut lens: Vec<usize> = (0..=130).collect();
    lens.extend([183, 184, 191, 192, 247, 248, 255, 256, 1232, 2000]);
    lens.extend((0..300).map(|_| rng.gen_range(0..=2000)));
    let msgs: Vec<Vec<u8>> = lens
        .iter()
        .map(|&l| {
            let mut m = vec![0u8; l];
            rng.fill(&mut m[..]);
            m
        })
        .collect();
    check_batch(g, &msgs);
    // Buffers are reused: a smaller batch after a larger one, then an empty batch.
    check_batch(g, &msgs[3..17]);
    check_batch(g, &[]);
    // Unaligned lengths placed back to back (packing pads each message to a word).
    let tiny: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8; i % 7]).collect();
    check_batch(g, &tiny);
}

fn hash_chains_match_cpu() {
    let g = gpu();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let n = 100;
    let starts: Vec<Hash> = (0..n).map(|_| rng.gen()).collect();
    let mut counts: Vec<u64> = (0..n).map(|_| rng.gen_range(0..200)).collect();
    counts[0] = 0;
    counts[1] = 1;
    // At and across the per-dispatch cap (8192 hashes per dispatch).
    counts[2] = 8192 + 3;
    counts[3] = 8192;
    counts[4] = 8191;
    counts[5] = 2 * 8192;
    let mut out = vec![[0u8; 32]; n];
    g.hash_chains(&starts, &counts, &mut out)
        .expect("GPU chains");
    for i in 0..n {
        assert_eq!(out[i], sha256_chain(&starts[i], counts[i]), "chain {i}");
    }
    let mut short = vec![[0u8; 32]; 1];
    assert!(g
        .hash_chains(&starts[..2], &counts[..2], &mut short)
        .is_err());
}

fn merkle_batched_on_gpu() {
    let g = gpu();
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let backend = gpu_backend(g);
    for n in [0usize, 1, 3, 2049, 5000] {
        let leaves: Vec<Hash> = (0..n).map(|_| rng.gen()).collect();
        let want = merkle::merkle_root(&leaves);
        assert_eq!(
            merkle::merkle_root_batched(&leaves, &backend).expect("root"),
            want
        );
    }
    assert_eq!(backend.stats().gpu_failures, 0);
    assert!(backend.stats().gpu_messages > 0);
}

fn poh_on_gpu_valid_and_every_defect() {
    let g = gpu();
    let backend = gpu_backend(g);
    // A slot's shape (64 ticks) at a size lavapipe runs quickly.
    let slot = ChainSpec {
        entries: 64,
        hashes_per_entry: 50,
        tx_share: 0.3,
        max_txs_per_entry: 3,
        max_sigs_per_tx: 2,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let start: Hash = rng.gen();
    let entries = poh::generate_chain(&start, &slot, &[], &mut rng);
    assert_eq!(backend.route_chains(entries.len()), Backend::Gpu);
    assert_eq!(
        poh::verify_entries(&start, &entries, &backend).expect("gpu"),
        None
    );

    let spec = ChainSpec {
        entries: 16,
        hashes_per_entry: 9,
        tx_share: 0.5,
        max_txs_per_entry: 2,
        max_sigs_per_tx: 2,
    };
    for how in [
        Breakage::FlipBit,
        Breakage::WrongNumHashes,
        Breakage::WrongMixin,
    ] {
        for i in 0..spec.entries {
            let mut rng = ChaCha8Rng::seed_from_u64(1000 + i as u64);
            let start: Hash = rng.gen();
            let entries = poh::generate_chain(&start, &spec, &[(i, how)], &mut rng);
            let verdicts = poh::entry_verdicts(&start, &entries, &backend).expect("gpu");
            let bad: Vec<usize> = (0..entries.len()).filter(|&j| !verdicts[j]).collect();
            assert_eq!(bad, vec![i], "{how:?} at {i}");
        }
    }
    let s = backend.stats();
    assert_eq!(s.gpu_failures, 0);
    assert_eq!(s.cpu_chain_hashes, 0);
    assert!(s.gpu_chain_hashes > 0);
}

fn oversized_message_falls_back_to_cpu() {
    let g = gpu();
    let big = vec![7u8; txpipe::hash::MAX_GPU_MESSAGE_BYTES + 1];
    assert!(matches!(
        g.sha256_vec(&[&big]),
        Err(HashError::Unsupported(_))
    ));
    // exactly at the cap: on the GPU, exact
    let at_cap = vec![9u8; txpipe::hash::MAX_GPU_MESSAGE_BYTES];
    assert_eq!(
        g.sha256_vec(&[&at_cap]).expect("at the cap"),
        vec![sha256(&at_cap)]
    );
    // past it: a routing to the CPU, not a GPU failure
    let backend = gpu_backend(g);
    let got = backend.sha256_vec(&[b"abc", &big]).expect("routed");
    assert_eq!(got, vec![sha256(b"abc"), sha256(&big)]);
    let s = backend.stats();
    assert_eq!(s.gpu_failures, 0);
    assert_eq!(s.oversized_on_cpu, 1);
    assert_eq!((s.gpu_messages, s.cpu_messages), (1, 1));
}

fn cli_hash_gpu() {
    gpu();
    hash_support::cli_hash_check("gpu", 22);
}

fn cli_poh_gpu() {
    gpu();
    hash_support::cli_poh_check("gpu");
}

fn batches_split_over_several_dispatches() {
    gpu();
    let small = GpuHasher::open()
        .expect("second GPU hasher on the shared context")
        .with_max_items_per_dispatch(7);
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let msgs: Vec<Vec<u8>> = (0..50)
        .map(|_| {
            let mut m = vec![0u8; rng.gen_range(0..300)];
            rng.fill(&mut m[..]);
            m
        })
        .collect();
    check_batch(&small, &msgs);
    let starts: Vec<Hash> = (0..30).map(|_| rng.gen()).collect();
    let counts: Vec<u64> = (0..30).map(|_| rng.gen_range(0..50)).collect();
    let mut out = vec![[0u8; 32]; 30];
    small
        .hash_chains(&starts, &counts, &mut out)
        .expect("chains");
    for i in 0..30 {
        assert_eq!(out[i], sha256_chain(&starts[i], counts[i]));
    }
}

fn main() -> std::process::ExitCode {
    gpu_support::run(&[
        ("nist_vectors", nist_vectors),
        (
            "random_lengths_and_block_edges",
            random_lengths_and_block_edges,
        ),
        ("hash_chains_match_cpu", hash_chains_match_cpu),
        ("merkle_batched_on_gpu", merkle_batched_on_gpu),
        (
            "poh_on_gpu_valid_and_every_defect",
            poh_on_gpu_valid_and_every_defect,
        ),
        (
            "oversized_message_falls_back_to_cpu",
            oversized_message_falls_back_to_cpu,
        ),
        ("cli_hash_gpu", cli_hash_gpu),
        ("cli_poh_gpu", cli_poh_gpu),
        (
            "batches_split_over_several_dispatches",
            batches_split_over_several_dispatches,
        ),
    ])
}
