/*
 * timing.c -- jepac's one timing and cost analysis, used by passes,
 * backends and the driver alike (docs/hardware.md):
 *
 *   - ceil_log2 and csd_digits (the non-zero digits of a constant in
 *     canonical signed-digit form: the adders a constant product costs);
 *   - the delay model: pipe_levels() gives each node's "adder levels" (one
 *     level is one carry-propagate adder of the design's usual width): add,
 *     sub, neg, roundshr, sat, compare, select 1; max/min 2; mul 1 +
 *     ceil(log2(narrower width)) (a carry-save tree and one final add); cmul
 *     ceil(log2(CSD digits)) (1 for a negation alone); lut ceil(width / 4);
 *     sum of k ceil(log2 k); rmax 2 ceil(log2 k); matvec / bmatvec 1 +
 *     ceil(log2(columns per dot product)); vcmul 2; everything else 0;
 *   - timing_analyze() / pipeline_analyze(): the latency, registers and
 *     balance of a (possibly pipelined) module, from its registers alone,
 *     and each node's adder levels since the last register (the stats
 *     backend's depth);
 *   - the weight census (census_take): weights, nonzero weights and their
 *     uses per region, taken before strength reduction turns matrices into
 *     adders (the driver's size guard and the stats backend read it).
 */
#include <stdlib.h>
#include <string.h>

#include "timing.h"

unsigned ceil_log2(uint64_t n)
{
	unsigned k = 0;
	while (k < 63 && ((uint64_t)1 << k) < n)
		k++;
	return k;
}

unsigned csd_digits(int64_t v)
{
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	if (u < (1ull << 61))   /* NAF weight: popcount(((3u) ^ u) >> 1) */
		return (unsigned)__builtin_popcountll((3 * u ^ u) >> 1);
	unsigned n = 0;
	for (; u; u >>= 1)
		if (u & 1) {
			n++;
			u = (u & 3) == 1 ? u - 1 : u + 1;
		}
	return n;
}

unsigned pipe_levels(const Module *m, Ref r)
{
	const Node *n = ir_get(m, r);
	switch (n->op) {
	case OP_ADD: case OP_SUB: case OP_NEG: case OP_ROUNDSHR: case OP_SAT:
	case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_SELECT:
		return 1;
	case OP_MAX: case OP_MIN:
		return 2;
	case OP_MUL: {
		unsigned a = ir_get(m, ir_arg(m, n, 0))->width, b = ir_get(m, ir_arg(m, n, 1))->width;
		return 1 + ceil_log2(a < b ? a : b);
	}
	case OP_CMUL: {
		unsigned d = csd_digits(n->imm);
		return d <= 1 ? (n->imm < 0) : ceil_log2(d);
	}
	case OP_LUT: {
		unsigned w = ir_get(m, ir_arg(m, n, 0))->width;
		return (w + 3) / 4;
	}
	case OP_SUM:
		return ceil_log2((uint64_t)n->imm);
	case OP_RMAX:
		return 2 * ceil_log2((uint64_t)n->imm);
	case OP_MATVEC: case OP_BMATVEC: {
		uint32_t cols = ir_tget(m, n->aux)->dims[1];
		if (n->op == OP_BMATVEC && cols > Q4_BLOCK)
			cols = Q4_BLOCK;
		return 1 + ceil_log2(cols);
	}
	case OP_VCMUL:
		return 2;
	default:
		return 0;
	}
}

static int is_const_op(int op)
{
	return op == OP_CONST || op == OP_FCONST || op == OP_VCONST;
}

/* Marks constant-class nodes: constants and nodes fed only by them. */
void pipe_mark_konst(const Module *m, const Ref *order, int64_t n, uint8_t *konst)
{
	for (int64_t i = 0; i < n; i++) {
		Ref r = order[i];
		const Node *nd = ir_get(m, r);
		int k = is_const_op(nd->op);
		if (!k && nd->nargs && nd->op != OP_OUTPUT) {
			k = 1;
			for (uint32_t j = 0; j < nd->nargs; j++)
				k &= konst[ir_arg(m, nd, j)];
		}
		konst[r] = (uint8_t)k;
	}
}

/* ---- analysis of an existing pipeline -------------------------------- */

/* Cycle and levels of one node from its operands'; returns 0 if the
 * operands disagree on the cycle. */
static int analyze_node(const Module *m, Ref r, const uint8_t *konst,
                        uint32_t *cyc, uint32_t *lev, uint32_t *fa)
{
	const Node *n = ir_get(m, r);
	uint32_t c = 0, l = 0, a = 0;
	int seen = 0, ok = 1;
	for (uint32_t j = 0; j < n->nargs; j++) {
		Ref p = ir_arg(m, n, j);
		if (konst[p])
			continue;
		if (seen && cyc[p] != c)
			ok = 0;
		if (!seen || cyc[p] > c)
			c = cyc[p];
		seen = 1;
		if (n->op != OP_REG) {
			l = lev[p] > l ? lev[p] : l;
			a = fa[p] > a ? fa[p] : a;
		}
	}
	if (n->op == OP_REG) {
		cyc[r] = c + 1;
		lev[r] = fa[r] = 0;
	} else {
		unsigned d = pipe_levels(m, r);
		cyc[r] = c;
		lev[r] = l + d;
		fa[r] = a + d;
	}
	return ok;
}

static void analyze_ports(const Module *m, const Ref *order, int64_t n,
                          const uint8_t *konst, const uint32_t *cyc, PipeInfo *pi)
{
	int seen = 0;
	for (int64_t i = 0; i < n; i++) {
		const Node *nd = ir_get(m, order[i]);
		if (nd->op != OP_OUTPUT || konst[ir_arg(m, nd, 0)])
			continue;
		uint32_t c = cyc[order[i]];
		if (seen && c != pi->latency && pi->bad == NOREF)
			pi->bad = order[i];
		if (!seen || c > pi->latency)
			pi->latency = c;
		seen = 1;
	}
}

int timing_analyze(const Module *m, PipeInfo *pi, uint32_t *levels)
{
	uint32_t nn = m->nnodes ? m->nnodes : 1;
	Ref *order = xmalloc(nn * sizeof *order);
	memset(pi, 0, sizeof *pi);
	pi->bad = NOREF;
	int64_t n = ir_topo(m, order);
	int loop = n < 0;
	if (loop)   /* a register closes a loop: it comes before its operand */
		n = ir_order(m, order);
	uint8_t *konst = xcalloc(nn, 1);
	uint32_t *cyc = xcalloc(nn, sizeof *cyc);
	uint32_t *lev = levels ? levels : xmalloc(nn * sizeof *lev);
	uint32_t *fa = xcalloc(nn, sizeof *fa), *path = xcalloc(nn, sizeof *path);
	memset(lev, 0, nn * sizeof *lev);
	pipe_mark_konst(m, order, n, konst);
	for (int64_t i = 0; i < n; i++) {
		Ref r = order[i];
		const Node *nd = ir_get(m, r);
		for (uint32_t j = 0; j < nd->nargs; j++)   /* (0 for a loop's operand not yet seen) */
			path[r] = path[ir_arg(m, nd, j)] > path[r] ? path[ir_arg(m, nd, j)] : path[r];
		path[r] += nd->op == OP_REG;
		if (nd->op == OP_OUTPUT && path[r] > pi->path_regs)
			pi->path_regs = path[r];
		if (konst[r] || pipe_source(nd->op))
			continue;
		if (!analyze_node(m, r, konst, cyc, lev, fa) && pi->bad == NOREF)
			pi->bad = r;
		if (nd->op == OP_REG) {
			pi->regs += nd->len;
			pi->reg_bits += (uint64_t)nd->width * nd->len;
		}
		if (lev[r] > pi->max_levels)
			pi->max_levels = lev[r];
		if (lev[r] && fa[r] + nd->width - 1 > pi->fa_path)
			pi->fa_path = fa[r] + nd->width - 1;
	}
	analyze_ports(m, order, n, konst, cyc, pi);
	free(order);
	free(konst);
	free(cyc);
	if (!levels)
		free(lev);
	free(fa);
	free(path);
	return loop ? -1 : 0;
}

int pipeline_analyze(const Module *m, PipeInfo *pi)
{
	return timing_analyze(m, pi, NULL);
}

/* ---- the weight census ---------------------------------------------------- */

uint64_t tensor_nonzero(const Tensor *t)
{
	uint64_t nz = 0;
	for (size_t i = 0; i < t->n; i++)
		nz += tensor_has_codes(t) ? t->codes[i] != 0 : t->reals[i] != 0;
	return nz;
}

uint64_t *census_take(const Module *m)
{
	uint64_t *census = xcalloc(CENSUS_K * (size_t)m->nstrs, sizeof *census);
	uint64_t *nzcache = xcalloc(m->ntensors + 1, sizeof *nzcache);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if ((n->op != OP_MATVEC && n->op != OP_BMATVEC) || (n->flags & NF_DEAD))
			continue;
		const Tensor *t = ir_tget(m, n->aux);
		if (!nzcache[n->aux])
			nzcache[n->aux] = tensor_nonzero(t) + 1;
		uint64_t groups = ir_get(m, ir_arg(m, n, 0))->len / t->dims[1];
		uint64_t *c = &census[CENSUS_K * (size_t)n->region];
		c[0] += t->n;
		c[1] += nzcache[n->aux] - 1;
		c[2] += t->n * groups;
		c[3] += (nzcache[n->aux] - 1) * groups;
		c[4] += (nzcache[n->aux] - 1) * groups * (ir_is_stream(n) ? m->tokens : 1);
	}
	free(nzcache);
	return census;
}

uint64_t census_nonzero_uses(const uint64_t *census, uint32_t n)
{
	uint64_t uses = 0;
	for (uint32_t i = 0; i < n; i++)
		uses += census[CENSUS_K * (size_t)i + 3];
	return uses;
}
