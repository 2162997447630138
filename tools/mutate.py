#!/usr/bin/python3
"""mutate.py -- mutation testing of the compiler: does the test suite notice
when one rewrite of a pass (or one line of a backend) is wrong?

usage: tools/mutate.py [--list] [--only ID,ID] [--tests "DIR DIR ..."] [--keep]

Each mutant is one source-level replacement (an exact string that must occur
once in its file) listed in MUTANTS below: a flipped rewrite rule, an
off-by-one, a wrong sign.  For each mutant, one at a time, in a scratch copy
of the repository (the tracked files of the work tree, under $TMPDIR): the
replacement is applied, the compiler rebuilt incrementally (one object file
and the link), and a fast subset of the suite (FAST_TESTS, ~1-2 minutes) run
with lit, stopping at the first failure (--max-failures=1).  A mutant is

  killed     some test failed (the suite noticed)
  survived   every test passed (a hole in the suite, or an equivalent mutant)
  stillborn  it did not build (not counted)

Prints one line per mutant and ends with "mutate: K of N mutants killed
(P%)".  Exit status 0 (this is a measuring tool; docs/benchmarks.md records
the figure).  Runs under nice; runtime is a few minutes per mutant on a
loaded 2-core machine.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIT = '/usr/lib/llvm-14/build/utils/lit/lit.py'

# The fast subset: every pass's own folder and the checks that see their
# effect (equivalence on whole models, fixed point, simulation of ops).
FAST_TESTS = ('fold dce zero strength cse width balance pipeline equiv '
              'determinism/fixpoint.test interp cbackend/ops.test verilog/sim-ops.test '
              'verilog/sim-matrix.test')

# (id, file, old, new, what it breaks); old and new may be tuples of strings
# (several replacements in the same file, applied in order).
MUTANTS = [
    ('fold-sub0', 'passes/fold.c',
     'case OP_SUB:\n\t\tif (is_int(m, b, 0))', 'case OP_SUB:\n\t\tif (is_int(m, a, 0))',
     'fold: 0 - y folded to y (instead of x - 0 to x)'),
    ('fold-shl', 'passes/fold.c',
     'case OP_SHL: case OP_SHR:\n\t\tif (n->imm == 0)', 'case OP_SHL: case OP_SHR:\n\t\tif (n->imm <= 1)',
     'fold: shifts by 1 dropped'),
    ('dce-arg0', 'passes/dce.c',
     'for (uint32_t i = 0; i < n->nargs; i++) {', 'for (uint32_t i = 1; i < n->nargs; i++) {',
     'dce: first operands not marked live'),
    ('zero-one', 'passes/zero.c',
     'return n->imm == 0;', 'return n->imm == 0 || n->imm == 1;',
     'zero-elim: cmul by 1 replaced by 0'),
    ('csd-digit', 'passes/cmvm.c',
     'int d = (u & 3) == 1 ? 1 : -1;', 'int d = (u & 3) == 3 ? 1 : -1;',
     'strength/cse: wrong CSD digit sign'),
    ('cmvm-pair', 'passes/cmvm.c',
     'x.shift - m, y.var, y.shift - m, x.sign != y.sign);', 'x.shift - m, y.var, y.shift - m, x.sign == y.sign);',
     'cse: shared pair built as a + b instead of a - b'),
    ('cse-imm', 'passes/cse.c',
     ('a->imm != b->imm || a->aux != b->aux', '\th = hash_mix(h, (uint64_t)n->imm);\n'),
     ('a->aux != b->aux', ''),
     'cse: merges nodes that differ only in their immediate'),
    ('cse-comm', 'passes/cse.c',
     'return (op_info[n->op].flags & OPF_COMM) && n->nargs == 2;', 'return n->nargs == 2;',
     'cse: every two-operand op (sub, shifts, compares) treated as commutative'),
    ('width-sub', 'passes/width.c',
     'case OP_SUB: return (Range){x.lo - y.hi, x.hi - y.lo};', 'case OP_SUB: return (Range){x.lo - y.lo, x.hi - y.hi};',
     'width: wrong range of a difference'),
    ('width-add', 'passes/width.c',
     'case OP_ADD: return (Range){x.lo + y.lo, x.hi + y.hi};', 'case OP_ADD: return (Range){x.lo + y.lo, x.hi + y.hi - 1};',
     'width: sum range one short'),
    ('balance-sign', 'passes/balance.c',
     'c->stack[sp++] = a[1] << 1 | (neg ^ (n->op == OP_SUB));', 'c->stack[sp++] = a[1] << 1 | neg;',
     'balance: subtrahends become addends'),
    ('pipe-delay', 'passes/pipeline.c',
     'need[p] = s->stage[r] - s->stage[p];', 'need[p] = s->stage[r] - s->stage[p] - (s->stage[r] - s->stage[p] > 1);',
     'pipeline: delay chains one register short'),
    ('pipe-dce', 'passes/pipeline.c',
     'if (made || split)\n\t\tpass_dce(m, NULL);', 'if (0)\n\t\tpass_dce(m, NULL);',
     'pipeline: leaves the op copies it moved a register past'),
    ('lower-round', 'passes/lower.c',
     'double v = round(ldexp(c, F));', 'double v = floor(ldexp(c, F));',
     'lower: constants truncated instead of rounded'),
    ('verilog-sub', 'backends/verilog_ops.c',
     'fputs(n->op == OP_ADD ? " + " : n->op == OP_SUB ? " - " : " * ", w->f);',
     'fputs(n->op == OP_ADD ? " + " : n->op == OP_SUB ? " + " : " * ", w->f);',
     'verilog: sub written as +'),
    ('c-sub', 'backends/c_node.c',
     'case OP_SUB: bf(e, "%s - %s", x.s, y.s); break;', 'case OP_SUB: bf(e, "%s - %s", y.s, x.s); break;',
     'C model: operands of sub swapped'),
    ('eval-round', 'ir/eval.c',
     'i128 x = mval(v, big) + ((i128)1 << (k - 1));', 'i128 x = mval(v, big);',
     'interpreter: roundshr truncates'),
    ('timing-levels', 'ir/timing.c',
     'case OP_MAX: case OP_MIN:\n\t\treturn 2;', 'case OP_MAX: case OP_MIN:\n\t\treturn 0;',
     'delay model: max/min cost nothing'),
    # digit-serial Verilog (--digit): killed by verilog/sim-digit.test, which
    # is not in FAST_TESTS (run with --tests verilog/sim-digit.test)
    ('digit-subci', 'backends/verilog_digit.c',
     '\t\t        s, sub, D);', '\t\t        s, 0, D);',
     'digit-serial: sub without its carry-in of 1'),
    ('digit-rx', 'backends/verilog_digit.c',
     'return lo < ty_min(n->ty, n->width) || hi > ty_max(n->ty, n->width);',
     'return lo < ty_min(n->ty, n->width) && hi > ty_max(n->ty, n->width);',
     'digit-serial: a result re-extended only when it can leave its type both ways'),
    ('digit-shl', 'backends/verilog_digit.c',
     'unsigned e = (k + D - 1 - b) / D, src', 'unsigned e = (k + D - 2 - b) / D, src',
     'digit-serial: shl delays one bit short'),
    ('digit-sign', 'backends/verilog_digit.c',
     'sh <= ", g->sk[a] + g->NW - 1);', 'sh <= ", g->sk[a] + g->NW - 2);',
     'digit-serial: shr sign held from the wrong digit'),
    ('digit-conv', 'backends/verilog_digit.c',
     'g->sk[r] = b + g->NW;', 'g->sk[r] = b + g->NW + 1;',
     'digit-serial: converter output on the wrong skew'),
]


def pairs(old, new):
    """The (old, new) replacements of a mutant."""
    return list(zip(old, new)) if isinstance(old, tuple) else [(old, new)]


def sh(cmd, cwd, log, env=None):
    with open(log, 'w') as f:
        return subprocess.call(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, env=env)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--list', action='store_true')
    ap.add_argument('--only', default='')
    ap.add_argument('--tests', default=FAST_TESTS)
    ap.add_argument('--keep', action='store_true')
    a = ap.parse_args()
    muts = MUTANTS
    if a.only:
        want = a.only.split(',')
        muts = [m for m in MUTANTS if m[0] in want]
    if a.list:
        for m in muts:
            print('%-14s %-24s %s' % (m[0], m[1], m[4]))
        return 0
    for mid, path, old, new, _ in muts:   # every pattern must still match once
        for o in pairs(old, new):
            n = open(os.path.join(TOP, path)).read().count(o[0])
            if n != 1:
                sys.exit('mutate: %s: pattern occurs %d times in %s (update MUTANTS)' % (mid, n, path))
    scratch = tempfile.mkdtemp(prefix='jepac-mutate.')
    files = subprocess.check_output(['git', 'ls-files'], cwd=TOP, text=True).split()
    for f in files:
        os.makedirs(os.path.join(scratch, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(os.path.join(TOP, f), os.path.join(scratch, f))
    env = dict(os.environ)
    for k in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL'):
        env.pop(k, None)
    nice = ['nice', '-n', '10']
    if sh(nice + ['make', '-j2'], scratch, os.path.join(scratch, 'build0.log'), env):
        sys.exit('mutate: the unmutated copy does not build (see %s)' % scratch)
    env['JEPAC_BIN'] = os.path.join(scratch, 'build', 'bin')
    tests = [os.path.join(scratch, 'test', t) for t in a.tests.split()]
    lit = nice + ['/usr/bin/python3', LIT, '-q', '--max-failures=1'] + tests
    t0 = time.time()
    if sh(lit, scratch, os.path.join(scratch, 'lit0.log'), env):
        sys.exit('mutate: the fast subset fails without any mutant (see %s/lit0.log)' % scratch)
    print('mutate: fast subset passes unmutated (%.0f s)' % (time.time() - t0), flush=True)
    killed = counted = 0
    for mid, path, old, new, what in muts:
        src = os.path.join(scratch, path)
        orig = open(src).read()
        text = orig
        for o, n in pairs(old, new):
            text = text.replace(o, n)
        open(src, 'w').write(text)
        t0 = time.time()
        if sh(nice + ['make', '-j2'], scratch, os.path.join(scratch, mid + '.build.log'), env):
            verdict = 'stillborn'
        else:
            counted += 1
            fail = sh(lit, scratch, os.path.join(scratch, mid + '.lit.log'), env)
            verdict = 'killed' if fail else 'SURVIVED'
            killed += bool(fail)
        print('mutate: %-14s %-9s %4.0f s  %s' % (mid, verdict, time.time() - t0, what), flush=True)
        open(src, 'w').write(orig)
        os.utime(src)   # (newer than the mutated object: rebuilt next time)
    pct = 100.0 * killed / counted if counted else 0.0
    print('mutate: %d of %d mutants killed (%.0f%%)' % (killed, counted, pct))
    if a.keep:
        print('mutate: scratch copy kept in %s' % scratch)
    else:
        shutil.rmtree(scratch)
    return 0


if __name__ == '__main__':
    sys.exit(main())
