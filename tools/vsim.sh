#!/bin/sh
# vsim.sh -- simulate jepac's Verilog bit-exactly against the interpreter.
#
#   tools/vsim.sh [--sim=icarus|verilator] [--gaps=N] [--expect=FILE] [--keep=DIR]
#                 --vectors=FILE -- JEPAC_ARGS...
#
# Emits `jepac JEPAC_ARGS --emit=verilog --testbench`, builds it with Icarus
# (default; fast to compile) or Verilator (--binary --timing), streams the
# vectors (integer codes, one vector per line, as for `jepac --run --raw`)
# through the testbench -- back to back, or with 0..N idle cycles after each
# vector with --gaps=N -- and compares the output lines with
# `jepac JEPAC_ARGS --run --raw` (or with FILE given by --expect).
# Exit status 0 and "vsim: N vectors match" when identical; 1 and a diff
# otherwise.  jepac is taken from $PATH (lit puts the build's bin first).
set -eu
SIM=icarus GAPS=0 EXPECT= KEEP= VEC=
while [ $# -gt 0 ]; do
	case "$1" in
	--sim=*) SIM=${1#--sim=} ;;
	--gaps=*) GAPS=${1#--gaps=} ;;
	--expect=*) EXPECT=${1#--expect=} ;;
	--keep=*) KEEP=${1#--keep=} ;;
	--vectors=*) VEC=${1#--vectors=} ;;
	--) shift; break ;;
	*) echo "vsim: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$VEC" ] && [ $# -gt 0 ] || { echo "usage: vsim.sh [--sim=icarus|verilator] [--gaps=N] [--expect=FILE] [--keep=DIR] --vectors=FILE -- JEPAC_ARGS..." >&2; exit 2; }
if [ -n "$KEEP" ]; then
	W=$KEEP; mkdir -p "$W"
else
	W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
fi
VEC=$(cd "$(dirname "$VEC")" && pwd)/$(basename "$VEC")
grep -v '^[[:space:]]*\(#\|$\)' "$VEC" >"$W/in.txt" || true
jepac "$@" --emit=verilog --testbench -o "$W/design.v"
TB=$(sed -n 's/^module \([A-Za-z0-9_]*_tb\);$/\1/p' "$W/design.v" | tail -n 1)
case "$SIM" in
icarus)
	iverilog -g2005 -s "$TB" -o "$W/sim.vvp" "$W/design.v"
	vvp -n "$W/sim.vvp" +in="$W/in.txt" +out="$W/got.txt" +gaps="$GAPS" >"$W/sim.log" ;;
verilator)
	verilator --binary --timing -Wno-fatal -Wno-lint -Wno-style --top-module "$TB" \
		-Mdir "$W/obj" -o sim -CFLAGS -O0 "$W/design.v" >"$W/build.log" 2>&1 ||
		{ cat "$W/build.log" >&2; exit 1; }
	"$W/obj/sim" +in="$W/in.txt" +out="$W/got.txt" +gaps="$GAPS" >"$W/sim.log" ;;
*) echo "vsim: unknown simulator $SIM" >&2; exit 2 ;;
esac
if [ -n "$EXPECT" ]; then
	cp "$EXPECT" "$W/want.txt"
else
	jepac "$@" --run --raw <"$W/in.txt" >"$W/want.txt"
fi
n=$(wc -l <"$W/want.txt")
if ! cmp -s "$W/want.txt" "$W/got.txt"; then
	echo "vsim: MISMATCH between simulation ($SIM, gaps $GAPS) and the expected output:" >&2
	diff "$W/want.txt" "$W/got.txt" | head -n 20 >&2
	exit 1
fi
echo "vsim: $n vectors match ($SIM, gaps $GAPS)"
