//! Each building block of the GPU ed25519 verifier, run alone on the GPU and compared with a
//! CPU reference: SHA-512 with `sha2`, field arithmetic mod p with `num-bigint`, point
//! decompression, small-order test and double-scalar multiplication with curve25519-dalek,
//! reduction mod l with `Scalar::from_bytes_mod_order_wide`.
//!
//! Needs an adapter (lavapipe is enough). Without one the tests show as ignored, except
//! with `CI=true`, where they fail (`gpu_support`).

#[path = "gpu_support/mod.rs"]
mod gpu_support;

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::Scalar;
use num_bigint::BigUint;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha512};
use txpipe::sigverify::building_blocks::BuildingBlocks;

fn blocks() -> BuildingBlocks {
    BuildingBlocks::shared()
        .unwrap_or_else(|e| panic!("a GPU adapter exists but the kernel does not build: {e:?}"))
}

fn p() -> BigUint {
    (BigUint::from(1u8) << 255usize) - BigUint::from(19u8)
}

fn to_big(b: &[u8; 32]) -> BigUint {
    BigUint::from_bytes_le(b)
}

fn from_big(x: &BigUint) -> [u8; 32] {
    let mut out = [0u8; 32];
    let b = x.to_bytes_le();
    out[..b.len()].copy_from_slice(&b);
    out
}

/// Edge values and random field inputs (all 256 bits used).
fn field_inputs(rng: &mut ChaCha20Rng, random: usize) -> Vec<[u8; 32]> {
    let p = p();
    let two255 = BigUint::from(1u8) << 255usize;
    let two256 = BigUint::from(1u8) << 256usize;
    let mut v: Vec<BigUint> = vec![
        BigUint::from(0u8),
        BigUint::from(1u8),
        BigUint::from(2u8),
        BigUint::from(19u8),
        &p - 1u8,
        p.clone(),
        &p + 1u8,
        &p + 18u8,
        &two255 - 1u8,
        two255.clone(),
        &two256 - 1u8,
        &two256 - 38u8,
        &p * 2u8 - 1u8,
        &p * 2u8,
        BigUint::from(0xffffu32),
        BigUint::from(0x10000u32),
    ];
    for _ in 0..random {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        v.push(to_big(&b));
    }
    v.iter().map(from_big).collect()
}

fn sha512_matches_sha2() {
    let bb = blocks();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    // NIST FIPS 180-4 examples.
    let nist: Vec<(&[u8], &str)> = vec![
        (
            b"abc",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
        (
            b"",
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        ),
        (
            b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
        ),
    ];
    let msgs: Vec<&[u8]> = nist.iter().map(|(m, _)| *m).collect();
    let got = bb.sha512(&msgs).expect("gpu sha512");
    for ((m, want), g) in nist.iter().zip(&got) {
        assert_eq!(
            hex::encode(g),
            *want,
            "NIST vector {:?}",
            String::from_utf8_lossy(m)
        );
    }

    // Lengths around every block edge up to the largest R || A || packet input (1296).
    let mut lens: Vec<usize> = (0..=260).collect();
    lens.extend([
        367, 368, 375, 376, 383, 384, 495, 496, 511, 512, 1023, 1024, 1167, 1168, 1232, 1295, 1296,
    ]);
    for _ in 0..40 {
        lens.push(rng.gen_range(0..=1296));
    }
    let data: Vec<Vec<u8>> = lens
        .iter()
        .map(|&n| {
            let mut v = vec![0u8; n];
            rng.fill_bytes(&mut v);
            v
        })
        .collect();
    let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
    let got = bb.sha512(&refs).expect("gpu sha512");
    for (m, g) in data.iter().zip(&got) {
        let want: [u8; 64] = Sha512::digest(m).into();
        assert_eq!(g, &want, "length {}", m.len());
    }
}

fn field_ops_match_bigint() {
    let bb = blocks();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let p = p();
    let xs = field_inputs(&mut rng, 48);
    // All pairs of edge values, plus random pairs.
    let mut pairs = Vec::new();
    for a in &xs[..16] {
        for b in &xs[..16] {
            pairs.push((*a, *b));
        }
    }
    for w in xs[16..].windows(2) {
        pairs.push((w[0], w[1]));
    }
    let mul = bb.fe_mul(&pairs).expect("mul");
    let add = bb.fe_add(&pairs).expect("add");
    let sub = bb.fe_sub(&pairs).expect("sub");
    for (i, (a, b)) in pairs.iter().enumerate() {
        let (x, y) = (to_big(a), to_big(b));
        assert_eq!(to_big(&mul[i]), (&x * &y) % &p, "mul {x} {y}");
        assert_eq!(to_big(&add[i]), (&x + &y) % &p, "add {x} {y}");
        assert_eq!(
            to_big(&sub[i]),
            ((&x % &p) + &p - (&y % &p)) % &p,
            "sub {x} {y}"
        );
    }
    let sq = bb.fe_square(&xs).expect("square");
    let inv = bb.fe_invert(&xs).expect("invert");
    for (i, a) in xs.iter().enumerate() {
        let x = to_big(a);
        assert_eq!(to_big(&sq[i]), (&x * &x) % &p, "square {x}");
        assert_eq!(to_big(&inv[i]), x.modpow(&(&p - 2u8), &p), "invert {x}");
    }
}

/// Reference sqrt_ratio_i: (u/v is a square or u = 0, the even root of u/v).
fn ref_sqrt_ratio(u: &BigUint, v: &BigUint) -> (bool, Option<BigUint>) {
    let p = p();
    let (u, v) = (u % &p, v % &p);
    if v == BigUint::from(0u8) {
        return (u == BigUint::from(0u8), None);
    }
    let x = (&u * v.modpow(&(&p - 2u8), &p)) % &p;
    if x == BigUint::from(0u8) {
        return (true, Some(x));
    }
    let euler = x.modpow(&((&p - 1u8) >> 1), &p);
    if euler != BigUint::from(1u8) {
        return (false, None);
    }
    let i = BigUint::from(2u8).modpow(&((&p - 1u8) >> 2), &p);
    let mut r = x.modpow(&((&p + 3u8) >> 3), &p);
    if (&r * &r) % &p != x {
        r = (&r * &i) % &p;
    }
    if r.bit(0) {
        r = &p - &r;
    }
    (true, Some(r))
}

fn sqrt_ratio_matches_bigint() {
    let bb = blocks();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let xs = field_inputs(&mut rng, 40);
    let mut pairs = Vec::new();
    for a in &xs[..16] {
        for b in &xs[..4] {
            pairs.push((*a, *b));
        }
    }
    for w in xs.windows(2) {
        pairs.push((w[0], w[1]));
        pairs.push((w[0], from_big(&BigUint::from(1u8))));
    }
    let got = bb.fe_sqrt_ratio_i(&pairs).expect("sqrt");
    for ((u, v), (ok, r)) in pairs.iter().zip(&got) {
        let (want_ok, want_r) = ref_sqrt_ratio(&to_big(u), &to_big(v));
        assert_eq!(*ok, want_ok, "ok for u={} v={}", to_big(u), to_big(v));
        if let Some(want_r) = want_r {
            assert_eq!(
                to_big(r),
                want_r,
                "root for u={} v={}",
                to_big(u),
                to_big(v)
            );
        }
    }
}

/// Encodings: valid points, torsion and mixed-order points, non-canonical y, x = 0 with the
/// sign bit, random strings.
fn point_encodings(rng: &mut ChaCha20Rng, random: usize) -> Vec<[u8; 32]> {
    let mut v = Vec::new();
    for t in EIGHT_TORSION.iter() {
        let c = t.compress().to_bytes();
        v.push(c);
        let mut flipped = c;
        flipped[31] ^= 0x80;
        v.push(flipped);
    }
    // y = p + k (non-canonical encodings of y = k), both sign bits.
    let p = p();
    for k in 0u8..19 {
        let b = from_big(&(&p + k));
        v.push(b);
        let mut s = b;
        s[31] |= 0x80;
        v.push(s);
        let mut small = [0u8; 32];
        small[0] = k;
        v.push(small);
        small[31] = 0x80;
        v.push(small);
    }
    v.push([0xff; 32]);
    let mut m = [0xff; 32];
    m[31] = 0x7f;
    v.push(m);
    for i in 0..random {
        let s = Scalar::from(rng.gen::<u64>()) * Scalar::from(rng.gen::<u64>() | 1);
        let mut pt = s * ED25519_BASEPOINT_POINT;
        if i % 3 == 0 {
            pt += EIGHT_TORSION[i % 8];
        }
        v.push(pt.compress().to_bytes());
        let mut r = [0u8; 32];
        rng.fill_bytes(&mut r);
        v.push(r);
    }
    v
}

fn decompression_matches_dalek() {
    let bb = blocks();
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let encs = point_encodings(&mut rng, 40);
    let got = bb.decompress(&encs).expect("decompress");
    for (e, g) in encs.iter().zip(&got) {
        let want = CompressedEdwardsY(*e).decompress();
        assert_eq!(g.ok, want.is_some(), "accept {}", hex::encode(e));
        if let Some(pt) = want {
            assert_eq!(
                g.small_order,
                pt.is_small_order(),
                "small order {}",
                hex::encode(e)
            );
            assert_eq!(
                g.compressed,
                pt.compress().to_bytes(),
                "re-encode {}",
                hex::encode(e)
            );
        }
    }
}

fn scalar_ops_match_dalek() {
    let bb = blocks();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut wides: Vec<[u8; 64]> = vec![[0u8; 64], [0xff; 64]];
    let mut l_bytes = [0u8; 64];
    l_bytes[..32].copy_from_slice(&(Scalar::ZERO - Scalar::ONE).to_bytes());
    wides.push(l_bytes); // l - 1
    for _ in 0..30 {
        let mut w = [0u8; 64];
        rng.fill_bytes(&mut w);
        wides.push(w);
    }
    let got = bb.reduce_wide(&wides).expect("reduce");
    for (w, g) in wides.iter().zip(&got) {
        assert_eq!(*g, Scalar::from_bytes_mod_order_wide(w).to_bytes());
    }

    let l_minus_1 = (Scalar::ZERO - Scalar::ONE).to_bytes();
    let mut l = l_minus_1;
    l[0] += 1;
    let mut scalars: Vec<[u8; 32]> = vec![[0u8; 32], l_minus_1, l, [0xff; 32]];
    let mut high = [0u8; 32];
    high[31] = 0x80;
    scalars.push(high);
    let mut just_high = [0u8; 32];
    just_high[31] = 0x10;
    scalars.push(just_high); // 2^252 < l
    for _ in 0..20 {
        let mut s = [0u8; 32];
        rng.fill_bytes(&mut s);
        s[31] &= 0x1f;
        scalars.push(s);
    }
    let got = bb.scalar_is_canonical(&scalars).expect("canonical");
    for (s, g) in scalars.iter().zip(&got) {
        let want: Option<Scalar> = Scalar::from_canonical_bytes(*s).into();
        assert_eq!(*g, want.is_some(), "canonical {}", hex::encode(s));
    }
}

fn double_scalar_mul_matches_dalek() {
    let bb = blocks();
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let encs = point_encodings(&mut rng, 6);
    let mut inputs = Vec::new();
    let edge = [Scalar::ZERO, Scalar::ONE, Scalar::ZERO - Scalar::ONE];
    for (i, e) in encs.iter().enumerate() {
        let (k, s) = if i < 9 {
            (edge[i % 3], edge[(i / 3) % 3])
        } else {
            let mut kb = [0u8; 64];
            rng.fill_bytes(&mut kb);
            let mut sb = [0u8; 64];
            rng.fill_bytes(&mut sb);
            (
                Scalar::from_bytes_mod_order_wide(&kb),
                Scalar::from_bytes_mod_order_wide(&sb),
            )
        };
        inputs.push((*e, k.to_bytes(), s.to_bytes()));
    }
    let got = bb.double_scalar_mul(&inputs).expect("double scalar mul");
    for ((e, k, s), g) in inputs.iter().zip(&got) {
        let want = CompressedEdwardsY(*e).decompress().map(|pt| {
            EdwardsPoint::vartime_double_scalar_mul_basepoint(
                &Scalar::from_bytes_mod_order(*k),
                &pt,
                &Scalar::from_bytes_mod_order(*s),
            )
            .compress()
            .to_bytes()
        });
        assert_eq!(
            *g,
            want,
            "P={} k={} s={}",
            hex::encode(e),
            hex::encode(k),
            hex::encode(s)
        );
    }
}

fn main() -> std::process::ExitCode {
    gpu_support::run(&[
        ("sha512_matches_sha2", sha512_matches_sha2),
        ("field_ops_match_bigint", field_ops_match_bigint),
        ("sqrt_ratio_matches_bigint", sqrt_ratio_matches_bigint),
        ("decompression_matches_dalek", decompression_matches_dalek),
        ("scalar_ops_match_dalek", scalar_ops_match_dalek),
        (
            "double_scalar_mul_matches_dalek",
            double_scalar_mul_matches_dalek,
        ),
    ])
}
