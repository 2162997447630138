#!/usr/bin/python3
"""regs.py -- flip-flop bits of a digit-serial Verilog design (jepac --digit),
by kind: delay chains (dR_K), word holds (nR_wS), deserializer shift
registers and holds (sr, h in g_nR_wS blocks), the rest (carries, strobes,
token buffers, sign holds...).  A `reg` inside a generate loop counts once per
lane.  Usage: regs.py FILE.v
"""
import re
import sys

KINDS = ("delay", "hold", "deser", "other")


def count(path):
    tot = dict.fromkeys(KINDS, 0)
    lanes, block = 1, ""
    gen = re.compile(r"\tgenerate for \(gi = 0; gi < (\d+); gi = gi \+ 1\) begin : (\w+)")
    reg = re.compile(r"\s*reg (?:\[(\d+):0\] )?(\w+);")
    for line in open(path):
        m = gen.match(line)
        if m:
            lanes, block = int(m.group(1)), m.group(2)
            continue
        if line.startswith("\tend endgenerate"):
            lanes, block = 1, ""
            continue
        m = reg.match(line)
        if not m or line.startswith("module") or "_tb" in block:
            continue
        bits = (int(m.group(1)) + 1 if m.group(1) else 1) * lanes
        name = m.group(2)
        if block.startswith("g_n") and "_w" in block:
            kind = "deser"
        elif not block and re.fullmatch(r"d\d+_\d+", name):
            kind = "delay"
        elif not block and re.fullmatch(r"n\d+_w\d+", name):
            kind = "hold"
        else:
            kind = "other"
        tot[kind] += bits
    return tot


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: regs.py FILE.v")
    t = count(sys.argv[1])
    print(" ".join("%s %d" % (k, t[k]) for k in KINDS), "total", sum(t.values()))


if __name__ == "__main__":
    main()
