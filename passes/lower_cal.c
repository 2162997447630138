/*
 * lower_cal.c -- calibration for the fixed-point lowering (lower.c): the
 * float graph is evaluated with the interpreter's kernels (eval_node) on
 * random input vectors, every lane of every f64 input ~ N(0, 1) from a
 * splitmix64 + Box-Muller generator seeded by PassOpts.seed.  Per f64 node
 * it records min, max, max |value| and the sum of squares, and keeps the
 * values of constant nodes (from the first vector).  The vector count
 * follows a work budget (LW_CAL_WORK multiply-adds, LW_NCAL..LW_NCAL_MAX).
 * The format bound of a node is B = max(LW_MARGIN * max|value|,
 * LW_SIGMAS * rms); lw_fmt() turns it into a binary point.  Values are freed
 * after their last use, so memory stays ~ the widest live frontier.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "lower.h"

#define LW_NCAL 2           /* fewest calibration vectors (huge graphs) */
#define LW_NCAL_MAX 256     /* most calibration vectors (small graphs) */
#define LW_CAL_WORK 5e8     /* multiply-adds the calibration may spend */
#define LW_MARGIN 1.5       /* headroom over the calibrated max |value| */
#define LW_SIGMAS 6.0       /* ... and at least this many rms values */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rng_gauss(uint64_t *s)
{
	double u = ((double)(rng_next(s) >> 11) + 0.5) * 0x1p-53;
	double v = (double)(rng_next(s) >> 11) * 0x1p-53;
	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

int lw_is_constant(const Lower *L, const uint8_t *isc, Ref r)
{
	const Node *n = ir_get(L->m, r);
	if (n->op == OP_CONST || n->op == OP_FCONST || n->op == OP_VCONST || n->op == OP_TPOS)
		return 1;
	if (n->op == OP_INPUT || n->op == OP_OUTPUT || n->op == OP_REG || n->op == OP_WDELAY ||
	    n->op == OP_TSEQ || !n->nargs)
		return 0;
	for (uint32_t i = 0; i < n->nargs; i++)
		if (!isc[ir_arg(L->m, n, i)])
			return 0;
	return 1;
}

static void record(Lower *L, Ref r, const Lane *v, int first, const uint8_t *isc)
{
	const Node *n = ir_get(L->m, r);
	if (n->ty != TY_F)
		return;
	size_t nl = ir_vlanes(L->m, n);
	for (size_t i = 0; i < nl; i++) {
		double x = v[i].f;
		if (!isfinite(x))
			continue;
		L->lo[r] = x < L->lo[r] ? x : L->lo[r];
		L->hi[r] = x > L->hi[r] ? x : L->hi[r];
		L->amax[r] = fabs(x) > L->amax[r] ? fabs(x) : L->amax[r];
		L->ss[r] += x * x;
	}
	L->cnt[r] += (double)nl;
	if (first && isc[r]) {
		L->cvals[r] = xmalloc(nl * sizeof(double));
		for (size_t i = 0; i < nl; i++)
			L->cvals[r][i] = v[i].f;
	}
}

static void eval_one(Lower *L, EvalCtx *ec, Ref r, Lane **val, uint64_t *rng)
{
	const Node *n = ir_get(L->m, r);
	size_t nl = ir_vlanes(L->m, n);
	val[r] = xmalloc((nl ? nl : 1) * sizeof(Lane));
	if (n->op == OP_INPUT) {
		for (size_t i = 0; i < nl; i++) {
			if (n->ty == TY_F)
				val[r][i].f = rng_gauss(rng);
			else
				val[r][i].i = 0;
		}
	} else if (n->op == OP_REG) {
		memcpy(val[r], val[ir_arg(L->m, n, 0)], nl * sizeof(Lane));
	} else {
		const Lane **a = xmalloc((n->nargs + 1) * sizeof *a);
		for (uint32_t i = 0; i < n->nargs; i++)
			a[i] = val[ir_arg(L->m, n, i)];
		eval_node(ec, r, a, val[r]);
		free(a);
	}
}

/* Vectors to calibrate with: LW_NCAL .. LW_NCAL_MAX within LW_CAL_WORK.
 * The work counts what both token forms (serial, parallel) share -- input
 * lanes, matrix products, attention -- so both calibrate on as many vectors. */
static int cal_vectors(const Lower *L)
{
	double work = 1;
	for (Ref r = 0; r < L->n0; r++) {
		const Node *n = ir_get(L->m, r);
		if (n->op == OP_INPUT)
			work += (double)ir_vlanes(L->m, n);
		if (n->op == OP_ATTN || n->op == OP_CATTN)
			work += (double)n->len * n->aux;
		if (n->op == OP_SATTN || n->op == OP_SCATTN)
			work += (double)ir_vlanes(L->m, n) * L->m->tokens;
		if (n->op == OP_MATVEC)
			work += (double)ir_tget(L->m, n->aux)->n * ir_vlanes(L->m, n) / ir_tget(L->m, n->aux)->dims[0];
	}
	double k = LW_CAL_WORK / work;
	return k < LW_NCAL ? LW_NCAL : k > LW_NCAL_MAX ? LW_NCAL_MAX : (int)k;
}

/* The format bound of every float node from its statistics. */
static void bounds(Lower *L)
{
	for (Ref r = 0; r < L->n0; r++) {
		double rms = L->cnt[r] > 0 ? sqrt(L->ss[r] / L->cnt[r]) : 0;
		L->amax[r] = fmax(L->amax[r] * LW_MARGIN, rms * LW_SIGMAS);
	}
}

/* Evaluates the float graph on random vectors; fills amax/lo/hi/cvals. */
void lw_calibrate(Lower *L, const uint8_t *isc)
{
	Module *m = L->m;
	EvalCtx ec;
	eval_init(&ec, m);
	Lane **val = xcalloc(L->n0 + 1, sizeof *val);
	uint32_t *left = xmalloc((L->n0 + 1) * sizeof *left);
	uint64_t rng = L->o->seed * 0x2545f4914f6cdd1dull + 12345;
	int ncal = cal_vectors(L);
	for (int k = 0; k < ncal; k++) {
		memcpy(left, L->uses, L->n0 * sizeof *left);
		for (Ref r = 0; r < L->n0; r++) {
			const Node *n = ir_get(m, r);
			if (n->op != OP_OUTPUT) {
				eval_one(L, &ec, r, val, &rng);
				record(L, r, val[r], k == 0, isc);
			}
			for (uint32_t i = 0; i < n->nargs; i++) {
				Ref a = ir_arg(m, n, i);
				if (--left[a] == 0) {
					free(val[a]);
					val[a] = NULL;
				}
			}
			if (n->op != OP_OUTPUT && L->uses[r] == 0) {
				free(val[r]);
				val[r] = NULL;
			}
		}
	}
	free(val);
	free(left);
	eval_fini(&ec);
	bounds(L);
}
