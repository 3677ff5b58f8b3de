// The twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19) (edwards25519):
// decompression with curve25519-dalek's exact acceptance, compression, the small-order test,
// and the signed radix-16 digits of the double-scalar multiplication. The point formulas
// (pt_dbl, pt_add, pt_cached, cached_neg) are generated straight-line code in
// curve25519_formulas.wgsl; the field arithmetic is in field25519.wgsl.

const EXT_IDENTITY: Ext = Ext(FE_ZERO, FE_ONE, FE_ONE, FE_ZERO);

// a == b (mod p).
fn fe_eq(a: Fe, b: Fe) -> bool {
    let d = fe_freeze(fe_sub(a, b));
    return (d[0] | d[1] | d[2] | d[3] | d[4] | d[5] | d[6] | d[7] | d[8] | d[9] | d[10] | d[11] | d[12] | d[13] | d[14] | d[15] | d[16] | d[17] | d[18] | d[19]) == 0u;
}

// The low bit of the canonical value ("negative" in RFC 8032 / curve25519-dalek).
fn fe_is_negative(a: Fe) -> bool {
    let f = fe_freeze(a);
    return (f[0] & 1u) == 1u;
}

// -a when c.
fn fe_cneg(a: Fe, c: bool) -> Fe {
    return fe_select(a, fe_sub(FE_ZERO, a), c);
}

// Whether the low 255 bits of an encoding (y) are below p, i.e. not in [2^255 - 19, 2^255).
fn y_is_canonical(w: array<u32, 8>) -> bool {
    var high = w[7] & 0x7fffffffu;
    high = high & w[1] & w[2] & w[3] & w[4] & w[5] & w[6];
    return high != 0x7fffffffu || w[0] < 0xffffffedu;
}

struct Decoded {
    ok: bool,
    p: Ext,
}

// curve25519-dalek's sqrt_ratio_i(u, v): (was_square, the nonnegative root r with
// v r^2 = u, or the root of i u / v when u / v is not a square). u = 0 is a square.
struct SqrtRatio {
    ok: bool,
    r: Fe,
}

fn sqrt_ratio_i(u: Fe, v: Fe) -> SqrtRatio {
    let v3 = fe_mul(fe_sq(v), v);
    let v7 = fe_mul(fe_sq(v3), v);
    let uv3 = fe_mul(u, v3);
    var r = fe_mul(uv3, fe_chain(fe_mul(u, v7), 2u, false));
    let check = fe_mul(v, fe_sq(r));
    let neg_u = fe_sub(FE_ZERO, u);
    let correct = fe_eq(check, u);
    let flipped = fe_eq(check, neg_u);
    let flipped_i = fe_eq(check, fe_mul(neg_u, FE_SQRT_M1));
    r = fe_select(r, fe_mul(r, FE_SQRT_M1), flipped || flipped_i);
    r = fe_cneg(r, fe_is_negative(r));
    return SqrtRatio(correct || flipped, r);
}

// Decompresses an encoding as curve25519-dalek does: y is the low 255 bits (y >= p is
// accepted and used mod p), x the root of (y^2 - 1) / (d y^2 + 1) of the encoded sign
// (x = 0 with the sign bit set is accepted). Returns the point with Z = 1, T = xy.
fn decompress(w_in: array<u32, 8>) -> Decoded {
    var w = w_in;
    let sign = (w[7] >> 31u) == 1u;
    w[7] = w[7] & 0x7fffffffu;
    let y = fe_from_words(w);
    let yy = fe_sq(y);
    let u = fe_sub(yy, FE_ONE);
    let v = fe_add(fe_mul(yy, FE_D), FE_ONE);
    let root = sqrt_ratio_i(u, v);
    let x = fe_cneg(root.r, sign);
    return Decoded(root.ok, Ext(x, y, FE_ONE, fe_mul(x, y)));
}

// X = 0 and Y = Z: the identity (curve25519-dalek compares encodings; same thing).
fn pt_is_identity(p: Ext) -> bool {
    return fe_eq(p.x, FE_ZERO) && fe_eq(p.y, p.z);
}

// [8]P is the identity (curve25519-dalek's is_small_order).
fn pt_is_small_order(p: Ext) -> bool {
    var q = p;
    for (var i = 0u; i < 3u; i++) {
        q = pt_dbl(q, false);
    }
    return pt_is_identity(q);
}

// The 32-byte encoding of P (8 little-endian words): canonical y, sign of x in bit 255.
fn pt_compress(p: Ext) -> array<u32, 8> {
    let zinv = fe_chain(p.z, 5u, true);
    let x = fe_mul(p.x, zinv);
    var w = fe_to_words(fe_mul(p.y, zinv));
    w[7] = w[7] | select(0u, 1u << 31u, fe_is_negative(x));
    return w;
}

// radix16 (signed radix-16 digits) is generated into shaders/ed25519_io.wgsl.

// Digit i of a packed digit word (see radix16).
fn digit_of(word: u32, i: u32) -> i32 {
    return (i32(word << (24u - (i & 3u) * 8u))) >> 24u;
}
