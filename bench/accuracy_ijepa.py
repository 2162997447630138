#!/usr/bin/python3
"""Fixed point vs float on the I-JEPA predictor (the same quantized weights).

usage: accuracy_ijepa.py DIR [--act-bits W,W,...] [--n N] [--seed K] [--jepac PATH]

N random context windows (context embeddings ~ N(0, 1), the mask-token
slots too: they are ignored) through `jepac -O0 --act-bits=W --run` (the
lowered integer graph, stream form) and `jepac --run --float` (the float
graph, q4-pred weights); per predicted target token the cosine of the two
and the relative error max|a-b| / max|b|.  Prints one markdown table row per
W: mean / min cosine over every target token, max relative error.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np


def run(cmd, x):
    """jepac's output rows for the input rows x (exits 2 if jepac fails)."""
    p = subprocess.run(cmd, input=''.join(' '.join('%.9g' % v for v in r) + '\n' for r in x),
                       capture_output=True, text=True)
    if p.returncode:
        sys.exit(p.stderr or 'jepac failed')
    return np.loadtxt(p.stdout.splitlines(), ndmin=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dir')
    ap.add_argument('--act-bits', default='8,12,16')
    ap.add_argument('--n', type=int, default=20)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--jepac', default='jepac')
    a = ap.parse_args()
    with open(os.path.join(a.dir, 'config.json')) as f:
        c = json.load(f)['ijepa']
    E, nc, nt = c['embed_dim'], len(c['context_positions']), len(c['target_positions'])
    model = os.path.join(a.dir, 'model.safetensors')
    x = np.random.default_rng(a.seed).standard_normal((a.n, (nc + nt) * E))
    real = run([a.jepac, '--run', '--float', model], x)[:, nc * E:].reshape(-1, E)
    for w in [int(v) for v in a.act_bits.split(',')]:
        fixed = run([a.jepac, '-O0', '--act-bits=%d' % w, '--run', model], x)[:, nc * E:].reshape(-1, E)
        cos = (fixed * real).sum(1) / (np.linalg.norm(fixed, axis=1) * np.linalg.norm(real, axis=1))
        rel = (np.abs(fixed - real).max(1) / np.abs(real).max(1)).max()
        print('| %d | %d x %d | %.6f | %.6f | %.2g |' % (w, a.n, nt, cos.mean(), cos.min(), rel))


if __name__ == '__main__':
    main()
