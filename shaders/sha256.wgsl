// SHA-256 (FIPS 180-4) for txpipe, two entry points sharing one compression function:
//
// - `sha256_batch`: one invocation per message. Messages are packed into `data` (bytes in
//   order, four per u32 little-endian word, each message starting on a word boundary);
//   `index[i] = (first word, byte length)`. Padding (0x80, zeros, 64-bit big-endian bit
//   length) is generated on the fly. The digest is written as 8 big-endian word values to
//   `out[8 i .. 8 i + 8]`.
// - `sha256_chain`: one invocation per hash chain (proof-of-history segment). `out[8 i ..]`
//   holds a 32-byte state as 8 big-endian word values and `remaining[i]` the hashes still to
//   do; each dispatch applies min(remaining, params.iters) hashes and decrements remaining,
//   so a long chain is split over several dispatches (no dispatch runs unboundedly long).
//
// The 64 rounds and the 16 word loads are unrolled (the round sequence below is regular:
// round i rotates the working variables by i and, from round 16 on, first extends the
// message schedule in place, w[i mod 16]). Two reasons: constant indexes keep the state and
// the schedule in registers on a real GPU, and lavapipe (llvmpipe) bounds every loop nest to
// 65,535 iterations per invocation (gallivm's loop limiter) and silently exits the loop
// beyond that; with unrolled rounds, one hash costs one loop iteration, so the host keeps
// a dispatch under that bound (hashes per chain per dispatch, blocks per message).

struct Params {
    count: u32,
    iters: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read> index: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<storage, read_write> remaining: array<u32>;

const IV = array<u32, 8>(
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
    0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u
);

fn rotr(x: u32, n: u32) -> u32 {
    return (x >> n) | (x << (32u - n));
}

fn bswap(x: u32) -> u32 {
    return (x << 24u) | ((x << 8u) & 0x00ff0000u) | ((x >> 8u) & 0x0000ff00u) | (x >> 24u);
}

fn ssig0(x: u32) -> u32 {
    return rotr(x, 7u) ^ rotr(x, 18u) ^ (x >> 3u);
}

fn ssig1(x: u32) -> u32 {
    return rotr(x, 17u) ^ rotr(x, 19u) ^ (x >> 10u);
}

// One round: d += t1, h = t1 + t2 (the caller rotates the roles of a..h).
fn rnd(a: u32, b: u32, c: u32, d: ptr<function, u32>, e: u32, f: u32, g: u32,
       h: ptr<function, u32>, k: u32, w: u32) {
    let t1 = *h + (rotr(e, 6u) ^ rotr(e, 11u) ^ rotr(e, 25u)) + ((e & f) ^ (~e & g)) + k + w;
    let t2 = (rotr(a, 2u) ^ rotr(a, 13u) ^ rotr(a, 22u)) + ((a & b) ^ (a & c) ^ (b & c));
    *d = *d + t1;
    *h = t1 + t2;
}

// One compression of the 16-word block `w` into the state `st`.
fn compress(st: ptr<function, array<u32, 8>>, w: ptr<function, array<u32, 16>>) {
    var w0 = (*w)[0];
    var w1 = (*w)[1];
    var w2 = (*w)[2];
    var w3 = (*w)[3];
    var w4 = (*w)[4];
    var w5 = (*w)[5];
    var w6 = (*w)[6];
    var w7 = (*w)[7];
    var w8 = (*w)[8];
    var w9 = (*w)[9];
    var w10 = (*w)[10];
    var w11 = (*w)[11];
    var w12 = (*w)[12];
    var w13 = (*w)[13];
    var w14 = (*w)[14];
    var w15 = (*w)[15];
    var a = (*st)[0];
    var b = (*st)[1];
    var c = (*st)[2];
    var d = (*st)[3];
    var e = (*st)[4];
    var f = (*st)[5];
    var g = (*st)[6];
    var h = (*st)[7];
    rnd(a, b, c, &d, e, f, g, &h, 0x428a2f98u, w0);
    rnd(h, a, b, &c, d, e, f, &g, 0x71374491u, w1);
    rnd(g, h, a, &b, c, d, e, &f, 0xb5c0fbcfu, w2);
    rnd(f, g, h, &a, b, c, d, &e, 0xe9b5dba5u, w3);
    rnd(e, f, g, &h, a, b, c, &d, 0x3956c25bu, w4);
    rnd(d, e, f, &g, h, a, b, &c, 0x59f111f1u, w5);
    rnd(c, d, e, &f, g, h, a, &b, 0x923f82a4u, w6);
    rnd(b, c, d, &e, f, g, h, &a, 0xab1c5ed5u, w7);
    rnd(a, b, c, &d, e, f, g, &h, 0xd807aa98u, w8);
    rnd(h, a, b, &c, d, e, f, &g, 0x12835b01u, w9);
    rnd(g, h, a, &b, c, d, e, &f, 0x243185beu, w10);
    rnd(f, g, h, &a, b, c, d, &e, 0x550c7dc3u, w11);
    rnd(e, f, g, &h, a, b, c, &d, 0x72be5d74u, w12);
    rnd(d, e, f, &g, h, a, b, &c, 0x80deb1feu, w13);
    rnd(c, d, e, &f, g, h, a, &b, 0x9bdc06a7u, w14);
    rnd(b, c, d, &e, f, g, h, &a, 0xc19bf174u, w15);
    w0 = w0 + ssig0(w1) + w9 + ssig1(w14);
    rnd(a, b, c, &d, e, f, g, &h, 0xe49b69c1u, w0);
    w1 = w1 + ssig0(w2) + w10 + ssig1(w15);
    rnd(h, a, b, &c, d, e, f, &g, 0xefbe4786u, w1);
    w2 = w2 + ssig0(w3) + w11 + ssig1(w0);
    rnd(g, h, a, &b, c, d, e, &f, 0x0fc19dc6u, w2);
    w3 = w3 + ssig0(w4) + w12 + ssig1(w1);
    rnd(f, g, h, &a, b, c, d, &e, 0x240ca1ccu, w3);
    w4 = w4 + ssig0(w5) + w13 + ssig1(w2);
    rnd(e, f, g, &h, a, b, c, &d, 0x2de92c6fu, w4);
    w5 = w5 + ssig0(w6) + w14 + ssig1(w3);
    rnd(d, e, f, &g, h, a, b, &c, 0x4a7484aau, w5);
    w6 = w6 + ssig0(w7) + w15 + ssig1(w4);
    rnd(c, d, e, &f, g, h, a, &b, 0x5cb0a9dcu, w6);
    w7 = w7 + ssig0(w8) + w0 + ssig1(w5);
    rnd(b, c, d, &e, f, g, h, &a, 0x76f988dau, w7);
    w8 = w8 + ssig0(w9) + w1 + ssig1(w6);
    rnd(a, b, c, &d, e, f, g, &h, 0x983e5152u, w8);
    w9 = w9 + ssig0(w10) + w2 + ssig1(w7);
    rnd(h, a, b, &c, d, e, f, &g, 0xa831c66du, w9);
    w10 = w10 + ssig0(w11) + w3 + ssig1(w8);
    rnd(g, h, a, &b, c, d, e, &f, 0xb00327c8u, w10);
    w11 = w11 + ssig0(w12) + w4 + ssig1(w9);
    rnd(f, g, h, &a, b, c, d, &e, 0xbf597fc7u, w11);
    w12 = w12 + ssig0(w13) + w5 + ssig1(w10);
    rnd(e, f, g, &h, a, b, c, &d, 0xc6e00bf3u, w12);
    w13 = w13 + ssig0(w14) + w6 + ssig1(w11);
    rnd(d, e, f, &g, h, a, b, &c, 0xd5a79147u, w13);
    w14 = w14 + ssig0(w15) + w7 + ssig1(w12);
    rnd(c, d, e, &f, g, h, a, &b, 0x06ca6351u, w14);
    w15 = w15 + ssig0(w0) + w8 + ssig1(w13);
    rnd(b, c, d, &e, f, g, h, &a, 0x14292967u, w15);
    w0 = w0 + ssig0(w1) + w9 + ssig1(w14);
    rnd(a, b, c, &d, e, f, g, &h, 0x27b70a85u, w0);
    w1 = w1 + ssig0(w2) + w10 + ssig1(w15);
    rnd(h, a, b, &c, d, e, f, &g, 0x2e1b2138u, w1);
    w2 = w2 + ssig0(w3) + w11 + ssig1(w0);
    rnd(g, h, a, &b, c, d, e, &f, 0x4d2c6dfcu, w2);
    w3 = w3 + ssig0(w4) + w12 + ssig1(w1);
    rnd(f, g, h, &a, b, c, d, &e, 0x53380d13u, w3);
    w4 = w4 + ssig0(w5) + w13 + ssig1(w2);
    rnd(e, f, g, &h, a, b, c, &d, 0x650a7354u, w4);
    w5 = w5 + ssig0(w6) + w14 + ssig1(w3);
    rnd(d, e, f, &g, h, a, b, &c, 0x766a0abbu, w5);
    w6 = w6 + ssig0(w7) + w15 + ssig1(w4);
    rnd(c, d, e, &f, g, h, a, &b, 0x81c2c92eu, w6);
    w7 = w7 + ssig0(w8) + w0 + ssig1(w5);
    rnd(b, c, d, &e, f, g, h, &a, 0x92722c85u, w7);
    w8 = w8 + ssig0(w9) + w1 + ssig1(w6);
    rnd(a, b, c, &d, e, f, g, &h, 0xa2bfe8a1u, w8);
    w9 = w9 + ssig0(w10) + w2 + ssig1(w7);
    rnd(h, a, b, &c, d, e, f, &g, 0xa81a664bu, w9);
    w10 = w10 + ssig0(w11) + w3 + ssig1(w8);
    rnd(g, h, a, &b, c, d, e, &f, 0xc24b8b70u, w10);
    w11 = w11 + ssig0(w12) + w4 + ssig1(w9);
    rnd(f, g, h, &a, b, c, d, &e, 0xc76c51a3u, w11);
    w12 = w12 + ssig0(w13) + w5 + ssig1(w10);
    rnd(e, f, g, &h, a, b, c, &d, 0xd192e819u, w12);
    w13 = w13 + ssig0(w14) + w6 + ssig1(w11);
    rnd(d, e, f, &g, h, a, b, &c, 0xd6990624u, w13);
    w14 = w14 + ssig0(w15) + w7 + ssig1(w12);
    rnd(c, d, e, &f, g, h, a, &b, 0xf40e3585u, w14);
    w15 = w15 + ssig0(w0) + w8 + ssig1(w13);
    rnd(b, c, d, &e, f, g, h, &a, 0x106aa070u, w15);
    w0 = w0 + ssig0(w1) + w9 + ssig1(w14);
    rnd(a, b, c, &d, e, f, g, &h, 0x19a4c116u, w0);
    w1 = w1 + ssig0(w2) + w10 + ssig1(w15);
    rnd(h, a, b, &c, d, e, f, &g, 0x1e376c08u, w1);
    w2 = w2 + ssig0(w3) + w11 + ssig1(w0);
    rnd(g, h, a, &b, c, d, e, &f, 0x2748774cu, w2);
    w3 = w3 + ssig0(w4) + w12 + ssig1(w1);
    rnd(f, g, h, &a, b, c, d, &e, 0x34b0bcb5u, w3);
    w4 = w4 + ssig0(w5) + w13 + ssig1(w2);
    rnd(e, f, g, &h, a, b, c, &d, 0x391c0cb3u, w4);
    w5 = w5 + ssig0(w6) + w14 + ssig1(w3);
    rnd(d, e, f, &g, h, a, b, &c, 0x4ed8aa4au, w5);
    w6 = w6 + ssig0(w7) + w15 + ssig1(w4);
    rnd(c, d, e, &f, g, h, a, &b, 0x5b9cca4fu, w6);
    w7 = w7 + ssig0(w8) + w0 + ssig1(w5);
    rnd(b, c, d, &e, f, g, h, &a, 0x682e6ff3u, w7);
    w8 = w8 + ssig0(w9) + w1 + ssig1(w6);
    rnd(a, b, c, &d, e, f, g, &h, 0x748f82eeu, w8);
    w9 = w9 + ssig0(w10) + w2 + ssig1(w7);
    rnd(h, a, b, &c, d, e, f, &g, 0x78a5636fu, w9);
    w10 = w10 + ssig0(w11) + w3 + ssig1(w8);
    rnd(g, h, a, &b, c, d, e, &f, 0x84c87814u, w10);
    w11 = w11 + ssig0(w12) + w4 + ssig1(w9);
    rnd(f, g, h, &a, b, c, d, &e, 0x8cc70208u, w11);
    w12 = w12 + ssig0(w13) + w5 + ssig1(w10);
    rnd(e, f, g, &h, a, b, c, &d, 0x90befffau, w12);
    w13 = w13 + ssig0(w14) + w6 + ssig1(w11);
    rnd(d, e, f, &g, h, a, b, &c, 0xa4506cebu, w13);
    w14 = w14 + ssig0(w15) + w7 + ssig1(w12);
    rnd(c, d, e, &f, g, h, a, &b, 0xbef9a3f7u, w14);
    w15 = w15 + ssig0(w0) + w8 + ssig1(w13);
    rnd(b, c, d, &e, f, g, h, &a, 0xc67178f2u, w15);
    (*st)[0] = (*st)[0] + a;
    (*st)[1] = (*st)[1] + b;
    (*st)[2] = (*st)[2] + c;
    (*st)[3] = (*st)[3] + d;
    (*st)[4] = (*st)[4] + e;
    (*st)[5] = (*st)[5] + f;
    (*st)[6] = (*st)[6] + g;
    (*st)[7] = (*st)[7] + h;
}

// Padded-message byte `q` of the message at word `base` with `len` bytes (q < 56 of the
// last block: the length words are handled by the caller).
fn pad_byte(base: u32, len: u32, q: u32) -> u32 {
    if (q < len) {
        return (data[base + (q >> 2u)] >> ((q & 3u) * 8u)) & 0xffu;
    }
    return select(0u, 0x80u, q == len);
}

// Big-endian word `t` of block `blk` of the padded message.
fn load_word(base: u32, len: u32, blk: u32, t: u32, last: bool) -> u32 {
    let p = blk * 64u + t * 4u;
    if (p + 4u <= len) {
        return bswap(data[base + (p >> 2u)]);
    }
    if (last && t == 14u) {
        return len >> 29u;
    }
    if (last && t == 15u) {
        return len << 3u;
    }
    return (pad_byte(base, len, p) << 24u) | (pad_byte(base, len, p + 1u) << 16u)
        | (pad_byte(base, len, p + 2u) << 8u) | pad_byte(base, len, p + 3u);
}

@compute @workgroup_size(64)
fn sha256_batch(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.count) {
        return;
    }
    let base = index[i].x;
    let len = index[i].y;
    // Blocks including 0x80 and the 8-byte length: ceil((len + 9) / 64).
    let nblocks = (len + 8u) / 64u + 1u;
    var st = IV;
    var w: array<u32, 16>;
    for (var blk = 0u; blk < nblocks; blk = blk + 1u) {
        let last = blk + 1u == nblocks;
        w[0] = load_word(base, len, blk, 0u, last);
        w[1] = load_word(base, len, blk, 1u, last);
        w[2] = load_word(base, len, blk, 2u, last);
        w[3] = load_word(base, len, blk, 3u, last);
        w[4] = load_word(base, len, blk, 4u, last);
        w[5] = load_word(base, len, blk, 5u, last);
        w[6] = load_word(base, len, blk, 6u, last);
        w[7] = load_word(base, len, blk, 7u, last);
        w[8] = load_word(base, len, blk, 8u, last);
        w[9] = load_word(base, len, blk, 9u, last);
        w[10] = load_word(base, len, blk, 10u, last);
        w[11] = load_word(base, len, blk, 11u, last);
        w[12] = load_word(base, len, blk, 12u, last);
        w[13] = load_word(base, len, blk, 13u, last);
        w[14] = load_word(base, len, blk, 14u, last);
        w[15] = load_word(base, len, blk, 15u, last);
        compress(&st, &w);
    }
    out[i * 8u] = st[0];
    out[i * 8u + 1u] = st[1];
    out[i * 8u + 2u] = st[2];
    out[i * 8u + 3u] = st[3];
    out[i * 8u + 4u] = st[4];
    out[i * 8u + 5u] = st[5];
    out[i * 8u + 6u] = st[6];
    out[i * 8u + 7u] = st[7];
}

@compute @workgroup_size(64)
fn sha256_chain(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.count) {
        return;
    }
    let n = min(remaining[i], params.iters);
    if (n == 0u) {
        return;
    }
    var h = array<u32, 8>(
        out[i * 8u], out[i * 8u + 1u], out[i * 8u + 2u], out[i * 8u + 3u],
        out[i * 8u + 4u], out[i * 8u + 5u], out[i * 8u + 6u], out[i * 8u + 7u]
    );
    for (var r = 0u; r < n; r = r + 1u) {
        // The 32-byte state as a one-block message: state, 0x80, zeros, bit length 256.
        var w = array<u32, 16>(
            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
            0x80000000u, 0u, 0u, 0u, 0u, 0u, 0u, 256u
        );
        h = IV;
        compress(&h, &w);
    }
    out[i * 8u] = h[0];
    out[i * 8u + 1u] = h[1];
    out[i * 8u + 2u] = h[2];
    out[i * 8u + 3u] = h[3];
    out[i * 8u + 4u] = h[4];
    out[i * 8u + 5u] = h[5];
    out[i * 8u + 6u] = h[6];
    out[i * 8u + 7u] = h[7];
    remaining[i] = remaining[i] - n;
}
