/*
 * cmvm_lower.c -- replaces constant multiplications (cmul, vcmul, matvec,
 * bmatvec with integer results) by adder graphs from cmvm.c.
 *
 * Shape of the result: each needed input lane is extracted once per op
 * (`extract x, c`, one lane), every output lane is the root of its row's
 * add/sub tree of shifted lanes, and a `concat` of the output lanes in the
 * original order has exactly the original type, so consumers are unchanged.
 * `cmul x, N` stays vector-wide (shl/add/sub on the whole vector).  A matvec
 * is solved once and instantiated per group of k; a bmatvec is solved per
 * 32-column block; vcmul lanes are single constants (solutions cached per
 * distinct code).  With CMVM_K_VCSUM a vcmul whose only user is `sum g`
 * (block scales times block partial sums) is replaced together with the
 * sum by one 1 x g dot product per output lane, if no product can wrap at
 * the vcmul's width (bounds from a bmatvec operand's weights) or the sum is
 * no wider than the vcmul.  New nodes take the replaced node's region.
 * The matvec / bmatvec matrices are listed first and solved ahead on a
 * second thread (cmvm_pool.c); they are instantiated in the same order, so
 * the result is the same as solving each one when it is reached.
 *
 * Requires: a valid module.  Preserves: the value of every output, exactly.
 * Replaced nodes are killed, not removed: the caller compacts the module.
 */
#include <stdlib.h>
#include <string.h>

#include "cmvm.h"

typedef struct Lower {
	Module *m;
	int level;
	Node n;              /* copy of the node being replaced */
	Ref x;               /* its value operand */
	Ref *lanes;          /* output lanes, n.len */
	uint32_t depth;      /* max adder depth of the solutions */
	uint32_t tid;        /* tensor of the replaced node (for the log) */
	CmvmPool *pool;      /* matvec / bmatvec solutions, in order */
} Lower;

static Ref lane(Lower *L, uint32_t i)
{
	const Node *x = ir_get(L->m, L->x);
	return ir_node(L->m, OP_EXTRACT, x->ty, x->width, 1, &L->x, 1, i, 0);
}

/* Rows x cols at w (row stride), input lanes from x at lane x0 + c, output
 * lane of row r at out0 + r * ostride. */
static void lower_matrix(Lower *L, const int32_t *w, uint32_t rows, uint32_t cols,
                         size_t stride, const Cmvm *p, uint32_t x0, size_t out0, size_t ostride)
{
	Ref *in = xmalloc((cols + 1) * sizeof *in), *out = xmalloc((rows + 1) * sizeof *out);
	for (uint32_t c = 0; c < cols; c++)
		in[c] = lane(L, x0 + c);
	cmvm_emit(L->m, p, in, 1, L->n.ty, L->n.width, 0, out);
	for (uint32_t r = 0; r < rows; r++)
		L->lanes[out0 + r * ostride] = out[r];
	(void)w, (void)stride;
	free(in);
	free(out);
}

static void lower_matvec(Lower *L, const Tensor *t)
{
	uint32_t rows = t->dims[0], cols = t->dims[1];
	uint32_t k = ir_get(L->m, L->x)->len / cols;
	Cmvm p;
	cmvm_pool_take(L->pool, &p, t->codes, rows, cols);
	L->depth = cmvm_depth(&p);
	for (uint32_t j = 0; j < k; j++)
		lower_matrix(L, t->codes, rows, cols, cols, &p, j * cols, (size_t)j * rows, 1);
	cmvm_free(&p);
}

static void lower_bmatvec(Lower *L, const Tensor *t)
{
	uint32_t rows = t->dims[0], cols = t->dims[1], nb = tensor_nblocks(t);
	uint32_t k = ir_get(L->m, L->x)->len / cols;
	for (uint32_t b = 0; b < nb; b++) {
		uint32_t c0 = b * Q4_BLOCK, bc = cols - c0 < Q4_BLOCK ? cols - c0 : Q4_BLOCK;
		Cmvm p;
		cmvm_pool_take(L->pool, &p, t->codes + c0, rows, bc);
		if (cmvm_depth(&p) > L->depth)
			L->depth = cmvm_depth(&p);
		for (uint32_t j = 0; j < k; j++)
			lower_matrix(L, t->codes + c0, rows, bc, cols, &p, j * cols + c0,
			             (size_t)j * rows * nb + b, nb);
		cmvm_free(&p);
	}
}

static void lower_vcmul(Lower *L, const Tensor *t)
{
	CmvmMap memo;
	cmvm_map_init(&memo, 64);
	Cmvm *sol = NULL;
	uint32_t nsol = 0;
	for (uint32_t i = 0; i < L->n.len; i++) {
		int32_t code = t->codes[i % t->n];
		int isnew;
		uint32_t *slot = cmvm_map_get(&memo, (uint64_t)(uint32_t)code + 1, nsol, &isnew);
		if (isnew) {
			sol = xrealloc(sol, (nsol + 1) * sizeof *sol);
			cmvm_solve(&sol[nsol++], &code, 1, 1, 1, L->level);
		}
		Ref in = lane(L, i);
		cmvm_emit(L->m, &sol[*slot], &in, 1, L->n.ty, L->n.width, 0, &L->lanes[i]);
	}
	for (uint32_t i = 0; i < nsol; i++)
		cmvm_free(&sol[i]);
	free(sol);
	cmvm_map_free(&memo);
}

static Ref lower_cmul(Lower *L)
{
	Cmvm p;
	Ref out;
	cmvm_solve_const(&p, L->n.imm);
	cmvm_emit(L->m, &p, &L->x, L->n.len, L->n.ty, L->n.width, 1, &out);
	cmvm_free(&p);
	return out;
}

/* The 1 x g dot product group j of a fused vcmul + sum g uses: the codes
 * at offset (j*g) % n of T, numbered by offset / g (n % g == 0). */
static uint32_t vcsum_code(const Tensor *t, uint32_t g, uint32_t j)
{
	return (uint32_t)(((size_t)j * g % t->n) / g);
}

/* vcmul @T, x followed by sum g: lane j of the sum is the 1 x g constant
 * dot product of codes T[(j*g + b) % n] with lanes j*g + b of x; solved
 * once per distinct code offset (j*g) % n (n % g == 0) and instantiated. */
static void lower_vcsum(Lower *L, const Tensor *t, uint32_t g)
{
	uint32_t groups = L->n.len, nsol = (uint32_t)(t->n / g);
	Cmvm *sol = xcalloc(nsol ? nsol : 1, sizeof *sol);
	uint8_t *done = xcalloc(nsol ? nsol : 1, 1);
	for (uint32_t j = 0; j < groups; j++) {
		uint32_t s = vcsum_code(t, g, j);
		if (!done[s]) {   /* listed by plan_matrices in this order */
			cmvm_pool_take(L->pool, &sol[s], t->codes + (size_t)s * g, 1, g);
			done[s] = 1;
			if (cmvm_depth(&sol[s]) > L->depth)
				L->depth = cmvm_depth(&sol[s]);
		}
		lower_matrix(L, NULL, 1, g, 0, &sol[s], j * g, j, 1);
	}
	for (uint32_t s = 0; s < nsol; s++)
		if (done[s])
			cmvm_free(&sol[s]);
	free(sol);
	free(done);
}

/* Bound on |lane i| of node x: from a bmatvec's weights and its input's
 * type (sum of |w| over the block times max |input|), else x's type. */
static __int128 lane_bound(const Module *m, const Node *x, size_t i)
{
	__int128 lo = ty_min(x->ty, x->width), hi = ty_max(x->ty, x->width);
	__int128 b = -lo > hi ? -lo : hi;
	if (x->op != OP_BMATVEC)
		return b;
	const Node *in = ir_get(m, ir_arg(m, x, 0));
	const Tensor *t = ir_tget(m, x->aux);
	uint32_t rows = t->dims[0], cols = t->dims[1], nb = tensor_nblocks(t);
	__int128 ilo = ty_min(in->ty, in->width), ihi = ty_max(in->ty, in->width);
	__int128 mx = -ilo > ihi ? -ilo : ihi, s = 0;
	size_t r = i / nb % rows, blk = i % nb;
	for (size_t c = blk * Q4_BLOCK; c < cols && c < (blk + 1) * Q4_BLOCK; c++)
		s += (__int128)abs(t->codes[r * cols + c]) * mx;
	return s < b ? s : b;
}

/* Whether vcmul v (sole operand of `sum g` node s) can be fused: codes in
 * groups (n % g == 0) and no product can wrap at the vcmul's width, so the
 * sum of exact products wrapped at the sum's width is the same value (or
 * the sum is no wider than the vcmul: wrapping twice is wrapping once). */
static int fusable(const Module *m, const Node *v, const Node *s)
{
	if (s->imm < 2 || s->ty == TY_F)
		return 0;
	const Tensor *t = ir_tget(m, v->aux);
	if (t->n % (uint64_t)s->imm)
		return 0;
	if (s->width <= v->width)
		return 1;
	const Node *x = ir_get(m, ir_arg(m, v, 0));
	__int128 vlo = ty_min(v->ty, v->width), vhi = ty_max(v->ty, v->width);
	size_t n = t->n;     /* the bounds repeat with the codes' period ... */
	if (x->op == OP_BMATVEC) {
		const Tensor *w = ir_tget(m, x->aux);
		if ((size_t)w->dims[0] * tensor_nblocks(w) != t->n)
			n = v->len;  /* ... unless the bmatvec's period differs */
	}
	for (size_t i = 0; i < n && i < v->len; i++) {
		__int128 b = lane_bound(m, x, i) * abs(t->codes[i % t->n]);
		if (-b < vlo || b > vhi)
			return 0;
	}
	return 1;
}

/* fuse[v] = the sum node that absorbs vcmul v (NOREF: none). */
static Ref *find_fused(const Module *m, uint32_t n0)
{
	uint32_t *uses = xcalloc(n0 + 1, sizeof *uses);
	Ref *fuse = xmalloc((n0 + 1) * sizeof *fuse);
	memset(fuse, 0xff, (n0 + 1) * sizeof *fuse);
	for (Ref r = 0; r < n0; r++) {
		const Node *n = ir_get(m, r);
		for (uint32_t i = 0; i < n->nargs; i++)
			uses[ir_arg(m, n, i)]++;
	}
	for (Ref r = 0; r < n0; r++) {
		const Node *s = ir_get(m, r);
		if (s->op != OP_SUM || (s->flags & NF_DEAD))
			continue;
		Ref v = ir_arg(m, s, 0);
		const Node *vn = ir_get(m, v);
		if (vn->op == OP_VCMUL && !(vn->flags & NF_DEAD) && vn->ty != TY_F && uses[v] == 1 &&
		    tensor_has_codes(ir_tget(m, vn->aux)) && fusable(m, vn, s))
			fuse[v] = r;
	}
	free(uses);
	return fuse;
}

static int kind_of(const Module *m, const Node *n)
{
	if (n->ty == TY_F || (n->flags & NF_DEAD))
		return 0;
	if (n->op == OP_CMUL)
		return CMVM_K_CMUL;
	int k = n->op == OP_VCMUL ? CMVM_K_VCMUL : n->op == OP_MATVEC ? CMVM_K_MATVEC
	      : n->op == OP_BMATVEC ? CMVM_K_BMATVEC : 0;
	return k && tensor_has_codes(ir_tget(m, n->aux)) ? k : 0;
}

/* One log line per replaced matvec / bmatvec / vcmul (/ fused vcmul+sum):
 * op, tensor, shape, lanes, adders and negations created (lanes counted),
 * non-zero weights, adder depth, fa_bits (sum of adder widths before the
 * width pass narrows them). */
static void log_node(Lower *L, FILE *log, const char *name, uint32_t n0)
{
	Module *m = L->m;
	uint64_t add = 0, fa = 0;
	for (Ref r = n0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (n->op == OP_ADD || n->op == OP_SUB || n->op == OP_NEG) {
			add += n->len;
			fa += (uint64_t)n->len * n->width;
		}
	}
	const Tensor *t = ir_tget(m, L->tid);
	size_t nz = 0;
	for (size_t i = 0; i < t->n; i++)
		nz += t->codes[i] != 0;
	fprintf(log, "%s:   %s%s %s %ux%u lanes %u: %llu adders, %zu nonzero, depth %u, "
	        "fa_bits %llu\n", name, L->n.op == OP_SUM ? "vcmul+" : "", op_info[L->n.op].name,
	        m->strs[t->name], t->dims[0], t->dims[1], L->n.len, (unsigned long long)add, nz,
	        L->depth, (unsigned long long)fa);
}

/* Replaces node r; returns its replacement. */
static Ref lower_node(Lower *L, Ref r, int kind)
{
	Module *m = L->m;
	L->n = *ir_get(m, r);
	L->depth = 0;
	L->x = ir_arg(m, &L->n, 0);
	m->cur_region = L->n.region;
	if (kind == CMVM_K_CMUL)
		return lower_cmul(L);
	if (kind == CMVM_K_VCSUM) {   /* r is the sum; its operand the vcmul */
		const Node *v = ir_get(m, L->x);
		const Tensor *t = ir_tget(m, v->aux);
		L->tid = v->aux;
		L->x = ir_arg(m, v, 0);
		L->lanes = xmalloc((size_t)L->n.len * sizeof *L->lanes);
		lower_vcsum(L, t, (uint32_t)L->n.imm);
		Ref c = ir_node(m, OP_CONCAT, L->n.ty, L->n.width, L->n.len, L->lanes, L->n.len, 0, 0);
		free(L->lanes);
		return c;
	}
	const Tensor *t = ir_tget(m, L->n.aux);
	L->tid = L->n.aux;
	L->lanes = xmalloc((size_t)L->n.len * sizeof *L->lanes);
	if (kind == CMVM_K_VCMUL)
		lower_vcmul(L, t);
	else if (kind == CMVM_K_MATVEC)
		lower_matvec(L, t);
	else
		lower_bmatvec(L, t);
	Ref c = ir_node(m, OP_CONCAT, L->n.ty, L->n.width, L->n.len, L->lanes, L->n.len, 0, 0);
	free(L->lanes);
	return c;
}

/* Points every user of a replaced node r < n0 at map[r] and kills the
 * replaced nodes and the vcmuls fused into them; returns the number of
 * add / sub / neg nodes created (nodes >= n0). */
static uint32_t replace_all(Module *m, const Ref *map, const Ref *fuse, uint32_t n0)
{
	Ref *full = xmalloc((size_t)m->nnodes * sizeof *full);
	memset(full, 0xff, (size_t)m->nnodes * sizeof *full);
	memcpy(full, map, (size_t)n0 * sizeof *map);
	ir_rewrite(m, full);
	for (Ref r = 0; r < n0; r++)
		if (map[r] != NOREF || (fuse && fuse[r] != NOREF && map[fuse[r]] != NOREF))
			ir_kill(m, r);
	uint32_t adders = 0;
	for (Ref r = n0; r < m->nnodes; r++) {
		int op = ir_get(m, r)->op;
		adders += op == OP_ADD || op == OP_SUB || op == OP_NEG;
	}
	free(full);
	return adders;
}

/* How cmvm_lower replaces node r (0: it does not). */
static int lower_kind(const Module *m, Ref r, const Ref *fuse, unsigned ops)
{
	const Node *n = ir_get(m, r);
	int kind = kind_of(m, n);
	if (fuse && kind == CMVM_K_VCMUL && fuse[r] != NOREF)
		return 0;   /* done with its sum */
	if (fuse && n->op == OP_SUM && fuse[ir_arg(m, n, 0)] == r)
		kind = CMVM_K_VCSUM;
	return kind & (int)ops ? kind : 0;
}

/* Lists the 1 x g dot products lower_vcsum will take (sum node r), in
 * order: each distinct code offset at its first group. */
static void plan_vcsum(Lower *L, Ref r)
{
	const Node *n = ir_get(L->m, r);
	const Tensor *t = ir_tget(L->m, ir_get(L->m, ir_arg(L->m, n, 0))->aux);
	uint32_t g = (uint32_t)n->imm, nsol = (uint32_t)(t->n / g);
	uint8_t *seen = xcalloc(nsol ? nsol : 1, 1);
	for (uint32_t j = 0; j < n->len; j++) {
		uint32_t s = vcsum_code(t, g, j);
		if (!seen[s])
			cmvm_pool_add(L->pool, t->codes + (size_t)s * g, 1, g, g, L->level);
		seen[s] = 1;
	}
	free(seen);
}

/* Lists the matrices lower_matvec / lower_bmatvec / lower_vcsum will take,
 * in order (they are solved on both threads: the scales' dot products of
 * the pusht predict-step alone are 40k solves, 11 s). */
static void plan_matrices(Lower *L, const Ref *fuse, unsigned ops, uint32_t n0)
{
	for (Ref r = 0; r < n0; r++) {
		int kind = lower_kind(L->m, r, fuse, ops);
		if (kind == CMVM_K_VCSUM)
			plan_vcsum(L, r);
		if (kind != CMVM_K_MATVEC && kind != CMVM_K_BMATVEC)
			continue;
		const Tensor *t = ir_tget(L->m, ir_get(L->m, r)->aux);
		uint32_t rows = t->dims[0], cols = t->dims[1];
		if (kind == CMVM_K_MATVEC) {
			cmvm_pool_add(L->pool, t->codes, rows, cols, cols, L->level);
			continue;
		}
		for (uint32_t c0 = 0; c0 < cols; c0 += Q4_BLOCK)
			cmvm_pool_add(L->pool, t->codes + c0, rows,
			              cols - c0 < Q4_BLOCK ? cols - c0 : Q4_BLOCK, cols, L->level);
	}
}

uint32_t cmvm_lower(Module *m, unsigned ops, int level, FILE *log, FILE *vlog, const char *name)
{
	uint32_t n0 = m->nnodes, done = 0, region = m->cur_region;
	Ref *map = xmalloc(((size_t)n0 + 1) * sizeof *map);
	memset(map, 0xff, ((size_t)n0 + 1) * sizeof *map);
	Lower L = {m, level, {0}, NOREF, NULL, 0, 0, cmvm_pool_new()};
	Ref *fuse = ops & CMVM_K_VCSUM ? find_fused(m, n0) : NULL;
	plan_matrices(&L, fuse, ops, n0);
	cmvm_pool_start(L.pool);
	for (Ref r = 0; r < n0; r++) {
		int kind = lower_kind(m, r, fuse, ops);
		if (!kind)
			continue;
		uint32_t nn = m->nnodes;
		map[r] = lower_node(&L, r, kind);
		if (vlog && kind != CMVM_K_CMUL)
			log_node(&L, vlog, name, nn);
		done++;
	}
	m->cur_region = region;
	cmvm_pool_free(L.pool);
	uint32_t adders = done ? replace_all(m, map, fuse, n0) : 0;
	free(fuse);
	free(map);
	if (log && !done)
		fprintf(log, "%s: no constant multiplications\n", name);
	else if (log)
		fprintf(log, "%s: %u constant multiplications -> %u adders (level %d%s)\n",
		        name, done, adders, level & 0xff, level >> 8 ? ", depth-bounded" : "");
	return done;
}
