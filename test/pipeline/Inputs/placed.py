# placed.py < LOG: exits 0 if --stats printed "pipeline: placement: B
# register bits (ASAP schedule: A)" with B < A, else 1.
import re
import sys
m = re.search(r'pipeline: placement: (\d+) register bits \(ASAP schedule: (\d+)\)', sys.stdin.read())
ok = m is not None and int(m.group(1)) < int(m.group(2))
print('placed below ASAP' if ok else 'no placement below ASAP')
sys.exit(0 if ok else 1)
