#!/bin/sh
# Installs, from Debian packages only, whatever of jepac's dependencies is
# missing.  Idempotent: when everything is present it only runs dpkg-query.
# With arguments, installs those packages instead (`make fuzz`: afl++).
set -e
PKGS="$*"
[ -n "$PKGS" ] || PKGS="gcc make libcjson-dev llvm-14-tools yosys verilator iverilog graphviz python3 python3-torch python3-numpy"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
