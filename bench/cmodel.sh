#!/bin/sh
# cmodel.sh -- speed of the C model of the pusht predict-step against PyTorch.
#
#   sh bench/cmodel.sh [BINDIR] [STEPS]
#
# Makes the synthetic pusht checkpoint (jepac-mkmodel --preset=pusht
# --seed=1), emits its predict-step as C (jepac -O0 --top=predict-step
# --emit=c), compiles it with gcc -O2 -march=native (timed), checks it
# bit for bit against `jepac --run` on 2 vectors (tools/cexact.sh), times
# jepac_eval() with bench/cmodel_main.c, and times PyTorch's float32
# forward pass of the same model (bench/cmodel_torch.py, batch 1, 1 thread).
# Results go to stdout; docs/benchmarks.md records them.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$TOP/build/bin}" && pwd)
STEPS=${2:-50}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$BIN/jepac-mkmodel" --preset=pusht --seed=1 -o "$T/pusht" >/dev/null
s=$(date +%s.%N)
"$BIN/jepac" -O0 --top=predict-step --emit=c "$T/pusht/model.safetensors" -o "$T/model.c"
e=$(date +%s.%N)
echo "emit:    $(echo "$e - $s" | bc) s, $(wc -c < "$T/model.c") bytes of C"
nin=$(sed -n 's/^#define JEPAC_IN_LANES //p' "$T/model.c")
nout=$(sed -n 's/^#define JEPAC_OUT_LANES //p' "$T/model.c")
s=$(date +%s.%N)
gcc -std=c11 -O2 -march=native -c "$T/model.c" -o "$T/model.o"
e=$(date +%s.%N)
echo "gcc -O2 -march=native: $(echo "$e - $s" | bc) s"
gcc -std=c11 -O2 -march=native -D_POSIX_C_SOURCE=200809L -DJEPAC_IN_LANES_="$nin" -DJEPAC_OUT_LANES_="$nout" \
	"$TOP/bench/cmodel_main.c" "$T/model.o" -o "$T/bench"
JEPAC_BIN="$BIN" sh "$TOP/tools/cexact.sh" --count 2 --cflags -march=native \
	"$T/pusht/model.safetensors" -- -O0 --top=predict-step
"$T/bench" "$STEPS"
/usr/bin/python3 "$TOP/bench/cmodel_torch.py" "$T/pusht" "$STEPS"
