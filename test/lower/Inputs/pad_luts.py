#!/usr/bin/python3
"""Pads every short lut table of a .jir module to 2^width(index) rows.

usage: pad_luts.py IN.jir OUT.jir

An index past a short table's end reads its last row (docs/ir.md), so the
padded module (each table followed by copies of its last row) must compute
the same values.  Prints "padded N of M tables, R rows added".
"""
import re
import sys


def main():
    lines = open(sys.argv[1]).read().split('\n')
    width = {}     # value name -> width
    index = {}     # tensor id -> index width of its luts
    for ln in lines:
        m = re.match(r'(%\S+) = (\w[\w.]*) [su](\d+)', ln)
        if m:
            width[m.group(1)] = int(m.group(3))
        m = re.match(r'%\S+ = lut \S+ @(\d+), (%\S+)$', ln)
        if m:
            index[m.group(1)] = width[m.group(2)]
    out, i, padded, added = [], 0, 0, 0
    while i < len(lines):
        ln = lines[i]
        m = re.match(r'tensor @(\d+) int \[(\d+)\](.*)$', ln)
        if not m or m.group(1) not in index:
            out.append(ln)
            i += 1
            continue
        codes = []
        j = i + 1
        while j < len(lines) and lines[j].startswith('  '):
            codes += lines[j].split()[1 if lines[j].split()[0] == 'codes' else 0:]
            j += 1
        full = 1 << index[m.group(1)]
        if len(codes) < full:
            padded += 1
            added += full - len(codes)
            codes += [codes[-1]] * (full - len(codes))
        out.append('tensor @%s int [%d]%s' % (m.group(1), len(codes), m.group(3)))
        out.append('  codes ' + ' '.join(codes))
        i = j
    open(sys.argv[2], 'w').write('\n'.join(out))
    print('padded %d of %d tables, %d rows added' % (padded, len(index), added))


main()
