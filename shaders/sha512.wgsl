// SHA-512 (FIPS 180-4) on 32-bit words: every 64-bit word is a vec2<u32>(hi, lo).
//
// The input is read through `sha_input_word(item, pre, q)` (defined by the kernel that
// includes this file): the q-th little-endian u32 of the unpadded input.
// Preconditions: the input is at most 2^29 - 1 bytes (the bit length fits in 32 bits).

// Round constants: `sha512_k(t)`, defined by the including kernel (read from a storage
// buffer, not a private array).

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.y + b.y;
    return vec2<u32>(a.x + b.x + select(0u, 1u, lo < a.y), lo);
}

// Rotate right by n, 0 < n < 32.
fn rotr64_lo(a: vec2<u32>, n: u32) -> vec2<u32> {
    return vec2<u32>((a.x >> n) | (a.y << (32u - n)), (a.y >> n) | (a.x << (32u - n)));
}

// Rotate right by n, 32 < n < 64.
fn rotr64_hi(a: vec2<u32>, n: u32) -> vec2<u32> {
    return rotr64_lo(vec2<u32>(a.y, a.x), n - 32u);
}

// Shift right by n, 0 < n < 32.
fn shr64(a: vec2<u32>, n: u32) -> vec2<u32> {
    return vec2<u32>(a.x >> n, (a.y >> n) | (a.x << (32u - n)));
}

fn bswap32(x: u32) -> u32 {
    return (x >> 24u) | ((x >> 8u) & 0xff00u) | ((x << 8u) & 0xff0000u) | (x << 24u);
}

// The q-th big-endian u32 of the padded input of `len` bytes in `nblocks` blocks.
fn sha512_padded_word(item: u32, pre: u32, len: u32, nblocks: u32, q: u32) -> u32 {
    let pos = q * 4u;
    if (pos + 4u <= len) {
        return bswap32(sha_input_word(item, pre, q));
    }
    let total = nblocks * 128u;
    if (pos == total - 4u) {
        return len * 8u;
    }
    if (pos >= len + 1u) {
        return 0u;
    }
    // The word holding the end of the input and the 0x80 marker.
    var src = 0u;
    if (pos < len) {
        src = sha_input_word(item, pre, q);
    }
    var w = 0u;
    for (var k = 0u; k < 4u; k++) {
        var b = 0u;
        if (pos + k < len) {
            b = (src >> (8u * k)) & 0xffu;
        } else if (pos + k == len) {
            b = 0x80u;
        }
        w = w | (b << (24u - 8u * k));
    }
    return w;
}

// SHA-512 of the `len`-byte input; the digest as 16 little-endian u32 words
// (word j = digest bytes 4j..4j+3), i.e. the 512-bit integer the ed25519 rule reduces.
fn sha512_digest(item: u32, pre: u32, len: u32) -> array<u32, 16> {
    var h = array<vec2<u32>, 8>(
        vec2<u32>(0x6a09e667u, 0xf3bcc908u), vec2<u32>(0xbb67ae85u, 0x84caa73bu),
        vec2<u32>(0x3c6ef372u, 0xfe94f82bu), vec2<u32>(0xa54ff53au, 0x5f1d36f1u),
        vec2<u32>(0x510e527fu, 0xade682d1u), vec2<u32>(0x9b05688cu, 0x2b3e6c1fu),
        vec2<u32>(0x1f83d9abu, 0xfb41bd6bu), vec2<u32>(0x5be0cd19u, 0x137e2179u),
    );
    let nblocks = (len + 17u + 127u) / 128u;
    var w: array<vec2<u32>, 16>;
    for (var blk = 0u; blk < nblocks; blk++) {
        for (var j = 0u; j < 16u; j++) {
            let q = blk * 32u + j * 2u;
            w[j] = vec2<u32>(
                sha512_padded_word(item, pre, len, nblocks, q),
                sha512_padded_word(item, pre, len, nblocks, q + 1u),
            );
        }
        var a = h[0];
        var b = h[1];
        var c = h[2];
        var d = h[3];
        var e = h[4];
        var f = h[5];
        var g = h[6];
        var hh = h[7];
        for (var t = 0u; t < 80u; t++) {
            if (t >= 16u) {
                let w15 = w[(t + 1u) & 15u];
                let w2 = w[(t + 14u) & 15u];
                let s0 = rotr64_lo(w15, 1u) ^ rotr64_lo(w15, 8u) ^ shr64(w15, 7u);
                let s1 = rotr64_lo(w2, 19u) ^ rotr64_hi(w2, 61u) ^ shr64(w2, 6u);
                w[t & 15u] = add64(add64(w[t & 15u], s0), add64(w[(t + 9u) & 15u], s1));
            }
            let bs1 = rotr64_lo(e, 14u) ^ rotr64_lo(e, 18u) ^ rotr64_hi(e, 41u);
            let ch = (e & f) ^ (~e & g);
            let t1 = add64(add64(add64(hh, bs1), add64(ch, sha512_k(t))), w[t & 15u]);
            let bs0 = rotr64_lo(a, 28u) ^ rotr64_hi(a, 34u) ^ rotr64_hi(a, 39u);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = add64(bs0, maj);
            hh = g;
            g = f;
            f = e;
            e = add64(d, t1);
            d = c;
            c = b;
            b = a;
            a = add64(t1, t2);
        }
        h[0] = add64(h[0], a);
        h[1] = add64(h[1], b);
        h[2] = add64(h[2], c);
        h[3] = add64(h[3], d);
        h[4] = add64(h[4], e);
        h[5] = add64(h[5], f);
        h[6] = add64(h[6], g);
        h[7] = add64(h[7], hh);
    }
    var out: array<u32, 16>;
    for (var m = 0u; m < 8u; m++) {
        out[2u * m] = bswap32(h[m].x);
        out[2u * m + 1u] = bswap32(h[m].y);
    }
    return out;
}
