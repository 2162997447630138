#!/usr/bin/python3
"""Compares a lowered module with its float graph on random vectors.

usage: compare.py FILE.jir [--n N] [--seed S] [--scale A] [--offset B]
                  [--tol T] [--rtol R] [--cos C] [--act-bits W] [--inputs FILE]

Draws N input vectors with lanes ~ B + A * N(0, 1) (seeded), runs
`jepac -O0 --run` (fixed point, ports in real units) and
`jepac --run --float` (the float graph), and prints one line
"PASS ..." or "FAIL ..." with the max abs error, the max error relative to
the largest reference value and the mean cosine.  PASS needs
max abs error <= T (or max error / max |reference| <= --rtol R) and mean
cosine >= C.  Exit status 0 either way (the
lit test checks the word), 2 on a usage or run error.
"""
import argparse
import subprocess
import sys

import numpy as np


def run(args, text):
    p = subprocess.run(['jepac'] + args, input=text, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit(2)
    return np.array([[float(v) for v in line.split()] for line in p.stdout.splitlines()])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('jir')
    ap.add_argument('--n', type=int, default=64)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--scale', type=float, default=1.0)
    ap.add_argument('--offset', type=float, default=0.0)
    ap.add_argument('--tol', type=float, default=1e-2)
    ap.add_argument('--rtol', type=float, default=0.0)
    ap.add_argument('--cos', type=float, default=0.999)
    ap.add_argument('--act-bits', type=int, default=16)
    ap.add_argument('--lanes', type=int, required=True, help='input lanes per vector')
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    x = a.offset + a.scale * rng.standard_normal((a.n, a.lanes))
    text = '\n'.join(' '.join('%.9g' % v for v in row) for row in x) + '\n'
    fx = run(['-O0', '--act-bits=%d' % a.act_bits, '--run', a.jir], text)
    fl = run(['--run', '--float', a.jir], text)
    err = np.abs(fx - fl).max()
    ref = max(np.abs(fl).max(), 1e-30)
    na = np.linalg.norm(fx, axis=1)
    nb = np.linalg.norm(fl, axis=1)
    cos = np.where(na * nb > 0, (fx * fl).sum(1) / np.maximum(na * nb, 1e-300), 1.0).mean()
    ok = (err <= a.tol or err / ref <= a.rtol) and cos >= a.cos
    print('%s maxerr %.3g relerr %.3g cos %.6f' % ('PASS' if ok else 'FAIL', err, err / ref, cos))


main()
