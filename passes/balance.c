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
 * nodes plus a sort of each tree's leaves by depth (linear when their
 * depths span little).
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
	Term *deep;       /* scratch: huffman's two queues */
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

static int term_cmp(const void *x, const void *y)
{
	return term_less(x, y) ? -1 : term_less(y, x);
}

/* Sorts the collected terms by (depth, order) into out[]: by insertion when
 * few, by counting their depths when those span little, else qsort. */
static void sort_terms(const Term *t, uint32_t n, Term *out)
{
	uint32_t lo = UINT32_MAX, hi = 0;
	for (uint32_t i = 0; i < n; i++) {
		lo = t[i].depth < lo ? t[i].depth : lo;
		hi = t[i].depth > hi ? t[i].depth : hi;
	}
	if (n <= 32 || hi - lo > 2 * n) {
		memcpy(out, t, n * sizeof *out);
		if (n > 32) {
			qsort(out, n, sizeof *out, term_cmp);
			return;
		}
		for (uint32_t i = 1; i < n; i++)
			for (uint32_t j = i; j > 0 && term_less(&out[j], &out[j - 1]); j--) {
				Term s = out[j];
				out[j] = out[j - 1];
				out[j - 1] = s;
			}
		return;
	}
	/* terms are in order already (order == index): a stable count by depth */
	uint32_t *at = xcalloc((size_t)(hi - lo) + 2, sizeof *at);
	for (uint32_t i = 0; i < n; i++)
		at[t[i].depth - lo + 1]++;
	for (uint32_t d = 1; d <= hi - lo; d++)
		at[d] += at[d - 1];
	for (uint32_t i = 0; i < n; i++)
		out[at[t[i].depth - lo]++] = t[i];
	free(at);
}

/* The shallowest term at the heads of the two sorted queues. */
static Term take(const Term *q1, uint32_t *i1, uint32_t n1, const Term *q2, uint32_t *i2,
                 uint32_t n2)
{
	if (*i1 < n1 && (*i2 == n2 || term_less(&q1[*i1], &q2[*i2])))
		return q1[(*i1)++];
	return q2[(*i2)++];
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

/*
 * Huffman pairing of the collected terms: the two shallowest (ties by
 * order; new terms take orders after every leaf) are combined until one is
 * left, which is returned.  Builds the adders when root is given, else only
 * counts depths (rebuild's test, allocating no node).  The leaves, sorted
 * once, are one queue; the combined terms are another, which stays sorted
 * by itself (each is deeper than both it combines, and terms are popped in
 * rising depth), so the pair is always at the two heads: linear after the
 * sort, where a heap of a 1M-term chain missed the cache on every level.
 */
static Term huffman(Ctx *c, const Node *root)
{
	uint32_t n = c->nterms;
	if (2 * n > c->capdeep) {
		c->capdeep = 2 * n;
		c->deep = xrealloc(c->deep, c->capdeep * sizeof *c->deep);
	}
	Term *q1 = c->deep, *q2 = c->deep + n;
	sort_terms(c->terms, n, q1);
	uint32_t i1 = 0, i2 = 0, n2 = 0, order = n;
	while ((n - i1) + (n2 - i2) > 1) {
		Term a = take(q1, &i1, n, q2, &i2, n2);
		Term b = take(q1, &i1, n, q2, &i2, n2);
		q2[n2++] = root ? combine(c, root, a, b, order++)
		                : (Term){0, (a.depth > b.depth ? a.depth : b.depth) + 1, 0, order++};
	}
	return i1 < n ? q1[i1] : q2[i2];
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
	if (n < 3 || pos == 0 || huffman(c, NULL).depth >= c->depth[root])
		return NOREF;
	c->m->cur_region = rn.region;
	return huffman(c, &rn).ref;
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
