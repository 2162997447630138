#!/bin/sh
# demo.sh -- `make demo`: the whole flow on the bundled `tiny` LeWM model.
#
#   1. jepac-mkmodel writes a synthetic tiny checkpoint (safetensors +
#      config.json, the official tensor names), jepac-quantize exports it to
#      LQ40 (4-bit predictor), exactly as the model collection's exporter does;
#   2. jepac -O2 compiles the predict-step (action encoder -> predictor ->
#      pred_proj) to pipelined Verilog, its cost report and its C model;
#   3. the C model (of the predict-step) and a Verilator simulation of the
#      Verilog (of pred_proj, the part small enough for Verilator to build in
#      about a minute) run on random and extreme input vectors, with gaps in
#      in_valid, and are compared with the interpreter bit for bit.
# Usage: tools/demo.sh BINDIR
set -eu
BIN=$(cd "${1:-build/bin}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
PATH="$BIN:$TOP/tools:$PATH"
export PATH
OUT=${TMPDIR:-/tmp}/jepac-demo.$$
mkdir -p "$OUT"
trap 'rm -rf "$OUT"' EXIT
TOPNAME=${DEMO_TOP:-predict-step}
SIMTOP=${DEMO_SIM_TOP:-pred-proj}

say() { printf '%s\n' "== $*"; }

say "1. synthetic tiny LeWM checkpoint and its LQ40 export"
jepac-mkmodel --preset=tiny --seed=1 -o "$OUT/tiny"
jepac-quantize --mode=q4-pred "$OUT/tiny/model.safetensors" -o "$OUT/tiny.bin"
ls -l "$OUT/tiny/model.safetensors" "$OUT/tiny.bin" | awk '{print "   " $5 " bytes  " $NF}'

say "2. jepac -O2 --top=$TOPNAME: Verilog, cost report, C model"
jepac -O2 --top="$TOPNAME" --emit=verilog "$OUT/tiny.bin" -o "$OUT/tiny.v" 2>/dev/null
jepac -O2 --top="$TOPNAME" --emit=stats "$OUT/tiny.bin" -o "$OUT/stats.json" 2>/dev/null
jepac -O2 --top="$TOPNAME" --emit=c --c-main --raw "$OUT/tiny.bin" -o "$OUT/tiny.c" 2>/dev/null
printf '   %s lines of Verilog, %s lines of C\n' "$(wc -l < "$OUT/tiny.v")" "$(wc -l < "$OUT/tiny.c")"
/usr/bin/python3 - "$OUT/stats.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
print("   weights %d (nonzero %d), adders %d = %.3f per nonzero weight use, fa_bits %d" % (
    t["weights"], t["nonzero_weights"], t["adders"],
    t["adders"] / max(1, t["nonzero_weight_uses"]), t["fa_bits"]))
print("   constant multipliers %d, variable multipliers %d, tables %d" % (
    t["const_mults"], t["var_mults"], t["luts"]))
print("   pipeline: latency %d cycles, %d registers (%d bits), adder depth per stage <= --stage-depth" % (
    t["latency"], t["registers"], t["register_bits"]))
EOF

say "3. bit-exact checks against the interpreter (jepac --run --raw)"
jepac-vectors --count 20 --seed 7 --raw --top="$TOPNAME" "$OUT/tiny.bin" > "$OUT/vec.txt" 2>/dev/null
jepac -O2 --top="$TOPNAME" --run --raw "$OUT/tiny.bin" < "$OUT/vec.txt" > "$OUT/interp.txt" 2>/dev/null
gcc -std=c11 -O2 "$OUT/tiny.c" -o "$OUT/tiny-c"
"$OUT/tiny-c" < "$OUT/vec.txt" > "$OUT/c.txt"
n=$(wc -l < "$OUT/vec.txt")
cm=$(diff "$OUT/interp.txt" "$OUT/c.txt" | grep -c '^>' || true)
printf '   C model:   %s vectors, mismatches: %s\n' "$n" "$cm"
jepac-vectors --count 20 --seed 7 --raw --top="$SIMTOP" "$OUT/tiny.bin" > "$OUT/vsim.txt" 2>/dev/null
if vsim.sh --sim=verilator --gaps=2 --vectors="$OUT/vsim.txt" -- -O2 --top="$SIMTOP" "$OUT/tiny.bin" > "$OUT/vsim.log" 2>&1; then
	vm=0
else
	vm=$(grep -c '^[<>]' "$OUT/vsim.log" || echo "?")
fi
printf '   Verilator (--top=%s, gaps in in_valid): %s vectors, mismatches: %s\n' \
	"$SIMTOP" "$(wc -l < "$OUT/vsim.txt")" "$vm"
[ "$cm" = 0 ] && [ "$vm" = 0 ] || { cat "$OUT/vsim.log"; exit 1; }
say "done: the Verilog, the C model and the interpreter agree bit for bit"
