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

// sha512_digest (the rounds, straight-line) is generated into shaders/ed25519_io.wgsl.
