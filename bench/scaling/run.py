#!/usr/bin/python3
"""Scaling benchmark: every pass and backend on synthetic graphs.

  bench/scaling/run.py [--bin build/bin] [--sizes 10000,100000,1000000]
                       [--shapes deep,wide,ports] [--orders fwd,rev,rand]
                       [--reps 1] [--extra 0] [--work DIR]

For each graph (gen.py SHAPE ORDER N) it runs, once per pass P,
`jepac --passes=P --time-passes --emit=stats` and reads P's CPU time (wall
time is noisy on a shared machine), and once per backend E, `jepac --passes=
--time-passes --emit=E -o /dev/null` and reads the emit time ("load" is the
.jir parser).  It prints the times and, per pass and backend, the ratio
time(largest N) / time(next N) for every graph and the worst one: 10 is
linear, ~13 is n log n; above LIMIT (15) is a bug.  Times under 2 ms at the
smaller size are too noisy for a ratio ("-").

Every time is the minimum over --reps rounds, and the rounds are interleaved:
a round runs every row once at every size of the graph (sizes in rising
order in even rounds, falling in odd ones), so both ends of a ratio are
measured in the same spells of machine state.  That matters on this virtual
machine: the first touch of fresh memory costs 20-70x a rewrite of it, and
by which free pages the kernel hands out (2 MB pages the host took back, or
not) the same run of one binary moves by 2x (docs/benchmarks.md,
bench/scaling, fourth round).  Below the largest size a row whose first run
took under 20 ms runs ceil(10 / reps) times per round (a time of a few ms is
read to 0.1 ms, and one slow run moves its ratio by half).  A cell still
above LIMIT after the rounds gets --extra more rounds of that row at both
sizes (its ratio before them is printed), so one unlucky spell does not
decide it; the table shows the minimum over all the rounds.
Exit status 1 if some ratio exceeds LIMIT.
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

PASSES = ["fold", "dce", "zero-elim", "strength-reduce", "cse", "width", "balance", "pipeline",
          "cleanup", "cleanup-balance"]
BACKENDS = ["verilog", "c", "dot", "stats", "ir"]
ROWS = PASSES + ["emit=" + e for e in BACKENDS] + ["load (parse)"]
LIMIT = 15.0
MIN_T = 0.002
SHORT_T = 0.020   # runs shorter than this are repeated (SHORT_REPS in all)
SHORT_REPS = 10


def timed(jepac, args, what):
    """CPU seconds of the `time: WHAT` line of one jepac run."""
    r = subprocess.run([jepac, "--time-passes"] + args, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"run.py: jepac {' '.join(args)} failed:\n{r.stderr}")
    m = re.search(r"^time: %s\s+[0-9.]+ s wall\s+([0-9.]+) s cpu" % re.escape(what), r.stderr, re.M)
    if not m:
        sys.exit(f"run.py: no 'time: {what}' line in:\n{r.stderr}")
    return float(m.group(1))


def row_run(row, path):
    """(jepac arguments, name of the time line) of ROW on the graph PATH."""
    if row in PASSES:
        return [f"--passes={row}", "--emit=stats", "-o", "/dev/null", path], row
    if row.startswith("emit="):
        return ["--passes=", f"--{row}", "-o", "/dev/null", path], "emit"
    return ["--passes=", "--emit=stats", "-o", "/dev/null", path], "load"


def ratio(t, row, big, small):
    """time(big) / time(small) of ROW, or None under the floor."""
    ts = min(t[(small, row)])
    return None if ts < MIN_T else min(t[(big, row)]) / ts


def rounds(jepac, paths, sizes, rows, nrounds, reps, t):
    """Add nrounds interleaved rounds of ROWS at every size to t[(n, row)]."""
    for k in range(nrounds):
        for n in (sizes if k % 2 == 0 else sizes[::-1]):
            for row in rows:
                args, what = row_run(row, paths[n])
                got = t.setdefault((n, row), [])
                got.append(timed(jepac, args, what))
                if n != sizes[-1] and got[0] < SHORT_T:
                    # a short row below the largest size sets a ratio's
                    # denominator: SHORT_REPS runs at least over the rounds
                    got += [timed(jepac, args, what)
                            for _ in range(math.ceil(SHORT_REPS / reps) - 1)]


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--bin", default=os.path.join(here, "..", "..", "build", "bin"))
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--shapes", default="deep,wide,ports")
    ap.add_argument("--orders", default="fwd,rev,rand")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--extra", type=int, default=0)
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    jepac = os.path.join(a.bin, "jepac")
    sizes = sorted(int(s) for s in a.sizes.split(","))
    if len(sizes) < 2 or a.reps < 1 or a.extra < 0:
        sys.exit("run.py: two sizes or more, --reps 1 or more, --extra 0 or more")
    big, small = sizes[-1], sizes[-2]
    work = a.work or tempfile.mkdtemp(prefix="jepac-scaling-")
    os.makedirs(work, exist_ok=True)
    graphs = [(s, o) for s in a.shapes.split(",") for o in a.orders.split(",")]
    times = {}
    for shape, order in graphs:
        paths = {}
        for n in sizes:
            paths[n] = os.path.join(work, f"{shape}_{order}_{n}.jir")
            with open(paths[n], "w") as f:
                subprocess.run([sys.executable, os.path.join(here, "gen.py"), shape, order,
                                str(n)], stdout=f, check=True)
        t = {}
        rounds(jepac, paths, sizes, ROWS, a.reps, a.reps, t)
        over = [row for row in ROWS if (ratio(t, row, big, small) or 0) > LIMIT]
        if over and a.extra:
            print(f"# {shape} {order}: {a.extra} more rounds of " + ", ".join(
                f"{row} ({ratio(t, row, big, small):.1f})" for row in over), flush=True)
            rounds(jepac, paths, [small, big], over, a.extra, a.reps, t)
        for n in sizes:
            os.unlink(paths[n])
            times[(shape, order, n)] = {row: min(t[(n, row)]) for row in ROWS}
            print(f"# {shape} {order} {n}: " + " ".join(
                f"{k}={v:.4f}" for k, v in times[(shape, order, n)].items()), flush=True)
    cols = [f"{s}/{o}" for s, o in graphs]
    print(f"\nratio time(N={big}) / time(N={small}); worst over the graphs; "
          f"t = seconds at N={big}")
    print("| pass / backend | " + " | ".join(cols) + " | worst | max t |")
    print("|---" * (len(cols) + 3) + "|")
    bad = 0
    for row in ROWS:
        cells, worst, tmax = [], 0.0, 0.0
        for s, o in graphs:
            tb, ts = times[(s, o, big)][row], times[(s, o, small)][row]
            tmax = max(tmax, tb)
            if ts < MIN_T:
                cells.append("-")
                continue
            r = tb / ts
            worst = max(worst, r)
            cells.append(f"{r:.1f}")
        bad += worst > LIMIT
        print(f"| {row} | " + " | ".join(cells) + f" | {worst:.1f} | {tmax:.2f} |")
    print(f"\n{bad} rows above the limit {LIMIT}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
