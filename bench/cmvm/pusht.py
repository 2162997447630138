# bench/cmvm/pusht.py -- whole-predictor cost of jepac's constant-matrix
# passes, per matrix kind and in total, at -O0 / -O1 / -O2.
#
# Usage (repo root): /usr/bin/python3 bench/cmvm/pusht.py BIN_DIR CKPT [TOP] [LEVELS]
#   e.g. bench/cmvm/pusht.py build/g2/bin /tmp/g2/pusht.bin predictor 0,1,2
#
# For each level it runs `jepac -ON --verbose --top=TOP --emit=stats CKPT` under
# /usr/bin/time and reads (1) the stats JSON totals (backends/stats.c) and
# (2) the per-matrix log lines of strength-reduce / cse (cmvm_lower.c):
#   cse:   bmatvec NAME RxC lanes L: A adders, NZ nonzero, depth D, fa_bits F
#   cse:   vcmul+sum lower.N.scales ...   (block scales times block sums of
#                                          the bmatvec logged just before)
# Matrix kinds come from the tensor names (adaLN, to_qkv, to_out = attn_out,
# mlp.net.1 = mlp_up, mlp.net.4 = mlp_down).  Instances = lanes / (rows * nb):
# the predictor runs every matrix once per token (3 tokens), so figures are
# also given per instance ("/inst").  A last table sums the stats JSON's
# regions per kind (final figures: after hash-consing and width, biases
# included).  Prints Markdown tables.
import json
import re
import subprocess
import sys

REGION_KINDS = [(".adaln", "adaLN"), (".attn.to_qkv", "to_qkv"), (".attn.to_out", "attn_out"),
                (".mlp.up", "mlp_up"), (".mlp.down", "mlp_down")]
KINDS = [("adaLN", "adaLN"), ("to_qkv", "to_qkv"), ("to_out", "attn_out"),
         ("mlp.net.1", "mlp_up"), ("mlp.net.4", "mlp_down")]
LINE = re.compile(r"^(\S+):   (\S+) (\S+) (\d+)x(\d+) lanes (\d+): (\d+) adders, "
                  r"(\d+) nonzero, depth (\d+), fa_bits (\d+)")


def kind_of(name):
    for key, kind in KINDS:
        if key in name:
            return kind
    return None


def run(bindir, ckpt, top, level):
    out = "/tmp/jepac-pusht-bench-O%d.json" % level
    cmd = ["/usr/bin/time", "-f", "TIME %e %U %S %M", bindir + "/jepac", "-O%d" % level,
           "--verbose", "--top=" + top, "--emit=stats", ckpt, "-o", out]
    p = subprocess.run(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    if p.returncode:
        sys.exit("jepac failed: " + p.stderr[-2000:])
    t = [l for l in p.stderr.splitlines() if l.startswith("TIME ")][-1].split()
    with open(out) as f:
        stats = json.load(f)
    return p.stderr.splitlines(), stats, float(t[1]), float(t[2]) + float(t[3]), int(t[4])


def per_kind(log):
    acc, last = {}, None
    for l in log:
        m = LINE.match(l)
        if not m:
            continue
        op, name = m.group(2), m.group(3)
        rows, cols, lanes = int(m.group(4)), int(m.group(5)), int(m.group(6))
        add, nz, depth, fa = (int(m.group(i)) for i in (7, 8, 9, 10))
        k = kind_of(name)
        if op in ("bmatvec", "matvec") and k:
            nb = (cols + 31) // 32 if op == "bmatvec" else 1
            inst = lanes // (rows * nb)
            a = acc.setdefault(k, {"nz": 0, "add": 0, "fa": 0, "depth": 0, "sadd": 0,
                                   "inst": inst, "n": 0})
            a["nz"] += nz
            a["add"] += add
            a["fa"] += fa
            a["depth"] = max(a["depth"], depth)
            a["n"] += 1
            last = k
        elif op.startswith("vcmul") and last and "scales" in name:
            a = acc[last]
            a["sadd"] += add
            a["fa"] += fa
            last = None
    return acc


def per_region(stats):
    """Per-kind sums over the stats JSON's regions (final figures, after
    hash-consing and width, biases included)."""
    acc = {}
    for r in stats.get("regions", []):
        for suf, k in REGION_KINDS:
            if r["name"].endswith(suf) and ".layer" in r["name"]:
                a = acc.setdefault(k, {"nz": 0, "add": 0, "fa": 0, "n": 0})
                a["nz"] += r["nonzero_weights"]
                a["add"] += r["adders"] + r["negations"]
                a["fa"] += r["fa_bits"]
                a["n"] += 1
    return acc


def main():
    bindir, ckpt = sys.argv[1], sys.argv[2]
    top = sys.argv[3] if len(sys.argv) > 3 else "predictor"
    levels = [int(x) for x in (sys.argv[4] if len(sys.argv) > 4 else "0,1,2").split(",")]
    print("| level | kind | nonzero weights | adders/inst (matrix + scales & block sums) "
          "| adders per nonzero /inst | fa_bits per nonzero /inst | depth |")
    print("|---|---|---|---|---|---|---|")
    totals = []
    for lv in levels:
        log, st, wall, cpu, kb = run(bindir, ckpt, top, lv)
        acc = per_kind(log)
        for _, k in KINDS:
            if k not in acc:
                continue
            a = acc[k]
            i = a["inst"]
            print("| -O%d | %s (%d) | %d | %.0f + %.0f | %.3f | %.2f | %d |" % (
                lv, k, a["n"], a["nz"], a["add"] / i, a["sadd"] / i,
                (a["add"] + a["sadd"]) / i / a["nz"], a["fa"] / i / a["nz"], a["depth"]))
        totals.append((lv, st["totals"], wall, cpu, kb, per_region(st)))
    print()
    print("| level | nonzero weights | adders | adders per nonzero | per nonzero /3 tokens "
          "| fa_bits per nonzero | depth | const_mults | cpu s (user+sys) | wall s | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for lv, t, wall, cpu, kb, _ in totals:
        apn = t["adders"] / t["nonzero_weights"]
        print("| -O%d | %d | %d | %.3f | %.3f | %.2f | %d | %d | %.1f | %.1f | %d |" % (
            lv, t["nonzero_weights"], t["adders"], apn, apn / 3,
            t["fa_bits"] / t["nonzero_weights"], t["depth"], t["const_mults"], cpu, wall,
            kb // 1024))
    print()
    print("Per kind from the stats regions (all instances; /inst = / 3 tokens):")
    print()
    print("| level | kind | nonzero weights | adders | adders per nonzero /inst "
          "| fa_bits per nonzero /inst |")
    print("|---|---|---|---|---|---|")
    for lv, _, _, _, _, reg in totals:
        for _, k in KINDS:
            if k in reg and reg[k]["nz"]:
                a = reg[k]
                print("| -O%d | %s (%d) | %d | %d | %.3f | %.2f |" % (
                    lv, k, a["n"], a["nz"], a["add"], a["add"] / 3 / a["nz"],
                    a["fa"] / 3 / a["nz"]))


main()
