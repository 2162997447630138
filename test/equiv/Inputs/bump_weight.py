"""bump_weight.py -- the control of an equivalence check: copies a .jir
with ONE weight code changed (the first code of the tensor whose name
contains NAME: +3, or -3 if that would leave the Q4 range).

usage: bump_weight.py NAME < IN.jir > OUT.jir
"""
import sys

name = sys.argv[1]
state = 0
done = False
for line in sys.stdin:
    if not done and line.startswith('tensor ') and name in line:
        state = 1
    elif state == 1 and line.startswith('  codes '):
        words = line.split()
        c = int(words[1])
        words[1] = str(c + 3 if c + 3 <= 7 else c - 3)
        line = '  ' + ' '.join(words) + '\n'
        state, done = 0, True
    sys.stdout.write(line)
if not done:
    sys.exit('bump_weight: no tensor named *%s* with codes' % name)
