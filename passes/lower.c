/*
 * lower.c -- fixed-point lowering: the float graph becomes an exact
 * integer graph (pass "lower"; docs/fixed-point.md is the full story).
 *
 * Requires: a valid module.  A module without f64 values is left alone.
 * Produces: no f64 value and no OPF_REAL op; compacted; unused tensors
 * dropped.  Integer nodes of a mixed module are kept as they are.
 *
 * 1. Calibration.  The float graph is evaluated (eval_node, the
 *    interpreter's own kernels) on random input vectors drawn from N(0,1)
 *    with the seed PassOpts.seed (lower_cal.c); every f64 node's bound
 *    B = max(1.5 * max |value|, 6 * rms value) gives its format: act_bits
 *    signed bits, binary point F = W - 1 - ceil(log2(B)).  Values beyond the format are
 *    saturated (`sat`), never wrapped.
 * 2. Lowering, in topological order.  Each float node becomes an LVal
 *    (integer node + binary point).  Every op first computes its result
 *    exactly in a wide type; the single rounding point is the final
 *    requantisation (roundshr to the node's binary point + sat to W bits).
 *    A matvec whose only user is an add (the bias) stays wide, so the bias
 *    is added before the rounding point.  Real constants stay symbolic
 *    until a consumer picks their format: x*c becomes cmul/vcmul by an
 *    integer mantissa, x+c an add of an integer constant at x's point.
 * 3. Linear layers keep their integer weights exact (lower_linear.c): Q4 ->
 *    bmatvec over the 4-bit codes, vcmul by integer block-scale constants,
 *    sum over blocks; I8 / requantised F32 -> matvec over codes, vcmul by
 *    row-scale constants.  Accumulator widths come from sum |w| * max|x|.
 * Files: lower.c (this: formats, elementwise ops, the driver), lower_cal.c
 * (calibration), lower_linear.c (matvec), lower_nl.c (LayerNorm, softmax,
 * attention, GELU, ...).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"

/* ---- building blocks ---------------------------------------------------- */

Ref lw_op(Lower *L, int op, int ty, int w, uint32_t len, const Ref *a, uint32_t na,
          int64_t imm, uint32_t aux)
{
	if (ty != TY_F && (w < 1 || w > 64))
		die("lower: width %d for %s", w, op_info[op].name);
	return ir_node(L->m, op, ty, w, len, a, na, imm, aux);
}

Ref lw_op1(Lower *L, int op, int w, uint32_t len, Ref x, int64_t imm)
{
	return lw_op(L, op, TY_S, w, len, &x, 1, imm, 0);
}

Ref lw_op2(Lower *L, int op, int w, uint32_t len, Ref x, Ref y)
{
	Ref a[2] = {x, y};
	return lw_op(L, op, TY_S, w, len, a, 2, 0, 0);
}

uint32_t lw_itensor(Lower *L, const char *what, uint32_t rows, uint32_t cols,
                    const int64_t *codes)
{
	char name[96];
	snprintf(name, sizeof name, "lower.%u.%s", L->ntens++, what);
	uint32_t id = ir_tensor(L->m, name, TK_INT, cols > 1 ? 2 : 1, rows, cols);
	Tensor *t = ir_tget(L->m, id);
	for (size_t i = 0; i < t->n; i++) {
		if (codes[i] < INT32_MIN || codes[i] > INT32_MAX)
			die("lower: tensor code %lld does not fit 32 bits", (long long)codes[i]);
		t->codes[i] = (int32_t)codes[i];
	}
	return id;
}

/* Bits b with bound < 2^b (bound >= 0). */
int lw_bits(double bound)
{
	int b = 0;
	while (b < 80 && ldexp(1.0, b) <= bound)
		b++;
	return b;
}

int lw_fmt(Lower *L, double amax)
{
	if (!(amax > 0) || !isfinite(amax))
		return L->W - 1;
	int F = L->W - 1 - (int)ceil(log2(amax));
	return F < -32 ? -32 : F > 48 ? 48 : F;
}

LVal lw_val(Ref r, int F, int w, uint32_t len)
{
	LVal v = {r, F, w, len, NULL, 0};
	return v;
}

LVal lw_fit(Lower *L, LVal x, int maxw)
{
	if (x.cv || x.w <= maxw)
		return x;
	int k = x.w - maxw + 1;
	return lw_val(lw_op1(L, OP_ROUNDSHR, maxw, x.len, x.r, k), x.F - k, maxw, x.len);
}

static LVal to_width(Lower *L, LVal x, int w)
{
	if (x.w > w)
		return lw_val(lw_op1(L, OP_SAT, w, x.len, x.r, 0), x.F, w, x.len);
	if (x.w < w)
		return lw_val(lw_op1(L, OP_EXT, w, x.len, x.r, 0), x.F, w, x.len);
	return x;
}

static Ref zero_vec(Lower *L, int w, uint32_t len)
{
	return lw_op(L, OP_CONST, TY_S, w, len, NULL, 0, 0, 0);
}

/* x at binary point F in exactly w signed bits: one rounding, saturation. */
LVal lw_requant(Lower *L, LVal x, int F, int w)
{
	if (x.cv)
		return to_width(L, lw_constval(L, x, F), w);
	int d = x.F - F;
	if (d > 63 || (d > 0 && d >= x.w + 1))
		return lw_val(zero_vec(L, w, x.len), F, w, x.len);
	if (d > 0) {
		int nw = x.w - d + 1 < 2 ? 2 : x.w - d + 1;
		x = lw_val(lw_op1(L, OP_ROUNDSHR, nw, x.len, x.r, d), F, nw, x.len);
	} else if (d < 0) {
		int s = -d, keep = w - s + 1 < 2 ? 2 : w - s + 1;
		if (x.w > keep)
			x = to_width(L, x, keep);
		x = lw_val(lw_op1(L, OP_SHL, x.w + s, x.len, x.r, s), F, x.w + s, x.len);
	}
	return to_width(L, x, w);
}

int64_t lw_code(double c, int F)
{
	double v = round(ldexp(c, F));
	double lim = ldexp(1.0, 61);
	return !(v == v) ? 0 : v > lim ? (int64_t)lim : v < -lim ? -(int64_t)lim : (int64_t)v;
}

Ref lw_sconst(Lower *L, int w, int64_t v)
{
	return lw_op(L, OP_CONST, TY_S, w, 1, NULL, 0, v, 0);
}

/* Real constants c at binary point F (exact codes, rounded once). */
LVal lw_intconst(Lower *L, const double *c, uint32_t len, int F)
{
	int64_t *code = xmalloc(len * sizeof *code), big = 0;
	int same = 1;
	for (uint32_t i = 0; i < len; i++) {
		code[i] = lw_code(c[i], F);
		big = llabs(code[i]) > big ? llabs(code[i]) : big;
		same &= code[i] == code[0];
	}
	int w = lw_bits((double)big) + 1;
	Ref r;
	if (same) {
		r = lw_op(L, OP_CONST, TY_S, w, len, NULL, 0, code[0], 0);
	} else {
		int k = w > 31 ? w - 31 : 0;
		for (uint32_t i = 0; i < len && k; i++)
			code[i] >>= k;   /* drops bits below 2^-(F-k): a coarser constant */
		uint32_t t = lw_itensor(L, "const", len, 1, code);
		ir_tget(L->m, t)->frac = F - k;
		r = lw_op(L, OP_VCONST, TY_S, w - k, len, NULL, 0, 0, t);
		if (k)
			r = lw_op1(L, OP_SHL, w, len, r, k);
	}
	free(code);
	return lw_val(r, F, w, len);
}

/* A stream constant: tok rows of len codes at F, one row per token (tpos). */
static LVal tok_intconst(Lower *L, const double *c, uint32_t len, uint32_t tok, int F)
{
	size_t n = (size_t)len * tok;
	int64_t *code = xmalloc(n * sizeof *code), big = 0;
	for (size_t i = 0; i < n; i++) {
		code[i] = lw_code(c[i], F);
		big = llabs(code[i]) > big ? llabs(code[i]) : big;
	}
	int w = lw_bits((double)big) + 1, k = w > 31 ? w - 31 : 0;
	for (size_t i = 0; i < n && k; i++)
		code[i] >>= k;
	uint32_t t = lw_itensor(L, "tpos", tok, len, code);
	ir_tget(L->m, t)->ndim = 2;
	ir_tget(L->m, t)->frac = F - k;
	Ref r = lw_op(L, OP_TPOS, TY_S, w - k, len, NULL, 0, 0, t);
	if (k)
		r = lw_op1(L, OP_SHL, w, len, r, k);
	free(code);
	return lw_val(r, F, w, len);
}

LVal lw_constval(Lower *L, LVal x, int F)
{
	if (!x.tok)
		return lw_intconst(L, x.cv, x.len, F);
	for (size_t i = 1; i < (size_t)x.len * x.tok; i++)
		if (x.cv[i] != x.cv[i % x.len])
			return tok_intconst(L, x.cv, x.len, x.tok, F);
	return lw_intconst(L, x.cv, x.len, F);   /* every token the same */
}

LVal lw_materialize(Lower *L, LVal x, int F)
{
	return x.cv ? lw_constval(L, x, F) : x;
}

uint32_t lw_cached(const Lower *L, const char *key)
{
	for (uint32_t i = 0; i < L->ncache; i++)
		if (strcmp(L->cache[i].key, key) == 0)
			return L->cache[i].id;
	return NOREF;
}

uint32_t lw_cache(Lower *L, const char *key, uint32_t id)
{
	if (L->ncache == L->capcache) {
		L->capcache = L->capcache ? 2 * L->capcache : 16;
		L->cache = xrealloc(L->cache, L->capcache * sizeof *L->cache);
	}
	snprintf(L->cache[L->ncache].key, sizeof L->cache[0].key, "%s", key);
	L->cache[L->ncache++].id = id;
	return id;
}

/* y[j*g + i] = x[j]: a matvec by a g x 1 matrix of ones (free wiring). */
Ref lw_bcast_ref(Lower *L, Ref x, int ty, int w, uint32_t len, uint32_t g)
{
	if (g == 1)
		return x;
	char key[64];
	snprintf(key, sizeof key, "ones.%u", g);
	uint32_t t = lw_cached(L, key);
	if (t == NOREF) {
		int64_t *ones = xmalloc(g * sizeof *ones);
		for (uint32_t i = 0; i < g; i++)
			ones[i] = 1;
		t = lw_cache(L, key, lw_itensor(L, "ones", g, 1, ones));
		free(ones);
	}
	return lw_op(L, OP_MATVEC, ty, w, len * g, &x, 1, 0, t);
}

Ref lw_bcast(Lower *L, LVal x, uint32_t g)
{
	return lw_bcast_ref(L, x.r, TY_S, x.w, x.len, g);
}

/* x repeated to len lanes (len a multiple of x.len). */
static LVal tile(Lower *L, LVal x, uint32_t len)
{
	if (x.len == len)
		return x;
	uint32_t k = len / x.len;
	Ref *a = xmalloc(k * sizeof *a);
	for (uint32_t i = 0; i < k; i++)
		a[i] = x.r;
	Ref r = lw_op(L, OP_CONCAT, TY_S, x.w, len, a, k, 0, 0);
	free(a);
	return lw_val(r, x.F, x.w, len);
}

/* x * c for real constants c (len n, broadcast): cmul / vcmul, exact. */
static LVal vscale(Lower *L, LVal x, const double *c, uint32_t n)
{
	int64_t *m = xmalloc(n * sizeof *m), big = 0;
	int e = lw_mantissas(c, n, L->cbits, m), same = 1;
	for (uint32_t i = 0; i < n; i++) {
		big = llabs(m[i]) > big ? llabs(m[i]) : big;
		same &= m[i] == m[0];
	}
	int mb = lw_bits((double)big);
	x = lw_fit(L, x, LW_MAXW - mb);
	LVal y;
	if (same) {
		y = lw_val(lw_op1(L, OP_CMUL, x.w + mb, x.len, x.r, m[0]), x.F + e, x.w + mb, x.len);
	} else {
		uint32_t len = x.len > n ? x.len : n;
		x = tile(L, x, len);
		uint32_t t = lw_itensor(L, "scale", n, 1, m);
		y = lw_val(lw_op(L, OP_VCMUL, TY_S, x.w + mb, len, &x.r, 1, 0, t), x.F + e,
		           x.w + mb, len);
	}
	free(m);
	return y;
}

LVal lw_scale(Lower *L, LVal x, double c)
{
	return vscale(L, x, &c, 1);
}

/* ---- elementwise and lane ops --------------------------------------------- */

/* x at binary point F without losing value range (wider if F > x.F). */
static LVal align(Lower *L, LVal x, int F)
{
	if (x.cv)
		return lw_constval(L, x, F);
	return lw_requant(L, x, F, x.w + F - x.F + (F < x.F));
}

/* A common binary point for x and y that keeps both within LW_MAXW - 1. */
static int common_point(LVal x, LVal y)
{
	if (x.cv && y.cv)
		return 0;
	if (x.cv || y.cv)
		return x.cv ? y.F : x.F;
	int F = x.F > y.F ? x.F : y.F;
	while (F > -60 && (x.w + F - x.F > LW_MAXW - 1 || y.w + F - y.F > LW_MAXW - 1))
		F--;
	return F;
}

static LVal binary(Lower *L, int op, LVal x, LVal y, uint32_t len)
{
	int F = common_point(x, y);
	x = align(L, x, F);
	y = align(L, y, F);
	int w = (x.w > y.w ? x.w : y.w) + (op == OP_ADD || op == OP_SUB);
	return lw_val(lw_op2(L, op, w, len, x.r, y.r), F, w, len);
}

static double fmax_abs(const double *v, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++)
		m = fabs(v[i]) > m ? fabs(v[i]) : m;
	return m;
}

static LVal lower_mul(Lower *L, LVal x, LVal y, uint32_t len)
{
	if (y.cv && y.tok)   /* a per-token constant factor: a variable multiplier */
		y = lw_constval(L, y, lw_fmt(L, fmax_abs(y.cv, (size_t)y.len * y.tok)));
	if (x.cv && x.tok)
		x = lw_constval(L, x, lw_fmt(L, fmax_abs(x.cv, (size_t)x.len * x.tok)));
	if (y.cv)
		return vscale(L, x, y.cv, y.len);
	if (x.cv)
		return vscale(L, y, x.cv, x.len);
	int half = LW_MAXW / 2;
	if (x.w + y.w > LW_MAXW) {
		x = lw_fit(L, x, x.w > half ? (y.w < half ? LW_MAXW - y.w : half) : x.w);
		y = lw_fit(L, y, LW_MAXW - x.w);
	}
	return lw_val(lw_op2(L, OP_MUL, x.w + y.w, len, x.r, y.r), x.F + y.F, x.w + y.w, len);
}

static LVal lower_div(Lower *L, const Node *n, LVal x, LVal y)
{
	uint32_t len = n->len;
	if (y.cv && y.tok)
		fatal(ir_strget(L->m, L->m->name), "cannot lower a div by a per-token constant");
	if (y.cv) {
		double *c = xmalloc(y.len * sizeof *c);
		for (uint32_t i = 0; i < y.len; i++)
			c[i] = 1.0 / y.cv[i];
		LVal r = vscale(L, lw_materialize(L, x, L->W - 1), c, y.len);
		free(c);
		return r;
	}
	Ref d = ir_arg(L->m, n, 1);
	if (L->lo[d] < 0 && L->hi[d] > 0)
		fatal(ir_strget(L->m, L->m->name), "cannot lower a div whose divisor changes sign "
		      "(calibrated range %g..%g)", L->lo[d], L->hi[d]);
	if (L->hi[d] <= 0) {      /* x / y = -(x / -y) */
		y = lw_val(lw_op1(L, OP_NEG, y.w + 1, y.len, y.r, 0), y.F, y.w + 1, y.len);
		x = lw_materialize(L, x, L->W - 1);
		x = lw_val(lw_op1(L, OP_NEG, x.w + 1, x.len, x.r, 0), x.F, x.w + 1, x.len);
	}
	return lower_mul(L, x, lw_recip(L, y), len);
}

static LVal lower_cmp(Lower *L, const Node *n, LVal x, LVal y)
{
	int F = common_point(x, y);
	x = align(L, x, F);
	y = align(L, y, F);
	Ref a[2] = {x.r, y.r};
	return lw_val(lw_op(L, n->op, TY_U, 1, n->len, a, 2, 0, 0), 0, 1, n->len);
}

static LVal lower_select(Lower *L, const Node *n, Ref c, LVal x, LVal y)
{
	int F = common_point(x, y);
	x = align(L, x, F);
	y = align(L, y, F);
	int w = x.w > y.w ? x.w : y.w;
	Ref a[3] = {c, x.r, y.r};
	return lw_val(lw_op(L, OP_SELECT, TY_S, w, n->len, a, 3, 0, 0), F, w, n->len);
}

/* Lanes gathered from values of one format keep it (like extract: no
 * second rounding); otherwise they meet at the concat's (tseq's) calibrated
 * format. */
static LVal lower_concat(Lower *L, const Node *n, Ref self)
{
	LVal x0 = L->v[ir_arg(L->m, n, 0)];
	uint32_t same = !x0.cv;
	for (uint32_t i = 1; i < n->nargs && same; i++) {
		LVal x = L->v[ir_arg(L->m, n, i)];
		same = !x.cv && x.F == x0.F && x.w == x0.w;
	}
	int F = same ? x0.F : lw_fmt(L, L->amax[self]), w = same ? x0.w : L->W;
	Ref *a = xmalloc(n->nargs * sizeof *a);
	for (uint32_t i = 0; i < n->nargs; i++)
		a[i] = same ? L->v[ir_arg(L->m, n, i)].r : lw_requant(L, L->v[ir_arg(L->m, n, i)], F, w).r;
	Ref r = lw_op(L, n->op, TY_S, w, n->len, a, n->nargs, 0, 0);
	free(a);
	return lw_val(r, F, w, n->len);
}

static LVal lower_lanes(Lower *L, const Node *n, LVal x)
{
	x = lw_materialize(L, x, L->W - 1);
	int w = x.w;
	if (n->op == OP_SUM)
		w += lw_bits((double)n->imm - 1) ;
	w = w > 64 ? 64 : w;
	if (n->op == OP_SUM && w > LW_MAXW) {
		x = lw_fit(L, x, LW_MAXW - (w - x.w));
		w = LW_MAXW;
	}
	return lw_val(lw_op1(L, n->op, w, n->len, x.r, n->imm), x.F, w, n->len);
}

/* ---- the per-node dispatch ------------------------------------------------ */

static LVal arg(Lower *L, const Node *n, uint32_t i)
{
	return L->v[ir_arg(L->m, n, i)];
}

static LVal lower_real(Lower *L, Ref r, const Node *n)
{
	switch (n->op) {
	case OP_ADD: case OP_SUB: case OP_MAX: case OP_MIN:
		return binary(L, n->op, arg(L, n, 0), arg(L, n, 1), n->len);
	case OP_NEG: {
		LVal x = lw_materialize(L, arg(L, n, 0), L->W - 1);
		return lw_val(lw_op1(L, OP_NEG, x.w + 1, n->len, x.r, 0), x.F, x.w + 1, n->len);
	}
	case OP_MUL: return lower_mul(L, arg(L, n, 0), arg(L, n, 1), n->len);
	case OP_DIV: return lower_div(L, n, arg(L, n, 0), arg(L, n, 1));
	case OP_SELECT:
		return lower_select(L, n, arg(L, n, 0).r, arg(L, n, 1), arg(L, n, 2));
	case OP_CONCAT: return lower_concat(L, n, r);
	case OP_EXTRACT: case OP_SUM: case OP_RMAX: case OP_REG:
		return lower_lanes(L, n, arg(L, n, 0));
	case OP_MATVEC: return lw_matvec(L, n, arg(L, n, 0));
	case OP_GELU: case OP_SILU: return lw_gelu_silu(L, r, arg(L, n, 0));
	case OP_EXP: return lw_exp(L, r, arg(L, n, 0));
	case OP_RSQRT: return lw_rsqrt(L, arg(L, n, 0));
	case OP_LAYERNORM:
		return lw_layernorm(L, arg(L, n, 0), n->aux, ir_fimm(n));
	case OP_SOFTMAX:
		return lw_softmax(L, arg(L, n, 0), (uint32_t)n->imm, NOREF,
		                  lw_fmt(L, L->amax[r]));
	case OP_ATTN: case OP_CATTN:
		return lw_attn(L, arg(L, n, 0), arg(L, n, 1), arg(L, n, 2), (uint32_t)n->imm,
		               n->aux, n->op == OP_CATTN);
	case OP_SATTN: case OP_SCATTN:
		return lw_sattn(L, arg(L, n, 0), arg(L, n, 1), arg(L, n, 2), (uint32_t)n->imm, n->aux,
		                n->op == OP_SCATTN);
	case OP_TSEQ: return lower_concat(L, n, r);
	case OP_TBUF: case OP_TALL: case OP_TDELAY: case OP_TPICK: case OP_WDELAY: {
		LVal x = lw_materialize(L, arg(L, n, 0), L->W - 1);
		return lw_val(lw_op1(L, n->op, x.w, n->len, x.r, n->imm), x.F, x.w, n->len);
	}
	}
	die("lower: cannot lower %s", op_info[n->op].name);
}

/* A matvec whose only user is an add stays wide: the bias joins exactly. */
static int keep_wide(const Lower *L, Ref r, const Node *n, const Ref *user)
{
	return n->op == OP_MATVEC && L->uses[r] == 1 && user[r] != NOREF &&
	       ir_get(L->m, user[r])->op == OP_ADD;
}

static void lower_node(Lower *L, Ref r, const uint8_t *isc, const Ref *user)
{
	Node n = *ir_get(L->m, r);
	if (isc[r] && n.ty == TY_F) {
		L->v[r] = lw_val(NOREF, 0, 0, n.len);
		L->v[r].cv = L->cvals[r];
		L->v[r].tok = ir_is_stream(&n) ? L->m->tokens : 0;
		return;
	}
	ir_get(L->m, r)->flags |= NF_DEAD;
	if (n.op == OP_EQ || n.op == OP_NE || n.op == OP_LT || n.op == OP_LE) {
		L->v[r] = lower_cmp(L, &n, arg(L, &n, 0), arg(L, &n, 1));
		return;
	}
	LVal y = lower_real(L, r, &n);
	int keep = n.op == OP_CONCAT || n.op == OP_EXTRACT || n.op == OP_RMAX || n.op == OP_REG ||
	           n.op == OP_TBUF || n.op == OP_TALL || n.op == OP_TDELAY || n.op == OP_TPICK ||
	           n.op == OP_TSEQ || n.op == OP_WDELAY;
	if (!keep && !keep_wide(L, r, &n, user))
		y = lw_requant(L, y, lw_fmt(L, L->amax[r]), L->W);
	else if (y.w > LW_MAXW)
		y = lw_fit(L, y, LW_MAXW);
	L->v[r] = y;
}

/* Needs lowering: f64 result, or f64 operands (compares). */
static int is_float_node(const Module *m, const Node *n)
{
	if (n->ty == TY_F || (op_info[n->op].flags & OPF_REAL))
		return 1;
	for (uint32_t i = 0; i < n->nargs; i++)
		if (ir_get(m, ir_arg(m, n, i))->ty == TY_F)
			return 1;
	return 0;
}

static void lower_ports(Lower *L, Ref r, const Node *n)
{
	if (n->op == OP_INPUT) {
		int F = lw_fmt(L, L->amax[r]);
		Node *p = ir_get(L->m, r);
		p->ty = TY_S;
		p->width = (uint8_t)L->W;
		p->imm = F < 0 ? 0 : F;
		L->v[r] = lw_val(r, (int)p->imm, L->W, n->len);
		return;
	}
	Ref a = ir_arg(L->m, n, 0);
	LVal x = L->v[a];
	int F = x.cv || x.w > L->W || x.F < 0 ? lw_fmt(L, L->amax[a]) : x.F;
	x = lw_requant(L, x, F < 0 ? 0 : F, L->W);
	ir_get(L->m, r)->flags |= NF_DEAD;
	ir_node(L->m, OP_OUTPUT, TY_S, L->W, n->len, &x.r, 1, x.F, n->aux);
}

/* Drops tensors no live node refers to and renumbers the rest. */
static void drop_unused_tensors(Module *m)
{
	uint32_t *map = xmalloc((m->ntensors + 1) * sizeof *map), k = 0;
	uint8_t *used = xcalloc(m->ntensors + 1, 1);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (strchr(op_info[n->op].sig, 't') && !(n->flags & NF_DEAD))
			used[n->aux] = 1;
	}
	for (uint32_t t = 0; t < m->ntensors; t++) {
		map[t] = k;
		if (used[t])
			m->tensors[k++] = m->tensors[t];
	}
	m->ntensors = k;
	for (Ref r = 0; r < m->nnodes; r++) {
		Node *n = ir_get(m, r);
		if (strchr(op_info[n->op].sig, 't') && !(n->flags & NF_DEAD))
			n->aux = map[n->aux];
	}
	free(map);
	free(used);
}

/* Outputs last, in their order (port order is kept); integer ones copied.
 * fout[r]: output r read an f64 value before lowering (an input port read
 * directly has been retyped in place by then). */
static void lower_outputs(Lower *L, const uint8_t *fout)
{
	Module *m = L->m;
	for (Ref r = 0; r < L->n0; r++) {
		Node n = *ir_get(m, r);
		if (n.op != OP_OUTPUT)
			continue;
		m->cur_region = n.region;
		if (fout[r]) {
			lower_ports(L, r, &n);
			continue;
		}
		Ref a = ir_arg(m, &n, 0);
		ir_node(m, OP_OUTPUT, n.ty, n.width, n.len, &a, 1, n.imm, n.aux);
		ir_get(m, r)->flags |= NF_DEAD;
	}
}

/* Lowers every float node in order; integer users of lowered compares are
 * redirected, and the float nodes die. */
static void lower_all(Lower *L, const uint8_t *isc)
{
	Module *m = L->m;
	Ref *user = xmalloc((L->n0 + 1) * sizeof *user);
	for (Ref r = 0; r < L->n0; r++)
		user[r] = NOREF;
	uint8_t *fout = xcalloc(L->n0 + 1, 1);
	for (Ref r = 0; r < L->n0; r++) {
		const Node *n = ir_get(m, r);
		for (uint32_t i = 0; i < n->nargs; i++)
			user[ir_arg(m, n, i)] = r;
		fout[r] = n->op == OP_OUTPUT && ir_get(m, ir_arg(m, n, 0))->ty == TY_F;
	}
	for (Ref r = 0; r < L->n0; r++) {
		Node n = *ir_get(m, r);
		m->cur_region = n.region;   /* lowered nodes keep their region */
		if (n.op == OP_INPUT && n.ty == TY_F)
			lower_ports(L, r, &n);
		else if (n.op != OP_OUTPUT && is_float_node(m, &n))
			lower_node(L, r, isc, user);
		else
			L->v[r] = lw_val(r, 0, n.width, n.len);
	}
	lower_outputs(L, fout);
	free(fout);
	Ref *map = xmalloc((m->nnodes + 1) * sizeof *map);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		int cmp = r < L->n0 && n->op != OP_OUTPUT && n->ty != TY_F && is_float_node(m, n);
		map[r] = cmp ? L->v[r].r : NOREF;
		if (r < L->n0 && n->ty == TY_F && n->op != OP_INPUT)
			ir_get(m, r)->flags |= NF_DEAD;
	}
	ir_rewrite(m, map);
	free(map);
	free(user);
}

static int has_float(const Module *m)
{
	for (Ref r = 0; r < m->nnodes; r++)
		if (!(m->nodes[r].flags & NF_DEAD) && is_float_node(m, ir_get(m, r)))
			return 1;
	return 0;
}

static void lower_init(Lower *L, Module *m, const PassOpts *o)
{
	uint32_t n = m->nnodes + 1;
	memset(L, 0, sizeof *L);
	L->m = m;
	L->o = o;
	L->W = o->act_bits;
	L->cbits = L->W - 4 < LW_CBITS_MIN ? LW_CBITS_MIN : L->W - 4 > LW_CBITS_MAX ? LW_CBITS_MAX
	         : L->W - 4;
	L->n0 = m->nnodes;
	L->v = xcalloc(n, sizeof *L->v);
	L->amax = xcalloc(n, sizeof *L->amax);
	L->ss = xcalloc(n, sizeof *L->ss);
	L->cnt = xcalloc(n, sizeof *L->cnt);
	L->lo = xmalloc(n * sizeof *L->lo);
	L->hi = xmalloc(n * sizeof *L->hi);
	L->cvals = xcalloc(n, sizeof *L->cvals);
	L->uses = ir_uses(m);
	for (uint32_t i = 0; i < n; i++)
		L->lo[i] = INFINITY, L->hi[i] = -INFINITY;
}

static void lower_fini(Lower *L)
{
	for (uint32_t i = 0; i <= L->n0; i++)
		free(L->cvals[i]);
	free(L->cvals);
	free(L->v);
	free(L->amax);
	free(L->ss);
	free(L->cnt);
	free(L->lo);
	free(L->hi);
	free(L->uses);
	free(L->cache);
}

static void log_stats(const Lower *L, FILE *f)
{
	fprintf(f, "lower: %u float nodes -> %u integer nodes, act_bits %d; %llu weight scales "
	        "as %d-bit mantissas: max error %.3g relative, %.3g of the matrix's largest "
	        "scale\n", L->n0, L->m->nnodes, L->W, (unsigned long long)L->nscales,
	        L->cbits, L->scale_rel, L->scale_big);
	if (L->fw_n)
		fprintf(f, "lower: %llu float weights as %d-bit codes with row scales: rms error "
		        "%.3g of the rms weight\n", (unsigned long long)L->fw_n, L->cbits,
		        sqrt(L->fw_err2 / fmax(L->fw_w2, 1e-300)));
}

int pass_lower(Module *m, const PassOpts *o)
{
	if (!has_float(m))
		return 0;
	ir_compact(m);   /* operands first, registers included, unless there is a loop */
	for (Ref r = 0; r < m->nnodes; r++)
		for (uint32_t i = 0; i < ir_get(m, r)->nargs; i++)
			if (ir_arg(m, ir_get(m, r), i) >= r)
				fatal(ir_strget(m, m->name), "cannot lower a float graph with a feedback "
				      "loop through a register (node %u)", r);
	Lower L;
	lower_init(&L, m, o);
	uint8_t *isc = xcalloc(m->nnodes + 1, 1);
	for (Ref r = 0; r < m->nnodes; r++)
		isc[r] = (uint8_t)lw_is_constant(&L, isc, r);
	lw_calibrate(&L, isc);
	lower_all(&L, isc);
	m->cur_region = 0;
	ir_compact(m);
	drop_unused_tensors(m);
	if (o->log)
		log_stats(&L, o->log);
	lower_fini(&L);
	free(isc);
	return 1;
}
