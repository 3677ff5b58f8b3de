// Test entry point: runs one building block (selected by params.op) on a batch of inputs
// so tests can compare each one alone with a CPU reference. Not used for verification.
//
// op  input (words per item, from `items`)      output (words per item, into `out`)
// 1   sha512 of item's message (26, as verify)  16: digest, little-endian words
// 2   a, b (16)                                 8: a * b mod p, canonical
// 3   a, b (16; b unused)                       8: a^2
// 4   a, b (16; b unused)                       8: a^-1 (0 -> 0)
// 5   u, v (16)                                 9: ok, sqrt_ratio_i(u, v)
// 6   encoding (8)                              10: ok, small order, compress(decompress)
// 7   P, k, s (24)                              9: ok, compress([k]P + [s]B)
// 8   512-bit integer (16)                      8: reduced mod l
// 9   a, b (16)                                 8: a + b
// 10  a, b (16)                                 8: a - b
// 11  s (8)                                     1: s < l

fn store8(offset: u32, w_in: array<u32, 8>) {
    var w = w_in;
    for (var i = 0u; i < 8u; i++) {
        out[offset + i] = w[i];
    }
}

@compute @workgroup_size(64)
fn building_blocks_main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.count) {
        return;
    }
    fr_init();
    switch params.op {
        case 1u: {
            let base = i * ITEM_WORDS;
            var h = sha512_digest(i, params.pre, params.pre + items[base + 25u]);
            for (var j = 0u; j < 16u; j++) {
                out[i * 16u + j] = h[j];
            }
        }
        case 2u, 3u, 4u, 9u, 10u: {
            FR[R_T0] = fe_from_words(load8(i * 16u));
            FR[R_T1] = fe_from_words(load8(i * 16u + 8u));
            var p = P_T_MUL;
            switch params.op {
                case 3u: { p = P_T_SQ; }
                case 4u: { p = P_T_INV; }
                case 9u: { p = P_T_ADD; }
                case 10u: { p = P_T_SUB; }
                default: {}
            }
            vm_exec(p);
            store8(i * 8u, fe_to_words(FR[R_T2]));
        }
        case 5u: {
            FR[R_U] = fe_from_words(load8(i * 16u));
            FR[R_V] = fe_from_words(load8(i * 16u + 8u));
            vm_exec(P_SQRT_RATIO);
            out[i * 9u] = sqrt_select(0u);
            store8(i * 9u + 1u, fe_to_words(FR[R_PX]));
        }
        case 6u, 7u: {
            let wpi = select(8u, 24u, params.op == 7u);
            let ok = ge_decompress(load8(i * wpi), P_DEC_FIN);
            let small = p_is_identity();
            if (params.op == 7u) {
                // N = P (not negated) for [k]P + [s]B.
                FR[R_NX] = FR[R_CA];
                FR[R_NY] = FR[R_CB];
                FR[R_NZ] = FR[R_CZ];
                FR[R_NT] = FR[R_CT];
                ge_double_scalar_mul(load8(i * 24u + 8u), load8(i * 24u + 16u));
                out[i * 9u] = ok;
                store8(i * 9u + 1u, p_compress());
            } else {
                FR[R_PX] = FR[R_CA];
                FR[R_PY] = FR[R_CB];
                FR[R_PZ] = FR[R_CZ];
                FR[R_PT] = FR[R_CT];
                out[i * 10u] = ok;
                out[i * 10u + 1u] = select(0u, 1u, small);
                store8(i * 10u + 2u, p_compress());
            }
        }
        case 8u: {
            var d: array<u32, 16>;
            for (var j = 0u; j < 16u; j++) {
                d[j] = items[i * 16u + j];
            }
            store8(i * 8u, sc_reduce512(d));
        }
        case 11u: {
            out[i] = select(0u, 1u, sc_is_canonical(load8(i * 8u)));
        }
        default: {}
    }
}
