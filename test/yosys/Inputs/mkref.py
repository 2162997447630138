#!/usr/bin/python3
"""mkref.py FILE.jir -- a reference Verilog module for mkmat.py's matrix.

Reads the one-matrix .jir written by test/verilog/Inputs/mkmat.py (all scales
1, so y = W x exactly) and writes, independently of jepac, a module with
jepac's ports (docs/hardware.md: clk, rst, in_valid, i_x, out_valid, o_y; lane
i of a bus in bits [i*W +: W], two's complement) whose output lanes are
written as signed sums of `x[c] * w[r][c]`, for tools/lincheck.py.
"""
import re
import sys

text = open(sys.argv[1]).read()
kind, rows, cols = re.search(r"tensor @0 (\w+) \[(\d+)\]\[(\d+)\]", text).groups()
rows, cols = int(rows), int(cols)
if set(re.search(r"scales ([-\d ]+)", text).group(1).split()) != {"1"}:
    sys.exit("mkref.py: scales must all be 1")
codes = [int(c) for c in re.search(r"codes ([-\d ]+)", text).group(1).split()]
inbits = int(re.search(r"input s(\d+)x%d" % cols, text).group(1))
acc = int(re.search(r"matvec s(\d+)x%d" % rows, text).group(1))
assert len(codes) == rows * cols
print("module ref (")
print("\tinput wire clk, input wire rst, input wire in_valid,")
print("\tinput wire [%d:0] i_x," % (inbits * cols - 1))
print("\toutput wire out_valid,")
print("\toutput wire [%d:0] o_y" % (acc * rows - 1))
print(");")
print("\tassign out_valid = in_valid;")
for c in range(cols):
    print("\twire signed [%d:0] x%d = i_x[%d +: %d];" % (inbits - 1, c, c * inbits, inbits))
for r in range(rows):
    terms = ["x%d * %d'sd%d" % (c, acc, w) if w >= 0 else "x%d * -%d'sd%d" % (c, acc, -w)
             for c, w in enumerate(codes[r * cols:(r + 1) * cols]) if w]
    print("\twire signed [%d:0] y%d = %s;" % (acc - 1, r, " + ".join(terms) or "0"))
    print("\tassign o_y[%d +: %d] = y%d;" % (r * acc, acc, r))
print("endmodule")
