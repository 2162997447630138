# Writes a 16 x 16 matvec with entries 129..255 (da4ml's Table 2 setup,
# fixed seed) for depth.test: every row has ~64 CSD digits (minimum depth 6).
import random
r = random.Random(3)
N = 16
w = [int(r.random() * 127) + 129 for _ in range(N * N)]
print('module "u8"')
print('tensor @0 int [%d][%d] "w" frac 0' % (N, N))
print('  codes ' + ' '.join(map(str, w)))
print('%%0 = input s8x%d "x", 0' % N)
print('%%1 = matvec s20x%d @0, %%0' % N)
print('output "y", %1, 0')
