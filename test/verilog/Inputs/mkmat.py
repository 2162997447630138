#!/usr/bin/python3
"""mkmat.py ROWS COLS KIND INBITS SEED [DENSITY] -- a one-matrix .jir on stdout.

y = W x with W a ROWS x COLS tensor of KIND (q4: codes -8..7, i8: -128..127),
x an s<INBITS> vector, y wide enough never to wrap.  DENSITY (default 1)
is the fraction of non-zero codes.  Deterministic for a given SEED.
"""
import math
import random
import sys

rows, cols, kind, inbits, seed = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
                                  int(sys.argv[4]), int(sys.argv[5]))
density = float(sys.argv[6]) if len(sys.argv) > 6 else 1.0
rng = random.Random(seed)
lo, hi, wbits = (-8, 7, 4) if kind == "q4" else (-128, 127, 8)
codes = [rng.randint(lo, hi) if rng.random() < density else 0 for _ in range(rows * cols)]
acc = inbits + wbits + max(1, math.ceil(math.log2(cols)))
print('module "mat%dx%d"' % (rows, cols))
print('tensor @0 %s [%d][%d] "w"' % (kind, rows, cols))
nscales = rows * ((cols + 31) // 32) if kind == "q4" else rows
print("  scales " + " ".join(["1"] * nscales))
print("  codes " + " ".join(str(c) for c in codes))
print('region "mat"')
print('%%x = input s%dx%d "x", 0' % (inbits, cols))
print('%%y = matvec s%dx%d @0, %%x' % (acc, rows))
print('output "y", %y, 0')
