#!/bin/sh
# Accuracy of the fixed-point lowering vs --act-bits on the I-JEPA predictor
# (synthetic ijepa-tiny and ijepa-h checkpoints, q4-pred weights): the
# lowered graph (jepac -O0 --run) against the float graph with the same
# quantized weights (jepac --run --float), per predicted target token.
# Prints the markdown table of docs/benchmarks.md ("I-JEPA predictor").
# Usage (repo root): sh bench/accuracy_ijepa.sh [BINDIR] [N_H]   (default
# build/bin; N_H windows for ijepa-h, default 4: ~1 min of CPU each)
set -e
BIN=$(cd "${1:-build/bin}" && pwd)
NH=${2:-4}
TOP=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export PATH="$BIN:$PATH"
echo "| model | act_bits | windows x targets | mean cos | min cos | max rel err |"
echo "|---|---|---|---|---|---|"
jepac-mkmodel --preset=ijepa-tiny --seed=1 -o "$TMP/t"
/usr/bin/python3 "$TOP/bench/accuracy_ijepa.py" "$TMP/t" --n 100 --act-bits 8,10,12,16,20 | sed 's/^/| ijepa-tiny /'
jepac-mkmodel --preset=ijepa-h --seed=1 -o "$TMP/h"
/usr/bin/python3 "$TOP/bench/accuracy_ijepa.py" "$TMP/h" --n "$NH" --act-bits 8,12,16 | sed 's/^/| ijepa-h /'
