#!/usr/bin/python3
"""Fixed point vs float on a LeWM predict step (the same quantized weights).

usage: accuracy.py MODEL [--act-bits W] [--n N] [--rollout S] [--chains C]
                   [--seed K] [--min-cos A] [--min-roll B] [--jepac PATH]

One-shot: N random inputs (embeddings and actions ~ N(0, 1)) through
`jepac -O0 --run` (lowered) and `jepac --run --float`; the cosine of the two
predictions, mean and min over N.
Rollout: C independent chains of S autoregressive steps: each prediction
becomes the newest history embedding (history truncated to the model's
num_frames), actions fresh N(0, 1) each step; fixed point and float each
follow their own predictions; cosine of the two at every step.
Prints the figures and "PASS" if mean one-shot cosine >= A and the last
step's min cosine over the chains >= B, else "FAIL".
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np


def run(cmd, x):
    text = '\n'.join(' '.join('%.9g' % v for v in row) for row in x) + '\n'
    p = subprocess.run(cmd, input=text, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit(2)
    return np.array([[float(v) for v in l.split()] for l in p.stdout.splitlines()])


def cosine(a, b):
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model')
    ap.add_argument('--act-bits', type=int, default=16)
    ap.add_argument('--n', type=int, default=100)
    ap.add_argument('--rollout', type=int, default=20)
    ap.add_argument('--chains', type=int, default=4)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--min-cos', type=float, default=0.999)
    ap.add_argument('--min-roll', type=float, default=0.99)
    ap.add_argument('--jepac', default='jepac')
    a = ap.parse_args()
    fixed = [a.jepac, '-O0', '--act-bits=%d' % a.act_bits, '--run', a.model]
    real = [a.jepac, '--run', '--float', a.model]
    rng = np.random.default_rng(a.seed)
    emb_lanes, act_lanes, frames = ports(a)
    d = emb_lanes // frames
    x = rng.standard_normal((a.n, emb_lanes + act_lanes))
    c = cosine(run(fixed, x), run(real, x))
    print('one-shot: n %d act_bits %d mean cos %.6f min cos %.6f' % (a.n, a.act_bits, c.mean(), c.min()))
    ok = c.mean() >= a.min_cos
    if a.rollout:
        hf = rng.standard_normal((a.chains, emb_lanes))
        hr = hf.copy()
        for step in range(1, a.rollout + 1):
            act = rng.standard_normal((a.chains, act_lanes))
            pf = run(fixed, np.hstack([hf, act]))
            pr = run(real, np.hstack([hr, act]))
            cs = cosine(pf, pr)
            hf = np.hstack([hf[:, d:], pf])
            hr = np.hstack([hr[:, d:], pr])
            if step in (1, 5, 10, a.rollout):
                print('rollout step %d: min cos %.6f' % (step, cs.min()))
        ok = ok and cs.min() >= a.min_roll
    print('PASS' if ok else 'FAIL')


def ports(a):
    """(emb lanes, action lanes, frames) from the config.json beside the model."""
    cfg = json.load(open(os.path.join(os.path.dirname(a.model), 'config.json')))
    frames = cfg['predictor']['num_frames']
    emb = frames * cfg['predictor']['input_dim']
    act = frames * cfg['action_encoder']['input_dim']
    return emb, act, frames


main()
