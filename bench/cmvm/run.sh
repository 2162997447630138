#!/bin/sh
# bench/cmvm/run.sh -- constant-matrix benchmark of jepac's cmvm solver.
# Usage: sh bench/cmvm/run.sh [COUNT]   (from the repo root; results on stdout)
# Builds bench/cmvm/cmvm_bench.c against the solver sources and runs:
# da4ml's Table 2 setup (N x N, entries floor(U*127)+129, 8-bit inputs),
# 4-bit entries 8..15, and Q4-like signed matrices (~19.6% zeros, as the
# pusht predictor's codes) of the pusht shapes, solved per 32-column block.
# Levels: 0 plain CSD, 1 odd multiples (-O1), 2 greedy sharing (-O2).
# The whole predictor: bench/cmvm/pusht.py (needs a built jepac).
set -e
COUNT=${1:-100}
OUT=${TMPDIR:-/tmp}/jepac-cmvm-bench.$$
trap 'rm -f "$OUT"' EXIT
gcc -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Iir -Ipasses -o "$OUT" \
	bench/cmvm/cmvm_bench.c passes/cmvm.c passes/cmvm_greedy.c passes/cmvm_mst.c \
	ir/util.c ir/ir.c -lm
for N in 2 4 8 12 16; do for L in 0 2; do "$OUT" u8 $N "$COUNT" $L; done; done
for N in 32 64; do for L in 0 2; do "$OUT" u8 $N 10 $L; done; done
for N in 8 16 32 64; do for L in 0 2; do "$OUT" u4 $N 10 $L; done; done
for S in 1152x32 3072x32 1152x192 3072x192 192x1024 2048x192 192x2048; do
	for L in 1 2; do "$OUT" q4 $S 1 $L; done
done
