#!/bin/sh
# Runs every test suite and ends with the one summary line "N passed, M failed".
# Exit status is non-zero if anything failed or if no test ran.
# Usage: tools/check.sh BINDIR
BIN=$(cd "${1:-build/bin}" 2>/dev/null && pwd)
if [ ! -x "$BIN/jepac" ]; then
	echo "check.sh: no jepac in ${1:-build/bin}" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
TOP=$(cd "$(dirname "$0")/.." && pwd)
LIT=/usr/lib/llvm-14/build/utils/lit/lit.py
# Tests that run make themselves (Verilator --binary) must not inherit the
# outer make's command-line variables (`make CFLAGS=... BUILD=... check`)
# or its -j jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
JEPAC_BIN="$BIN" /usr/bin/python3 "$LIT" -sv --time-tests "$TOP/test" >"$LOG" 2>&1
cat "$LOG" | grep -v '^PASS:' || true
count() { sed -n "s/^ *$1 *: *\([0-9]*\).*/\1/p" "$LOG" | head -n 1; }
pass=$(count Passed); pass=${pass:-0}
xfail=$(count 'Expectedly Failed'); xfail=${xfail:-0}
fail=0
for k in Failed Unresolved 'Timed Out' 'Unexpectedly Passed'; do
	n=$(count "$k"); fail=$((fail + ${n:-0}))
done
pass=$((pass + xfail))
skip=$(count Unsupported); skip=${skip:-0}
[ "$skip" -gt 0 ] && echo "($skip tests left to make check-full)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
