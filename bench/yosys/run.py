#!/usr/bin/python3
"""bench/yosys/run.py [N ...] -- synthesize one INT4 x INT8 tile three ways.

For each N (default 16 32 64): a random N x N Q4 matrix (codes -8..7, seed N)
times an s8 vector, written
  o2     jepac -O2 --pipeline=none (CSD shift/add with shared sub-sums)
  bits   one adder per set weight bit (the seed prototype's method), written here
  naive  jepac -O0: a sum of constant products with `*`, left to Yosys
and synthesized by `yosys synth -flatten; stat -tech cmos`.  Prints one
Markdown table row per (N, way): cells, transistors, transistors per nonzero
weight, and for o2 jepac's fa_bits estimate and transistors per fa_bit.
Run from the repository root with build/bin/jepac (or JEPAC=path).
"""
import os
import random
import re
import subprocess
import sys
import tempfile

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
    log = subprocess.run(["yosys", "-p", "read_verilog %s; synth -flatten -top %s; stat -tech cmos" % (path, top)],
                         capture_output=True, text=True, check=True).stdout
    cells = int(re.findall(r"Number of cells:\s+(\d+)", log)[-1])
    tr = int(re.findall(r"Estimated number of transistors:\s+(\d+)", log)[-1])
    return cells, tr


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [16, 32, 64]
    print("| N | way | cells | transistors | tr / nonzero weight | fa_bits | tr / fa_bit |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as d:
            jir = os.path.join(d, "m.jir")
            with open(jir, "w") as f:
                subprocess.run(["/usr/bin/python3", MKMAT, str(n), str(n), "q4", "8", str(n)], stdout=f, check=True)
            text = open(jir).read()
            codes = [int(v) for v in re.search(r"codes ([-0-9 \n]+)", text).group(1).split()]
            nnz = sum(1 for c in codes if c)
            acc = int(re.search(r"matvec s(\d+)", text).group(1))
            top = "mat%dx%d" % (n, n)
            st = subprocess.run([JEPAC, "-O2", "--pipeline=none", "--stats", "--emit=verilog", jir, "-o",
                                 os.path.join(d, "o2.v")], capture_output=True, text=True, check=True).stderr
            fa = int(re.search(r"fa_bits (\d+)", st).group(1))
            subprocess.run([JEPAC, "-O0", "--emit=verilog", jir, "-o", os.path.join(d, "naive.v")], check=True)
            with open(os.path.join(d, "bits.v"), "w") as f:
                f.write(bits_verilog(codes, n, acc))
            for way, path, t in (("jepac -O2", "o2.v", top), ("one adder per set bit", "bits.v", "bits"),
                                 ("naive `*`", "naive.v", top)):
                cells, tr = synth(os.path.join(d, path), t)
                extra = "| %d | %.1f |" % (fa, tr / fa) if way == "jepac -O2" else "| | |"
                print("| %d | %s | %d | %d | %.1f %s" % (n, way, cells, tr, tr / nnz, extra), flush=True)


if __name__ == "__main__":
    main()
