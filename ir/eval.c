/*
 * eval.c -- the semantics of every op (docs/ir.md), one node at a time.
 *
 * Integer lanes: operands are read as mathematical integers by their own
 * type and the exact result is wrapped into the result type.  Wrapping ops
 * (add, sub, mul, neg, cmul, shl, sums, matvec) only need the result modulo
 * 2^64, so they run in uint64_t, where C never overflows; ops that need the
 * true value (compare, max/min, shr, roundshr, sat) read lanes as __int128
 * (a u64 lane is the only kind whose int64 storage differs from its value).
 * wrapv() wraps a 64-bit pattern into a W-bit type by masking (unsigned) or
 * shifting left then arithmetically right (signed).
 *
 * Elementwise ops broadcast: lane i reads operand lane i % len(operand),
 * kept as a running counter per operand instead of a division.
 *
 * Real lanes: IEEE double in the order docs/ir.md gives; sums run from the
 * first term upward (acc = t0, acc += t1, ...).  max(x, y) is x < y ? y : x.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

__extension__ typedef __int128 i128;
typedef uint64_t u64;

typedef struct Wrap {
	int sh;      /* 64 - width */
	int sign;
	u64 mask;
} Wrap;

static Wrap wrap_of(const Node *n)
{
	Wrap w = {64 - n->width, n->ty == TY_S,
	          n->width >= 64 ? ~(u64)0 : ((u64)1 << n->width) - 1};
	return w;
}

static inline int64_t wrapv(Wrap w, u64 v)
{
	return w.sign ? (int64_t)(v << w.sh) >> w.sh : (int64_t)(v & w.mask);
}

static inline int is_big(const Node *n)
{
	return n->ty == TY_U && n->width == 64;
}

static inline i128 mval(int64_t v, int big)
{
	return big ? (i128)(u64)v : (i128)v;
}

/* One value operand as seen by a kernel. */
typedef struct Opnd {
	const Lane *p;
	uint32_t len;
	int big;      /* u64: lanes >= 2^63 are stored negative */
	int real;
} Opnd;

void eval_init(EvalCtx *c, const Module *m)
{
	c->m = m;
	c->nt = m->ntensors;
	c->treal = xcalloc(c->nt ? c->nt : 1, sizeof *c->treal);
	c->sat = 0;
	c->state = NULL;
	c->nstate = 0;
}

void eval_fini(EvalCtx *c)
{
	for (uint32_t r = 0; r < c->nstate; r++)
		free(c->state[r]);
	free(c->state);
	c->state = NULL;
	c->nstate = 0;
	for (uint32_t t = 0; c->treal && t < c->nt; t++)
		free(c->treal[t]);
	free(c->treal);
	c->treal = NULL;
}

static const double *treal(EvalCtx *c, uint32_t id)
{
	if (id >= c->nt) {   /* a tensor made after eval_init (fold) */
		c->treal = xrealloc(c->treal, (id + 1) * sizeof *c->treal);
		memset(c->treal + c->nt, 0, (id + 1 - c->nt) * sizeof *c->treal);
		c->nt = id + 1;
	}
	if (!c->treal[id]) {
		const Tensor *t = ir_tget(c->m, id);
		double *v = xmalloc((t->n ? t->n : 1) * sizeof *v);
		for (size_t i = 0; i < t->n; i++)
			v[i] = tensor_real(t, i);
		c->treal[id] = v;
	}
	return c->treal[id];
}

static const int32_t *tcodes(const Module *m, uint32_t id)
{
	const Tensor *t = ir_tget(m, id);
	if (!tensor_has_codes(t))
		die("tensor %s has no integer codes", ESC(ir_strget(m, t->name)));
	return t->codes;
}

/* ---- elementwise ------------------------------------------------------ */

#define STEP(j, o) do { if (++(j) == (o).len) (j) = 0; } while (0)

#define ELEM1(EXPR) do { \
	uint32_t ja = 0; \
	for (uint32_t i = 0; i < len; i++) { \
		const Lane A = a.p[ja]; \
		out[i] = (EXPR); \
		STEP(ja, a); \
	} \
} while (0)

#define ELEM2(EXPR) do { \
	uint32_t ja = 0, jb = 0; \
	for (uint32_t i = 0; i < len; i++) { \
		const Lane A = a.p[ja], B = b.p[jb]; \
		out[i] = (EXPR); \
		STEP(ja, a); \
		STEP(jb, b); \
	} \
} while (0)

static inline Lane LI(int64_t v) { Lane l; l.i = v; return l; }
static inline Lane LF(double v) { Lane l; l.f = v; return l; }

static void int_binary(int op, Wrap w, Opnd a, Opnd b, uint32_t len, Lane *out)
{
	int ba = a.big, bb = b.big;
	switch (op) {
	case OP_ADD: ELEM2(LI(wrapv(w, (u64)A.i + (u64)B.i))); break;
	case OP_SUB: ELEM2(LI(wrapv(w, (u64)A.i - (u64)B.i))); break;
	case OP_MUL: ELEM2(LI(wrapv(w, (u64)A.i * (u64)B.i))); break;
	case OP_MAX: ELEM2(LI(wrapv(w, (u64)(mval(A.i, ba) < mval(B.i, bb) ? B.i : A.i)))); break;
	case OP_MIN: ELEM2(LI(wrapv(w, (u64)(mval(B.i, bb) < mval(A.i, ba) ? B.i : A.i)))); break;
	default: die("int_binary: op %s", op_info[op].name);
	}
}

static void real_binary(int op, Opnd a, Opnd b, uint32_t len, Lane *out)
{
	switch (op) {
	case OP_ADD: ELEM2(LF(A.f + B.f)); break;
	case OP_SUB: ELEM2(LF(A.f - B.f)); break;
	case OP_MUL: ELEM2(LF(A.f * B.f)); break;
	case OP_DIV: ELEM2(LF(A.f / B.f)); break;
	case OP_MAX: ELEM2(LF(A.f < B.f ? B.f : A.f)); break;
	case OP_MIN: ELEM2(LF(B.f < A.f ? B.f : A.f)); break;
	default: die("real_binary: op %s", op_info[op].name);
	}
}

/* eq ne lt le: u1 result; integer operands compare as true values */
static void compare(int op, Opnd a, Opnd b, uint32_t len, Lane *out)
{
	int ba = a.big, bb = b.big;
	if (a.real) {
		switch (op) {
		case OP_EQ: ELEM2(LI(A.f == B.f)); break;
		case OP_NE: ELEM2(LI(A.f != B.f)); break;
		case OP_LT: ELEM2(LI(A.f < B.f)); break;
		default: ELEM2(LI(A.f <= B.f)); break;
		}
		return;
	}
	switch (op) {
	case OP_EQ: ELEM2(LI(mval(A.i, ba) == mval(B.i, bb))); break;
	case OP_NE: ELEM2(LI(mval(A.i, ba) != mval(B.i, bb))); break;
	case OP_LT: ELEM2(LI(mval(A.i, ba) < mval(B.i, bb))); break;
	default: ELEM2(LI(mval(A.i, ba) <= mval(B.i, bb))); break;
	}
}

static int64_t shr_val(int64_t v, int big, int64_t k)
{
	if (k >= 64)
		return big || v >= 0 ? 0 : -1;
	return big ? (int64_t)((u64)v >> k) : v >> k;
}

static int64_t roundshr_val(int64_t v, int big, int64_t k)
{
	if (k <= 0)
		return v;
	if (k >= 100)
		return 0;
	i128 x = mval(v, big) + ((i128)1 << (k - 1));
	return (int64_t)(u64)(x >> k);
}

static void int_unary(EvalCtx *c, const Node *n, Opnd a, Lane *out)
{
	Wrap w = wrap_of(n);
	uint32_t len = n->len;
	int64_t k = n->imm;
	int ba = a.big;
	if (k < 0 && n->op != OP_CMUL)
		die("%s by a negative amount", op_info[n->op].name);
	switch (n->op) {
	case OP_NEG: ELEM1(LI(wrapv(w, 0 - (u64)A.i))); break;
	case OP_CMUL: ELEM1(LI(wrapv(w, (u64)A.i * (u64)k))); break;
	case OP_SHL: ELEM1(LI(k >= 64 ? 0 : wrapv(w, (u64)A.i << k))); break;
	case OP_SHR: ELEM1(LI(wrapv(w, (u64)shr_val(A.i, ba, k)))); break;
	case OP_ROUNDSHR: ELEM1(LI(wrapv(w, (u64)roundshr_val(A.i, ba, k)))); break;
	case OP_EXT: case OP_TRUNC: ELEM1(LI(wrapv(w, (u64)A.i))); break;
	case OP_SLICE: ELEM1(LI(k >= 64 ? 0 : wrapv(w, (u64)A.i >> k))); break;
	case OP_SAT: {
		i128 lo = ty_min(n->ty, n->width);
		i128 hi = is_big(n) ? (i128)UINT64_MAX : (i128)ty_max(n->ty, n->width);
		uint64_t hits = 0;
		for (uint32_t i = 0, ja = 0; i < len; i++) {
			i128 v = mval(a.p[ja].i, ba);
			if (v < lo || v > hi) {
				hits++;
				v = v < lo ? lo : hi;
			}
			out[i].i = wrapv(w, (u64)v);
			STEP(ja, a);
		}
		c->sat += hits;
		break;
	}
	default: die("int_unary: op %s", op_info[n->op].name);
	}
}

static double gelu(double x) { return x * (1.0 + erf(x / sqrt(2.0))) / 2.0; }
static double silu(double x) { return x / (1.0 + exp(-x)); }

static void real_unary(const Node *n, Opnd a, Lane *out)
{
	uint32_t len = n->len;
	switch (n->op) {
	case OP_NEG: ELEM1(LF(-A.f)); break;
	case OP_EXP: ELEM1(LF(exp(A.f))); break;
	case OP_RSQRT: ELEM1(LF(1.0 / sqrt(A.f))); break;
	case OP_GELU: ELEM1(LF(gelu(A.f))); break;
	case OP_SILU: ELEM1(LF(silu(A.f))); break;
	default: die("real_unary: op %s", op_info[n->op].name);
	}
}

static void eval_select(const Node *n, const Opnd *o, Lane *out)
{
	Wrap w = wrap_of(n);
	int real = n->ty == TY_F;
	uint32_t jc = 0, jx = 0, jy = 0;
	for (uint32_t i = 0; i < n->len; i++) {
		Lane v = o[0].p[jc].i ? o[1].p[jx] : o[2].p[jy];
		out[i] = real ? v : LI(wrapv(w, (u64)v.i));
		STEP(jc, o[0]);
		STEP(jx, o[1]);
		STEP(jy, o[2]);
	}
}

static void eval_lut(const Module *m, const Node *n, Opnd a, int xwidth, Lane *out)
{
	const Tensor *t = ir_tget(m, n->aux);
	const int32_t *codes = tcodes(m, n->aux);
	Wrap w = wrap_of(n);
	u64 mask = xwidth >= 64 ? ~(u64)0 : ((u64)1 << xwidth) - 1;
	uint32_t ja = 0;
	for (uint32_t i = 0; i < n->len; i++) {
		u64 idx = (u64)a.p[ja].i & mask;
		if (idx >= t->n)   /* past a short table's end: its last row (docs/ir.md) */
			idx = t->n - 1;
		out[i].i = wrapv(w, (u64)(int64_t)codes[idx]);
		STEP(ja, a);
	}
}

/* ---- lanes: concat, extract, sum, rmax -------------------------------- */

static void eval_concat(const Node *n, const Opnd *o, uint32_t nargs, Lane *out)
{
	Wrap w = wrap_of(n);
	uint32_t k = 0;
	for (uint32_t a = 0; a < nargs; a++)
		for (uint32_t i = 0; i < o[a].len && k < n->len; i++, k++)
			out[k] = n->ty == TY_F ? o[a].p[i] : LI(wrapv(w, (u64)o[a].p[i].i));
}

static void eval_extract(const Node *n, Opnd a, Lane *out)
{
	Wrap w = wrap_of(n);
	const Lane *p = a.p + n->imm;
	for (uint32_t i = 0; i < n->len; i++)
		out[i] = n->ty == TY_F ? p[i] : LI(wrapv(w, (u64)p[i].i));
}

static void eval_reduce(const Node *n, Opnd a, Lane *out)
{
	Wrap w = wrap_of(n);
	uint64_t g = (uint64_t)n->imm;
	for (uint32_t i = 0; i < n->len; i++) {
		const Lane *p = a.p + i * g;
		if (n->ty == TY_F) {
			double acc = p[0].f;
			for (uint64_t j = 1; j < g; j++)
				acc = n->op == OP_SUM ? acc + p[j].f : (acc < p[j].f ? p[j].f : acc);
			out[i].f = acc;
		} else if (n->op == OP_SUM) {
			u64 acc = 0;
			for (uint64_t j = 0; j < g; j++)
				acc += (u64)p[j].i;
			out[i].i = wrapv(w, acc);
		} else {
			int64_t best = p[0].i;
			for (uint64_t j = 1; j < g; j++)
				if (mval(best, a.big) < mval(p[j].i, a.big))
					best = p[j].i;
			out[i].i = wrapv(w, (u64)best);
		}
	}
}

/* ---- matrices ---------------------------------------------------------- */

static void matvec_int(const Module *m, const Node *n, Opnd x, Lane *out)
{
	const Tensor *t = ir_tget(m, n->aux);
	const int32_t *W = tcodes(m, n->aux);
	uint32_t rows = t->dims[0], cols = t->dims[1];
	Wrap w = wrap_of(n);
	for (uint32_t j = 0; j < n->len / rows; j++) {
		const Lane *xv = x.p + (size_t)j * cols;
		for (uint32_t r = 0; r < rows; r++) {
			const int32_t *row = W + (size_t)r * cols;
			u64 acc = 0;
			for (uint32_t c = 0; c < cols; c++)
				acc += (u64)(int64_t)row[c] * (u64)xv[c].i;
			out[(size_t)j * rows + r].i = wrapv(w, acc);
		}
	}
}

static void matvec_real(EvalCtx *c, const Node *n, Opnd x, Lane *out)
{
	const Tensor *t = ir_tget(c->m, n->aux);
	const double *W = treal(c, n->aux);
	uint32_t rows = t->dims[0], cols = t->dims[1];
	for (uint32_t j = 0; j < n->len / rows; j++) {
		const Lane *xv = x.p + (size_t)j * cols;
		for (uint32_t r = 0; r < rows; r++) {
			const double *row = W + (size_t)r * cols;
			double acc = row[0] * xv[0].f;
			for (uint32_t k = 1; k < cols; k++)
				acc += row[k] * xv[k].f;
			out[(size_t)j * rows + r].f = acc;
		}
	}
}

static void bmatvec(const Module *m, const Node *n, Opnd x, Lane *out)
{
	const Tensor *t = ir_tget(m, n->aux);
	const int32_t *W = tcodes(m, n->aux);
	uint32_t rows = t->dims[0], cols = t->dims[1], nb = tensor_nblocks(t);
	Wrap w = wrap_of(n);
	for (uint32_t j = 0; j < n->len / (rows * nb); j++) {
		const Lane *xv = x.p + (size_t)j * cols;
		for (uint32_t r = 0; r < rows; r++)
			for (uint32_t b = 0; b < nb; b++) {
				const int32_t *row = W + (size_t)r * cols;
				uint32_t end = b * Q4_BLOCK + Q4_BLOCK < cols ? b * Q4_BLOCK + Q4_BLOCK : cols;
				u64 acc = 0;
				for (uint32_t c = b * Q4_BLOCK; c < end; c++)
					acc += (u64)(int64_t)row[c] * (u64)xv[c].i;
				out[((size_t)j * rows + r) * nb + b].i = wrapv(w, acc);
			}
	}
}

static void vcmul(const Module *m, const Node *n, Opnd x, Lane *out)
{
	const Tensor *t = ir_tget(m, n->aux);
	const int32_t *T = tcodes(m, n->aux);
	Wrap w = wrap_of(n);
	size_t k = 0;
	for (uint32_t i = 0; i < n->len; i++) {
		out[i].i = wrapv(w, (u64)x.p[i].i * (u64)(int64_t)T[k]);
		if (++k == t->n)
			k = 0;
	}
}

/* ---- high-level real ops ----------------------------------------------- */

static void layernorm(const Node *n, Opnd x, Lane *out)
{
	uint32_t g = n->aux;
	double eps = ir_fimm(n);
	for (uint32_t s = 0; s + g <= n->len; s += g) {
		const Lane *p = x.p + s;
		double mean = p[0].f;
		for (uint32_t i = 1; i < g; i++)
			mean += p[i].f;
		mean /= g;
		double d0 = p[0].f - mean, var = d0 * d0;
		for (uint32_t i = 1; i < g; i++)
			var += (p[i].f - mean) * (p[i].f - mean);
		var /= g;
		double den = sqrt(var + eps);
		for (uint32_t i = 0; i < g; i++)
			out[s + i].f = (p[i].f - mean) / den;
	}
}

/* softmax of n values p[0], p[stride], ... into q likewise */
static void softmax_run(const double *p, double *q, uint32_t cnt)
{
	double mx = p[0];
	for (uint32_t i = 1; i < cnt; i++)
		mx = mx < p[i] ? p[i] : mx;
	double sum = 0;
	for (uint32_t i = 0; i < cnt; i++) {
		q[i] = exp(p[i] - mx);
		sum = i ? sum + q[i] : q[i];
	}
	for (uint32_t i = 0; i < cnt; i++)
		q[i] /= sum;
}

static void softmax(const Node *n, Opnd x, Lane *out)
{
	uint32_t g = (uint32_t)n->imm;
	double *p = xmalloc(g * sizeof *p), *q = xmalloc(g * sizeof *q);
	for (uint32_t s = 0; s + g <= n->len; s += g) {
		for (uint32_t i = 0; i < g; i++)
			p[i] = x.p[s + i].f;
		softmax_run(p, q, g);
		for (uint32_t i = 0; i < g; i++)
			out[s + i].f = q[i];
	}
	free(p);
	free(q);
}

/* q, k, v token-major: lane t*H*dh + h*dh + d */
static void attn(const Node *n, const Opnd *o, Lane *out)
{
	uint32_t H = (uint32_t)n->imm, T = n->aux, dh = n->len / (H * T);
	double root = sqrt((double)dh);
	double *sc = xmalloc(T * sizeof *sc), *pr = xmalloc(T * sizeof *pr);
	for (uint32_t t = 0; t < T; t++)
		for (uint32_t h = 0; h < H; h++) {
			uint32_t ns = n->op == OP_CATTN ? t + 1 : T;
			const Lane *q = o[0].p + ((size_t)t * H + h) * dh;
			for (uint32_t s = 0; s < ns; s++) {
				const Lane *k = o[1].p + ((size_t)s * H + h) * dh;
				double dot = q[0].f * k[0].f;
				for (uint32_t d = 1; d < dh; d++)
					dot += q[d].f * k[d].f;
				sc[s] = dot / root;
			}
			softmax_run(sc, pr, ns);
			Lane *y = out + ((size_t)t * H + h) * dh;
			for (uint32_t d = 0; d < dh; d++) {
				double acc = pr[0] * o[2].p[(size_t)h * dh + d].f;
				for (uint32_t s = 1; s < ns; s++)
					acc += pr[s] * o[2].p[((size_t)s * H + h) * dh + d].f;
				y[d].f = acc;
			}
		}
	free(sc);
	free(pr);
}

/* ---- dispatch ----------------------------------------------------------- */

static void eval_const(EvalCtx *c, const Node *n, Lane *out)
{
	Wrap w = wrap_of(n);
	if (n->op == OP_CONST) {
		int64_t v = wrapv(w, (u64)n->imm);
		for (uint32_t i = 0; i < n->len; i++)
			out[i].i = v;
	} else if (n->op == OP_FCONST) {
		for (uint32_t i = 0; i < n->len; i++)
			out[i].f = ir_fimm(n);
	} else if (n->ty == TY_F) {
		const double *v = treal(c, n->aux);
		for (uint32_t i = 0; i < n->len; i++)
			out[i].f = v[i];
	} else {
		const int32_t *v = tcodes(c->m, n->aux);
		for (uint32_t i = 0; i < n->len; i++)
			out[i].i = wrapv(w, (u64)(int64_t)v[i]);
	}
}

static void eval_matrix(EvalCtx *c, const Node *n, Opnd x, Lane *out)
{
	switch (n->op) {
	case OP_MATVEC:
		if (n->ty == TY_F)
			matvec_real(c, n, x, out);
		else
			matvec_int(c->m, n, x, out);
		break;
	case OP_BMATVEC: bmatvec(c->m, n, x, out); break;
	case OP_VCMUL: vcmul(c->m, n, x, out); break;
	default: eval_lut(c->m, n, x, ir_get(c->m, ir_arg(c->m, n, 0))->width, out); break;
	}
}

/* ---- streams: ops that see other tokens (docs/ir.md, "Streams") -------- */

/* Attention of the query at token t over the keys s < ns of k, v (each
 * token H*dh lanes); the order of operations is attn()'s. */
static void sattn_token(const Node *n, const Opnd *o, uint32_t t, uint32_t ns, double *sc,
                        double *pr, Lane *y)
{
	uint32_t H = (uint32_t)n->imm, e = n->len, dh = e / H;
	double root = sqrt((double)dh);
	for (uint32_t h = 0; h < H; h++) {
		const Lane *q = o[0].p + (size_t)t * e + (size_t)h * dh;
		for (uint32_t s = 0; s < ns; s++) {
			const Lane *k = o[1].p + (size_t)s * e + (size_t)h * dh;
			double dot = q[0].f * k[0].f;
			for (uint32_t d = 1; d < dh; d++)
				dot += q[d].f * k[d].f;
			sc[s] = dot / root;
		}
		softmax_run(sc, pr, ns);
		for (uint32_t d = 0; d < dh; d++) {
			double acc = pr[0] * o[2].p[(size_t)h * dh + d].f;
			for (uint32_t s = 1; s < ns; s++)
				acc += pr[s] * o[2].p[(size_t)s * e + (size_t)h * dh + d].f;
			y[(size_t)h * dh + d].f = acc;
		}
	}
}

/* wdelay: out gets the value of the window before (0 after reset), and the
 * state keeps this window's for the next. */
static void wdelay(EvalCtx *c, Ref r, const Opnd *o, Lane *out, size_t len)
{
	if (r >= c->nstate) {
		uint32_t n = c->m->nnodes > r ? c->m->nnodes : r + 1;
		c->state = xrealloc(c->state, n * sizeof *c->state);
		memset(c->state + c->nstate, 0, (n - c->nstate) * sizeof *c->state);
		c->nstate = n;
	}
	if (!c->state[r])
		c->state[r] = xcalloc(len, sizeof **c->state);
	memcpy(out, c->state[r], len * sizeof *out);
	memcpy(c->state[r], o[0].p, len * sizeof *out);
}

/* A token op over the whole window: every operand and out hold all T tokens. */
static void eval_token_op(EvalCtx *c, Ref r, const Node *n, const Opnd *o, uint32_t na, Lane *out)
{
	uint32_t T = c->m->tokens, len = n->len;
	size_t xl = o[0].len;   /* lanes per token of the first operand */
	switch (n->op) {
	case OP_TPOS: {   /* rows of the tensor, then zeros */
		Node whole = *n;
		uint32_t R = ir_tget(c->m, n->aux)->dims[0];
		whole.len = len * R;
		eval_const(c, &whole, out);
		memset(out + (size_t)len * R, 0, (size_t)len * (T - R) * sizeof *out);
		break;
	}
	case OP_TBUF: case OP_TALL: {
		uint32_t L = (uint32_t)(len / xl);
		for (uint32_t t = 0; t < T; t++)
			for (uint32_t s = 0; s < L; s++) {
				Lane *y = out + (size_t)t * len + (size_t)s * xl;
				if (n->op == OP_TBUF && s > t)
					memset(y, 0, xl * sizeof *y);
				else
					memcpy(y, o[0].p + (size_t)s * xl, xl * sizeof *y);
			}
		break;
	}
	case OP_TDELAY:
		memcpy(out, o[0].p, (size_t)len * T * sizeof *out);
		break;
	case OP_TPICK:
		memcpy(out, o[0].p + (size_t)n->imm * xl, len * sizeof *out);
		break;
	case OP_TSEQ:
		for (uint32_t t = 0; t < T; t++)
			if (t < na)
				memcpy(out + (size_t)t * len, o[t].p, len * sizeof *out);
			else
				memset(out + (size_t)t * len, 0, len * sizeof *out);
		break;
	case OP_WDELAY:
		wdelay(c, r, o, out, len);
		break;
	case OP_SATTN: case OP_SCATTN: {
		uint32_t L = n->aux;
		double *sc = xmalloc(L * sizeof *sc), *pr = xmalloc(L * sizeof *pr);
		for (uint32_t t = 0; t < T; t++)
			sattn_token(n, o, t, n->op == OP_SCATTN && t + 1 < L ? t + 1 : L, sc, pr,
			            out + (size_t)t * len);
		free(sc);
		free(pr);
		break;
	}
	default:
		die("eval_token_op: %s", op_info[n->op].name);
	}
}

static void eval_one_token(EvalCtx *c, const Node *n, Opnd *ov, uint32_t na, Lane *out);

void eval_node(EvalCtx *c, Ref r, const Lane *const *arg, Lane *out)
{
	const Module *m = c->m;
	const Node *n = ir_get(m, r);
	Opnd o[8];
	uint32_t na = n->nargs;
	Opnd *ov = na <= 8 ? o : xmalloc(na * sizeof *ov);
	for (uint32_t k = 0; k < na; k++) {
		const Node *a = ir_get(m, ir_arg(m, n, k));
		ov[k] = (Opnd){arg[k], a->len, is_big(a), a->ty == TY_F};
	}
	if (op_info[n->op].flags & OPF_TOKEN) {
		eval_token_op(c, r, n, ov, na, out);
	} else if (ir_is_stream(n)) {   /* token by token: streams advance, statics stay */
		const Lane **base = xmalloc((na + 1) * sizeof *base);
		for (uint32_t k = 0; k < na; k++)
			base[k] = ov[k].p;
		for (uint32_t t = 0; t < m->tokens; t++) {
			for (uint32_t k = 0; k < na; k++)
				if (ir_is_stream(ir_get(m, ir_arg(m, n, k))))
					ov[k].p = base[k] + (size_t)t * ov[k].len;
			eval_one_token(c, n, ov, na, out + (size_t)t * n->len);
		}
		free(base);
	} else {
		eval_one_token(c, n, ov, na, out);
	}
	if (ov != o)
		free(ov);
}

/* n on one token: ov[k] are its operands' lanes of that token. */
static void eval_one_token(EvalCtx *c, const Node *n, Opnd *ov, uint32_t na, Lane *out)
{
	int real = n->ty == TY_F;
	switch (n->op) {
	case OP_CONST: case OP_FCONST: case OP_VCONST: eval_const(c, n, out); break;
	case OP_ADD: case OP_SUB: case OP_MUL: case OP_MAX: case OP_MIN: case OP_DIV:
		if (real)
			real_binary(n->op, ov[0], ov[1], n->len, out);
		else
			int_binary(n->op, wrap_of(n), ov[0], ov[1], n->len, out);
		break;
	case OP_EQ: case OP_NE: case OP_LT: case OP_LE: compare(n->op, ov[0], ov[1], n->len, out); break;
	case OP_NEG: case OP_EXP: case OP_RSQRT: case OP_GELU: case OP_SILU:
		if (real)
			real_unary(n, ov[0], out);
		else
			int_unary(c, n, ov[0], out);
		break;
	case OP_CMUL: case OP_SHL: case OP_SHR: case OP_ROUNDSHR:
	case OP_EXT: case OP_TRUNC: case OP_SLICE: case OP_SAT: int_unary(c, n, ov[0], out); break;
	case OP_SELECT: eval_select(n, ov, out); break;
	case OP_LUT: case OP_MATVEC: case OP_BMATVEC: case OP_VCMUL: eval_matrix(c, n, ov[0], out); break;
	case OP_CONCAT: eval_concat(n, ov, na, out); break;
	case OP_EXTRACT: eval_extract(n, ov[0], out); break;
	case OP_SUM: case OP_RMAX: eval_reduce(n, ov[0], out); break;
	case OP_LAYERNORM: layernorm(n, ov[0], out); break;
	case OP_SOFTMAX: softmax(n, ov[0], out); break;
	case OP_ATTN: case OP_CATTN: attn(n, ov, out); break;
	default: die("eval_node: op %s is not a computation", op_info[n->op].name);
	}
}
