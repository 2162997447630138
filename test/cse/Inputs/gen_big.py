# Writes a module for big.test (fixed seed): a 160 x 64 Q4 matrix (two
# 160 x 32 blocks: above the restart limit, so the one-run path with the
# depth-bounded row factoring), block scales times partial sums summed per
# row (vcmul + sum: the fused dot products), and a bias.
import random
r = random.Random(11)
R, C = 160, 64
nb = C // 32
q = [r.choice([0] + list(range(-8, 8))) for _ in range(R * C)]
for i in range(8):                      # a few near-duplicate rows
    q[(40 + i) * C:(41 + i) * C] = q[i * C:(i + 1) * C]
    q[(40 + i) * C + i] = r.randint(-8, 7)
s = [r.randint(-2047, 2047) for _ in range(R * nb)]
b = [r.randint(-5000, 5000) for _ in range(R)]
print('module "big"')
print('tensor @0 q4 [%d][%d] "q"' % (R, C))
print('  scales ' + ' '.join(['1'] * (R * nb)))
print('  codes ' + ' '.join(map(str, q)))
print('tensor @1 int [%d] "s" frac 0' % (R * nb))
print('  codes ' + ' '.join(map(str, s)))
print('tensor @2 int [%d] "b" frac 0' % R)
print('  codes ' + ' '.join(map(str, b)))
print('%%0 = input s8x%d "x", 0' % C)
print('%%1 = bmatvec s16x%d @0, %%0' % (R * nb))
print('%%2 = vcmul s28x%d @1, %%1' % (R * nb))
print('%%3 = sum s29x%d %%2, %d' % (R, nb))
print('%%4 = vconst s14x%d @2' % R)
print('%%5 = add s30x%d %%3, %%4' % R)
print('output "y", %5, 0')
