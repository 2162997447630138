/*
 * lower_nl.c -- fixed-point lowering of the nonlinear ops (see lower.c for
 * the pass and docs/fixed-point.md for the measured errors).
 *
 * Tensors that only depend on shapes (ones, masks, block sums) are made once
 * per pass (lw_cached).
 *
 * Two table techniques, both built from lut + integer ops:
 *  - table_fn: f(x) over a clamped domain [lo, hi] of x's codes.  A domain
 *    of at most max(2^K, 256) codes gets one exact table entry per code; a
 *    wider one is cut into 2^K equal segments (K = lw_table_bits: (W+3)/2
 *    clamped to 5..10 for a domain of length 16, +-1 per factor 2 of the
 *    domain's length, within 4..10) with linear interpolation:
 *    y = T[i] + roundshr(D[i] * frac, fb).  Used for GELU and SiLU (as
 *    relu(x) + an even correction of |x|) and exp.
 *  - normalisation: a non-negative v is shifted left by the stages
 *    32, 16, 8, 4, 2 (, 1) when its top bits are zero (lt + select), so it
 *    lands in [2^(N-2), 2^N) (even shifts, for rsqrt) or [2^(N-1), 2^N)
 *    (1/x); a table of the top bits (interpolated) gives rsqrt / 1/x of the
 *    mantissa, and the same stage conditions shift the numerator back.
 *    The numerator is bounded (|d| <= sqrt(S), e <= sum e), so the shifted
 *    numerator never overflows.
 * Every table is short where it can be (docs/fixed-point.md, "Short
 * tables"): only the rows an index reaches, without the rows at the end that
 * repeat the last one (a lut reads its last row past the end).
 * LayerNorm works on d = g*x - sum(x) (exact, no division by g), softmax on
 * x - max with a causal mask, attention builds q.k and p.v as `mul` over
 * lanes ordered (t, h, s, d) made of extract / concat (and a matvec by ones
 * to repeat lanes), summed by `sum` (over d) and a 0/1 matvec (over s).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"

typedef double (*RealFn)(double, double);

/* Index bits of a table over a domain of length 16: interpolation error
 * ~ h^2 must stay below the output's LSB, so the segment count grows with
 * act_bits (2K ~ W + 3); table_fn scales it with the domain's length. */
static int lw_table_bits(const Lower *L)
{
	int k = (L->W + 3) / 2;
	return k < 5 ? 5 : k > LW_TABLE_BITS ? LW_TABLE_BITS : k;
}

static double f_gelu(double t, double a) { (void)a; return -t * erfc(t / sqrt(2.0)) / 2.0; }
static double f_silu(double t, double a) { (void)a; return -t / (1.0 + exp(t)); }
static double f_exp(double x, double a) { (void)a; return exp(x); }
static double f_rsqrt(double u, double a) { return a / sqrt(u); }
static double f_recip(double u, double a) { return a / u; }

static int64_t clamp_code(double v, int w)
{
	double hi = ldexp(1.0, w - 1) - 1, lo = -ldexp(1.0, w - 1);
	v = round(v);
	return (int64_t)(v > hi ? hi : v < lo ? lo : v);
}

/* A lut of codes[0 .. n-1] by idx.  The rows at the end that repeat the
 * last one are left out: an index past a table's end reads its last row
 * (docs/ir.md), so the lut's value is the same for every index. */
static Ref table(Lower *L, const char *what, const int64_t *codes, uint32_t n, int w, Ref idx,
                 uint32_t len)
{
	while (n > 1 && codes[n - 2] == codes[n - 1])
		n--;
	uint32_t t = lw_itensor(L, what, n, 1, codes);
	return lw_op(L, OP_LUT, TY_S, w, len, &idx, 1, 0, t);
}

/* y = T0[idx] + roundshr(D[idx] * frac, fb) for idx < n <= 2^K (the rows an
 * index can reach): t0 has n + 1 entries. */
static LVal interp(Lower *L, const char *what, const int64_t *t0, uint32_t n, Ref idx,
                   Ref frac, int fb, int F, uint32_t len)
{
	int64_t *d = xmalloc(n * sizeof *d), big = 0, dbig = 0;
	for (uint32_t i = 0; i < n; i++) {
		d[i] = t0[i + 1] - t0[i];
		dbig = llabs(d[i]) > dbig ? llabs(d[i]) : dbig;
		big = llabs(t0[i]) > big ? llabs(t0[i]) : big;
	}
	int wt = lw_bits((double)big) + 1, wd = lw_bits((double)dbig) + 1;
	Ref base = table(L, what, t0, n, wt, idx, len);
	if (!fb) {
		free(d);
		return lw_val(base, F, wt, len);
	}
	Ref dl = table(L, what, d, n, wd, idx, len);
	free(d);
	Ref prod = lw_op2(L, OP_MUL, wd + fb + 1, len, dl, frac);
	Ref corr = lw_op1(L, OP_ROUNDSHR, wd + 1, len, prod, fb);
	int w = (wt > wd + 1 ? wt : wd + 1) + 1;
	return lw_val(lw_op2(L, OP_ADD, w, len, base, corr), F, w, len);
}

/* f(x) for x clamped to [lo, hi], at binary point Fy in wy bits. */
static LVal table_fn(Lower *L, const char *what, LVal x, RealFn f, double lo, double hi,
                     int Fy, int wy)
{
	if (wy > 31) {                /* table codes are int32: coarser, then shift */
		LVal y = table_fn(L, what, x, f, lo, hi, Fy - (wy - 31), 31);
		return lw_requant(L, y, Fy, wy);
	}
	x = lw_fit(L, lw_materialize(L, x, L->W - 1), 40);
	double xmin = (double)ty_min(TY_S, x.w), xmax = (double)ty_max(TY_S, x.w);
	double dl = fmax(ceil(ldexp(lo, x.F)), xmin), dh = fmin(floor(ldexp(hi, x.F)), xmax);
	int64_t loc = (int64_t)dl, hic = (int64_t)(dh > dl ? dh : dl);
	if (hic - loc > 1 && ((hic - loc) & (hic - loc - 1)) == 0)
		hic--;                    /* a domain of 2^k + 1 codes would need k + 1 bits */
	Ref c = x.r;                  /* clamp to the domain (skipped where no-op) */
	if ((double)loc > xmin)
		c = lw_op2(L, OP_MAX, x.w, x.len, c, lw_sconst(L, x.w, loc));
	if ((double)hic < xmax)
		c = lw_op2(L, OP_MIN, x.w, x.len, c, lw_sconst(L, x.w, hic));
	Ref u = lw_op2(L, OP_SUB, x.w + 1, x.len, c, lw_sconst(L, x.w + 1, loc));
	int B = lw_bits((double)(hic - loc));
	B = B < 1 ? 1 : B;
	int K = lw_table_bits(L) + (int)ceil(log2(fmax(hi - lo, 1e-9) / 16));
	K = K < 4 ? 4 : K > LW_TABLE_BITS ? LW_TABLE_BITS : K;
	K = B <= K || B <= 8 ? B : K;
	int s = B - K;
	int fb = s < 16 ? s : 16;
	uint32_t n = 1u << K;
	int64_t *t0 = xmalloc((n + 1) * sizeof *t0);
	for (uint32_t i = 0; i <= n; i++)
		t0[i] = clamp_code(ldexp(f(ldexp((double)loc + ldexp((double)i, s), -x.F), 0), Fy), wy);
	Ref idx = lw_op(L, OP_SLICE, TY_U, K, x.len, &u, 1, s, 0);
	Ref frac = fb ? lw_op(L, OP_SLICE, TY_U, fb, x.len, &u, 1, s - fb, 0) : NOREF;
	/* u <= hic - loc: the rows past its segment are never read */
	uint32_t rows = (uint32_t)((hic - loc) >> s) + 1;
	LVal y = interp(L, what, t0, rows < n ? rows : n, idx, frac, fb, Fy, x.len);
	free(t0);
	return lw_requant(L, y, Fy, wy);
}

/*
 * GELU(x) = relu(x) + g(|x|), g(t) = -t Phi(-t); SiLU(x) = relu(x) + h(|x|),
 * h(t) = -t / (1 + e^t): both corrections are even and small (|g| < 0.17,
 * |h| < 0.28), so the table covers t >= 0 only, with narrow entries.  Beyond
 * the domain (t > 8 for GELU: |g| < 5e-15; t > 24 for SiLU: |h| < 1e-9) the
 * table's last value stands.
 */
LVal lw_gelu_silu(Lower *L, Ref r, LVal x)
{
	int gelu = ir_get(L->m, r)->op == OP_GELU;
	int Fy = lw_fmt(L, L->amax[r]), wy = L->W + 1;
	x = lw_fit(L, lw_materialize(L, x, L->W - 1), 40);
	double hi = fmin(gelu ? 8 : 24, ldexp(1.0, x.w - 1 - x.F));
	Ref lt[2] = {x.r, lw_sconst(L, x.w, 0)};
	Ref sel[3] = {lw_op(L, OP_LT, TY_U, 1, x.len, lt, 2, 0, 0),
	              lw_op1(L, OP_NEG, x.w + 1, x.len, x.r, 0), x.r};
	LVal a = lw_val(lw_op(L, OP_SELECT, TY_S, x.w + 1, x.len, sel, 3, 0, 0), x.F, x.w + 1, x.len);
	LVal g = table_fn(L, gelu ? "gelu" : "silu", a, gelu ? f_gelu : f_silu, 0, hi, Fy, wy);
	LVal relu = lw_val(lw_op2(L, OP_MAX, x.w, x.len, x.r, lt[1]), x.F, x.w, x.len);
	relu = lw_requant(L, relu, Fy, wy);
	int w = (g.w > relu.w ? g.w : relu.w) + 1;
	return lw_val(lw_op2(L, OP_ADD, w, x.len, relu.r, g.r), Fy, w, x.len);
}

LVal lw_exp(Lower *L, Ref r, LVal x)
{
	Ref a = ir_arg(L->m, ir_get(L->m, r), 0);
	double lo = isfinite(L->lo[a]) ? L->lo[a] - 1 : -16, hi = isfinite(L->hi[a]) ? L->hi[a] + 1 : 4;
	return table_fn(L, "exp", x, f_exp, lo, hi, lw_fmt(L, L->amax[r]), L->W + 1);
}

/* ---- normalisation -------------------------------------------------------- */

typedef struct Norm {
	Ref c[8];       /* stage conditions (u1): shifted by p[i] */
	int p[8];
	int n;
	Ref v;          /* normalised value, type s(N+1) */
	int N;
} Norm;

static void normalize(Lower *L, Ref v, int N, uint32_t len, int even, Norm *o)
{
	static const int steps[] = {32, 16, 8, 4, 2, 1};
	o->n = 0;
	for (int i = 0; i < 6; i++) {
		int p = steps[i];
		if ((even && p == 1) || p >= N)
			continue;
		Ref a[3] = {v, lw_sconst(L, N + 1, (int64_t)1 << (N - p)), NOREF};
		Ref c = lw_op(L, OP_LT, TY_U, 1, len, a, 2, 0, 0);
		a[0] = c;
		a[1] = lw_op1(L, OP_SHL, N + 1, len, v, p);
		a[2] = v;
		v = lw_op(L, OP_SELECT, TY_S, N + 1, len, a, 3, 0, 0);
		o->c[o->n] = c;
		o->p[o->n++] = p;
	}
	o->v = v;
	o->N = N;
}

/* y << (sum of the taken stages' p) * num / 2, in w bits. */
static Ref unshift(Lower *L, Ref y, const Norm *nm, int num, int w, uint32_t len)
{
	for (int i = 0; i < nm->n; i++) {
		Ref a[3] = {nm->c[i], lw_op1(L, OP_SHL, w, len, y, nm->p[i] * num / 2), y};
		y = lw_op(L, OP_SELECT, TY_S, w, len, a, 3, 0, 0);
	}
	return y;
}

/* f(u, a) * 2^Rb for u = v / 2^N in [umin, 1), from the top bits of v.  For
 * 1/x (umin = 1/2) v's top bit is one -- its callers give v >= 1 (positive(),
 * softmax's sum >= 2^Fe), which the normalisation shifts to [2^(N-1), 2^N)
 * -- so the index leaves it out and the table the rows below 2^(K-1). */
static LVal norm_table(Lower *L, const char *what, const Norm *nm, uint32_t len, RealFn f,
                       double a, double umin, int Rb)
{
	int N = nm->N, K = N < lw_table_bits(L) ? N : lw_table_bits(L);
	int fb = N - K < 16 ? N - K : 16;
	uint32_t n = 1u << K;
	int64_t *t0 = xmalloc((n + 1) * sizeof *t0);
	for (uint32_t i = 0; i <= n; i++)
		t0[i] = (int64_t)round(ldexp(f(fmax(ldexp((double)i, -K), umin), a), Rb));
	Ref v = nm->v;
	int top = umin >= 0.5 && K >= 2;
	Ref idx = lw_op(L, OP_SLICE, TY_U, K - top, len, &v, 1, N - K, 0);
	Ref frac = fb ? lw_op(L, OP_SLICE, TY_U, fb, len, &v, 1, N - K - fb, 0) : NOREF;
	LVal r = interp(L, what, t0 + (top ? n / 2 : 0), top ? n / 2 : n, idx, frac, fb, Rb, len);
	free(t0);
	return r;
}

/* A non-negative copy of x (x < 1 code -> 1) in s(w + 1) with N = w. */
static Ref positive(Lower *L, LVal x, int w)
{
	Ref p = lw_op2(L, OP_MAX, x.w, x.len, x.r, lw_sconst(L, x.w, 1));
	return w + 1 > x.w ? lw_op1(L, OP_EXT, w + 1, x.len, p, 0) : p;
}

LVal lw_rsqrt(Lower *L, LVal x)
{
	x = lw_fit(L, lw_materialize(L, x, L->W - 1), 30);
	if (x.F & 1)
		x = lw_val(lw_op1(L, OP_SHL, x.w + 1, x.len, x.r, 1), x.F + 1, x.w + 1, x.len);
	int N = (x.w + 1) & ~1;
	Norm nm;
	normalize(L, positive(L, x, N), N, x.len, 1, &nm);
	int Rb = L->W + 2 > 24 ? 24 : L->W + 2;
	LVal r = norm_table(L, "rsqrt", &nm, x.len, f_rsqrt, 1.0, 0.25, Rb);
	int w = r.w + N / 2 + 1;
	Ref y = unshift(L, lw_op1(L, OP_EXT, w, x.len, r.r, 0), &nm, 1, w, x.len);
	return lw_val(y, Rb + (N - x.F) / 2, w, x.len);
}

/* 1/x for x > 0 (codes below 1 count as 1: the result saturates there). */
LVal lw_recip(Lower *L, LVal x)
{
	x = lw_fit(L, lw_materialize(L, x, L->W - 1), 30);
	int N = x.w;
	Norm nm;
	normalize(L, positive(L, x, N), N, x.len, 0, &nm);
	int Rb = L->W + 2 > 24 ? 24 : L->W + 2;
	LVal r = norm_table(L, "recip", &nm, x.len, f_recip, 1.0, 0.5, Rb);
	int w = r.w + N + 1;
	Ref y = unshift(L, lw_op1(L, OP_EXT, w, x.len, r.r, 0), &nm, 2, w, x.len);
	return lw_val(y, Rb + N - x.F, w, x.len);
}

/* ---- LayerNorm -------------------------------------------------------------- */

LVal lw_layernorm(Lower *L, LVal x, uint32_t g, double eps)
{
	x = lw_fit(L, lw_materialize(L, x, L->W - 1), 32);
	uint32_t len = x.len, n = len / g;
	int bg = lw_bits((double)g), wd = x.w + bg + 1;
	Ref s = lw_op1(L, OP_SUM, x.w + bg, n, x.r, g);
	Ref sb = lw_bcast(L, lw_val(s, x.F, x.w + bg, n), g);
	Ref gx = lw_op1(L, OP_CMUL, x.w + bg, len, x.r, g);
	Ref d = lw_op2(L, OP_SUB, wd, len, gx, sb);          /* g * (x - mean), exact */
	int wmax = (LW_MAXW - bg - 1) / 2, k = wd > wmax ? wd + 1 - wmax : 0;
	int wdd = k ? wd - k + 1 : wd;
	Ref dd = k ? lw_op1(L, OP_ROUNDSHR, wdd, len, d, k) : d;
	Ref sq = lw_op2(L, OP_MUL, 2 * wdd, len, dd, dd);
	int ws = 2 * wdd + bg;
	Ref S = lw_op1(L, OP_SUM, ws, n, sq, g);
	double E = ldexp(eps * (double)g * g * g, 2 * x.F - 2 * k);
	if (E >= 0.5) {
		int64_t e = E > ldexp(1.0, 60) ? (int64_t)1 << 60 : (int64_t)round(E);
		S = lw_op2(L, OP_ADD, ws + 1, n, S, lw_sconst(L, lw_bits((double)e) + 1, e));
		ws++;
	}
	int N = ws & 1 ? ws - 1 : ws;           /* S >= 0 fits N bits, N even */
	Norm nm;
	if (N + 1 != ws)
		S = lw_op1(L, OP_EXT, N + 1, n, S, 0);
	normalize(L, S, N, n, 1, &nm);
	int wr = L->W + 3 < 14 ? 14 : L->W + 3 > 24 ? 24 : L->W + 3;
	int Rb = wr - 2 - lw_bits(2 * sqrt((double)g));
	LVal r = norm_table(L, "rsqrt", &nm, n, f_rsqrt, sqrt((double)g), 0.25, Rb);
	Ref rb = lw_bcast(L, r, g);
	Norm nb = nm;                           /* the stage conditions, per lane */
	for (int i = 0; i < nm.n; i++)
		nb.c[i] = lw_bcast_ref(L, nm.c[i], TY_U, 1, n, g);
	int wsh = N / 2 + 2;
	Ref dsh = unshift(L, wsh > wdd ? lw_op1(L, OP_EXT, wsh, len, dd, 0) : dd, &nb, 1,
	                  wsh > wdd ? wsh : wdd, len);
	int wy = (wsh > wdd ? wsh : wdd) + r.w;
	Ref y = lw_op2(L, OP_MUL, wy, len, dsh, rb);
	return lw_val(y, Rb + N / 2, wy, len);
}

/* ---- softmax and attention ---------------------------------------------------- */

/* softmax over groups of g lanes; mask (u1 per lane, or NOREF) drops lanes.
 * Result at binary point Fp in W bits. */
LVal lw_softmax(Lower *L, LVal x, uint32_t g, Ref mask, int Fp)
{
	x = lw_fit(L, lw_materialize(L, x, L->W - 1), 40);
	uint32_t len = x.len, n = len / g;
	if (mask != NOREF) {
		Ref a[3] = {mask, x.r, lw_sconst(L, x.w, ty_min(TY_S, x.w))};
		x.r = lw_op(L, OP_SELECT, TY_S, x.w, len, a, 3, 0, 0);
	}
	Ref mx = lw_op1(L, OP_RMAX, x.w, n, x.r, g);
	Ref t = lw_op2(L, OP_SUB, x.w + 1, len, x.r, lw_bcast_ref(L, mx, TY_S, x.w, n, g));
	int Fe = L->W - 1, we = Fe + 2, bg = lw_bits((double)g - 1);
	LVal e = table_fn(L, "exp", lw_val(t, x.F, x.w + 1, len), f_exp, -(Fe + 2) * 0.6931471805599453,
	                  0, Fe, we);
	if (mask != NOREF) {
		Ref a[3] = {mask, e.r, lw_sconst(L, we, 0)};
		e.r = lw_op(L, OP_SELECT, TY_S, we, len, a, 3, 0, 0);
	}
	Ref s = lw_op1(L, OP_SUM, we + bg, n, e.r, g);     /* >= 2^Fe: the max lane */
	int N = we + bg - 1;
	Norm nm;
	normalize(L, s, N, n, 0, &nm);
	int wr = L->W + 3 < 14 ? 14 : L->W + 3 > 24 ? 24 : L->W + 3;
	wr = wr > LW_MAXW - N - 2 ? LW_MAXW - N - 2 : wr;
	LVal r = norm_table(L, "recip", &nm, n, f_recip, 1.0, 0.5, wr - 2);
	Norm nb = nm;
	for (int i = 0; i < nm.n; i++)
		nb.c[i] = lw_bcast_ref(L, nm.c[i], TY_U, 1, n, g);
	Ref esh = unshift(L, lw_op1(L, OP_EXT, N + 2, len, e.r, 0), &nb, 2, N + 2, len);
	Ref rb = lw_bcast(L, r, g);
	Ref p = lw_op2(L, OP_MUL, N + 2 + r.w, len, esh, rb);
	return lw_requant(L, lw_val(p, N + wr - 2, N + 2 + r.w, len), Fp, L->W);
}

/* extract(x, lo) of len lanes, cached in c[key] */
static Ref slice_of(Lower *L, LVal x, uint32_t lo, uint32_t len, Ref *c)
{
	if (*c == NOREF)
		*c = lw_op1(L, OP_EXTRACT, x.w, len, x.r, lo);
	return *c;
}

/* The causal mask, lanes (t, h, s) = s <= t: a constant of all T queries,
 * or (stream) a tpos whose row t holds query t's lanes (h, s). */
static Ref attn_mask(Lower *L, uint32_t H, uint32_t T, int stream)
{
	char key[64];
	uint32_t R = stream ? L->m->tokens : T;   /* rows: one per token of the window */
	snprintf(key, sizeof key, "mask.%u.%u.%u", H, T, R);
	uint32_t id = lw_cached(L, key);
	if (id == NOREF) {
		int64_t *m = xmalloc((size_t)R * H * T * sizeof *m);
		for (uint32_t t = 0; t < R; t++)
			for (uint32_t h = 0; h < H; h++)
				for (uint32_t s = 0; s < T; s++)
					m[((size_t)t * H + h) * T + s] = s <= t;
		id = lw_cache(L, key, lw_itensor(L, "mask", R, H * T, m));
		ir_tget(L->m, id)->ndim = 2;
		free(m);
	}
	if (stream)
		return lw_op(L, OP_TPOS, TY_U, 1, H * T, NULL, 0, 0, id);
	return lw_op(L, OP_VCONST, TY_U, 1, T * H * T, NULL, 0, 0, id);
}

/* scores (t, h, s) = q[t,h,:] . k[s,h,:] / sqrt(dh), as mul + sum, for Tq
 * queries (T, or 1 in a stream) over T keys; causal: zero for s > t. */
static LVal attn_scores(Lower *L, LVal q, LVal k, uint32_t H, uint32_t Tq, uint32_t T, int causal)
{
	uint32_t dh = q.len / (H * Tq), n = Tq * H * T;
	Ref *qa = xmalloc(n * sizeof *qa), *ka = xmalloc(n * sizeof *ka);
	Ref *qc = xmalloc(Tq * H * sizeof *qc), *kc = xmalloc(T * H * sizeof *kc);
	for (uint32_t i = 0; i < Tq * H; i++)
		qc[i] = NOREF;
	for (uint32_t i = 0; i < T * H; i++)
		kc[i] = NOREF;
	Ref zq = lw_op(L, OP_CONST, TY_S, q.w, dh, NULL, 0, 0, 0);
	Ref zk = lw_op(L, OP_CONST, TY_S, k.w, dh, NULL, 0, 0, 0);
	for (uint32_t t = 0; t < Tq; t++)
		for (uint32_t h = 0; h < H; h++)
			for (uint32_t s = 0; s < T; s++) {
				uint32_t i = (t * H + h) * T + s;
				int off = causal && s > t;
				qa[i] = off ? zq : slice_of(L, q, (t * H + h) * dh, dh, &qc[t * H + h]);
				ka[i] = off ? zk : slice_of(L, k, (s * H + h) * dh, dh, &kc[s * H + h]);
			}
	Ref Q = lw_op(L, OP_CONCAT, TY_S, q.w, n * dh, qa, n, 0, 0);
	Ref K = lw_op(L, OP_CONCAT, TY_S, k.w, n * dh, ka, n, 0, 0);
	Ref qk = lw_op2(L, OP_MUL, q.w + k.w, n * dh, Q, K);
	int ws = q.w + k.w + lw_bits((double)dh - 1);
	LVal S = lw_val(lw_op1(L, OP_SUM, ws, n, qk, dh), q.F + k.F, ws, n);
	free(qa);
	free(ka);
	free(qc);
	free(kc);
	double l2 = log2((double)dh) / 2;
	if (l2 == floor(l2)) {
		S.F += (int)l2;
		return S;
	}
	return lw_scale(L, S, 1.0 / sqrt((double)dh));
}

/* [dh][T*dh] with W[d][s*dh + d] = 1: sums T blocks of dh lanes (cached). */
static uint32_t block_sum_tensor(Lower *L, uint32_t dh, uint32_t T)
{
	char key[64];
	snprintf(key, sizeof key, "blocksum.%u.%u", dh, T);
	uint32_t id = lw_cached(L, key);
	if (id != NOREF)
		return id;
	int64_t *w = xcalloc((size_t)dh * T * dh, sizeof *w);
	for (uint32_t d = 0; d < dh; d++)
		for (uint32_t s = 0; s < T; s++)
			w[(size_t)d * T * dh + s * dh + d] = 1;
	id = lw_itensor(L, "blocksum", dh, T * dh, w);
	ir_tget(L->m, id)->ndim = 2;
	free(w);
	return lw_cache(L, key, id);
}

/* out[t,h,:] = sum over s of p[t,h,s] * v[s,h,:]: lanes (t, h, s, d), p
 * repeated dh times (matvec by ones), v's slices arranged by concat, the sum
 * over s a matvec by [I I ... I] per (t, h) group; Tq queries, T keys. */
static LVal attn_pv(Lower *L, LVal P, LVal v, uint32_t H, uint32_t Tq, uint32_t T, int causal)
{
	uint32_t dh = v.len / (H * T), n = Tq * H * T;
	Ref *va = xmalloc(n * sizeof *va), *vc = xmalloc(T * H * sizeof *vc);
	Ref zv = lw_op(L, OP_CONST, TY_S, v.w, dh, NULL, 0, 0, 0);
	for (uint32_t i = 0; i < T * H; i++)
		vc[i] = NOREF;
	for (uint32_t t = 0; t < Tq; t++)
		for (uint32_t h = 0; h < H; h++)
			for (uint32_t s = 0; s < T; s++)
				va[(t * H + h) * T + s] = causal && s > t ? zv
				    : slice_of(L, v, (s * H + h) * dh, dh, &vc[s * H + h]);
	Ref V = lw_op(L, OP_CONCAT, TY_S, v.w, n * dh, va, n, 0, 0);
	Ref Pb = lw_bcast_ref(L, P.r, TY_S, P.w, n, dh);
	int wp = P.w + v.w, wo = wp + lw_bits((double)T - 1);
	Ref pv = lw_op2(L, OP_MUL, wp, n * dh, Pb, V);
	Ref y = lw_op(L, OP_MATVEC, TY_S, wo, Tq * H * dh, &pv, 1, 0, block_sum_tensor(L, dh, T));
	free(va);
	free(vc);
	return lw_val(y, P.F + v.F, wo, Tq * H * dh);
}

LVal lw_attn(Lower *L, LVal q, LVal k, LVal v, uint32_t H, uint32_t T, int causal)
{
	q = lw_fit(L, lw_materialize(L, q, L->W - 1), 28);
	k = lw_fit(L, lw_materialize(L, k, L->W - 1), 28);
	v = lw_fit(L, lw_materialize(L, v, L->W - 1), 28);
	LVal S = attn_scores(L, q, k, H, T, T, causal);
	Ref mask = causal ? attn_mask(L, H, T, 0) : NOREF;
	LVal P = lw_softmax(L, S, T, mask, L->W - 2);
	return attn_pv(L, P, v, H, T, T, causal);
}

/* Attention in a stream: the query of the current token against key and
 * value buffers of the window's first T (keys) tokens -- tbuf (every token
 * so far, zeros after: causal) or tall (every token; the query waits a
 * window in a tdelay).  Per token it is lw_attn's arithmetic for one query,
 * bit for bit. */
LVal lw_sattn(Lower *L, LVal q, LVal k, LVal v, uint32_t H, uint32_t keys, int causal)
{
	uint32_t T = keys;   /* < the window's tokens only if causal (ir/verify.c) */
	q = lw_fit(L, lw_materialize(L, q, L->W - 1), 28);
	k = lw_fit(L, lw_materialize(L, k, L->W - 1), 28);
	v = lw_fit(L, lw_materialize(L, v, L->W - 1), 28);
	int buf = causal ? OP_TBUF : OP_TALL;
	LVal K = lw_val(lw_op1(L, buf, k.w, T * k.len, k.r, 0), k.F, k.w, T * k.len);
	LVal V = lw_val(lw_op1(L, buf, v.w, T * v.len, v.r, 0), v.F, v.w, T * v.len);
	if (!causal)
		q.r = lw_op1(L, OP_TDELAY, q.w, q.len, q.r, 0);
	LVal S = attn_scores(L, q, K, H, 1, T, 0);
	Ref mask = causal ? attn_mask(L, H, T, 1) : NOREF;
	LVal P = lw_softmax(L, S, T, mask, L->W - 2);
	return attn_pv(L, P, V, H, 1, T, 0);
}
