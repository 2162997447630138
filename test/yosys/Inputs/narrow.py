#!/usr/bin/python3
"""narrow.py FILE.v BITS -- cuts BITS bits off one adder of jepac's Verilog.

Takes the output bus of the region module (the last `assign nJ = {...};`
whose top-level concatenation has two or more parts) and its first part that
is a whole wire `nK` or a sign-extended one `{nK[T], nK}`; declares nK BITS
bits narrower (so the sum assigned to it wraps) and sign-extends it from its
new top bit, keeping the lane width.  Writes the result on stdout; exits 1 if
there is no such part (the test then fails).
"""
import re
import sys


def parts(s):
    """Top-level comma-separated parts of a concatenation's inside."""
    out, depth, cur = [], 0, ""
    for ch in s:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return out + [cur.strip()]


text = open(sys.argv[1]).read()
cut = int(sys.argv[2])
buses = [m for m in re.finditer(r"assign n\d+ = \{(.*)\};", text) if len(parts(m.group(1))) >= 2]
if not buses:
    sys.exit("narrow.py: no output bus")
bus = buses[-1]
for p in parts(bus.group(1)):
    m = re.fullmatch(r"(n\d+)|\{(n\d+)\[\d+\], \2\}", p)
    if m:
        break
else:
    sys.exit("narrow.py: no whole or sign-extended wire in the bus")
name = m.group(1) or m.group(2)
d = re.search(r"wire \[(\d+):0\] %s;" % name, text)
top = int(d.group(1))
new = "{{%d{%s[%d]}}, %s}" % (cut, name, top - cut, name)
if m.group(2):
    new = "{{%d{%s[%d]}}, %s}" % (cut + 1, name, top - cut, name)
line = bus.group(0).replace(p, new, 1)
text = text.replace(bus.group(0), line).replace(d.group(0), "wire [%d:0] %s;" % (top - cut, name))
sys.stdout.write(text)
