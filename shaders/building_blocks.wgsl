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
// Op 7 uses `state` and `tables` as the verifier does (params.stride >= count).

fn store8(offset: u32, w: array<u32, 8>) {
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
    switch params.op {
        case 1u: {
            let base = i * ITEM_WORDS;
            let h = sha512_digest(i, params.pre, params.pre + items[base + 25u]);
            for (var j = 0u; j < 16u; j++) {
                out[i * 16u + j] = h[j];
            }
        }
        case 2u, 3u, 4u, 9u, 10u: {
            let a = fe_from_words(load8(i * 16u));
            let b = fe_from_words(load8(i * 16u + 8u));
            var r = fe_mul(a, b);
            switch params.op {
                case 3u: { r = fe_sq(a); }
                case 4u: { r = fe_chain(a, 5u, true); }
                case 9u: { r = fe_add(a, b); }
                case 10u: { r = fe_sub(a, b); }
                default: {}
            }
            store8(i * 8u, fe_to_words(r));
        }
        case 5u: {
            let root = sqrt_ratio_i(fe_from_words(load8(i * 16u)), fe_from_words(load8(i * 16u + 8u)));
            out[i * 9u] = select(0u, 1u, root.ok);
            store8(i * 9u + 1u, fe_to_words(root.r));
        }
        case 6u: {
            let dec = decompress(load8(i * 8u));
            out[i * 10u] = select(0u, 1u, dec.ok);
            out[i * 10u + 1u] = select(0u, 1u, pt_is_small_order(dec.p));
            store8(i * 10u + 2u, pt_compress(dec.p));
        }
        case 7u: {
            let dec = decompress(load8(i * 24u));
            build_table(i, dec.p);
            store_digits(i, load8(i * 24u + 8u), load8(i * 24u + 16u));
            out[i * 9u] = select(0u, 1u, dec.ok);
            store8(i * 9u + 1u, pt_compress(ladder(i, false)));
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
