/*
 * cmvm.c -- constant matrix times vector: CSD terms, per-input odd
 * multiples, row adder trees, and instantiation of a solution as IR nodes.
 *
 * CSD.  A weight w is written in canonical signed digits (the non-adjacent
 * form): w = sum of d_k 2^k with d_k in {-1, 0, +1} and no two adjacent
 * non-zero digits; this has the fewest non-zero digits of any signed-digit
 * form (about n/3 for n-bit numbers).  Each digit is one term
 * (column, shift k, sign d_k) of its row's sum.
 *
 * Row trees.  A row's terms are summed by a two-queue Huffman scheme on
 * adder depth: always join the two shallowest terms, so a row of t terms
 * costs t - 1 adders and its depth is minimal for the given term depths.
 *
 * Emission.  Each variable gets an interval [lo, hi] from the intervals of
 * the input nodes' types; its node is signed, as wide as the interval needs,
 * but never wider than the result width W: arithmetic on W-bit values is
 * exact modulo 2^W, every consumer is at most W bits wide, and the result
 * is wrapped to W bits, so capping never changes an output.  Only the
 * variables the outputs need are emitted; `shl` nodes are shared per
 * (variable, shift).
 *
 * Sharing (CMVM_SHARE, solve_best).  Matrices of <= RESTART_WEIGHTS
 * weights (and >= 2 rows) whose greedy costs <= RESTART_WORK pair updates
 * are solved 6 times -- greedy scoring mode
 * SHALLOW / DEEP / WMC, each without and with row factoring (cmvm_mst.c,
 * unbounded tree depth) -- plus 8..32 seeded runs (remaining ties broken
 * by a hash of the pattern and the seed), and the solution with the
 * fewest adders, then the least depth, is kept; the seeds are fixed, so
 * results are deterministic.  Bigger matrices get one DEEP run, with row
 * factoring bounded to MST_LEVELS tree levels while rows^2 * cols <=
 * MST_WORK, kept only if it removes 1/MST_GAIN of the digits.  Rows with
 * a parent are finished in Prim order (cmvm_finish_tree), adding the
 * parent's result as one more term.
 *
 * Depth bound (CMVM_LEVEL(CMVM_SHARE, maxd)).  A row whose terms have
 * depths d_i can be summed by a tree of depth D iff sum 2^d_i <= 2^D
 * (Kraft), and the Huffman-style row tree reaches that depth.  Extracting
 * a pair of depths a, b adds 2^(max(a,b)+1) - 2^a - 2^b to its row's sum,
 * so the greedy takes a pair in a row only while the row's sum stays within
 * its cap (cmvm_greedy.c); a row at level l of a row-factoring tree of L
 * levels gets the cap 2^(D-(L-l)-1) (its parent is one more term).  The
 * runs: capped greedy without factoring and with 2 and 4 factoring levels
 * (3 modes each), then the free runs, keeping the fewest adders among
 * those within D = max(maxd, the matrix's minimum depth); a result deeper
 * than D (a row of only negative terms needs a negation) is redone with
 * D - 1, down to the minimum.
 *
 * Complexity: CSD and odd multiples O(rows * cols); row trees
 * O(t log t) per row; emission O(ops + rows); sharing: see cmvm_greedy.c
 * and cmvm_mst.c (column chunks bound the greedy's work per weight).
 */
#include <stdlib.h>
#include <string.h>

#include "cmvm.h"
#include "timing.h"

typedef __int128 I128;
#define I128_LIM ((I128)1 << 100)

/* ---- hash map ----------------------------------------------------------- */

void cmvm_map_init(CmvmMap *h, uint32_t cap)
{
	uint32_t c = 16;
	while (c < cap * 2)
		c *= 2;
	h->cap = c;
	h->n = 0;
	h->slot = xcalloc(c, sizeof *h->slot);
}

void cmvm_map_free(CmvmMap *h)
{
	free(h->slot);
	memset(h, 0, sizeof *h);
}

static uint32_t map_slot(const CmvmMap *h, uint64_t key)
{
	return cmvm_map_slot(h, key);
}

static void map_grow(CmvmMap *h)
{
	CmvmMap g;
	cmvm_map_init(&g, h->cap);
	for (uint32_t i = 0; i < h->cap; i++)
		if (h->slot[i].key) {
			uint32_t s = map_slot(&g, h->slot[i].key);
			while (g.slot[s].key)
				s = (s + 1) & (g.cap - 1);
			g.slot[s] = h->slot[i];
		}
	g.n = h->n;
	cmvm_map_free(h);
	*h = g;
}

uint32_t *cmvm_map_get(CmvmMap *h, uint64_t key, uint32_t val_if_new, int *isnew)
{
	if (2 * (h->n + 1) > h->cap)
		map_grow(h);
	uint32_t s = map_slot(h, key);
	while (h->slot[s].key && h->slot[s].key != key)
		s = (s + 1) & (h->cap - 1);
	*isnew = !h->slot[s].key;
	if (*isnew) {
		h->slot[s].key = key;
		h->slot[s].val = val_if_new;
		h->n++;
	}
	return &h->slot[s].val;
}

uint32_t *cmvm_map_find(const CmvmMap *h, uint64_t key)
{
	uint32_t s = map_slot(h, key);
	for (; h->slot[s].key; s = (s + 1) & (h->cap - 1))
		if (h->slot[s].key == key)
			return &h->slot[s].val;
	return NULL;
}

/* ---- the graph ---------------------------------------------------------- */

uint32_t cmvm_op(Cmvm *p, uint32_t a, int sa, uint32_t b, int sb, int neg)
{
	uint32_t v = p->nin + p->nops;
	if (a >= v || b >= v || sa < 0 || sa > 63 || sb < 0 || sb > 63)
		die("bad cmvm op");
	if (p->nops == p->capops) {
		p->capops = p->capops ? 2 * p->capops : 64;
		p->ops = xrealloc(p->ops, p->capops * sizeof *p->ops);
		p->depth = xrealloc(p->depth, (p->nin + p->capops) * sizeof *p->depth);
	}
	p->ops[p->nops++] = (CmvmOp){a, b, (uint8_t)sa, (uint8_t)sb, (uint8_t)neg};
	uint16_t da = p->depth[a], db = p->depth[b];
	p->depth[v] = (uint16_t)((da > db ? da : db) + 1);
	return v;
}

CmvmTerm cmvm_join(Cmvm *p, CmvmTerm x, CmvmTerm y)
{
	if (x.sign < 0 && y.sign > 0) {
		CmvmTerm t = x;
		x = y;
		y = t;
	}
	int m = x.shift < y.shift ? x.shift : y.shift;
	uint32_t v = cmvm_op(p, x.var, x.shift - m, y.var, y.shift - m, x.sign != y.sign);
	return (CmvmTerm){v, (uint8_t)m, x.sign};
}

void cmvm_row_push(CmvmRow *r, CmvmTerm t)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 8;
		r->t = xrealloc(r->t, r->cap * sizeof *r->t);
	}
	r->t[r->n++] = t;
}

void cmvm_csd_terms(CmvmRow *row, int64_t v, uint32_t var, int shift)
{
	int sign = 1;
	uint64_t u = (uint64_t)v;
	if (v < 0) {
		sign = -1;
		u = -(uint64_t)v;
	}
	for (int k = shift; u; k++, u >>= 1) {
		if (!(u & 1))
			continue;
		int d = (u & 3) == 1 ? 1 : -1;
		cmvm_row_push(row, (CmvmTerm){var, (uint8_t)k, (int8_t)(d * sign)});
		u = d > 0 ? u - 1 : u + 1;
	}
}

/* ---- row trees ---------------------------------------------------------- */

typedef struct DepthKey { uint16_t d; uint32_t i; } DepthKey;

static int depth_cmp(const void *a, const void *b)
{
	const DepthKey *x = a, *y = b;
	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Two-queue Huffman on depth: q1 the sorted terms, q2 the joined ones. */
static CmvmTerm row_tree(Cmvm *p, CmvmRow *row, DepthKey *key, CmvmTerm *q2)
{
	uint32_t n = row->n;
	for (uint32_t i = 0; i < n; i++)
		key[i] = (DepthKey){p->depth[row->t[i].var], i};
	qsort(key, n, sizeof *key, depth_cmp);
	uint32_t h1 = 0, h2 = 0, t2 = 0;
	for (uint32_t k = 0; k + 1 < n; k++) {
		CmvmTerm x[2];
		for (int j = 0; j < 2; j++) {
			int from1 = h1 < n && (h2 == t2 ||
			            key[h1].d <= p->depth[q2[h2].var]);
			x[j] = from1 ? row->t[key[h1++].i] : q2[h2++];
		}
		q2[t2++] = cmvm_join(p, x[0], x[1]);
	}
	return h1 < n ? row->t[key[h1].i] : q2[h2];
}

void cmvm_finish_rows(Cmvm *p, CmvmRow *rows)
{
	uint32_t maxn = 1;
	for (uint32_t r = 0; r < p->nrows; r++)
		if (rows[r].n > maxn)
			maxn = rows[r].n;
	DepthKey *key = xmalloc(maxn * sizeof *key);
	CmvmTerm *q2 = xmalloc(maxn * sizeof *q2);
	for (uint32_t r = 0; r < p->nrows; r++)
		p->out[r] = rows[r].n ? row_tree(p, &rows[r], key, q2)
		                      : (CmvmTerm){0, 0, 0};
	free(key);
	free(q2);
}

void cmvm_finish_tree(Cmvm *p, CmvmRow *rows, const uint32_t *order,
                      const uint32_t *parent, const int8_t *psign)
{
	uint32_t maxn = 2;
	for (uint32_t r = 0; r < p->nrows; r++)
		if (rows[r].n + 1 > maxn)
			maxn = rows[r].n + 1;
	DepthKey *key = xmalloc(maxn * sizeof *key);
	CmvmTerm *q2 = xmalloc(maxn * sizeof *q2);
	for (uint32_t k = 0; k < p->nrows; k++) {
		uint32_t r = order[k];
		if (parent[r] != UINT32_MAX && p->out[parent[r]].sign) {
			CmvmTerm t = p->out[parent[r]];
			t.sign = (int8_t)(t.sign * psign[r]);
			cmvm_row_push(&rows[r], t);
		}
		p->out[r] = rows[r].n ? row_tree(p, &rows[r], key, q2) : (CmvmTerm){0, 0, 0};
	}
	free(key);
	free(q2);
}

/* ---- solvers ------------------------------------------------------------ */

/* The term for m * x_c (m odd, > 0), built once per (column, m). */
static CmvmTerm odd_multiple(Cmvm *p, CmvmMap *memo, uint32_t c, int64_t m)
{
	if (m == 1)
		return (CmvmTerm){c, 0, 1};
	int isnew;
	uint64_t key = ((uint64_t)c << 32 | (uint64_t)(m >> 1)) + 1;
	uint32_t *slot = cmvm_map_get(memo, key, 0, &isnew);
	if (!isnew)
		return (CmvmTerm){*slot >> 8, (uint8_t)(*slot & 0x7f), *slot & 0x80 ? -1 : 1};
	CmvmRow row = {0};
	cmvm_csd_terms(&row, m, c, 0);
	Cmvm tmp = *p;
	tmp.nrows = 1;
	CmvmTerm t;
	tmp.out = &t;
	cmvm_finish_rows(&tmp, &row);
	p->ops = tmp.ops, p->nops = tmp.nops, p->capops = tmp.capops, p->depth = tmp.depth;
	free(row.t);
	*slot = t.var << 8 | t.shift | (t.sign < 0 ? 0x80 : 0);
	return t;
}

/* Adds w * x_c to row as one term on a shared odd multiple of x_c. */
static void odd_term(Cmvm *p, CmvmMap *memo, CmvmRow *row, int64_t w, uint32_t c)
{
	uint64_t u = w < 0 ? -(uint64_t)w : (uint64_t)w;
	int k = __builtin_ctzll(u);
	CmvmTerm t = odd_multiple(p, memo, c, (int64_t)(u >> k));
	t.shift = (uint8_t)(t.shift + k);
	if (w < 0)
		t.sign = (int8_t)-t.sign;
	cmvm_row_push(row, t);
}

/* Terms of columns c0 .. c1-1 of every row, appended to row[]. */
static void build_terms(Cmvm *p, CmvmRow *row, const int32_t *w, size_t stride,
                        uint32_t c0, uint32_t c1, int level)
{
	CmvmMap memo;
	cmvm_map_init(&memo, 64);
	for (uint32_t r = 0; r < p->nrows; r++)
		for (uint32_t c = c0; c < c1; c++) {
			int64_t v = w[r * stride + c];
			if (!v)
				continue;
			if (level == CMVM_ODD && csd_digits(v) > 1)
				odd_term(p, &memo, &row[r], v, c);
			else
				cmvm_csd_terms(&row[r], v, c, 0);
		}
	cmvm_map_free(&memo);
}

/* CSD digits of row r of w. */
static uint64_t row_digits(const int32_t *w, size_t stride, uint32_t cols, uint32_t r)
{
	uint64_t n = 0;
	for (uint32_t c = 0; c < cols; c++)
		n += (uint64_t)csd_digits(w[r * stride + c]);
	return n;
}

/* Column chunks.  The greedy costs about rows * t^2 / 2 pair updates for t
 * terms per row, ~0.5 us each once its pair map outgrows the caches.  A
 * matrix whose whole greedy costs at most CHUNK_WORK (rows * T^2 / 2 for T
 * digits per row: 128 x 128 Q4 1.5e6, the 3072 x 32 Q4 blocks of pusht
 * ~3e6) is solved whole; a bigger one in chunks of max(CHUNK_MIN,
 * sqrt(CHUNK_SMALL / rows)) terms per row, O(CHUNK_MIN) updates per weight:
 * the 12-bit 2048 x 192 matvecs of predict-step (7e8) and the float-weight
 * 192 x 192 layers of the encoder (12-bit codes, ~700 digits per row:
 * 4.7e7; whole 48,038 adders in 23.6 s, in 52-digit chunks 56,546 in
 * 0.5 s).  CMVM_WIDE (-O3) solves whole up to CHUNK_WIDE: 192 x 576 Q4
 * (4.7e7; in 2 chunks it has 6% more adders, in 24-digit chunks 19%).
 * The flag rides in the greedy mode's bit CHUNK_WIDE_BIT. */
#ifndef CHUNK_MIN
#define CHUNK_MIN 24
#endif
#ifndef CHUNK_WORK
#define CHUNK_WORK (1u << 23)
#endif
#define CHUNK_WIDE (1u << 26)
#define CHUNK_WIDE_BIT (1 << 15)
#ifndef CHUNK_SMALL
#define CHUNK_SMALL (1u << 19)
#endif
/* The greedy's pair updates on the whole matrix: rows * T^2 / 2 for T
 * digits per row (in *mean). */
static double greedy_work(const int32_t *w, uint32_t rows, uint32_t cols, size_t stride,
                          double *mean)
{
	double T = 0, n = rows ? rows : 1;
	for (uint32_t r = 0; r < rows; r++)
		T += (double)row_digits(w, stride, cols, r);
	*mean = T / n;
	return n * *mean * *mean / 2;
}

static double chunk_terms(const int32_t *w, uint32_t rows, uint32_t cols, size_t stride,
                          int wide)
{
	double T, n = rows ? rows : 1;
	if (greedy_work(w, rows, cols, stride, &T) <= (wide ? CHUNK_WIDE : CHUNK_WORK))
		return T * n + 1;   /* whole */
	double t = __builtin_sqrt((double)CHUNK_SMALL / n);
	return t > CHUNK_MIN ? t : CHUNK_MIN;
}

/* End of the column chunk starting at c0 (at most per_row terms per row). */
static uint32_t chunk_end(const int32_t *w, uint32_t rows, uint32_t cols,
                          size_t stride, uint32_t c0, double per_row)
{
	double limit = per_row * rows, sum = 0;
	uint32_t c = c0;
	for (; c < cols; c++) {
		double t = 0;
		for (uint32_t r = 0; r < rows; r++)
			t += csd_digits(w[r * stride + c]);
		if (c > c0 && sum + t > limit)
			break;
		sum += t;
	}
	return c;
}

static void solve_init(Cmvm *p, uint32_t rows, uint32_t cols)
{
	memset(p, 0, sizeof *p);
	p->nin = cols;
	p->nrows = rows;
	p->out = xcalloc(rows ? rows : 1, sizeof *p->out);
	p->depth = xcalloc(cols + 1, sizeof *p->depth);
}

static void free_rows(CmvmRow *row, uint32_t rows)
{
	for (uint32_t r = 0; r < rows; r++)
		free(row[r].t);
	free(row);
}

/* Whether the CSD of v has a positive digit. */
static int csd_has_pos(int64_t v)
{
	CmvmRow t = {0};
	cmvm_csd_terms(&t, v, 0, 0);
	int pos = 0;
	for (uint32_t i = 0; i < t.n; i++)
		pos |= t.t[i].sign > 0;
	free(t.t);
	return pos;
}

/* Depth mode: the depth bound of the matrix, max(maxd, every row's minimum
 * ceil(log2(its CSD digits)), plus 1 if they are all negative). */
static int depth_bound(const int32_t *w, uint32_t rows, uint32_t cols, size_t stride, int maxd)
{
	for (uint32_t r = 0; r < rows; r++) {
		int pos = 0, d = 0;
		for (uint32_t c = 0; c < cols && !pos; c++)
			pos = csd_has_pos(w[r * stride + c]);
		uint64_t n = row_digits(w, stride, cols, r);
		while (d < CMVM_MAXDEPTH_LIMIT && ((uint64_t)1 << d) < n)
			d++;
		d += n && !pos;   /* only negative digits: the row needs a negation */
		maxd = d > maxd ? d : maxd;
	}
	return maxd;
}

/* Greedy sharing chunk by chunk; the rows' remaining terms in row[].  With
 * bound (per row, on the Kraft sum: sum over its terms of 2^depth) each
 * chunk's greedy gets per-row caps: the row's bound less the Kraft sum of
 * its terms so far and the digits of the later chunks. */
static void share_terms(Cmvm *p, CmvmRow *row, const int32_t *w, size_t stride, int mode,
                        const uint64_t *bound)
{
	uint32_t rows = p->nrows, cols = p->nin;
	CmvmRow *part = xcalloc(rows ? rows : 1, sizeof *part);
	uint64_t *left = NULL, *cap = NULL;
	double per_row = chunk_terms(w, rows, cols, stride, mode & CHUNK_WIDE_BIT);
	mode &= ~CHUNK_WIDE_BIT;
	if (bound) {
		left = xmalloc((rows + 1) * 2 * sizeof *left);
		cap = left + rows + 1;
		for (uint32_t r = 0; r < rows; r++)
			left[r] = row_digits(w, stride, cols, r);
	}
	for (uint32_t c0 = 0, c1; c0 < cols; c0 = c1) {
		c1 = chunk_end(w, rows, cols, stride, c0, per_row);
		build_terms(p, part, w, stride, c0, c1, CMVM_PLAIN);
		for (uint32_t r = 0; bound && r < rows; r++) {
			uint64_t used = 0;
			for (uint32_t i = 0; i < row[r].n; i++)
				used += (uint64_t)1 << p->depth[row[r].t[i].var];
			left[r] -= part[r].n;
			used += left[r];
			cap[r] = bound[r] > used ? bound[r] - used : 0;
		}
		cmvm_greedy(p, part, rows, mode, cap);
		for (uint32_t r = 0; r < rows; r++) {
			for (uint32_t i = 0; i < part[r].n; i++)
				cmvm_row_push(&row[r], part[r].t[i]);
			part[r].n = 0;
		}
	}
	free(left);
	free_rows(part, rows);
}

/* Whether row factoring removes at least 1/MST_GAIN of the CSD digits
 * (counting one adder per row with a parent).  On random Q4 matrices with
 * many columns (128 x 128: 1%) it does not, and the greedy shares less on
 * the difference rows (+1.1% adders); on 32-column Q4 blocks with >= 192
 * rows it removes 12-20%. */
#define MST_GAIN 20
static int factoring_pays(const int32_t *w, uint32_t rows, uint32_t cols, size_t stride,
                          const int32_t *d, const uint32_t *parent)
{
	uint64_t before = 0, after = 0;
	for (uint32_t r = 0; r < rows; r++) {
		before += row_digits(w, stride, cols, r);
		after += row_digits(d + (size_t)r * cols, cols, cols, 0) + (parent[r] != UINT32_MAX);
	}
	return after * MST_GAIN < before * (MST_GAIN - 1);
}

/* Depth mode with row factoring: a row at tree level l of at most L
 * levels may reach depth D - (L - l); with a parent (l >= 2) that is one
 * adder over the parent (depth <= D - (L - l) - 1) and its difference
 * row, whose bound is then 2^(D - (L - l) - 1). */
static void tree_bounds(const uint32_t *order, const uint32_t *parent, uint32_t rows,
                        int D, int L, uint64_t *bound)
{
	uint32_t *lvl = xmalloc((rows + 1) * sizeof *lvl);
	for (uint32_t k = 0; k < rows; k++) {
		uint32_t r = order[k];
		lvl[r] = parent[r] == UINT32_MAX ? 1 : lvl[parent[r]] + 1;
		int d = D - (L - (int)lvl[r]) - (lvl[r] >= 2);
		bound[r] = (uint64_t)1 << (d > 0 ? d : 0);
	}
	free(lvl);
}

/* One greedy run (mode), on the MST-factored rows if mst (tree depth
 * bounded by MST_LEVELS if mst == 2, or by mst - 2 levels in depth mode),
 * with depth bound maxd (0: none). */
#ifndef MST_LEVELS
#define MST_LEVELS 4
#endif
static void solve_share(Cmvm *p, const int32_t *w, uint32_t rows, uint32_t cols,
                        size_t stride, int mode, int mst, int maxd)
{
	solve_init(p, rows, cols);
	CmvmRow *row = xcalloc(rows ? rows : 1, sizeof *row);
	int32_t *d = mst ? xmalloc(((size_t)rows * cols + 1) * sizeof *d) : NULL;
	uint32_t *order = mst ? xmalloc((rows + 1) * 2 * sizeof *order) : NULL;
	int8_t *psign = mst ? xmalloc(rows + 1) : NULL;
	uint64_t *bound = maxd ? xmalloc((rows + 1) * sizeof *bound) : NULL;
	int D = maxd ? depth_bound(w, rows, cols, stride, maxd) : 0;
	uint32_t lv = maxd ? (uint32_t)mst - 2 : mst == 2 ? MST_LEVELS : 0;
	if (mst && cmvm_mst(w, rows, cols, stride, lv, d, order, order + rows, psign) &&
	    (mst != 2 || factoring_pays(w, rows, cols, stride, d, order + rows))) {
		if (bound)
			tree_bounds(order, order + rows, rows, D, (int)lv, bound);
		share_terms(p, row, d, cols, mode, bound);
		cmvm_finish_tree(p, row, order, order + rows, psign);
	} else {
		for (uint32_t r = 0; bound && r < rows; r++)
			bound[r] = (uint64_t)1 << D;
		share_terms(p, row, w, stride, mode, bound);
		cmvm_finish_rows(p, row);
	}
	free(bound);
	free(d);
	free(order);
	free(psign);
	free_rows(row, rows);
}

/* Restarts are affordable below RESTART_WEIGHTS weights: every (mode, mst)
 * combination is solved and the fewest adders (then least depth) kept.
 * Bigger matrices get one run: CMVM_TIE_DEEP, with row factoring while
 * rows^2 * cols <= MST_WORK (Prim's distances dominate). */
#ifndef RESTART_WEIGHTS
#define RESTART_WEIGHTS 4096
#endif
#define MST_WORK (1ull << 26)
#ifndef BIG_MODE
#define BIG_MODE CMVM_TIE_DEEP
#endif
#ifndef ROW_MODE
#define ROW_MODE CMVM_TIE_SHALLOW   /* 1-row dot products: DEEP makes chains */
#endif

/* solve_share with depth bound maxd > 0, tightened while the result is
 * deeper than the matrix's bound (a row whose terms all end negative needs
 * one more level for its negation). */
static void solve_capped(Cmvm *p, const int32_t *w, uint32_t rows, uint32_t cols,
                         size_t stride, int mode, int mst, int maxd)
{
	int bound = depth_bound(w, rows, cols, stride, maxd);
	int lo = depth_bound(w, rows, cols, stride, 1);   /* the minimum */
	for (int d = bound;; d--) {
		solve_share(p, w, rows, cols, stride, mode, mst, d);
		if (cmvm_depth(p) <= (uint32_t)bound || d <= lo)
			return;
		cmvm_free(p);
	}
}

static int better(const Cmvm *a, const Cmvm *b)
{
	uint32_t x = cmvm_adders(a), y = cmvm_adders(b);
	return x != y ? x < y : cmvm_depth(a) < cmvm_depth(b);
}

/* Seeded restarts besides the 6 (ties broken by a hash of the pattern,
 * seed 1, 2, ...) for the smallest matrices, where a run is cheap and the
 * spread between runs is widest (da4ml's 16 x 16 matrices: best of 6 341.0
 * adders, of 30 337.7).  Larger ones get none: 8-16 more runs on every
 * matrix up to 4096 weights (64 x 64 Q4: -0.7%) made the -O2 compile of a
 * model of small matrices 6x slower (the tiny predict-step's cse: 3.9 ->
 * 24.5 s). */
static int seeded_runs(uint32_t rows, uint32_t cols)
{
	return (uint64_t)rows * cols <= 256 ? 32 : 0;
}

/* Without sharing (CMVM_PLAIN: CSD digits, CMVM_ODD: odd multiples). */
static void solve_plain(Cmvm *p, const int32_t *w, uint32_t rows, uint32_t cols,
                        size_t stride, int level)
{
	solve_init(p, rows, cols);
	CmvmRow *row = xcalloc(rows ? rows : 1, sizeof *row);
	build_terms(p, row, w, stride, 0, cols, level);
	cmvm_finish_rows(p, row);
	free_rows(row, rows);
}

/* Depth mode: if p is deeper than bound (every greedy run left some row
 * with only negative terms at full depth), the plain CSD rows, which are
 * within it: a row tree is as shallow as its digits allow and its root is
 * positive if any digit is. */
static void keep_bound(Cmvm *p, const int32_t *w, uint32_t rows, uint32_t cols,
                       size_t stride, uint32_t bound)
{
	if (cmvm_depth(p) <= bound)
		return;
	cmvm_free(p);
	solve_plain(p, w, rows, cols, stride, CMVM_PLAIN);
}

/* Restarts also need a cheap greedy: at most RESTART_WORK pair updates
 * (rows * T^2 / 2 for T digits per row; 64 x 64 Q4 ~3e5).  Small matrices
 * of many digits -- the 12-bit requantised matvecs of a small model, 32 x
 * 128 at ~500 digits per row: 4e6 -- get the one run: restarts on them
 * made the tiny predict-step's cse 3x slower (4.5 -> 13 s CPU) for 0.1%
 * of its adders (29,463 -> 29,432). */
#ifndef RESTART_WORK
#define RESTART_WORK (1u << 20)
#endif

static void solve_best(Cmvm *p, const int32_t *w, uint32_t rows, uint32_t cols,
                       size_t stride, int maxd, int wide)
{
	uint32_t bound = maxd ? (uint32_t)depth_bound(w, rows, cols, stride, maxd) : UINT32_MAX;
	if ((uint64_t)rows * cols > RESTART_WEIGHTS || rows < 2 ||
	    greedy_work(w, rows, cols, stride, &(double){0}) > RESTART_WORK) {
		int mst = rows > 1 && (uint64_t)rows * rows * cols <= MST_WORK ? (maxd ? 4 : 2) : 0;
		int mode = (rows < 2 || maxd ? ROW_MODE : BIG_MODE) | (wide ? CHUNK_WIDE_BIT : 0);
		if (maxd) {
			solve_capped(p, w, rows, cols, stride, mode, mst, maxd);
			keep_bound(p, w, rows, cols, stride, bound);
		} else {
			solve_share(p, w, rows, cols, stride, mode, mst, 0);
		}
		return;
	}
	/* (restarts only below RESTART_WORK <= CHUNK_WORK: whole without wide)
	 * depth mode: 3 modes x (no factoring, factoring of 2 or 4 levels),
	 * capped, then the 6 free runs if within the bound */
	if (maxd)
		solve_capped(p, w, rows, cols, stride, CMVM_TIE_SHALLOW, 0, maxd);
	else
		solve_share(p, w, rows, cols, stride, CMVM_TIE_SHALLOW, 0, 0);
	int runs = 6 + seeded_runs(rows, cols);
	for (int k = 1; k < (maxd ? 9 : 0) + runs; k++) {
		Cmvm q;
		int j = maxd ? k - 9 : k;
		if (j < 0)
			solve_capped(&q, w, rows, cols, stride, k % 3, k < 3 ? 0 : 4 + 2 * (k / 6), maxd);
		else if (j < 6)
			solve_share(&q, w, rows, cols, stride, j % 3, j / 3, 0);
		else   /* seed j - 5: SHALLOW / DEEP alternating, factoring every other pair */
			solve_share(&q, w, rows, cols, stride, (j % 2) | (j - 5) << 4, (j / 2) % 2, 0);
		if (cmvm_depth(&q) <= bound && (cmvm_depth(p) > bound || better(&q, p))) {
			cmvm_free(p);
			*p = q;
		} else {
			cmvm_free(&q);
		}
	}
	if (maxd)
		keep_bound(p, w, rows, cols, stride, bound);
}

void cmvm_solve(Cmvm *p, const int32_t *w, uint32_t rows, uint32_t cols,
                size_t stride, int level)
{
	int maxd = level >> 8;
	level &= 0xff;
	if (level >= CMVM_SHARE) {
		solve_best(p, w, rows, cols, stride,
		           maxd < CMVM_MAXDEPTH_LIMIT ? maxd : CMVM_MAXDEPTH_LIMIT, level >= CMVM_WIDE);
		return;
	}
	solve_plain(p, w, rows, cols, stride, level);
}

void cmvm_solve_const(Cmvm *p, int64_t v)
{
	memset(p, 0, sizeof *p);
	p->nin = p->nrows = 1;
	p->out = xcalloc(1, sizeof *p->out);
	p->depth = xcalloc(2, sizeof *p->depth);
	CmvmRow row = {0};
	cmvm_csd_terms(&row, v, 0, 0);
	cmvm_finish_rows(p, &row);
	free(row.t);
}

void cmvm_free(Cmvm *p)
{
	free(p->ops);
	free(p->depth);
	free(p->out);
	memset(p, 0, sizeof *p);
}

uint32_t cmvm_adders(const Cmvm *p)
{
	uint32_t n = p->nops;
	for (uint32_t r = 0; r < p->nrows; r++)
		n += p->out[r].sign < 0;
	return n;
}

uint32_t cmvm_depth(const Cmvm *p)
{
	uint32_t d = 0;
	for (uint32_t r = 0; r < p->nrows; r++)
		if (p->out[r].sign) {
			uint32_t x = p->depth[p->out[r].var] + (p->out[r].sign < 0);
			d = x > d ? x : d;
		}
	return d;
}

/* ---- intervals and widths ----------------------------------------------- */

static I128 clamp128(I128 v)
{
	return v > I128_LIM ? I128_LIM : v < -I128_LIM ? -I128_LIM : v;
}

/* v << s, saturated to +-I128_LIM (no shift of a negative value: UB). */
static I128 shl128(I128 v, int s)
{
	I128 lim = s >= 100 ? 0 : I128_LIM >> s;
	if (v > lim)
		return I128_LIM;
	if (v < -lim)
		return -I128_LIM;
	return v * ((I128)1 << s);
}

static int bits_for(I128 lo, I128 hi)
{
	int w = 1;
	while (w < 120 && (lo < -((I128)1 << (w - 1)) || hi > ((I128)1 << (w - 1)) - 1))
		w++;
	return w;
}

/* Intervals of every variable; inputs from [ilo[c], ihi[c]]. */
static void var_intervals(const Cmvm *p, I128 *lo, I128 *hi)
{
	for (uint32_t i = 0; i < p->nops; i++) {
		const CmvmOp *o = &p->ops[i];
		I128 alo = shl128(lo[o->a], o->sa), ahi = shl128(hi[o->a], o->sa);
		I128 blo = shl128(lo[o->b], o->sb), bhi = shl128(hi[o->b], o->sb);
		uint32_t v = p->nin + i;
		lo[v] = clamp128(o->neg ? alo - bhi : alo + blo);
		hi[v] = clamp128(o->neg ? ahi - blo : ahi + bhi);
	}
}

uint64_t cmvm_fa_bits(const Cmvm *p, int in_bits)
{
	uint32_t nv = p->nin + p->nops;
	I128 *lo = xmalloc((nv + 1) * sizeof *lo), *hi = xmalloc((nv + 1) * sizeof *hi);
	for (uint32_t c = 0; c < p->nin; c++) {
		lo[c] = -((I128)1 << (in_bits - 1));
		hi[c] = ((I128)1 << (in_bits - 1)) - 1;
	}
	var_intervals(p, lo, hi);
	uint64_t s = 0;
	for (uint32_t i = 0; i < p->nops; i++)
		s += (uint64_t)bits_for(lo[p->nin + i], hi[p->nin + i]);
	free(lo);
	free(hi);
	return s;
}

/* ---- emission ----------------------------------------------------------- */

typedef struct Emit {
	Module *m;
	const Cmvm *p;
	uint32_t len;
	int width;          /* result width W: cap of every node */
	I128 *lo, *hi;
	Ref *ref;           /* node of each variable, NOREF until emitted */
	CmvmMap shl;        /* (var, shift) -> shl node */
} Emit;

static int cap_width(const Emit *e, I128 lo, I128 hi)
{
	int w = bits_for(lo, hi);
	return w > e->width ? e->width : w;
}

static Ref emit_shl(Emit *e, uint32_t var, int s)
{
	if (s == 0)
		return e->ref[var];
	int isnew;
	uint32_t *slot = cmvm_map_get(&e->shl, ((uint64_t)var << 8 | (uint64_t)s) + 1, 0, &isnew);
	if (isnew) {
		int w = cap_width(e, shl128(e->lo[var], s), shl128(e->hi[var], s));
		Ref a = e->ref[var];
		*slot = ir_node(e->m, OP_SHL, TY_S, w, e->len, &a, 1, s, 0);
	}
	return *slot;
}

static void emit_needed(Emit *e, uint8_t *need)
{
	const Cmvm *p = e->p;
	for (uint32_t i = p->nops; i-- > 0;)
		if (need[p->nin + i])
			need[p->ops[i].a] = need[p->ops[i].b] = 1;
	for (uint32_t i = 0; i < p->nops; i++) {
		uint32_t v = p->nin + i;
		if (!need[v])
			continue;
		const CmvmOp *o = &p->ops[i];
		Ref args[2] = {emit_shl(e, o->a, o->sa), emit_shl(e, o->b, o->sb)};
		int w = cap_width(e, e->lo[v], e->hi[v]);
		e->ref[v] = ir_node(e->m, o->neg ? OP_SUB : OP_ADD, TY_S, w, e->len, args, 2, 0, 0);
	}
}

static Ref emit_row(Emit *e, CmvmTerm t, int rty, int exact, Ref *zero)
{
	Module *m = e->m;
	if (!t.sign) {
		if (*zero == NOREF)
			*zero = ir_node(m, OP_CONST, rty, e->width, e->len, NULL, 0, 0, 0);
		return *zero;
	}
	Ref r = emit_shl(e, t.var, t.shift);
	if (t.sign < 0)
		return ir_node(m, OP_NEG, rty, e->width, e->len, &r, 1, 0, 0);
	const Node *n = ir_get(m, r);
	if (exact && (n->ty != rty || n->width != e->width))
		r = ir_node(m, OP_SHL, rty, e->width, e->len, &r, 1, 0, 0);
	return r;
}

void cmvm_emit(Module *m, const Cmvm *p, const Ref *in, uint32_t len,
               int rty, int rwidth, int exact, Ref *out)
{
	uint32_t nv = p->nin + p->nops;
	Emit e = {m, p, len, rwidth, NULL, NULL, NULL, {0}};
	e.lo = xmalloc((nv + 1) * sizeof *e.lo);
	e.hi = xmalloc((nv + 1) * sizeof *e.hi);
	e.ref = xmalloc((nv + 1) * sizeof *e.ref);
	for (uint32_t v = 0; v < nv; v++)
		e.ref[v] = v < p->nin ? in[v] : NOREF;
	for (uint32_t c = 0; c < p->nin; c++) {
		const Node *n = ir_get(m, in[c]);
		e.lo[c] = ty_min(n->ty, n->width);
		e.hi[c] = n->ty == TY_U && n->width == 64 ? ((I128)1 << 64) - 1 : ty_max(n->ty, n->width);
	}
	var_intervals(p, e.lo, e.hi);
	cmvm_map_init(&e.shl, 64);
	uint8_t *need = xcalloc(nv + 1, 1);
	for (uint32_t r = 0; r < p->nrows; r++)
		if (p->out[r].sign)
			need[p->out[r].var] = 1;
	emit_needed(&e, need);
	Ref zero = NOREF;
	for (uint32_t r = 0; r < p->nrows; r++)
		out[r] = emit_row(&e, p->out[r], rty, exact, &zero);
	free(need);
	cmvm_map_free(&e.shl);
	free(e.lo);
	free(e.hi);
	free(e.ref);
}
