#!/usr/bin/python3
"""Scaling benchmark: every pass and backend on synthetic graphs.

  bench/scaling/run.py [--bin build/bin] [--sizes 10000,100000,1000000]
                       [--shapes deep,wide,ports] [--orders fwd,rev,rand]
                       [--reps 1] [--work DIR]

For each graph (gen.py SHAPE ORDER N) it runs, once per pass P,
`jepac --passes=P --time-passes --emit=stats` and reads P's CPU time (wall time is noisy on a shared machine), and
once per backend E, `jepac --passes= --time-passes --emit=E -o /dev/null` and
reads the emit time ("load" is the .jir parser).  It prints the times and,
per pass and backend, the ratio time(largest N) / time(next N) for every
graph and the worst one: 10 is linear, ~13 is n log n; above LIMIT (15) is a
bug.  Times under 2 ms at the smaller size are too noisy for a ratio ("-");
below the largest size, a run under 20 ms is repeated 10 times (at least),
and the minimum kept.
Exit status 1 if some ratio exceeds LIMIT.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

PASSES = ["fold", "dce", "zero-elim", "strength-reduce", "cse", "width", "balance", "pipeline",
          "cleanup", "cleanup-balance"]
BACKENDS = ["verilog", "c", "dot", "stats", "ir"]
LIMIT = 15.0
MIN_T = 0.002
SHORT_T = 0.020   # runs shorter than this are repeated SHORT_REPS times
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


def best(jepac, args, what, reps):
    """Minimum CPU seconds over reps runs, or over SHORT_REPS when the first
    run took under SHORT_T (reps < 0: only reps): a time of a few ms is read
    to 1 ms, and one slow run (a descheduling, a cold cache) moves its ratio
    by half."""
    t = [timed(jepac, args, what)]
    n = max(reps, SHORT_REPS) if t[0] < SHORT_T and reps > 0 else abs(reps)
    t += [timed(jepac, args, what) for _ in range(n - 1)]
    return min(t)


def measure(jepac, path, reps):
    """{row: seconds} for one graph: load, every pass, every backend (reps <
    0: no extra runs of short rows)."""
    t = {}
    for p in PASSES:
        t[p] = best(jepac, [f"--passes={p}", "--emit=stats", "-o", "/dev/null", path], p, reps)
    for e in BACKENDS:
        t["emit=" + e] = best(jepac, ["--passes=", f"--emit={e}", "-o", "/dev/null", path],
                              "emit", reps)
    t["load (parse)"] = best(jepac, ["--passes=", "--emit=stats", "-o", "/dev/null", path],
                             "load", reps)
    return t


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--bin", default=os.path.join(here, "..", "..", "build", "bin"))
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--shapes", default="deep,wide,ports")
    ap.add_argument("--orders", default="fwd,rev,rand")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    jepac = os.path.join(a.bin, "jepac")
    sizes = [int(s) for s in a.sizes.split(",")]
    work = a.work or tempfile.mkdtemp(prefix="jepac-scaling-")
    os.makedirs(work, exist_ok=True)
    graphs = [(s, o) for s in a.shapes.split(",") for o in a.orders.split(",")]
    times = {}
    for shape, order in graphs:
        for n in sizes:
            path = os.path.join(work, f"{shape}_{order}_{n}.jir")
            with open(path, "w") as f:
                subprocess.run([sys.executable, os.path.join(here, "gen.py"), shape, order,
                                str(n)], stdout=f, check=True)
            # short rows are repeated below the largest size only: there they
            # set the ratio's denominator; at the largest, a row under 20 ms
            # has no ratio (under 2 ms before)
            times[(shape, order, n)] = measure(jepac, path, a.reps if n != sizes[-1] else -a.reps)
            os.unlink(path)
            print(f"# {shape} {order} {n}: " + " ".join(
                f"{k}={v:.4f}" for k, v in times[(shape, order, n)].items()), flush=True)
    rows = PASSES + ["emit=" + e for e in BACKENDS] + ["load (parse)"]
    big, small = sizes[-1], sizes[-2]
    cols = [f"{s}/{o}" for s, o in graphs]
    print(f"\nratio time(N={big}) / time(N={small}); worst over the graphs; "
          f"t = seconds at N={big}")
    print("| pass / backend | " + " | ".join(cols) + " | worst | max t |")
    print("|---" * (len(cols) + 3) + "|")
    bad = 0
    for row in rows:
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
