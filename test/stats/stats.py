# Checks that the stats report is valid JSON with the documented fields,
# that per-region figures add up to the totals, and that it is deterministic
# apart from the "run" object.
import json, sys
r = json.load(open(sys.argv[1]))
fields = ["weights", "nonzero_weights", "adders", "negations", "fa_bits", "depth",
          "var_mults", "const_mults", "registers", "register_bits", "luts", "lut_bits"]
for f in fields:
    assert f in r["totals"], f
    for e in r["regions"]:
        assert f in e, (e["name"], f)
for f in fields:
    if f == "depth":
        continue
    s = sum(e[f] for e in r["regions"])
    assert s == r["totals"][f], (f, s, r["totals"][f])
assert set(r["run"]) == {"compile_time_s", "peak_memory_mb"}
print("stats ok")
