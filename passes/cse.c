/*
 * cse.c -- common sub-expression elimination: (1) extraction of sub-sums
 * shared between the rows of constant matrices, (2) hash-consing.
 *
 * (1) Every integer matvec / bmatvec is solved by cmvm.c at level
 * CMVM_SHARE: the weights' CSD digits become terms (column, shift, sign);
 * cmvm_greedy.c repeatedly turns the most frequent pair pattern across rows
 * into one shared adder (da4ml's greedy; counts kept exactly in a hash map
 * with bucket lists, updated incrementally); each row's remaining terms
 * become a depth-balanced tree.  A bmatvec is solved per 32-column block;
 * big matrices are cut into column chunks of at most max(24, sqrt(2^19 /
 * rows)) digits per row, which bounds the work per weight.  Cost model:
 * two-input adders; ties go to the shallower, then narrower adder.
 *
 * (2) Hash-consing: nodes with the same op, type, lane count, operands
 * (commutative ops: as an unordered pair), imm and aux are merged, in one
 * pass in topological order over an open-addressing table: linear time.
 * Ports, registers and constants with side meaning (input, output, reg)
 * are never merged.
 *
 * Requires: a valid module.  Preserves: every output bit for bit.
 */
#include <stdlib.h>
#include <string.h>

#include "cmvm.h"
#include "passes.h"

typedef struct Cons {
	Ref *table;
	uint32_t cap;
} Cons;

static int mergeable(const Node *n)
{
	return !(n->flags & NF_DEAD) && n->op != OP_INPUT && n->op != OP_OUTPUT && n->op != OP_REG;
}

/* A commutative two-operand node: hashed and compared with its operands as
 * an unordered pair.  Their order is left as it is, so that cse applied to
 * its own output (renumbered by ir_compact) changes nothing. */
static int comm2(const Node *n)
{
	return (op_info[n->op].flags & OPF_COMM) && n->nargs == 2;
}

/* (Before operands are mapped: also used to prefetch the table slot.) */
static uint64_t node_hash(const Module *m, const Node *n)
{
	uint64_t h = hash_mix(n->op, (uint64_t)n->ty << 8 | n->width);
	h = hash_mix(h, n->len);
	h = hash_mix(h, (uint64_t)n->imm);
	h = hash_mix(h, n->aux);
	const Ref *a = ir_args(m, n);
	if (comm2(n) && a[0] > a[1])
		return hash_mix(hash_mix(h, a[1]), a[0]);
	for (uint32_t i = 0; i < n->nargs; i++)
		h = hash_mix(h, a[i]);
	return h;
}

static int node_same(const Module *m, const Node *a, const Node *b)
{
	if (a->op != b->op || a->ty != b->ty || a->width != b->width || a->len != b->len ||
	    a->imm != b->imm || a->aux != b->aux || a->nargs != b->nargs)
		return 0;
	const Ref *x = ir_args(m, a), *y = ir_args(m, b);
	if (comm2(a) && x[0] == y[1] && x[1] == y[0])
		return 1;
	return memcmp(x, y, a->nargs * sizeof(Ref)) == 0;
}

enum { CONS_PF = 8 };   /* nodes ahead whose table slot is prefetched */

/* The table holds (hash tag << 32 | ref), so a probe touches the candidate
 * node only when the upper hash bits agree: about one cache miss per node,
 * hidden by prefetching the slot of node r + CONS_PF. */
static uint32_t hashcons(Module *m)
{
	uint32_t cap = 16, merged = 0;
	while (cap < 2 * m->nnodes + 2)
		cap *= 2;
	uint64_t *table = xmalloc(cap * sizeof *table);
	Ref *map = xmalloc((m->nnodes + 1) * sizeof *map);
	memset(table, 0xff, cap * sizeof *table);
	memset(map, 0xff, (m->nnodes + 1) * sizeof *map);
	for (Ref r = 0; r < m->nnodes; r++) {
		if (r + CONS_PF < m->nnodes && mergeable(ir_get(m, r + CONS_PF)))
			__builtin_prefetch(&table[node_hash(m, ir_get(m, r + CONS_PF)) & (cap - 1)]);
		Node *n = ir_get(m, r);
		Ref *a = ir_args(m, n);
		for (uint32_t i = 0; i < n->nargs; i++)   /* (reg operands may follow) */
			if (map[a[i]] != NOREF)
				a[i] = map[a[i]];
		if (!mergeable(n))
			continue;
		uint64_t h = node_hash(m, n), tag = h >> 32 << 32;
		uint32_t s = (uint32_t)h & (cap - 1);
		for (; table[s] != UINT64_MAX; s = (s + 1) & (cap - 1))
			if ((table[s] & ~0xffffffffull) == tag &&
			    node_same(m, ir_get(m, (Ref)table[s]), n))
				break;
		if (table[s] == UINT64_MAX) {
			table[s] = tag | r;
		} else {
			map[r] = (Ref)table[s];
			ir_kill(m, r);
			merged++;
		}
	}
	if (merged)
		ir_rewrite(m, map);
	free(table);
	free(map);
	return merged;
}

int pass_cse(Module *m, const PassOpts *o)
{
	FILE *log = o ? o->log : NULL;
	int level = CMVM_LEVEL(o && o->olevel >= 3 ? CMVM_WIDE : CMVM_SHARE,
	                       o ? o->max_adder_depth : 0);
	uint32_t k = cmvm_lower(m, CMVM_K_MATVEC | CMVM_K_BMATVEC | CMVM_K_VCSUM, level, log,
	                        o ? o->vlog : NULL, "cse");
	uint32_t merged = hashcons(m);   /* (skips the nodes cmvm_lower killed) */
	if (k || merged)
		ir_compact(m);                /* once for both steps */
	if (log)
		fprintf(log, "cse: merged %u identical nodes\n", merged);
	return k || merged;
}
