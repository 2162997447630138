#!/bin/sh
# make fuzz: a short AFL++ campaign against every input format of jepac.
#
#   FUZZ_TIME=300 sh tools/fuzz/run.sh [TARGET...]
#
# Targets (default all): jir (.jir text), vec (--run vector text on stdin),
# lq40 (LQ40 .bin), st (safetensors beside a fixed config.json), cfg
# (config.json beside a fixed safetensors).  FUZZ_TIME seconds (default
# 300) are shared evenly between the targets, run one after the other on one
# core.  Seeds: tools/fuzz/seeds/{jir,vec} (text, in the repository) and, for
# the binary formats, a tiny synthetic model made by jepac-mkmodel (seed 1)
# at run time.  Work and findings go to build/fuzz/work (FUZZ_WORK).
#
# afl-fuzz finds crashes and hangs on the instrumented build (build/fuzz,
# afl-clang-fast); the promises it cannot see (one error line, exit status 1,
# no partial output) are checked afterwards: check.py replays every input of
# the queue, crashes and hangs through the ordinary build (build/bin) and
# copies each that breaks one to FUZZ_WORK/bad/TARGET/.  Each such input
# becomes a lit regression test (test/driver, test/frontend) with its
# expected one-line error.  Exit 1 if any input is bad.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
sh tools/deps.sh afl++ clang
FUZZ_TIME=${FUZZ_TIME:-300}
W=${FUZZ_WORK:-$top/build/fuzz/work}
FB=$top/build/fuzz/bin
make --no-print-directory all > /dev/null
AFL_QUIET=1 make --no-print-directory BUILD=build/fuzz CC=afl-clang-fast OPT=-O1 \
	CFLAGS="-O1 -g" all > /dev/null
targets=${*:-jir vec lq40 st cfg}
n=$(echo $targets | wc -w)
per=$((FUZZ_TIME / n))
[ "$per" -ge 10 ] || per=10

rm -rf "$W" && mkdir -p "$W/model" "$W/seeds"
build/bin/jepac-mkmodel --preset=tiny --seed=1 -o "$W/model" > /dev/null
build/bin/jepac-quantize --mode=q4-pred "$W/model/model.safetensors" -o "$W/model/q4.bin"
mkdir -p "$W/seeds/lq40" "$W/seeds/st" "$W/seeds/cfg"
cp "$W/model/q4.bin" "$W/seeds/lq40/"
cp "$W/model/model.safetensors" "$W/seeds/st/"
cp "$W/model/config.json" "$W/seeds/cfg/"

# The command of each target: FLAGS with @@ for the input file (afl-fuzz and
# check.py both substitute it); vec reads stdin.
cmd() {
	case $1 in
	jir)  echo "-O2 --emit=verilog -o /dev/null @@" ;;
	vec)  echo "--run --raw $top/tools/fuzz/vec.jir" ;;
	lq40) echo "-O0 --top=predictor --emit=stats -o /dev/null @@" ;;
	st)   echo "-O0 --top=predictor --config=$W/model/config.json --emit=stats -o /dev/null @@" ;;
	cfg)  echo "-O0 --top=predictor --config @@ --emit=stats -o /dev/null $W/model/model.safetensors" ;;
	esac
}
seeds() {
	case $1 in
	jir|vec) echo "$top/tools/fuzz/seeds/$1" ;;
	*) echo "$W/seeds/$1" ;;
	esac
}

# AFL_DISABLE_TRIM: trimming a 60-300 KB checkpoint seed takes the whole of a
# short budget (a 50 s LQ40 run found no new path with it)
export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
	AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 AFL_DISABLE_TRIM=1
bad=0
for t in $targets; do
	c=$(cmd "$t")
	[ -n "$c" ] || { echo "fuzz: unknown target $t" >&2; exit 2; }
	echo "fuzz $t: afl-fuzz for ${per}s: jepac $c"
	# shellcheck disable=SC2086
	nice -n 10 afl-fuzz -i "$(seeds "$t")" -o "$W/afl-$t" -V "$per" -t 5000 -m none \
		-- "$FB/jepac" $c > "$W/afl-$t.log" 2>&1 || {
		echo "fuzz $t: afl-fuzz failed, see $W/afl-$t.log" >&2; tail -5 "$W/afl-$t.log" >&2; exit 1; }
	s="$W/afl-$t/default/fuzzer_stats"
	echo "fuzz $t: $(grep -E '^(execs_done|corpus_count|saved_crashes|saved_hangs)' "$s" |
		awk '{printf "%s %s  ", $1, $3}')"
	# shellcheck disable=SC2086
	/usr/bin/python3 tools/fuzz/check.py "$t" "$W/bad/$t" "$top/build/bin/jepac" $c -- \
		"$W/afl-$t/default/queue" "$W/afl-$t/default/crashes" "$W/afl-$t/default/hangs" ||
		bad=1
done
exit $bad
