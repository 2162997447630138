/*
 * pipeline_rewrite.c -- graph rewrites that let the pipeline pass delay
 * less: run before scheduling, semantics-preserving, pipelining only.
 *
 * pipe_split_extracts: a vector read only through disjoint `extract`s (an
 * elementwise op, concat, sum or rmax) becomes one piece per extract:
 * extract(op(a, b), lo) = op(extract(a, lo), extract(b, lo)) (broadcast
 * operands read lane i % len), extract(concat(...)) = the concat of the
 * covered pieces, extract(sum(x, g), lo) = sum(extract(x, lo*g), g).
 * Repeated until nothing changes, so a wide result whose chunks are used at
 * different times (the six adaLN chunks) splits back to its sources, and
 * each chunk can be computed and delayed on its own.  Disjointness means
 * no lane is computed twice: the hardware is the same.
 *
 * pipe_unshare: CSE shares sub-sums between matrices that read the same
 * vector (every layer's adaLN matrix reads the conditioning vector), which
 * ties a late layer's matrix to an early one: the shared sub-sums would be
 * delayed for a whole layer.  Each cheap node (add, sub, neg, shl, ext,
 * trunc, slice) read from other regions gets one copy per reading region,
 * so every region can be scheduled on its own; a copy costs its adder, a
 * delay costs width x cycles of flip-flops.  Visiting nodes from the last
 * to the first copies whole shared trees (a copy's operands are then read
 * from its region).
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "pipeline.h"

/* ---- splitting vectors read only through disjoint extracts ------------- */

/* Lanes lo .. lo+k-1 of a as read by an ELEM result (broadcast a lane
 * i -> i % len(a)); NOREF if they are not one contiguous piece or all of a. */
static int whole_operand(uint32_t la, uint32_t lo, uint32_t k)
{
	return la == 1 || (lo % la == 0 && k % la == 0);
}

static int can_split_operand(uint32_t la, uint32_t lo, uint32_t k)
{
	return whole_operand(la, lo, k) || lo % la + k <= la;
}

static Ref split_operand(Module *m, Ref a, uint32_t lo, uint32_t k)
{
	Node c = *ir_get(m, a);
	if (whole_operand(c.len, lo, k))
		return a;
	return ir_node(m, OP_EXTRACT, c.ty, c.width, k, &a, 1, lo % c.len, 0);
}

/* Lanes lo .. lo+k-1 of concat v as pieces of its operands; offs[j] is
 * the first lane of operand j (offs[nargs] = len), found by bisection. */
static Ref split_concat(Module *m, Ref v, uint32_t lo, uint32_t k, const uint32_t *offs)
{
	Node vn = *ir_get(m, v);
	uint32_t a = 0, b = vn.nargs;
	while (b - a > 1) {
		uint32_t mid = a + (b - a) / 2;
		if (offs[mid] <= lo)
			a = mid;
		else
			b = mid;
	}
	uint32_t np = 0, cap = 8;
	Ref *parts = xmalloc(cap * sizeof *parts);
	for (uint32_t j = a; j < vn.nargs && offs[j] < lo + k; j++) {
		Ref x = ir_arg(m, ir_get(m, v), j);
		Node xn = *ir_get(m, x);
		uint32_t s = lo > offs[j] ? lo : offs[j], e = lo + k < offs[j + 1] ? lo + k : offs[j + 1];
		if (s >= e)
			continue;
		if (np == cap)
			parts = xrealloc(parts, (cap *= 2) * sizeof *parts);
		parts[np++] = s == offs[j] && e == offs[j + 1] ? x
		              : ir_node(m, OP_EXTRACT, xn.ty, xn.width, e - s, &x, 1, s - offs[j], 0);
	}
	const Node *p0 = ir_get(m, parts[0]);
	Ref r = np == 1 && p0->ty == vn.ty && p0->width == vn.width ? parts[0]
	        : ir_node(m, OP_CONCAT, vn.ty, vn.width, k, parts, np, 0, 0);
	free(parts);
	return r;
}

/* 1 if every operand of ELEM node v can be split at extract e. */
static int can_split(const Module *m, Ref v, Ref e)
{
	const Node *vn = ir_get(m, v), *en = ir_get(m, e);
	if (vn->op == OP_CONCAT || vn->op == OP_SUM || vn->op == OP_RMAX)
		return 1;
	for (uint32_t j = 0; j < vn->nargs; j++)
		if (!can_split_operand(ir_get(m, ir_arg(m, vn, j))->len, (uint32_t)en->imm, en->len))
			return 0;
	return 1;
}

/* The piece of v that extract e reads, as a new node (can_split holds). */
static Ref split_one(Module *m, Ref v, Ref e, const uint32_t *offs)
{
	Node vn = *ir_get(m, v);
	uint32_t lo = (uint32_t)ir_get(m, e)->imm, k = ir_get(m, e)->len;
	if (vn.op == OP_CONCAT)
		return split_concat(m, v, lo, k, offs);
	Ref args[3];
	for (uint32_t j = 0; j < vn.nargs; j++) {
		Ref a = ir_arg(m, ir_get(m, v), j);
		if (vn.op == OP_SUM || vn.op == OP_RMAX) {
			Node an = *ir_get(m, a);
			uint32_t g = (uint32_t)vn.imm;
			args[j] = ir_node(m, OP_EXTRACT, an.ty, an.width, k * g, &a, 1, (int64_t)lo * g, 0);
		} else {
			args[j] = split_operand(m, a, lo, k);
		}
	}
	return ir_node(m, vn.op, vn.ty, vn.width, k, args, vn.nargs, vn.imm, vn.aux);
}

static int splittable(const Module *m, Ref v)
{
	const Node *n = ir_get(m, v);
	if (n->len < 2 || (n->flags & NF_DEAD))
		return 0;
	if (n->op == OP_CONCAT || n->op == OP_SUM || n->op == OP_RMAX)
		return 1;
	if (!(op_info[n->op].flags & OPF_ELEM) || n->nargs > 3)
		return 0;
	for (uint32_t j = 0; j < n->nargs; j++)
		if (n->len % ir_get(m, ir_arg(m, n, j))->len)
			return 0;
	return 1;
}

/* 1 if every use of v (c[0 .. nc), live at the round's start) is an
 * extract and no two of them overlap. */
static int only_disjoint_extracts(const Module *m, Ref v, const Ref *c, uint32_t nc, uint8_t *lane)
{
	uint32_t len = ir_get(m, v)->len;
	int ok = nc > 0;
	memset(lane, 0, len);
	for (uint32_t i = 0; i < nc && ok; i++) {
		const Node *e = ir_get(m, c[i]);
		if (e->op != OP_EXTRACT || e->len == len)
			return 0;
		for (uint32_t l = (uint32_t)e->imm; l < e->imm + e->len && ok; l++)
			ok = !lane[l]++;
	}
	return ok;
}

/*
 * State kept across rounds.  A round only has to look at the vectors whose
 * eligibility may have changed since the last one: the operands of the
 * vectors split (they got new extracts and lost a reader; the last round
 * skipped them) and the nodes it created.  Every other vector was already
 * found ineligible with the same readers, so the rounds visit the same
 * vectors in the same order as a full scan would, and build the same nodes.
 * The rewrite of the killed extracts to their pieces is done by the next
 * round's scan of the operands (the chains of ir_rewrite are followed).
 */
enum { SF_CAND = 1, SF_KILLED = 2, SF_SKIP = 4 };

typedef struct Split {
	uint8_t *fl;      /* per node: SF_* */
	Ref *map;         /* per node with SF_KILLED: its replacement */
	uint32_t *cid;    /* per candidate: its index in cand[] */
	uint32_t cap;
	Ref *cand;        /* this round's candidates, descending */
	uint32_t ncand;
	Ref *skipped;     /* nodes given SF_SKIP in the last round */
	uint32_t nskipped, capskipped;
	uint32_t *cb;     /* consumers of cand[k]: cons[cb[k] .. cb[k+1]) */
	Ref *cons;
	int pending;      /* killed extracts still to be rewritten */
} Split;

static void split_grow(Split *sp, uint32_t nn)
{
	if (nn <= sp->cap)
		return;
	uint32_t cap = sp->cap ? sp->cap : 1024;
	while (cap < nn)
		cap *= 2;
	sp->fl = xrealloc(sp->fl, cap);
	memset(sp->fl + sp->cap, 0, cap - sp->cap);
	sp->map = xrealloc(sp->map, (size_t)cap * sizeof *sp->map);
	sp->cid = xrealloc(sp->cid, (size_t)cap * sizeof *sp->cid);
	sp->cap = cap;
}

static int cmp_desc(const void *a, const void *b)
{
	Ref x = *(const Ref *)a, y = *(const Ref *)b;
	return x > y ? -1 : x < y;
}

/* Candidates: every splittable vector in the first round; later, the
 * splittable ones among the nodes made since (index >= from) and the
 * nodes the last round skipped. */
static void split_candidates(const Module *m, Split *sp, uint32_t from, int first)
{
	uint32_t nn = m->nnodes, k = 0;
	sp->cand = xrealloc(sp->cand, ((size_t)(first ? nn : nn - from + sp->nskipped) + 1) *
	                                  sizeof *sp->cand);
	for (Ref v = nn; v-- > (first ? 0 : from);)
		if (splittable(m, v))
			sp->cand[k++] = v;
	if (sp->nskipped)
		qsort(sp->skipped, sp->nskipped, sizeof *sp->skipped, cmp_desc);
	for (uint32_t i = 0; i < sp->nskipped; i++) {
		Ref v = sp->skipped[i];
		sp->fl[v] &= (uint8_t)~SF_SKIP;
		if (splittable(m, v))
			sp->cand[k++] = v;
	}
	sp->nskipped = 0;
	for (uint32_t i = 0; i < k; i++) {
		sp->fl[sp->cand[i]] |= SF_CAND;
		sp->cid[sp->cand[i]] = i;
	}
	sp->ncand = k;
}

/* Rewrites operands that read killed extracts, then lists the live
 * readers of every candidate in index order (CSR over cid). */
static void split_readers(Module *m, Split *sp)
{
	uint32_t nn = m->nnodes, ne = 0, cap = 1024;
	Ref *edge = xmalloc(2 * (size_t)cap * sizeof *edge);
	for (Ref r = 0; r < nn; r++) {
		const Node *n = ir_get(m, r);
		Ref *a = ir_args(m, n);
		for (uint32_t j = 0; j < n->nargs; j++) {
			uint32_t guard = 0;
			while (sp->pending && (sp->fl[a[j]] & SF_KILLED) && sp->map[a[j]] != a[j]) {
				a[j] = sp->map[a[j]];
				if (++guard > nn)
					die("cycle in rewrite map");
			}
			if (!(sp->fl[a[j]] & SF_CAND) || (n->flags & NF_DEAD))
				continue;
			if (ne == cap)
				edge = xrealloc(edge, 2 * (size_t)(cap *= 2) * sizeof *edge);
			edge[2 * ne] = sp->cid[a[j]];
			edge[2 * ne++ + 1] = r;
		}
	}
	sp->pending = 0;
	sp->cb = xrealloc(sp->cb, ((size_t)sp->ncand + 2) * sizeof *sp->cb);
	memset(sp->cb, 0, ((size_t)sp->ncand + 2) * sizeof *sp->cb);
	for (uint32_t e = 0; e < ne; e++)
		sp->cb[edge[2 * e] + 2]++;
	for (uint32_t k = 0; k < sp->ncand; k++)
		sp->cb[k + 2] += sp->cb[k + 1];
	sp->cons = xrealloc(sp->cons, ((size_t)ne + 1) * sizeof *sp->cons);
	for (uint32_t e = 0; e < ne; e++)
		sp->cons[sp->cb[edge[2 * e] + 1]++] = edge[2 * e + 1];
	free(edge);
}

static void split_skip(Split *sp, Ref a)
{
	if (sp->fl[a] & SF_SKIP)
		return;
	sp->fl[a] |= SF_SKIP;
	if (sp->nskipped == sp->capskipped) {
		sp->capskipped = sp->capskipped ? 2 * sp->capskipped : 1024;
		sp->skipped = xrealloc(sp->skipped, sp->capskipped * sizeof *sp->skipped);
	}
	sp->skipped[sp->nskipped++] = a;
}

/* Splits candidate v (index k) if every reader is a disjoint extract it
 * can be split at; returns 1 if it did. */
static int split_vector(Module *m, Split *sp, uint32_t k, uint8_t **lane, uint32_t **offs)
{
	Ref v = sp->cand[k];
	const Ref *c = sp->cons + sp->cb[k];
	uint32_t nc = sp->cb[k + 1] - sp->cb[k];
	*lane = xrealloc(*lane, ir_get(m, v)->len);
	int ok = only_disjoint_extracts(m, v, c, nc, *lane);
	for (uint32_t i = 0; i < nc && ok; i++)
		ok = can_split(m, v, c[i]);
	if (!ok)
		return 0;
	m->cur_region = ir_get(m, v)->region;
	uint32_t na = ir_get(m, v)->nargs;
	*offs = xrealloc(*offs, (na + 1) * sizeof **offs);
	(*offs)[0] = 0;
	for (uint32_t j = 0; j < na; j++)
		(*offs)[j + 1] = (*offs)[j] + ir_get(m, ir_arg(m, ir_get(m, v), j))->len;
	for (uint32_t i = 0; i < nc; i++) {
		Ref piece = split_one(m, v, c[i], *offs);
		split_grow(sp, m->nnodes);
		sp->map[c[i]] = piece;
		sp->fl[c[i]] |= SF_KILLED;
		ir_kill(m, c[i]);
	}
	for (uint32_t j = 0; j < ir_get(m, v)->nargs; j++)
		split_skip(sp, ir_arg(m, ir_get(m, v), j));
	ir_kill(m, v);
	return 1;
}

/* One round: splits every eligible vector once.  Returns the splits. */
static uint32_t split_round(Module *m, Split *sp, uint32_t from, int first)
{
	uint32_t made = 0, saved = m->cur_region;
	uint8_t *lane = NULL;
	uint32_t *offs = NULL;
	split_grow(sp, m->nnodes);
	split_candidates(m, sp, from, first);
	split_readers(m, sp);
	for (uint32_t k = 0; k < sp->ncand; k++)
		if (!(sp->fl[sp->cand[k]] & SF_SKIP))
			made += split_vector(m, sp, k, &lane, &offs);
	for (uint32_t k = 0; k < sp->ncand; k++)
		sp->fl[sp->cand[k]] &= (uint8_t)~SF_CAND;
	sp->pending = made != 0;
	m->cur_region = saved;
	free(lane);
	free(offs);
	return made;
}

uint32_t pipe_split_extracts(Module *m)
{
	uint32_t total = 0, made, from = 0;
	Split sp = {0};
	for (int round = 0; round < 256; round++) {
		uint32_t nn = m->nnodes;
		if ((made = split_round(m, &sp, from, round == 0)) == 0)
			break;
		from = nn;
		total += made;
	}
	if (sp.pending) {   /* the round limit: rewrite the last round's kills */
		sp.ncand = 0;
		split_readers(m, &sp);
	}
	free(sp.fl), free(sp.map), free(sp.cid), free(sp.cand);
	free(sp.skipped), free(sp.cb), free(sp.cons);
	if (total)
		ir_compact(m);
	return total;
}

/* ---- copying cheap nodes shared between regions ------------------------- */

typedef struct Uses {
	uint32_t *head;   /* per node: first edge, or UINT32_MAX */
	uint32_t *next;   /* per edge */
	Ref *cons;        /* per edge: the reading node ... */
	uint32_t *slot;   /* ... and its operand slot */
	uint32_t nedges, capedges, capnodes;
} Uses;

static void uses_add(Uses *u, Ref p, Ref c, uint32_t slot)
{
	if (u->nedges == u->capedges) {
		u->capedges = u->capedges ? 2 * u->capedges : 1024;
		u->next = xrealloc(u->next, u->capedges * sizeof *u->next);
		u->cons = xrealloc(u->cons, u->capedges * sizeof *u->cons);
		u->slot = xrealloc(u->slot, u->capedges * sizeof *u->slot);
	}
	u->next[u->nedges] = u->head[p];
	u->cons[u->nedges] = c;
	u->slot[u->nedges] = slot;
	u->head[p] = u->nedges++;
}

static void uses_grow(Uses *u, uint32_t nnodes)
{
	if (nnodes <= u->capnodes)
		return;
	uint32_t cap = u->capnodes ? u->capnodes : 1024;
	while (cap < nnodes)
		cap *= 2;
	u->head = xrealloc(u->head, cap * sizeof *u->head);
	for (uint32_t i = u->capnodes; i < cap; i++)
		u->head[i] = UINT32_MAX;
	u->capnodes = cap;
}

static int cheap_op(int op)
{
	return op == OP_ADD || op == OP_SUB || op == OP_NEG || op == OP_SHL || op == OP_EXT ||
	       op == OP_TRUNC || op == OP_SLICE;
}

/* Gives p one copy per region reading it but one (its own region if that
 * reads it, else the first reader's); returns the copies made. */
static uint32_t unshare_node(Module *m, Uses *u, Ref p)
{
	uint32_t made = 0, keep = UINT32_MAX;
	for (uint32_t e = u->head[p]; e != UINT32_MAX; e = u->next[e]) {
		const Node *c = ir_get(m, u->cons[e]);
		if (c->op != OP_OUTPUT && !(c->flags & NF_DEAD) &&
		    (keep == UINT32_MAX || c->region == ir_get(m, p)->region))
			keep = c->region;
	}
	for (;;) {
		uint32_t reg = keep, other = UINT32_MAX;
		for (uint32_t e = u->head[p]; e != UINT32_MAX && other == UINT32_MAX; e = u->next[e]) {
			const Node *c = ir_get(m, u->cons[e]);
			if (c->region != reg && c->op != OP_OUTPUT && !(c->flags & NF_DEAD))
				other = c->region;
		}
		if (other == UINT32_MAX)
			return made;
		Node pn = *ir_get(m, p);
		Ref args[3];
		memcpy(args, ir_args(m, &pn), pn.nargs * sizeof *args);
		uint32_t saved = m->cur_region;
		m->cur_region = other;
		Ref q = ir_node(m, pn.op, pn.ty, pn.width, pn.len, args, pn.nargs, pn.imm, pn.aux);
		m->cur_region = saved;
		uses_grow(u, m->nnodes);
		for (uint32_t k = 0; k < pn.nargs; k++)
			uses_add(u, ir_arg(m, ir_get(m, q), k), q, k);
		uint32_t *link = &u->head[p];
		while (*link != UINT32_MAX) {
			uint32_t e = *link;
			const Node *c = ir_get(m, u->cons[e]);
			if (c->region == other && c->op != OP_OUTPUT && !(c->flags & NF_DEAD)) {
				m->argv[c->args + u->slot[e]] = q;
				*link = u->next[e];
				u->next[e] = u->head[q];
				u->head[q] = e;
			} else {
				link = &u->next[e];
			}
		}
		made++;
	}
}

uint32_t pipe_unshare(Module *m)
{
	uint32_t nn = m->nnodes ? m->nnodes : 1, made = 0;
	Ref *order = xmalloc(nn * sizeof *order);
	int64_t n = ir_topo(m, order);
	Uses u = {0};
	uses_grow(&u, m->nnodes + 1);
	uint8_t *konst = xcalloc(nn, 1);
	for (int64_t i = 0; i < n; i++) {
		Ref r = order[i];
		const Node *nd = ir_get(m, r);
		int k = nd->op == OP_CONST || nd->op == OP_VCONST || nd->op == OP_FCONST;
		if (!k && nd->nargs && nd->op != OP_OUTPUT) {
			k = 1;
			for (uint32_t j = 0; j < nd->nargs; j++)
				k &= konst[ir_arg(m, nd, j)];
		}
		konst[r] = (uint8_t)k;
		for (uint32_t j = 0; j < nd->nargs; j++)
			uses_add(&u, ir_arg(m, nd, j), r, j);
	}
	for (int64_t i = n; i-- > 0;)
		if (cheap_op(ir_get(m, order[i])->op) && !konst[order[i]])
			made += unshare_node(m, &u, order[i]);
	free(order);
	free(konst);
	free(u.head);
	free(u.next);
	free(u.cons);
	free(u.slot);
	if (made)
		ir_compact(m);
	return made;
}
