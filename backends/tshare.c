/*
 * tshare.c -- the plan of time-shared multipliers (tshare.h).
 */
#include <stdlib.h>
#include <string.h>

#include "tshare.h"

uint32_t tshare_src_lane(const Module *m, Ref a, uint32_t len, uint32_t lane)
{
	uint32_t la = ir_get(m, a)->len;
	if (la == 1)
		return 0;
	return la == len ? lane : lane % la;
}

/* Values that change within a token's G clocks: a shared mul and anything
 * read from one through logic without a register. */
static int breaks_late(int op)
{
	switch (op) {
	case OP_REG: case OP_TALL: case OP_TDELAY: case OP_TPICK: case OP_WDELAY:
	case OP_TSEQ: case OP_TPOS: case OP_INPUT: case OP_CONST: case OP_VCONST:
		return 1;
	default:
		return 0;
	}
}

typedef struct Key {
	uint32_t region;
	uint32_t R;
	Ref r;
} Key;

static int cmp_key(const void *a, const void *b)
{
	const Key *x = a, *y = b;
	if (x->region != y->region)
		return x->region < y->region ? -1 : 1;
	if (x->R != y->R)
		return x->R < y->R ? -1 : 1;
	return x->r < y->r ? -1 : x->r > y->r;
}

/* The lanes of unit u in order: node and lane of lane i (a cursor). */
typedef struct Cur {
	const TShare *t;
	const TUnit *u;
	uint32_t k, lane;   /* node index within the unit, its lane */
} Cur;

static void cur_next(const Module *m, Cur *c)
{
	if (c->k < c->u->nodes && ++c->lane == ir_get(m, c->t->node[c->u->start + c->k])->len)
		c->k++, c->lane = 0;
}

/* The source lane operand j reads at the cursor: (node << 32 | lane), or
 * UINT64_MAX past the unit's lanes (a constant zero). */
static uint64_t cur_src(const Module *m, const Cur *c, uint32_t j)
{
	if (c->k >= c->u->nodes)
		return UINT64_MAX;
	Ref r = c->t->node[c->u->start + c->k];
	const Node *n = ir_get(m, r);
	Ref a = ir_arg(m, n, j);
	return (uint64_t)a << 32 | tshare_src_lane(m, a, n->len, c->lane);
}

/* The width and signedness operand j's lanes are multiplexed in: the
 * widest operand (one bit more if signed and unsigned ones meet, each then
 * extended by its own signedness), at most R bits (the product mod 2^R
 * needs no more); extended to R after the multiplexer. */
static void operand_form(const Module *m, const TShare *t, TUnit *u, uint32_t j)
{
	unsigned w = 0;
	int s = 0, us = 0;
	for (uint32_t k = 0; k < u->nodes; k++) {
		const Node *a = ir_get(m, ir_arg(m, ir_get(m, t->node[u->start + k]), j));
		w = a->width > w ? a->width : w;
		if (a->ty == TY_S)
			s = 1;
		else
			us = 1;
	}
	if (s && us)
		w++;
	u->w[j] = w < u->R ? w : u->R;
	u->sgn[j] = s;
}

/* Multiplexer bits: one w-bit 2:1 multiplexer per operand, multiplier and
 * clock whose source differs from the clock before. */
static uint64_t mux_bits(const Module *m, const TShare *t, const TUnit *u)
{
	uint64_t bits = 0;
	for (uint32_t j = 0; j < 2; j++) {
		Cur a = {t, u, 0, 0}, b = {t, u, 0, 0};
		for (uint32_t i = 0; i < u->M; i++)
			cur_next(m, &b);
		for (uint64_t i = u->M; i < (uint64_t)u->geff * u->M; i++) {
			if (cur_src(m, &a, j) != cur_src(m, &b, j))
				bits += u->w[j];
			cur_next(m, &a);
			cur_next(m, &b);
		}
	}
	return bits;
}

/* M for n lanes: ceil(n/G), rounded up to whole repeats of a broadcast
 * operand when the unit is one node (its lanes then read the same operand
 * lanes in every clock: no multiplexer). */
static uint32_t multipliers(const Module *m, const TShare *t, const TUnit *u)
{
	uint32_t M = (uint32_t)((u->n + (uint64_t)t->G - 1) / t->G);
	if (u->nodes != 1)
		return M;
	const Node *n = ir_get(m, t->node[u->start]);
	for (uint32_t j = 0; j < 2; j++) {
		uint32_t la = ir_get(m, ir_arg(m, n, j))->len;
		if (la > 1 && la < n->len && n->len % la == 0) {
			uint64_t r = (M + (uint64_t)la - 1) / la * la;
			if (r < u->n)
				return (uint32_t)r;
		}
	}
	return M;
}

void tshare_plan(const Module *m, unsigned G, TShare *t)
{
	memset(t, 0, sizeof *t);
	t->G = G;
	if (G <= 1)
		return;
	uint32_t nn = m->nnodes + 1;
	Ref *order = xmalloc(nn * sizeof *order);
	uint32_t nord = ir_order(m, order);
	uint8_t *late = xcalloc(nn, 1);
	Key *key = xmalloc(nn * sizeof *key);
	uint32_t nk = 0;
	for (uint32_t i = 0; i < nord; i++) {
		Ref r = order[i];
		const Node *n = ir_get(m, r);
		if ((n->flags & NF_DEAD) || breaks_late(n->op))
			continue;
		int l = 0;
		for (uint32_t j = 0; j < n->nargs; j++)
			l |= late[ir_arg(m, n, j)];
		if (!l && n->op == OP_MUL && n->ty != TY_F && n->nargs == 2) {
			key[nk++] = (Key){n->region, n->width, r};
			l = 1;
		}
		late[r] = (uint8_t)l;
	}
	qsort(key, nk, sizeof *key, cmp_key);
	t->node = xmalloc((nk + 1) * sizeof *t->node);
	t->unit = xcalloc(nn, sizeof *t->unit);
	t->first = xcalloc(nn, sizeof *t->first);
	t->u = xmalloc((nk + 1) * sizeof *t->u);
	uint32_t nodes = 0;
	for (uint32_t i = 0; i < nk;) {
		uint32_t j = i;
		uint64_t lanes = 0;
		while (j < nk && key[j].region == key[i].region && key[j].R == key[i].R)
			lanes += ir_get(m, key[j++].r)->len;
		if (lanes < 2 || lanes > UINT32_MAX) {   /* nothing to share */
			i = j;
			continue;
		}
		TUnit *u = &t->u[t->nunits];
		*u = (TUnit){key[i].region, key[i].R, (uint32_t)lanes, 0, 0, 0, 0, {0, 0}, {0, 0}, j - i, nodes};
		uint32_t f = 0;
		for (; i < j; i++) {
			t->node[nodes++] = key[i].r;
			t->first[key[i].r] = f;
			f += ir_get(m, key[i].r)->len;
		}
		u->M = multipliers(m, t, u);
		u->geff = (uint32_t)((u->n + (uint64_t)u->M - 1) / u->M);
		if (u->geff < 2) {   /* one clock: nothing shared */
			nodes -= u->nodes;
			continue;
		}
		u->held = u->geff == G ? (u->geff - 1) * u->M : u->n;
		operand_form(m, t, u, 0);
		operand_form(m, t, u, 1);
		for (uint32_t k = 0; k < u->nodes; k++)
			t->unit[t->node[u->start + k]] = t->nunits + 1;
		t->lanes += u->n;
		t->mults += u->M;
		t->hold_bits += (uint64_t)u->held * u->R;
		u->mux_bits = mux_bits(m, t, u);
		t->mux_bits += u->mux_bits;
		t->nunits++;
	}
	free(order);
	free(late);
	free(key);
}

void tshare_free(TShare *t)
{
	free(t->u);
	free(t->node);
	free(t->unit);
	free(t->first);
	memset(t, 0, sizeof *t);
}
