/*
 * zero.c -- zero elimination: constant multiplications by zero become
 * constant zeros, and the zero structure of weight tensors is reported.
 *
 * Rewrites (each node replaced by `const 0` of its own type and lanes):
 *   - `cmul x, 0`;
 *   - matvec / bmatvec / vcmul with an integer result whose tensor's codes
 *     are all zero (absent layers, fully pruned matrices).
 * Zero weights inside a matrix cost nothing downstream: strength-reduce
 * and cse make no term for them, so all-zero rows and absent Q4 blocks
 * (a row's 32 codes of one block all zero) become `const 0` lanes there;
 * this pass counts them (zero weights, zero rows, absent blocks) for
 * --stats.  Input ports are never removed (they are the interface);
 * unused extracted lanes are left to dce.
 *
 * Requires: a valid module.  Preserves: every output bit for bit.
 * Complexity: O(nodes + weights of the tensors used).
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

typedef struct ZeroStats {
	uint64_t weights, zeros, rows, zero_rows, blocks, absent_blocks;
} ZeroStats;

/* Counts zeros of t; returns 1 if every code is zero. */
static int tensor_zeros(const Tensor *t, ZeroStats *z)
{
	uint32_t rows = t->dims[0], cols = t->dims[1];
	uint64_t before = z->zeros;
	for (uint32_t r = 0; r < rows; r++) {
		uint32_t nz_row = 0;
		for (uint32_t c0 = 0; c0 < cols; c0 += Q4_BLOCK) {
			uint32_t nz = 0, c1 = c0 + Q4_BLOCK < cols ? c0 + Q4_BLOCK : cols;
			for (uint32_t c = c0; c < c1; c++)
				nz += t->codes[(size_t)r * cols + c] != 0;
			z->zeros += c1 - c0 - nz;
			z->blocks += t->kind == TK_Q4;
			z->absent_blocks += t->kind == TK_Q4 && nz == 0;
			nz_row += nz;
		}
		z->zero_rows += nz_row == 0;
	}
	z->rows += rows;
	z->weights += t->n;
	return z->zeros - before == t->n;
}

static int is_zero_op(const Module *m, const Node *n, ZeroStats *z)
{
	if (n->ty == TY_F || (n->flags & NF_DEAD))
		return 0;
	if (n->op == OP_CMUL)
		return n->imm == 0;
	if (n->op != OP_MATVEC && n->op != OP_BMATVEC && n->op != OP_VCMUL)
		return 0;
	const Tensor *t = ir_tget(m, n->aux);
	return tensor_has_codes(t) && tensor_zeros(t, z);
}

int pass_zero(Module *m, const PassOpts *o)
{
	ZeroStats z = {0};
	uint32_t n0 = m->nnodes, replaced = 0, region = m->cur_region;
	Ref *map = NULL;
	for (Ref r = 0; r < n0; r++) {
		if (!is_zero_op(m, ir_get(m, r), &z))
			continue;
		Node n = *ir_get(m, r);
		if (!map) {
			map = xmalloc((size_t)n0 * 2 * sizeof *map);
			memset(map, 0xff, (size_t)n0 * 2 * sizeof *map);
		}
		m->cur_region = n.region;
		map[r] = ir_node(m, OP_CONST, n.ty, n.width, n.len, NULL, 0, 0, 0);
		replaced++;
	}
	m->cur_region = region;
	if (map) {
		ir_rewrite(m, map);
		for (Ref r = 0; r < n0; r++)
			if (map[r] != NOREF)
				ir_kill(m, r);
		ir_compact(m);
		free(map);
	}
	if (o && o->log)
		fprintf(o->log, "zero-elim: %u ops replaced by const 0; weights %llu, zero %llu, "
		        "zero rows %llu of %llu, absent Q4 blocks %llu of %llu\n", replaced,
		        (unsigned long long)z.weights, (unsigned long long)z.zeros,
		        (unsigned long long)z.zero_rows, (unsigned long long)z.rows,
		        (unsigned long long)z.absent_blocks, (unsigned long long)z.blocks);
	return replaced != 0;
}
