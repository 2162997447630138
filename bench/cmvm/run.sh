#!/bin/sh
# bench/cmvm/run.sh -- constant-matrix benchmark of jepac's cmvm solver.
# Usage: sh bench/cmvm/run.sh [quick]   (from the repo root; results on stdout)
# Builds bench/cmvm/cmvm_bench.c against the solver sources and runs, with
# fixed seeds (the default xorshift seed of cmvm_bench):
#  1. da4ml's Table 2 setup (N x N, entries floor(U*127)+129, 8-bit inputs),
#     N = 2, 4, 8, 12, 16, with the matrix counts of the da4ml / issue-16
#     comparison (1000 / 1000 / 1000 / 300 / 300): naive CSD, jepac -O2, and
#     jepac -O2 --max-adder-depth=1 (the minimum depth) and =9 at N = 16;
#  2. the Q4 sets (signed codes -8..7, ~19.6% zeros): 64x64 (3 matrices),
#     128x128 (2), 192x576 (1), whole matrices, one line per matrix
#     (adders, fa_bits, depth, CPU seconds): 192x576 at level 3 (-O3, whole)
#     and 2 (-O2, column chunks), and 192x576 per 32-column block; then a
#     12-bit float-weight layer (w12 192x192, the pusht encoder's) at -O2
#     and -O3;
#  3. 4-bit entries 8..15, and the pusht shapes per 32-column block
#     (-O1 odd multiples vs -O2).
# "quick" divides the Table-2 counts by 10 and skips 192x576.
# The whole predictor: bench/cmvm/pusht.py (needs a built jepac).
set -e
Q=${1:-}
OUT=${TMPDIR:-/tmp}/jepac-cmvm-bench.$$
trap 'rm -f "$OUT"' EXIT
gcc -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Iir -Ipasses -o "$OUT" \
	bench/cmvm/cmvm_bench.c passes/cmvm.c passes/cmvm_greedy.c passes/cmvm_mst.c \
	ir/util.c ir/ir.c ir/timing.c -lm
n() { if [ "$Q" = quick ]; then echo $(($1 / 10)); else echo "$1"; fi; }
echo "== Table 2 (u8 129..255)"
for NC in 2:1000 4:1000 8:1000 12:300 16:300; do
	N=${NC%:*}; C=$(n "${NC#*:}")
	"$OUT" u8 "$N" "$C" 0
	"$OUT" u8 "$N" "$C" 2
	"$OUT" -d 1 u8 "$N" "$C" 2
done
"$OUT" -d 9 u8 16 "$(n 300)" 2
echo "== Q4 whole matrices"
"$OUT" -v q4 64x64 3 2
"$OUT" -v q4 128x128 2 2
if [ "$Q" != quick ]; then
	"$OUT" -v q4 192x576 1 3
	"$OUT" -v q4 192x576 1 2
	"$OUT" -v -b q4 192x576 1 2
	"$OUT" -v w12 192x192 1 2
	"$OUT" -v w12 192x192 1 3
fi
echo "== 4-bit entries 8..15"
for N in 8 16 32 64; do for L in 0 2; do "$OUT" u4 $N 10 $L; done; done
echo "== pusht shapes, per 32-column block"
for S in 1152x32 3072x32 1152x192 3072x192 192x1024 2048x192 192x2048; do
	for L in 1 2; do "$OUT" -b q4 $S 1 $L; done
done
