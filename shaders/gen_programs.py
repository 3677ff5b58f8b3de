#!/usr/bin/env python3
"""Assembles the field-arithmetic programs of the ed25519 kernels into
shaders/ed25519_programs.wgsl (run from the crate root: python3 shaders/gen_programs.py).

Why programs: shader compilers for GPUs and llvmpipe inline every WGSL function call, so a
straight-line verifier holds hundreds of inlined field multiplications and took minutes to
compile. Instead, point formulas and addition chains are short lists of instructions
(dst = a^(2^n) * b, dst = a + b, dst = a - b) over a register file of field elements,
run by one small interpreter loop (`vm_exec` in edwards25519.wgsl)."""

REGS = """ZERO ONE D D2 SQRT_M1
PX PY PZ PT QA QB QZ QT NX NY NZ NT CA CB CZ CT
Y U V CHECK NEGU NEGUI R RPRIME NR NRPRIME
T0 T1 T2 T3 T4 T5 T6 T7 T8 T9 C1 C2 C3 C4 C5 C6""".split()
R = {name: i for i, name in enumerate(REGS)}
MUL, ADD, SUB = 0, 1, 2
programs = {}
order = []
# Programs made of consecutive programs in `order`: name -> (first, last). They share the
# instructions instead of repeating them.
spans = {}

def prog(name):
    code = []
    programs[name] = code
    order.append(name)
    return code

def span(name, first, last):
    spans[name] = (first, last)

def mul(code, d, a, b, n=0):
    code.append((MUL | (n << 4), R[d], R[a], R[b]))

def add(code, d, a, b):
    code.append((ADD, R[d], R[a], R[b]))

def sub(code, d, a, b):
    code.append((SUB, R[d], R[a], R[b]))

def copy(code, d, a):
    add(code, d, a, "ZERO")

def chain(code, z, final_n, final_mul, out):
    """out = (z^(2^250-1))^(2^final_n) * final_mul, where final_mul is z or C3 (= z^11)."""
    mul(code, "C1", z, "ONE", 1)          # z^2
    mul(code, "C2", "C1", z, 2)           # z^9
    mul(code, "C3", "C2", "C1")           # z^11
    mul(code, "C4", "C3", "C2", 1)        # 2^5 - 1
    mul(code, "C5", "C4", "C4", 5)        # 2^10 - 1
    mul(code, "C6", "C5", "C5", 10)       # 2^20 - 1
    mul(code, "C6", "C6", "C6", 20)       # 2^40 - 1
    mul(code, "C6", "C6", "C5", 10)       # 2^50 - 1
    mul(code, "C5", "C6", "C6", 50)       # 2^100 - 1
    mul(code, "C4", "C5", "C5", 100)      # 2^200 - 1
    mul(code, "C6", "C4", "C6", 50)       # 2^250 - 1
    mul(code, out, "C6", final_mul, final_n)

# u = y^2 - 1, v = d y^2 + 1 from Y.
c = prog("DEC_UV")
mul(c, "T0", "Y", "Y")
sub(c, "U", "T0", "ONE")
mul(c, "T1", "T0", "D")
add(c, "V", "T1", "ONE")

# curve25519-dalek sqrt_ratio_i(U, V): candidates R, -R, R*sqrt(-1), -R*sqrt(-1) and the
# checks; the selection is done by `sqrt_select` in WGSL.
c = prog("SQRT_RATIO")
mul(c, "T2", "V", "V", 1)       # v^3
mul(c, "T3", "T2", "V", 1)      # v^7
mul(c, "T4", "U", "T2")         # u v^3
mul(c, "T5", "U", "T3")         # u v^7
chain(c, "T5", 2, "T5", "T6")   # (u v^7)^((p-5)/8)
mul(c, "R", "T4", "T6")
mul(c, "T0", "R", "R")
mul(c, "CHECK", "V", "T0")
sub(c, "NEGU", "ZERO", "U")
mul(c, "NEGUI", "NEGU", "SQRT_M1")
mul(c, "RPRIME", "R", "SQRT_M1")
sub(c, "NR", "ZERO", "R")
sub(c, "NRPRIME", "ZERO", "RPRIME")

def dbl(c, with_t=True):
    """P = 2P. T is only needed by a following addition: doublings followed by another
    doubling (or by the identity test) skip it."""
    mul(c, "T0", "PX", "PX")
    mul(c, "T1", "PY", "PY")
    mul(c, "T2", "PZ", "PZ")
    add(c, "T2", "T2", "T2")
    add(c, "T3", "PX", "PY")
    mul(c, "T3", "T3", "T3")
    add(c, "T4", "T1", "T0")
    sub(c, "T5", "T1", "T0")
    sub(c, "T6", "T3", "T4")
    sub(c, "T7", "T2", "T5")
    mul(c, "PX", "T6", "T7")
    mul(c, "PY", "T4", "T5")
    mul(c, "PZ", "T5", "T7")
    if with_t:
        mul(c, "PT", "T6", "T4")

def add_pq(c):
    sub(c, "T0", "PY", "PX")
    add(c, "T1", "PY", "PX")
    mul(c, "T2", "T0", "QB")
    mul(c, "T3", "T1", "QA")
    mul(c, "T4", "PT", "QT")
    mul(c, "T5", "PZ", "QZ")
    add(c, "T5", "T5", "T5")
    sub(c, "T6", "T3", "T2")
    sub(c, "T7", "T5", "T4")
    add(c, "T8", "T5", "T4")
    add(c, "T9", "T3", "T2")
    mul(c, "PX", "T6", "T7")
    mul(c, "PY", "T8", "T9")
    mul(c, "PZ", "T7", "T8")
    mul(c, "PT", "T6", "T9")

# The cofactored rule keeps -R for the end: Q = cached(-P) = (Y-X, Y+X, Z, -2dT) from the
# decompressed P (PX = x, PY = y, PZ = 1), then on into DEC_FIN (span DEC_FIN_SAVE_NEG).
# The kernel moves Q out of the register file before Q is used again.
c = prog("SAVE_NEG")
sub(c, "QA", "PY", "PX")
add(c, "QB", "PY", "PX")
copy(c, "QZ", "PZ")
mul(c, "T0", "PX", "PY")
mul(c, "T0", "T0", "D2")
sub(c, "QT", "ZERO", "T0")
span("DEC_FIN_SAVE_NEG", "SAVE_NEG", "DEC_FIN")

# After decompression (PX = x, PY = y, PZ = 1): T = xy, N = -P, then P = [8]P for the
# small-order test.
c = prog("DEC_FIN")
mul(c, "PT", "PX", "PY")
sub(c, "NX", "ZERO", "PX")
copy(c, "NY", "PY")
copy(c, "NZ", "PZ")
sub(c, "NT", "ZERO", "PT")
copy(c, "CA", "PX")
copy(c, "CB", "PY")
copy(c, "CZ", "PZ")
copy(c, "CT", "PT")
dbl(c, False); dbl(c, False); dbl(c, False)

# Q = cached(N); P = N.
c = prog("CACHE_N")
add(c, "QA", "NY", "NX")
sub(c, "QB", "NY", "NX")
copy(c, "QZ", "NZ")
mul(c, "QT", "NT", "D2")
for a, b in (("PX", "NX"), ("PY", "NY"), ("PZ", "NZ"), ("PT", "NT")):
    copy(c, a, b)

# P = P + Q; C = cached(P).
c = prog("ADD_CACHE")
add_pq(c)
add(c, "CA", "PY", "PX")
sub(c, "CB", "PY", "PX")
copy(c, "CZ", "PZ")
mul(c, "CT", "PT", "D2")

c = prog("ADD_PQ")
add_pq(c)

c = prog("DBL4")
dbl(c, False); dbl(c, False); dbl(c, False); dbl(c)

# Affine coordinates: T0 = X/Z, T1 = Y/Z.
c = prog("AFFINE")
chain(c, "PZ", 5, "C3", "T2")
mul(c, "T0", "PX", "T2")
mul(c, "T1", "PY", "T2")

# The cofactored rule's end, with Q = cached(-R) and P = R' (the double-scalar product):
# ADD_PQ, DBL4, AFFINE run in a row (span COFACTOR): P = [16](R' - R), in affine
# coordinates. [16]X = 0 iff [8]X = 0 on edwards25519 (the group has order 8l, l odd), so
# the kernel compares its encoding with the identity's.
assert order[order.index("ADD_PQ") + 1:order.index("AFFINE")] == ["DBL4"]
span("COFACTOR", "ADD_PQ", "AFFINE")

# Building-block test programs on T0, T1 -> T2.
c = prog("T_MUL"); mul(c, "T2", "T0", "T1")
c = prog("T_ADD"); add(c, "T2", "T0", "T1")
c = prog("T_SUB"); sub(c, "T2", "T0", "T1")
c = prog("T_SQ"); mul(c, "T2", "T0", "T0")
c = prog("T_INV"); chain(c, "T0", 5, "C3", "T2")

out = []
out.append("// GENERATED by shaders/gen_programs.py: do not edit by hand.\n")
out.append("// Register file of the field-arithmetic interpreter (see gen_programs.py).\n")
for name, i in R.items():
    out.append("const R_%s: u32 = %du;\n" % (name, i))
out.append("const NUM_REGS: u32 = %du;\n\n" % len(REGS))
out.append("// Instruction: (op | n << 4, dst, a, b); op 0: dst = a^(2^n) * b, 1: a + b, 2: a - b.\n")
flat = []
offset = 0
offsets = {}
for name in order:
    code = programs[name]
    out.append("const P_%s: vec2<u32> = vec2<u32>(%du, %du);\n" % (name, offset, len(code)))
    offsets[name] = offset
    flat += code
    offset += len(code)
for name, (first, last) in spans.items():
    assert order.index(first) < order.index(last)
    length = offsets[last] - offsets[first] + len(programs[last])
    out.append("const P_%s: vec2<u32> = vec2<u32>(%du, %du);\n" % (name, offsets[first], length))
out.append("\nvar<private> PROGRAM: array<vec4<u32>, %d> = array<vec4<u32>, %d>(\n" % (len(flat), len(flat)))
for ins in flat:
    out.append("    vec4<u32>(%du, %du, %du, %du),\n" % ins)
out.append(");\n")
open("shaders/ed25519_programs.wgsl", "w").write("".join(out))
muls = {name: sum((ins[0] >> 4) + 1 for ins in programs[name] if ins[0] & 15 == 0) for name in order}
print(muls)

# ---------------------------------------------------------------------------------------
# Straight-line limb code (shaders/field25519_ops.wgsl). llvmpipe stops every loop of an
# invocation after 65535 iterations in total, so the per-operation limb loops must not be
# loops; with a single call site each (the interpreter), unrolling costs little code.
ops = []
ops.append("// GENERATED by shaders/gen_programs.py: do not edit by hand.\n")
ops.append("// Straight-line limb arithmetic (see field25519.wgsl for the representation).\n\n")
ops.append("// Carries signed limbs back into [0, 2^16) (two passes, see fe_carry_bound in\n")
ops.append("// field25519.wgsl for why two suffice).\n")
ops.append("fn fe_carry(t_in: array<i32, 16>) -> Fe {\n    var t = t_in;\n    var c: i32;\n")
for _ in range(2):
    for i in range(15):
        ops.append("    c = t[%d] >> 16u; t[%d] = t[%d] & 0xffff; t[%d] = t[%d] + c;\n" % (i, i, i, i + 1, i + 1))
    ops.append("    c = t[15] >> 16u; t[15] = t[15] & 0xffff; t[0] = t[0] + 38 * c;\n")
ops.append("    return Fe(%s);\n}\n\n" % ", ".join("u32(t[%d])" % i for i in range(16)))
ops.append("// a + b (sub = false) or a - b (sub = true).\n")
ops.append("fn fe_addsub(a: Fe, b: Fe, sub: bool) -> Fe {\n    let s = select(1i, -1i, sub);\n")
ops.append("    return fe_carry(array<i32, 16>(%s));\n}\n\n" % ", ".join("i32(a[%d]) + s * i32(b[%d])" % (i, i) for i in range(16)))
ops.append("// Schoolbook product: every 32-bit partial product is split into 16-bit halves, so a\n")
ops.append("// column sums at most 32 values below 2^16 (< 2^21); folded columns c[i] + 38 c[i+16]\n")
ops.append("// stay below 2^27.\n")
ops.append("fn fe_mul(a: Fe, b: Fe) -> Fe {\n    var c: array<u32, 32>;\n    var p: u32;\n")
for i in range(16):
    for j in range(16):
        ops.append("    p = a[%d] * b[%d]; c[%d] += p & 0xffffu; c[%d] += p >> 16u;\n" % (i, j, i + j, i + j + 1))
ops.append("    return fe_carry(array<i32, 16>(%s));\n}\n" % ", ".join("i32(c[%d] + 38u * c[%d])" % (i, i + 16) for i in range(16)))
open("shaders/field25519_ops.wgsl", "w").write("".join(ops))
