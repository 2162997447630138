#!/usr/bin/python3
"""Synthetic .jir graphs for the scaling benchmark (bench/scaling/run.sh).

gen.py SHAPE ORDER N [SEED] > out.jir
  SHAPE  deep   one chain of N adds (operand i-1 plus the input)
         wide   a random DAG of N adds over 64 inputs, each node adding two
                of the 64 most recent values (bounded depth per window),
                64 outputs
         ports  N/3 input ports, each added to itself and sent to its own
                output port (2N/3 ports in all)
  ORDER  fwd    operands before users (the order jepac writes)
         rev    the node lines reversed: every user before its operands
         rand   the node lines shuffled (seeded)
Port declaration order is kept in every ORDER (it is the interface).
"""
import random
import sys


def nodes(shape, n, rng):
    """(input lines, node lines, output lines) in forward order."""
    ins, body, outs = [], [], []
    if shape == "deep":
        ins.append('%x = input s32 "x", 0')
        body.append("%a0 = add s32 %x, %x")
        for i in range(1, n):
            body.append(f"%a{i} = add s32 %a{i-1}, %x")
        outs.append(f'output "y", %a{n-1}, 0')
    elif shape == "wide":
        k = 64
        for j in range(k):
            ins.append(f'%x{j} = input s32 "x{j}", 0')
        names = [f"%x{j}" for j in range(k)]
        for i in range(n):
            a, b = rng.choice(names[-k:]), rng.choice(names[-k:])
            body.append(f"%a{i} = add s32 {a}, {b}")
            names.append(f"%a{i}")
        for j in range(k):
            outs.append(f'output "y{j}", {names[-1 - j]}, 0')
    elif shape == "ports":
        p = max(1, n // 3)
        for j in range(p):
            ins.append(f'%x{j} = input s8 "x{j}", 0')
            body.append(f"%a{j} = add s9 %x{j}, %x{j}")
            outs.append(f'output "y{j}", %a{j}, 0')
    else:
        sys.exit(f"gen.py: unknown shape {shape!r}")
    return ins, body, outs


def main():
    shape, order, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    ins, body, outs = nodes(shape, n, rng)
    if order == "rev":
        body.reverse()
    elif order == "rand":
        rng.shuffle(body)
    elif order != "fwd":
        sys.exit(f"gen.py: unknown order {order!r}")
    out = sys.stdout
    out.write(f'module "{shape}_{order}_{n}"\n\n')
    for part in (ins, body, outs):
        out.write("\n".join(part))
        out.write("\n")


if __name__ == "__main__":
    main()
