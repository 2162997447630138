#!/usr/bin/python3
"""huffman.py N SPAN SEED OUT: one adder tree of N signed terms for balance.

The terms are 8 input ports (adder depth 0) and nodes p1..pSPAN of a chain
p(k+1) = pk + pk (depth k; every pk has two uses or more, so it stays a
leaf).  The tree adds (or subtracts) them in a chain.  Writes OUT.jir, and
OUT.expect / OUT.wrong: the line balance must log (depth of the chain ->
depth of the Huffman pairing of the terms by (depth, order), computed here
with a heap) and the same with the new depth off by one (a control).
"""
import heapq
import random
import sys

n, span, seed, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = random.Random(seed)
lines = [f'module "huffman_{n}_{span}"']
lines += [f'%x{i} = input s32 "x{i}", 0' for i in range(8)]
lines.append("%p1 = add s32 %x0, %x1")
lines += [f"%p{k + 1} = add s32 %p{k}, %p{k}" for k in range(1, span)]
terms = []   # (name, depth)
for i in range(n):
    if rng.random() < 0.3:
        terms.append((f"%x{rng.randrange(8)}", 0))
    else:
        k = rng.randint(1, span)
        terms.append((f"%p{k}", k))
depth = max(terms[0][1], terms[1][1]) + 1
lines.append(f"%a1 = add s32 {terms[0][0]}, {terms[1][0]}")
for i in range(2, n):
    op = "sub" if rng.random() < 0.2 else "add"
    lines.append(f"%a{i} = {op} s32 %a{i - 1}, {terms[i][0]}")
    depth = max(depth, terms[i][1]) + 1
lines.append(f'output "y", %a{n - 1}, 0')
lines.append(f'output "p", %p{span}, 0')
heap = [(d, i) for i, (_, d) in enumerate(terms)]
heapq.heapify(heap)
order = n
while len(heap) > 1:
    a, b = heapq.heappop(heap), heapq.heappop(heap)
    heapq.heappush(heap, (max(a[0], b[0]) + 1, order))
    order += 1
new = heap[0][0]
with open(out + ".jir", "w") as f:
    f.write("\n".join(lines) + "\n")
with open(out + ".expect", "w") as f:
    f.write(f"CHECK: balance: 1 trees rebuilt, summed depth {depth} -> {new}\n")
with open(out + ".wrong", "w") as f:
    f.write(f"CHECK: balance: 1 trees rebuilt, summed depth {depth} -> {new + 1}\n")
