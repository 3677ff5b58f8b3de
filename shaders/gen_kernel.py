#!/usr/bin/env python3
"""Generates the arithmetic of the ed25519 kernels (run from the crate root:
python3 shaders/gen_kernel.py [--check]) and counts, from what it emits, the integer
operations a signature costs.

Writes:
  shaders/field25519.wgsl          field arithmetic mod p = 2^255 - 19 (straight-line limb code)
  shaders/curve25519_formulas.wgsl point formulas (straight-line over named locals)
  src/sigverify/gpu/base_table.rs  [1..8]B in the kernel's cached form and limb layout
  shaders/op_counts.json           operations per signature by kind, per stage

One source of truth: every point formula is a list of field steps (FORMULAS below), and
the same list is both emitted as WGSL and counted.

Representation: 20 limbs of 13 bits in u32 (radix 2^13, 260 bits). 2^260 = 32 * 2^255 = 608
(mod p), so bits at or above 2^260 fold back with a multiplication by 608. A schoolbook
product accumulates every 26-bit partial product directly in u32 (20 * 2^26.2 < 2^32): one
multiply-add per partial product, no splitting into halves. Squaring uses the symmetry
(210 products instead of 400).

Bounds ("loose" elements, what every operation returns): limbs < 2^13 except limb 1,
< 2^13 + 2^11. Column sums of a product of loose elements are below
2 * (2^13 + 2^11) * 2^13 + 18 * 2^26 < 2^31. `--check` verifies the generated arithmetic
against Python's big integers on random and extreme inputs, limb by limb bounds included.
"""
import json
import random
import sys

NL = 20
BITS = 13
MASK = (1 << BITS) - 1
P = 2**255 - 19
FOLD = (2**260) % P  # 608
assert FOLD == 608
D = (-121665 * pow(121666, P - 2, P)) % P
D2 = (2 * D) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
# 2^260 - 608 = 32p; twice it, limb by limb, is added before a subtraction so no limb goes
# negative (every limb of 2Q is at least 2^13 + 2^11, the loose bound).
Q2 = [2 * (MASK + 1 - FOLD)] + [2 * MASK] * (NL - 1)
assert sum(q << (BITS * i) for i, q in enumerate(Q2)) % P == 0
LOOSE1 = (1 << BITS) + (1 << 11)
assert min(Q2) >= LOOSE1


def limbs(x):
    return [(x >> (BITS * i)) & MASK for i in range(NL)]


def fe_const(x):
    return "Fe(%s)" % ", ".join("%du" % v for v in limbs(x))


# ---------------------------------------------------------------------------------------
# Field arithmetic, emitted and counted. Each function's body is a list of lines; `ops`
# counts integer operations by kind as emitted: mul, add (add/sub), logic (and/or/xor/shift).

class Body:
    def __init__(self):
        self.lines = []
        self.ops = {"mul": 0, "add": 0, "logic": 0}

    def line(self, s, mul=0, add=0, logic=0):
        self.lines.append("    " + s)
        self.ops["mul"] += mul
        self.ops["add"] += add
        self.ops["logic"] += logic


FIELD_FNS = {}


def carry_lines(b, t, top_fold):
    """Carries t[0..NL) (names) into loose form; the carry out of limb 19 folds into
    limb 0 (times 608) and once more into limb 1."""
    for i in range(NL - 1):
        b.line("%s = %s + (%s >> 13u); %s = %s & %du;" % (t[i + 1], t[i + 1], t[i], t[i], t[i], MASK), add=1, logic=2)
    b.line("let top = %s >> 13u; %s = %s & %du;" % (t[NL - 1], t[NL - 1], t[NL - 1], MASK), logic=2)
    b.line("%s = %s + %du * top;" % (t[0], t[0], FOLD), mul=1, add=1)
    b.line("%s = %s + (%s >> 13u); %s = %s & %du;" % (t[1], t[1], t[0], t[0], t[0], MASK), add=1, logic=2)


def gen_mul(square):
    b = Body()
    name = "fe_sq" if square else "fe_mul"
    cols = [[] for _ in range(2 * NL - 1)]
    if square:
        for i in range(NL):
            b.line("let d%d = a[%d] << 1u;" % (i, i), logic=1) if i < NL - 1 else None
        for k in range(2 * NL - 1):
            terms = []
            for i in range(NL):
                j = k - i
                if j < i or j >= NL:
                    continue
                if i == j:
                    terms.append("a[%d] * a[%d]" % (i, i))
                else:
                    terms.append("a[%d] * d%d" % (j, i))
            cols[k] = terms
    else:
        for k in range(2 * NL - 1):
            cols[k] = ["a[%d] * b[%d]" % (i, k - i) for i in range(NL) if 0 <= k - i < NL]
    for k, terms in enumerate(cols):
        b.line("var c%d = %s;" % (k, " + ".join(terms)), mul=len(terms), add=len(terms) - 1)
    # carry through the 39 columns: 40 limbs below 2^13 (the last one a small carry)
    for k in range(2 * NL - 2):
        b.line("c%d = c%d + (c%d >> 13u); c%d = c%d & %du;" % (k + 1, k + 1, k, k, k, MASK), add=1, logic=2)
    b.line("let c%d = c%d >> 13u; c%d = c%d & %du;" % (2 * NL - 1, 2 * NL - 2, 2 * NL - 2, 2 * NL - 2, MASK), logic=2)
    # fold limbs 20..39 (weight 2^260 * ...) into 0..19
    t = ["r%d" % i for i in range(NL)]
    for i in range(NL):
        b.line("var r%d = c%d + %du * c%d;" % (i, i, FOLD, i + NL), mul=1, add=1)
    carry_lines(b, t, True)
    b.line("return Fe(%s);" % ", ".join(t))
    sig = "fn %s(a: Fe) -> Fe" % name if square else "fn %s(a: Fe, b: Fe) -> Fe" % name
    FIELD_FNS[name] = (sig, b)


def gen_addsub():
    for name, expr in (("fe_add", "a[%d] + b[%d]"), ("fe_sub", None)):
        b = Body()
        t = ["r%d" % i for i in range(NL)]
        for i in range(NL):
            if expr:
                b.line("var r%d = a[%d] + b[%d];" % (i, i, i), add=1)
            else:
                b.line("var r%d = a[%d] + %du - b[%d];" % (i, i, Q2[i], i), add=2)
        carry_lines(b, t, True)
        b.line("return Fe(%s);" % ", ".join(t))
        FIELD_FNS[name] = ("fn %s(a: Fe, b: Fe) -> Fe" % name, b)


def gen_freeze():
    """The canonical representative (< p) of a loose element, as 20 limbs below 2^13."""
    b = Body()
    t = ["r%d" % i for i in range(NL)]
    for i in range(NL):
        b.line("var r%d = a[%d];" % (i, i))
    for _ in range(2):
        # fold bits 255.. (limb 19 bit 8 on) back as 19 * h, then carry; twice: after the
        # first pass the value is below 2^255 + 2^11, after the second below 2^255
        b.line("{ let h = r19 >> 8u; r19 = r19 & 255u; r0 = r0 + 19u * h; }", mul=1, add=1, logic=2)
        for i in range(NL - 1):
            b.line("r%d = r%d + (r%d >> 13u); r%d = r%d & %du;" % (i + 1, i + 1, i, i, i, MASK), add=1, logic=2)
    # now value < 2^255: subtract p when value + 19 reaches 2^255
    b.line("var s0 = r0 + 19u;", add=1)
    for i in range(NL - 1):
        b.line("var s%d = r%d + (s%d >> 13u); s%d = s%d & %du;" % (i + 1, i + 1, i, i, i, MASK), add=1, logic=2)
    b.line("let ge = (s19 >> 8u) != 0u; s19 = s19 & 255u;", logic=2)
    b.line("return Fe(%s);" % ", ".join("select(r%d, s%d, ge)" % (i, i) for i in range(NL)), logic=NL)
    FIELD_FNS["fe_freeze"] = ("fn fe_freeze(a: Fe) -> Fe", b)


def gen_words():
    # from 8 little-endian words (all 256 bits): limb i = bits [13i, 13i + 13)
    b = Body()
    parts = []
    for i in range(NL):
        lo = BITS * i
        w, s = divmod(lo, 32)
        if w >= 8:
            parts.append("0u")
            continue
        e = "(w[%d] >> %du)" % (w, s) if s else "w[%d]" % w
        if s + BITS > 32 and w + 1 < 8:
            e = "(%s | (w[%d] << %du))" % (e, w + 1, 32 - s)
            b.ops["logic"] += 2
        parts.append("(%s & %du)" % (e, MASK))
        b.ops["logic"] += 2
    b.line("return Fe(%s);" % ", ".join(parts))
    FIELD_FNS["fe_from_words"] = ("fn fe_from_words(w: array<u32, 8>) -> Fe", b)
    # to 8 little-endian words of the canonical value
    b = Body()
    b.line("let x = fe_freeze(a);")
    words = []
    for w in range(8):
        terms = []
        for i in range(NL):
            lo = BITS * i
            if lo + BITS <= 32 * w or lo >= 32 * w + 32:
                continue
            sh = lo - 32 * w
            terms.append("(x[%d] << %du)" % (i, sh) if sh >= 0 else "(x[%d] >> %du)" % (i, -sh))
        words.append(" | ".join(terms))
        b.ops["logic"] += 2 * len(terms)
    b.line("return array<u32, 8>(%s);" % ", ".join(words))
    FIELD_FNS["fe_to_words"] = ("fn fe_to_words(a: Fe) -> array<u32, 8>", b)


def gen_select():
    b = Body()
    b.line("return Fe(%s);" % ", ".join("select(a[%d], b[%d], c)" % (i, i) for i in range(NL)), logic=NL)
    FIELD_FNS["fe_select"] = ("// b when c, else a.\nfn fe_select(a: Fe, b: Fe, c: bool) -> Fe", b)


gen_mul(False)
gen_mul(True)
gen_addsub()
gen_freeze()
gen_words()
gen_select()

# ---------------------------------------------------------------------------------------
# Point formulas: lists of (op, dst, a, b) over named field values. Inputs are named by
# their struct fields (p.x, q.ypx, ...), temporaries t0.., outputs by "out.<field>".
# Extended (X:Y:Z:T) points; cached form (Y+X, Y-X, Z, 2dT), as in curve25519-dalek.

FORMULAS = {}


def formula(name, sig, steps, ret, cond_steps=None):
    FORMULAS[name] = (sig, steps, ret, cond_steps or {})


# 2P (curve25519-dalek's ProjectivePoint::double, then completed -> extended). T only when
# `with_t` (a following addition needs it; doublings followed by doublings do not).
formula(
    "pt_dbl", "fn pt_dbl(p: Ext, with_t: bool) -> Ext",
    [
        ("sq", "t0", "p.x", None),
        ("sq", "t1", "p.y", None),
        ("sq", "t2", "p.z", None),
        ("add", "t2", "t2", "t2"),
        ("add", "t3", "p.x", "p.y"),
        ("sq", "t3", "t3", None),
        ("add", "t4", "t1", "t0"),
        ("sub", "t5", "t1", "t0"),
        ("sub", "t6", "t3", "t4"),
        ("sub", "t7", "t2", "t5"),
        ("mul", "x", "t6", "t7"),
        ("mul", "y", "t4", "t5"),
        ("mul", "z", "t5", "t7"),
    ],
    "Ext(x, y, z, t)",
    cond_steps={"with_t": [("mul", "t", "t6", "t4")], "else": "p.t"},
)

# P + Q, Q cached (curve25519-dalek's EdwardsPoint + ProjectiveNielsPoint, completed ->
# extended).
formula(
    "pt_add", "fn pt_add(p: Ext, q: Cached) -> Ext",
    [
        ("sub", "t0", "p.y", "p.x"),
        ("add", "t1", "p.y", "p.x"),
        ("mul", "t2", "t0", "q.ymx"),
        ("mul", "t3", "t1", "q.ypx"),
        ("mul", "t4", "p.t", "q.t2d"),
        ("mul", "t5", "p.z", "q.z"),
        ("add", "t5", "t5", "t5"),
        ("sub", "t6", "t3", "t2"),
        ("sub", "t7", "t5", "t4"),
        ("add", "t8", "t5", "t4"),
        ("add", "t9", "t3", "t2"),
        ("mul", "x", "t6", "t7"),
        ("mul", "y", "t8", "t9"),
        ("mul", "z", "t7", "t8"),
        ("mul", "t", "t6", "t9"),
    ],
    "Ext(x, y, z, t)",
)

formula(
    "pt_cached", "fn pt_cached(p: Ext) -> Cached",
    [
        ("add", "ypx", "p.y", "p.x"),
        ("sub", "ymx", "p.y", "p.x"),
        ("mul", "t2d", "p.t", "FE_D2"),
    ],
    "Cached(ypx, ymx, p.z, t2d)",
)

# -Q in cached form: swap Y+X and Y-X, negate 2dT.
formula(
    "cached_neg", "fn cached_neg(q: Cached) -> Cached",
    [("sub", "t2d", "FE_ZERO", "q.t2d")],
    "Cached(q.ymx, q.ypx, q.z, t2d)",
)

FN_OF = {"mul": "fe_mul", "sq": "fe_sq", "add": "fe_add", "sub": "fe_sub"}


def emit_steps(steps, declared):
    out = []
    for op, d, a, b in steps:
        args = a if op == "sq" else "%s, %s" % (a, b)
        if d in declared:
            out.append("    %s = %s(%s);" % (d, FN_OF[op], args))
        else:
            declared.add(d)
            out.append("    var %s = %s(%s);" % (d, FN_OF[op], args))
    return out


def emit_formula(name):
    sig, steps, ret, cond = FORMULAS[name]
    declared = set()
    lines = [sig + " {"]
    lines += emit_steps(steps, declared)
    for flag, cs in cond.items():
        if flag == "else":
            continue
        var = cs[0][1]
        lines.append("    var %s = %s;" % (var, cond["else"]))
        declared.add(var)
        lines.append("    if (%s) {" % flag)
        lines += ["    " + l for l in emit_steps(cs, declared)]
        lines.append("    }")
    lines.append("    return %s;" % ret)
    lines.append("}")
    return "\n".join(lines) + "\n"


def formula_calls(name, with_cond=True):
    _, steps, _, cond = FORMULAS[name]
    calls = {"fe_mul": 0, "fe_sq": 0, "fe_add": 0, "fe_sub": 0}
    for op, *_ in steps:
        calls[FN_OF[op]] += 1
    if with_cond:
        for flag, cs in cond.items():
            if flag != "else":
                for op, *_ in cs:
                    calls[FN_OF[op]] += 1
    return calls


# The addition chain of z^(2^250 - 1) (ref10 / curve25519-dalek pow22501), then one last
# step x^(2^n) * m. Run as a loop over these steps (one squaring site and one multiply site
# in the code): (squarings, multiplier, saved as). Multipliers: "z", "z2", "z9", "z11",
# "prev" (x before this step's squarings), "s10" (z^(2^10-1)), "s50" (z^(2^50-1)),
# "none"; the last step's n and multiplier are arguments.
CHAIN = [
    (1, "none", "z2"),    # z^2
    (2, "z", "z9"),       # z^9
    (0, "z2", "z11"),     # z^11
    (1, "z9", None),      # z^(2^5 - 1)
    (5, "prev", "s10"),   # 2^10 - 1
    (10, "prev", None),   # 2^20 - 1
    (20, "prev", None),   # 2^40 - 1
    (10, "s10", "s50"),   # 2^50 - 1
    (50, "prev", None),   # 2^100 - 1
    (100, "prev", None),  # 2^200 - 1
    (50, "s50", None),    # 2^250 - 1
]
MULT_CODE = {"none": 0, "z": 1, "z2": 2, "z9": 3, "z11": 4, "prev": 5, "s10": 6, "s50": 7}
SAVE_CODE = {None: 0, "z2": 1, "z9": 2, "z11": 3, "s10": 4, "s50": 5}


def chain_exponent(final_n, final_m):
    """The exponent the chain computes (checked against the intended ones)."""
    e = 1
    saved = {"z": 1}
    for n, m, save in CHAIN + [(final_n, final_m, None)]:
        prev = e
        e = e << n
        if m == "prev":
            e += prev
        elif m != "none":
            e += saved[m]
        if save:
            saved[save] = e
    return e


assert chain_exponent(2, "z") == (P - 5) // 8
assert chain_exponent(5, "z11") == P - 2


def emit_chain():
    steps = CHAIN + [(None, None, None)]
    n_arr = ", ".join("%du" % s[0] for s in CHAIN)
    m_arr = ", ".join("%du" % MULT_CODE[s[1]] for s in CHAIN)
    s_arr = ", ".join("%du" % SAVE_CODE[s[2]] for s in CHAIN)
    k = len(steps)
    return """// z^(2^250 - 1) by curve25519-dalek's addition chain, then x^(2^final_n) * m where m is z
// (final_z11 false) or z^11: final_n = 2, z gives z^((p - 5) / 8) (square roots); final_n =
// 5, z^11 gives z^(p - 2) = 1/z. A loop over the chain's steps with one squaring site and one
// multiplication site; the operands are named locals chosen per step (no indexed arrays).
const CHAIN_STEPS: u32 = %du;
fn fe_chain(z: Fe, final_n: u32, final_z11: bool) -> Fe {
    var x = z;
    var z2 = z;
    var z9 = z;
    var z11 = z;
    var s10 = z;
    var s50 = z;
    for (var i = 0u; i < CHAIN_STEPS; i++) {
        var n = final_n;
        var m = select(1u, 4u, final_z11);
        var save = 0u;
        // the step table, as constants selected by index (a switch: no array in memory)
        switch i {
%s            default: {}
        }
        let prev = x;
        for (var j = 0u; j < n; j++) {
            x = fe_sq(x);
        }
        if (m != 0u) {
            var y = z;
            switch m {
                case 2u: { y = z2; }
                case 3u: { y = z9; }
                case 4u: { y = z11; }
                case 5u: { y = prev; }
                case 6u: { y = s10; }
                case 7u: { y = s50; }
                default: {}
            }
            x = fe_mul(x, y);
        }
        switch save {
            case 1u: { z2 = x; }
            case 2u: { z9 = x; }
            case 3u: { z11 = x; }
            case 4u: { s10 = x; }
            case 5u: { s50 = x; }
            default: {}
        }
    }
    return x;
}
""" % (k, "".join("            case %du: { n = %du; m = %du; save = %du; }\n" % (i, s[0], MULT_CODE[s[1]], SAVE_CODE[s[2]]) for i, s in enumerate(CHAIN)))


def chain_calls(final_n, final_m):
    sq = sum(s[0] for s in CHAIN) + final_n
    mul = sum(1 for s in CHAIN if s[1] != "none") + (1 if final_m != "none" else 0)
    return {"fe_mul": mul, "fe_sq": sq, "fe_add": 0, "fe_sub": 0}


# ---------------------------------------------------------------------------------------
# Base table: [j]B for j = 1..8 in cached form with Z = 1, 4 field elements of 20 limbs.

def ed_add(p1, p2):
    x1, y1 = p1
    x2, y2 = p2
    t = D * x1 * x2 * y1 * y2 % P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, P - 2, P) % P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P
    return (x3, y3)


BY = 4 * pow(5, P - 2, P) % P
BX2 = (BY * BY - 1) * pow(D * BY * BY + 1, P - 2, P) % P
BX = pow(BX2, (P + 3) // 8, P)
if (BX * BX - BX2) % P != 0:
    BX = BX * SQRT_M1 % P
if BX & 1:
    BX = P - BX
BASE = (BX, BY)
# [1..128]B: s's digits are signed radix 2^8 (one base addition every other window)
BASE_ENTRIES = 128


def base_table():
    pts = [BASE]
    for _ in range(BASE_ENTRIES - 1):
        pts.append(ed_add(pts[-1], BASE))
    words = []
    enc = []
    for x, y in pts:
        for v in ((y + x) % P, (y - x) % P, 1, D2 * x * y % P):
            words += limbs(v)
        e = y | ((x & 1) << 255)
        enc.append(e.to_bytes(32, "little").hex())
    return words, enc


# ---------------------------------------------------------------------------------------
# Operations per signature, from the emitted code and the kernel's call structure.

def fn_ops(name):
    return dict(FIELD_FNS[name][1].ops)


def calls_ops(calls):
    tot = {"mul": 0, "add": 0, "logic": 0}
    for fn, n in calls.items():
        for k, v in fn_ops(fn).items():
            tot[k] += v * n
    return tot


def merge(*cs):
    out = {}
    for c in cs:
        for k, v in c.items():
            out[k] = out.get(k, 0) + v
    return out


def scale(c, f):
    return {k: v * f for k, v in c.items()}


def per_signature():
    """Field calls per signature and stage (strict rule; expected values for the additions:
    a signed radix-16 digit is zero with probability 1/16)."""
    dbl_t = formula_calls("pt_dbl", True)
    dbl = formula_calls("pt_dbl", False)
    add = formula_calls("pt_add")
    cached = formula_calls("pt_cached")
    neg = formula_calls("cached_neg")
    freeze = {"fe_freeze": 1}
    # decode A: y^2, d y^2, v^2, v^3, v^6, v^7, u v^3, u v^7, chain, r, r^2, v r^2, -u, -u i,
    # r i; three comparisons (sub + freeze), one sign (freeze), one conditional negation; the
    # table [1..8]A: 7 additions and 8 conversions to cached form, whose last entry [8]A
    # gives the small-order test (2 sub + 2 freeze).
    decode = merge(
        {"fe_sq": 3, "fe_mul": 6, "fe_add": 1, "fe_sub": 5},
        chain_calls(2, "z"),
        {"fe_mul": 2, "fe_sq": 1},
        {"fe_sub": 3, "fe_freeze": 4},
        {"fe_mul": 1},
        scale(add, 7), scale(cached, 8), {"fe_sub": 2, "fe_freeze": 2},
    )
    nonzero = 15 / 16
    # k: 64 signed radix-16 digits (zero with probability 1/16); s: 32 signed radix-256
    # digits (zero with probability 1/256), one every other window
    ladder = merge(
        scale(dbl, 63 * 3), scale(dbl_t, 63),
        scale(add, 64 * nonzero + 32 * 255 / 256),
        scale(neg, 64 * nonzero * 8 / 15 + 32 * 127 / 255),
    )
    # compress R' (inversion, 2 products, 2 freezes); R' has small order iff R's bytes are
    # one of the 8 small-order encodings (word compares, not counted)
    finish = merge(chain_calls(5, "z11"), {"fe_mul": 2, "fe_freeze": 2})
    return {"decode": decode, "ladder": ladder, "finish": finish}


def counts():
    stages = per_signature()
    out = {"field_ops": {n: fn_ops(n) for n in ("fe_mul", "fe_sq", "fe_add", "fe_sub", "fe_freeze")},
           "stages": {}, "per_signature": {}}
    total_calls = {}
    for st, calls in stages.items():
        calls = {k: round(v, 1) for k, v in calls.items()}
        out["stages"][st] = {"calls": calls, "ops": {k: round(v) for k, v in calls_ops(calls).items()}}
        total_calls = merge(total_calls, calls)
    out["per_signature"]["field_calls"] = {k: round(v) for k, v in total_calls.items()}
    out["per_signature"]["ops"] = {k: round(v) for k, v in calls_ops(total_calls).items()}
    out["per_signature"]["ops"]["total"] = sum(out["per_signature"]["ops"].values())
    out["per_signature"]["field_mults"] = round(total_calls.get("fe_mul", 0) + total_calls.get("fe_sq", 0))
    out["private_bytes"] = {
        "dynamically_indexed": 0,
        "note": "no var<private> array, and no function-local array indexed at run time in the "
                "verification stages: every Fe is a value indexed by constants only; constant "
                "tables (base multiples, SHA-512 round constants) are in a storage buffer",
    }
    return out


# ---------------------------------------------------------------------------------------
# Self-check against Python integers (--check).

def wgsl_eval(name, *args):
    """Interprets the generated straight-line code of a field function (u32 semantics,
    asserting no overflow) to check it against big integers."""
    sig, body = FIELD_FNS[name]
    env = {}
    if name == "fe_sq":
        env["a"] = list(args[0])
    elif name in ("fe_mul", "fe_add", "fe_sub"):
        env["a"], env["b"] = list(args[0]), list(args[1])
    elif name == "fe_freeze":
        env["a"] = list(args[0])
    import re
    src = "\n".join(body.lines)
    src = src.replace("{ ", "").replace(" }", "")
    py = []
    for stmt in re.split(r";\s*", src):
        stmt = stmt.strip()
        if not stmt:
            continue
        stmt = re.sub(r"^(var|let) ", "", stmt)
        stmt = re.sub(r"(\d+)u", r"\1", stmt)
        if stmt.startswith("return "):
            e = stmt[len("return "):]
            e = e.replace("Fe(", "(")
            e = re.sub(r"select\((\w+), (\w+), ge\)", r"(\2 if ge else \1)", e)
            py.append("__ret = list(" + e + ")")
        else:
            py.append(stmt)
    g = dict(env)
    for s in py:
        s = s.replace("!= 0", "!= 0")
        exec(s, {}, g)
        for k, v in g.items():
            if isinstance(v, int):
                assert 0 <= v < 2**32, (name, s, k, v)
    return g["__ret"]


def val(l):
    return sum(v << (BITS * i) for i, v in enumerate(l))


def check():
    rng = random.Random(1)
    top = [MASK] * NL
    top[1] = LOOSE1 - 1
    cases = [limbs(0), limbs(1), limbs(P - 1), limbs(P), limbs(P + 18), top, limbs(2**256 - 1)]
    for _ in range(300):
        cases.append([rng.randrange(LOOSE1 if i == 1 else MASK + 1) for i in range(NL)])
    def loose(r):
        assert all(v <= MASK for i, v in enumerate(r) if i != 1), r
        assert r[1] < LOOSE1, r
    for a in cases:
        for b in rng.sample(cases, 6) + [top]:
            for name, f in (("fe_mul", lambda x, y: x * y), ("fe_add", lambda x, y: x + y), ("fe_sub", lambda x, y: x - y)):
                r = wgsl_eval(name, a, b)
                loose(r)
                assert val(r) % P == f(val(a), val(b)) % P, name
        r = wgsl_eval("fe_sq", a)
        loose(r)
        assert val(r) % P == val(a) ** 2 % P
        r = wgsl_eval("fe_freeze", a)
        assert val(r) == val(a) % P and all(v <= MASK for v in r), (a, r)
    print("field arithmetic checked on %d inputs" % len(cases))


def icbrt(n):
    x = 1 << ((n.bit_length() + 2) // 3)
    while True:
        y = (2 * x + n // (x * x)) // 3
        if y >= x:
            return x
        x = y


def sha512_k():
    """SHA-512's round constants: the first 64 bits of the fractional parts of the cube
    roots of the first 80 primes (FIPS 180-4, 4.2.3), computed exactly."""
    primes = []
    n = 2
    while len(primes) < 80:
        if all(n % q for q in primes):
            primes.append(n)
        n += 1
    return [icbrt(q << 192) & (2**64 - 1) for q in primes]


def emit_io():
    """Loads and stores of field elements and points in the kernel's buffers: `state` and
    `tables` interleaved (word w of signature i at w * stride + i), `consts` plain."""
    out = ["// GENERATED by shaders/gen_kernel.py: do not edit by hand.\n",
           "// Field elements and points to and from the kernel's buffers (straight-line).\n\n",
           "// Offset of SHA-512's round constants in `consts` (after the base table).\n",
           "const CONST_SHA512_K: u32 = %du;\n\n" % (BASE_ENTRIES * 4 * NL)]
    for buf in ("state", "tables"):
        out.append("fn %s_load_fe(w0: u32, i: u32) -> Fe {\n    let s = params.stride;\n    let b = w0 * s + i;\n" % buf)
        out.append("    return Fe(%s);\n}\n\n" % ", ".join("%s[b%s]" % (buf, "" if k == 0 else " + %du * s" % k) for k in range(NL)))
        out.append("fn %s_store_fe(w0: u32, i: u32, a: Fe) {\n    let s = params.stride;\n    let b = w0 * s + i;\n" % buf)
        for k in range(NL):
            out.append("    %s[b%s] = a[%d];\n" % (buf, "" if k == 0 else " + %du * s" % k, k))
        out.append("}\n\n")
    out.append("fn consts_load_fe(w0: u32) -> Fe {\n    return Fe(%s);\n}\n\n" % ", ".join("consts[w0 + %du]" % k for k in range(NL)))
    fields = {"Ext": ("x", "y", "z", "t"), "Cached": ("ypx", "ymx", "z", "t2d")}
    for name, ty, buf in (("state_load_ext", "Ext", "state"), ("table_load_cached", "Cached", "tables")):
        if ty == "Ext":
            out.append("fn %s(w0: u32, i: u32) -> Ext {\n" % name)
            base = "w0"
        else:
            out.append("// Entry e of signature i's table.\nfn %s(e: u32, i: u32) -> Cached {\n    let w0 = e * %du;\n" % (name, 4 * NL))
        out.append("    return %s(%s);\n}\n\n" % (ty, ", ".join("%s_load_fe(w0 + %du, i)" % (buf, k * NL) for k in range(4))))
    out.append("fn state_store_ext(w0: u32, i: u32, p: Ext) {\n")
    for k, f in enumerate(fields["Ext"]):
        out.append("    state_store_fe(w0 + %du, i, p.%s);\n" % (k * NL, f))
    out.append("}\n\n// Entry e of signature i's table.\nfn table_store_cached(e: u32, i: u32, c: Cached) {\n    let w0 = e * %du;\n" % (4 * NL))
    for k, f in enumerate(fields["Cached"]):
        out.append("    tables_store_fe(w0 + %du, i, c.%s);\n" % (k * NL, f))
    out.append("}\n\n// Entry e ([e + 1]B) of the base table.\nfn base_load_cached(e: u32) -> Cached {\n    let w0 = e * %du;\n" % (4 * NL))
    out.append("    return Cached(%s);\n}\n" % ", ".join("consts_load_fe(w0 + %du)" % (k * NL) for k in range(4)))
    open("shaders/ed25519_io.wgsl", "w").write("".join(out))


L_ORDER = 2**252 + 27742317777372353535851937790883648493


def emit_sc_reduce():
    """512-bit integer mod l, bit by bit from the top (r = 2r + bit, minus l when r >= l;
    r < l < 2^253 throughout), over 16 named 16-bit limbs: an outer loop over the 16 input
    words and one over their 32 bits, the limb work straight-line (no indexed arrays)."""
    lw = [(L_ORDER >> (16 * i)) & 0xffff for i in range(16)]
    out = ["// A 512-bit little-endian integer (16 words) reduced mod l\n",
           "// (Scalar::from_bytes_mod_order_wide), bit by bit from the top: r = 2r + bit, minus l\n",
           "// when r >= l (r < l < 2^253 throughout). Named 16-bit limbs, no indexed arrays.\n",
           "fn sc_reduce512(d: array<u32, 16>) -> array<u32, 8> {\n"]
    for i in range(16):
        out.append("    var r%d = 0u;\n" % i)
    out.append("    for (var wi = 16u; wi > 0u; wi--) {\n        let word = d[wi - 1u];\n")
    out.append("        for (var b = 32u; b > 0u; b--) {\n            var c = (word >> (b - 1u)) & 1u;\n")
    for i in range(16):
        out.append("            r%d = (r%d << 1u) | c; c = r%d >> 16u; r%d = r%d & 0xffffu;\n" % (i, i, i, i, i))
    out.append("            var br = 0i;\n")
    for i in range(16):
        out.append("            let m%d = i32(r%d) - %d + br; br = m%d >> 16u;\n" % (i, i, lw[i], i))
    out.append("            if (br == 0i) {\n")
    for i in range(16):
        out.append("                r%d = u32(m%d & 0xffff);\n" % (i, i))
    out.append("            }\n        }\n    }\n")
    out.append("    return array<u32, 8>(%s);\n}\n" % ", ".join("r%d | (r%d << 16u)" % (2 * k, 2 * k + 1) for k in range(8)))
    return "".join(out)


def emit_sha512_digest():
    """SHA-512 of one item's hashed input (helpers in shaders/sha512.wgsl): the 16 schedule
    words are named locals and each loop iteration runs 16 rounds straight-line, so no
    schedule array is indexed at run time (round constants come from `consts`)."""
    v = ["a", "b", "c", "d", "e", "f", "g", "hh"]
    o = ["// GENERATED by shaders/gen_kernel.py (emit_sha512_digest).\n",
         "// SHA-512 of the `len`-byte input; the digest as 16 little-endian u32 words\n",
         "// (word j = digest bytes 4j..4j+3), i.e. the 512-bit integer the ed25519 rule reduces.\n",
         "// Each block: the schedule in 16 named words, 5 iterations of 16 straight-line rounds.\n",
         "fn sha512_digest(item: u32, pre: u32, len: u32) -> array<u32, 16> {\n"]
    iv = [0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
          0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179]
    for i, x in enumerate(iv):
        o.append("    var h%d = vec2<u32>(0x%08xu, 0x%08xu);\n" % (i, x >> 32, x & 0xffffffff))
    o.append("    let nblocks = (len + 17u + 127u) / 128u;\n")
    o.append("    for (var blk = 0u; blk < nblocks; blk++) {\n        let q0 = blk * 32u;\n")
    for j in range(16):
        o.append("        var w%d = vec2<u32>(sha512_padded_word(item, pre, len, nblocks, q0 + %du), sha512_padded_word(item, pre, len, nblocks, q0 + %du));\n" % (j, 2 * j, 2 * j + 1))
    for i, n in enumerate(v):
        o.append("        var %s = h%d;\n" % (n, i))
    o.append("        for (var t0 = 0u; t0 < 80u; t0 += 16u) {\n")
    for j in range(16):
        a, b, c, d, e, f, g, hh = [v[(k - j) % 8] for k in range(8)]
        o.append("            if (t0 > 0u) {\n")
        o.append("                let s0 = rotr64_lo(w%d, 1u) ^ rotr64_lo(w%d, 8u) ^ shr64(w%d, 7u);\n" % ((j + 1) % 16, (j + 1) % 16, (j + 1) % 16))
        o.append("                let s1 = rotr64_lo(w%d, 19u) ^ rotr64_hi(w%d, 61u) ^ shr64(w%d, 6u);\n" % ((j + 14) % 16, (j + 14) % 16, (j + 14) % 16))
        o.append("                w%d = add64(add64(w%d, s0), add64(w%d, s1));\n            }\n" % (j, j, (j + 9) % 16))
        o.append("            {\n")
        o.append("                let bs1 = rotr64_lo(%s, 14u) ^ rotr64_lo(%s, 18u) ^ rotr64_hi(%s, 41u);\n" % (e, e, e))
        o.append("                let ch = (%s & %s) ^ (~%s & %s);\n" % (e, f, e, g))
        o.append("                let t1 = add64(add64(add64(%s, bs1), add64(ch, sha512_k(t0 + %du))), w%d);\n" % (hh, j, j))
        o.append("                let bs0 = rotr64_lo(%s, 28u) ^ rotr64_hi(%s, 34u) ^ rotr64_hi(%s, 39u);\n" % (a, a, a))
        o.append("                let maj = (%s & %s) ^ (%s & %s) ^ (%s & %s);\n" % (a, b, a, c, b, c))
        o.append("                %s = add64(%s, t1);\n" % (d, d))
        o.append("                %s = add64(t1, add64(bs0, maj));\n            }\n" % hh)
    o.append("        }\n")
    for i, n in enumerate(v):
        o.append("        h%d = add64(h%d, %s);\n" % (i, i, n))
    o.append("    }\n    return array<u32, 16>(%s);\n}\n" % ", ".join("bswap32(h%d.x), bswap32(h%d.y)" % (i, i) for i in range(8)))
    return "".join(o)


def emit_radix256():
    o = ["// Signed radix-256 digits of a scalar below 2^255 (8 little-endian words): 32 digits in\n",
         "// [-128, 127], least significant first, sum d_i 256^i = the scalar. Packed four to a\n",
         "// word as bytes (two's complement). Straight-line.\n",
         "fn radix256(k: array<u32, 8>) -> array<u32, 8> {\n    var carry = 0i;\n    var d = 0i;\n"]
    for i in range(32):
        o.append("    d = i32((k[%d] >> %du) & 0xffu) + carry;\n" % (i >> 2, (i & 3) * 8))
        if i < 31:
            o.append("    carry = (d + 128) >> 8u; d = d - (carry << 8u);\n")
        o.append("    let d%d = u32(d) & 0xffu;\n" % i)
    o.append("    return array<u32, 8>(%s);\n}\n" % ", ".join("d%d | (d%d << 8u) | (d%d << 16u) | (d%d << 24u)" % (4 * w, 4 * w + 1, 4 * w + 2, 4 * w + 3) for w in range(8)))
    return "".join(o)


def emit_radix16():
    o = ["// Signed radix-16 digits of a scalar below 2^255 (8 little-endian words): 64 digits in\n",
         "// [-8, 8], least significant first, sum d_i 16^i = the scalar (curve25519-dalek's\n",
         "// as_radix_16). Packed four to a word as bytes (two's complement). Straight-line.\n",
         "fn radix16(k: array<u32, 8>) -> array<u32, 16> {\n    var carry = 0i;\n    var d = 0i;\n"]
    for i in range(64):
        o.append("    d = i32((k[%d] >> %du) & 0xfu) + carry;\n" % (i >> 3, (i & 7) * 4))
        if i < 63:
            o.append("    carry = (d + 8) >> 4u; d = d - (carry << 4u);\n")
        o.append("    let d%d = u32(d) & 0xffu;\n" % i)
    o.append("    return array<u32, 16>(%s);\n}\n" % ", ".join("d%d | (d%d << 8u) | (d%d << 16u) | (d%d << 24u)" % (4 * w, 4 * w + 1, 4 * w + 2, 4 * w + 3) for w in range(16)))
    return "".join(o)


def ed_mul(k, pt):
    acc = (0, 1)
    while k:
        if k & 1:
            acc = ed_add(acc, pt)
        pt = ed_add(pt, pt)
        k >>= 1
    return acc


def small_order_encodings():
    """The canonical encodings of the 8 points of small order (the 8-torsion): from a
    point of order 8, found as [l]P for a curve point P with a torsion component."""
    y = 2
    while True:
        x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
        x = pow(x2, (P + 3) // 8, P)
        if (x * x - x2) % P:
            x = x * SQRT_M1 % P
        if (x * x - x2) % P == 0:
            t = ed_mul(L_ORDER, (x, y))
            if ed_mul(4, t) != (0, 1):
                break
        y += 1
    encs = []
    pt = (0, 1)
    for _ in range(8):
        encs.append(pt[1] | ((pt[0] & 1) << 255))
        pt = ed_add(pt, t)
    assert pt == (0, 1) and len(set(encs)) == 8
    return encs


def emit_small_order_test():
    o = ["// Whether 8 words are the canonical encoding of one of the 8 points of small order\n",
         "// (the constants computed by the generator from a point of order 8).\n",
         "fn is_small_order_encoding(w: array<u32, 8>) -> bool {\n    var any = false;\n"]
    for e in small_order_encodings():
        ws = [(e >> (32 * k)) & 0xffffffff for k in range(8)]
        o.append("    any = any || eq8(w, array<u32, 8>(%s));\n" % ", ".join("0x%08xu" % x for x in ws))
    o.append("    return any;\n}\n")
    return "".join(o)


def emit_hash_helpers():
    """s < l and the storing of the digits, straight-line (no indexed arrays)."""
    lw = [(L_ORDER >> (16 * i)) & 0xffff for i in range(16)]
    o = ["// s < l (Scalar::from_canonical_bytes): s - l borrows.\n",
         "fn sc_is_canonical(s: array<u32, 8>) -> bool {\n    var borrow = 0i;\n"]
    for i in range(16):
        o.append("    borrow = (i32((s[%d] >> %du) & 0xffffu) - %d + borrow) >> 16u;\n" % (i >> 1, (i & 1) * 16, lw[i]))
    o.append("    return borrow != 0i;\n}\n\n")
    o.append("// The signed radix-16 digits of k and s into the state of signature i.\n")
    o.append("fn store_digits(i: u32, k: array<u32, 8>, s: array<u32, 8>) {\n")
    o.append("    let kd = radix16(k);\n    let sd = radix256(s);\n    let st = params.stride;\n")
    for j in range(16):
        o.append("    state[(ST_DIGITS + %du) * st + i] = kd[%d];\n" % (j, j))
    for j in range(8):
        o.append("    state[(ST_DIGITS + %du) * st + i] = sd[%d];\n" % (16 + j, j))
    o.append("}\n")
    return "".join(o)


def main():
    field = ["// GENERATED by shaders/gen_kernel.py: do not edit by hand.\n",
             "// Arithmetic modulo p = 2^255 - 19 on 32-bit integers only: 20 limbs of 13 bits in\n",
             "// u32 (radix 2^13, little-endian). Every operation returns a loose element: limbs\n",
             "// below 2^13 except limb 1, below 2^13 + 2^11 (the generator's docstring has the\n",
             "// bounds, and `gen_kernel.py --check` tests them). 2^260 = 608 (mod p) folds the\n",
             "// high half of products back. `fe_freeze` gives the canonical value.\n\n",
             "alias Fe = array<u32, %d>;\n\n" % NL]
    for n, v in (("FE_ZERO", 0), ("FE_ONE", 1), ("FE_D", D), ("FE_D2", D2), ("FE_SQRT_M1", SQRT_M1)):
        field.append("const %s: Fe = %s;\n" % (n, fe_const(v)))
    field.append("\n")
    for name, (sig, body) in FIELD_FNS.items():
        field.append(sig + " {\n" + "\n".join(body.lines) + "\n}\n\n")
    field.append(emit_chain())
    open("shaders/field25519.wgsl", "w").write("".join(field))

    f = ["// GENERATED by shaders/gen_kernel.py: do not edit by hand.\n",
         "// Point formulas on edwards25519, straight-line over named locals (FORMULAS in the\n",
         "// generator: the same list is emitted here and counted in op_counts.json).\n\n",
         "// Extended coordinates: x = X/Z, y = Y/Z, xy = T/Z.\n",
         "struct Ext {\n    x: Fe,\n    y: Fe,\n    z: Fe,\n    t: Fe,\n}\n\n",
         "// Cached form of a point for additions: (Y+X, Y-X, Z, 2dT).\n",
         "struct Cached {\n    ypx: Fe,\n    ymx: Fe,\n    z: Fe,\n    t2d: Fe,\n}\n\n"]
    for name in FORMULAS:
        f.append(emit_formula(name) + "\n")
    open("shaders/curve25519_formulas.wgsl", "w").write("".join(f))

    words, enc = base_table()
    rs = ["//! GENERATED by shaders/gen_kernel.py: do not edit by hand.\n//!\n",
          "//! Multiples `j * B` (j = 1..=8) of the ed25519 base point in the cached form the\n",
          "//! kernel adds (`Y+X`, `Y-X`, `Z = 1`, `2d*T`), each coordinate as 20 limbs of 13 bits\n",
          "//! in `u32`s (the kernel's field representation). `tests` below check every entry\n",
          "//! against curve25519-dalek's `j * ED25519_BASEPOINT_POINT`.\n\n",
          "/// Entries of the table (`[1]B` to `[128]B`: the kernel's digits of s are signed\n/// radix 2^8, in [-128, 127]).\n",
          "pub const BASE_TABLE_ENTRIES: usize = %d;\n\n" % BASE_ENTRIES,
          "/// `u32` words per entry (4 field elements of %d limbs).\n" % NL,
          "pub const BASE_TABLE_ENTRY_WORDS: usize = %d;\n\n" % (4 * NL),
          "/// The table, entry after entry.\n#[rustfmt::skip]\n",
          "pub static BASE_TABLE: [u32; BASE_TABLE_ENTRIES * BASE_TABLE_ENTRY_WORDS] = [\n"]
    for j in range(BASE_ENTRIES):
        e = words[j * 4 * NL:(j + 1) * 4 * NL]
        rs.append("    " + ", ".join("%d" % v for v in e) + ",\n")
    rs.append("];\n\n/// Compressed encodings of the same multiples (hex), for the consistency test.\n")
    rs.append("#[cfg(test)]\nconst BASE_COMPRESSED: [&str; BASE_TABLE_ENTRIES] = [\n")
    for e in enc:
        rs.append('    "%s",\n' % e)
    rs.append("];\n\n")
    rs.append("/// SHA-512's round constants as (high, low) word pairs, after the base table in the\n")
    rs.append("/// kernel's constants buffer (`CONST_SHA512_K` in shaders/ed25519_io.wgsl).\n#[rustfmt::skip]\n")
    rs.append("pub const SHA512_K: [u32; 160] = [\n")
    for j in range(0, 80, 4):
        rs.append("    " + ", ".join("0x%08x, 0x%08x" % (k >> 32, k & 0xffffffff) for k in sha512_k()[j:j + 4]) + ",\n")
    rs.append("];\n\n")
    rs.append(open("shaders/base_table_tests.rs.in").read())
    open("src/sigverify/gpu/base_table.rs", "w").write("".join(rs))
    # formatted as `cargo fmt` leaves it (CI checks formatting)
    import subprocess
    try:
        subprocess.run(["rustfmt", "--edition", "2021", "src/sigverify/gpu/base_table.rs"], check=False)
    except OSError:
        print("rustfmt not found: run cargo fmt", file=sys.stderr)

    emit_io()
    with open("shaders/ed25519_io.wgsl", "a") as f:
        f.write("\n" + emit_sc_reduce() + "\n" + emit_radix16() + "\n" + emit_radix256() + "\n" + emit_sha512_digest()
                + "\n" + emit_small_order_test() + "\n" + emit_hash_helpers())
    c = counts()
    open("shaders/op_counts.json", "w").write(json.dumps(c, indent=2) + "\n")
    print(json.dumps(c["per_signature"]))
    if "--check" in sys.argv:
        check()


if __name__ == "__main__":
    main()
