# fewer.py A.log B.log: the adders of the first "cse:   matvec" line of each
# --verbose log; exits 1 unless A's are fewer than B's.
import re
import sys
n = []
for path in sys.argv[1:3]:
    with open(path) as f:
        m = re.search(r'^cse:   matvec .*?: (\d+) adders', f.read(), re.M)
    if not m:
        sys.exit('fewer: no cse matvec line in %s' % path)
    n.append(int(m.group(1)))
print('fewer adders: %d < %d' % tuple(n) if n[0] < n[1] else 'not fewer: %d >= %d' % tuple(n))
sys.exit(0 if n[0] < n[1] else 1)
