//! Test material that other crates (and txpipe's own tests, benches and tools) can use
//! (cargo feature `test-support`): an adversarial ed25519 signature generator, loaders of
//! the shared test vectors, and [`FaultInjector`], which makes a GPU backend fail on demand.
//!
//! Every case carries the category it was drawn from; the expected verdict is never stored
//! here — tests compute it with [`crate::sigverify::reference_verify`].

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signer, SigningKey};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha512};

/// One generated (pubkey, message, signature) triple.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigCase {
    /// Public key bytes (possibly not a valid encoding).
    pub pubkey: [u8; 32],
    /// Message bytes.
    pub message: Vec<u8>,
    /// Signature bytes (`R || s`).
    pub signature: [u8; 64],
    /// Which edge case this is.
    pub category: &'static str,
}

impl SigCase {
    /// The case as a verifier input (borrowing it).
    pub fn item(&self) -> crate::sigverify::SigItem<'_> {
        crate::sigverify::SigItem {
            pubkey: &self.pubkey,
            message: &self.message,
            signature: &self.signature,
        }
    }
}

/// The categories [`adversarial`] draws from, in order.
pub const CATEGORIES: &[&str] = &[
    "valid",
    "valid_block_edge",
    "small_order_a",
    "small_order_r",
    "mixed_order_a",
    "mixed_order_r",
    "non_canonical_a",
    "non_canonical_r",
    "s_plus_l",
    "s_high_bits",
    "off_curve_a",
    "off_curve_r",
    "bit_flip",
    "wrong_key",
    "random_bytes",
];

/// p = 2^255 - 19, little-endian.
const P_BYTES: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// l, the order of the base point, little-endian.
const L_BYTES: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Little-endian 256-bit addition; `None` on overflow.
fn add_le(a: &[u8; 32], b: &[u8; 32]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = v as u8;
        carry = v >> 8;
    }
    (carry == 0).then_some(out)
}

/// Encoding of y = p + delta (a non-canonical y for delta < 19), with the sign bit.
pub fn non_canonical_y(delta: u8, sign: bool) -> [u8; 32] {
    let mut d = [0u8; 32];
    d[0] = delta;
    let mut y = add_le(&P_BYTES, &d).unwrap_or(P_BYTES);
    if sign {
        y[31] |= 0x80;
    }
    y
}

/// Every encoding of the eight small-order points: canonical with both sign bits, and the
/// non-canonical `y + p` forms where they fit in 255 bits (14 in all).
pub fn small_order_encodings() -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    for t in EIGHT_TORSION.iter() {
        let c = t.compress().to_bytes();
        out.push(c);
        let mut flipped = c;
        flipped[31] ^= 0x80;
        out.push(flipped);
        let mut y = c;
        y[31] &= 0x7f;
        if let Some(nc) = add_le(&y, &P_BYTES) {
            if nc[31] & 0x80 == 0 {
                let mut signed = nc;
                signed[31] |= 0x80;
                out.push(nc);
                out.push(signed);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn k_scalar(r: &[u8; 32], a: &[u8; 32], m: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(m);
    Scalar::from_hash(h)
}

/// Signs with a raw secret scalar and an arbitrary public point encoding: R = [r]B + r_torsion,
/// s = r + k·a. With torsion in A or R this gives the "mixed order" cases.
fn raw_sign(
    a: &Scalar,
    a_bytes: &[u8; 32],
    r_torsion: &EdwardsPoint,
    m: &[u8],
    rng: &mut impl RngCore,
) -> [u8; 64] {
    let mut wide = [0u8; 64];
    rng.fill_bytes(&mut wide);
    let r = Scalar::from_bytes_mod_order_wide(&wide);
    let big_r = (EdwardsPoint::mul_base(&r) + r_torsion)
        .compress()
        .to_bytes();
    let k = k_scalar(&big_r, a_bytes, m);
    let s = r + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&big_r);
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}

/// A signature by `key` on `message` whose R carries a small-order component, so that
/// only the cofactored equation holds: valid under [`crate::sigverify::SignatureRule::Cofactored`],
/// invalid under [`crate::sigverify::SignatureRule::Strict`] (R is canonical and of mixed
/// order; `[s]B − R − [k]A` is a nonzero point of small order).
pub fn sign_with_torsion(key: &SigningKey, message: &[u8], rng: &mut impl RngCore) -> [u8; 64] {
    let a = key.to_scalar();
    let a_bytes = key.verifying_key().to_bytes();
    let t = EIGHT_TORSION[1 + (rng.next_u32() % 7) as usize];
    raw_sign(&a, &a_bytes, &t, message, rng)
}

fn random_message(rng: &mut impl Rng) -> Vec<u8> {
    let len = match rng.gen_range(0..4) {
        0 => 0,
        1 => rng.gen_range(1..64),
        2 => rng.gen_range(64..300),
        _ => rng.gen_range(300..=1232),
    };
    let mut m = vec![0u8; len];
    rng.fill_bytes(&mut m);
    m
}

/// Message lengths at which R || A || M crosses a SHA-512 block edge (111/112, 239/240 bytes
/// of input, i.e. 47/48 and 175/176 message bytes), plus 0 and a full packet.
pub const BLOCK_EDGE_LENGTHS: &[usize] =
    &[0, 1, 47, 48, 49, 111, 112, 175, 176, 177, 239, 240, 1232];

fn off_curve(rng: &mut impl RngCore) -> [u8; 32] {
    loop {
        let mut y = [0u8; 32];
        rng.fill_bytes(&mut y);
        if CompressedEdwardsY(y).decompress().is_none() {
            return y;
        }
    }
}

/// One case of `category` (a name from [`CATEGORIES`]; an unknown name yields random bytes).
pub fn case(category: &str, rng: &mut impl Rng) -> SigCase {
    let sk = SigningKey::from_bytes(&rng.gen());
    let pk = sk.verifying_key().to_bytes();
    let mut message = random_message(rng);
    let (pubkey, signature, category) = match category {
        "valid" => (pk, sk.sign(&message).to_bytes(), "valid"),
        "valid_block_edge" => {
            let len = BLOCK_EDGE_LENGTHS[rng.gen_range(0..BLOCK_EDGE_LENGTHS.len())];
            message = (0..len).map(|_| rng.gen()).collect();
            (pk, sk.sign(&message).to_bytes(), "valid_block_edge")
        }
        "small_order_a" => {
            let encodings = small_order_encodings();
            let a = encodings[rng.gen_range(0..encodings.len())];
            // s = 0 and R = A-related small point: cofactorless check may pass; strict must not
            let mut sig = [0u8; 64];
            let r = encodings[rng.gen_range(0..encodings.len())];
            sig[..32].copy_from_slice(if rng.gen() { &r } else { &a });
            if rng.gen() {
                sig[32..].copy_from_slice(Scalar::from(rng.gen::<u64>()).as_bytes());
            }
            (a, sig, "small_order_a")
        }
        "small_order_r" => {
            let encodings = small_order_encodings();
            let r = encodings[rng.gen_range(0..encodings.len())];
            let a = Scalar::from_bytes_mod_order(rng.gen());
            let a_bytes = EdwardsPoint::mul_base(&a).compress().to_bytes();
            let k = k_scalar(&r, &a_bytes, &message);
            // s chosen so that [s]B - [k]A is the identity: R' = identity (small order R)
            let s = k * a;
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&r);
            sig[32..].copy_from_slice(s.as_bytes());
            (a_bytes, sig, "small_order_r")
        }
        "mixed_order_a" => {
            let a = Scalar::from_bytes_mod_order(rng.gen());
            let t = EIGHT_TORSION[rng.gen_range(1..8)];
            let a_bytes = (EdwardsPoint::mul_base(&a) + t).compress().to_bytes();
            let sig = raw_sign(&a, &a_bytes, &EdwardsPoint::default(), &message, rng);
            (a_bytes, sig, "mixed_order_a")
        }
        "mixed_order_r" => {
            let a = Scalar::from_bytes_mod_order(rng.gen());
            let a_bytes = EdwardsPoint::mul_base(&a).compress().to_bytes();
            let t = EIGHT_TORSION[rng.gen_range(1..8)];
            let sig = raw_sign(&a, &a_bytes, &t, &message, rng);
            (a_bytes, sig, "mixed_order_r")
        }
        "non_canonical_a" => {
            let a = non_canonical_y(rng.gen_range(0..19), rng.gen());
            let mut sig = sk.sign(&message).to_bytes();
            if rng.gen() {
                sig[..32].copy_from_slice(&a);
            }
            (a, sig, "non_canonical_a")
        }
        "non_canonical_r" => {
            let mut sig = sk.sign(&message).to_bytes();
            if rng.gen() {
                sig[..32].copy_from_slice(&non_canonical_y(rng.gen_range(0..19), rng.gen()));
            } else {
                // the same point as R, encoded with y + p where that fits
                let mut r: [u8; 32] = sig[..32].try_into().unwrap_or([0; 32]);
                let sign = r[31] & 0x80;
                r[31] &= 0x7f;
                if let Some(mut nc) = add_le(&r, &P_BYTES) {
                    if nc[31] & 0x80 == 0 {
                        nc[31] |= sign;
                        sig[..32].copy_from_slice(&nc);
                    }
                }
            }
            (pk, sig, "non_canonical_r")
        }
        "s_plus_l" => {
            let mut sig = sk.sign(&message).to_bytes();
            let s: [u8; 32] = sig[32..].try_into().unwrap_or([0; 32]);
            if let Some(s2) = add_le(&s, &L_BYTES) {
                sig[32..].copy_from_slice(&s2);
            }
            (pk, sig, "s_plus_l")
        }
        "s_high_bits" => {
            let mut sig = sk.sign(&message).to_bytes();
            sig[63] |= 1 << rng.gen_range(4..8);
            (pk, sig, "s_high_bits")
        }
        "off_curve_a" => {
            let a = off_curve(rng);
            (a, sk.sign(&message).to_bytes(), "off_curve_a")
        }
        "off_curve_r" => {
            let mut sig = sk.sign(&message).to_bytes();
            sig[..32].copy_from_slice(&off_curve(rng));
            (pk, sig, "off_curve_r")
        }
        "bit_flip" => {
            let mut sig = sk.sign(&message).to_bytes();
            let mut pk = pk;
            match rng.gen_range(0..3) {
                0 => sig[rng.gen_range(0..64)] ^= 1 << rng.gen_range(0..8),
                1 => pk[rng.gen_range(0..32)] ^= 1 << rng.gen_range(0..8),
                _ if !message.is_empty() => {
                    let i = rng.gen_range(0..message.len());
                    message[i] ^= 1 << rng.gen_range(0..8);
                }
                _ => message.push(0),
            }
            (pk, sig, "bit_flip")
        }
        "wrong_key" => {
            let other = SigningKey::from_bytes(&rng.gen());
            (pk, other.sign(&message).to_bytes(), "wrong_key")
        }
        _ => {
            let mut sig = [0u8; 64];
            rng.fill_bytes(&mut sig);
            (rng.gen(), sig, "random_bytes")
        }
    };
    SigCase {
        pubkey,
        message,
        signature,
        category,
    }
}

/// `n` cases cycling through every category, reproducible from `seed`.
pub fn adversarial(n: usize, seed: u64) -> Vec<SigCase> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| case(CATEGORIES[i % CATEGORIES.len()], &mut rng))
        .collect()
}

/// Why a vector file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not in the expected format.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

fn read_json(path: &std::path::Path) -> Result<serde_json::Value, VectorError> {
    let text = std::fs::read_to_string(path).map_err(|source| VectorError::Io {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| VectorError::Format {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

fn fixed<const N: usize>(hex_text: &str) -> Option<[u8; N]> {
    hex::decode(hex_text).ok()?.try_into().ok()
}

/// Loads Wycheproof `ed25519_test.json` (`testGroups[].publicKey.pk`, `tests[].msg/sig`).
/// Cases whose key or signature has the wrong length are returned in the second list as
/// `(tcId, reason)`: no 64-byte verifier can be asked about them.
#[allow(clippy::type_complexity)]
pub fn load_wycheproof(
    path: &std::path::Path,
) -> Result<(Vec<SigCase>, Vec<(u64, String)>), VectorError> {
    let bad = |reason: &str| VectorError::Format {
        path: path.display().to_string(),
        reason: reason.to_string(),
    };
    let json = read_json(path)?;
    let groups = json["testGroups"]
        .as_array()
        .ok_or_else(|| bad("no testGroups"))?;
    let (mut cases, mut skipped) = (Vec::new(), Vec::new());
    for g in groups {
        let pk_hex = g["publicKey"]["pk"].as_str().ok_or_else(|| bad("no pk"))?;
        for t in g["tests"].as_array().ok_or_else(|| bad("no tests"))? {
            let id = t["tcId"].as_u64().unwrap_or(0);
            let msg = hex::decode(t["msg"].as_str().unwrap_or_default())
                .map_err(|_| bad("msg is not hex"))?;
            match (
                fixed::<32>(pk_hex),
                fixed::<64>(t["sig"].as_str().unwrap_or_default()),
            ) {
                (Some(pubkey), Some(signature)) => cases.push(SigCase {
                    pubkey,
                    message: msg,
                    signature,
                    category: "wycheproof",
                }),
                _ => skipped.push((id, "key or signature of the wrong length".to_string())),
            }
        }
    }
    Ok((cases, skipped))
}

/// Loads C2SP CCTV `ed25519vectors.json` (`key`, `sig` hex; `msg` a plain string).
pub fn load_cctv(path: &std::path::Path) -> Result<Vec<SigCase>, VectorError> {
    let bad = |reason: String| VectorError::Format {
        path: path.display().to_string(),
        reason,
    };
    let json = read_json(path)?;
    let list = json
        .as_array()
        .ok_or_else(|| bad("expected an array".into()))?;
    list.iter()
        .map(|v| {
            let n = v["number"].as_u64().unwrap_or(0);
            Ok(SigCase {
                pubkey: fixed::<32>(v["key"].as_str().unwrap_or_default())
                    .ok_or_else(|| bad(format!("vector {n}: bad key")))?,
                message: v["msg"].as_str().unwrap_or_default().as_bytes().to_vec(),
                signature: fixed::<64>(v["sig"].as_str().unwrap_or_default())
                    .ok_or_else(|| bad(format!("vector {n}: bad sig")))?,
                category: "cctv",
            })
        })
        .collect()
}

/// Loads the wire bytes of a `shared/vectors/solana/*.jsonl` file (field `tx_base64`).
pub fn load_solana_jsonl(path: &std::path::Path) -> Result<Vec<Vec<u8>>, VectorError> {
    use base64::Engine;
    let text = std::fs::read_to_string(path).map_err(|source| VectorError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let bad = |reason: String| VectorError::Format {
        path: path.display().to_string(),
        reason,
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| bad(format!("line {}: {e}", i + 1)))?;
            let b64 = v["tx_base64"]
                .as_str()
                .ok_or_else(|| bad(format!("line {}: no tx_base64", i + 1)))?;
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| bad(format!("line {}: {e}", i + 1)))
        })
        .collect()
}

/// The directory of the shared test vectors: `$TXPIPE_VECTORS`, else `../shared/vectors`
/// next to the crate.
pub fn vectors_dir() -> std::path::PathBuf {
    match std::env::var_os("TXPIPE_VECTORS") {
        Some(dir) => dir.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"),
    }
}

/// Fault injection for the GPU half of a routed backend: wraps a backend (a real GPU
/// verifier or hasher) and makes its next `n` batches fail with a GPU failure without
/// running them, as a lost device or a timeout would. The routed backend must then run
/// those batches on the CPU, count the failures, and lose nothing.
#[derive(Debug)]
pub struct FaultInjector<B> {
    inner: B,
    faults: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Arms a [`FaultInjector`] after it has been handed to a routed backend.
#[derive(Clone, Debug)]
pub struct FaultHandle(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl FaultHandle {
    /// The next `n` batches fail (replacing any faults still pending).
    pub fn fail_next(&self, n: u64) {
        self.0.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}

impl<B> FaultInjector<B> {
    /// Wraps `inner`; the handle arms it.
    pub fn new(inner: B) -> (Self, FaultHandle) {
        let faults = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let handle = FaultHandle(std::sync::Arc::clone(&faults));
        (Self { inner, faults }, handle)
    }

    /// The error of an injected fault, when one is pending (consuming it).
    fn injected(&self) -> Option<crate::gpu::GpuError> {
        use std::sync::atomic::Ordering;
        self.faults
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .ok()
            .map(|_| crate::gpu::GpuError::Submission(crate::gpu::Cause::msg("injected fault")))
    }
}

impl<B: crate::sigverify::SigVerifier> crate::sigverify::SigVerifier for FaultInjector<B> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn max_message_len(&self) -> usize {
        self.inner.max_message_len()
    }

    fn preferred_batch(&self) -> usize {
        self.inner.preferred_batch()
    }

    fn verify_into(
        &self,
        items: &[crate::sigverify::SigItem<'_>],
        out: &mut [bool],
    ) -> Result<(), crate::sigverify::SigVerifyError> {
        crate::sigverify::check_batch(items, out)?;
        match self.injected() {
            Some(e) => Err(crate::sigverify::SigVerifyError::GpuFailure(e)),
            None => self.inner.verify_into(items, out),
        }
    }
}

impl<B: crate::hash::BatchHasher> crate::hash::BatchHasher for FaultInjector<B> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn max_message_len(&self) -> usize {
        self.inner.max_message_len()
    }

    fn sha256_batch(
        &self,
        messages: &[&[u8]],
        out: &mut [crate::Hash],
    ) -> Result<(), crate::hash::HashError> {
        match self.injected() {
            Some(e) => Err(crate::hash::HashError::GpuFailure(e)),
            None => self.inner.sha256_batch(messages, out),
        }
    }

    fn hash_chains(
        &self,
        starts: &[crate::Hash],
        counts: &[u64],
        out: &mut [crate::Hash],
    ) -> Result<(), crate::hash::HashError> {
        match self.injected() {
            Some(e) => Err(crate::hash::HashError::GpuFailure(e)),
            None => self.inner.hash_chains(starts, counts, out),
        }
    }
}
