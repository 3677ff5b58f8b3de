// ed25519 verification, one signature per invocation, under one of two rules chosen by
// `params.rule` (a uniform: one pipeline serves both):
//   RULE_STRICT (0), exactly the acceptance of ed25519-dalek 2.2.0 `verify_strict`:
//     s < l; A and R decompress (curve25519-dalek rules, so y >= p is accepted); neither
//     has small order; k = SHA-512(R || A || M) mod l;
//     valid iff compress([k](-A) + [s]B) == R byte for byte.
//   RULE_COFACTORED (1), SIMD-0376 as amended: A and R are canonical encodings (the 255-bit
//     y < p; with decompression and the small-order test below this is "decodes and
//     re-encodes to the same bytes", since x = 0 only for y = +-1, both of small order);
//     s < l; neither has small order; k as above, over the bytes as given;
//     valid iff [8]([k](-A) + [s]B - R) is the identity. The kernel computes
//     [16]([k](-A) + [s]B - R) in affine coordinates (the existing ADD_PQ, DBL4 and
//     AFFINE programs in a row) and compares its encoding, from fully reduced
//     coordinates, with the identity's (x = 0, y = 1): [16]X = 0 iff [8]X = 0, since the
//     group has order 8l with l odd.
// Both rules share everything up to R' = [k](-A) + [s]B, and the interpreter call sites:
// the cofactored rule selects other program ranges, so it adds almost no code to compile.
//
// Items: ITEM_WORDS u32 per signature: A (8 words), R (8), s (8), message offset in words
// into `msgs`, message length in bytes. Messages start on word boundaries.
// Verdicts: one byte per signature (1 valid, 0 invalid), four to a u32, little-endian.

const ITEM_WORDS: u32 = 26u;
const WORKGROUP: u32 = 64u;

struct Params {
    count: u32,
    op: u32,
    pre: u32,
    // RULE_STRICT or RULE_COFACTORED (the verification kernel only).
    rule: u32,
}

const RULE_STRICT: u32 = 0u;
const RULE_COFACTORED: u32 = 1u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> items: array<u32>;
@group(0) @binding(2) var<storage, read> msgs: array<u32>;
@group(0) @binding(3) var<storage, read> base_table: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;

// l = 2^252 + 27742317777372353535851937790883648493 in 16-bit limbs.
const SC_L: array<u32, 16> = array<u32, 16>(0xd3edu, 0x5cf5u, 0x631au, 0x5812u, 0x9cd6u, 0xa2f7u, 0xf9deu, 0x14deu, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0x1000u);

// The q-th little-endian word of the hashed input: `pre` bytes of R || A (64 or 0), then
// the message of item `item`.
fn sha_input_word(item: u32, pre: u32, q: u32) -> u32 {
    let base = item * ITEM_WORDS;
    if (q * 4u < pre) {
        if (q < 8u) {
            return items[base + 8u + q];
        }
        return items[base + q - 8u];
    }
    return msgs[items[base + 24u] + q - pre / 4u];
}

fn load8(offset: u32) -> array<u32, 8> {
    var w: array<u32, 8>;
    for (var i = 0u; i < 8u; i++) {
        w[i] = items[offset + i];
    }
    return w;
}

fn eq8(a_in: array<u32, 8>, b_in: array<u32, 8>) -> bool {
    var a = a_in;
    var b = b_in;
    var diff = 0u;
    for (var i = 0u; i < 8u; i++) {
        diff = diff | (a[i] ^ b[i]);
    }
    return diff == 0u;
}

// s < l (Scalar::from_canonical_bytes).
fn sc_is_canonical(s_in: array<u32, 8>) -> bool {
    var s = s_in;
    var l = SC_L;
    var borrow = 0i;
    for (var i = 0u; i < 16u; i++) {
        let limb = (s[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu;
        borrow = (i32(limb) - i32(l[i]) + borrow) >> 16u;
    }
    // s - l borrowed: s < l.
    return borrow != 0i;
}

// A 512-bit little-endian integer (16 words) reduced mod l (Scalar::from_bytes_mod_order_wide),
// bit by bit: r = 2r + bit, minus l when r >= l. r < l < 2^253 throughout.
fn sc_reduce512(d_in: array<u32, 16>) -> array<u32, 8> {
    var d = d_in;
    var l = SC_L;
    var r: array<u32, 16>;
    for (var bit = 512u; bit > 0u; bit--) {
        var carry = (d[(bit - 1u) >> 5u] >> ((bit - 1u) & 31u)) & 1u;
        for (var i = 0u; i < 16u; i++) {
            let v = (r[i] << 1u) | carry;
            carry = v >> 16u;
            r[i] = v & 0xffffu;
        }
        var m: array<u32, 16>;
        var borrow = 0i;
        for (var i = 0u; i < 16u; i++) {
            let t = i32(r[i]) - i32(l[i]) + borrow;
            m[i] = u32(t & 0xffff);
            borrow = t >> 16u;
        }
        if (borrow == 0i) {
            r = m;
        }
    }
    var w: array<u32, 8>;
    for (var k = 0u; k < 8u; k++) {
        w[k] = r[2u * k] | (r[2u * k + 1u] << 16u);
    }
    return w;
}

fn verify_one(i: u32, cofactored: bool) -> u32 {
    let base = i * ITEM_WORDS;
    let s_w = load8(base + 16u);
    if (!sc_is_canonical(s_w)) {
        return 0u;
    }
    fr_init();
    // R (words 8..16) then A (words 0..8): both must decode and not have small order
    // (cofactored: and be canonical). A last, so N = -A afterwards. The cofactored rule
    // keeps cached(-R) from R's decompression in TBL entry 0.
    for (var j = 0u; j < 2u; j++) {
        let w = load8(base + 8u - 8u * j);
        if (cofactored && !y_is_canonical(w)) {
            return 0u;
        }
        let keep = cofactored && j == 0u;
        if (ge_decompress(w, select(P_DEC_FIN, P_DEC_FIN_SAVE_NEG, keep)) == 0u
            || p_is_identity()) {
            return 0u;
        }
        if (keep) {
            store_q_to_table(0u);
        }
    }
    let digest = sha512_digest(i, 64u, 64u + items[base + 25u]);
    let k = sc_reduce512(digest);
    ge_double_scalar_mul(k, s_w);
    // P = R'. Strict: its encoding must be R's bytes. Cofactored: P = [16](R' - R), whose
    // encoding must be the identity's.
    var expect = load8(base + 8u);
    if (cofactored) {
        load_q_from_table(0u);
        expect = array<u32, 8>(1u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
    }
    vm_exec(select(P_AFFINE, P_COFACTOR, cofactored));
    return select(0u, 1u, eq8(affine_encoding(), expect));
}

// Verdicts of one workgroup, packed four to a word (one byte per signature) on the way out.
var<workgroup> wg_verdicts: array<u32, 64>;

@compute @workgroup_size(64)
fn verify_main(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = gid.x;
    var v = 0u;
    if (i < params.count) {
        v = verify_one(i, params.rule == RULE_COFACTORED);
    }
    wg_verdicts[lid] = v;
    // uniform control flow: every invocation of the workgroup reaches the barrier
    workgroupBarrier();
    if ((lid & 3u) == 0u && i < params.count) {
        out[i >> 2u] = wg_verdicts[lid] | (wg_verdicts[lid + 1u] << 8u)
            | (wg_verdicts[lid + 2u] << 16u) | (wg_verdicts[lid + 3u] << 24u);
    }
}
