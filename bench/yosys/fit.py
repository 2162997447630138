#!/usr/bin/python3
"""bench/yosys/fit.py TILES.json CALIB.json [--clock-fa-ps=P] [STATS.json ...]

Calibrates jepac's transistor model from bench/yosys/run.py measurements and
projects whole designs from `jepac --emit=stats` output.

Model:  transistors = A * fa_bits + B * register_bits + C * table_bits
  A  fitted on the combinational jepac -O2 tiles (least squares through 0)
     except the largest, which is held out: its prediction error is printed;
  B  (pipelined 16x16 tile - combinational 16x16 tile) / its register bits;
  C  the table design's transistors / its table bits.
For each STATS file: transistors, transistors per parameter (nonzero weight),
latency, registers and bits, table bits, and a clock estimate: the design's
critical path per stage in full-adder bit levels (`--stats` ripple model,
read from the "fa_path" field when present) times P picoseconds per
full-adder delay (default 25 ps, a modern standard-cell figure).
"""
import json
import sys


def fit(tiles, calib):
    o2 = sorted((r for r in tiles if r["way"] == "o2"), key=lambda r: r["n"])
    train, held = o2[:-1], o2[-1]
    a = sum(r["transistors"] * r["fa_bits"] for r in train) / sum(r["fa_bits"] ** 2 for r in train)
    pred = a * held["fa_bits"]
    err = (pred - held["transistors"]) / held["transistors"]
    comb16 = next(r for r in o2 if r["n"] == 16)
    pipe = next(r for r in calib if r["way"] == "o2-pipelined")
    b = (pipe["transistors"] - comb16["transistors"]) / pipe["register_bits"]
    lut = next(r for r in calib if r["way"] == "lut")
    c = lut["transistors"] / lut["lut_bits"]
    print("A = %.2f transistors per fa_bit (fitted on N = %s)" % (a, ", ".join(str(r["n"]) for r in train)))
    print("held-out N = %d: predicted %.0f, Yosys %d, error %+.2f%%" % (held["n"], pred, held["transistors"], 100 * err))
    print("B = %.2f transistors per register bit; C = %.2f per table bit" % (b, c))
    return a, b, c


def project(path, a, b, c, ps):
    t = json.load(open(path))["totals"]
    tr = a * t["fa_bits"] + b * t["register_bits"] + c * t["lut_bits"]
    nz = t["nonzero_weights"] or 1
    print("%s: fa_bits %d, register bits %d, table bits %d, latency %d: %.3g transistors "
          "(%.0f per nonzero weight; logic %.0f%%, registers %.0f%%, tables %.0f%%)"
          % (path, t["fa_bits"], t["register_bits"], t["lut_bits"], t.get("latency", 0), tr, tr / nz,
             100 * a * t["fa_bits"] / tr, 100 * b * t["register_bits"] / tr, 100 * c * t["lut_bits"] / tr))
    if "fa_path" in t:
        print("  clock ~%.0f MHz at %d ps per full-adder delay (%d levels per stage)"
              % (1e6 / (t["fa_path"] * ps), ps, t["fa_path"]))


def main():
    ps, files = 25, []
    for arg in sys.argv[1:]:
        if arg.startswith("--clock-fa-ps="):
            ps = int(arg.split("=")[1])
        else:
            files.append(arg)
    a, b, c = fit(json.load(open(files[0])), json.load(open(files[1])))
    for f in files[2:]:
        project(f, a, b, c, ps)


if __name__ == "__main__":
    main()
