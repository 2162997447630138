/*
 * ir.c -- modules, nodes, tensors and interned strings.
 *
 * Nodes are appended to one growable array and addressed by index; operand
 * lists are appended to one shared pool.  Passes never free a node: they mark
 * it dead (ir_kill) or redirect its users (ir_rewrite), and ir_compact()
 * later drops the dead, restores a topological order and renumbers.
 *
 * Strings are interned in an open-addressing hash table so that a string id
 * compares equal iff the strings do; id 0 is always "".
 */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

const OpInfo op_info[OP_COUNT] = {
#define X(e, s, sig, f, c) [OP_##e] = {s, sig, f, c},
	JEPAC_OPS(X)
#undef X
};

int op_lookup(const char *name)
{
	for (int i = 0; i < OP_COUNT; i++)
		if (strcmp(op_info[i].name, name) == 0)
			return i;
	return -1;
}

Module *ir_new(const char *name)
{
	Module *m = xcalloc(1, sizeof *m);
	ir_str(m, "");
	m->name = ir_str(m, name ? name : "");
	return m;
}

void ir_free(Module *m)
{
	if (!m)
		return;
	free(m->nodes);
	free(m->argv);
	free(m->tensors);
	free(m->strs);
	free(m->strhash);
	arena_free(&m->arena);
	free(m);
}

static void strhash_grow(Module *m)
{
	uint32_t cap = m->capstrhash ? m->capstrhash * 2 : 256;
	uint32_t *h = xmalloc(cap * sizeof *h);
	memset(h, 0xff, cap * sizeof *h);
	for (uint32_t id = 0; id < m->nstrs; id++) {
		const char *s = m->strs[id];
		uint32_t i = (uint32_t)hash_bytes(s, strlen(s), 0) & (cap - 1);
		while (h[i] != UINT32_MAX)
			i = (i + 1) & (cap - 1);
		h[i] = id;
	}
	free(m->strhash);
	m->strhash = h;
	m->capstrhash = cap;
}

uint32_t ir_strn(Module *m, const char *s, size_t n)
{
	if (2 * (m->nstrs + 1) > m->capstrhash)
		strhash_grow(m);
	uint32_t mask = m->capstrhash - 1;
	uint32_t i = (uint32_t)hash_bytes(s, n, 0) & mask;
	for (; m->strhash[i] != UINT32_MAX; i = (i + 1) & mask) {
		const char *t = m->strs[m->strhash[i]];
		if (strncmp(t, s, n) == 0 && t[n] == 0)
			return m->strhash[i];
	}
	if (m->nstrs == m->capstrs) {
		m->capstrs = m->capstrs ? m->capstrs * 2 : 64;
		m->strs = xrealloc(m->strs, m->capstrs * sizeof *m->strs);
	}
	char *copy = arena_alloc(&m->arena, n + 1);
	memcpy(copy, s, n);
	m->strs[m->nstrs] = copy;
	m->strhash[i] = m->nstrs;
	return m->nstrs++;
}

uint32_t ir_str(Module *m, const char *s)
{
	return ir_strn(m, s, strlen(s));
}

void ir_set_region(Module *m, const char *dotted)
{
	m->cur_region = dotted ? ir_str(m, dotted) : 0;
}

Ref ir_node(Module *m, int op, int ty, int width, uint32_t len,
            const Ref *args, uint32_t nargs, int64_t imm, uint32_t aux)
{
	if (m->nnodes == m->capnodes) {
		if (m->capnodes >= UINT32_MAX / 2)
			die("too many nodes");
		m->capnodes = m->capnodes ? m->capnodes * 2 : 256;
		m->nodes = xrealloc(m->nodes, (size_t)m->capnodes * sizeof *m->nodes);
	}
	if (m->nargv + nargs > m->capargv) {
		/* args may point into the pool itself: keep it valid across realloc */
		int inside = args && m->argv && args >= m->argv && args < m->argv + m->nargv;
		size_t at = inside ? (size_t)(args - m->argv) : 0;
		while (m->nargv + nargs > m->capargv)
			m->capargv = m->capargv ? m->capargv * 2 : 1024;
		m->argv = xrealloc(m->argv, m->capargv * sizeof *m->argv);
		if (inside)
			args = m->argv + at;
	}
	if (m->nargv + nargs > UINT32_MAX)
		die("operand pool overflow");
	Node *n = &m->nodes[m->nnodes];
	n->op = (uint8_t)op;
	n->ty = (uint8_t)ty;
	n->width = (uint8_t)(ty == TY_F ? 64 : width);
	n->flags = 0;
	n->len = len;
	n->args = (uint32_t)m->nargv;
	n->nargs = nargs;
	n->imm = imm;
	n->aux = aux;
	n->region = m->cur_region;
	if (nargs)
		memcpy(&m->argv[m->nargv], args, nargs * sizeof *args);
	if (m->tokens && op != OP_INPUT) {   /* the rate, once the operands exist */
		uint32_t k = 0;             /* (a reg closing a loop: ir_compact sets it) */
		while (k < nargs && args[k] < m->nnodes)
			k++;
		int rate = k == nargs ? ir_rate_of(m, m->nnodes) : 0;
		n->flags = (uint8_t)(rate > 0 ? rate : 0);
	}
	m->nargv += nargs;
	return m->nnodes++;
}

uint32_t tensor_nblocks(const Tensor *t)
{
	return (t->dims[1] + Q4_BLOCK - 1) / Q4_BLOCK;
}

uint32_t ir_tensor(Module *m, const char *name, int kind, int ndim,
                   uint32_t rows, uint32_t cols)
{
	if (m->ntensors == m->captensors) {
		m->captensors = m->captensors ? m->captensors * 2 : 16;
		m->tensors = xrealloc(m->tensors, m->captensors * sizeof *m->tensors);
	}
	Tensor *t = &m->tensors[m->ntensors];
	memset(t, 0, sizeof *t);
	t->name = ir_str(m, name);
	t->kind = (uint8_t)kind;
	t->ndim = (uint8_t)ndim;
	t->dims[0] = rows;
	t->dims[1] = ndim == 1 ? 1 : cols;
	t->n = (size_t)t->dims[0] * t->dims[1];
	switch (kind) {
	case TK_Q4:
		t->codes = arena_alloc(&m->arena, t->n * sizeof *t->codes);
		t->scales = arena_alloc(&m->arena, (size_t)rows * tensor_nblocks(t) * sizeof *t->scales);
		break;
	case TK_I8:
		t->codes = arena_alloc(&m->arena, t->n * sizeof *t->codes);
		t->scales = arena_alloc(&m->arena, (size_t)rows * sizeof *t->scales);
		break;
	case TK_INT:
		t->codes = arena_alloc(&m->arena, t->n * sizeof *t->codes);
		break;
	default:
		t->reals = arena_alloc(&m->arena, t->n * sizeof *t->reals);
		break;
	}
	return m->ntensors++;
}

int tensor_has_codes(const Tensor *t)
{
	return t->kind == TK_INT || t->kind == TK_Q4 || t->kind == TK_I8;
}

double tensor_real(const Tensor *t, size_t i)
{
	size_t r = i / t->dims[1], c = i % t->dims[1];
	switch (t->kind) {
	case TK_Q4:
		return t->codes[i] * (double)t->scales[r * tensor_nblocks(t) + c / Q4_BLOCK];
	case TK_I8:
		return t->codes[i] * (double)t->scales[r];
	case TK_INT:
		return t->codes[i] * __builtin_ldexp(1.0, -t->frac);
	default:
		return t->reals[i];
	}
}

int64_t ty_min(int ty, int width)
{
	if (ty == TY_U)
		return 0;
	return width >= 64 ? INT64_MIN : -((int64_t)1 << (width - 1));
}

int64_t ty_max(int ty, int width)
{
	if (ty == TY_U)
		return width >= 63 ? INT64_MAX : ((int64_t)1 << width) - 1;
	return width >= 64 ? INT64_MAX : ((int64_t)1 << (width - 1)) - 1;
}

int64_t ty_wrap(int ty, int width, int64_t v)
{
	if (width >= 64)
		return v;
	uint64_t u = (uint64_t)v & (((uint64_t)1 << width) - 1);
	if (ty == TY_S && (u >> (width - 1)) & 1)
		u |= ~(uint64_t)0 << width;
	return (int64_t)u;
}

int ty_fits(int ty, int width, int64_t v)
{
	return v >= ty_min(ty, width) && v <= ty_max(ty, width);
}

void ir_print_type(FILE *f, const Node *n)
{
	if (n->ty == TY_F)
		fputs("f64", f);
	else
		fprintf(f, "%c%u", n->ty == TY_S ? 's' : 'u', n->width);
	if (n->len != 1)
		fprintf(f, "x%u", n->len);
}

void ir_kill(Module *m, Ref r)
{
	m->nodes[r].flags |= NF_DEAD;
}

void ir_rewrite(Module *m, const Ref *map)
{
	for (size_t i = 0; i < m->nargv; i++) {
		Ref a = m->argv[i];
		uint32_t guard = 0;
		while (map[a] != NOREF && map[a] != a) {
			a = map[a];
			if (++guard > m->nnodes)
				die("cycle in rewrite map");
		}
		m->argv[i] = a;
	}
}

IrAdj *ir_adj(const Module *m, int through_regs)
{
	IrAdj *adj = xmalloc(((size_t)m->nnodes + 1) * sizeof *adj);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = &m->nodes[r];
		uint32_t k = (n->op == OP_REG && !through_regs) || (n->flags & NF_DEAD) ? 0 : n->nargs;
		adj[r] = (IrAdj){{k > 0 ? ir_arg(m, n, 0) : NOREF, k > 1 ? ir_arg(m, n, 1) : NOREF}, k};
	}
	return adj;
}

uint32_t *ir_uses(const Module *m)
{
	uint32_t *uses = xcalloc(m->nnodes ? m->nnodes : 1, sizeof *uses);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = &m->nodes[r];
		if (n->flags & NF_DEAD)
			continue;
		for (uint32_t i = 0; i < n->nargs; i++)
			uses[ir_arg(m, n, i)]++;
	}
	return uses;
}

/*
 * Topological order by iterative depth-first search: input ports come
 * first in their declaration order, then nodes are visited in
 * index order and each emits its operands first, so an order that is
 * already topological is kept unchanged.  Registers are ordered after their
 * operands too when the graph has no feedback loop; with one, operands of a
 * reg are not followed (the register closes the cycle).
 */
enum { T_UNSEEN, T_OPEN, T_DONE, T_DEAD };
#define T_CLOSE (1u << 31)   /* stack marker (nnodes <= 2^31) */

/* The search from one root, appending to order[*k]; 0, or -1 when it meets
 * a loop through a register (through_regs).  Entering a node pushes a
 * marker that places it, then its operands (last first, so the first is
 * entered first: the order of a recursive search). */
static int dfs_from(const Module *m, const IrAdj *adj, uint8_t *state, Ref *stack, Ref root,
                    Ref *order, uint32_t *k, int through_regs)
{
	size_t sp = 0;
	stack[sp++] = root;
	while (sp) {
		Ref r = stack[--sp];
		if (r & T_CLOSE) {
			state[r & ~T_CLOSE] = T_DONE;
			order[(*k)++] = r & ~T_CLOSE;
			continue;
		}
		if (state[r] != T_UNSEEN)   /* entered by another path meanwhile */
			continue;
		state[r] = T_OPEN;
		stack[sp++] = r | T_CLOSE;
		for (uint32_t j = adj[r].n; j-- > 0;) {
			Ref a = ir_adj_arg(m, &adj[r], r, j);
			if (state[a] == T_UNSEEN) {
				stack[sp++] = a;
			} else if (state[a] == T_OPEN) {
				if (through_regs)   /* a loop through a register */
					return -1;
				die("combinational cycle through node %u", a);
			}
		}
	}
	return 0;
}

/* The nodes no output reaches (dead code not yet removed), placed by
 * dfs_from in order[k..n) (operands first among themselves), are merged
 * into the searched order[0..k): each right after the last place of its
 * operands (an operand in the rest counts by its own place), so that it
 * reads them from near by.  Appended after every searched node instead,
 * they read operands from all over the module (a cache miss per read at
 * 1M nodes: wide/rand in bench/scaling).  None goes before the input ports
 * (order[0..nin)).  The stable counting sort keeps the rest's order among
 * those with the same place, so operands still come first. */
static void merge_rest(const Module *m, Ref *order, uint32_t nin, uint32_t k, uint32_t n)
{
	if (n == k)
		return;
	/* at[r]: for a searched node, its place + 1; for one of the rest, the
	 * count of searched nodes it follows */
	uint32_t *at = xcalloc((size_t)m->nnodes + 1, sizeof *at);
	for (uint32_t i = 0; i < k; i++)
		at[order[i]] = i + 1;
	uint32_t *count = xcalloc((size_t)k + 2, sizeof *count);
	Ref *rest = xmalloc((size_t)(n - k) * sizeof *rest);
	for (uint32_t j = k; j < n; j++) {
		Ref r = order[j];
		const Node *nd = &m->nodes[r];
		uint32_t key = nin;
		for (uint32_t i = 0; i < nd->nargs; i++) {
			uint32_t v = at[ir_arg(m, nd, i)];
			key = v > key ? v : key;
		}
		at[r] = key;
		count[key + 1]++;
		rest[j - k] = r;
	}
	for (uint32_t i = 1; i <= k + 1; i++)
		count[i] += count[i - 1];
	/* count[v]: rest nodes with a key below v; place the searched ones
	 * (their order keeps) behind them from the end, then the rest */
	Ref *merged = xmalloc((size_t)n * sizeof *merged);
	for (uint32_t i = 0; i < k; i++)
		merged[i + count[i + 1]] = order[i];
	for (uint32_t j = 0; j < n - k; j++) {
		uint32_t key = at[rest[j]];
		merged[key + count[key]++] = rest[j];
	}
	memcpy(order, merged, (size_t)n * sizeof *order);
	free(merged);
	free(rest);
	free(count);
	free(at);
}

static uint32_t topo_order(const Module *m, Ref *order, int through_regs, int outputs_first)
{
	uint8_t *state = xcalloc(m->nnodes ? m->nnodes : 1, 1);
	for (Ref r = 0; r < m->nnodes; r++)   /* dead nodes are never visited */
		if (m->nodes[r].flags & NF_DEAD)
			state[r] = T_DEAD;
	IrAdj *adj = ir_adj(m, through_regs);
	Ref *stack = xmalloc((m->nargv + (size_t)m->nnodes + 1) * sizeof *stack);
	uint32_t k = 0, nin, searched = 0;
	/* input ports first, so their declaration order never changes */
	for (Ref r = 0; r < m->nnodes; r++)
		if (m->nodes[r].op == OP_INPUT && !(m->nodes[r].flags & NF_DEAD)) {
			state[r] = T_DONE;
			order[k++] = r;
		}
	nin = k;
	/* with outputs_first, the output ports (in declaration order) are the
	 * first roots: each output's cone lands together, right before it;
	 * merge_rest then moves the nodes they do not reach next to their
	 * operands */
	if (outputs_first)
		for (Ref r = 0; r < m->nnodes; r++)
			if (m->nodes[r].op == OP_OUTPUT && state[r] == T_UNSEEN &&
			    dfs_from(m, adj, state, stack, r, order, &k, through_regs) < 0)
				goto loop;
	searched = k;
	for (Ref r = 0; r < m->nnodes; r++)
		if (state[r] == T_UNSEEN &&
		    dfs_from(m, adj, state, stack, r, order, &k, through_regs) < 0)
			goto loop;
	if (outputs_first)
		merge_rest(m, order, nin, searched, k);
	goto out;
loop:
	k = UINT32_MAX;
out:
	free(state);
	free(adj);
	free(stack);
	return k;
}

/* The order topo_order would produce when every live node's operands are
 * live and precede it (the common case after passes that only kill nodes):
 * input ports, then the other live nodes, both by index.  UINT32_MAX if
 * some operand comes later or is dead (topo_order decides those). */
static uint32_t index_order(const Module *m, Ref *order)
{
	const Node *nodes = m->nodes;
	/* one bit per node (a cache-friendly copy of NF_DEAD), and the live
	 * input ports counted, so that the second sweep both checks the
	 * operands and writes the order (two sweeps of 12 M nodes, not three) */
	uint64_t *dead = xcalloc(m->nnodes / 64 + 1, sizeof *dead);
	uint32_t nin = 0;
	for (Ref r = 0; r < m->nnodes; r++) {
		dead[r / 64] |= (uint64_t)(nodes[r].flags & NF_DEAD) << (r % 64);
		nin += !(nodes[r].flags & NF_DEAD) && nodes[r].op == OP_INPUT;
	}
	uint32_t in = 0, rest = nin;
	for (Ref r = 0; r < m->nnodes; r++) {
		if (nodes[r].flags & NF_DEAD)
			continue;
		const Ref *a = &m->argv[nodes[r].args];
		for (uint32_t i = 0; i < nodes[r].nargs; i++)
			if (a[i] >= r || ((dead[a[i] / 64] >> (a[i] % 64)) & 1)) {
				free(dead);
				return UINT32_MAX;
			}
		order[nodes[r].op == OP_INPUT ? in++ : rest++] = r;
	}
	free(dead);
	return rest;
}

int64_t ir_topo(const Module *m, Ref *order)
{
	uint32_t k = index_order(m, order);   /* one sequential scan when it applies */
	if (k != UINT32_MAX)
		return k;
	k = topo_order(m, order, 1, 0);
	return k == UINT32_MAX ? -1 : (int64_t)k;
}

int ir_in_order(const Module *m)
{
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = &m->nodes[r];
		if (n->flags & NF_DEAD)
			continue;
		for (uint32_t i = 0; i < n->nargs; i++)
			if (ir_arg(m, n, i) >= r)
				return 0;
	}
	return 1;
}

/*
 * Locality of an operands-first module: for each value, in index order of
 * its first user, the distance from that user to it, and from the values
 * read just before.  A first read is near when the value lies within
 * NEAR_SPAN nodes of its user, or of one of the last NEAR_STREAMS far values
 * read (a stream: each stays near if the next one read from it is close,
 * as a hardware prefetcher follows a few streams).  Later reads of a value
 * are not counted (a hot value stays in cache), nor are input ports.  A
 * module is scattered when over a quarter of its first reads are far:
 * shuffled lines read each operand from a random place (every pass then
 * pays a cache miss per operand at 1M nodes); jepac's own output, and any
 * order that follows the dataflow, reads from a few streams.
 */
#define NEAR_SPAN 256u
#define NEAR_STREAMS 8
int ir_scattered(const Module *m)
{
	if (m->nnodes <= NEAR_SPAN)   /* every distance is short */
		return 0;
	/* one bit per node: read already, or an input port (two sequential
	 * sweeps; the bits of a 1M-node module fit in 128 KB) */
	uint64_t *seen = xcalloc(m->nnodes / 64 + 1, sizeof *seen);
	for (Ref r = 0; r < m->nnodes; r++)
		seen[r / 64] |= (uint64_t)(m->nodes[r].op == OP_INPUT) << (r % 64);
	Ref head[NEAR_STREAMS];
	for (int h = 0; h < NEAR_STREAMS; h++)
		head[h] = 0;
	uint64_t reads = 0, far = 0;
	unsigned victim = 0;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = &m->nodes[r];
		if (n->flags & NF_DEAD)
			continue;
		const Ref *args = &m->argv[n->args];
		for (uint32_t i = 0; i < n->nargs; i++) {
			Ref a = args[i];
			uint64_t bit = 1ull << (a % 64);
			if (seen[a / 64] & bit)
				continue;
			seen[a / 64] |= bit;
			reads++;
			if ((a < r ? r - a : a - r) <= NEAR_SPAN)
				continue;
			int h = 0;
			while (h < NEAR_STREAMS &&
			       (a < head[h] ? head[h] - a : a - head[h]) > NEAR_SPAN)
				h++;
			if (h == NEAR_STREAMS) {   /* a new stream replaces the oldest */
				far++;
				h = (int)victim;
				victim = (victim + 1) % NEAR_STREAMS;
			}
			head[h] = a;
		}
	}
	free(seen);
	return far * 4 > reads;
}

static uint32_t order_from(const Module *m, Ref *order, int outputs_first)
{
	uint32_t k = outputs_first ? UINT32_MAX : index_order(m, order);
	if (k == UINT32_MAX)
		k = topo_order(m, order, 1, outputs_first);
	if (k == UINT32_MAX)   /* register feedback: registers may come before their operands */
		k = topo_order(m, order, 0, outputs_first);
	return k;
}

uint32_t ir_order(const Module *m, Ref *order)
{
	return order_from(m, order, 0);
}

static void compact_from(Module *m, int outputs_first)
{
	Ref *order = xmalloc((m->nnodes + 1) * sizeof *order);
	uint32_t k = order_from(m, order, outputs_first);
	Ref *newid = xmalloc((m->nnodes + 1) * sizeof *newid);
	for (Ref r = 0; r < m->nnodes; r++)
		newid[r] = NOREF;
	for (uint32_t i = 0; i < k; i++)
		newid[order[i]] = i;
	Node *nodes = xmalloc((k + 1) * sizeof *nodes);
	size_t nargv = 0;
	for (uint32_t i = 0; i < k; i++)
		nargv += m->nodes[order[i]].nargs;
	Ref *argv = xmalloc((nargv + 1) * sizeof *argv);
	size_t pos = 0;
	for (uint32_t i = 0; i < k; i++) {
		Node n = m->nodes[order[i]];
		for (uint32_t j = 0; j < n.nargs; j++) {
			Ref a = newid[m->argv[n.args + j]];
			if (a == NOREF)
				die("live node %u uses a dead node", order[i]);
			argv[pos + j] = a;
		}
		n.args = (uint32_t)pos;
		pos += n.nargs;
		nodes[i] = n;
	}
	free(m->nodes);
	free(m->argv);
	free(order);
	free(newid);
	m->nodes = nodes;
	m->nnodes = m->capnodes = k;
	m->argv = argv;
	m->nargv = m->capargv = nargv;
	if (m->capnodes == 0) {
		m->capnodes = 1;
	}
	if (m->capargv == 0)
		m->capargv = 1;
	if (m->tokens)
		ir_infer_rates(m);
}

void ir_compact(Module *m)
{
	compact_from(m, 0);
}

void ir_reorder(Module *m)
{
	compact_from(m, 1);
}

/* ---- streams --------------------------------------------------------------- */

int ir_rate_of(const Module *m, Ref r)
{
	const Node *n = ir_get(m, r);
	if (n->op == OP_INPUT)
		return n->flags & NF_RATE;
	if (n->op == OP_TPOS)
		return NF_STREAM;
	int rate = 0;
	for (uint32_t i = 0; i < n->nargs; i++)
		rate |= ir_get(m, ir_arg(m, n, i))->flags & NF_RATE;
	if (rate == NF_RATE)
		return -1;
	if (n->op == OP_TPICK)
		return NF_WIN;
	if (n->op == OP_WDELAY)   /* tseq, wdelay: of static or per-window values */
		return rate & NF_STREAM ? -1 : NF_WIN;
	if (n->op == OP_TSEQ)
		return rate & NF_STREAM ? -1 : NF_STREAM;
	return rate;
}

/* A topological order that also exists when registers close loops. */
static int64_t any_topo(const Module *m, Ref *order)
{
	int64_t k = ir_topo(m, order);
	return k >= 0 ? k : (int64_t)topo_order(m, order, 0, 0);
}

void ir_infer_rates(Module *m)
{
	Ref *order = xmalloc((m->nnodes + 1) * sizeof *order);
	int64_t k = any_topo(m, order);
	for (int64_t i = 0; i < k; i++) {
		Node *n = &m->nodes[order[i]];
		int rate = ir_rate_of(m, order[i]);
		n->flags = (uint8_t)((n->flags & ~NF_RATE) | (rate > 0 ? rate : 0));
	}
	free(order);
}

void ir_phases(const Module *m, uint32_t *phase)
{
	Ref *order = xmalloc((m->nnodes + 1) * sizeof *order);
	int64_t k = any_topo(m, order);
	uint8_t *fl = xcalloc(m->nnodes + 1, 1);   /* floating: tpos, and streams of tpos only */
	for (Ref r = 0; r < m->nnodes; r++)
		phase[r] = 0;
	for (int64_t i = 0; i < k; i++) {
		const Node *n = ir_get(m, order[i]);
		uint32_t p = 0;
		int f = n->nargs > 0 && ir_is_stream(n) && !(op_info[n->op].flags & OPF_TOKEN), any = 0;
		for (uint32_t j = 0; j < n->nargs; j++) {
			Ref a = ir_arg(m, n, j);
			p = phase[a] > p ? phase[a] : p;
			any |= fl[a];
			f &= fl[a] || !ir_is_stream(ir_get(m, a));
		}
		phase[order[i]] = p + (uint32_t)op_is_barrier(n->op);
		fl[order[i]] = (uint8_t)(n->op == OP_TPOS || (f && any));
	}
	/* a floating node is read at its users' phase (outputs aside) */
	for (int64_t i = k; i-- > 0;) {
		const Node *n = ir_get(m, order[i]);
		if (n->op == OP_OUTPUT)
			continue;
		for (uint32_t j = 0; j < n->nargs; j++) {
			Ref a = ir_arg(m, n, j);
			if (fl[a] == 1 || (fl[a] && phase[order[i]] > phase[a]))
				phase[a] = phase[order[i]];
			fl[a] = fl[a] ? 2 : 0;   /* 2: a user has set its phase */
		}
	}
	free(fl);
	free(order);
}

Ref ir_input(const Module *m, uint32_t k)
{
	for (Ref r = 0; r < m->nnodes; r++)
		if (m->nodes[r].op == OP_INPUT && !(m->nodes[r].flags & NF_DEAD) && k-- == 0)
			return r;
	return NOREF;
}

static uint32_t count_op(const Module *m, int op)
{
	uint32_t c = 0;
	for (Ref r = 0; r < m->nnodes; r++)
		c += m->nodes[r].op == op && !(m->nodes[r].flags & NF_DEAD);
	return c;
}

uint32_t ir_ninputs(const Module *m) { return count_op(m, OP_INPUT); }
uint32_t ir_noutputs(const Module *m) { return count_op(m, OP_OUTPUT); }

size_t ir_in_lanes(const Module *m)
{
	size_t s = 0;
	for (Ref r = 0; r < m->nnodes; r++)
		if (m->nodes[r].op == OP_INPUT && !(m->nodes[r].flags & NF_DEAD))
			s += ir_vlanes(m, &m->nodes[r]);
	return s;
}

size_t ir_out_lanes(const Module *m)
{
	size_t s = 0;
	for (Ref r = 0; r < m->nnodes; r++)
		if (m->nodes[r].op == OP_OUTPUT && !(m->nodes[r].flags & NF_DEAD))
			s += ir_vlanes(m, &m->nodes[r]);
	return s;
}
