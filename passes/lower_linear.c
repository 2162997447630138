/*
 * lower_linear.c -- fixed-point lowering of matvec (see lower.c and
 * docs/fixed-point.md): the weights stay exact integers, the scales become
 * integer constant multiplications (vcmul), so strength reduction can later
 * remove every multiplier.
 *   q4:  bmatvec over the 4-bit codes of the same tensor -> vcmul by the
 *        block scales as cbits-bit floating mantissas -> sum over blocks;
 *   i8:  matvec over the codes -> vcmul by the row scales;
 *   f32: requantised to cbits-bit codes with row scales, then as i8
 *        (cbits = act_bits - 4 within 12..20, also the scales' precision);
 *   int: matvec over the codes, binary point + frac.
 * Everything is exact: widths come from the bound sum |w| * max |x|; the
 * caller adds the bias and rounds once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"

/*
 * Integer constants m[i] ~ c[i] * 2^e (e returned): each c[i] keeps `bits`
 * significant bits of its own (a floating mantissa: m[i] = mantissa *
 * 2^(e - e_i), trailing zeros are free shifts after strength reduction),
 * within |m| < 2^30 (int32 tensors) -- so a value 2^(31 - bits) below the
 * largest still has all its bits.  Common factors of 2 are removed.
 */
int lw_mantissas(const double *c, size_t n, int bits, int64_t *m)
{
	double big = 0;
	int E = -1000;
	for (size_t i = 0; i < n; i++) {
		big = fmax(big, fabs(c[i]));
		if (c[i] != 0 && isfinite(c[i])) {
			int ei = bits - 1 - (int)ceil(log2(fabs(c[i]) * 1.0000001));
			E = ei > E ? ei : E;
		}
	}
	if (!(big > 0) || !isfinite(big))
		big = 1, E = 0;
	int cap = 30 - (int)ceil(log2(big * 1.0000001));
	E = E > cap ? cap : E;
	for (size_t i = 0; i < n; i++) {
		int ei = c[i] != 0 ? bits - 1 - (int)ceil(log2(fabs(c[i]) * 1.0000001)) : E;
		ei = ei > E ? E : ei;
		m[i] = lw_code(c[i], ei) * ((int64_t)1 << (E - ei > 40 ? 40 : E - ei));
	}
	for (int odd = 0; !odd && E > -60;) {
		for (size_t i = 0; i < n && !odd; i++)
			odd = (int)(m[i] & 1);
		for (size_t i = 0; i < n && !odd; i++)
			m[i] /= 2;
		E -= !odd;   /* every constant even: halve them all, same value */
	}
	return E;
}

/* Scales s[] as mantissas (tensor) * 2^-e; *e returned.  Records the
 * worst relative error of a scale and of a scale vs the matrix's largest. */
static uint32_t scale_tensor(Lower *L, const double *s, size_t n, int *e, int64_t *m)
{
	*e = lw_mantissas(s, n, L->cbits, m);
	double big = 0;
	for (size_t i = 0; i < n; i++)
		big = fmax(big, fabs(s[i]));
	for (size_t i = 0; i < n; i++) {
		double err = fabs(ldexp((double)m[i], -*e) - s[i]);
		if (s[i] != 0)
			L->scale_rel = fmax(L->scale_rel, err / fabs(s[i]));
		if (big > 0)
			L->scale_big = fmax(L->scale_big, err / big);
	}
	L->nscales += n;
	return lw_itensor(L, "scales", (uint32_t)n, 1, m);
}

/* Q4: bmatvec over codes, vcmul by block-scale mantissas, sum over blocks. */
static LVal matvec_q4(Lower *L, uint32_t tid, LVal x)
{
	const Tensor *t = ir_tget(L->m, tid);
	uint32_t rows = t->dims[0], cols = t->dims[1], nb = tensor_nblocks(t);
	size_t ns = (size_t)rows * nb;
	double *s = xmalloc(ns * sizeof *s), *babs = xcalloc(ns, sizeof *babs);
	int64_t *m = xmalloc(ns * sizeof *m);
	for (size_t i = 0; i < ns; i++)
		s[i] = t->scales[i];
	for (size_t i = 0; i < t->n; i++)
		babs[(i / cols) * nb + (i % cols) / Q4_BLOCK] += abs(t->codes[i]);
	int e;
	uint32_t st = scale_tensor(L, s, ns, &e, m);
	double bq = 0, bv = 0, bacc = 0;
	for (uint32_t r = 0; r < rows; r++) {
		double row = 0;
		for (uint32_t b = 0; b < nb; b++) {
			double a = babs[r * nb + b], am = a * (double)llabs(m[r * nb + b]);
			bq = a > bq ? a : bq;
			bv = am > bv ? am : bv;
			row += am;
		}
		bacc = row > bacc ? row : bacc;
	}
	x = lw_fit(L, x, LW_MAXW - lw_bits(bacc));
	uint32_t k = x.len / cols;
	int wp = x.w + lw_bits(bq), wv = x.w + lw_bits(bv), wa = x.w + lw_bits(bacc);
	Ref p = lw_op(L, OP_BMATVEC, TY_S, wp, k * rows * nb, &x.r, 1, 0, tid);
	Ref v = lw_op(L, OP_VCMUL, TY_S, wv, k * rows * nb, &p, 1, 0, st);
	if (nb > 1)
		v = lw_op(L, OP_SUM, TY_S, wa, k * rows, &v, 1, nb, 0);
	free(s);
	free(babs);
	free(m);
	return lw_val(v, x.F + e, nb > 1 ? wa : wv, k * rows);
}

/* matvec over integer codes, then vcmul by row scales (NULL: none). */
static LVal matvec_rows(Lower *L, uint32_t tid, const double *rs, int frac, LVal x)
{
	const Tensor *t = ir_tget(L->m, tid);
	uint32_t rows = t->dims[0], cols = t->dims[1];
	int64_t *m = xmalloc(rows * sizeof *m);
	int e = 0;
	uint32_t st = rs ? scale_tensor(L, rs, rows, &e, m) : 0;
	t = ir_tget(L->m, tid);
	double bm = 0, bacc = 0;
	for (uint32_t r = 0; r < rows; r++) {
		double a = 0;
		for (uint32_t c = 0; c < cols; c++)
			a += abs(t->codes[(size_t)r * cols + c]);
		bm = a > bm ? a : bm;
		a *= rs ? (double)llabs(m[r]) : 1;
		bacc = a > bacc ? a : bacc;
	}
	x = lw_fit(L, x, LW_MAXW - lw_bits(bacc));
	uint32_t len = x.len / cols * rows;
	int wm = x.w + lw_bits(bm), wa = x.w + lw_bits(bacc);
	Ref v = lw_op(L, OP_MATVEC, TY_S, wm, len, &x.r, 1, 0, tid);
	if (rs)
		v = lw_op(L, OP_VCMUL, TY_S, wa, len, &v, 1, 0, st);
	free(m);
	return lw_val(v, x.F + e + frac, rs ? wa : wm, len);
}

/* Float weights: per-row scale, cbits-bit codes. */
static LVal matvec_float(Lower *L, uint32_t tid, LVal x)
{
	const Tensor *t = ir_tget(L->m, tid);
	uint32_t rows = t->dims[0], cols = t->dims[1];
	double *rs = xmalloc(rows * sizeof *rs), lim = ldexp(1.0, L->cbits - 1) - 1;
	int64_t *codes = xmalloc(t->n * sizeof *codes);
	for (uint32_t r = 0; r < rows; r++) {
		double big = 0;
		for (uint32_t c = 0; c < cols; c++)
			big = fmax(big, fabs(t->reals[(size_t)r * cols + c]));
		rs[r] = big / lim;
		for (uint32_t c = 0; c < cols; c++) {
			double w = t->reals[(size_t)r * cols + c];
			int64_t q = big > 0 ? (int64_t)round(w / rs[r]) : 0;
			codes[(size_t)r * cols + c] = q;
			L->fw_err2 += (q * rs[r] - w) * (q * rs[r] - w);
			L->fw_w2 += w * w;
		}
	}
	L->fw_n += t->n;
	char what[64];
	snprintf(what, sizeof what, "w%d", L->cbits);
	uint32_t ct = lw_itensor(L, what, rows, cols, codes);
	ir_tget(L->m, ct)->ndim = 2;
	LVal y = matvec_rows(L, ct, rs, 0, x);
	free(rs);
	free(codes);
	return y;
}

LVal lw_matvec(Lower *L, const Node *n, LVal x)
{
	uint32_t tid = n->aux;
	const Tensor *t = ir_tget(L->m, tid);
	x = lw_materialize(L, x, L->W - 1);
	if (t->kind == TK_Q4)
		return matvec_q4(L, tid, x);
	if (t->kind == TK_INT)
		return matvec_rows(L, tid, NULL, t->frac, x);
	if (t->kind == TK_I8) {
		double *rs = xmalloc(t->dims[0] * sizeof *rs);
		for (uint32_t r = 0; r < t->dims[0]; r++)
			rs[r] = t->scales[r];
		LVal y = matvec_rows(L, tid, rs, 0, x);
		free(rs);
		return y;
	}
	return matvec_float(L, tid, x);
}
