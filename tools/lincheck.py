#!/usr/bin/python3
"""lincheck.py -- word-level formal equivalence of two combinational netlists
whose outputs are affine functions of their input bits (jepac's matrix tiles).

Usage: lincheck.py [--top NAME] [--yosys PROG] [--selfcheck N] [--ignore PORT]... [-v] GOLD.v GATE.v

Exit status: 0 "proven equivalent"; 1 "NOT equivalent" (a counterexample,
confirmed by Yosys's own evaluation of both netlists); 2 "cannot prove"
(something was not recognised) or an error.

Why: gold (`jepac -O0`: sums of `x * const`) and gate (`jepac -O2`: a shared
shift/add network, CSD digits, reassociated sums) are different adder
decompositions of the same integer sums.  Bit-level engines (SAT, ABC cec,
BDDs) find no internal equivalences and time out from 8x8 s8 tiles on.  Here
the comparison is done on the integers the words carry, which is exact and
linear-time in the netlist.

Algorithm (translation validation on Yosys's elaboration):
 1. Yosys reads each file, `hierarchy -check -auto-top; proc; flatten;
    opt_clean; check -assert; write_json` (no bit-blasting pass runs).
 2. Every input port bit b is a variable x_b in {0,1}.  A form is an affine
    integer polynomial F = c0 + sum c_b x_b with Python (unbounded) ints; its
    exact range over the input box is c0 + sum of the negative / positive c_b
    (the x_b are independent), so ranges are exact, not estimates.
 3. Each net bit gets a description "bit j of the integer F" (two's
    complement, infinite sign extension), or none.  An input bit is bit 0 of
    x_b; a constant bit is itself.  Cells are processed in topological order;
    only $add $sub $mul $neg $pos $not $shl $sshl are understood (binary
    $add/$sub/$mul must have A_SIGNED == B_SIGNED, as Yosys's frontend
    makes them).  For such a cell, result mod 2^Y_WIDTH depends only on
    each operand after extension/truncation to Y_WIDTH, taken mod 2^Y_WIDTH,
    so an operand needs a form U with U == its extended bits (mod 2^Y_WIDTH).
    The operand bit vector (after that extension) is read as a sum of
    weighted bits (weights 2^k, the top one -2^(n-1) when read as signed; a
    vector read as signed and as unsigned agree mod 2^n, both are tried):
    - constants and bits of a form whose range is within [0,1] (bit 0 of F is
      F itself, higher bits are 0) contribute weight * F exactly;
    - the other bits of one word F must be one contiguous field: bits 0..t-1
      of F at positions k0..k0+t-1, then copies of bit t-1 up to k0+L-1.  The
      field equals 2^k0 * F only when the range proves it: F in the signed
      t-bit range if the field is the signed top of the vector, else F in
      [0, 2^t) (no copies) or [0, 2^(t-1)) (with copies).  Anything else (a
      field not starting at bit 0 = a right shift, a gap, a failed range
      check) makes the operand unknown.
    The result word then is bit j of F_Y for j < Y_WIDTH, F_Y = U_A + U_B,
    U_A - U_B, c * U (one operand of $mul constant), -U, U, -U-1, U * 2^s
    (constant shift s).  A cell with an unknown operand or of another type
    gives its outputs no description; any use of such a bit, an undriven or
    multiply driven bit, x/z constants or a combinational loop => exit 2.
 4. Output bits are compared through a canonical key: bit j of F becomes
    bit j-z of F/2^z (z = common power of two of F's coefficients; j < z:
    constant 0), positions at or above the sign position of F's minimal
    signed width collapse to it (or to a constant when F has one sign), and a
    constant F gives a constant bit.  Equal keys mean equal Boolean functions,
    so if every output bit of every output port has the same key in gold and
    gate, the designs are equivalent for all 2^inputs input vectors.
 5. Otherwise a counterexample is searched (unit vectors on the differing
    coefficients, the extremes of both forms, all-zero, unit and random
    vectors, evaluated exactly from the forms); it is confirmed by Yosys
    `eval` of both netlists (and must match the forms' prediction).  When
    some output bit has no description (step 3 gave up), Yosys `eval`s both
    netlists at the extremes of the words that failed a range check (the
    likely wrap-arounds) and of the described outputs.  A vector on which
    Yosys's fully defined results differ => exit 1; else exit 2.
 Registers (jepac's pipelines): a $dff with a positive edge on the one clock
 input bit and no reset/enable is a pure delay: Q is described as D's word
 with latency + 1.  Every cell's variable operands must have one latency and
 all compared output bits one latency L (else exit 2), so at every cycle
 t >= F each output bit is the described function of the inputs at t - L,
 F >= L being the deepest register chain feeding the outputs (before that,
 register contents are undefined); F is printed.  With registers the
 counterexample confirmation and self-check (combinational `eval`) are
 skipped: a difference gives exit 2.  --ignore PORT leaves an output port
 out of the comparison (jepac's out_valid: a reset chain, not affine); the
 claim is then about the other ports only and says so.
 Extra self-check (not part of the proof): --selfcheck N random vectors (3 by
 default) are evaluated by Yosys on both netlists and compared with the
 forms' prediction; a mismatch is an internal error (exit 2).

Soundness: trusted are Yosys's Verilog parser/elaborator and passes (proc,
flatten, opt_clean), its JSON writer and the documented cell semantics
(Yosys manual, simlib.v), and this script's arithmetic on Python ints.  Every
step either keeps an exact description or gives up; nothing is sampled.
"""
import json
import operator
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

UNARY = {"$neg", "$pos", "$not"}
BINARY = {"$add", "$sub", "$mul", "$shl", "$sshl"}


class CannotProve(Exception):
    pass


def param(cell, name):
    v = cell["parameters"].get(name, 0)
    if isinstance(v, int):
        return v
    if not re.fullmatch(r"[01]+", v):
        raise CannotProve("parameter %s = %r" % (name, v))
    return int(v, 2)


# ---- affine forms: tuples (c0, c_1 .. c_N) over input bits ------------------

def f_add(a, b):
    return tuple(map(operator.add, a, b))


def f_scale(a, c):
    return tuple(map(c.__mul__, a))


def f_const(n, c):
    return (c,) + (0,) * n


def f_is_const(a):
    return not any(a[1:])


def f_range(a):
    lo = a[0] + sum(c for c in a[1:] if c < 0)
    hi = a[0] + sum(c for c in a[1:] if c > 0)
    return lo, hi


def f_eval(a, x):
    return a[0] + sum(c for c, v in zip(a[1:], x) if v)


def signed_fits(lo, hi, t):
    return -(1 << (t - 1)) <= lo and hi < (1 << (t - 1))


# ---- one netlist -----------------------------------------------------------

class Netlist:
    """The top module of a Yosys JSON file with every bit described."""

    def __init__(self, js, top):
        mods = js["modules"]
        if top is None:
            tops = [n for n, m in mods.items()
                    if param({"parameters": m.get("attributes", {})}, "top")]
            if len(tops) != 1:
                raise CannotProve("no unique top module: %s" % tops)
            top = tops[0]
        if top not in mods:
            raise CannotProve("no module %s" % top)
        self.mod = mods[top]
        self.name = top
        self.ports = self.mod["ports"]
        self.inputs = [(n, p) for n, p in self.ports.items() if p["direction"] == "input"]
        self.outputs = [(n, p) for n, p in self.ports.items() if p["direction"] == "output"]
        if any(p["direction"] not in ("input", "output") for p in self.ports.values()):
            raise CannotProve("inout ports are not supported")
        self.varnames = ["%s[%d]" % (n, i) for n, p in self.inputs for i in range(len(p["bits"]))]
        self.nvars = len(self.varnames)
        self.forms = []        # word id -> form
        self.ranges = []       # word id -> (lo, hi)
        self.lats = []         # word id -> registers between the inputs and it
        self.fills = []        # word id -> cycles until it no longer depends on
        #                        the registers' initial contents (>= lats)
        self.cur_fill = 0
        self.delayed = {}      # word id -> the word one register later
        self.clock = None      # the one clock bit of all $dff cells
        self.cur = set()       # latencies of the words read by the current cell
        self.inbits = set()
        self.fill = 0          # max fill of the compared output bits
        self.desc = {}         # bit id -> (word, j)
        self.why = {}          # bit id -> reason it has no description
        self.ncells = 0
        self.witnesses = []    # words that failed a range check
        self._inputs()
        self._cells()

    def word(self, form, lat=0, fill=0):
        self.forms.append(form)
        self.ranges.append(f_range(form))
        self.lats.append(lat)
        self.fills.append(max(lat, fill))
        return len(self.forms) - 1

    def _inputs(self):
        v = 0
        for _, p in self.inputs:
            for b in p["bits"]:
                if not isinstance(b, int):
                    raise CannotProve("constant bit in an input port")
                if b in self.desc:
                    raise CannotProve("input bit %d appears twice" % b)
                unit = [0] * (self.nvars + 1)
                unit[v + 1] = 1
                self.desc[b] = (self.word(tuple(unit)), 0)
                self.inbits.add(b)
                v += 1

    def _cells(self):
        """Kahn's algorithm over known cells; drivers are checked first."""
        drivers = {}
        bad = set()
        for b in self.desc:
            drivers[b] = "input"
        cells = self.mod["cells"]
        for cn, c in cells.items():
            dirs = c.get("port_directions", {})
            for pn, bits in c["connections"].items():
                if dirs.get(pn, "output") == "input":
                    continue
                for b in bits:
                    if isinstance(b, int):
                        if b in drivers:
                            bad.add(b)
                        drivers[b] = cn
        for b in bad:
            self.desc.pop(b, None)
        waiting = {}
        ready = []
        for cn, c in cells.items():
            if c["type"] not in UNARY | BINARY | {"$dff"}:
                for b, d in drivers.items():
                    if d == cn:
                        self.why[b] = "driven by a %s cell" % c["type"]
                continue
            need = {b for pn in ("A", "B", "D") for b in c["connections"].get(pn, [])
                    if isinstance(b, int) and b not in self.desc}
            waiting[cn] = need
            if not need:
                ready.append(cn)
        users = {}
        for cn, need in waiting.items():
            for b in need:
                users.setdefault(b, []).append(cn)
        for b in bad:
            self.why[b] = "multiply driven"
        while ready:
            cn = ready.pop()
            self.ncells += 1
            outs = self._cell(cn, cells[cn], bad)
            for b in outs:
                for u in users.get(b, []):
                    waiting[u].discard(b)
                    if not waiting[u]:
                        ready.append(u)
        for cn, need in waiting.items():
            if need:
                for b in cells[cn]["connections"].get("Y", cells[cn]["connections"].get("Q", [])):
                    if isinstance(b, int) and b not in self.why:
                        self.why[b] = "in a loop or fed by an unknown bit (cell %s)" % cn

    def _cell(self, cn, c, bad):
        """Describes Y of one cell; returns the bits newly described."""
        if c["type"] == "$dff":
            return self._dff(cn, c, bad)
        y = c["connections"]["Y"]
        try:
            self.cur, self.cur_fill = set(), 0
            form = self._cell_form(c)
            if len(self.cur) > 1:
                raise CannotProve("operands from different pipeline stages %s" % sorted(self.cur))
        except CannotProve as e:
            for b in y:
                if isinstance(b, int):
                    self.why[b] = "%s cell %s: %s" % (c["type"], cn, e)
            return []
        w = self.word(form, min(self.cur) if self.cur else 0, self.cur_fill)
        out = []
        for j, b in enumerate(y):
            if not isinstance(b, int):
                raise CannotProve("cell %s drives a constant" % cn)
            if b in bad:
                continue
            self.desc[b] = (w, j)
            out.append(b)
        return out

    def _dff(self, cn, c, bad):
        """A plain positive-edge register: Q = D one cycle later."""
        conn = c["connections"]
        clk = conn.get("CLK", [None])
        why = None
        if set(conn) != {"CLK", "D", "Q"} or param(c, "CLK_POLARITY") != 1 or len(clk) != 1:
            why = "not a plain positive-edge $dff"
        elif clk[0] not in self.inbits or self.clock not in (None, clk[0]):
            why = "clock is not one input port bit"
        elif any(not isinstance(b, int) or b not in self.desc or
                 f_is_const(self.forms[self.desc[b][0]]) for b in conn["D"]):
            why = "a constant or unknown bit is registered"
        out = []
        for d, q in zip(conn["D"], conn["Q"]):
            if why or q in bad:
                self.why[q] = "$dff cell %s: %s" % (cn, why)
                continue
            self.clock = clk[0]
            w, j = self.desc[d]
            if w not in self.delayed:
                self.delayed[w] = self.word(self.forms[w], self.lats[w] + 1, self.fills[w] + 1)
            self.desc[q] = (self.delayed[w], j)
            out.append(q)
        return out

    def _cell_form(self, c):
        t, conn = c["type"], c["connections"]
        yw = param(c, "Y_WIDTH")
        if yw != len(conn["Y"]) or param(c, "A_WIDTH") != len(conn["A"]):
            raise CannotProve("port widths do not match the parameters")
        if t in UNARY:
            ua = self.operand(conn["A"], param(c, "A_SIGNED"), yw)
            return {"$neg": f_scale(ua, -1), "$pos": ua,
                    "$not": f_add(f_scale(ua, -1), f_const(self.nvars, -1))}[t]
        if param(c, "B_WIDTH") != len(conn["B"]):
            raise CannotProve("port widths do not match the parameters")
        if t in ("$shl", "$sshl"):
            if param(c, "B_SIGNED") or any(b not in ("0", "1") for b in conn["B"]):
                raise CannotProve("shift by a variable or signed amount")
            s = int("".join(reversed(conn["B"])) or "0", 2)
            if s > 4096:
                raise CannotProve("shift by %d" % s)
            return f_scale(self.operand(conn["A"], param(c, "A_SIGNED"), yw), 1 << s)
        sg = param(c, "A_SIGNED")
        if sg != param(c, "B_SIGNED"):
            raise CannotProve("operands of mixed signedness")
        ua = self.operand(conn["A"], sg, yw)
        ub = self.operand(conn["B"], sg, yw)
        if t == "$add":
            return f_add(ua, ub)
        if t == "$sub":
            return f_add(ua, f_scale(ub, -1))
        if f_is_const(ua):
            return f_scale(ub, ua[0])
        if f_is_const(ub):
            return f_scale(ua, ub[0])
        raise CannotProve("product of two variable operands")

    def operand(self, bits, signed, yw):
        """A form equal (mod 2^yw) to bits extended/truncated to yw bits."""
        v = list(bits[:yw])
        if not v:
            raise CannotProve("empty operand")
        v += [v[-1] if signed else "0"] * (yw - len(v))
        why = None
        for as_signed in (True, False):
            try:
                return self.vector(v, as_signed)
            except CannotProve as e:
                why = why or e
        raise why

    def vector(self, v, as_signed):
        """The exact integer value of bit vector v read as (un)signed."""
        n = len(v)
        total = f_const(self.nvars, 0)
        fields = {}
        for k, b in enumerate(v):
            wt = -(1 << k) if as_signed and k == n - 1 else 1 << k
            if b in ("0", "1"):
                total = f_add(total, f_const(self.nvars, wt * int(b)))
                continue
            if not isinstance(b, int):
                raise CannotProve("bit %r" % (b,))
            if b not in self.desc:
                raise CannotProve("bit %d: %s" % (b, self.why.get(b, "undriven")))
            w, j = self.desc[b]
            self.cur_fill = max(self.cur_fill, self.fills[w])
            if not f_is_const(self.forms[w]):
                self.cur.add(self.lats[w])
            lo, hi = self.ranges[w]
            if lo >= 0 and hi <= 1:
                if j == 0:
                    total = f_add(total, f_scale(self.forms[w], wt))
                continue
            fields.setdefault(w, []).append((k, j))
        for w, f in fields.items():
            total = f_add(total, self.field(w, f, n, as_signed))
        return total

    def field(self, w, f, n, as_signed):
        k0, L = f[0][0], len(f)
        js = [j for _, j in f]
        t = max(js) + 1
        if [k for k, _ in f] != list(range(k0, k0 + L)) or \
                js != [min(i, t - 1) for i in range(L)]:
            raise CannotProve("bits of a word are not a field starting at bit 0")
        lo, hi = self.ranges[w]
        if as_signed and k0 + L == n:
            ok = signed_fits(lo, hi, t)
        else:
            ok = lo >= 0 and hi < (1 << (t if L == t else t - 1))
        if not ok:
            self.witnesses.append(w)
            raise CannotProve("a %d-bit slice of a word with range [%d, %d]%s" %
                              (t, lo, hi, " extended" if L > t else ""))
        return f_scale(self.forms[w], 1 << k0)

    # ---- output bits --------------------------------------------------------

    def key(self, b):
        """Canonical description of one output bit (see step 4)."""
        if b in ("0", "1"):
            return ("c", int(b))
        if not isinstance(b, int):
            raise CannotProve("constant %r bit" % b)
        if b not in self.desc:
            raise CannotProve(self.why.get(b, "undriven"))
        w, j = self.desc[b]
        k = canon(self.forms[w], j)
        return k + (self.lats[w],) if k[0] == "f" else k

    def bit_value(self, b, x, cache):
        if b in ("0", "1"):
            return int(b)
        w, j = self.desc[b]
        if w not in cache:
            cache[w] = f_eval(self.forms[w], x)
        return (cache[w] >> j) & 1

    def outputs_at(self, x):
        cache = {}
        return {n: [self.bit_value(b, x, cache) for b in p["bits"]] for n, p in self.outputs}


def canon(form, j):
    if f_is_const(form):
        return ("c", (form[0] >> j) & 1)
    g = 0
    for c in form:
        g |= c
    z = (g & -g).bit_length() - 1
    if j < z:
        return ("c", 0)
    form, j = tuple(c >> z for c in form), j - z
    lo, hi = f_range(form)
    t = 1
    while not signed_fits(lo, hi, t):
        t += 1
    if j >= t - 1:
        if lo >= 0:
            return ("c", 0)
        if hi < 0:
            return ("c", 1)
        j = t - 1
    return ("f", form, j)


# ---- Yosys -----------------------------------------------------------------

def vec_literal(bits):
    s = "".join(str(b) for b in reversed(bits))
    if len(bits) <= 8 or not re.fullmatch("[01]+", s):
        return "%d'b%s" % (len(bits), s)
    return "%d'h%x" % (len(bits), int(s, 2))


def split_ports(net, x):
    out, i = {}, 0
    for n, p in net.inputs:
        out[n] = x[i:i + len(p["bits"])]
        i += len(p["bits"])
    return out


def yosys_both(opts, files, tmp, vectors, want_json):
    """One Yosys run over both files (`design -reset` between): each is
    elaborated, written as JSON if want_json, and evaluated at vectors.
    Returns [(json or None, [outputs per vector])] for gold and gate."""
    top = "-top %s" % opts["top"] if opts["top"] else "-auto-top"
    cmds = []
    for i, vfile in enumerate(files):
        cmds += ["design -reset", "read_verilog %s" % vfile, "hierarchy -check %s" % top,
                 "proc", "flatten", "opt_clean", "check -assert"]
        if want_json:
            cmds.append("write_json %s" % os.path.join(tmp, "%d.json" % i))
        for vec in vectors:
            sets = " ".join("-set %s %s" % (n, vec_literal(v)) for n, v in vec.items())
            shows = " ".join("-show %s" % n for n in opts["outputs"])
            cmds.append("eval %s %s" % (sets, shows))
    r = subprocess.run([opts["yosys"], "-p", "; ".join(cmds)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    if r.returncode:
        tail = "\n".join(r.stdout.splitlines()[-5:])
        raise CannotProve("yosys failed on %s:\n%s" % (" / ".join(files), tail))
    res = re.findall(r"Eval result: \\(\S+) = \d+'([01xz]+)\.", r.stdout)
    per = len(opts["outputs"])
    if len(res) != 2 * per * len(vectors):
        raise CannotProve("yosys eval printed %d results, expected %d" %
                          (len(res), 2 * per * len(vectors)))
    out = []
    for i in range(2):
        evals = []
        for k in range(len(vectors)):
            at = (i * len(vectors) + k) * per
            evals.append({n: [int(c) if c in "01" else c for c in reversed(v)]
                          for n, v in res[at:at + per]})
        js = None
        if want_json:
            with open(os.path.join(tmp, "%d.json" % i)) as f:
                js = json.load(f)
        out.append((js, evals))
    return out


# ---- driver ----------------------------------------------------------------

def output_keys(net, ignore):
    """Keys of the compared output bits, and their one latency."""
    keys, lats = {}, set()
    for n, p in net.outputs:
        if n in ignore:
            continue
        ks = []
        for i, b in enumerate(p["bits"]):
            try:
                k = net.key(b)
            except CannotProve as e:
                raise CannotProve("%s[%d]: %s" % (n, i, e))
            if isinstance(b, int):
                net.fill = max(net.fill, net.fills[net.desc[b][0]])
            if k[0] == "f":
                lats.add(k[3])
                k = k[:3]
            ks.append(k)
        keys[n] = ks
    if len(lats) > 1:
        raise CannotProve("%s: outputs at different latencies %s" % (net.name, sorted(lats)))
    return keys, (lats.pop() if lats else 0)


def first_diff(ng, nh, ignore):
    """(port, bit, gold key, gate key) of the first difference or None;
    and the two latencies."""
    (kg, lg), (kh, lh) = output_keys(ng, ignore), output_keys(nh, ignore)
    for n, _ in ng.outputs:
        for i, (a, b) in enumerate(zip(kg.get(n, []), kh.get(n, []))):
            if a != b:
                return (n, i, a, b), lg, lh
    return None, lg, lh


def describe(key, names):
    if key[0] == "c":
        return "constant %d" % key[1]
    form, j = key[1], key[2]
    terms = ["%+d*%s" % (c, names[i]) for i, c in enumerate(form[1:]) if c]
    s = " ".join(terms[:6]) + (" ... (%d terms)" % len(terms) if len(terms) > 6 else "")
    return "bit %d of (%d %s)" % (j, form[0], s)


def candidates(nvars, kg, kh, seed):
    yield [0] * nvars
    if kg[0] == "f" and kh[0] == "f":
        for i in range(nvars):
            if kg[1][i + 1] != kh[1][i + 1]:
                yield [int(k == i) for k in range(nvars)]
    for k in (kg, kh):
        if k[0] == "f":
            yield from extremes(k[1])
    for i in range(nvars):
        yield [int(k == i) for k in range(nvars)]
        yield [int(k != i) for k in range(nvars)]
    rng = random.Random(seed)
    for _ in range(512):
        yield [rng.randint(0, 1) for _ in range(nvars)]


def coeff_note(kg, kh, names):
    if kg[0] != "f" or kh[0] != "f":
        return ""
    if kg[2] != kh[2]:
        return "; same form, bit positions %d vs %d" % (kg[2], kh[2])
    for i, (a, b) in enumerate(zip(kg[1], kh[1])):
        if a != b:
            what = "constant term" if i == 0 else "coefficient of %s" % names[i - 1]
            return "; first differing %s: gold %d, gate %d" % (what, a, b)
    return ""


def refute(opts, files, nets, tmp, diff):
    ng, nh = nets
    port, bit, kg, kh = diff
    names = ng.varnames
    print("lincheck: %s[%d] differs: gold = %s; gate = %s%s" %
          (port, bit, describe(kg, names), describe(kh, names), coeff_note(kg, kh, names)))
    for x in candidates(ng.nvars, kg, kh, 1):
        pg, ph = ng.outputs_at(x), nh.outputs_at(x)
        if pg == ph:
            continue
        vec = split_ports(ng, x)
        (_, eg), (_, eh) = yosys_both(opts, files, tmp, [vec], False)
        if eg[0] != pg or eh[0] != ph:
            raise CannotProve("internal error: Yosys eval disagrees with the forms")
        print_cex(vec, eg[0], eh[0])
        return 1
    raise CannotProve("forms differ but no counterexample was found")


def selfcheck_vectors(ng, count):
    rng = random.Random(12345)
    vecs = []
    for _ in range(count):
        vecs.append([rng.randint(0, 1) for _ in range(ng.nvars)])
    return vecs


def extremes(form):
    """The input vectors at which form reaches its maximum and its minimum."""
    return [[int(c > 0) for c in form[1:]], [int(c < 0) for c in form[1:]]]


def simulate_both(opts, files, nets, tmp, xs):
    """Yosys eval of both netlists on xs; the first differing vector or None."""
    vecs = [split_ports(nets[0], x) for x in xs]
    (_, eg), (_, eh) = yosys_both(opts, files, tmp, vecs, False)
    defined = lambda r: all(c in (0, 1) for v in r.values() for c in v)
    for vec, a, b in zip(vecs, eg, eh):
        if a != b and defined(a) and defined(b):
            return vec, a, b
    return None


def print_cex(vec, eg, eh):
    ins = ", ".join("%s = %s" % (n, vec_literal(v)) for n, v in vec.items())
    print("lincheck: counterexample (confirmed by yosys eval): %s" % ins)
    for n in eg:
        if eg[n] != eh[n]:
            print("lincheck:   %s: gold %s, gate %s" % (n, vec_literal(eg[n]), vec_literal(eh[n])))
    print("lincheck: NOT equivalent")


def fallback(opts, files, nets, tmp, err):
    """No proof: look for a counterexample by simulation at the input vectors
    that drive the words that failed a range check (overflow candidates) and
    the gold outputs to their extremes; Yosys decides, so a hit is real."""
    print("lincheck: cannot prove: %s" % err)
    xs = [[0] * nets[0].nvars, [1] * nets[0].nvars]
    for net in nets:
        for w in net.witnesses[:16]:
            xs += extremes(net.forms[w])
        for _, p in net.outputs:
            for b in p["bits"]:
                if b in net.desc and len(xs) < 256:
                    xs += extremes(net.forms[net.desc[b][0]])
    seen, uniq = set(), []
    for x in xs:
        if tuple(x) not in seen:
            seen.add(tuple(x))
            uniq.append(x)
    hit = simulate_both(opts, files, nets, tmp, uniq)
    if hit is None:
        print("lincheck: no counterexample among %d simulated vectors" % len(uniq))
        return 2
    print_cex(*hit)
    return 1


def check(opts, files):
    tmp = tempfile.mkdtemp(prefix="lincheck")
    try:
        nets = [Netlist(js, opts["top"])
                for js, _ in yosys_both(dict(opts, outputs=[]), files, tmp, [], True)]
        ng, nh = nets
        opts["outputs"] = [n for n, _ in ng.outputs]
        sig = lambda n: [(k, p["direction"], len(p["bits"])) for k, p in n.ports.items()]
        if sorted(sig(ng)) != sorted(sig(nh)) or [k for k, _ in ng.inputs] != [k for k, _ in nh.inputs]:
            raise CannotProve("the two modules have different ports")
        if opts["verbose"]:
            for net, tag in ((ng, "gold"), (nh, "gate")):
                print("lincheck: %s: %s, %d cells described, %d words, %d input bits" %
                      (tag, net.name, net.ncells, len(net.forms), net.nvars))
        seq = any(n.clock is not None or any(re.search("dff|latch|mem", c["type"])
                                               for c in n.mod["cells"].values()) for n in nets)
        try:
            diff, lg, lh = first_diff(ng, nh, opts["ignore"])
        except CannotProve as e:
            if seq:
                raise
            return fallback(opts, files, nets, tmp, e)
        xs = selfcheck_vectors(ng, 0 if seq else opts["selfcheck"])
        if xs:
            vecs = [split_ports(ng, x) for x in xs]
            for net, (_, ev) in zip(nets, yosys_both(opts, files, tmp, vecs, False)):
                if any(net.outputs_at(x) != e for x, e in zip(xs, ev)):
                    raise CannotProve("internal error: self-check vector disagrees with Yosys eval")
        if diff is None:
            nb = sum(len(p["bits"]) for n, p in ng.outputs if n not in opts["ignore"])
            print("lincheck: proven equivalent: %d output bits, %d input bits (%s)" %
                  (nb, ng.nvars, ng.name))
            if seq or opts["ignore"]:
                print("lincheck: latency: gold %d, gate %d cycles (each output bit at cycle t is"
                      " a function of the inputs at t - latency, for t >= %d, %d); not compared: %s"
                      % (lg, lh, ng.fill, nh.fill, ", ".join(opts["ignore"]) or "-"))
            return 0
        if seq:
            print("lincheck: %s[%d] differs" % diff[:2])
            raise CannotProve("forms differ; counterexamples are not confirmed on netlists with registers")
        return refute(opts, files, nets, tmp, diff)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    opts = {"top": None, "yosys": shutil.which("yosys") or "yosys", "selfcheck": 3,
            "verbose": False, "ignore": []}
    files = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--top", "--yosys", "--selfcheck") and i + 1 < len(argv):
            opts[a[2:]] = int(argv[i + 1]) if a == "--selfcheck" else argv[i + 1]
            i += 2
            continue
        if a == "--ignore" and i + 1 < len(argv):
            opts["ignore"].append(argv[i + 1])
            i += 2
            continue
        if a == "-v":
            opts["verbose"] = True
        elif a.startswith("-"):
            print(__doc__.split("\n\n")[0], file=sys.stderr)
            return 2
        else:
            files.append(a)
        i += 1
    if len(files) != 2:
        print("usage: lincheck.py [--top NAME] [--yosys PROG] [--selfcheck N] [--ignore PORT]... [-v] GOLD.v GATE.v",
              file=sys.stderr)
        return 2
    try:
        return check(opts, files)
    except CannotProve as e:
        print("lincheck: cannot prove: %s" % e)
        return 2
    except (KeyError, ValueError, TypeError, IndexError, OSError) as e:
        print("lincheck: cannot prove: unexpected netlist or tool failure: %r" % (e,))
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
