/*
 * pipeline_place.c -- moves pipeline stages to minimize register bits.
 *
 * The pipeline pass first schedules ASAP (pipeline.c): every node in the
 * earliest stage its operands allow.  That is optimal for latency but not
 * for registers: a value computed early and used late is carried through a
 * delay chain of its full width.  The worst case is a side branch fed by a
 * narrow input that widens (the action vector -> the adaLN modulation of
 * every layer): ASAP computes the wide result at once and delays it for
 * hundreds of cycles, where delaying the narrow input and computing the
 * branch just in time costs a fraction.
 *
 * Problem.  Register cost of a schedule s (stage per node) with delay
 * chains shared per producer:  sum over producers p of
 *     bits(p) * (max over consumers c of s(c)  -  s(p)),
 * bits = width * lanes.  Constraints: inputs at 0, outputs at the ASAP
 * latency S, and for every edge p -> c:  s(c) - s(p) >= delta(p, c) where
 * delta = 1 if ASAP put c in a later stage than p, else 0.
 *
 * Invariant (why the delta constraints keep every stage within its adder
 * level budget): in any s obeying them, a node shares its stage only with
 * operands it shared the ASAP stage with, so by induction over the
 * topological order its level within the stage is at most its ASAP level.
 * Hence any such s is a valid II=1 schedule with the same latency and at
 * most the same adder levels per stage.
 *
 * Algorithm (a heuristic for this min-cost problem, which is the dual of a
 * min-cost flow).  Two starts: ASAP, and ALAP under the same constraints
 * (s(n) = min over consumers of s(c) - delta).  Each start is improved by
 * local moves: visiting nodes in reverse topological order and then in
 * topological order, each node moves to the stage in its feasible window
 * [max s(p) + delta, min s(c) - delta] with the least cost of its own
 * chain plus its operands' chains (exact: chains are shared, so an operand
 * pays only for the stretch beyond its other consumers; the cost is
 * piecewise linear in the stage, so only window ends and the operands'
 * other-consumer maxima are tried).  Rounds repeat while they gain, at
 * most PLACE_ROUNDS times.  The cheaper result wins; ASAP on a tie.  All
 * choices are in a fixed order: deterministic.  A node's best stage depends
 * only on the stages of itself, its operands, its consumers and its
 * operands' consumers, so a sweep re-examines only nodes marked dirty by a
 * move among those since they were last examined (the others would stay).
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "pipeline.h"

enum { PLACE_ROUNDS = 4 };

typedef struct Place {
	const Module *m;
	const Ref *order;
	int64_t n;
	const uint8_t *konst;
	const uint32_t *asap;
	uint32_t *cbase;  /* consumers of p: cons[cbase[p] .. cbase[p+1]) */
	Ref *cons;
	uint32_t *max1;   /* per producer: latest consumer stage ... */
	Ref *who1;        /* ... that consumer ... */
	uint32_t *max2;   /* ... and the latest among the other consumers */
	uint32_t *mark;   /* scratch: operand already counted in this call */
	uint8_t *dirty;   /* per node: a neighbour moved since it was examined */
	uint32_t stamp;
	uint64_t work;    /* node visits left for whole-module trials */
} Place;

/* Whole-module trials (a push or a group ALAP plus a cost) visit every
 * node; they stop after PLACE_WORK visits so huge designs stay fast. */
#define PLACE_WORK 600000000ull

static int spend(Place *pl)
{
	uint64_t w = 2 * (uint64_t)pl->n;
	if (pl->work < w)
		return 0;
	pl->work -= w;
	return 1;
}

static int movable(const Place *pl, Ref r)
{
	int op = ir_get(pl->m, r)->op;
	return !pl->konst[r] && op != OP_INPUT && op != OP_OUTPUT;
}

static uint64_t node_bits(const Place *pl, Ref r)
{
	const Node *n = ir_get(pl->m, r);
	return n->op == OP_OUTPUT ? 0 : (uint64_t)n->width * n->len;
}

static uint32_t delta(const Place *pl, Ref p, Ref c)
{
	return pl->asap[c] > pl->asap[p];
}

/* Consumer lists (CSR) over live, non-constant nodes. */
static void build_consumers(Place *pl, uint32_t nn)
{
	const Module *m = pl->m;
	pl->cbase = xcalloc(nn + 1, sizeof *pl->cbase);
	for (int pass = 0; pass < 2; pass++) {
		for (int64_t i = 0; i < pl->n; i++) {
			Ref r = pl->order[i];
			const Node *nd = ir_get(m, r);
			if (pl->konst[r])
				continue;
			for (uint32_t j = 0; j < nd->nargs; j++) {
				Ref p = ir_arg(m, nd, j);
				if (pl->konst[p])
					continue;
				if (pass == 0)
					pl->cbase[p + 1]++;
				else
					pl->cons[pl->cbase[p]++] = r;
			}
		}
		if (pass == 0) {
			for (uint32_t p = 0; p < nn; p++)
				pl->cbase[p + 1] += pl->cbase[p];
			pl->cons = xmalloc((pl->cbase[nn] + 1) * sizeof *pl->cons);
		} else {
			for (uint32_t p = nn; p > 0; p--)
				pl->cbase[p] = pl->cbase[p - 1];
			pl->cbase[0] = 0;
		}
	}
}

static void rescan(Place *pl, const uint32_t *s, Ref p)
{
	uint32_t m1 = 0, m2 = 0;
	Ref w = NOREF;
	for (uint32_t k = pl->cbase[p]; k < pl->cbase[p + 1]; k++) {
		Ref c = pl->cons[k];
		if (w == NOREF || s[c] > m1) {
			if (w != NOREF && w != c)
				m2 = m1;
			m1 = s[c];
			w = c;
		} else if (c != w && s[c] > m2) {
			m2 = s[c];
		}
	}
	pl->max1[p] = m1;
	pl->who1[p] = w;
	pl->max2[p] = w == NOREF ? 0 : m2;
}

/* Latest stage among p's consumers other than c (s(p) if none). */
static uint32_t other_max(const Place *pl, const uint32_t *s, Ref p, Ref c)
{
	uint32_t v = pl->who1[p] == c ? pl->max2[p] : pl->max1[p];
	return v > s[p] ? v : s[p];
}

static uint64_t total_cost(Place *pl, const uint32_t *s)
{
	uint64_t cost = 0;
	for (int64_t i = 0; i < pl->n; i++) {
		Ref p = pl->order[i];
		if (pl->konst[p])
			continue;
		rescan(pl, s, p);
		if (pl->who1[p] != NOREF && pl->max1[p] > s[p])
			cost += node_bits(pl, p) * (pl->max1[p] - s[p]);
	}
	return cost;
}

/* Cost of r's chain and its operands' chains with r at stage t. */
static uint64_t local_cost(Place *pl, const uint32_t *s, Ref r, uint32_t t)
{
	const Node *nd = ir_get(pl->m, r);
	pl->stamp++;
	uint64_t cost = pl->who1[r] != NOREF && pl->max1[r] > t ? node_bits(pl, r) * (pl->max1[r] - t) : 0;
	for (uint32_t j = 0; j < nd->nargs; j++) {
		Ref p = ir_arg(pl->m, nd, j);
		if (pl->konst[p] || pl->mark[p] == pl->stamp)
			continue;
		pl->mark[p] = pl->stamp;
		uint32_t o = other_max(pl, s, p, r);
		cost += node_bits(pl, p) * ((o > t ? o : t) - s[p]);
	}
	return cost;
}

/* Feasible window of r given its operands' and consumers' stages. */
static void window(const Place *pl, const uint32_t *s, Ref r, uint32_t *lo, uint32_t *hi)
{
	const Node *nd = ir_get(pl->m, r);
	uint32_t a = 0, b = UINT32_MAX;
	for (uint32_t j = 0; j < nd->nargs; j++) {
		Ref p = ir_arg(pl->m, nd, j);
		if (!pl->konst[p] && s[p] + delta(pl, p, r) > a)
			a = s[p] + delta(pl, p, r);
	}
	for (uint32_t k = pl->cbase[r]; k < pl->cbase[r + 1]; k++) {
		Ref c = pl->cons[k];
		if (s[c] - delta(pl, r, c) < b)
			b = s[c] - delta(pl, r, c);
	}
	*lo = a;
	*hi = b == UINT32_MAX ? s[r] : b;
}

/* Candidate stage k of r: the window's ends, then each operand's other
 * consumers' maximum (where the cost's slope changes). */
static uint32_t candidate(const Place *pl, const uint32_t *s, Ref r, uint32_t k, uint32_t lo, uint32_t hi)
{
	if (k < 2)
		return k ? hi : lo;
	Ref p = ir_arg(pl->m, ir_get(pl->m, r), k - 2);
	return pl->konst[p] ? lo : other_max(pl, s, p, r);
}

/* Moves r to its cheapest stage; returns 1 if it moved. */
static int improve_node(Place *pl, uint32_t *s, Ref r)
{
	uint32_t lo, hi;
	window(pl, s, r, &lo, &hi);
	if (lo >= hi)
		return 0;
	const Node *nd = ir_get(pl->m, r);
	uint32_t best = s[r];
	uint64_t bc = local_cost(pl, s, r, best);
	for (uint32_t k = 0; k < nd->nargs + 2; k++) {
		uint32_t t = candidate(pl, s, r, k, lo, hi);
		if (t < lo || t > hi || t == best)
			continue;
		uint64_t c = local_cost(pl, s, r, t);
		if (c < bc) {
			bc = c;
			best = t;
		}
	}
	if (best == s[r])
		return 0;
	s[r] = best;
	for (uint32_t j = 0; j < nd->nargs; j++)
		if (!pl->konst[ir_arg(pl->m, nd, j)])
			rescan(pl, s, ir_arg(pl->m, nd, j));
	return 1;
}

/* Marks every node whose best stage may depend on the stage of x. */
static void touch(Place *pl, Ref x)
{
	const Node *nd = ir_get(pl->m, x);
	pl->dirty[x] = 1;
	for (uint32_t k = pl->cbase[x]; k < pl->cbase[x + 1]; k++)
		pl->dirty[pl->cons[k]] = 1;
	for (uint32_t j = 0; j < nd->nargs; j++) {
		Ref p = ir_arg(pl->m, nd, j);
		if (pl->konst[p])
			continue;
		pl->dirty[p] = 1;
		for (uint32_t k = pl->cbase[p]; k < pl->cbase[p + 1]; k++)
			pl->dirty[pl->cons[k]] = 1;
	}
}

static void improve_at(Place *pl, uint32_t *s, Ref r)
{
	if (!pl->dirty[r] || !movable(pl, r))
		return;
	pl->dirty[r] = 0;
	if (improve_node(pl, s, r))
		touch(pl, r);
}

static uint64_t improve(Place *pl, uint32_t *s, uint32_t nn)
{
	uint64_t cost = total_cost(pl, s);
	memset(pl->dirty, 1, nn);
	for (int round = 0; round < PLACE_ROUNDS; round++) {
		for (int64_t i = pl->n; i-- > 0;)
			improve_at(pl, s, pl->order[i]);
		for (int64_t i = 0; i < pl->n; i++)
			improve_at(pl, s, pl->order[i]);
		uint64_t c = total_cost(pl, s);
		if (c >= cost) {
			cost = c;
			break;
		}
		cost = c;
	}
	return cost;
}

/* ALAP for the nodes with group[r] == g (all movable nodes if g is
 * UINT32_MAX), against the current stages of the others. */
static void alap(const Place *pl, uint32_t *s, const uint32_t *group, uint32_t g)
{
	for (int64_t i = pl->n; i-- > 0;) {
		Ref r = pl->order[i];
		if (!movable(pl, r) || (g != UINT32_MAX && group[r] != g))
			continue;
		uint32_t lo, hi;
		window(pl, s, r, &lo, &hi);
		(void)lo;
		s[r] = hi;
	}
}

/* group[r]: the set of input ports r depends on (a bit mask over the
 * first 31 inputs; later inputs share bit 31). */
static uint32_t *input_groups(const Place *pl, uint32_t nn)
{
	uint32_t *group = xcalloc(nn, sizeof *group), nin = 0;
	for (int64_t i = 0; i < pl->n; i++) {
		Ref r = pl->order[i];
		const Node *nd = ir_get(pl->m, r);
		if (nd->op == OP_INPUT) {
			group[r] = 1u << (nin < 31 ? nin : 31);
			nin++;
			continue;
		}
		for (uint32_t j = 0; j < nd->nargs; j++)
			group[r] |= group[ir_arg(pl->m, nd, j)];
	}
	return group;
}

/* Tries ALAP for each group of nodes sharing their input dependences, in
 * increasing mask order, keeping each trial that lowers the cost. */
static uint64_t try_groups(Place *pl, uint32_t *s, uint32_t nn, uint64_t cost)
{
	uint32_t *group = input_groups(pl, nn), *trial = xmalloc(nn * sizeof *trial);
	uint32_t g = 0;
	for (;;) {
		uint32_t next = UINT32_MAX;
		for (int64_t i = 0; i < pl->n; i++) {
			Ref r = pl->order[i];
			if (movable(pl, r) && group[r] > g && group[r] < next)
				next = group[r];
		}
		if (next == UINT32_MAX || !spend(pl))
			break;
		g = next;
		memcpy(trial, s, nn * sizeof *trial);
		alap(pl, trial, group, g);
		uint64_t c = total_cost(pl, trial);
		if (c < cost) {
			cost = c;
			memcpy(s, trial, nn * sizeof *s);
		}
	}
	total_cost(pl, s);
	free(group);
	free(trial);
	return cost;
}

/* Pushes the nodes of region g d stages later, moving every node that
 * depends on them as far as it must (t = the result).  Returns 0 if that
 * would move an output past the latency.  from = the first position in
 * order of a node of g: before it nothing moves (s obeys the constraints). */
static int push(const Place *pl, const uint32_t *s, uint32_t *t, uint32_t g, uint32_t d,
                int64_t from)
{
	for (int64_t i = 0; i < from; i++)
		t[pl->order[i]] = s[pl->order[i]];
	for (int64_t i = from; i < pl->n; i++) {
		Ref r = pl->order[i];
		const Node *nd = ir_get(pl->m, r);
		uint32_t v = s[r] + (movable(pl, r) && nd->region == g ? d : 0);
		t[r] = s[r];
		if (pl->konst[r] || nd->op == OP_INPUT)
			continue;
		for (uint32_t j = 0; j < nd->nargs; j++) {
			Ref p = ir_arg(pl->m, nd, j);
			if (!pl->konst[p] && t[p] + delta(pl, p, r) > v)
				v = t[p] + delta(pl, p, r);
		}
		if (nd->op == OP_OUTPUT && v > s[r])
			return 0;
		t[r] = v;
	}
	return 1;
}

/* Tries to push each region later (as far as the latency allows, and half
 * that), keeping each push that lowers the cost. */
/* The distinct regions of the movable nodes, ascending; *nreg gets their
 * number and first[k] the first position in order of a node of regs[k].
 * Caller frees both. */
static uint32_t *movable_regions(const Place *pl, uint32_t *nreg, int64_t **first)
{
	uint32_t nstr = pl->m->nstrs ? pl->m->nstrs : 1, k = 0;
	int64_t *at = xmalloc(nstr * sizeof *at);
	for (uint32_t g = 0; g < nstr; g++)
		at[g] = -1;
	for (int64_t i = 0; i < pl->n; i++) {
		Ref r = pl->order[i];
		if (movable(pl, r) && at[ir_get(pl->m, r)->region] < 0)
			at[ir_get(pl->m, r)->region] = i;
	}
	uint32_t *regs = xmalloc(nstr * sizeof *regs);
	for (uint32_t g = 0; g < nstr; g++)
		if (at[g] >= 0) {
			at[k] = at[g];   /* k <= g: compacts in place */
			regs[k++] = g;
		}
	*nreg = k;
	*first = at;
	return regs;
}

static uint64_t try_regions(Place *pl, uint32_t *s, uint32_t nn, uint32_t last, uint64_t cost)
{
	uint32_t *t = xmalloc(nn * sizeof *t), nreg;
	int64_t *first;
	uint32_t *regs = movable_regions(pl, &nreg, &first);
	for (uint32_t ri = 0; ri < nreg; ri++) {
		uint32_t next = regs[ri];
		uint32_t lo = 0, hi = last;
		while (lo < hi && spend(pl)) {
			uint32_t mid = lo + (hi - lo + 1) / 2;
			if (push(pl, s, t, next, mid, first[ri]))
				lo = mid;
			else
				hi = mid - 1;
		}
		for (uint32_t d = lo; d > 0 && spend(pl); d /= 2) {
			push(pl, s, t, next, d, first[ri]);
			uint64_t c = total_cost(pl, t);
			if (c < cost) {
				cost = c;
				memcpy(s, t, nn * sizeof *s);
				break;
			}
		}
	}
	total_cost(pl, s);
	free(t);
	free(regs);
	free(first);
	return cost;
}

uint64_t pipe_place(const Module *m, const Ref *order, int64_t n, const uint8_t *konst,
                    uint32_t *stage, uint64_t *asap_bits)
{
	uint32_t nn = m->nnodes ? m->nnodes : 1;
	Place pl = {m, order, n, konst, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, PLACE_WORK};
	uint32_t *asap = xmalloc(nn * sizeof *asap), *late = xmalloc(nn * sizeof *late);
	memcpy(asap, stage, nn * sizeof *asap);
	memcpy(late, stage, nn * sizeof *late);
	pl.asap = asap;
	pl.max1 = xcalloc(nn, sizeof *pl.max1);
	pl.max2 = xcalloc(nn, sizeof *pl.max2);
	pl.who1 = xmalloc(nn * sizeof *pl.who1);
	pl.mark = xcalloc(nn, sizeof *pl.mark);
	build_consumers(&pl, nn);
	*asap_bits = total_cost(&pl, stage);
	uint32_t last = 0;
	for (int64_t i = 0; i < n; i++)
		if (ir_get(m, order[i])->op == OP_OUTPUT)
			last = stage[order[i]];
	uint64_t c = try_regions(&pl, stage, nn, last, *asap_bits);
	c = try_regions(&pl, stage, nn, last, c);
	try_groups(&pl, stage, nn, c);
	pl.dirty = xmalloc(nn);
	uint64_t c_early = improve(&pl, stage, nn);
	alap(&pl, late, NULL, UINT32_MAX);
	uint64_t c_late = improve(&pl, late, nn);
	free(pl.dirty);
	if (c_late < c_early)
		memcpy(stage, late, nn * sizeof *stage);
	free(asap);
	free(late);
	free(pl.max1);
	free(pl.max2);
	free(pl.who1);
	free(pl.mark);
	free(pl.cbase);
	free(pl.cons);
	return c_late < c_early ? c_late : c_early;
}
