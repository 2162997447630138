"""check_help.py -- `jepac --help` against the source of truth.

usage: check_help.py PASSES_DEF INPUT.jir

Checks that --help names every pass of passes/passes.def (with its help
text), and that each printed -ON pipeline is literally the sequence of
passes jepac runs at -ON (read from the "; after PASS" headers of
--print-after-all).  Prints one line per problem; exit 1 if any.
"""
import re
import subprocess
import sys


def run(args):
    return subprocess.run(['jepac'] + args, capture_output=True, text=True)


def main():
    passes_def, jir = sys.argv[1], sys.argv[2]
    defs = re.findall(r'^PASS\(\s*\w+\s*,\s*"([^"]+)"\s*,\s*"([^"]*)"\)',
                      open(passes_def).read(), re.M)
    bad = []
    if len(defs) < 5:
        bad.append('passes.def: found only %d passes' % len(defs))
    h = run(['--help'])
    if h.returncode != 0 or h.stderr:
        bad.append('--help: exit %d, stderr %r' % (h.returncode, h.stderr))
    text = h.stdout
    for name, hlp in defs:
        if not re.search(r'^  %s +%s$' % (re.escape(name), re.escape(hlp)), text, re.M):
            bad.append('--help: pass %r with its help is missing' % name)
    for level in (0, 1, 2):
        m = re.search(r'^  -O%d:(.*)$' % level, text, re.M)
        if not m:
            bad.append('--help: no -O%d pipeline line' % level)
            continue
        printed = m.group(1).split()
        if printed == ['(none)']:
            printed = []
        r = run(['-O%d' % level, '--print-after-all', jir])
        ran = re.findall(r'^; after (\S+)$', r.stderr, re.M)
        if r.returncode != 0:
            bad.append('-O%d: exit %d' % (level, r.returncode))
        if printed != ran:
            bad.append('-O%d: --help says %s, jepac ran %s' % (level, printed, ran))
        for p in printed:
            if p not in [d[0] for d in defs]:
                bad.append('-O%d: unknown pass %r' % (level, p))
    for b in bad:
        print(b)
    if not bad:
        print('help ok: %d passes, 3 pipelines' % len(defs))
    sys.exit(1 if bad else 0)


main()
