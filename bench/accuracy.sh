#!/bin/sh
# Accuracy of the fixed-point lowering vs --act-bits on the pusht predict step
# (synthetic checkpoint, Q4 predictor weights): the lowered graph
# (jepac -O0 --run) against the float graph with the same quantized weights
# (jepac --run --float).  Prints the markdown table of docs/benchmarks.md
# ("Fixed-point accuracy"), then the nonlinear ops' sweep at 16 bits.
# Usage (repo root): sh bench/accuracy.sh [BINDIR]   (default build/bin)
set -e
BIN=$(cd "${1:-build/bin}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export PATH="$BIN:$PATH"
jepac-mkmodel --preset=pusht --seed=1 -o "$TMP/m"
echo "| act_bits | mean cos (100 inputs) | min cos | rollout step 20: min cos (2 chains) |"
echo "|---|---|---|---|"
for W in 8 10 12 16 20; do
	/usr/bin/python3 "$TOP/test/lower/Inputs/accuracy.py" "$TMP/m/model.safetensors" \
		--act-bits "$W" --n 100 --rollout 20 --chains 2 >"$TMP/out"
	one=$(sed -n 's/.*mean cos \([0-9.]*\) min cos \([0-9.]*\).*/\1 | \2/p' "$TMP/out")
	roll=$(sed -n 's/rollout step 20: min cos \([0-9.-]*\)/\1/p' "$TMP/out")
	echo "| $W | $one | $roll |"
done
echo
/usr/bin/python3 "$TOP/bench/accuracy_nl.py" --act-bits 16
