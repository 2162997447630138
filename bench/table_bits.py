#!/usr/bin/python3
"""Table bits of a design per nonlinear function.

usage: table_bits.py FILE.jir

Reads a module's text form (`jepac --passes=lower,width --emit=ir ... -o
FILE.jir`: the tables and their entry widths are final after these two passes;
on the pusht tops the total equals `jepac -O2 --emit=stats`'s lut_bits) and
prints, per table tensor name (lower.N.FUNC) and per function, the lut lanes,
the table's rows and entry widths and its bits (lanes x rows x width), then
the total.
"""
import collections
import re
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = {}
    per = collections.defaultdict(lambda: [0, 0, 0, set()])
    with open(sys.argv[1]) as f:
        for line in f:
            if line.startswith('tensor @'):
                m = re.match(r'tensor @(\d+) \S+ \[(\d+)\](?:\[(\d+)\])? "([^"]*)"', line)
                if m:
                    rows[m.group(1)] = (int(m.group(2)) * int(m.group(3) or 1), m.group(4))
            elif ' = lut ' in line:
                m = re.search(r'= lut [su](\d+)(?:x(\d+))?\S* @(\d+),', line)
                width, lanes, tid = int(m.group(1)), int(m.group(2) or 1), m.group(3)
                n, name = rows[tid]
                p = per[name]
                p[0] += lanes
                p[1] += lanes * n * width
                p[2] = n
                p[3].add(width)
    func = collections.Counter()
    for name, (lanes, bits, n, widths) in sorted(per.items(), key=lambda kv: -kv[1][1]):
        print('%-24s lanes %9d rows %6d width %-8s bits %12d'
              % (name, lanes, n, ','.join(map(str, sorted(widths))), bits))
        func[name.split('.')[-1]] += bits
    for name, bits in func.most_common():
        print('%-24s bits %12d' % (name, bits))
    print('total %d' % sum(func.values()))


main()
