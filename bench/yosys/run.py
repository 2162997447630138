#!/usr/bin/python3
"""bench/yosys/run.py [--ways=o2,o2r,bits,naive,d1,d2,d4] [--calib] [--out=F.json] [N ...]

Synthesizes INT4 x INT8 tiles with Yosys and calibrates jepac's cost model.

For each N (default 16 32 64): a random N x N Q4 matrix (codes -8..7, seed N)
times an s8 vector, written
  o2     jepac -O2 --pipeline=none (CSD shift/add with shared sub-sums)
  o2r    the same with --adder=ripple: every add a ripple-carry module
         instance (Yosys maps `+` to a carry-lookahead $lcu, ~50
         transistors per bit against ~37 for a ripple full adder)
  bits   one adder per set weight bit (the seed prototype's method), written here
  naive  jepac -O0: a sum of constant products with `*`, left to Yosys
  d1, d2, d4, ...  jepac -O2 --pipeline=none --digit=D: digit-serial, D bits
         per clock (docs/hardware.md); its adders, carry flip-flops and
         delay-chain bits (counted in the Verilog) go to the JSON
and synthesized by `yosys -d synth -flatten; stat -tech cmos`.  jepac's
fa_bits (`--emit=stats`) go next to Yosys's count, and Yosys's wall time; its
CPU time, peak memory and four most expensive passes (CPU seconds, from -d) go
to stderr and the JSON (wall time on a shared machine says little).

--calib adds the designs that calibrate registers and tables: the 16x16 tile
pipelined (jepac -O2, stage depth 2: the transistors beyond the
combinational tile, per register bit), a table (`lut`, 8-bit index,
16-bit codes: transistors per table bit), and variable multipliers (`mul` of
s8, s12 and s16 inputs: transistors per partial-product bit, the
var_mult_bits of --emit=stats; and the s16 one with --clocks-per-token=4).

Prints Markdown rows as it goes; with --out, also writes every measurement
as JSON (bench/yosys/fit.py fits the model from it).  Run from the
repository root with build/bin/jepac (or JEPAC=path); heavy: run with nice.
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

JEPAC = os.environ.get("JEPAC", "build/bin/jepac")
MKMAT = "test/verilog/Inputs/mkmat.py"


def bits_verilog(codes, n, acc):
    """One adder per set bit of |w|: y_r = sum over c, b of +-(x_c << b)."""
    out = ["module bits (input wire [%d:0] i_x, output wire [%d:0] o_y);" % (8 * n - 1, acc * n - 1)]
    for c in range(n):
        out.append("wire signed [%d:0] x%d = {{%d{i_x[%d]}}, i_x[%d:%d]};" % (acc - 1, c, acc - 8, 8 * c + 7, 8 * c + 7, 8 * c))
    for r in range(n):
        terms = []
        for c in range(n):
            w = codes[r * n + c]
            for b in range(4):
                if abs(w) >> b & 1:
                    terms.append(("- " if w < 0 else "+ ") + "(x%d <<< %d)" % (c, b))
        expr = " ".join(terms) if terms else "0"
        out.append("assign o_y[%d:%d] = %d'sd0 %s;" % (acc * (r + 1) - 1, acc * r, acc, expr))
    out.append("endmodule")
    return "\n".join(out) + "\n"


def synth(path, top):
    t0 = time.time()
    # dffunmap: flip-flops with an enable (--clocks-per-token) become a DFF and
    # a multiplexer, which stat -tech cmos counts (it does not count $_DFFE_*)
    log = subprocess.run(["nice", "yosys", "-d", "-p", "read_verilog %s; synth -flatten -top %s; dffunmap; "
                          "stat -tech cmos" % (path, top)],
                         capture_output=True, text=True, check=True).stdout
    cells = int(re.findall(r"Number of cells:\s+(\d+)", log)[-1])
    tr = int(re.findall(r"Estimated number of transistors:\s+(\d+)", log)[-1])
    passes = re.findall(r"^\s+\d+%\s+\d+ calls\s+([\d.]+) sec (\S+)", log, re.M)
    top = sorted(passes, key=lambda p: -float(p[0]))[:4]
    cpu = re.findall(r"CPU: user ([\d.]+)s system ([\d.]+)s, MEM: ([\d.]+) MB peak", log)
    spent = ", ".join("%s %.0f s" % (p[1], float(p[0])) for p in top)
    if cpu:
        spent = "cpu %.0f s, %.0f MB; %s" % (float(cpu[-1][0]) + float(cpu[-1][1]), float(cpu[-1][2]), spent)
    return cells, tr, time.time() - t0, spent


def digit_counts(path):
    """Digit-serial Verilog: serial adders (carry flip-flops) and delay-chain bits."""
    text = open(path).read()
    carries = 0
    for m in re.finditer(r"generate for \(gi = 0; gi < (\d+);[^\n]*\n(?:\t\t[^\n]*\n)*?\t\treg c;", text):
        carries += int(m.group(1))
    delay = sum(int(m.group(1)) + 1 for m in re.finditer(r"^\treg \[(\d+):0\] d\d+_\d+;", text, re.M))
    return {"serial_adders": carries, "delay_bits": delay}


def stats(args):
    out = subprocess.run([JEPAC, "--emit=stats"] + args, capture_output=True, text=True, check=True).stdout
    return json.loads(out)["totals"]


def tile(n, ways, rows):
    with tempfile.TemporaryDirectory() as d:
        jir = os.path.join(d, "m.jir")
        with open(jir, "w") as f:
            subprocess.run(["/usr/bin/python3", MKMAT, str(n), str(n), "q4", "8", str(n)], stdout=f, check=True)
        text = open(jir).read()
        codes = [int(v) for v in re.search(r"codes ([-0-9 \n]+)", text).group(1).split()]
        nnz = sum(1 for c in codes if c)
        acc = int(re.search(r"matvec s(\d+)", text).group(1))
        top = "mat%dx%d" % (n, n)
        st = stats(["-O2", "--pipeline=none", jir])
        designs = {
            "o2": ("jepac -O2", [JEPAC, "-O2", "--pipeline=none", "--emit=verilog", jir, "-o", os.path.join(d, "o2.v")], top),
            "o2r": ("jepac -O2 --adder=ripple", [JEPAC, "-O2", "--pipeline=none", "--adder=ripple", "--emit=verilog", jir,
                                                 "-o", os.path.join(d, "o2r.v")], top),
            "naive": ("naive `*`", [JEPAC, "-O0", "--emit=verilog", jir, "-o", os.path.join(d, "naive.v")], top),
            "bits": ("one adder per set bit", None, "bits"),
        }
        for way in ways:
            if re.fullmatch(r"d\d+", way):
                designs[way] = ("jepac -O2 --digit=%s" % way[1:],
                                [JEPAC, "-O2", "--pipeline=none", "--digit=" + way[1:], "--emit=verilog", jir,
                                 "-o", os.path.join(d, way + ".v")], top)
            label, cmd, t = designs[way]
            if cmd:
                subprocess.run(cmd, check=True)
            else:
                with open(os.path.join(d, "bits.v"), "w") as f:
                    f.write(bits_verilog(codes, n, acc))
            cells, tr, secs, spent = synth(os.path.join(d, way + ".v"), t)
            row = {"n": n, "way": way, "cells": cells, "transistors": tr, "nonzero": nnz, "seconds": round(secs, 1),
                   "yosys_passes": spent}
            if way in ("o2", "o2r"):
                row.update(fa_bits=st["fa_bits"], adders=st["adders"])
            elif way.startswith("d"):
                row.update(digit_counts(os.path.join(d, way + ".v")), fa_bits=st["fa_bits"], adders=st["adders"])
            rows.append(row)
            extra = "| %d | %.1f |" % (row["fa_bits"], tr / row["fa_bits"]) if "fa_bits" in row else "| | |"
            print("| %d | %s | %d | %d | %.1f %s %.0f s |" % (n, label, cells, tr, tr / nnz, extra, secs), flush=True)
            print("<!-- %d %s: %s -->" % (n, way, spent), file=sys.stderr, flush=True)


def lut_jir(bits, width, seed):
    rng = random.Random(seed)
    vals = [rng.randint(-(1 << (width - 1)), (1 << (width - 1)) - 1) for _ in range(1 << bits)]
    return ('module "tab"\ntensor @0 int [%d] "t" frac 0\n  codes %s\n%%x = input u%d "x", 0\n'
            '%%y = lut s%d @0, %%x\noutput "y", %%y, 0\n' % (1 << bits, " ".join(map(str, vals)), bits, width))


def calib(rows):
    with tempfile.TemporaryDirectory() as d:
        jir = os.path.join(d, "m.jir")
        with open(jir, "w") as f:
            subprocess.run(["/usr/bin/python3", MKMAT, "16", "16", "q4", "8", "16"], stdout=f, check=True)
        st = stats(["-O2", "--stage-depth=2", jir])
        subprocess.run([JEPAC, "-O2", "--stage-depth=2", "--emit=verilog", jir, "-o", os.path.join(d, "p.v")], check=True)
        cells, tr, secs, _ = synth(os.path.join(d, "p.v"), "mat16x16")
        rows.append({"n": 16, "way": "o2-pipelined", "cells": cells, "transistors": tr, "fa_bits": st["fa_bits"],
                     "register_bits": st["register_bits"], "latency": st["latency"], "seconds": round(secs, 1)})
        print("| 16 | jepac -O2, stage depth 2 | %d | %d | latency %d, %d register bits | %d fa_bits | %.0f s |"
              % (cells, tr, st["latency"], st["register_bits"], st["fa_bits"], secs), flush=True)
        tab = os.path.join(d, "t.jir")
        with open(tab, "w") as f:
            f.write(lut_jir(8, 16, 1))
        st = stats(["-O2", "--pipeline=none", tab])
        subprocess.run([JEPAC, "-O2", "--pipeline=none", "--emit=verilog", tab, "-o", os.path.join(d, "t.v")], check=True)
        cells, tr, secs, _ = synth(os.path.join(d, "t.v"), "tab")
        rows.append({"n": 8, "way": "lut", "cells": cells, "transistors": tr, "lut_bits": st["lut_bits"],
                     "seconds": round(secs, 1)})
        print("| lut 8 -> 16 bits | table | %d | %d | %d table bits | | %.0f s |" % (cells, tr, st["lut_bits"], secs), flush=True)
        # variable multipliers (mul of two s(w)-bit inputs, an s(2w) result), and the
        # 16-bit one time-shared 4 ways (--clocks-per-token=4): the multiplier term
        # D per partial-product bit (var_mult_bits) and the shared form's extras
        for w, lanes, cpt in ((8, 8, 1), (12, 8, 1), (16, 4, 1), (16, 4, 4)):
            mj = os.path.join(d, "m%d_%d.jir" % (w, cpt))
            with open(mj, "w") as f:
                f.write('module "mul"\n%%x = input s%dx%d "x", 0\n%%y = input s%dx%d "y", 0\n'
                        '%%m = mul s%dx%d %%x, %%y\noutput "z", %%m, 0\n' % (w, lanes, w, lanes, 2 * w, lanes))
            args = ["--passes=", "--pipeline=none", "--clocks-per-token=%d" % cpt, mj]
            st = stats(args)
            v = os.path.join(d, "m.v")
            subprocess.run([JEPAC, "--emit=verilog", "-o", v] + args, check=True)
            cells, tr, secs, _ = synth(v, "mul")
            rows.append({"n": w, "way": "mul" if cpt == 1 else "mul-shared", "cells": cells, "transistors": tr,
                         "lanes": lanes, "clocks_per_token": cpt, "var_mults": st["var_mults"],
                         "var_mult_bits": st["var_mult_bits"],
                         "hold_bits": st.get("shared_mul_hold_bits", 0), "mux_bits": st.get("shared_mul_mux_bits", 0),
                         "seconds": round(secs, 1)})
            print("| mul s%d x s%d, %d lanes, %d clocks per token | %d multipliers | %d | %d | %d product bits | | %.0f s |"
                  % (w, w, lanes, cpt, st["var_mults"], cells, tr, st["var_mult_bits"], secs), flush=True)


def main():
    ways, out, do_calib, sizes = ["o2", "o2r", "bits", "naive"], None, False, []
    for a in sys.argv[1:]:
        if a.startswith("--ways="):
            ways = a[7:].split(",")
        elif a.startswith("--out="):
            out = a[6:]
        elif a == "--calib":
            do_calib = True
        else:
            sizes.append(int(a))
    rows = []
    print("| N | way | cells | transistors | tr / nonzero weight | fa_bits | tr / fa_bit | yosys time |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes or ([] if do_calib else [16, 32, 64]):
        tile(n, ways, rows)
        if out:
            json.dump(rows, open(out, "w"), indent=1)
    if do_calib:
        calib(rows)
    if out:
        json.dump(rows, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
