// ed25519 verification, one signature per invocation, in four dispatches (each its own
// pipeline: smaller units to compile, less register pressure), under one of two rules
// chosen by `params.rule` (a uniform: the same pipelines serve both):
//   RULE_STRICT (0), exactly the acceptance of ed25519-dalek 2.2.0 `verify_strict`:
//     s < l; A decompresses (curve25519-dalek rules, so y >= p is accepted) and has no small
//     order; k = SHA-512(R || A || M) mod l; R' = [k](-A) + [s]B;
//     valid iff compress(R') == R byte for byte and R' has no small order.
//   This is dalek's verdict without decompressing R. dalek decompresses R, rejects when it
//   fails or R has small order, and accepts iff compress(R') equals R's bytes. If the bytes
//   differ, both reject. If they are equal, R is the canonical encoding compress(R') of the
//   point R', so R decompresses (to R' itself: decompression inverts compression on curve
//   points), and "R has small order" is "R' has small order": both verdicts are the same.
//   (The CPU's strict fast path, src/sigverify/cpu/strict.rs, rests on the same argument.)
//   RULE_COFACTORED (1), SIMD-0376 as amended: A and R are canonical encodings (the 255-bit
//     y < p; with decompression and the small-order test this is "decodes and re-encodes to
//     the same bytes", since x = 0 only for y = +-1, both of small order); s < l; neither
//     has small order; k as above, over the bytes as given;
//     valid iff [8]([k](-A) + [s]B - R) is the identity, tested projectively (X = 0, Y = Z).
//
// Stages (host: one command buffer, four dispatches over the same bindings):
//   hash_main    s < l; k = SHA-512(R || A || M) mod l; signed radix-16 digits of k and s.
//   decode_main  A (and R, cofactored) decoded and checked; the table [1..8](-A) (and
//                cached(-R)) into `tables`.
//   ladder_main  R' = [k](-A) + [s]B: 63 x 4 doublings, 2 x 64 signed-digit additions.
//   finish_main  the rule's final test; one verdict byte per signature.
// Per-signature state lives in `state` and `tables`, interleaved (word w of signature i at
// w * stride + i) so the invocations of a warp touch consecutive words.
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
    // interleaving stride of `state` and `tables` (>= count)
    stride: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

const RULE_STRICT: u32 = 0u;
const RULE_COFACTORED: u32 = 1u;

// state words: flags (bit 0: still valid), digits (16 words of k's radix-16 digits, then 8
// of s's radix-256 digits in a 16-word slot), R'.
const ST_FLAGS: u32 = 0u;
const ST_DIGITS: u32 = 1u;
const ST_RPRIME: u32 = 33u;
const STATE_WORDS: u32 = 113u;
// tables: 9 cached points of 80 words: [1..8] of the variable point, then cached(-R).
const TABLE_ENTRY_WORDS: u32 = 80u;
const TABLE_NEG_R: u32 = 8u;
const TABLE_WORDS: u32 = 720u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> items: array<u32>;
@group(0) @binding(2) var<storage, read> msgs: array<u32>;
@group(0) @binding(3) var<storage, read> consts: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;
@group(0) @binding(5) var<storage, read_write> state: array<u32>;
@group(0) @binding(6) var<storage, read_write> tables: array<u32>;

// Round constant t of SHA-512 (hi, lo), from `consts` (after the base table).
fn sha512_k(t: u32) -> vec2<u32> {
    return vec2<u32>(consts[CONST_SHA512_K + 2u * t], consts[CONST_SHA512_K + 2u * t + 1u]);
}

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
    return array<u32, 8>(items[offset], items[offset + 1u], items[offset + 2u], items[offset + 3u],
        items[offset + 4u], items[offset + 5u], items[offset + 6u], items[offset + 7u]);
}

fn eq8(a: array<u32, 8>, b: array<u32, 8>) -> bool {
    let d = (a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])
        | (a[4] ^ b[4]) | (a[5] ^ b[5]) | (a[6] ^ b[6]) | (a[7] ^ b[7]);
    return d == 0u;
}

// sc_reduce512 (512-bit integer mod l) is generated: shaders/ed25519_io.wgsl.

// sc_is_canonical, store_digits: generated (shaders/ed25519_io.wgsl).

// The multiples [2..8]P by additions (the formula is complete: no special case), stored
// as signature i's table [1..8]P in cached form when `store`. Returns [8]P, so the caller
// gets the small-order test ([8]P is the identity) from the same loop.
fn multiples(i: u32, p: Ext, store: bool) -> Ext {
    let c = pt_cached(p);
    if (store) {
        table_store_cached(0u, i, c);
    }
    var acc = p;
    for (var j = 1u; j < 8u; j++) {
        acc = pt_add(acc, c);
        if (store) {
            table_store_cached(j, i, pt_cached(acc));
        }
    }
    return acc;
}

// The table [1..8]P of signature i, in cached form.
fn build_table(i: u32, p: Ext) {
    _ = multiples(i, p, true);
}

// [k]P + [s]B (or [-k]P + [s]B when `neg_k`) from the digits in the state, the table of P
// and the base table, by interleaved signed windows (Straus), variable time (inputs are
// public): k in 64 radix-16 digits, s in 32 radix-256 digits (added every other window,
// from the 128-entry base table); 252 doublings and at most 64 + 32 additions; a zero
// digit adds nothing.
fn ladder(i: u32, neg_k: bool) -> Ext {
    var p = EXT_IDENTITY;
    for (var n = 64u; n > 0u; n--) {
        let w = n - 1u;
        if (w != 63u) {
            for (var r = 0u; r < 4u; r++) {
                p = pt_dbl(p, r == 3u);
            }
        }
        for (var half = 0u; half < 2u; half++) {
            // s's digit m (weight 256^m = 16^(2m)) belongs to window 2m
            if (half == 1u && (w & 1u) == 1u) {
                continue;
            }
            let m = select(w, w >> 1u, half == 1u);
            let word = state[(ST_DIGITS + 16u * half + (m >> 2u)) * params.stride + i];
            var d = digit_of(word, m);
            if (half == 0u && neg_k) {
                d = -d;
            }
            if (d != 0) {
                let e = u32(abs(d)) - 1u;
                var q: Cached;
                if (half == 0u) {
                    q = table_load_cached(e, i);
                } else {
                    q = base_load_cached(e);
                }
                if (d < 0) {
                    q = cached_neg(q);
                }
                p = pt_add(p, q);
            }
        }
    }
    return p;
}

@compute @workgroup_size(64)
fn hash_main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.count) {
        return;
    }
    let base = i * ITEM_WORDS;
    let s = load8(base + 16u);
    var flags = 0u;
    if (sc_is_canonical(s)) {
        let digest = sha512_digest(i, 64u, 64u + items[base + 25u]);
        store_digits(i, sc_reduce512(digest), s);
        flags = 1u;
    }
    state[ST_FLAGS * params.stride + i] = flags;
}

@compute @workgroup_size(64)
fn decode_main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.count || state[ST_FLAGS * params.stride + i] == 0u) {
        return;
    }
    let cofactored = params.rule == RULE_COFACTORED;
    let base = i * ITEM_WORDS;
    // Cofactored: R (words 8..16) first, then A (words 0..8). Strict: A only. One loop, so
    // decompression and the multiples are one call site each: A's multiples are its table
    // [1..8]A (the ladder negates k's digits for [k](-A)); R's only give [8]R.
    var ok = true;
    for (var j = select(1u, 0u, cofactored); j < 2u; j++) {
        let w = load8(base + 8u - 8u * j);
        let dec = decompress(w);
        if ((cofactored && !y_is_canonical(w)) || !dec.ok) {
            ok = false;
            break;
        }
        if (j == 0u) {
            table_store_cached(TABLE_NEG_R, i, cached_neg(pt_cached(dec.p)));
        }
        if (pt_is_identity(multiples(i, dec.p, j == 1u))) {
            // small order
            ok = false;
            break;
        }
    }
    if (!ok) {
        state[ST_FLAGS * params.stride + i] = 0u;
    }
}

@compute @workgroup_size(64)
fn ladder_main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.count || state[ST_FLAGS * params.stride + i] == 0u) {
        return;
    }
    state_store_ext(ST_RPRIME, i, ladder(i, true));
}

// Verdicts of one workgroup, packed four to a word (one byte per signature) on the way out.
var<workgroup> wg_verdicts: array<u32, 64>;

fn finish_one(i: u32) -> u32 {
    if (state[ST_FLAGS * params.stride + i] == 0u) {
        return 0u;
    }
    var p = state_load_ext(ST_RPRIME, i);
    if (params.rule == RULE_COFACTORED) {
        // [8](R' - R) is the identity: one addition, then three doublings as additions
        // (one call site of the complete addition formula)
        var q = table_load_cached(TABLE_NEG_R, i);
        for (var j = 0u; j < 4u; j++) {
            p = pt_add(p, q);
            q = pt_cached(p);
        }
        return select(0u, 1u, pt_is_identity(p));
    }
    // compress(R') == R, and R' (= the point R encodes) not of small order: R is not one
    // of the 8 small-order encodings (compress(R') is canonical, so matching bytes are)
    let r = load8(i * ITEM_WORDS + 8u);
    if (!eq8(pt_compress(p), r)) {
        return 0u;
    }
    return select(1u, 0u, is_small_order_encoding(r));
}

@compute @workgroup_size(64)
fn finish_main(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = gid.x;
    var v = 0u;
    if (i < params.count) {
        v = finish_one(i);
    }
    wg_verdicts[lid] = v;
    // uniform control flow: every invocation of the workgroup reaches the barrier
    workgroupBarrier();
    if ((lid & 3u) == 0u && i < params.count) {
        out[i >> 2u] = wg_verdicts[lid] | (wg_verdicts[lid + 1u] << 8u)
            | (wg_verdicts[lid + 2u] << 16u) | (wg_verdicts[lid + 3u] << 24u);
    }
}
