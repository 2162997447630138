#!/bin/sh
# equiv.sh -- checks that passes preserve a module's behaviour, bit for bit.
#
# Usage: tools/equiv.sh [options] INPUT PASSES [COUNT]
#
#   INPUT    anything jepac reads (.jir, checkpoint)
#   PASSES   comma-separated pass list for the "after" side (jepac --passes=);
#            a float input needs "lower" in it (both sides compare codes)
#   COUNT    random vectors besides the 4 extreme ones (default 100)
#
# Options (before INPUT):
#   --against FILE   the "after" side runs FILE instead of INPUT (two different
#                    modules with the same ports: proves the harness detects
#                    a difference; also for comparing a hand-written result)
#   --seed S         vector seed (default 1)
#   --flags "F"      extra jepac / jepac-vectors loading flags for both sides
#                    (e.g. "--top=predictor --act-bits=12")
#
# What it does: jepac-vectors --raw makes COUNT+4 input vectors of integer
# codes; "before" is `jepac -O0 --run --raw INPUT` (no optimisation pass:
# -O0 only lowers), "after" is `jepac --passes=PASSES --run --raw INPUT`; the
# two outputs are compared line by line.  Prints one summary line
#
#   equiv: N vectors, M mismatches
#
# (and the first differing lines, on stderr) and exits 0 only if both sides
# ran, N > 0 and M = 0.  Programs come from $JEPAC_BIN if set, else $PATH.
# This interface is used by every pass's equivalence test: keep it stable.
set -u
against=
seed=1
flags=
while [ $# -gt 0 ]; do
	case "$1" in
	--against) against=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--flags) flags=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "equiv: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: equiv.sh [--against FILE] [--seed S] [--flags F] INPUT PASSES [COUNT]" >&2
	exit 2
fi
input=$1
passes=$2
count=${3:-100}
other=${against:-$input}
if [ -n "${JEPAC_BIN:-}" ]; then
	jepac=$JEPAC_BIN/jepac
	vectors=$JEPAC_BIN/jepac-vectors
else
	jepac=jepac
	vectors=jepac-vectors
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/equiv.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# shellcheck disable=SC2086 # $flags is a list of words
if ! "$vectors" --raw --count "$count" --seed "$seed" $flags "$input" > "$tmp/in"; then
	echo "equiv: jepac-vectors failed on $input" >&2
	exit 1
fi
# shellcheck disable=SC2086
if ! "$jepac" -O0 --run --raw $flags "$input" < "$tmp/in" > "$tmp/before"; then
	echo "equiv: the before side (jepac -O0 --run --raw $input) failed" >&2
	exit 1
fi
# shellcheck disable=SC2086
if ! "$jepac" --passes="$passes" --run --raw $flags "$other" < "$tmp/in" > "$tmp/after"; then
	echo "equiv: the after side (jepac --passes=$passes --run --raw $other) failed" >&2
	exit 1
fi
nin=$(grep -c . "$tmp/in")
nb=$(wc -l < "$tmp/before")
na=$(wc -l < "$tmp/after")
if [ "$nb" -ne "$nin" ] || [ "$na" -ne "$nin" ]; then
	echo "equiv: $nin vectors in, $nb lines before, $na lines after" >&2
	echo "equiv: $nin vectors, $nin mismatches"
	exit 1
fi
mism=$(paste -d '|' "$tmp/before" "$tmp/after" | awk -F'|' '
	$1 != $2 { m++; if (m <= 3) printf "equiv: vector %d: before %s | after %s\n", NR, substr($1, 1, 200), substr($2, 1, 200) > "/dev/stderr" }
	END { print m + 0 }')
echo "equiv: $nin vectors, $mism mismatches"
[ "$nin" -gt 0 ] && [ "$mism" -eq 0 ]
