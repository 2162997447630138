#!/usr/bin/python3
"""bench/yosys/fit.py TILES.json [CALIB.json [--clock-fa-ps=P] [--adder=infer|ripple] [STATS.json ...]]

Calibrates jepac's transistor model from bench/yosys/run.py measurements and
projects whole designs from `jepac --emit=stats` output.

Model:  transistors = A * fa_bits + B * register_bits + C * table_bits
                      + D * var_mult_bits + B * shared_mul_hold_bits
                      + 12 * shared_mul_mux_bits
  A  fitted on the combinational jepac -O2 tiles (least squares through 0)
     except the largest, which is held out: its prediction error is printed;
     one A per adder style measured (way o2: `+` as Yosys maps it, a
     carry-lookahead; way o2r: --adder=ripple), projections use --adder's;
  B  (pipelined 16x16 tile - combinational 16x16 tile) / its register bits;
  C  the table design's transistors / its table bits;
  D  least squares through 0 on the variable-multiplier designs (`mul` rows
     of --calib): transistors per partial-product bit (var_mult_bits);
     --clocks-per-token's hold registers count as registers (B), its
     multiplexers at 12 transistors a bit (a MUX2 in stat -tech cmos), and
     the clock enable of every register as clock gating (free); the shared
     `mul-shared` row prints the model's error on that design.
Digit-serial (ways d1, d2, d4 ...: --digit=D): one A_D per serial adder
(transistors per add/sub/neg lane, its share of the delay chains, strobes
and re-extensions included), fitted the same way with the largest tile held
out; a design's projection at D is A_D * adders (`adders` of --emit=stats;
converters and tables are not in this model).
For each STATS file: transistors, transistors per parameter (nonzero weight),
latency, registers and bits, table bits, and a clock estimate: the design's
critical path per stage in full-adder bit levels (`--stats` ripple model,
read from the "fa_path" field when present) times P picoseconds per
full-adder delay (default 25 ps, a modern standard-cell figure).
"""
import json
import sys


def fit_a(tiles, way):
    """A for one adder style, or None when the tiles lack it."""
    o2 = sorted((r for r in tiles if r["way"] == way), key=lambda r: r["n"])
    if not o2:
        return None
    train, held = (o2[:-1], o2[-1]) if len(o2) > 1 else (o2, None)
    a = sum(r["transistors"] * r["fa_bits"] for r in train) / sum(r["fa_bits"] ** 2 for r in train)
    print("A(%s) = %.2f transistors per fa_bit (fitted on N = %s)" % (way, a, ", ".join(str(r["n"]) for r in train)))
    if held:
        pred = a * held["fa_bits"]
        err = (pred - held["transistors"]) / held["transistors"]
        print("  held-out N = %d: predicted %.0f, Yosys %d, error %+.2f%%" % (held["n"], pred, held["transistors"], 100 * err))
    return a


def fit_digit(tiles):
    """A_D per serial adder for each digit-serial way present: {D: A_D}."""
    out = {}
    for way in sorted({r["way"] for r in tiles if r["way"][:1] == "d"}, key=lambda w: int(w[1:])):
        rows = sorted((r for r in tiles if r["way"] == way), key=lambda r: r["n"])
        train, held = (rows[:-1], rows[-1]) if len(rows) > 1 else (rows, None)
        a = sum(r["transistors"] * r["adders"] for r in train) / sum(r["adders"] ** 2 for r in train)
        print("A_%s = %.2f transistors per serial adder (fitted on N = %s)"
              % (way[1:], a, ", ".join(str(r["n"]) for r in train)))
        if held:
            pred = a * held["adders"]
            err = (pred - held["transistors"]) / held["transistors"]
            print("  held-out N = %d: predicted %.0f, Yosys %d, error %+.2f%%; %.1f per nonzero weight"
                  % (held["n"], pred, held["transistors"], 100 * err, held["transistors"] / held["nonzero"]))
        out[int(way[1:])] = a
    return out


def fit(tiles, calib, way):
    a_all = {w: fit_a(tiles, w) for w in ("o2", "o2r")}
    a = a_all[way]
    if a is None:
        sys.exit("fit.py: no %s tiles in the measurements" % way)
    o2 = [r for r in tiles if r["way"] == "o2"]
    comb16 = next(r for r in o2 if r["n"] == 16)
    pipe = next(r for r in calib if r["way"] == "o2-pipelined")
    b = (pipe["transistors"] - comb16["transistors"]) / pipe["register_bits"]
    lut = next(r for r in calib if r["way"] == "lut")
    c = lut["transistors"] / lut["lut_bits"]
    print("B = %.2f transistors per register bit; C = %.2f per table bit" % (b, c))
    muls = [r for r in calib if r["way"] == "mul"]
    d = sum(r["transistors"] * r["var_mult_bits"] for r in muls) / sum(r["var_mult_bits"] ** 2 for r in muls) if muls else 0
    print("D = %.2f transistors per multiplier partial-product bit" % d)
    for r in calib:
        if r["way"] == "mul-shared":
            pred = d * r["var_mult_bits"] + b * r["hold_bits"] + 12 * r["mux_bits"]
            print("  shared s%d multiplier: predicted %d (without input registers and clock counter), "
                  "Yosys %d" % (r["n"], pred, r["transistors"]))
    return a, b, c, d


def project(path, a, b, c, d, ps, digit):
    t = json.load(open(path))["totals"]
    for d, ad in sorted(digit.items()):
        print("%s: --digit=%d: %d adders: %.3g transistors (%.0f per nonzero weight), without converters"
              % (path, d, t["adders"], ad * t["adders"], ad * t["adders"] / (t["nonzero_weights"] or 1)))
    regs = t["register_bits"] + t.get("token_buffer_bits", 0) + t.get("shared_mul_hold_bits", 0)
    mul = d * t.get("var_mult_bits", 0) + 12 * t.get("shared_mul_mux_bits", 0)
    tables = t["lut_bits"] + t.get("token_rom_bits", 0)
    tr = a * t["fa_bits"] + b * regs + c * tables + mul
    nz = t["nonzero_weights"] or 1
    print("%s: fa_bits %d, register bits %d (token buffers and holds included), table bits %d, "
          "%d variable multipliers, latency %d: %.3g transistors (%.0f per nonzero weight; "
          "adders %.0f%%, multipliers %.0f%%, registers %.0f%%, tables %.0f%%); %d clocks per result"
          % (path, t["fa_bits"], regs, tables, t.get("var_mults", 0), t.get("latency", 0), tr, tr / nz,
             100 * a * t["fa_bits"] / tr, 100 * mul / tr, 100 * b * regs / tr, 100 * c * tables / tr,
             t.get("clocks_per_result", 1)))
    if "fa_path" in t:
        print("  clock ~%.0f MHz at %d ps per full-adder delay (%d levels per stage)"
              % (1e6 / (t["fa_path"] * ps), ps, t["fa_path"]))


def main():
    ps, files, way = 25, [], "o2"
    for arg in sys.argv[1:]:
        if arg.startswith("--clock-fa-ps="):
            ps = int(arg.split("=")[1])
        elif arg in ("--adder=infer", "--adder=ripple"):
            way = "o2" if arg.endswith("infer") else "o2r"
        else:
            files.append(arg)
    tiles = json.load(open(files[0]))
    digit = fit_digit(tiles)
    if len(files) < 2:
        return
    a, b, c, d = fit(tiles, json.load(open(files[1])), way)
    for f in files[2:]:
        project(f, a, b, c, d, ps, digit)


if __name__ == "__main__":
    main()
