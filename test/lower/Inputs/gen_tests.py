#!/usr/bin/python3
"""Regenerates the per-op lowering tests test/lower/*.test (except act-bits,
pusht-accuracy): one small float graph each (weights drawn with a fixed seed),
the CHECK lines for the lowered IR, and the compare.py tolerance.
usage: /usr/bin/python3 test/lower/Inputs/gen_tests.py"""
import os

import numpy as np
rng = np.random.default_rng(7)
T = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..') + '/'
def fmt(a, f='%.6g'):
    return ' '.join(f % v for v in a)
def test(name, desc, jir, lanes, tol, checks, extra='', cmpargs=''):
    import textwrap
    s = ''.join('# %s\n' % l for l in textwrap.wrap(desc, 88))
    s += '# RUN: split-file %s %t\n'
    s += '# RUN: jepac --passes=lower --verify-each --emit=ir %t/a.jir | FileCheck %s --implicit-check-not=f64' + extra + '\n'
    s += '# RUN: %%python %%S/Inputs/compare.py %%t/a.jir --lanes %d --tol %g%s | FileCheck %%s --check-prefix=CMP\n' % (lanes, tol, cmpargs)
    for c in checks:
        s += '# CHECK: %s\n' % c
    s += '# CMP: PASS\n\n#--- a.jir\n' + jir
    open(T + name + '.test', 'w').write(s)

# float Linear with bias
w = rng.standard_normal((6, 10)) * 0.3; b = rng.standard_normal(6) * 0.1
test('linear-f32', 'A float Linear (matvec + bias): 12-bit weight codes with row scales, bias added before the single rounding point.',
'''module "t"
tensor @0 f32 [6][10] "w"
  values %s
tensor @1 f32 [6] "b"
  values %s
%%x = input f64x10 "x", 0
%%m = matvec f64x6 @0, %%x
%%b = vconst f64x6 @1
%%a = add f64x6 %%m, %%b
output "y", %%a, 0
''' % (fmt(w.flatten()), fmt(b)), 10, 0.01,
['input s16x10 "x", {{[0-9]+}}', 'matvec s{{[0-9]+}}x6', 'vcmul', 'vconst', 'add', 'roundshr', 'sat s16x6', 'output "y"'],
' --implicit-check-not=matvec\\ f')

# Q4 Linear: 3 rows, 40 cols (2 blocks), T=2 tokens
codes = rng.integers(-8, 8, size=(3, 40)); sc = rng.uniform(0.01, 0.05, size=6)
test('linear-q4', 'A Q4 Linear over 2 tokens: bmatvec over the 4-bit codes (the q4 tensor stays), vcmul by block-scale mantissas, sum over blocks.',
'''module "t"
tensor @0 q4 [3][40] "w"
  scales %s
  codes %s
%%x = input f64x80 "x", 0
%%m = matvec f64x6 @0, %%x
output "y", %%m, 0
''' % (fmt(sc, '%.9g'), fmt(codes.flatten(), '%d')), 80, 0.01,
['tensor @0 q4 [3][40]', 'bmatvec s{{[0-9]+}}x12 @0', 'vcmul s{{[0-9]+}}x12', 'sum s{{[0-9]+}}x6 %{{[0-9]+}}, 2', 'sat s16x6'])

codes = rng.integers(-128, 128, size=(4, 6)); sc = rng.uniform(0.001, 0.01, size=4)
test('linear-i8', 'An INT8 Linear: matvec over the codes, vcmul by row-scale mantissas.',
'''module "t"
tensor @0 i8 [4][6] "w"
  scales %s
  codes %s
%%x = input f64x6 "x", 0
%%m = matvec f64x4 @0, %%x
output "y", %%m, 0
''' % (fmt(sc, '%.9g'), fmt(codes.flatten(), '%d')), 6, 0.01,
['tensor @0 i8 [4][6]', 'matvec s{{[0-9]+}}x4 @0', 'vcmul s{{[0-9]+}}x4'])

v = rng.standard_normal(4)
test('arith', 'Elementwise and lane ops: add sub neg mul (variable, scalar and vector constants) div-by-constant max min lt select concat extract sum rmax.',
'''module "t"
tensor @0 f64 [4] "c"
  values %s
%%x = input f64x4 "x", 0
%%y = input f64x4 "y", 0
%%a = add f64x4 %%x, %%y
%%s = sub f64x4 %%x, %%y
%%n = neg f64x4 %%s
%%m = mul f64x4 %%a, %%n
%%k = fconst f64 0.3
%%mk = mul f64x4 %%m, %%k
%%c = vconst f64x4 @0
%%mc = mul f64x4 %%c, %%x
%%d = fconst f64 3
%%q = div f64x4 %%mc, %%d
%%one = fconst f64 1
%%p = add f64x4 %%q, %%one
%%mx = max f64x4 %%p, %%x
%%mn = min f64x4 %%mk, %%y
%%lt = lt u1x4 %%x, %%y
%%sel = select f64x4 %%lt, %%mx, %%mn
%%cat = concat f64x8 %%sel, %%mk
%%ex = extract f64x4 %%cat, 2
%%su = sum f64x2 %%ex, 2
%%rm = rmax f64x2 %%cat, 4
output "a", %%ex, 0
output "b", %%su, 0
output "c", %%rm, 0
''' % fmt(v, '%.17g'), 8, 0.01,
['input s16x4 "x"', 'input s16x4 "y"', 'lt u1x4', 'mul s{{[0-9]+}}x4', 'cmul', 'vcmul', 'select', 'concat', 'extract', 'sum', 'rmax', 'output "a"', 'output "b"', 'output "c"'])

for fn, tol in (('gelu', 0.005), ('silu', 0.005), ('exp', 0.002)):
    test(fn, '%s by an interpolated table over a clamped domain.' % fn,
'''module "t"
%%x = input f64x16 "x", 0
%%s = fconst f64 2
%%y = mul f64x16 %%x, %%s
%%g = %s f64x16 %%y
output "y", %%g, 0
''' % fn, 16, tol, ['lut s{{[0-9]+}}x16', 'output "y"'], " '--implicit-check-not== %s'" % fn,
    ' --rtol 0.001' if fn == 'exp' else '')

test('rsqrt', 'rsqrt by normalisation (even shifts), an interpolated table and the inverse shift.',
'''module "t"
%x = input f64x8 "x", 0
%s = mul f64x8 %x, %x
%e = fconst f64 0.25
%a = add f64x8 %s, %e
%r = rsqrt f64x8 %a
output "y", %r, 0
''', 8, 0.01, ['lt u1x8', 'select', 'lut', 'output "y"'], " '--implicit-check-not== rsqrt'")

g = rng.standard_normal(8) * 0.5 + 1; bb = rng.standard_normal(8) * 0.2
test('layernorm', 'LayerNorm (g = 8, 3 groups) with affine weight and bias: d = g*x - sum x exactly, rsqrt by normalisation.',
'''module "t"
tensor @0 f32 [8] "w"
  values %s
tensor @1 f32 [8] "b"
  values %s
%%x = input f64x24 "x", 0
%%l = layernorm f64x24 %%x, 8, 1.0000000000000001e-05
%%w = vconst f64x8 @0
%%m = mul f64x24 %%l, %%w
%%b = vconst f64x8 @1
%%a = add f64x24 %%m, %%b
output "y", %%a, 0
''' % (fmt(g), fmt(bb)), 24, 0.01, ['sum s{{[0-9]+}}x3 %{{[0-9]+}}, 8', 'cmul s{{[0-9]+}}x24 %{{[0-9]+}}, 8', 'lut', 'vcmul', 'output "y"'],
" '--implicit-check-not== layernorm'", ' --scale 2 --offset 0.5')

test('softmax', 'softmax over groups of 5: max subtraction, exp table, sum, reciprocal by normalisation.',
'''module "t"
%x = input f64x20 "x", 0
%s = fconst f64 2
%y = mul f64x20 %x, %s
%p = softmax f64x20 %y, 5
output "y", %p, 0
''', 20, 0.003, ['rmax s16x4 %{{[0-9]+}}, 5', 'lut', 'sum', 'output "y", %{{[0-9]+}}, 14'], " '--implicit-check-not== softmax'")

for name, op in (('attn', 'attn'), ('attn-causal', 'attn.causal')):
    test(name, '%s with H = 2 heads, T = 3 tokens, dh = 4: q.k and p.v as variable mul + sum.' % op,
'''module "t"
%%q = input f64x24 "q", 0
%%k = input f64x24 "k", 0
%%v = input f64x24 "v", 0
%%a = %s f64x24 %%q, %%k, %%v, 2, 3
output "y", %%a, 0
''' % op, 72, 0.01, ['mul s{{[0-9]+}}x72', 'sum s{{[0-9]+}}x18 %{{[0-9]+}}, 4', 'rmax', 'lut', 'output "y"'], " '--implicit-check-not== attn'")

test('div', 'div by a variable of constant sign (here negative): normalisation + reciprocal table, times the numerator.',
'''module "t"
%x = input f64x8 "x", 0
%y = input f64x8 "y", 0
%a = mul f64x8 %y, %y
%c = fconst f64 0.5
%b = add f64x8 %a, %c
%n = neg f64x8 %b
%q = div f64x8 %x, %n
output "q", %q, 0
''', 16, 0.01, ['lt u1x8', 'lut', 'mul', 'output "q"'], " '--implicit-check-not== div'")

open(T + 'div-sign.test', 'w').write('''# A divisor whose calibrated range crosses zero cannot be lowered: a user error.
# RUN: split-file %s %t
# RUN: not jepac --passes=lower %t/a.jir 2>&1 | FileCheck %s
# CHECK: jepac: error: d: cannot lower a div whose divisor changes sign

#--- a.jir
module "d"
%x = input f64x8 "x", 0
%y = input f64x8 "y", 0
%r = div f64x8 %x, %y
output "r", %r, 0
''')
