"""The world top (--top=world) is the encoder, the projector and the
predict-step chained with the history kept on chip: checks it window by
window against separate runs of those tops on the float graph.

    world.py JEPAC MODEL VECTORS T FRAMES ACTION [PARTS]

VECTORS are --top=world input lines (real values): the patches stream (T
tokens) then the action stream (T tokens, token 0 read).  For window w the
reference encodes the frame (`--top=encoder`, which ends in the projector),
keeps the last FRAMES embeddings and actions (zeros before the first
window), runs the serial predict-step on them and compares with the world
top's output, exactly (the same float operations in the same order).
Prints "world: N windows match" or the first difference; exit 1 on one.
PARTS (default MODEL) is the checkpoint the parts are run from (a control:
another checkpoint must not match).
"""
import subprocess
import sys


def run(jepac, model, top, lines):
    out = subprocess.run([jepac, "--float", "--run", "--top=" + top, model],
                         input="".join(" ".join(repr(x) for x in l) + "\n" for l in lines),
                         capture_output=True, text=True, check=True).stdout
    return [[float(x) for x in l.split()] for l in out.splitlines() if l.strip()]


def main():
    jepac, model, vec = sys.argv[1:4]
    T, F, A = (int(x) for x in sys.argv[4:7])
    parts = sys.argv[7] if len(sys.argv) > 7 else model
    wins = [[float(x) for x in l.split()] for l in open(vec) if l.strip()]
    P = (len(wins[0]) - T * A) // T   # patch lanes per token
    emb = run(jepac, parts, "encoder", [w[:T * P] for w in wins])
    acts = [w[T * P:T * P + A] for w in wins]
    D = len(emb[0])
    steps = []
    for i in range(len(wins)):
        e, a = [], []
        for j in range(i - F + 1, i + 1):
            e += emb[j] if j >= 0 else [0.0] * D
            a += acts[j] if j >= 0 else [0.0] * A
        steps.append(e + a)
    ref = run(jepac, parts, "predict-step", steps)
    got = run(jepac, model, "world", wins)
    for i, (r, g) in enumerate(zip(ref, got)):
        if r != g:
            k = next(k for k in range(len(r)) if r[k] != g[k])
            print("world: MISMATCH in window %d lane %d: predict-step %r, world %r" % (i, k, r[k], g[k]))
            return 1
    if len(ref) != len(got) or not ref:
        print("world: %d windows from the world top, %d from the parts" % (len(got), len(ref)))
        return 1
    print("world: %d windows match" % len(ref))
    return 0


sys.exit(main())
