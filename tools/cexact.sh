#!/bin/sh
# cexact.sh -- checks that the C model (`jepac --emit=c --c-main`) computes
# exactly what the interpreter (`jepac --run`) computes.
#
#   tools/cexact.sh [options] INPUT [-- JEPAC_FLAGS...]
#
# Emits the C model of INPUT with JEPAC_FLAGS (e.g. -O0 --top=predictor),
# compiles it with gcc -std=c11 -O2 -Wall -Wextra -Werror, makes vectors with
# `jepac-vectors` (extreme vectors + --count random ones) and compares the
# program's output with `jepac --run` on the same vectors, byte for byte.
# Exit status 0 and "cexact: ok: N vectors x M lanes" if identical; 1 and
# the first differing line otherwise.
#
# Options:
#   --raw            integer codes (--run --raw), default real values
#   --count N        random vectors (default 32); --seed S (default 1)
#   --ref FILE       take the reference outputs from `jepac --run` of FILE
#                    instead of INPUT (the negative test: a different module)
#   --sanitize       compile with -fsanitize=undefined (-O1)
#   --cflags "..."   extra gcc flags; --opt -O1 sets the level (default -O2)
#   --vectors FILE   use these input vectors instead of jepac-vectors
#   --keep DIR       keep the C file, binary and outputs in DIR
# Tools are found in $JEPAC_BIN or on PATH.
set -eu
raw=""; optl="-O2"; count=32; seed=1; ref=""; san=0; cflags=""; vecs=""; keep=""
while [ $# -gt 0 ]; do
	case "$1" in
	--raw) raw="--raw" ;;
	--count) count="$2"; shift ;;
	--seed) seed="$2"; shift ;;
	--ref) ref="$2"; shift ;;
	--sanitize) san=1 ;;
	--cflags) cflags="$2"; shift ;;
	--opt) optl="$2"; shift ;;
	--vectors) vecs="$2"; shift ;;
	--keep) keep="$2"; shift ;;
	--) shift; break ;;
	-*) echo "cexact: unknown option $1" >&2; exit 2 ;;
	*) [ -z "${input:-}" ] || { echo "cexact: two inputs" >&2; exit 2; }; input="$1" ;;
	esac
	shift
done
[ -n "${input:-}" ] || { echo "usage: cexact.sh [options] INPUT [-- JEPAC_FLAGS...]" >&2; exit 2; }
bin="${JEPAC_BIN:+$JEPAC_BIN/}"
if [ -n "$keep" ]; then
	T="$keep"; mkdir -p "$T"
else
	T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fi
"${bin}jepac" "$@" --emit=c --c-main $raw "$input" -o "$T/model.c"
if [ "$san" = 1 ]; then
	opt="-O1 -fsanitize=undefined -fno-sanitize-recover=all"
else
	opt="$optl"
fi
gcc -std=c11 $opt -Wall -Wextra -Werror $cflags "$T/model.c" -o "$T/model"
if [ -n "$vecs" ]; then
	cp "$vecs" "$T/vectors.txt"
else
	# jepac-vectors takes the loading flags (--top=, --config= ...) but no -O or --passes
	vflags=""
	for a in "$@"; do
		case "$a" in --top=*|--config=*|--quant=*|--all-tokens|--act-bits=*|--tokens=*) vflags="$vflags $a" ;; esac
	done
	"${bin}jepac-vectors" --count "$count" --seed "$seed" $raw $vflags "$input" > "$T/vectors.txt"
fi
"${bin}jepac" "$@" --run $raw "${ref:-$input}" < "$T/vectors.txt" > "$T/ref.txt"
"$T/model" < "$T/vectors.txt" > "$T/got.txt"
nv=$(wc -l < "$T/ref.txt")
if [ "$nv" -eq 0 ]; then
	echo "cexact: no output vectors" >&2
	exit 1
fi
if ! cmp -s "$T/ref.txt" "$T/got.txt"; then
	line=$(cmp "$T/ref.txt" "$T/got.txt" 2>&1 | sed -n 's/.* line \([0-9]*\).*/\1/p')
	echo "cexact: MISMATCH on output vector ${line:-?} of $nv" >&2
	echo "  jepac --run: $(sed -n "${line:-1}p" "$T/ref.txt" | cut -c1-300)" >&2
	echo "  C model:     $(sed -n "${line:-1}p" "$T/got.txt" | cut -c1-300)" >&2
	exit 1
fi
lanes=$(head -n 1 "$T/ref.txt" | wc -w)
echo "cexact: ok: $nv vectors x $lanes lanes identical${raw:+ (raw)}"
