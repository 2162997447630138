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

/* 1 if every use of v is an extract and no two of them overlap. */
static int only_disjoint_extracts(const Module *m, Ref v, const uint32_t *cb, const Ref *cons, uint8_t *lane)
{
	uint32_t len = ir_get(m, v)->len;
	int ok = cb[v + 1] > cb[v];
	memset(lane, 0, len);
	for (uint32_t i = cb[v]; i < cb[v + 1] && ok; i++) {
		const Node *e = ir_get(m, cons[i]);
		if (e->op != OP_EXTRACT || e->len == len)
			return 0;
		for (uint32_t l = (uint32_t)e->imm; l < e->imm + e->len && ok; l++)
			ok = !lane[l]++;
	}
	return ok;
}

/* Consumer lists (CSR) of every live node. */
static void uses_csr(const Module *m, uint32_t **cb, Ref **cons)
{
	uint32_t nn = m->nnodes;
	uint32_t *b = xcalloc(nn + 2, sizeof *b);
	for (Ref r = 0; r < nn; r++)
		if (!(ir_get(m, r)->flags & NF_DEAD))
			for (uint32_t j = 0; j < ir_get(m, r)->nargs; j++)
				b[ir_arg(m, ir_get(m, r), j) + 2]++;
	for (uint32_t p = 0; p < nn; p++)
		b[p + 2] += b[p + 1];
	Ref *c = xmalloc((b[nn + 1] + 1) * sizeof *c);
	for (Ref r = 0; r < nn; r++)
		if (!(ir_get(m, r)->flags & NF_DEAD))
			for (uint32_t j = 0; j < ir_get(m, r)->nargs; j++)
				c[b[ir_arg(m, ir_get(m, r), j) + 1]++] = r;
	*cb = b;
	*cons = c;
}

/* One round: splits every eligible vector once.  Returns the splits. */
static uint32_t split_round(Module *m)
{
	uint32_t nn = m->nnodes, made = 0, npairs = 0, cap = 16;
	uint32_t *cb;
	Ref *cons, *pairs = xmalloc(2 * cap * sizeof *pairs);
	uses_csr(m, &cb, &cons);
	uint8_t *skip = xcalloc(nn ? nn : 1, 1), *lane = NULL;
	uint32_t *offs = NULL;
	uint32_t saved = m->cur_region;
	for (Ref v = nn; v-- > 0;) {
		if (skip[v] || !splittable(m, v))
			continue;
		lane = xrealloc(lane, ir_get(m, v)->len);
		int ok = only_disjoint_extracts(m, v, cb, cons, lane);
		for (uint32_t i = cb[v]; i < cb[v + 1] && ok; i++)
			ok = can_split(m, v, cons[i]);
		if (!ok)
			continue;
		m->cur_region = ir_get(m, v)->region;
		uint32_t na = ir_get(m, v)->nargs;
		offs = xrealloc(offs, (na + 1) * sizeof *offs);
		offs[0] = 0;
		for (uint32_t j = 0; j < na; j++)
			offs[j + 1] = offs[j] + ir_get(m, ir_arg(m, ir_get(m, v), j))->len;
		for (uint32_t i = cb[v]; i < cb[v + 1]; i++) {
			if (npairs == cap)
				pairs = xrealloc(pairs, 2 * (cap *= 2) * sizeof *pairs);
			pairs[2 * npairs] = cons[i];
			pairs[2 * npairs++ + 1] = split_one(m, v, cons[i], offs);
			ir_kill(m, cons[i]);
		}
		for (uint32_t j = 0; j < ir_get(m, v)->nargs; j++)
			skip[ir_arg(m, ir_get(m, v), j)] = 1;
		ir_kill(m, v);
		made++;
	}
	m->cur_region = saved;
	Ref *map = xmalloc((m->nnodes + 1) * sizeof *map);
	for (Ref r = 0; r < m->nnodes; r++)
		map[r] = NOREF;
	for (uint32_t i = 0; i < npairs; i++)
		map[pairs[2 * i]] = pairs[2 * i + 1];
	if (made)
		ir_rewrite(m, map);
	free(map);
	free(pairs);
	free(skip);
	free(lane);
	free(offs);
	free(cb);
	free(cons);
	return made;
}

uint32_t pipe_split_extracts(Module *m)
{
	uint32_t total = 0, made;
	for (int round = 0; round < 256 && (made = split_round(m)) != 0; round++)
		total += made;
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
