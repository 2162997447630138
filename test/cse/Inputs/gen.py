# Writes a module with random constant matrices (fixed seed) for random.test.
import random
r = random.Random(7)
R, C = 24, 70
nb = (C + 31) // 32
q = [r.choice([0, 0] + list(range(-8, 8))) for _ in range(R * C)]
w = [r.randint(-128, 127) for _ in range(6 * 5)]
s = [r.randint(-3000, 3000) for _ in range(R * nb)]
print('module "rnd"')
print('tensor @0 q4 [%d][%d] "q"' % (R, C))
print('  scales ' + ' '.join(['1'] * (R * nb)))
print('  codes ' + ' '.join(map(str, q)))
print('tensor @1 int [6][5] "w" frac 0')
print('  codes ' + ' '.join(map(str, w)))
print('tensor @2 int [%d] "s" frac 0' % (R * nb))
print('  codes ' + ' '.join(map(str, s)))
print('%%0 = input s8x%d "x", 0' % C)
print('%1 = input u7x10 "z", 0')
print('%%2 = bmatvec s16x%d @0, %%0' % (R * nb))
print('%%3 = vcmul s20x%d @2, %%2' % (R * nb))
print('%4 = matvec s14x12 @1, %1')
print('%5 = cmul s9x10 %1, -11')
print('output "q", %3, 0')
print('output "m", %4, 0')
print('output "c", %5, 0')
