#!/usr/bin/python3
"""cmodel_torch.py DIR [N] -- times the PyTorch float32 LeWM predict-step
(batch 1, torch.no_grad, test/lewm/ref_lewm.py's reference forward pass on
DIR/model.safetensors) and prints ms per step."""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "lewm"))
import ref_lewm  # noqa: E402
import json  # noqa: E402


def main():
    d, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50
    P = {k: v.astype(np.float32) if v.dtype.kind == "f" else v
         for k, v in ref_lewm.read_safetensors(os.path.join(d, "model.safetensors")).items()}
    c = ref_lewm.config(json.load(open(os.path.join(d, "config.json"))))
    rng = np.random.default_rng(1)
    ins = [rng.standard_normal(s).astype(np.float32) for s in ref_lewm.top_inputs(P, c, "predict-step", rng)]
    torch.set_num_threads(1)
    with torch.no_grad():
        for _ in range(3):
            y = ref_lewm.reference(P, c, "predict-step", ins, False, True)
        t = time.perf_counter()
        for _ in range(n):
            y = ref_lewm.reference(P, c, "predict-step", ins, False, True)
        t = time.perf_counter() - t
    print("pytorch: %.3f ms per step (%d steps, float32 %s, 1 thread, dtype of output %s)"
          % (1e3 * t / n, n, torch.__version__, y.dtype))


main()
