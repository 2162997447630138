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
 *
 * Streams.  A phase source (pipe_source: tall, tdelay, tseq, tpick, tpos)
 * starts a timeline of its own at stage 0 and is never moved, like an
 * input; the operand of a source (the value a buffer or latch takes in) is
 * pinned at its ASAP stage, like an output, so every buffer is written and
 * every next phase starts on the same cycle as in the ASAP schedule; the
 * nodes between move within their phase as above.
 */
#include <stdlib.h>
#include <string.h>

#include "cmvm.h"   /* CmvmMap */
#include "passes.h"
#include "pipeline.h"

enum { PLACE_ROUNDS = 4 };

typedef struct Place {
	const Module *m;
	const Ref *order;
	int64_t n;
	const uint8_t *konst;
	const uint32_t *asap;
	uint8_t *pin;     /* per node: never moved (sources and their operands) */
	uint32_t *group;  /* per node: the inputs it depends on (input_groups) */
	uint32_t *late;   /* per node: the latest stage it may take (latest()) */
	uint32_t *cbase;  /* consumers of p: cons[cbase[p] .. cbase[p+1]) */
	Ref *cons;
	uint32_t *max1;   /* per producer: latest consumer stage ... */
	Ref *who1;        /* ... that consumer ... */
	uint32_t *max2;   /* ... and the latest among the other consumers */
	uint32_t *mark;   /* scratch: operand already counted in this call */
	uint8_t *dirty;   /* per node: a neighbour moved since it was examined */
	uint32_t stamp;
	uint64_t work;    /* node visits left for whole-module trials */
	uint64_t pushwork; /* node visits left for pushes and cone walks */
} Place;

/* Whole-module trials (a group ALAP plus a cost) visit every node; they
 * stop after PLACE_WORK visits so huge designs stay fast. */
#define PLACE_WORK 600000000ull

/* A push of a unit or cone of k nodes may move at most 2k + PUSH_SPILL
 * nodes (one that drags the rest of the design along only moves the chains
 * elsewhere: on the tiny tops, unbounded pushes saved no more bits), so
 * each try is linear in its unit; pushes and cone walks together visit at
 * most PUSH_WORK nodes per node of the module (a moved node costs a heap
 * step and scattered reads of its consumers). */
enum { PUSH_SPILL = 64, PUSH_WORK = 8 };

static void charge(Place *pl, uint64_t w)
{
	pl->pushwork = pl->pushwork > w ? pl->pushwork - w : 0;
}

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
	return !pl->konst[r] && !pl->pin[r] && op != OP_OUTPUT;
}

/* pin[]: the sources (inputs; in a stream the phase sources) and the
 * operands of the phase sources. */
static uint8_t *pins(const Module *m, const Ref *order, int64_t n, const uint8_t *konst,
                     uint32_t nn)
{
	uint8_t *pin = xcalloc(nn, 1);
	for (int64_t i = 0; i < n; i++) {
		const Node *nd = ir_get(m, order[i]);
		if (!pipe_source(nd->op))
			continue;
		pin[order[i]] = 1;
		for (uint32_t j = 0; j < nd->nargs; j++)
			if (!konst[ir_arg(m, nd, j)])
				pin[ir_arg(m, nd, j)] = 1;
	}
	return pin;
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
	const uint32_t *group = pl->group;
	uint32_t *trial = xmalloc(nn * sizeof *trial);
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
	free(trial);
	return cost;
}

/* ---- pushing units ------------------------------------------------------
 * A unit is the movable nodes of one region, or of one region and one input
 * group (the region's nodes fed by the same inputs: the modulation branch of
 * an adaLN layer, fed by the condition alone, is one unit; its layer's main
 * path another).  Pushing a unit d stages later moves every node that
 * depends on it as far as it must, walking only the nodes that move (a heap
 * on topological position); it fails if an output or a pinned node would
 * move.  The move is kept if it lowers the cost of the chains it touches
 * (the moved nodes' and their operands'). */

typedef struct Push {
	uint32_t *pos;     /* per node: position in order */
	uint32_t *heap;    /* positions of queued nodes (a min-heap) */
	uint32_t nheap;
	uint32_t *queued;  /* per node: stamp when queued */
	uint32_t qstamp;
	Ref *logr;         /* moved nodes (a seed may move twice: 2 nn) ... */
	uint32_t *logs;    /* ... and their stages before the push */
	uint32_t *news;    /* scratch: their stages after it */
	uint32_t nlog;
} Push;

static void heap_push(Push *h, uint32_t v)
{
	uint32_t i = h->nheap++;
	for (; i && h->heap[(i - 1) / 2] > v; i = (i - 1) / 2)
		h->heap[i] = h->heap[(i - 1) / 2];
	h->heap[i] = v;
}

static uint32_t heap_pop(Push *h)
{
	uint32_t top = h->heap[0], v = h->heap[--h->nheap], i = 0;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->nheap)
			break;
		if (c + 1 < h->nheap && h->heap[c + 1] < h->heap[c])
			c++;
		if (h->heap[c] >= v)
			break;
		h->heap[i] = h->heap[c];
		i = c;
	}
	if (h->nheap)
		h->heap[i] = v;
	return top;
}

/* Moves r to stage v (> s[r]) and queues its consumers; 0 if r may not move. */
static int move_to(Place *pl, Push *h, uint32_t *s, Ref r, uint32_t v)
{
	if (!movable(pl, r))
		return 0;
	h->logr[h->nlog] = r;
	h->logs[h->nlog++] = s[r];
	s[r] = v;
	for (uint32_t k = pl->cbase[r]; k < pl->cbase[r + 1]; k++) {
		Ref c = pl->cons[k];
		if (h->queued[c] != h->qstamp && !pipe_source(ir_get(pl->m, c)->op)) {
			h->queued[c] = h->qstamp;
			heap_push(h, h->pos[c]);
		}
	}
	return 1;
}

static void undo(Push *h, uint32_t *s)
{
	for (uint32_t i = h->nlog; i-- > 0;)
		s[h->logr[i]] = h->logs[i];
}

/* Pushes unit nodes node[0..k) by d (s changes; h->log records it).
 * Returns 0 (s restored) if an output or a pinned node would move, or if
 * more than `most` nodes would. */
static int push(Place *pl, Push *h, uint32_t *s, const Ref *node, uint32_t k, uint32_t d,
                uint64_t most)
{
	h->nlog = h->nheap = 0;
	h->qstamp++;
	int ok = 1;
	for (uint32_t i = 0; i < k && ok; i++)
		ok = move_to(pl, h, s, node[i], s[node[i]] + d);
	while (ok && h->nheap) {
		if (h->nlog > most) {
			ok = 0;
			break;
		}
		Ref c = pl->order[heap_pop(h)];
		const Node *nd = ir_get(pl->m, c);
		uint32_t v = s[c];
		for (uint32_t j = 0; j < nd->nargs; j++) {
			Ref p = ir_arg(pl->m, nd, j);
			if (!pl->konst[p] && s[p] + delta(pl, p, c) > v)
				v = s[p] + delta(pl, p, c);
		}
		if (v > s[c])
			ok = move_to(pl, h, s, c, v);
	}
	charge(pl, h->nlog);
	if (!ok)
		undo(h, s);
	return ok;
}

/* The latest stage of each node in any schedule obeying the constraints
 * with the fixed nodes (outputs, sources, pinned) where they are: a fixed
 * node's own stage, else the least over its consumers c (a phase source
 * aside: it does not follow its operand) of late(c) - delta; a node
 * without such consumers, the latest stage of the module (last).  Fixed
 * nodes never move, so it holds for every schedule the pushes make: a push
 * of d <= late - s for each of its nodes moves no fixed node. */
static uint32_t *latest(const Place *pl, const uint32_t *s, uint32_t nn, uint32_t last)
{
	uint32_t *late = xmalloc(nn * sizeof *late);
	for (int64_t i = pl->n; i-- > 0;) {
		Ref r = pl->order[i];
		if (pl->konst[r])
			continue;
		if (!movable(pl, r)) {
			late[r] = s[r];
			continue;
		}
		uint32_t v = UINT32_MAX;
		for (uint32_t k = pl->cbase[r]; k < pl->cbase[r + 1]; k++) {
			Ref c = pl->cons[k];
			if (pipe_source(ir_get(pl->m, c)->op))
				continue;
			uint32_t l = late[c] - delta(pl, r, c);
			v = l < v ? l : v;
		}
		late[r] = v == UINT32_MAX ? (last > s[r] ? last : s[r]) : v < s[r] ? s[r] : v;
	}
	return late;
}

/* Chain cost of producer p from its consumers' stages (no cache). */
static uint64_t chain_cost(const Place *pl, const uint32_t *s, Ref p)
{
	uint32_t mx = s[p];
	for (uint32_t k = pl->cbase[p]; k < pl->cbase[p + 1]; k++)
		if (s[pl->cons[k]] > mx)
			mx = s[pl->cons[k]];
	return node_bits(pl, p) * (mx - s[p]);
}

/* Cost of the chains a push touched: the moved nodes' and their operands'
 * (each once: pl->mark / stamp). */
static uint64_t touched_cost(Place *pl, const Push *h, const uint32_t *s)
{
	uint64_t c = 0;
	pl->stamp++;
	for (uint32_t i = 0; i < h->nlog; i++) {
		Ref r = h->logr[i];
		const Node *nd = ir_get(pl->m, r);
		if (pl->mark[r] != pl->stamp) {
			pl->mark[r] = pl->stamp;
			c += chain_cost(pl, s, r);
		}
		for (uint32_t j = 0; j < nd->nargs; j++) {
			Ref p = ir_arg(pl->m, nd, j);
			if (!pl->konst[p] && pl->mark[p] != pl->stamp) {
				pl->mark[p] = pl->stamp;
				c += chain_cost(pl, s, p);
			}
		}
	}
	return c;
}

/* Tries unit node[0..k): the largest push its nodes' latest stages allow,
 * then halves of it, keeping the first that saves bits; a push moving more
 * than `most` nodes is not tried. */
static void try_unit(Place *pl, Push *h, uint32_t *s, const Ref *node, uint32_t k,
                     uint64_t most)
{
	uint32_t lo = UINT32_MAX;
	for (uint32_t i = 0; i < k; i++)
		if (pl->late[node[i]] - s[node[i]] < lo)
			lo = pl->late[node[i]] - s[node[i]];
	for (uint32_t d = k ? lo : 0; d > 0 && pl->pushwork; d /= 2) {
		if (!push(pl, h, s, node, k, d, most))
			continue;
		uint64_t after = touched_cost(pl, h, s);
		for (uint32_t i = 0; i < h->nlog; i++)
			h->news[i] = s[h->logr[i]];
		undo(h, s);
		if (after < touched_cost(pl, h, s)) {
			for (uint32_t i = 0; i < h->nlog; i++)
				s[h->logr[i]] = h->news[i];
			return;
		}
	}
}

typedef struct UnitKey { uint64_t key; uint32_t k; } UnitKey;

static int unitkey_cmp(const void *a, const void *b)
{
	uint64_t x = ((const UnitKey *)a)->key, y = ((const UnitKey *)b)->key;
	return x < y ? -1 : x > y;
}

/* The units: unit u's nodes are unode[ubase[u] .. ubase[u+1]), in order.
 * Each region with nodes of several input groups gives the whole region
 * and then one unit per group; a region of one group, one unit.  Units in
 * ascending (region, group) order.  Returns the number of units. */
static uint32_t make_units(const Place *pl, uint32_t nn, uint32_t **ubase, Ref **unode)
{
	CmvmMap map;
	cmvm_map_init(&map, 1024);
	uint64_t *key = NULL;
	uint32_t nkey = 0, capkey = 0;
	uint32_t *uid = xmalloc(nn * sizeof *uid);   /* per node: its group unit */
	for (int64_t i = 0; i < pl->n; i++) {
		Ref r = pl->order[i];
		uid[r] = UINT32_MAX;
		if (!movable(pl, r))
			continue;
		int isnew;
		uint64_t kk = ((uint64_t)ir_get(pl->m, r)->region + 1) << 32 | pl->group[r];
		uint32_t *v = cmvm_map_get(&map, kk, nkey, &isnew);
		if (isnew) {
			if (nkey == capkey) {
				capkey = capkey ? 2 * capkey : 256;
				key = xrealloc(key, capkey * sizeof *key);
			}
			key[nkey++] = kk;
		}
		uid[r] = *v;
	}
	/* idx: the keys in ascending order (a key is unique: no ties) */
	UnitKey *sorted = xmalloc((nkey + 1) * sizeof *sorted);
	for (uint32_t k = 0; k < nkey; k++)
		sorted[k] = (UnitKey){key[k], k};
	qsort(sorted, nkey, sizeof *sorted, unitkey_cmp);
	uint32_t *idx = xmalloc((nkey + 1) * sizeof *idx);
	for (uint32_t k = 0; k < nkey; k++)
		idx[k] = sorted[k].k;
	free(sorted);
	/* unit numbers: per region, a whole-region unit first if it has
	 * several groups, then its group units */
	uint32_t nu = 0;
	uint32_t *gunit = xmalloc((nkey + 1) * sizeof *gunit), *wunit = xmalloc((nkey + 1) * sizeof *wunit);
	for (uint32_t a = 0; a < nkey;) {
		uint32_t b = a;
		while (b < nkey && key[idx[b]] >> 32 == key[idx[a]] >> 32)
			b++;
		uint32_t whole = b - a > 1 ? nu++ : UINT32_MAX;
		for (uint32_t j = a; j < b; j++) {
			wunit[idx[j]] = whole;
			gunit[idx[j]] = nu++;
		}
		a = b;
	}
	uint32_t *base = xcalloc(nu + 2, sizeof *base);
	for (int64_t i = 0; i < pl->n; i++) {
		Ref r = pl->order[i];
		if (uid[r] == UINT32_MAX)
			continue;
		base[gunit[uid[r]] + 2]++;
		if (wunit[uid[r]] != UINT32_MAX)
			base[wunit[uid[r]] + 2]++;
	}
	for (uint32_t u = 0; u < nu; u++)
		base[u + 2] += base[u + 1];
	Ref *node = xmalloc((base[nu + 1] + 1) * sizeof *node);
	for (int64_t i = 0; i < pl->n; i++) {
		Ref r = pl->order[i];
		if (uid[r] == UINT32_MAX)
			continue;
		node[base[gunit[uid[r]] + 1]++] = r;
		if (wunit[uid[r]] != UINT32_MAX)
			node[base[wunit[uid[r]] + 1]++] = r;
	}
	cmvm_map_free(&map);
	free(key);
	free(uid);
	free(idx);
	free(gunit);
	free(wunit);
	*ubase = base;
	*unode = node;
	return nu;
}

/* The maximal fanout-free cone of root into out[] (root first): root and
 * every movable node all of whose consumers are in the cone.  cnt counts a
 * node's consumers in the cone (valid where cstamp[q] == stamp).  Returns
 * its size, or 0 past CONE_MAX nodes. */
enum { CONE_MAX = 1 << 16 };
static uint32_t cone(const Place *pl, Ref root, Ref *out, uint32_t *cnt, uint32_t *cstamp,
                     uint32_t stamp)
{
	uint32_t k = 0;
	out[k++] = root;
	for (uint32_t i = 0; i < k; i++) {
		const Node *nd = ir_get(pl->m, out[i]);
		for (uint32_t j = 0; j < nd->nargs; j++) {
			Ref q = ir_arg(pl->m, nd, j);
			if (!movable(pl, q))
				continue;
			if (cstamp[q] != stamp) {
				cstamp[q] = stamp;
				cnt[q] = 0;
			}
			if (++cnt[q] == pl->cbase[q + 1] - pl->cbase[q]) {
				if (k == CONE_MAX)
					return 0;
				out[k++] = q;
			}
		}
	}
	return k;
}

static Push push_new(const Place *pl, uint32_t nn)
{
	Push h = {xmalloc(nn * sizeof *h.pos), xmalloc(nn * sizeof *h.heap), 0,
	          xcalloc(nn, sizeof *h.queued), 0, xmalloc(2 * (size_t)nn * sizeof *h.logr),
	          xmalloc(2 * (size_t)nn * sizeof *h.logs), xmalloc(2 * (size_t)nn * sizeof *h.news), 0};
	for (int64_t i = 0; i < pl->n; i++)
		h.pos[pl->order[i]] = (uint32_t)i;
	return h;
}

static void push_free(Push *h)
{
	free(h->pos);
	free(h->heap);
	free(h->queued);
	free(h->logr);
	free(h->logs);
	free(h->news);
}

/* Tries to push the fanout-free cone of each node whose delay chain costs
 * at least CONE_BITS bit-stages (a layer's gate, computed early from the
 * condition and read at the end of the layer, with the adders that feed it
 * alone) as late as it pays. */
#define CONE_BITS 1024
static uint64_t try_cones(Place *pl, uint32_t *s, uint32_t nn)
{
	Push h = push_new(pl, nn);
	Ref *node = xmalloc((CONE_MAX + 1) * sizeof *node);
	uint32_t *cnt = xmalloc(nn * sizeof *cnt), *cstamp = xcalloc(nn, sizeof *cstamp), stamp = 0;
	for (int64_t i = pl->n; i-- > 0 && pl->pushwork;) {
		Ref r = pl->order[i];
		if (!movable(pl, r) || chain_cost(pl, s, r) < CONE_BITS)
			continue;
		uint32_t k = cone(pl, r, node, cnt, cstamp, ++stamp);
		charge(pl, k ? k : CONE_MAX);
		if (k)
			try_unit(pl, &h, s, node, k, 2 * (uint64_t)k + PUSH_SPILL);
	}
	push_free(&h);
	free(node);
	free(cnt);
	free(cstamp);
	return total_cost(pl, s);
}

/* Tries to push each unit later (as far as the latest stages allow, and
 * halves of that), keeping each push that lowers the cost. */
static void try_units(Place *pl, uint32_t *s, uint32_t nn)
{
	uint32_t *ubase;
	Ref *unode;
	uint32_t nu = make_units(pl, nn, &ubase, &unode);
	Push h = push_new(pl, nn);
	for (uint32_t u = 0; u < nu && pl->pushwork; u++) {
		uint32_t k = ubase[u + 1] - ubase[u];
		try_unit(pl, &h, s, unode + ubase[u], k, 2 * (uint64_t)k + PUSH_SPILL);
	}
	push_free(&h);
	free(ubase);
	free(unode);
}

uint64_t pipe_place(const Module *m, const Ref *order, int64_t n, const uint8_t *konst,
                    uint32_t *stage, uint64_t *asap_bits)
{
	uint32_t nn = m->nnodes ? m->nnodes : 1;
	Place pl = {m, order, n, konst, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	            NULL, 0, PLACE_WORK, (uint64_t)PUSH_WORK * (uint64_t)n};
	pl.pin = pins(m, order, n, konst, nn);
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
	pl.group = input_groups(&pl, nn);
	uint32_t last = 0;   /* the latest stage (in a stream, of any phase) */
	for (int64_t i = 0; i < n; i++)
		if (!konst[order[i]] && stage[order[i]] > last)
			last = stage[order[i]];
	pl.late = latest(&pl, stage, nn, last);
	try_units(&pl, stage, nn);   /* (a second round gained nothing) */
	uint64_t c = try_cones(&pl, stage, nn);
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
	free(pl.pin);
	free(pl.group);
	free(pl.late);
	free(pl.cbase);
	free(pl.cons);
	return c_late < c_early ? c_late : c_early;
}
