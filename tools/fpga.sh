#!/bin/sh
# fpga.sh -- digit-serial designs on real FPGA flows (`make fpga`; docs/benchmarks.md).
#
#   tools/fpga.sh [--sizes="64 48 32 24 16"] [--xilinx-top=tile|TOP] [--digits="1 2 4"] [--keep=DIR]
#
# Installs nextpnr-ice40 and fpga-icestorm (Debian) if missing (tools/deps.sh),
# then
# 1. iCE40 HX8K (7,680 logic cells): for each tile size N (largest first), a
#    random N x N Q4 tile on s8 inputs (test/verilog/Inputs/mkmat.py, seed N)
#    as `jepac -O2 --pipeline=none --digit=1`, Yosys synth_ice40; the first
#    whose logic cells (SB_LUT4 + carry-only cells, each LC one LUT and one
#    flip-flop) fit is placed and routed by nextpnr-ice40 (--hx8k, package
#    ct256; timing target 100 MHz, a miss is reported, not fatal) and packed by icepack.  Prints its LUTs, flip-flops,
#    logic-cell utilisation and nextpnr's Fmax for clk.
# 2. Xilinx: Yosys synth_xilinx LUT and flip-flop counts at each D of
#    --digits, against an Arty A7-100T (63,400 LUTs, 126,800 flip-flops), of
#    --xilinx-top: `tile` (default: the 64x64 Q4 tile) or a top of the tiny
#    preset (jepac-mkmodel tiny seed 1, q4-pred), e.g. pred-proj (slow: tens
#    of minutes per D).  Stream tops (predict-step) are not digit-serial yet.
# One line per result ("fpga: ..."); heavy: runs under nice.
set -eu
SIZES="64 48 32 24 16" XTOP=tile DIGITS="1 2 4" KEEP=
while [ $# -gt 0 ]; do
	case "$1" in
	--sizes=*) SIZES=${1#--sizes=} ;;
	--xilinx-top=*) XTOP=${1#--xilinx-top=} ;;
	--digits=*) DIGITS=${1#--digits=} ;;
	--keep=*) KEEP=${1#--keep=} ;;
	*) echo "fpga: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/build/bin
[ -x "$BIN/jepac" ] || { echo "fpga: build jepac first (make)" >&2; exit 1; }
sh "$TOP/tools/deps.sh" nextpnr-ice40 fpga-icestorm
if [ -n "$KEEP" ]; then
	W=$KEEP; mkdir -p "$W"
else
	W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
fi
# cells TYPE-REGEX LOG: sum of the cell counts of Yosys's last stat
cells() {
	awk -v re="$1" '/Number of cells:/ { s = 0 } $1 ~ re { s += $2 } END { print s + 0 }' "$2"
}
picked=
for n in $SIZES; do
	/usr/bin/python3 "$TOP/test/verilog/Inputs/mkmat.py" "$n" "$n" q4 8 "$n" >"$W/t$n.jir"
	"$BIN/jepac" -O2 --pipeline=none --digit=1 --emit=verilog "$W/t$n.jir" -o "$W/t$n.v"
	nice yosys -q -p "read_verilog $W/t$n.v; synth_ice40 -top mat${n}x$n -json $W/t$n.json; tee -o $W/t$n.stat stat" >/dev/null
	luts=$(cells '^SB_LUT4$' "$W/t$n.stat")
	ffs=$(cells '^SB_DFF' "$W/t$n.stat")
	carry=$(cells '^SB_CARRY$' "$W/t$n.stat")
	echo "fpga: ice40 synth ${n}x$n Q4 tile, --digit=1: $luts LUT4s, $ffs flip-flops, $carry carries"
	if [ "$luts" -le 7680 ] && [ "$ffs" -le 7680 ]; then
		picked=$n
		break
	fi
done
[ -n "$picked" ] || { echo "fpga: no tile of $SIZES fits an HX8K" >&2; exit 1; }
n=$picked
nice nextpnr-ice40 --hx8k --package ct256 --json "$W/t$n.json" --asc "$W/t$n.asc" \
	--freq 100 --timing-allow-fail --seed 1 >"$W/pnr$n.log" 2>&1 || { tail -n 20 "$W/pnr$n.log" >&2; exit 1; }
icepack "$W/t$n.asc" "$W/t$n.bin"
lc=$(sed -n 's/.*ICESTORM_LC: *\([0-9]*\)\/ *\([0-9]*\).*/\1 of \2/p' "$W/pnr$n.log" | tail -n 1)
fmax=$(sed -n "s/.*Max frequency for clock *'clk[^']*': *\([0-9.]* MHz\).*/\1/p" "$W/pnr$n.log" | tail -n 1)
echo "fpga: ice40 HX8K place and route, ${n}x$n tile at --digit=1: $lc logic cells, Fmax $fmax; bitstream $(wc -c <"$W/t$n.bin") bytes"
# Xilinx: the 64x64 tile or the tiny preset's top at each D
if [ "$XTOP" = tile ]; then
	/usr/bin/python3 "$TOP/test/verilog/Inputs/mkmat.py" 64 64 q4 8 64 >"$W/x.jir"
	XARGS="--pipeline=none $W/x.jir" XNAME="64x64 Q4 tile"
else
	"$BIN/jepac-mkmodel" --preset=tiny --seed=1 -o "$W/m" >/dev/null
	"$BIN/jepac-quantize" --mode=q4-pred "$W/m/model.safetensors" -o "$W/m.bin" >/dev/null
	XARGS="--top=$XTOP $W/m.bin" XNAME="tiny $XTOP"
fi
for d in $DIGITS; do
	# shellcheck disable=SC2086
	"$BIN/jepac" -O2 $XARGS --digit="$d" --emit=verilog -o "$W/x$d.v" 2>/dev/null
	xtop=$(sed -n 's/^module \([A-Za-z0-9_]*\) ($/\1/p' "$W/x$d.v" | tail -n 1)
	nice yosys -q -p "read_verilog $W/x$d.v; synth_xilinx -flatten -top $xtop; tee -o $W/x$d.stat stat" >/dev/null
	luts=$(cells '^LUT[1-6]$' "$W/x$d.stat")
	ffs=$(cells '^FD' "$W/x$d.stat")
	echo "fpga: xilinx synth $XNAME --digit=$d: $luts LUTs ($(awk -v a="$luts" 'BEGIN { printf "%.1f", 100 * a / 63400 }')% of an Arty A7-100T), $ffs flip-flops ($(awk -v a="$ffs" 'BEGIN { printf "%.1f", 100 * a / 126800 }')%)"
done
