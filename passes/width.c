/*
 * width.c -- value-range (bit-width) inference.
 *
 * Interval arithmetic over the exact integer graph, in one forward sweep in
 * topological order: every integer node gets an interval [lo, hi] that
 * holds all of its lanes' values for every possible input.  Inputs start
 * with their port type's full range; constants, tensors and the ops of
 * docs/ir.md propagate exact bounds (matvec and bmatvec row by row from the
 * weights).  A node whose exact interval does not fit its result type may
 * wrap, so its interval becomes the type's full range.
 *
 * Then every node whose consumers read it only as a value is narrowed to the
 * fewest bits that hold its interval (keeping its signedness); that is what
 * trims each adder to the bits it needs.  Consumers that see the bit
 * pattern of an operand (trunc, slice, lut) or define the interface (output
 * ports) keep their operand as it is, and input ports never change.  The
 * ring property of wrap-around arithmetic is not needed: narrowing is
 * value-preserving by construction (an `ext` keeps enough bits for its
 * operand's type; a `sat` narrowed to its interval clamps identically).
 *
 * Registers are transparent (a reg's interval is its operand's); graphs
 * with register cycles are left unchanged.  Linear in nodes + operands
 * (+ weights for matrix ops).
 *
 * Requires: a compacted, valid module.  Preserves: semantics, ports.
 */
#include <stdlib.h>

#include "passes.h"

typedef __int128 Wide;

typedef struct Range {
	Wide lo, hi;
} Range;

static Range full(const Node *n)
{
	return (Range){ty_min(n->ty, n->width), n->ty == TY_U && n->width == 64
	               ? ((Wide)1 << 64) - 1 : (Wide)ty_max(n->ty, n->width)};
}

static Range hull(Range a, Range b)
{
	return (Range){a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
}

static Wide mag(Range a)
{
	Wide l = a.lo < 0 ? -a.lo : a.lo, h = a.hi < 0 ? -a.hi : a.hi;
	return l > h ? l : h;
}

/* Product bounds; operands beyond 2^62 give an unbounded (huge) range. */
static Range mul_range(Range a, Wide c0, Wide c1)
{
	Wide lim = (Wide)1 << 62;
	if (mag(a) > lim || mag((Range){c0, c1}) > lim)
		return (Range){-((Wide)1 << 126), (Wide)1 << 126};
	Wide p[4] = {a.lo * c0, a.lo * c1, a.hi * c0, a.hi * c1};
	Range r = {p[0], p[0]};
	for (int i = 1; i < 4; i++)
		r = hull(r, (Range){p[i], p[i]});
	return r;
}

/* Wide floor division by 2^k. */
static Wide floor_shift(Wide v, int k)
{
	return v >= 0 ? v >> k : -((-v + ((Wide)1 << k) - 1) >> k);   /* no shift of negatives */
}

static const Wide LIMIT = (Wide)1 << 100;

static Range code_range(const Tensor *t)
{
	Range r = {0, 0};
	if (t->n)
		r.lo = r.hi = t->codes[0];
	for (size_t i = 0; i < t->n; i++)
		r = hull(r, (Range){t->codes[i], t->codes[i]});
	return r;
}

/* Bounds of sum over c in [c0, c1) of W[row][c] * x, x in a. */
static Range dot_range(const Tensor *t, uint32_t row, uint32_t c0, uint32_t c1, Range a)
{
	Range s = {0, 0};
	const int32_t *w = t->codes + (size_t)row * t->dims[1];
	for (uint32_t c = c0; c < c1; c++) {
		Range p = mul_range(a, w[c], w[c]);
		s.lo += p.lo;
		s.hi += p.hi;
		if (s.lo < -LIMIT || s.hi > LIMIT)
			return (Range){-LIMIT, LIMIT};
	}
	return s;
}

static Range matrix_range(const Module *m, const Node *n, Range a)
{
	const Tensor *t = ir_tget(m, n->aux);
	uint32_t cols = t->dims[1], bs = n->op == OP_BMATVEC ? Q4_BLOCK : cols;
	Range r = {0, 0};
	int first = 1;
	for (uint32_t row = 0; row < t->dims[0]; row++)
		for (uint32_t c0 = 0; c0 < cols; c0 += bs) {
			uint32_t c1 = c0 + bs < cols ? c0 + bs : cols;
			Range d = dot_range(t, row, c0, c1, a);
			r = first ? d : hull(r, d);
			first = 0;
		}
	return r;
}

static Range op_range(const Module *m, const Node *n, const Range *rg)
{
	const Ref *a = ir_args(m, n);
	Range x = n->nargs ? rg[a[0]] : full(n), y = n->nargs > 1 ? rg[a[1]] : x;
	int sh = n->imm >= 0 && n->imm < 64 ? (int)n->imm : 0;   /* shift amounts (verified) */
	Wide k = (Wide)1 << sh;
	switch (n->op) {
	case OP_CONST: return (Range){n->imm, n->imm};
	case OP_VCONST: return code_range(ir_tget(m, n->aux));
	case OP_ADD: return (Range){x.lo + y.lo, x.hi + y.hi};
	case OP_SUB: return (Range){x.lo - y.hi, x.hi - y.lo};
	case OP_NEG: return (Range){-x.hi, -x.lo};
	case OP_MUL: return mul_range(x, y.lo, y.hi);
	case OP_CMUL: return mul_range(x, n->imm, n->imm);
	case OP_SHL: return n->imm < 62 ? (Range){x.lo * k, x.hi * k} : full(n);
	case OP_SHR: return (Range){floor_shift(x.lo, sh), floor_shift(x.hi, sh)};
	case OP_ROUNDSHR: return (Range){floor_shift(x.lo + k / 2, sh), floor_shift(x.hi + k / 2, sh)};
	case OP_EXT: case OP_REG: case OP_EXTRACT: case OP_RMAX: return x;
	case OP_TALL: case OP_TDELAY: case OP_TPICK: return x;
	case OP_TBUF: case OP_WDELAY: return hull(x, (Range){0, 0});   /* later tokens, reset: 0 */
	case OP_TPOS: {   /* rows past the tensor's read 0 */
		const Tensor *t = ir_tget(m, n->aux);
		Range c = code_range(t);
		return (uint64_t)t->dims[0] * n->len < (uint64_t)n->len * m->tokens ? hull(c, (Range){0, 0}) : c;
	}
	case OP_SAT: {
		Range f = full(n);
		return (Range){x.lo < f.lo ? f.lo : x.lo > f.hi ? f.hi : x.lo,
		               x.hi > f.hi ? f.hi : x.hi < f.lo ? f.lo : x.hi};
	}
	case OP_EQ: case OP_NE: case OP_LT: case OP_LE: return (Range){0, 1};
	case OP_SELECT: return hull(y, rg[a[2]]);
	case OP_MAX: return (Range){x.lo > y.lo ? x.lo : y.lo, x.hi > y.hi ? x.hi : y.hi};
	case OP_MIN: return (Range){x.lo < y.lo ? x.lo : y.lo, x.hi < y.hi ? x.hi : y.hi};
	case OP_LUT: return code_range(ir_tget(m, n->aux));
	case OP_CONCAT: case OP_TSEQ: {   /* tseq: tokens past its operands read 0 */
		Range r = n->op == OP_TSEQ && n->nargs < m->tokens ? hull(x, (Range){0, 0}) : x;
		for (uint32_t i = 1; i < n->nargs; i++)
			r = hull(r, rg[a[i]]);
		return r;
	}
	case OP_SUM: return (Range){x.lo * n->imm, x.hi * n->imm};
	case OP_MATVEC: case OP_BMATVEC: return matrix_range(m, n, x);
	case OP_VCMUL: {
		Range c = code_range(ir_tget(m, n->aux));
		return mul_range(x, c.lo, c.hi);
	}
	default: return full(n);
	}
}

/* Ops that read an operand's bit pattern rather than its value. */
static int reads_bits(int op)
{
	return op == OP_TRUNC || op == OP_SLICE || op == OP_LUT || op == OP_OUTPUT;
}

static int bits_for(int ty, Range r)
{
	for (int w = 1; w <= 64; w++) {
		Wide lo = ty == TY_U ? 0 : -((Wide)1 << (w - 1));
		Wide hi = ty == TY_U ? ((Wide)1 << w) - 1 : ((Wide)1 << (w - 1)) - 1;
		if (r.lo >= lo && r.hi <= hi)
			return w;
	}
	return 64;
}

static Ref root(Ref *up, Ref r)
{
	while (up[r] != r)
		r = up[r] = up[up[r]];
	return r;
}

/* Token ops that move values between tokens or windows keep their
 * operands' type (tbuf, tall, tdelay, tpick, tseq, wdelay): each such op
 * and its operands get the widest width of the group they make. */
static void same_width(const Module *m, const Ref *order, int64_t nord, uint8_t *wn)
{
	Ref *up = xmalloc((m->nnodes + 1) * sizeof *up);
	for (Ref r = 0; r <= m->nnodes; r++)
		up[r] = r;
	for (int64_t k = 0; k < nord; k++) {
		const Node *n = ir_get(m, order[k]);
		if (!(op_info[n->op].flags & OPF_TOKEN) || n->op == OP_SATTN || n->op == OP_SCATTN)
			continue;
		for (uint32_t i = 0; i < n->nargs; i++) {
			Ref a = root(up, ir_arg(m, n, i)), b = root(up, order[k]);
			if (a != b)
				up[a] = b;
		}
	}
	for (int64_t k = 0; k < nord; k++) {
		Ref b = root(up, order[k]);
		wn[b] = wn[order[k]] > wn[b] ? wn[order[k]] : wn[b];
	}
	for (int64_t k = 0; k < nord; k++)
		wn[order[k]] = wn[root(up, order[k])];
	free(up);
}

int pass_width(Module *m, const PassOpts *o)
{
	/* operands first whatever the textual order (an operand written after
	 * its user is not a register cycle: only ir_topo failing is) */
	Ref *order = xmalloc((m->nnodes + 1) * sizeof *order);
	int64_t nord = ir_topo(m, order);
	if (nord < 0) {
		free(order);
		return 0;
	}
	Range *rg = xcalloc(m->nnodes + 1, sizeof *rg);
	uint8_t *pinned = xcalloc(m->nnodes + 1, 1);
	for (int64_t k = 0; k < nord; k++) {
		Ref r = order[k];
		const Node *n = ir_get(m, r);
		if (n->ty == TY_F || n->op == OP_INPUT) {
			rg[r] = full(n);
			continue;
		}
		Range v = op_range(m, n, rg), f = full(n);
		rg[r] = v.lo >= f.lo && v.hi <= f.hi ? v : f;
		for (uint32_t i = 0; i < n->nargs; i++)
			if (reads_bits(n->op) || n->ty == TY_F)
				pinned[ir_arg(m, n, i)] = 1;
	}
	uint8_t *wn = xcalloc(m->nnodes + 1, 1);
	for (int64_t k = 0; k < nord; k++) {
		Ref r = order[k];
		const Node *n = ir_get(m, r);
		wn[r] = n->width;
		if (n->ty == TY_F || pinned[r] || n->op == OP_INPUT || (op_info[n->op].flags & OPF_NORESULT))
			continue;
		int w = bits_for(n->ty, rg[r]);
		wn[r] = (uint8_t)(w < n->width ? w : n->width);
	}
	/* token ops share a width; an ext still holds every value of its
	 * (maybe narrowed) operand's width.  Widths only grow, up to the old ones. */
	for (int changed = 1; changed;) {
		changed = 0;
		same_width(m, order, nord, wn);
		for (int64_t k = 0; k < nord; k++) {
			const Node *n = ir_get(m, order[k]);
			if (n->op != OP_EXT)
				continue;
			const Node *x = ir_get(m, ir_arg(m, n, 0));
			int need = wn[ir_arg(m, n, 0)] + (x->ty == TY_U && n->ty == TY_S);
			if (wn[order[k]] < need) {
				wn[order[k]] = (uint8_t)need;
				changed = 1;
			}
		}
	}
	uint64_t trimmed = 0, bits = 0;
	for (int64_t k = 0; k < nord; k++) {
		Node *n = ir_get(m, order[k]);
		if (wn[order[k]] < n->width) {
			trimmed++;
			bits += (uint64_t)(n->width - wn[order[k]]) * n->len;
			n->width = wn[order[k]];
		}
	}
	free(wn);
	free(order);
	free(rg);
	free(pinned);
	if (o && o->log)
		fprintf(o->log, "width: narrowed %llu nodes, %llu lane bits\n",
		        (unsigned long long)trimmed, (unsigned long long)bits);
	return trimmed != 0;
}
