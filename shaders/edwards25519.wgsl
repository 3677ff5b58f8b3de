// The twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19) (edwards25519):
// extended coordinates (X : Y : Z : T), the complete formulas of Hisil-Wong-Carter-Dawson
// (as in ref10 and curve25519-dalek), decompression with curve25519-dalek's exact
// acceptance, compression, and the double-scalar multiplication of verification.
//
// Field work runs as short programs (ed25519_programs.wgsl, assembled by gen_programs.py)
// on a register file `FR`, interpreted by `vm_exec`: drivers inline every WGSL call, and
// one small interpreter compiles in seconds where straight-line formulas took minutes.
//
// Needs `base_table` (16 multiples j*B of the base point in cached form, Z = 1), declared
// by the kernel that includes this file.

var<private> FR: array<Fe, NUM_REGS>;
// Cached multiples j*P of the variable point: entry j in TBL[4j .. 4j+4] (Y+X, Y-X, Z, 2dT),
// j = 1..15. Entry 0 (the identity) is never added, so the double-scalar multiplication
// leaves it alone: the cofactored rule keeps cached(-R) there (see ed25519_verify.wgsl).
var<private> TBL: array<Fe, 64>;

fn fr_init() {
    FR[R_ZERO] = fe_zero();
    FR[R_ONE] = fe_one();
    FR[R_D] = FE_D;
    FR[R_D2] = FE_D2;
    FR[R_SQRT_M1] = FE_SQRT_M1;
}

// Runs program `p` = (first instruction, length).
fn vm_exec(p: vec2<u32>) {
    for (var pc = p.x; pc < p.x + p.y; pc++) {
        let ins = PROGRAM[pc];
        let op = ins.x & 15u;
        var x = FR[ins.z];
        let y = FR[ins.w];
        if (op == 0u) {
            // x^(2^n) * y: n squarings, then one product (one multiply site).
            let n = ins.x >> 4u;
            for (var k = 0u; k <= n; k++) {
                var m = y;
                if (k < n) {
                    m = x;
                }
                x = fe_mul(x, m);
            }
        } else {
            x = fe_addsub(x, y, op == 2u);
        }
        FR[ins.y] = x;
    }
}

// After P_SQRT_RATIO: curve25519-dalek's choice of root (R or R*sqrt(-1), then the
// nonnegative one), negated when `sign` is 1; the result goes to PX. Returns 1 when u/v
// was a square (including u = 0).
fn sqrt_select(sign: u32) -> u32 {
    let correct = fe_eq(FR[R_CHECK], FR[R_U]);
    let flipped = fe_eq(FR[R_CHECK], FR[R_NEGU]);
    let flipped_i = fe_eq(FR[R_CHECK], FR[R_NEGUI]);
    var base = R_R;
    var neg_base = R_NR;
    if (flipped || flipped_i) {
        base = R_RPRIME;
        neg_base = R_NRPRIME;
    }
    var root = base;
    var neg_root = neg_base;
    if (fe_is_negative(FR[base]) == 1u) {
        root = neg_base;
        neg_root = base;
    }
    var x = root;
    if (sign == 1u) {
        x = neg_root;
    }
    FR[R_PX] = FR[x];
    return select(0u, 1u, correct || flipped);
}

// Whether the low 255 bits of an encoding (y) are below p, i.e. not in [2^255 - 19, 2^255).
fn y_is_canonical(w_in: array<u32, 8>) -> bool {
    var w = w_in;
    var high = w[7] & 0x7fffffffu;
    for (var i = 1u; i < 7u; i++) {
        high = high & w[i];
    }
    return high != 0x7fffffffu || w[0] < 0xffffffedu;
}

// Decompresses an encoding (curve25519-dalek: y is the low 255 bits reduced mod p, so
// y >= p is accepted; x = 0 with the sign bit set is accepted). Returns 1 when it decodes.
// `fin` is P_DEC_FIN, or P_DEC_FIN_SAVE_NEG, which also leaves Q = cached(-point) (one
// interpreter call site either way). Afterwards: C = the point, N = its negation, P = [8] * the point.
fn ge_decompress(w_in: array<u32, 8>, fin: vec2<u32>) -> u32 {
    var w = w_in;
    let sign = w[7] >> 31u;
    w[7] = w[7] & 0x7fffffffu;
    FR[R_Y] = fe_from_words(w);
    vm_exec(P_DEC_UV);
    vm_exec(P_SQRT_RATIO);
    let ok = sqrt_select(sign);
    FR[R_PY] = FR[R_Y];
    FR[R_PZ] = FR[R_ONE];
    vm_exec(fin);
    return ok;
}

// curve25519-dalek's identity test on P (X/Z = 0 and Y/Z = 1).
fn p_is_identity() -> bool {
    return fe_eq(FR[R_PX], FR[R_ZERO]) && fe_eq(FR[R_PY], FR[R_PZ]);
}

// The 32-byte encoding of P (8 little-endian words): canonical y, sign of x in bit 255.
fn p_compress() -> array<u32, 8> {
    vm_exec(P_AFFINE);
    return affine_encoding();
}

// The encoding from the affine coordinates P_AFFINE left in T0 (x) and T1 (y).
fn affine_encoding() -> array<u32, 8> {
    var w = fe_to_words(FR[R_T1]);
    w[7] = w[7] | (fe_is_negative(FR[R_T0]) << 31u);
    return w;
}

fn store_q_to_table(j: u32) {
    TBL[4u * j] = FR[R_QA];
    TBL[4u * j + 1u] = FR[R_QB];
    TBL[4u * j + 2u] = FR[R_QZ];
    TBL[4u * j + 3u] = FR[R_QT];
}

fn load_q_from_table(j: u32) {
    FR[R_QA] = TBL[4u * j];
    FR[R_QB] = TBL[4u * j + 1u];
    FR[R_QZ] = TBL[4u * j + 2u];
    FR[R_QT] = TBL[4u * j + 3u];
}

fn load_q_from_base(j: u32) {
    let o = j * 64u;
    for (var i = 0u; i < 16u; i++) {
        FR[R_QA][i] = base_table[o + i];
        FR[R_QB][i] = base_table[o + 16u + i];
        FR[R_QZ][i] = base_table[o + 32u + i];
        FR[R_QT][i] = base_table[o + 48u + i];
    }
}

// 4-bit digit number `n` (0 = least significant) of a 256-bit scalar in 8 LE words.
fn scalar_nibble(k: array<u32, 8>, n: u32) -> u32 {
    var kk = k;
    return (kk[n >> 3u] >> ((n & 7u) * 4u)) & 0xfu;
}

// P = [k]N + [s]B, variable time (inputs are public), by interleaved fixed 4-bit windows
// (Straus): 252 doublings and at most 64 + 64 additions. k and s are any 256-bit values.
// TBL entry 0 is neither written nor added (a zero digit adds nothing).
fn ge_double_scalar_mul(k: array<u32, 8>, s: array<u32, 8>) {
    vm_exec(P_CACHE_N);
    TBL[4] = FR[R_QA];
    TBL[5] = FR[R_QB];
    TBL[6] = FR[R_QZ];
    TBL[7] = FR[R_QT];
    for (var j = 2u; j < 16u; j++) {
        vm_exec(P_ADD_CACHE);
        TBL[4u * j] = FR[R_CA];
        TBL[4u * j + 1u] = FR[R_CB];
        TBL[4u * j + 2u] = FR[R_CZ];
        TBL[4u * j + 3u] = FR[R_CT];
    }
    FR[R_PX] = fe_zero();
    FR[R_PY] = fe_one();
    FR[R_PZ] = fe_one();
    FR[R_PT] = fe_zero();
    for (var n = 64u; n > 0u; n--) {
        let digit = n - 1u;
        if (digit != 63u) {
            vm_exec(P_DBL4);
        }
        for (var half = 0u; half < 2u; half++) {
            var nib: u32;
            if (half == 0u) {
                nib = scalar_nibble(k, digit);
                load_q_from_table(nib);
            } else {
                nib = scalar_nibble(s, digit);
                load_q_from_base(nib);
            }
            if (nib != 0u) {
                vm_exec(P_ADD_PQ);
            }
        }
    }
}
