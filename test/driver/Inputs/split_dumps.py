"""split_dumps.py -- splits a --print-after-all stderr log into one file per
"; after PASS" dump: PREFIX.N.jir (N = 0, 1, ...), and the last one again
as PREFIX.last.jir.  Fails if there is none
or if a dump is empty.

usage: split_dumps.py LOG PREFIX
"""
import sys

log, prefix = sys.argv[1], sys.argv[2]
dumps, cur = [], None
for line in open(log):
    if line.startswith('; after '):
        cur = []
        dumps.append(cur)
    elif cur is not None:
        cur.append(line)
if not dumps or any(not d for d in dumps):
    sys.exit('split_dumps: %d dumps, some empty' % len(dumps))
for i, d in enumerate(dumps):
    with open('%s.%d.jir' % (prefix, i), 'w') as f:
        f.writelines(d)
with open('%s.last.jir' % prefix, 'w') as f:
    f.writelines(dumps[-1])
print('%d dumps' % len(dumps))
