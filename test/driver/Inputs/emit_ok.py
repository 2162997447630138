"""emit_ok.py -- accepts a backend run that either worked or is honestly
not implemented yet.

usage: emit_ok.py RCFILE OUT ERR MARKER...

rc 0: OUT is non-empty, contains every MARKER, ERR is empty.
rc 1: ERR is exactly one "jepac: error: ... not implemented" line, OUT empty.
Anything else (a crash, a sanitizer report, rc 2) fails.
"""
import sys

rc = int(open(sys.argv[1]).read())
out = open(sys.argv[2], errors='replace').read()
err = open(sys.argv[3], errors='replace').read()
markers = sys.argv[4:]
if rc == 0:
    missing = [m for m in markers if m not in out]
    if not out or missing or err:
        sys.exit('rc 0 but output lacks %s or stderr %r' % (missing, err[:200]))
    print('emitted')
elif rc == 1:
    lines = err.splitlines()
    if len(lines) != 1 or not lines[0].startswith('jepac: error:') \
            or 'not implemented' not in lines[0] or out:
        sys.exit('rc 1 but stderr is %r' % err[:300])
    print('not implemented')
else:
    sys.exit('rc %d, stderr %r' % (rc, err[:300]))
