#!/bin/sh
# irsnap.sh -- a fingerprint of what the frontends build: one line per
# (preset, input format, top, --tokens, --all-tokens) with the sha256 of
# `jepac -O0 --emit=ir` and of `jepac -O1 --stats --emit=stats` (stdout and
# the --stats lines on stderr).  Two binaries build the same models exactly
# when their snapshots are equal, so a frontend refactoring is checked with
#
#   tools/irsnap.sh OLD/bin > old.txt; tools/irsnap.sh NEW/bin > new.txt
#   diff old.txt new.txt
#
# Usage: tools/irsnap.sh BINDIR [PRESET...]   (default: tiny hybrid slim96
# pusht ijepa-tiny; pusht only its cheap tops at -O0).  Slow (minutes): not
# part of make check.  Errors (e.g. an unknown --top) are recorded as their
# exit status and message, so they are compared too.
set -u
BIN=$(cd "${1:?usage: irsnap.sh BINDIR [PRESET...]}" && pwd) || exit 1
shift
PRESETS=${*:-tiny hybrid slim96 pusht ijepa-tiny}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1   # relative paths: messages name the same files every run
h() { sha256sum | cut -c1-16; }
run() {   # KEY ARGS...: one line "KEY ir=HASH stats=HASH"
	key=$1
	shift
	ir=$("$BIN/jepac" -O0 --emit=ir "$@" 2>&1; echo "rc=$?")
	ir=$(printf '%s' "$ir" | h)
	if [ "$STATS" = 1 ]; then
		st=$("$BIN/jepac" -O1 --stats --emit=stats "$@" 2>&1 | grep -v 'compile\|peak'; echo "rc=$?")
		st=$(printf '%s' "$st" | h)
	else
		st=-
	fi
	echo "$key ir=$ir stats=$st"
}
for p in $PRESETS; do
	"$BIN/jepac-mkmodel" --preset="$p" --seed=1 -o "$p" >/dev/null || exit 1
	case $p in
	ijepa*) tops="predictor bogus" ;;
	pusht) tops="predictor action-encoder projector pred-proj bogus" ;;
	*) tops="predict-step predictor action-encoder encoder projector pred-proj bogus" ;;
	esac
	STATS=1
	[ "$p" = pusht ] || [ "$p" = slim96 ] && STATS=0
	"$BIN/jepac-quantize" --mode=q4-pred "$p/model.safetensors" -o "$p.bin" >/dev/null 2>&1 ||
		echo "$p quantize failed"
	for f in st lq; do
		[ $f = st ] && in=$p/model.safetensors || in=$p.bin
		[ -f "$in" ] || continue
		for t in $tops; do
			for tok in serial parallel; do
				run "$p $f $t $tok" --top="$t" --tokens=$tok "$in"
				[ $t = predictor ] || [ $t = encoder ] && run "$p $f $t $tok all" --all-tokens --top="$t" --tokens=$tok "$in"
			done
		done
		[ $p = pusht ] && break
	done
	run "$p st default" "$p/model.safetensors"
	run "$p st quant-full" --quant=full "$p/model.safetensors"
done
