/*
 * balance.c -- reshape long add/sub chains into balanced trees.
 *
 * An adder tree is a maximal set of add/sub/neg nodes in which every node
 * but the root has exactly one use, that use is in the tree, and its width
 * is at least the root's (so wrapping at the root is the only wrap: a sum
 * computed mod 2^W in any order is the same sum mod 2^W).  Its leaves, each
 * with a sign, are what it adds up.  Such a tree is rebuilt Huffman-style:
 * the two shallowest terms (adder levels from the inputs; ties by term
 * order, so the result is deterministic) are combined first, which gives
 * the minimum depth for the leaves' arrival times.  Pairing keeps a
 * positive term wherever one exists, so signs cost nothing (a - b, b - a);
 * only an all-negative tree needs its original negation.  The new adders
 * have the root's type; the width pass trims them afterwards, so the
 * full-adder-bit cost moves little.
 *
 * Shared nodes (several uses) stay leaves: balancing never duplicates
 * work that cse shared.  A tree is rebuilt only if that makes it
 * shallower, which is decided first on the depths alone (the same Huffman
 * pairing without nodes), so rejected trees allocate nothing.  Linear in
 * nodes plus n log n per tree.
 *
 * Requires: a compacted, valid module.  Preserves: semantics, ports.
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

typedef struct Term {
	Ref ref;
	uint32_t depth;
	int neg;          /* the term is subtracted */
	uint32_t order;   /* tie-break: position in the original tree */
} Term;

typedef struct Ctx {
	Module *m;
	uint32_t *uses;
	uint32_t *depth;
	Term *terms;      /* scratch: leaves of the current tree */
	uint32_t nterms, capterms;
	Ref *stack;
	uint32_t capstack;
	uint8_t *claimed; /* old nodes already inside some tree */
	Ref *inners;      /* scratch: inner nodes of the current tree */
	uint32_t ninners;
	Term *deep;       /* scratch: rebuilt_depth's heap */
	uint32_t capdeep;
} Ctx;

static int is_adder(const Node *n)
{
	return n->op == OP_ADD || n->op == OP_SUB || n->op == OP_NEG;
}

/* Can node a be merged into a tree whose root is `root`? */
static int inner(const Ctx *c, Ref a, const Node *root)
{
	const Node *n = ir_get(c->m, a);
	return is_adder(n) && c->uses[a] == 1 && n->ty != TY_F && n->width >= root->width &&
	       n->len == root->len;
}

static void push_term(Ctx *c, Ref r, int neg)
{
	if (c->nterms == c->capterms) {
		c->capterms = c->capterms ? 2 * c->capterms : 64;
		c->terms = xrealloc(c->terms, c->capterms * sizeof *c->terms);
	}
	c->terms[c->nterms] = (Term){r, c->depth[r], neg, c->nterms};
	c->nterms++;
}

/* Collects the signed leaves of the tree rooted at root (depth-first, left to right). */
static void collect(Ctx *c, Ref root)
{
	const Node *rn = ir_get(c->m, root);
	uint32_t sp = 0;
	c->nterms = 0;
	c->ninners = 0;
	c->stack[sp++] = root << 1;
	while (sp) {
		Ref r = c->stack[--sp] >> 1;
		int neg = c->stack[sp] & 1;
		const Node *n = ir_get(c->m, r);
		if (r != root && !inner(c, r, rn)) {
			push_term(c, r, neg);
			continue;
		}
		c->claimed[r] = 1;
		c->inners[c->ninners++] = r;
		const Ref *a = ir_args(c->m, n);
		if (n->op == OP_NEG) {
			c->stack[sp++] = a[0] << 1 | !neg;
		} else {
			c->stack[sp++] = a[1] << 1 | (neg ^ (n->op == OP_SUB));
			c->stack[sp++] = a[0] << 1 | neg;
		}
	}
}

static int term_less(const Term *a, const Term *b)
{
	return a->depth != b->depth ? a->depth < b->depth : a->order < b->order;
}

/* Binary min-heap of terms. */
static void sift_down(Term *h, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, s = i;
		if (l < n && term_less(&h[l], &h[s]))
			s = l;
		if (l + 1 < n && term_less(&h[l + 1], &h[s]))
			s = l + 1;
		if (s == i)
			return;
		Term t = h[i];
		h[i] = h[s];
		h[s] = t;
		i = s;
	}
}

static void sift_up(Term *h, uint32_t i)
{
	for (; i > 0 && term_less(&h[i], &h[(i - 1) / 2]); i = (i - 1) / 2) {
		Term t = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
	}
}

static Term pop(Term *h, uint32_t *n)
{
	Term t = h[0];
	h[0] = h[--*n];
	sift_down(h, *n, 0);
	return t;
}

static Term combine(Ctx *c, const Node *root, Term a, Term b, uint32_t order)
{
	if (a.neg && !b.neg) {
		Term t = a;
		a = b;
		b = t;
	}
	Ref args[2] = {a.ref, b.ref};
	int op = a.neg == b.neg ? OP_ADD : OP_SUB;
	Ref r = ir_node(c->m, op, root->ty, root->width, root->len, args, 2, 0, 0);
	uint32_t d = (a.depth > b.depth ? a.depth : b.depth) + 1;
	c->depth[r] = d;
	return (Term){r, d, a.neg && b.neg, order};
}

/* Depth of the Huffman rebuild of the collected terms, without building
 * it (the same pairing order as rebuild: equal depths pop in term order). */
static uint32_t rebuilt_depth(Ctx *c)
{
	uint32_t n = c->nterms;
	if (n > c->capdeep) {
		c->capdeep = n;
		c->deep = xrealloc(c->deep, n * sizeof *c->deep);
	}
	Term *h = c->deep;
	memcpy(h, c->terms, n * sizeof *h);
	for (uint32_t i = n / 2; i-- > 0;)
		sift_down(h, n, i);
	uint32_t order = n;
	while (n > 1) {
		Term a = pop(h, &n), b = pop(h, &n);
		h[n++] = (Term){0, (a.depth > b.depth ? a.depth : b.depth) + 1, 0, order++};
		sift_up(h, n - 1);
	}
	return h[0].depth;
}

/* Rebuilds the tree at root; returns the new root or NOREF if not worth it
 * (fewer than 3 terms, no positive term, or not shallower than now). */
static Ref rebuild(Ctx *c, Ref root)
{
	collect(c, root);
	Node rn = *ir_get(c->m, root);
	uint32_t n = c->nterms, pos = 0;
	for (uint32_t i = 0; i < n; i++)
		pos += !c->terms[i].neg;
	if (n < 3 || pos == 0 || rebuilt_depth(c) >= c->depth[root])
		return NOREF;
	c->m->cur_region = rn.region;
	for (uint32_t i = n / 2; i-- > 0;)
		sift_down(c->terms, n, i);
	uint32_t order = n;
	while (n > 1) {
		Term a = pop(c->terms, &n), b = pop(c->terms, &n);
		c->terms[n++] = combine(c, &rn, a, b, order++);
		sift_up(c->terms, n - 1);
	}
	return c->terms[0].ref;
}

int pass_balance(Module *m, const PassOpts *o)
{
	Ctx c = {.m = m};
	uint32_t n0 = m->nnodes;
	/* a tree of L leaves has >= L-1 adders and is rebuilt with L-1: at most
	 * n0 new nodes in all */
	c.uses = ir_uses(m);
	c.depth = xcalloc(2 * (size_t)n0 + 16, sizeof *c.depth);
	c.capstack = n0 + 16;
	c.stack = xmalloc(c.capstack * sizeof *c.stack);
	c.claimed = xcalloc(n0 + 1, 1);
	c.inners = xmalloc((n0 + 1) * sizeof *c.inners);
	Ref *map = xmalloc((2 * (size_t)n0 + 16) * sizeof *map);
	uint32_t trees = 0, before = 0, after = 0;
	/* operands before users whatever the textual order (a chain written
	 * users-first would otherwise be met leaf-first: quadratic) */
	Ref *order = xmalloc((n0 + 1) * sizeof *order);
	uint32_t nord = ir_order(m, order);
	for (Ref r = 0; r < n0; r++)
		map[r] = NOREF;
	for (uint32_t k = 0; k < nord; k++) {
		Ref r = order[k];
		const Node *n = ir_get(m, r);
		uint32_t d = 0;
		for (uint32_t i = 0; i < n->nargs && n->op != OP_REG; i++)
			d = c.depth[ir_arg(m, n, i)] > d ? c.depth[ir_arg(m, n, i)] : d;
		c.depth[r] = d + is_adder(n);
	}
	/* users after operands in order[]: walking it backwards meets every root
	 * before its tree */
	for (uint32_t k = nord; k-- > 0;) {
		Ref r = order[k];
		const Node *n = ir_get(m, r);
		if (!is_adder(n) || n->ty == TY_F || c.claimed[r] || (n->flags & NF_DEAD))
			continue;
		uint32_t first = m->nnodes;
		Ref nr = rebuild(&c, r);
		if (nr == NOREF || c.depth[nr] >= c.depth[r]) {
			for (Ref k = first; k < m->nnodes; k++)
				ir_kill(m, k);   /* not shallower: keep the original */
			continue;
		}
		before += c.depth[r];
		after += c.depth[nr];
		map[r] = nr;
		for (uint32_t i = 0; i < c.ninners; i++)
			ir_kill(m, c.inners[i]);
		trees++;
	}
	for (Ref k = n0; k < m->nnodes; k++)
		map[k] = NOREF;
	if (trees)
		ir_rewrite(m, map);
	free(c.uses);
	free(c.depth);
	free(c.stack);
	free(c.terms);
	free(c.deep);
	free(c.claimed);
	free(c.inners);
	free(map);
	free(order);
	if (o && o->log)
		fprintf(o->log, "balance: %u trees rebuilt, summed depth %u -> %u\n", trees, before, after);
	if (m->nnodes != n0)
		ir_compact(m);
	return trees != 0;
}
