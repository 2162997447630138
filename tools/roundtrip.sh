#!/bin/sh
# roundtrip.sh -- checks that every .jir file under DIR is in canonical
# printed form: parsing and printing it (jepac --passes= --emit=ir, no pass
# runs) reproduces it byte for byte, and so does parsing that output again.
#
# Usage: tools/roundtrip.sh DIR     (jepac from $JEPAC, else from PATH)
# Prints "roundtrip: N files, all canonical" and exits 0; exits 1 if any file
# differs or fails to load (showing a diff), or if no .jir file was found.
set -u
DIR=${1:?usage: roundtrip.sh DIR}
JEPAC=${JEPAC:-jepac}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
find "$DIR" -name '*.jir' -type f | LC_ALL=C sort >"$TMP/list"
n=0
bad=0
while IFS= read -r f; do
	n=$((n + 1))
	if ! "$JEPAC" --passes= --emit=ir "$f" >"$TMP/once" ||
	   ! "$JEPAC" --passes= --emit=ir - <"$TMP/once" >"$TMP/twice"; then
		echo "roundtrip: $f: jepac failed" >&2
		bad=$((bad + 1))
	elif ! diff -u "$f" "$TMP/once" >&2 || ! diff -u "$TMP/once" "$TMP/twice" >&2; then
		echo "roundtrip: $f: not canonical (diff above)" >&2
		bad=$((bad + 1))
	fi
done <"$TMP/list"
if [ "$n" -eq 0 ]; then
	echo "roundtrip: no .jir file under $DIR" >&2
	exit 1
fi
if [ "$bad" -ne 0 ]; then
	echo "roundtrip: $bad of $n files failed" >&2
	exit 1
fi
echo "roundtrip: $n files, all canonical"
