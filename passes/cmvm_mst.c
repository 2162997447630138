/*
 * cmvm_mst.c -- row factoring for constant matrices (da4ml's first stage).
 *
 * Similar rows are cheaper as "a previous row plus a small difference":
 * row_r = psign_r * row_parent + (w_r - psign_r * w_parent).  The parents
 * form a minimum spanning tree over the rows plus a virtual zero row (the
 * root); the weight of edge (i, j) is the number of CSD digits of
 * w_i - w_j or of w_i + w_j, whichever is smaller (psign +1 or -1), and of
 * edge (root, i) the digits of w_i.  Prim's algorithm grows the tree from
 * the root; the order in which rows join is a topological order of the
 * tree (parents first), which cmvm_finish_tree needs.  The difference
 * matrix d then goes through the ordinary greedy, and each row with a
 * parent costs one extra adder (its difference plus the parent's result).
 * Identical rows (or negated ones) cost nothing.  Depth grows along the
 * tree's paths; the caller keeps the result only if it saves adders.
 *
 * Ties (equal weights) go to the smaller row index, so the tree is
 * deterministic.  Complexity: rows^2 / 2 distances of O(cols) each, O(rows^2)
 * for Prim's selection; memory O(rows) besides d.
 */
#include <stdlib.h>

#include "cmvm.h"

#define NONE UINT32_MAX
#define LIM (1 << 29)

#define TAB 1024      /* digits of |v| < TAB come from a table */

static uint32_t digits(const uint8_t *tab, int64_t v)
{
	return v > -TAB && v < TAB ? tab[v + TAB] : (uint32_t)csd_digits(v);
}

/* CSD digits of w_i - w_j (*sign = +1) or w_i + w_j (*sign = -1). */
static uint32_t row_dist(const uint8_t *tab, const int32_t *wi, const int32_t *wj,
                         uint32_t cols, int8_t *sign)
{
	uint32_t dm = 0, dp = 0;
	for (uint32_t c = 0; c < cols; c++) {
		dm += digits(tab, (int64_t)wi[c] - wj[c]);
		dp += digits(tab, (int64_t)wi[c] + wj[c]);
	}
	*sign = dp < dm ? -1 : 1;
	return dp < dm ? dp : dm;
}

static int fits(const int32_t *w, uint32_t rows, uint32_t cols, size_t stride)
{
	for (uint32_t r = 0; r < rows; r++)
		for (uint32_t c = 0; c < cols; c++)
			if (w[r * stride + c] >= LIM || w[r * stride + c] <= -LIM)
				return 0;
	return 1;
}

/* Prim's algorithm from the zero row; fills order, parent, psign.  With
 * maxlvl > 0 a row at tree level maxlvl (root's children: level 1) takes
 * no children, which bounds the extra adder depth (da4ml's delay-
 * constrained tree, simplified). */
static void prim(const int32_t *w, uint32_t rows, uint32_t cols, size_t stride,
                 uint32_t maxlvl, uint32_t *order, uint32_t *parent, int8_t *psign)
{
	uint32_t *best = xmalloc((rows + 1) * 2 * sizeof *best), *lvl = best + rows;
	uint8_t *in = xcalloc(rows + 1, 1), tab[2 * TAB];
	for (int v = -TAB; v < TAB; v++)
		tab[v + TAB] = (uint8_t)csd_digits(v);
	for (uint32_t r = 0; r < rows; r++) {
		best[r] = 0;
		for (uint32_t c = 0; c < cols; c++)
			best[r] += (uint32_t)csd_digits(w[r * stride + c]);
		parent[r] = NONE;
		psign[r] = 1;
	}
	for (uint32_t k = 0; k < rows; k++) {
		uint32_t u = NONE;
		for (uint32_t r = 0; r < rows; r++)
			if (!in[r] && (u == NONE || best[r] < best[u]))
				u = r;
		in[u] = 1;
		order[k] = u;
		lvl[u] = parent[u] == NONE ? 1 : lvl[parent[u]] + 1;
		if (maxlvl && lvl[u] >= maxlvl)
			continue;
		for (uint32_t r = 0; r < rows; r++) {
			if (in[r])
				continue;
			int8_t s;
			uint32_t dd = row_dist(tab, w + r * stride, w + u * stride, cols, &s);
			if (dd < best[r])
				best[r] = dd, parent[r] = u, psign[r] = s;
		}
	}
	free(best);
	free(in);
}

int cmvm_mst(const int32_t *w, uint32_t rows, uint32_t cols, size_t stride, uint32_t maxlvl,
             int32_t *d, uint32_t *order, uint32_t *parent, int8_t *psign)
{
	if (!fits(w, rows, cols, stride))
		return 0;
	prim(w, rows, cols, stride, maxlvl, order, parent, psign);
	for (uint32_t r = 0; r < rows; r++)
		for (uint32_t c = 0; c < cols; c++) {
			int32_t v = w[r * stride + c];
			if (parent[r] != NONE)
				v -= psign[r] * w[parent[r] * stride + c];
			d[(size_t)r * cols + c] = v;
		}
	return 1;
}
