#!/bin/sh
# Runs every test suite and ends with the one summary line "N passed, M failed".
# Exit status is non-zero if anything failed or if no test ran.
# Usage: tools/check.sh BINDIR
BIN=$(cd "${1:-build/bin}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
LIT=/usr/lib/llvm-14/build/utils/lit/lit.py
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
JEPAC_BIN="$BIN" /usr/bin/python3 "$LIT" -sv "$TOP/test" >"$LOG" 2>&1
cat "$LOG" | grep -v '^PASS:' || true
count() { sed -n "s/^ *$1 *: *\([0-9]*\).*/\1/p" "$LOG" | head -n 1; }
pass=$(count Passed); pass=${pass:-0}
xfail=$(count 'Expectedly Failed'); xfail=${xfail:-0}
fail=0
for k in Failed Unresolved 'Timed Out' 'Unexpectedly Passed'; do
	n=$(count "$k"); fail=$((fail + ${n:-0}))
done
pass=$((pass + xfail))
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
