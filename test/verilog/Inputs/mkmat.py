#!/usr/bin/python3
"""mkmat.py ROWS COLS KIND INBITS SEED [DENSITY] [+ ROWS COLS ...] -- a .jir on stdout.

y = W x with W a ROWS x COLS tensor of KIND (q4: codes -8..7, i8: -128..127),
x an s<INBITS> vector, y wide enough never to wrap.  DENSITY (default 1)
is the fraction of non-zero codes.  Deterministic for a given SEED.
Several specs joined by "+" make one module "tiles" of independent matrices
(tensor @i "wi", region "mati", ports "xi" and "yi"), so that one simulator
build checks several shapes.
"""
import math
import random
import sys


def matrix(spec, i, multi):
    rows, cols, kind, inbits, seed = int(spec[0]), int(spec[1]), spec[2], int(spec[3]), int(spec[4])
    density = float(spec[5]) if len(spec) > 5 else 1.0
    rng = random.Random(seed)
    lo, hi, wbits = (-8, 7, 4) if kind == "q4" else (-128, 127, 8)
    codes = [rng.randint(lo, hi) if rng.random() < density else 0 for _ in range(rows * cols)]
    acc = inbits + wbits + max(1, math.ceil(math.log2(cols)))
    sfx = str(i) if multi else ""
    nscales = rows * ((cols + 31) // 32) if kind == "q4" else rows
    head = ['tensor @%d %s [%d][%d] "w%s"' % (i, kind, rows, cols, sfx),
            "  scales " + " ".join(["1"] * nscales),
            "  codes " + " ".join(str(c) for c in codes)]
    body = ['region "mat%s"' % sfx,
            '%%x%s = input s%dx%d "x%s", 0' % (sfx, inbits, cols, sfx),
            '%%y%s = matvec s%dx%d @%d, %%x%s' % (sfx, acc, rows, i, sfx)]
    return head, body, 'output "y%s", %%y%s, 0' % (sfx, sfx)


specs, cur = [], []
for a in sys.argv[1:] + ["+"]:
    if a == "+":
        specs.append(cur)
        cur = []
    else:
        cur.append(a)
multi = len(specs) > 1
mats = [matrix(s, i, multi) for i, s in enumerate(specs)]
print('module "%s"' % ("tiles" if multi else "mat%sx%s" % (specs[0][0], specs[0][1])))
for head, _, _ in mats:
    print("\n".join(head))
for _, body, _ in mats:
    print("\n".join(body))
for _, _, out in mats:
    print(out)
