"""det.py -- runs jepac twice per (level, emit) and compares the outputs.

usage: det.py OUTDIR INPUT [-O0,-O1,-O2] [ir,dot,c,verilog,stats] [EXTRA FLAGS...]

For each -O level and --emit kind, run 1 writes with -o FILE, run 2 writes
to stdout with MALLOC_PERTURB_ set (so output that depends on
uninitialised heap memory shows up); both must be byte-identical (for stats: after dropping the "run"
object, which holds time and memory).  A backend that reports "not
implemented" (exit 1, one error line) must do so identically both times;
it is counted as skipped.  Prints one line per (level, emit) and a summary;
exit 1 on any difference, crash or unexpected exit status, or if nothing
was compared.
"""
import json
import os
import subprocess
import sys


def strip_run(data):
    d = json.loads(data)
    d.pop('run', None)
    return json.dumps(d, sort_keys=False, indent=1).encode()


def jepac(args, perturb=False):
    env = dict(os.environ)
    if perturb:   # glibc fills malloc'd and freed memory with this byte
        env['MALLOC_PERTURB_'] = '165'
    return subprocess.run(['jepac'] + args, capture_output=True, env=env)


def one(outdir, inp, level, kind, extra):
    path = os.path.join(outdir, 'out%s.%s' % (level, kind))
    base = [level, '--emit=' + kind] + extra + [inp]
    r1 = jepac(base + ['-o', path])
    r2 = jepac(base, perturb=True)
    if r1.returncode != r2.returncode or r1.stderr != r2.stderr:
        return 'FAIL exit/stderr differ: %d %r vs %d %r' % (
            r1.returncode, r1.stderr[:200], r2.returncode, r2.stderr[:200])
    if r1.returncode == 1 and b'not implemented' in r1.stderr \
            and r1.stderr.count(b'\n') == 1 and not r2.stdout:
        return 'skip (not implemented)'
    if r1.returncode != 0:
        return 'FAIL exit %d: %r' % (r1.returncode, r1.stderr[:300])
    a = open(path, 'rb').read()
    b = r2.stdout
    if not a:
        return 'FAIL empty output'
    if kind == 'stats':
        a, b = strip_run(a), strip_run(b)
    if a != b:
        n = next(i for i in range(min(len(a), len(b)) + 1)
                 if i == min(len(a), len(b)) or a[i] != b[i])
        return 'FAIL differ at byte %d (%d vs %d bytes)' % (n, len(a), len(b))
    return 'same (%d bytes)' % len(a)


def main():
    outdir, inp = sys.argv[1], sys.argv[2]
    levels = sys.argv[3].split(',')
    kinds = sys.argv[4].split(',')
    extra = sys.argv[5:]
    os.makedirs(outdir, exist_ok=True)
    same = fail = 0
    for level in levels:
        for kind in kinds:
            res = one(outdir, inp, level, kind, extra)
            print('%s %s: %s' % (level, kind, res))
            same += res.startswith('same')
            fail += res.startswith('FAIL')
    print('%d same, %d failed' % (same, fail))
    sys.exit(1 if fail or not same else 0)


main()
