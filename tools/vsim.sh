#!/bin/sh
# vsim.sh -- simulate jepac's Verilog bit-exactly against the interpreter
# (and, with --cmodel, against the C model too).
#
#   tools/vsim.sh [--sim=icarus|verilator] [--gaps=N[,N...]] [--expect=FILE]
#                 [--cmodel] [--keep=DIR] --vectors=FILE -- JEPAC_ARGS...
#
# Emits `jepac JEPAC_ARGS --emit=verilog --testbench`, builds it with Icarus
# (default) or Verilator (--binary --timing), streams the vectors (integer
# codes, one vector per line, as for `jepac --run --raw`) through the
# testbench -- back to back (--gaps=0), or with 0..N idle cycles after each
# vector (--gaps=N); a list such as --gaps=0,3 runs the one build once per
# value -- and compares the output lines with `jepac JEPAC_ARGS --run --raw`
# or with FILE given by --expect (e.g. the -O0 interpreter's output).
# --cmodel also compiles the C model of the same design (`jepac JEPAC_ARGS
# --emit=c --c-main --raw`, gcc -O1), runs it on the vectors and compares
# (before the simulator is built: a wrong C model fails fast).
# Exit status 0 and "vsim: N vectors match" lines when all are identical;
# 1 and a diff otherwise.  jepac is taken from $PATH (lit puts the build's
# bin first).
#
# Verilator build speed: the designs are big, flat and run for a few
# hundred cycles, so the C++ is compiled at -O0 (set through OPT_FAST,
# OPT_SLOW and OPT_GLOBAL: the generated makefile's -Os comes after -CFLAGS)
# with two jobs, X handling is "fast", and the C++ is split into files 10x
# larger than by default (--output-split 200000): every file includes the
# design's class header (3.5 MB for the tiny action encoder), so 46 small
# files spent more time parsing it than compiling code.  Each lookup-table
# function (lut_*: a case of up to 2^k entries, called once per lane) is
# marked /*verilator no_inline_task*/ in a copy of the design, so that
# Verilator emits it once instead of inlining the whole case at every call
# (the C++ of the tiny pred-proj: 17.4 MB -> 11.2 MB).  Icarus builds flat
# netlists faster; Verilator is far faster on the per-lane (generate loop)
# designs of whole model parts.
set -eu
SIM=icarus GAPS=0 EXPECT= KEEP= VEC= CMODEL=0
while [ $# -gt 0 ]; do
	case "$1" in
	--sim=*) SIM=${1#--sim=} ;;
	--gaps=*) GAPS=${1#--gaps=} ;;
	--expect=*) EXPECT=${1#--expect=} ;;
	--cmodel) CMODEL=1 ;;
	--keep=*) KEEP=${1#--keep=} ;;
	--vectors=*) VEC=${1#--vectors=} ;;
	--) shift; break ;;
	*) echo "vsim: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$VEC" ] && [ $# -gt 0 ] || { echo "usage: vsim.sh [--sim=icarus|verilator] [--gaps=N[,N...]] [--expect=FILE] [--cmodel] [--keep=DIR] --vectors=FILE -- JEPAC_ARGS..." >&2; exit 2; }
GAPS=$(echo "$GAPS" | tr ',' ' ')
[ -n "$GAPS" ] || { echo "vsim: empty --gaps" >&2; exit 2; }
for g in $GAPS; do
	case "$g" in *[!0-9]*) echo "vsim: bad --gaps value $g" >&2; exit 2 ;; esac
done
case "$SIM" in icarus|verilator) ;; *) echo "vsim: unknown simulator $SIM" >&2; exit 2 ;; esac
if [ -n "$KEEP" ]; then
	W=$KEEP; mkdir -p "$W"
else
	W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
fi
VEC=$(cd "$(dirname "$VEC")" && pwd)/$(basename "$VEC")
grep -v '^[[:space:]]*\(#\|$\)' "$VEC" >"$W/in.txt" || true
jepac "$@" --emit=verilog --testbench -o "$W/design.v"
TB=$(sed -n 's/^module \([A-Za-z0-9_]*_tb\);$/\1/p' "$W/design.v" | tail -n 1)
run_sim() {
	if [ "$SIM" = icarus ]; then vvp -n "$W/sim.vvp" "$@"; else "$W/obj/sim" "$@"; fi
}
if [ -n "$EXPECT" ]; then
	cp "$EXPECT" "$W/want.txt"
else
	jepac "$@" --run --raw <"$W/in.txt" >"$W/want.txt"
fi
n=$(wc -l <"$W/want.txt")
[ "$n" -gt 0 ] || { echo "vsim: no expected output vectors" >&2; exit 1; }
# same FILE LABEL: FILE must equal want.txt; LABEL names it in the messages
same() {
	if ! cmp -s "$W/want.txt" "$1"; then
		echo "vsim: MISMATCH ($2) against the expected output:" >&2
		diff "$W/want.txt" "$1" | head -n 20 >&2
		exit 1
	fi
	echo "vsim: $n vectors match ($2)"
}
if [ "$CMODEL" = 1 ]; then
	jepac "$@" --emit=c --c-main --raw -o "$W/model.c"
	gcc -std=c11 -O1 "$W/model.c" -o "$W/model"
	"$W/model" <"$W/in.txt" >"$W/cgot.txt"
	same "$W/cgot.txt" "C model"
fi
if [ "$SIM" = icarus ]; then
	iverilog -g2005 -s "$TB" -o "$W/sim.vvp" "$W/design.v"
else
	sed 's|^\([[:space:]]*function[[:space:]][^;]*lut_[0-9_]*;\)$|\1 /*verilator no_inline_task*/|' \
		"$W/design.v" >"$W/design-vl.v"
	verilator --binary --timing -Wno-fatal -Wno-lint -Wno-style \
		--x-assign fast --x-initial fast --output-split 200000 -j 2 \
		-MAKEFLAGS OPT_FAST=-O0 -MAKEFLAGS OPT_SLOW=-O0 -MAKEFLAGS OPT_GLOBAL=-O0 \
		--top-module "$TB" -Mdir "$W/obj" -o sim "$W/design-vl.v" >"$W/build.log" 2>&1 ||
		{ cat "$W/build.log" >&2; exit 1; }
fi
for g in $GAPS; do
	run_sim +in="$W/in.txt" +out="$W/got$g.txt" +gaps="$g" >"$W/sim$g.log"
	same "$W/got$g.txt" "$SIM, gaps $g"
done
