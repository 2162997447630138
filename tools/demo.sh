#!/bin/sh
# make demo: the main flow on a bundled input.  For now: the bundled .jir
# example is verified, optimised, run on a few vectors and drawn.
set -e
BIN=$(cd "${1:-build/bin}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
IN="$TOP/test/Inputs/demo.jir"
OUT=${TMPDIR:-/tmp}/jepac-demo.$$
mkdir -p "$OUT"
trap 'rm -rf "$OUT"' EXIT
echo "== input: $IN"
"$BIN/jepac" -O2 --stats --emit=ir "$IN" -o "$OUT/demo.O2.jir"
"$BIN/jepac" -O2 --emit=dot "$IN" -o "$OUT/demo.dot"
dot -Tsvg "$OUT/demo.dot" -o "$OUT/demo.svg"
echo "== -O2 IR:"
cat "$OUT/demo.O2.jir"
echo "== run on 3 vectors (--run --raw):"
printf '1 2 3 4\n-5 6 -7 8\n127 -128 0 1\n' | "$BIN/jepac" -O2 --run --raw "$IN"
echo "== picture: $(wc -c < "$OUT/demo.svg") bytes of SVG from dot"
