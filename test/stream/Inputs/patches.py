"""Turns encoder input windows (one image [C][S][S] per line, real values) into
the serial encoder's window: token 0 (the CLS slot, zeros), then one patch
[C][P][P] per token, patches in row-major order.
Usage: patches.py C S P < images.txt > patches.txt"""
import sys

C, S, P = (int(a) for a in sys.argv[1:4])
n = S // P
for line in sys.stdin:
    v = line.split()
    if not v:
        continue
    out = ["0"] * (C * P * P)
    for py in range(n):
        for px in range(n):
            for c in range(C):
                for ky in range(P):
                    for kx in range(P):
                        out.append(v[(c * S + py * P + ky) * S + px * P + kx])
    print(" ".join(out))
