#!/usr/bin/python3
"""ref_ijepa.py -- an independent PyTorch reference of the I-JEPA predictor.

Checks `jepac --run --float` against the forward pass of the public I-JEPA
code's VisionTransformerPredictor (written here from the paper and that
code's structure, with torch's own layer_norm, gelu and softmax):

  ref_ijepa.py check DIR [--quant=none|q4-pred|full] [--forms=F,F,...]
                         [--n=5] [--seed=1] [--tol=1e-4] [--jepac=jepac] [--model=FILE]
      reads DIR/model.safetensors + DIR/config.json with its own numpy
      reader; draws N random context vectors, runs jepac and the reference
      (float64) for each form F (serial, parallel; +all: --all-tokens),
      prints the largest relative error max|a-b| / max|b| over the vectors,
      exits 1 above --tol.  --model gives jepac another file
      (the reference still reads DIR's).  The mask-token slots of the ctx
      window get random values too: they must be ignored.  The serial
      form's output is a stream of every token, the targets the last Nt.

  ref_ijepa.py variant DIR OUT
      rewrites DIR's checkpoint as the public training code saves it: every
      name under "module.", plus the fixed predictor_pos_embed table.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lewm"))
from ref_lewm import read_safetensors, write_safetensors, q4_dequant, i8_dequant, run_jepac, compare  # noqa: E402

BLOCK_MATS = ["attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"]


def config(path):
    with open(path) as f:
        j = json.load(f)["ijepa"]
    d = j["predictor_embed_dim"]
    return dict(E=j["embed_dim"], D=d, depth=j["depth"], H=j["num_heads"],
                mlp=int(d * j.get("mlp_ratio", 4.0)), g=j["crop_size"] // j["patch_size"],
                ctx=list(j["context_positions"]), tgt=list(j["target_positions"]))


def canon(P):
    out = {}
    for k, v in P.items():
        for p in ("module.", "predictor."):
            if k.startswith(p):
                k = k[len(p):]
        out[k] = v
    return out


def sincos_2d(D, g):
    """The paper's fixed table: [g*g, D]; the first half encodes the column."""
    def one(dim, pos):
        omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
        out = np.outer(pos, omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)
    col, row = np.meshgrid(np.arange(g, dtype=np.float64), np.arange(g, dtype=np.float64))
    return np.concatenate([one(D // 2, col.ravel()), one(D // 2, row.ravel())], axis=1)


def quantize(P, c, mode):
    if mode == "none":
        return
    for i in range(c["depth"]):
        for m in BLOCK_MATS:
            k = "predictor_blocks.%d.%s.weight" % (i, m)
            P[k] = q4_dequant(P[k])
    if mode == "full":
        for k in ("predictor_embed.weight", "predictor_proj.weight"):
            P[k] = i8_dequant(P[k])


def predictor(P, c, ctx):
    """ctx [Nc, E] -> predictions [T, E] for every token (targets are the last Nt)."""
    T_ = lambda k: torch.from_numpy(P[k])
    lin = lambda x, n: F.linear(x, T_(n + ".weight"), T_(n + ".bias"))
    ln = lambda x, n: F.layer_norm(x, (c["D"],), T_(n + ".weight"), T_(n + ".bias"), eps=1e-6)
    pos = torch.from_numpy(P["predictor_pos_embed"].reshape(-1, c["D"]) if "predictor_pos_embed" in P
                           else sincos_2d(c["D"], c["g"]))
    x = lin(torch.from_numpy(ctx), "predictor_embed") + pos[c["ctx"]]
    m = T_("mask_token").reshape(1, -1) + pos[c["tgt"]]
    x = torch.cat([x, m], 0)
    n, D, H = x.shape[0], c["D"], c["H"]
    for i in range(c["depth"]):
        b = "predictor_blocks.%d." % i
        qkv = lin(ln(x, b + "norm1"), b + "attn.qkv").reshape(n, 3, H, D // H).permute(1, 2, 0, 3)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = torch.softmax(q @ k.transpose(-2, -1) * (D // H) ** -0.5, dim=-1)
        x = x + lin((a @ v).transpose(0, 1).reshape(n, D), b + "attn.proj")
        x = x + lin(F.gelu(lin(ln(x, b + "norm2"), b + "mlp.fc1")), b + "mlp.fc2")
    return lin(ln(x, "predictor_norm"), "predictor_proj")


def check(a):
    P = canon(read_safetensors(os.path.join(a.dir, "model.safetensors")))
    c = config(os.path.join(a.dir, "config.json"))
    quantize(P, c, a.quant)
    nc, nt, E = len(c["ctx"]), len(c["tgt"]), c["E"]
    rng = np.random.default_rng(a.seed)
    vecs = [rng.standard_normal((nc, E)) for _ in range(a.n)]
    fed = [np.concatenate([v, rng.standard_normal((nt, E))]) for v in vecs]
    lines = "".join(" ".join("%.17g" % x for x in v.ravel()) + "\n" for v in fed)
    ys = [predictor(P, c, v).detach().numpy() for v in vecs]
    status = 0
    for form in a.forms.split(","):
        tokens, every = form.split("+")[0], form.endswith("+all")
        cmd = [a.jepac, "--run", "--float", "--quant=" + a.quant, "--tokens=" + tokens,
               a.model or os.path.join(a.dir, "model.safetensors")] + (["--all-tokens"] if every else [])
        got = run_jepac(cmd, lines, a.n)
        if got is None:
            return 1
        if tokens == "serial" and not every:
            got = [g[nc * E:] for g in got]
        wants = [(y if every else y[nc:]).ravel() for y in ys]
        status |= compare(got, wants, a.tol, form)
    return status


def variant(a):
    P = read_safetensors(os.path.join(a.dir, "model.safetensors"))
    c = config(os.path.join(a.dir, "config.json"))
    P = {"module." + k: v for k, v in P.items()}
    P["module.predictor_pos_embed"] = sincos_2d(c["D"], c["g"]).reshape(1, -1, c["D"])
    os.makedirs(a.out, exist_ok=True)
    write_safetensors(os.path.join(a.out, "model.safetensors"), P)
    shutil.copy(os.path.join(a.dir, "config.json"), os.path.join(a.out, "config.json"))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("--quant", default="none", choices=["none", "q4-pred", "full"])
    c.add_argument("--forms", default="serial")
    c.add_argument("--n", type=int, default=5)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--tol", type=float, default=1e-4)
    c.add_argument("--jepac", default="jepac")
    c.add_argument("--model")
    v = sub.add_parser("variant")
    v.add_argument("dir")
    v.add_argument("out")
    a = ap.parse_args()
    return check(a) if a.cmd == "check" else variant(a)


if __name__ == "__main__":
    sys.exit(main())
