#!/usr/bin/python3
"""check.py -- replay fuzzer findings and check jepac's promises on each.

usage: check.py TARGET BADDIR JEPAC FLAGS... -- DIR...

Runs `JEPAC FLAGS` on every file of the DIRs (@@ in FLAGS is the file;
without @@ the file is stdin), with "-o /dev/null" replaced by a temporary
output path (added for --run).  The promises (README "Errors"):
  - exit 0, or exit 1 with stderr holding exactly one error line
    ("jepac: error: FILE: ..." or "FILE:LINE:COL: error: ...") and
    otherwise only "warning:" lines;
  - no crash, signal, sanitizer report, exit status >= 2, or run over 30 s;
  - no output file left after a failed run.
Every input breaking one is copied to BADDIR with a .why file.  Prints one
summary line; exit 1 if any input was bad.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ERR = re.compile(r'^(jepac: error: .+: .+|.+:\d+:\d+: error: .+)$')


def judge(r, out):
    err = r.stderr.decode('utf-8', 'replace')
    if 'Sanitizer' in err or 'runtime error' in err:
        return 'sanitizer report'
    if r.returncode not in (0, 1):
        return 'exit status %d' % r.returncode
    lines = [ln for ln in err.split('\n') if ln]
    errs = [ln for ln in lines if 'warning:' not in ln]
    if r.returncode == 0:
        return 'exit 0 with an error line' if errs else None
    if len(errs) != 1 or not ERR.match(errs[0]):
        return 'exit 1 but stderr is not one error line: %r' % err[:200]
    if os.path.exists(out):
        return 'exit 1 but the output file was left behind'
    return None


def main():
    a = sys.argv[1:]
    sep = a.index('--')
    target, baddir, jepac, flags, dirs = a[0], a[1], a[2], a[3:sep], a[sep + 1:]
    tmp = tempfile.mkdtemp(prefix='jepac-check-')
    out = os.path.join(tmp, 'out')
    flags = [out if f == '/dev/null' and i and flags[i - 1] == '-o' else f
             for i, f in enumerate(flags)]
    if '-o' not in flags:
        flags += ['-o', out]
    files = sorted(os.path.join(d, f) for d in dirs if os.path.isdir(d)
                   for f in os.listdir(d) if not f.startswith('.') and f != 'README.txt'
                   and os.path.isfile(os.path.join(d, f)))
    n0 = n1 = bad = 0
    for path in files:
        if os.path.exists(out):
            os.unlink(out)
        stdin = subprocess.DEVNULL if '@@' in flags else open(path, 'rb')
        argv = [jepac] + [path if f == '@@' else f for f in flags]
        try:
            r = subprocess.run(argv, stdin=stdin, capture_output=True, timeout=30)
            why = judge(r, out)
        except subprocess.TimeoutExpired:
            why = 'runs over 30 s'
        if why:
            bad += 1
            os.makedirs(baddir, exist_ok=True)
            dst = os.path.join(baddir, '%s-%d' % (target, bad))
            shutil.copyfile(path, dst)
            with open(dst + '.why', 'w') as f:
                f.write('%s\n%s\n' % (why, ' '.join(argv)))
            print('BAD %s: %s' % (dst, why))
        else:
            n0 += r.returncode == 0
            n1 += r.returncode == 1
    shutil.rmtree(tmp, ignore_errors=True)
    print('check %s: %d inputs, %d accepted, %d rejected cleanly, %d bad'
          % (target, len(files), n0, n1, bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
