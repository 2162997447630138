#!/usr/bin/python3
"""ref_lewm.py -- an independent PyTorch reference of the LeWM forward pass.

Checks `jepac --run --float` against the equations of docs/lewm.md:

  ref_lewm.py check DIR --top=TOP[,TOP...] [--quant=none|q4-pred|full] [--all-tokens]
                        [--n=5] [--seed=1] [--tol=1e-4] [--jepac=jepac]
                        [--model=FILE] [--no-bn]
      reads DIR/model.safetensors + DIR/config.json with its own numpy
      reader; for each top, draws N random input vectors, runs jepac and the
      reference here (float64), prints the largest relative error
      max|a-b| / max(1e-6, max|b|) over the vectors, exits 1 above --tol.
      --model gives jepac another file of the same weights (an LQ40 export;
      add --no-bn, as LQ40 stores no BatchNorm statistics).

  ref_lewm.py gen --preset=tiny|proj [--seed=N] -o DIR
      writes a small random model (for variants the official generator,
      jepac-mkmodel, does not make: input/cond/output projections).

The reference uses torch's own conv1d, conv2d, layer_norm, batch_norm and
gelu, so it shares no code with jepac.  --quant=q4-pred applies the LQ40
exporter's Q4 rules (docs/lq40.md) to the five predictor matrices of each
block before evaluating, as jepac does; --quant=full also its INT8 rules to
the six matrices of each encoder layer.
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16,
          "I64": np.int64, "I32": np.int32, "I8": np.int8, "U8": np.uint8}


def read_safetensors(path):
    """name -> float64 numpy array (BF16 widened by bit shifting)."""
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hlen])
    base = 8 + hlen
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        raw = data[base + a:base + b]
        if e["dtype"] == "BF16":
            arr = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, DTYPES[e["dtype"]])
        if name.startswith("model."):
            name = name[len("model."):]
        out[name] = arr.astype(np.float64).reshape(e["shape"])
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name], np.float32)
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [off, off + arr.nbytes]}
        blobs.append(arr.tobytes())
        off += arr.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---- configuration ---------------------------------------------------------

VIT = {"tiny": (192, 12, 3, 768), "small": (384, 12, 6, 1536), "base": (768, 12, 12, 3072)}


def config(cfg):
    e = cfg["encoder"]
    h, l, a, i = VIT.get(e.get("size", "custom"), (None,) * 4)
    p = cfg["predictor"]
    return {
        "enc_hidden": e.get("hidden_size", h), "enc_layers": e.get("num_hidden_layers", l),
        "enc_heads": e.get("num_attention_heads", a), "enc_inter": e.get("intermediate_size", i),
        "patch": e["patch_size"], "image": e["image_size"], "channels": e.get("num_channels", 3),
        "T": p["num_frames"], "depth": p["depth"], "heads": p["heads"], "dim_head": p["dim_head"],
        "hidden": p["hidden_dim"], "input": p.get("input_dim", p["hidden_dim"]),
        "output": p.get("output_dim", p["hidden_dim"]),
        "action_input": cfg["action_encoder"]["input_dim"],
    }


# ---- Q4 rules (docs/lq40.md), for --quant=q4-pred ------------------------

PRED_MATS = ["adaLN_modulation.1", "attn.to_qkv", "attn.to_out.0", "mlp.net.1", "mlp.net.4"]


def q4_dequant(w):
    w = w.astype(np.float32)
    out, n = w.shape
    nb = (n + 31) // 32
    wp = np.zeros((out, nb * 32), np.float32)
    wp[:, :n] = w
    blocks = wp.reshape(out, nb, 32)
    scale = (np.abs(blocks).max(axis=2) / np.float32(7)).astype(np.float32)
    inv = np.where(scale != 0, np.float32(1) / np.where(scale != 0, scale, 1), 0).astype(np.float32)
    x = (blocks * inv[:, :, None]).astype(np.float32).astype(np.float64)
    q = np.clip(np.sign(x) * np.floor(np.abs(x) + 0.5), -8, 7)
    return (q * scale[:, :, None].astype(np.float64)).reshape(out, nb * 32)[:, :n]


ENC_MATS = ["attention.attention.query", "attention.attention.key", "attention.attention.value",
            "attention.output.dense", "intermediate.dense", "output.dense"]


def i8_dequant(w):
    w = w.astype(np.float32)
    m = np.abs(w).max(axis=1)
    scale = np.where(m != 0, m / np.float32(127), np.float32(1)).astype(np.float32)
    x = (w * (np.float32(1) / scale)[:, None]).astype(np.float32).astype(np.float64)
    q = np.clip(np.sign(x) * np.floor(np.abs(x) + 0.5), -128, 127)
    return q * scale[:, None].astype(np.float64)


def quantize(P, c, mode):
    if mode == "none":
        return
    for i in range(c["depth"]):
        for m in PRED_MATS:
            k = "predictor.transformer.layers.%d.%s.weight" % (i, m)
            if k in P:
                P[k] = q4_dequant(P[k])
    for i in range(c["enc_layers"] if mode == "full" else 0):
        for m in ENC_MATS:
            k = "encoder.encoder.layer.%d.%s.weight" % (i, m)
            P[k] = i8_dequant(P[k])


# ---- the model ---------------------------------------------------------------

def T_(P, k):
    return torch.from_numpy(P[k]) if k in P else None


def lin(P, x, name):
    w = T_(P, name + ".weight")
    return F.linear(x, w.reshape(w.shape[0], -1), T_(P, name + ".bias"))


def ln(P, x, eps, name=None):
    if name is None:
        return F.layer_norm(x, (x.shape[-1],), eps=eps)
    return F.layer_norm(x, (x.shape[-1],), T_(P, name + ".weight"), T_(P, name + ".bias"), eps)


def mha(q, k, v, heads, causal):
    T, S = q.shape[0], k.shape[0]
    dh = q.shape[1] // heads
    q, k, v = (t.reshape(t.shape[0], heads, dh).transpose(0, 1) for t in (q, k, v))
    s = q @ k.transpose(1, 2) / math.sqrt(dh)
    if causal:
        s = s.masked_fill(torch.ones(T, S, dtype=torch.bool).triu(1), float("-inf"))
    return (torch.softmax(s, -1) @ v).transpose(0, 1).reshape(T, heads * dh)


def predictor(P, c, emb, cond):
    n = emb.shape[0]
    pre = "predictor.transformer"
    x = emb + T_(P, "predictor.pos_embedding").reshape(-1, c["input"])[:n]
    if pre + ".input_proj.weight" in P:
        x = lin(P, x, pre + ".input_proj")
    if pre + ".cond_proj.weight" in P:
        cond = lin(P, cond, pre + ".cond_proj")
    for i in range(c["depth"]):
        b = "%s.layers.%d" % (pre, i)
        m = lin(P, F.silu(cond), b + ".adaLN_modulation.1")
        s_msa, sc_msa, g_msa, s_mlp, sc_mlp, g_mlp = m.chunk(6, dim=-1)
        h = ln(P, x, 1e-6) * (1 + sc_msa) + s_msa
        h = ln(P, h, 1e-5, b + ".attn.norm")
        q, k, v = lin(P, h, b + ".attn.to_qkv").chunk(3, dim=-1)
        a = mha(q, k, v, c["heads"], True)
        if b + ".attn.to_out.0.weight" in P:
            a = lin(P, a, b + ".attn.to_out.0")
        x = x + g_msa * a
        h = ln(P, x, 1e-6) * (1 + sc_mlp) + s_mlp
        h = ln(P, h, 1e-5, b + ".mlp.net.0")
        h = lin(P, F.gelu(lin(P, h, b + ".mlp.net.1")), b + ".mlp.net.4")
        x = x + g_mlp * h
    x = ln(P, x, 1e-5, pre + ".norm")
    if pre + ".output_proj.weight" in P:
        x = lin(P, x, pre + ".output_proj")
    return x


def action_encoder(P, act):
    x = F.conv1d(act.T[None], T_(P, "action_encoder.patch_embed.weight"),
                 T_(P, "action_encoder.patch_embed.bias"))[0].T
    x = F.silu(lin(P, x, "action_encoder.embed.0"))
    return lin(P, x, "action_encoder.embed.2")


def head(P, x, name, bn=True):
    x = lin(P, x, name + ".net.0")
    if bn:
        x = F.batch_norm(x, T_(P, name + ".net.1.running_mean"), T_(P, name + ".net.1.running_var"),
                         T_(P, name + ".net.1.weight"), T_(P, name + ".net.1.bias"), False, 0.0, 1e-5)
    return lin(P, F.gelu(x), name + ".net.3")


def encoder(P, c, img):
    e = "encoder.embeddings."
    x = F.conv2d(img[None], T_(P, e + "patch_embeddings.projection.weight"),
                 T_(P, e + "patch_embeddings.projection.bias"), stride=c["patch"])[0]
    x = x.flatten(1).T
    x = torch.cat([T_(P, e + "cls_token").reshape(1, -1), x]) + \
        T_(P, e + "position_embeddings").reshape(x.shape[0] + 1, -1)
    for i in range(c["enc_layers"]):
        b = "encoder.encoder.layer.%d." % i
        h = ln(P, x, 1e-12, b + "layernorm_before")
        q, k, v = (lin(P, h, b + "attention.attention." + n) for n in ("query", "key", "value"))
        x = x + lin(P, mha(q, k, v, c["enc_heads"], False), b + "attention.output.dense")
        h = ln(P, x, 1e-12, b + "layernorm_after")
        x = x + lin(P, F.gelu(lin(P, h, b + "intermediate.dense")), b + "output.dense")
    return ln(P, x, 1e-12, "encoder.layernorm")[0]


# ---- tops: input layout and reference --------------------------------------

def top_inputs(P, c, top, rng):
    """List of (name, shape) of the input ports, in jepac's order."""
    T, din, A = c["T"], c["input"], c["action_input"]
    if top == "predictor":
        return [(T, din), (T, din)]
    if top == "predict-step":
        return [(T, din), (T, A)]
    if top == "action-encoder":
        return [(T, A)]
    if top == "encoder":
        return [(c["channels"], c["image"], c["image"])]
    name = "projector" if top == "projector" else "pred_proj"
    return [(P[name + ".net.0.weight"].shape[1],)]


def reference(P, c, top, ins, all_tokens, bn):
    ins = [torch.from_numpy(a) for a in ins]
    if top == "predictor":
        y = predictor(P, c, ins[0], ins[1])
        return y if all_tokens else y[-1]
    if top == "predict-step":
        y = predictor(P, c, ins[0], action_encoder(P, ins[1]))
        return head(P, y if all_tokens else y[-1:], "pred_proj", bn)
    if top == "action-encoder":
        return action_encoder(P, ins[0])
    if top == "encoder":
        return head(P, encoder(P, c, ins[0])[None], "projector", bn)
    return head(P, ins[0][None], "projector" if top == "projector" else "pred_proj", bn)


def patch_stream(c, img):
    """The serial encoder's input: token 0 (the CLS slot, ignored), then one
    patch [C][P][P] per token, patches in row-major order."""
    C, P, n = c["channels"], c["patch"], c["image"] // c["patch"]
    p = img.reshape(C, n, P, n, P).transpose(1, 3, 0, 2, 4).reshape(n * n, C * P * P)
    return np.concatenate([np.zeros((1, C * P * P)), p])


def check(a):
    d = a.dir
    P = read_safetensors(os.path.join(d, "model.safetensors"))
    with open(os.path.join(d, "config.json")) as f:
        c = config(json.load(f))
    quantize(P, c, a.quant)
    status = 0
    for top in a.top.split(","):
        a.top = top
        status |= check_top(a, P, c)
    return status


def run_jepac(cmd, lines, n):
    """jepac's output vectors for the input lines; None (reported) on failure."""
    r = subprocess.run(cmd, input=lines, capture_output=True, text=True)
    sys.stderr.write(r.stderr)
    if r.returncode != 0:
        print("jepac failed with status %d" % r.returncode)
        return None
    got = [np.array([float(v) for v in ln_.split()]) for ln_ in r.stdout.splitlines()]
    if len(got) != n:
        print("expected %d output lines, got %d" % (n, len(got)))
        return None
    return got


def check_top(a, P, c):
    d = a.dir
    rng = np.random.default_rng(a.seed)
    shapes = top_inputs(P, c, a.top, rng)
    vecs = [[rng.uniform(-1, 1, s) if a.top == "encoder" else rng.standard_normal(s)
             for s in shapes] for _ in range(a.n)]
    fed = [[patch_stream(c, x) for x in ins] if a.top == "encoder" and a.tokens == "serial" else ins
           for ins in vecs]
    lines = "".join(" ".join("%.17g" % v for arr in ins for v in arr.ravel()) + "\n" for ins in fed)
    cmd = [a.jepac, "--run", "--float", "--top=" + a.top, "--quant=" + a.quant, "--tokens=" + a.tokens,
           a.model or os.path.join(d, "model.safetensors")] + (["--all-tokens"] if a.all_tokens else [])
    got = run_jepac(cmd, lines, a.n)
    if got is None:
        return 1
    wants = [reference(P, c, a.top, ins, a.all_tokens, not a.no_bn).detach().numpy().ravel()
             for ins in vecs]
    return compare(got, wants, a.tol, "top " + a.top)


def compare(got, wants, tol, what):
    """Prints "ok: WHAT, ..." or "FAIL: ..." for the largest relative error."""
    worst = 0.0
    for g, want in zip(got, wants):
        if g.shape != want.shape:
            print("output has %d values, reference %d" % (g.size, want.size))
            return 1
        worst = max(worst, np.abs(g - want).max() / max(1e-6, np.abs(want).max()))
    ok = worst <= tol
    print("%s: %s, %d vectors of %d outputs, max rel err %.3g %s" %
          ("ok" if ok else "FAIL", what, len(got), wants[0].size, worst, "<= tol" if ok else "> tol %g" % tol))
    return 0 if ok else 1


# ---- gen: small random models ------------------------------------------------

PRESETS = {
    "tiny": dict(image=28, patch=7, eh=32, el=2, ea=2, ei=64, T=3, depth=2, heads=2, dh=8,
                 mlp=48, din=32, hid=32, dout=32, A=4, S=4, ph=64),
    "proj": dict(image=14, patch=7, eh=24, el=1, ea=3, ei=40, T=3, depth=2, heads=3, dh=8,
                 mlp=40, din=24, hid=32, dout=16, A=6, S=5, ph=48),
}


def gen(a):
    p = PRESETS[a.preset]
    rng = np.random.default_rng(a.seed)
    W = {}

    def mat(name, out, inp, bias=True, extra=()):
        W[name + ".weight"] = rng.standard_normal((out, inp) + extra) / math.sqrt(inp * max(1, np.prod(extra)))
        if bias:
            W[name + ".bias"] = 0.1 * rng.standard_normal(out)

    def norm(name, n):
        W[name + ".weight"] = 1 + 0.1 * rng.standard_normal(n)
        W[name + ".bias"] = 0.1 * rng.standard_normal(n)

    def mlp_head(name, i, h, o):
        mat(name + ".net.0", h, i)
        norm(name + ".net.1", h)
        W[name + ".net.1.running_mean"] = 0.1 * rng.standard_normal(h)
        W[name + ".net.1.running_var"] = rng.uniform(0.5, 1.5, h)
        mat(name + ".net.3", o, h)

    eh, np_ = p["eh"], (p["image"] // p["patch"]) ** 2
    W["encoder.embeddings.cls_token"] = rng.standard_normal((1, 1, eh))
    W["encoder.embeddings.position_embeddings"] = 0.5 * rng.standard_normal((1, np_ + 1, eh))
    W["encoder.embeddings.patch_embeddings.projection.weight"] = \
        rng.standard_normal((eh, 3, p["patch"], p["patch"])) / math.sqrt(3 * p["patch"] ** 2)
    W["encoder.embeddings.patch_embeddings.projection.bias"] = 0.1 * rng.standard_normal(eh)
    for i in range(p["el"]):
        b = "encoder.encoder.layer.%d." % i
        norm(b + "layernorm_before", eh)
        for n in ("query", "key", "value"):
            mat(b + "attention.attention." + n, eh, eh)
        mat(b + "attention.output.dense", eh, eh)
        norm(b + "layernorm_after", eh)
        mat(b + "intermediate.dense", p["ei"], eh)
        mat(b + "output.dense", eh, p["ei"])
    norm("encoder.layernorm", eh)
    mlp_head("projector", eh, p["ph"], p["din"])
    hid, inner = p["hid"], p["heads"] * p["dh"]
    W["predictor.pos_embedding"] = 0.5 * rng.standard_normal((1, p["T"], p["din"]))
    pre = "predictor.transformer"
    for i in range(p["depth"]):
        b = "%s.layers.%d." % (pre, i)
        mat(b + "adaLN_modulation.1", 6 * hid, hid)
        norm(b + "attn.norm", hid)
        mat(b + "attn.to_qkv", 3 * inner, hid, bias=False)
        mat(b + "attn.to_out.0", hid, inner)
        norm(b + "mlp.net.0", hid)
        mat(b + "mlp.net.1", p["mlp"], hid)
        mat(b + "mlp.net.4", hid, p["mlp"])
    norm(pre + ".norm", hid)
    if p["din"] != hid:
        mat(pre + ".input_proj", hid, p["din"])
        mat(pre + ".cond_proj", hid, p["din"])
    if p["dout"] != hid:
        mat(pre + ".output_proj", p["dout"], hid)
    mat("action_encoder.patch_embed", p["S"], p["A"], extra=(1,))
    mat("action_encoder.embed.0", 4 * p["din"], p["S"])
    mat("action_encoder.embed.2", p["din"], 4 * p["din"])
    mlp_head("pred_proj", p["dout"], p["ph"], p["din"])
    cfg = {
        "encoder": {"size": "custom", "patch_size": p["patch"], "image_size": p["image"],
                    "hidden_size": eh, "num_hidden_layers": p["el"],
                    "num_attention_heads": p["ea"], "intermediate_size": p["ei"]},
        "predictor": {"num_frames": p["T"], "depth": p["depth"], "heads": p["heads"],
                      "mlp_dim": p["mlp"], "input_dim": p["din"], "hidden_dim": hid,
                      "output_dim": p["dout"], "dim_head": p["dh"], "dropout": 0.1},
        "action_encoder": {"input_dim": p["A"], "emb_dim": p["din"]},
        "projector": {"input_dim": eh, "hidden_dim": p["ph"], "output_dim": p["din"]},
        "pred_proj": {"input_dim": p["dout"], "hidden_dim": p["ph"], "output_dim": p["din"]},
    }
    os.makedirs(a.o, exist_ok=True)
    write_safetensors(os.path.join(a.o, "model.safetensors"), W)
    with open(os.path.join(a.o, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1, sort_keys=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("--top", default="predict-step")
    c.add_argument("--quant", default="none", choices=["none", "q4-pred", "full"])
    c.add_argument("--all-tokens", action="store_true")
    c.add_argument("--tokens", default="serial", choices=["serial", "parallel"])
    c.add_argument("--no-bn", action="store_true", help="BatchNorm as identity (LQ40)")
    c.add_argument("--model", help="file jepac reads (default DIR/model.safetensors)")
    c.add_argument("--n", type=int, default=5)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--tol", type=float, default=1e-4)
    c.add_argument("--jepac", default="jepac")
    g = sub.add_parser("gen")
    g.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("-o", required=True)
    a = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    return check(a) if a.cmd == "check" else gen(a)


if __name__ == "__main__":
    sys.exit(main())
