// Arithmetic modulo p = 2^255 - 19 on 32-bit integers only.
//
// A field element is 16 limbs of 16 bits (radix 2^16, little-endian), each limb stored in a
// u32. Invariant after every operation: every limb is in [0, 2^16), so the value is below
// 2^256 (= 2p + 38) but not necessarily below p; `fe_freeze` gives the canonical value.
// 2^256 = 38 (mod p) folds the high half of products back.

alias Fe = array<u32, 16>;

const FE_D: Fe = Fe(0x78a3u, 0x1359u, 0x4dcau, 0x75ebu, 0xd8abu, 0x4141u, 0x0a4du, 0x0070u, 0xe898u, 0x7779u, 0x4079u, 0x8cc7u, 0xfe73u, 0x2b6fu, 0x6ceeu, 0x5203u);
const FE_D2: Fe = Fe(0xf159u, 0x26b2u, 0x9b94u, 0xebd6u, 0xb156u, 0x8283u, 0x149au, 0x00e0u, 0xd130u, 0xeef3u, 0x80f2u, 0x198eu, 0xfce7u, 0x56dfu, 0xd9dcu, 0x2406u);
const FE_SQRT_M1: Fe = Fe(0xa0b0u, 0x4a0eu, 0x1b27u, 0xc4eeu, 0xe478u, 0xad2fu, 0x1806u, 0x2f43u, 0xd7a7u, 0x3dfbu, 0x0099u, 0x2b4du, 0xdf0bu, 0x4fc1u, 0x2480u, 0x2b83u);

fn fe_zero() -> Fe {
    return Fe(0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
}

fn fe_one() -> Fe {
    return Fe(1u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
}

// fe_carry, fe_addsub and fe_mul are straight-line code in field25519_ops.wgsl.
//
// fe_carry_bound: fe_carry takes signed limbs with |t[i]| < 2^30 whose first-pass carry
// out of the top limb is below 1700 in magnitude (true for sums, differences, and products
// whose folded columns are below 2^27). After the first pass limbs 1..15 are normalised
// and limb 0 is off by at most 38 * 1700 < 2^16, so the second pass leaves every limb in
// [0, 2^16).

// The canonical representative (< p).
fn fe_freeze(a: Fe) -> Fe {
    var t = a;
    for (var k = 0u; k < 2u; k++) {
        var m: Fe;
        var borrow = 0i;
        for (var i = 0u; i < 16u; i++) {
            var pi = 0xffffi;
            if (i == 0u) {
                pi = 0xffedi;
            } else if (i == 15u) {
                pi = 0x7fffi;
            }
            let d = i32(t[i]) - pi + borrow;
            m[i] = u32(d & 0xffff);
            borrow = d >> 16u;
        }
        if (borrow == 0i) {
            t = m;
        }
    }
    return t;
}

fn fe_eq(a: Fe, b: Fe) -> bool {
    var x = fe_freeze(a);
    var y = fe_freeze(b);
    var diff = 0u;
    for (var i = 0u; i < 16u; i++) {
        diff = diff | (x[i] ^ y[i]);
    }
    return diff == 0u;
}

// The low bit of the canonical value ("negative" in RFC 8032 / curve25519-dalek).
fn fe_is_negative(a: Fe) -> u32 {
    var x = fe_freeze(a);
    return x[0] & 1u;
}

// From 8 little-endian u32 words (all 256 bits are used; callers mask bit 255 if needed).
fn fe_from_words(w_in: array<u32, 8>) -> Fe {
    var w = w_in;
    var r: Fe;
    for (var k = 0u; k < 8u; k++) {
        r[2u * k] = w[k] & 0xffffu;
        r[2u * k + 1u] = w[k] >> 16u;
    }
    return r;
}

// To 8 little-endian u32 words of the canonical value.
fn fe_to_words(a: Fe) -> array<u32, 8> {
    var x = fe_freeze(a);
    var w: array<u32, 8>;
    for (var k = 0u; k < 8u; k++) {
        w[k] = x[2u * k] | (x[2u * k + 1u] << 16u);
    }
    return w;
}

