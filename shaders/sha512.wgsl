// SHA-512 (FIPS 180-4) on 32-bit words: every 64-bit word is a vec2<u32>(hi, lo).
//
// The input is read through `sha_input_word(item, pre, q)` (defined by the kernel that
// includes this file): the q-th little-endian u32 of the unpadded input.
// Preconditions: the input is at most 2^29 - 1 bytes (the bit length fits in 32 bits).

var<private> SHA512_K: array<vec2<u32>, 80> = array<vec2<u32>, 80>(
    vec2<u32>(0x428a2f98u, 0xd728ae22u), vec2<u32>(0x71374491u, 0x23ef65cdu),
    vec2<u32>(0xb5c0fbcfu, 0xec4d3b2fu), vec2<u32>(0xe9b5dba5u, 0x8189dbbcu),
    vec2<u32>(0x3956c25bu, 0xf348b538u), vec2<u32>(0x59f111f1u, 0xb605d019u),
    vec2<u32>(0x923f82a4u, 0xaf194f9bu), vec2<u32>(0xab1c5ed5u, 0xda6d8118u),
    vec2<u32>(0xd807aa98u, 0xa3030242u), vec2<u32>(0x12835b01u, 0x45706fbeu),
    vec2<u32>(0x243185beu, 0x4ee4b28cu), vec2<u32>(0x550c7dc3u, 0xd5ffb4e2u),
    vec2<u32>(0x72be5d74u, 0xf27b896fu), vec2<u32>(0x80deb1feu, 0x3b1696b1u),
    vec2<u32>(0x9bdc06a7u, 0x25c71235u), vec2<u32>(0xc19bf174u, 0xcf692694u),
    vec2<u32>(0xe49b69c1u, 0x9ef14ad2u), vec2<u32>(0xefbe4786u, 0x384f25e3u),
    vec2<u32>(0x0fc19dc6u, 0x8b8cd5b5u), vec2<u32>(0x240ca1ccu, 0x77ac9c65u),
    vec2<u32>(0x2de92c6fu, 0x592b0275u), vec2<u32>(0x4a7484aau, 0x6ea6e483u),
    vec2<u32>(0x5cb0a9dcu, 0xbd41fbd4u), vec2<u32>(0x76f988dau, 0x831153b5u),
    vec2<u32>(0x983e5152u, 0xee66dfabu), vec2<u32>(0xa831c66du, 0x2db43210u),
    vec2<u32>(0xb00327c8u, 0x98fb213fu), vec2<u32>(0xbf597fc7u, 0xbeef0ee4u),
    vec2<u32>(0xc6e00bf3u, 0x3da88fc2u), vec2<u32>(0xd5a79147u, 0x930aa725u),
    vec2<u32>(0x06ca6351u, 0xe003826fu), vec2<u32>(0x14292967u, 0x0a0e6e70u),
    vec2<u32>(0x27b70a85u, 0x46d22ffcu), vec2<u32>(0x2e1b2138u, 0x5c26c926u),
    vec2<u32>(0x4d2c6dfcu, 0x5ac42aedu), vec2<u32>(0x53380d13u, 0x9d95b3dfu),
    vec2<u32>(0x650a7354u, 0x8baf63deu), vec2<u32>(0x766a0abbu, 0x3c77b2a8u),
    vec2<u32>(0x81c2c92eu, 0x47edaee6u), vec2<u32>(0x92722c85u, 0x1482353bu),
    vec2<u32>(0xa2bfe8a1u, 0x4cf10364u), vec2<u32>(0xa81a664bu, 0xbc423001u),
    vec2<u32>(0xc24b8b70u, 0xd0f89791u), vec2<u32>(0xc76c51a3u, 0x0654be30u),
    vec2<u32>(0xd192e819u, 0xd6ef5218u), vec2<u32>(0xd6990624u, 0x5565a910u),
    vec2<u32>(0xf40e3585u, 0x5771202au), vec2<u32>(0x106aa070u, 0x32bbd1b8u),
    vec2<u32>(0x19a4c116u, 0xb8d2d0c8u), vec2<u32>(0x1e376c08u, 0x5141ab53u),
    vec2<u32>(0x2748774cu, 0xdf8eeb99u), vec2<u32>(0x34b0bcb5u, 0xe19b48a8u),
    vec2<u32>(0x391c0cb3u, 0xc5c95a63u), vec2<u32>(0x4ed8aa4au, 0xe3418acbu),
    vec2<u32>(0x5b9cca4fu, 0x7763e373u), vec2<u32>(0x682e6ff3u, 0xd6b2b8a3u),
    vec2<u32>(0x748f82eeu, 0x5defb2fcu), vec2<u32>(0x78a5636fu, 0x43172f60u),
    vec2<u32>(0x84c87814u, 0xa1f0ab72u), vec2<u32>(0x8cc70208u, 0x1a6439ecu),
    vec2<u32>(0x90befffau, 0x23631e28u), vec2<u32>(0xa4506cebu, 0xde82bde9u),
    vec2<u32>(0xbef9a3f7u, 0xb2c67915u), vec2<u32>(0xc67178f2u, 0xe372532bu),
    vec2<u32>(0xca273eceu, 0xea26619cu), vec2<u32>(0xd186b8c7u, 0x21c0c207u),
    vec2<u32>(0xeada7dd6u, 0xcde0eb1eu), vec2<u32>(0xf57d4f7fu, 0xee6ed178u),
    vec2<u32>(0x06f067aau, 0x72176fbau), vec2<u32>(0x0a637dc5u, 0xa2c898a6u),
    vec2<u32>(0x113f9804u, 0xbef90daeu), vec2<u32>(0x1b710b35u, 0x131c471bu),
    vec2<u32>(0x28db77f5u, 0x23047d84u), vec2<u32>(0x32caab7bu, 0x40c72493u),
    vec2<u32>(0x3c9ebe0au, 0x15c9bebcu), vec2<u32>(0x431d67c4u, 0x9c100d4cu),
    vec2<u32>(0x4cc5d4beu, 0xcb3e42b6u), vec2<u32>(0x597f299cu, 0xfc657e2au),
    vec2<u32>(0x5fcb6fabu, 0x3ad6faecu), vec2<u32>(0x6c44198cu, 0x4a475817u),
);

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
            let t1 = add64(add64(add64(hh, bs1), add64(ch, SHA512_K[t])), w[t & 15u]);
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
