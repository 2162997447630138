"""emit_ok.py -- accepts a backend run that worked.

usage: emit_ok.py RCFILE OUT ERR MARKER...

Passes only if the exit status in RCFILE is 0, OUT is non-empty and
contains every MARKER, and ERR is empty.  Anything else (an error, a crash,
a sanitizer report, a warning) fails, with the reason on stderr.
"""
import sys

rc = int(open(sys.argv[1]).read())
out = open(sys.argv[2], errors='replace').read()
err = open(sys.argv[3], errors='replace').read()
markers = sys.argv[4:]
if rc != 0:
    sys.exit('rc %d, stderr %r' % (rc, err[:300]))
missing = [m for m in markers if m not in out]
if not out or missing or err:
    sys.exit('output lacks %s or stderr %r' % (missing, err[:200]))
print('emitted')
