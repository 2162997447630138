# Writes a module for wide.test (fixed seed): an R x C matrix of 12-bit
# integer codes, Gaussian-ish like the float-weight layers of an encoder
# after lowering (sd 480, few zeros).  Its greedy work (rows * T^2 / 2 for T
# CSD digits per row) is above -O2's whole-matrix limit (2^23) and below
# -O3's (2^26).
import random
import sys
R, C = (int(a) for a in sys.argv[1:3])
r = random.Random(12)
w = []
for _ in range(R * C):
    c = round(sum(r.random() for _ in range(4)) * 1.732 * 480 - 2 * 1.732 * 480)
    w.append(max(-2047, min(2047, c)))
print('module "w12"')
print('tensor @0 int [%d][%d] "w" frac 0' % (R, C))
print('  codes ' + ' '.join(map(str, w)))
print('%%0 = input s8x%d "x", 0' % C)
print('%%1 = matvec s32x%d @0, %%0' % R)
print('output "y", %1, 0')
