"""fuzz.py -- mutation fuzzing of jepac's readers (seeded, reproducible).

usage: fuzz.py SEED COUNT OUTDIR FILE [JEPAC FLAGS...]

Writes COUNT mutants of FILE to OUTDIR/BASENAME/ (truncation, bit flips, byte runs, chunk
deletion/duplication, and for text: line shuffles and numeric tokens
replaced by extreme values) and runs `jepac FLAGS MUTANT` on each
with a 120 s timeout.  Acceptable: exit 0, or exit 1 with stderr made of
"warning:" lines and exactly one "jepac: error:"/"FILE:L:C: error:" line.
Anything else -- a signal, exit 2+, a sanitizer report, several error lines,
a timeout -- is reported as "BAD mutant-file: why" and the mutant is kept.
Exit 1 if any mutant was bad.
"""
import os
import random
import re
import subprocess
import sys

EXTREME = [b'0', b'-1', b'1', b'64', b'65', b'4294967295', b'4294967296',
           b'-2147483648', b'9223372036854775807', b'-9223372036854775808',
           b'18446744073709551616', b'1e308', b'nan', b'inf', b'-0', b'999999999']


def mutate(rng, data, text):
    d = bytearray(data)
    kind = rng.randrange(8 if text else 6)
    if kind == 0 and d:                       # truncate
        del d[rng.randrange(len(d)):]
    elif kind == 1 and d:                     # flip 1..8 bits
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(d))
            d[i] ^= 1 << rng.randrange(8)
    elif kind == 2 and d:                     # overwrite a run with one byte
        i = rng.randrange(len(d))
        n = rng.randint(1, 16)
        d[i:i + n] = bytes([rng.choice([0, 0xff, 0x7f, 0x80, ord('9')])]) * n
    elif kind == 3 and d:                     # delete a chunk
        i = rng.randrange(len(d))
        del d[i:i + rng.randint(1, 64)]
    elif kind == 4 and d:                     # duplicate a chunk
        i = rng.randrange(len(d))
        d[i:i] = d[i:i + rng.randint(1, 64)]
    elif kind == 5 and len(d) > 8:            # header region: flip early bytes
        i = rng.randrange(min(len(d), 512))
        d[i] = rng.randrange(256)
    elif kind == 6:                           # text: replace a number
        nums = [m.span() for m in re.finditer(rb'-?\d+', bytes(d))]
        if nums:
            a, b = rng.choice(nums)
            d[a:b] = rng.choice(EXTREME)
    else:                                     # text: swap / drop / dup lines
        lines = bytes(d).split(b'\n')
        if len(lines) > 1:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            op = rng.randrange(3)
            if op == 0:
                lines[i], lines[j] = lines[j], lines[i]
            elif op == 1:
                del lines[i]
            else:
                lines.insert(i, lines[j])
        d = bytearray(b'\n'.join(lines))
    return bytes(d)


def judge(r):
    err = r.stderr.decode('utf-8', 'replace')
    if 'Sanitizer' in err or 'runtime error' in err:
        return 'sanitizer report: ' + err.strip().splitlines()[0][:200]
    if r.returncode == 0:
        return None
    if r.returncode != 1:
        return 'exit %d: %s' % (r.returncode, err.strip()[-300:])
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errs = [ln for ln in lines if 'error:' in ln]
    other = [ln for ln in lines if 'error:' not in ln and 'warning:' not in ln]
    if len(errs) != 1 or other:
        return 'exit 1 but stderr is %r' % err[:300]
    return None


def main():
    seed, count, outdir, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    flags = sys.argv[5:]
    rng = random.Random(seed)
    data = open(path, 'rb').read()
    text = path.endswith('.jir')
    ext = os.path.splitext(path)[1]
    outdir = os.path.join(outdir, os.path.basename(path))
    os.makedirs(outdir, exist_ok=True)
    # a checkpoint's config.json must sit beside the mutant
    cfg = os.path.join(os.path.dirname(path), 'config.json')
    if os.path.exists(cfg) and not text:
        dst = os.path.join(outdir, 'config.json')
        if not os.path.exists(dst):
            open(dst, 'wb').write(open(cfg, 'rb').read())
    bad = ok0 = ok1 = 0
    for k in range(count):
        m = data
        for _ in range(rng.randint(1, 3)):
            m = mutate(rng, m, text)
        f = os.path.join(outdir, 'm%04d%s' % (k, ext))
        open(f, 'wb').write(m)
        try:
            r = subprocess.run(['jepac'] + flags + [f], capture_output=True, timeout=120,
                               stdin=subprocess.DEVNULL)
            why = judge(r)
        except subprocess.TimeoutExpired:
            why = 'timeout'
        if why:
            bad += 1
            print('BAD %s: %s' % (f, why))
        else:
            ok0 += r.returncode == 0
            ok1 += r.returncode == 1
            os.unlink(f)
    print('fuzz %s: %d mutants, %d accepted, %d rejected cleanly, %d bad'
          % (os.path.basename(path), count, ok0, ok1, bad))
    sys.exit(1 if bad else 0)


main()
