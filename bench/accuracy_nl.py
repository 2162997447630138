#!/usr/bin/python3
"""Worst-case error of each nonlinear lowering, by sweep (docs/fixed-point.md).

usage: bench/accuracy_nl.py [--act-bits W] [--jepac PATH]

For each op a one-op float module is lowered (`jepac -O0 --run`) and
compared with the float graph (`jepac --run --float`):
  gelu, silu        exhaustive: every code of the input port (2^W codes,
                    W <= 16; a dense grid of 65536 codes above)
  exp               dense: 65536 inputs in [-4, 4] (its calibrated domain)
  rsqrt             dense: 20000 inputs log-uniform in [0.01, 8]
  layernorm         dense: 2000 groups of 192, scale 10^U(-1,0.3), offset N(0,1)
  softmax           dense: 2000 groups of 3 and of 16, scale 10^U(-1,0.5)
  attn.causal       dense: 200 vectors, H = 16, T = 3, dh = 64 (LeWM)
Errors are printed in units of the output port's LSB (2^-F) and as absolute
values; inputs are rounded and clipped to the input port's grid and range
(calibration gives the port F; inputs ~ N(0,1) give a range of about +-8),
so the error is the lowering's alone.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np


def run(cmd, x):
    text = '\n'.join(' '.join('%.17g' % v for v in row) for row in x) + '\n'
    p = subprocess.run(cmd, input=text, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(p.stderr)
    return np.array([[float(v) for v in l.split()] for l in p.stdout.splitlines()])


def ports(jepac, path, w):
    """Binary points of the lowered module's first input and output."""
    p = subprocess.run([jepac, '--act-bits=%d' % w, '--passes=lower', '--emit=ir', path],
                       capture_output=True, text=True, check=True)
    fin = fout = None
    for l in p.stdout.splitlines():
        if ' = input ' in l and fin is None:
            fin = int(l.rsplit(',', 1)[1])
        if l.startswith('output '):
            fout = int(l.rsplit(',', 1)[1])
    return fin, fout


def measure(a, name, body, lanes, gen):
    d = tempfile.mkdtemp()
    path = os.path.join(d, name + '.jir')
    with open(path, 'w') as f:
        f.write('module "%s"\n' % name + body)
    fin, fout = ports(a.jepac, path, a.act_bits)
    x = gen(fin, lanes)
    top = 2.0 ** (a.act_bits - 1)
    x = np.clip(np.round(x * 2.0 ** fin), -top, top - 1) / 2.0 ** fin   # on the port's grid
    lo = run([a.jepac, '-O0', '--act-bits=%d' % a.act_bits, '--run', path], x)
    fl = run([a.jepac, '--run', '--float', path], x)
    err = np.abs(lo - fl).max()
    print('| %s | %d | %.3g | %.2f |' % (name, len(x), err, err * 2.0 ** fout))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--act-bits', type=int, default=16)
    ap.add_argument('--jepac', default='jepac')
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    W = a.act_bits

    def grid(fin, lanes):
        n = min(2 ** W, 65536)
        codes = np.linspace(-2.0 ** (W - 1), 2.0 ** (W - 1) - 1, n)
        return (codes / 2.0 ** fin).reshape(-1, lanes)

    print('| op (act_bits %d) | vectors | max abs error | in output LSBs |' % W)
    print('|---|---|---|---|')
    for op in ('gelu', 'silu'):
        measure(a, op, '%%x = input f64x64 "x", 0\n%%y = %s f64x64 %%x\noutput "y", %%y, 0\n' % op,
                64, grid)
    measure(a, 'exp', '%x = input f64x64 "x", 0\n%y = exp f64x64 %x\noutput "y", %y, 0\n', 64,
            lambda fin, l: np.linspace(-4, 4, 65536).reshape(-1, l))
    measure(a, 'rsqrt', '%x = input f64x64 "x", 0\n%y = rsqrt f64x64 %x\noutput "y", %y, 0\n', 64,
            lambda fin, l: 10 ** rng.uniform(-2, 0.9, (20000 // l, l)))
    measure(a, 'layernorm', '%x = input f64x192 "x", 0\n'
            '%y = layernorm f64x192 %x, 192, 9.9999999999999995e-07\noutput "y", %y, 0\n', 192,
            lambda fin, l: rng.normal(0, 1, (2000, 1)) + 10 ** rng.uniform(-1, 0.3, (2000, 1))
            * rng.standard_normal((2000, l)))
    for g in (3, 16):
        measure(a, 'softmax-%d' % g, '%%x = input f64x%d "x", 0\n%%y = softmax f64x%d %%x, %d\n'
                'output "y", %%y, 0\n' % (g * 8, g * 8, g), g * 8,
                lambda fin, l: 10 ** rng.uniform(-1, 0.5, (250, 1)) * rng.standard_normal((250, l)))
    measure(a, 'attn.causal', '%q = input f64x3072 "q", 0\n%k = input f64x3072 "k", 0\n'
            '%v = input f64x3072 "v", 0\n%y = attn.causal f64x3072 %q, %k, %v, 16, 3\n'
            'output "y", %y, 0\n', 9216, lambda fin, l: rng.standard_normal((200, l)))


main()
