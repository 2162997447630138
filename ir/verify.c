/*
 * verify.c -- checks that a Module is well formed (docs/ir.md, "Verifier").
 *
 * Three sweeps, each stopping at the first problem:
 *   1. tensors: kind, shape, data present, codes in their kind's range;
 *   2. nodes, one at a time: op known, operand count per signature,
 *      operands in range, live and value-producing, type well formed, then
 *      the op's own typing rule (verify_op); port names unique;
 *   3. acyclicity: an iterative depth-first search that does not follow
 *      the operands of `reg` (a register may close a cycle); skipped when
 *      every operand comes before its user (then there is no cycle).
 * Sweeps 1-2 prefetch the operands of the node VERIFY_PF ahead (a module
 * read out of order makes each operand a cache miss).
 *
 * The message names the node as the printer would number it ("%12 (add)",
 * counting only live result-producing nodes), or "node R (output)" for a
 * node without a result.  Nothing here allocates per node except the DFS
 * state and the port-name marks (O(nodes + strings)).
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct Ver {
	const Module *m;
	char *msg;
	size_t size;
} Ver;

/* The printed number of value node r (see print.c), or -1. */
static int64_t printed_number(const Module *m, Ref r)
{
	if (r >= m->nnodes || m->nodes[r].op >= OP_COUNT ||
	    (op_info[m->nodes[r].op].flags & OPF_NORESULT))
		return -1;
	int64_t k = 0;
	for (Ref i = 0; i < r; i++)
		k += m->nodes[i].op < OP_COUNT && !(m->nodes[i].flags & NF_DEAD) &&
		     !(op_info[m->nodes[i].op].flags & OPF_NORESULT);
	return k;
}

/* Writes "%N (op): what" for node r and returns -1. */
static int bad(Ver *v, Ref r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(Ver *v, Ref r, const char *fmt, ...)
{
	const Node *n = ir_get(v->m, r);
	const char *op = n->op < OP_COUNT ? op_info[n->op].name : "?";
	int64_t k = printed_number(v->m, r);
	int used = k >= 0 ? snprintf(v->msg, v->size, "%%%lld (%s): ", (long long)k, op)
	                  : snprintf(v->msg, v->size, "node %u (%s): ", r, op);
	if (used < 0 || (size_t)used >= v->size)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->msg + used, v->size - (size_t)used, fmt, ap);
	va_end(ap);
	return -1;
}

static int is_int(const Node *n) { return n->ty != TY_F; }
static int is_u1(const Node *n) { return n->ty == TY_U && n->width == 1; }

/* ---- tensors ------------------------------------------------------------ */

/* The first problem in a tensor's data, or NULL. */
static const char *tensor_data_problem(const Tensor *t)
{
	if (t->kind == TK_Q4 || t->kind == TK_I8) {
		int32_t lim = t->kind == TK_Q4 ? 8 : 128;
		for (size_t i = 0; i < t->n; i++)
			if (t->codes[i] < -lim || t->codes[i] >= lim)
				return t->kind == TK_Q4 ? "q4 code outside -8..7" : "i8 code outside -128..127";
		size_t ns = t->kind == TK_Q4 ? (size_t)t->dims[0] * tensor_nblocks(t) : t->dims[0];
		for (size_t i = 0; i < ns; i++)
			if (!isfinite(t->scales[i]))
				return "scale not finite";
	}
	for (size_t i = 0; !tensor_has_codes(t) && i < t->n; i++) {
		if (!isfinite(t->reals[i]))
			return "value not finite";
		if (t->kind == TK_F32 && (double)(float)t->reals[i] != t->reals[i])
			return "f32 value not representable as float";
	}
	return NULL;
}

static int verify_tensor(const Module *m, uint32_t id, char *msg, size_t size)
{
	const Tensor *t = ir_tget(m, id);
	const char *why = NULL;
	if (t->kind > TK_F64)
		why = "bad kind";
	else if ((t->ndim != 1 && t->ndim != 2) || !t->dims[0] || !t->dims[1] ||
	         (t->ndim == 1 && t->dims[1] != 1) || t->n != (size_t)t->dims[0] * t->dims[1])
		why = "bad shape";
	else if (tensor_has_codes(t) ? !t->codes : !t->reals)
		why = "data missing";
	else if ((t->kind == TK_Q4 || t->kind == TK_I8) && !t->scales)
		why = "scales missing";
	else
		why = tensor_data_problem(t);
	if (!why)
		return 0;
	snprintf(msg, size, "tensor @%u: %s", id, why);
	return -1;
}

/* ---- per-op rules -------------------------------------------------------- */

/* Operands of ELEM ops: lane counts divide the result's. */
static int check_elem(Ver *v, Ref r, const Node *n)
{
	for (uint32_t i = 0; i < n->nargs; i++) {
		const Node *a = ir_get(v->m, ir_arg(v->m, n, i));
		if (n->len % a->len)
			return bad(v, r, "operand %u has %u lanes, which does not divide %u", i + 1,
			           a->len, n->len);
	}
	return 0;
}

/* Integer and real never mix: every value operand has the result's class. */
static int check_class(Ver *v, Ref r, const Node *n, uint32_t from)
{
	for (uint32_t i = from; i < n->nargs; i++)
		if (is_int(ir_get(v->m, ir_arg(v->m, n, i))) != is_int(n))
			return bad(v, r, "operand %u is %s but the result is %s", i + 1,
			           is_int(n) ? "real" : "integer", is_int(n) ? "integer" : "real");
	return 0;
}

static int check_tensor_id(Ver *v, Ref r, const Node *n, int need_codes)
{
	if (n->aux >= v->m->ntensors)
		return bad(v, r, "tensor @%u does not exist", n->aux);
	if (need_codes && !tensor_has_codes(ir_tget(v->m, n->aux)))
		return bad(v, r, "tensor @%u has no integer codes", n->aux);
	return 0;
}

/* ext: every value of the operand type is a value of the result type. */
static int ext_ok(const Node *from, const Node *to)
{
	if (from->ty == TY_U)
		return to->width >= from->width + (to->ty == TY_S);
	return to->ty == TY_S && to->width >= from->width;
}

static int verify_width_op(Ver *v, Ref r, const Node *n, const Node *x)
{
	switch (n->op) {
	case OP_SHL: case OP_SHR:
		if (n->imm < 0 || n->imm > 63)
			return bad(v, r, "shift amount %lld outside 0..63", (long long)n->imm);
		return 0;
	case OP_ROUNDSHR:
		if (n->imm < 1 || n->imm > 63)
			return bad(v, r, "shift amount %lld outside 1..63", (long long)n->imm);
		return 0;
	case OP_EXT:
		if (!ext_ok(x, n))
			return bad(v, r, "%c%u does not hold every %c%u value", n->ty == TY_S ? 's' : 'u',
			           n->width, x->ty == TY_S ? 's' : 'u', x->width);
		return 0;
	case OP_TRUNC:
		if (n->width > x->width)
			return bad(v, r, "result width %u exceeds operand width %u", n->width, x->width);
		return 0;
	case OP_SLICE:
		if (n->imm < 0 || n->imm > 64 || n->imm + n->width > x->width)
			return bad(v, r, "bits %lld..%lld are not within the operand's %u bits",
			           (long long)n->imm, (long long)n->imm + n->width - 1, x->width);
		return 0;
	}
	return 0;
}

/* Ops that read a matrix: matvec, bmatvec, vcmul. */
static int verify_matrix_op(Ver *v, Ref r, const Node *n, const Node *x)
{
	if (check_tensor_id(v, r, n, is_int(n)))
		return -1;
	const Tensor *t = ir_tget(v->m, n->aux);
	uint64_t rows = t->dims[0], cols = t->dims[1];
	if (n->op == OP_VCMUL) {
		if (x->len != n->len || n->len % t->n)
			return bad(v, r, "needs len(x) == len and elements(@%u) = %zu dividing len",
			           n->aux, t->n);
		return 0;
	}
	if (x->len % cols)
		return bad(v, r, "operand has %u lanes, not a multiple of the %llu columns of @%u",
		           x->len, (unsigned long long)cols, n->aux);
	uint64_t want = x->len / cols * rows;
	if (n->op == OP_BMATVEC)
		want *= (cols + Q4_BLOCK - 1) / Q4_BLOCK;
	if (n->len != want)
		return bad(v, r, "result has %u lanes, expected %llu", n->len, (unsigned long long)want);
	return 0;
}

/* lanes: concat, extract, sum, rmax */
static int verify_lane_op(Ver *v, Ref r, const Node *n, const Node *x)
{
	if (n->op == OP_CONCAT) {
		uint64_t s = 0;
		for (uint32_t i = 0; i < n->nargs; i++)
			s += ir_get(v->m, ir_arg(v->m, n, i))->len;
		if (s != n->len)
			return bad(v, r, "result has %u lanes, operands %llu", n->len, (unsigned long long)s);
		return 0;
	}
	if (n->op == OP_EXTRACT) {
		if (n->imm < 0 || n->imm > UINT32_MAX || n->imm + (int64_t)n->len > (int64_t)x->len)
			return bad(v, r, "lanes %lld..%lld are not within the operand's %u lanes",
			           (long long)n->imm, (long long)n->imm + n->len - 1, x->len);
		return 0;
	}
	if (n->imm < 1 || n->imm > UINT32_MAX || (uint64_t)n->len * (uint64_t)n->imm != x->len)
		return bad(v, r, "group %lld: len * group must equal the operand's %u lanes",
		           (long long)n->imm, x->len);
	return 0;
}

/* layernorm, softmax, attn, attn.causal */
static int verify_real_op(Ver *v, Ref r, const Node *n, const Node *x)
{
	for (uint32_t i = 0; i < n->nargs; i++)
		if (ir_get(v->m, ir_arg(v->m, n, i))->len != n->len)
			return bad(v, r, "operand %u has %u lanes, the result %u", i + 1,
			           ir_get(v->m, ir_arg(v->m, n, i))->len, n->len);
	(void)x;
	int64_t g = n->op == OP_LAYERNORM ? (int64_t)n->aux : n->imm;
	if (n->op == OP_ATTN || n->op == OP_CATTN) {
		if (n->imm < 1 || n->aux < 1 || n->imm > UINT32_MAX ||
		    n->len % ((uint64_t)n->imm * n->aux))
			return bad(v, r, "H=%lld, T=%u: need H, T >= 1 and H*T dividing %u",
			           (long long)n->imm, n->aux, n->len);
		return 0;
	}
	if (g < 1 || g > UINT32_MAX || n->len % (uint64_t)g)
		return bad(v, r, "group %lld does not divide %u lanes", (long long)g, n->len);
	if (n->op == OP_LAYERNORM && !(ir_fimm(n) >= 0 && isfinite(ir_fimm(n))))
		return bad(v, r, "eps must be finite and >= 0");
	return 0;
}

static int verify_port(Ver *v, Ref r, const Node *n, const Node *x)
{
	if (n->imm < 0 || (n->ty == TY_F && n->imm != 0))
		return bad(v, r, "binary point %lld must be %s", (long long)n->imm,
		           n->ty == TY_F ? "0 for an f64 port" : ">= 0");
	if (n->aux >= v->m->nstrs)
		return bad(v, r, "bad name string id");
	if (x && (x->ty != n->ty || x->width != n->width || x->len != n->len))
		return bad(v, r, "port type differs from its operand's");
	return 0;
}

static int verify_const(Ver *v, Ref r, const Node *n)
{
	if (n->op == OP_FCONST)
		return isfinite(ir_fimm(n)) ? 0 : bad(v, r, "constant is not finite");
	if (check_tensor_id(v, r, n, is_int(n)))
		return -1;
	if (ir_tget(v->m, n->aux)->n != n->len)
		return bad(v, r, "len %u differs from the %zu elements of @%u", n->len,
		           ir_tget(v->m, n->aux)->n, n->aux);
	return 0;
}

/* eq, ne, lt, le, select */
static int verify_compare(Ver *v, Ref r, const Node *n, const Node *x)
{
	if (n->op == OP_SELECT)
		return is_u1(x) ? check_class(v, r, n, 1) : bad(v, r, "condition must be u1");
	if (!is_u1(n))
		return bad(v, r, "a compare gives u1");
	if (is_int(x) != is_int(ir_get(v->m, ir_arg(v->m, n, 1))))
		return bad(v, r, "compares an integer with a real");
	return 0;
}

static int verify_lut(Ver *v, Ref r, const Node *n, const Node *idx)
{
	if (check_tensor_id(v, r, n, 1))
		return -1;
	if (idx->width > 20)
		return bad(v, r, "index width %u exceeds 20", idx->width);
	size_t rows = ir_tget(v->m, n->aux)->n;
	if (rows == 0 || rows > (size_t)1 << idx->width)
		return bad(v, r, "@%u has %zu elements, not 1 to 2^%u", n->aux, rows, idx->width);
	return 0;
}

/* Rates and token ops (docs/ir.md, "Streams"). */
static int verify_stream(Ver *v, Ref r, const Node *n, const Node *x)
{
	const Module *m = v->m;
	uint32_t T = m->tokens;
	unsigned fl = op_info[n->op].flags;
	if (!T)
		return (n->flags & NF_RATE) || (fl & OPF_TOKEN)
		       ? bad(v, r, "streams need a module with tokens") : 0;
	int rate = ir_rate_of(m, r);
	if (rate < 0)
		return bad(v, r, "mixes a stream with a per-window value");
	if (n->op == OP_INPUT && (n->flags & NF_WIN))
		return bad(v, r, "an input port is a stream or static, not per window");
	if (n->op != OP_INPUT && (n->flags & NF_RATE) != rate)
		return bad(v, r, "rate %s, but its operands make it %s",
		           n->flags & NF_STREAM ? "/t" : n->flags & NF_WIN ? "/w" : "static",
		           rate == NF_STREAM ? "/t" : rate == NF_WIN ? "/w" : "static");
	if (!(fl & OPF_TOKEN))
		return 0;
	if (n->op == OP_TPOS) {
		if (check_tensor_id(v, r, n, is_int(n)))
			return -1;
		const Tensor *t = ir_tget(m, n->aux);
		if (t->dims[0] < 1 || t->dims[0] > T || (uint64_t)n->len * t->dims[0] != t->n)
			return bad(v, r, "@%u must have 1..%u rows (tokens) of %u elements", n->aux, T, n->len);
		return 0;
	}
	int window_in = n->op == OP_TSEQ || n->op == OP_WDELAY;   /* static or per-window operands */
	for (uint32_t i = 0; i < n->nargs; i++) {
		const Node *a = ir_get(m, ir_arg(m, n, i));
		if (!window_in && !ir_is_stream(a))
			return bad(v, r, "operand %u is not a stream", i + 1);
		if (window_in && (a->ty != x->ty || a->width != x->width || a->len != x->len))
			return bad(v, r, "operand %u differs from the first in type or lanes", i + 1);
	}
	if (check_class(v, r, n, 0))
		return -1;
	if (n->op != OP_SATTN && n->op != OP_SCATTN && (n->ty != x->ty || n->width != x->width))
		return bad(v, r, "result type differs from its operand's");
	if (n->op == OP_TSEQ && n->nargs > T)
		return bad(v, r, "%u operands for %u tokens", n->nargs, T);
	if (n->op == OP_TBUF) {   /* a buffer of the first L tokens, 1 <= L <= T */
		if (n->len % x->len || n->len / x->len < 1 || n->len / x->len > T)
			return bad(v, r, "result has %u lanes, expected L*%u for 1 <= L <= %u", n->len,
			           x->len, T);
		return 0;
	}
	uint64_t want = n->op == OP_TALL ? (uint64_t)x->len * T : x->len;
	if (n->len != want)
		return bad(v, r, "result has %u lanes, expected %llu", n->len, (unsigned long long)want);
	if (n->op == OP_TPICK && (n->imm < 0 || n->imm >= T))
		return bad(v, r, "token %lld outside 0..%u", (long long)n->imm, T - 1);
	if (n->op == OP_SATTN || n->op == OP_SCATTN) {
		for (uint32_t i = 1; i < 3; i++)
			if (ir_get(m, ir_arg(m, n, i))->len != n->len || n->imm < 1 || n->imm > UINT32_MAX ||
			    n->len % (uint64_t)n->imm)
				return bad(v, r, "q, k, v need equal lanes and H=%lld dividing them",
				           (long long)n->imm);
		if (n->aux < 1 || n->aux > T || (n->op == OP_SATTN && n->aux != T))
			return bad(v, r, "%u key tokens outside 1..%u (sattn: %u)", n->aux, T, T);
	}
	return 0;
}

/* Every op but a barrier reads its stream operands in one phase. */
static int verify_phases(Ver *v)
{
	const Module *m = v->m;
	if (!m->tokens)
		return 0;
	uint32_t *ph = xmalloc((m->nnodes + 1) * sizeof *ph);
	ir_phases(m, ph);
	int rc = 0;
	for (Ref r = 0; r < m->nnodes && !rc; r++) {
		const Node *n = ir_get(m, r);
		if ((n->flags & NF_DEAD) || op_is_barrier(n->op))
			continue;
		for (uint32_t i = 0; i < n->nargs && !rc; i++) {
			Ref a = ir_arg(m, n, i);   /* a tpos is read at its users' (one) phase */
			if (ir_is_stream(ir_get(m, a)) && ph[a] != ph[r])
				rc = bad(v, r, "operand %u is a stream of window phase %u, the node's is %u"
				         " (a tdelay realigns it)", i + 1, ph[a], ph[r]);
		}
	}
	free(ph);
	return rc;
}

/* Everything specific to n's op, given operands already checked. */
static int verify_op(Ver *v, Ref r, const Node *n)
{
	const Module *m = v->m;
	unsigned fl = op_info[n->op].flags;
	const Node *x = n->nargs ? ir_get(m, ir_arg(m, n, 0)) : NULL;
	if ((fl & OPF_INT) && (!is_int(n) || (x && !is_int(x))))
		return bad(v, r, "integer op on real values");
	if ((fl & OPF_REAL) && (is_int(n) || (x && is_int(x))))
		return bad(v, r, "real op on integer values");
	if ((fl & OPF_ELEM) && check_elem(v, r, n))
		return -1;
	if (verify_stream(v, r, n, x))
		return -1;
	if (fl & OPF_TOKEN)
		return 0;
	switch (n->op) {
	case OP_INPUT: case OP_OUTPUT:
		return verify_port(v, r, n, x);
	case OP_VCONST: case OP_FCONST:
		return verify_const(v, r, n);
	case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_SELECT:
		return verify_compare(v, r, n, x);
	case OP_LUT:
		return verify_lut(v, r, n, x);
	}
	if (check_class(v, r, n, 0))
		return -1;
	switch (n->op) {
	case OP_SHL: case OP_SHR: case OP_ROUNDSHR: case OP_EXT: case OP_TRUNC: case OP_SLICE:
		return verify_width_op(v, r, n, x);
	case OP_CONCAT: case OP_EXTRACT: case OP_SUM: case OP_RMAX:
		return verify_lane_op(v, r, n, x);
	case OP_MATVEC: case OP_BMATVEC: case OP_VCMUL:
		return verify_matrix_op(v, r, n, x);
	case OP_REG:
		if (x->len != n->len)
			return bad(v, r, "operand has %u lanes, the result %u", x->len, n->len);
		return 0;
	case OP_LAYERNORM: case OP_SOFTMAX: case OP_ATTN: case OP_CATTN:
		return verify_real_op(v, r, n, x);
	}
	return 0;
}

/* ---- structure ----------------------------------------------------------- */

static int verify_shape(Ver *v, Ref r, const Node *n)
{
	const Module *m = v->m;
	if (n->op >= OP_COUNT)
		return bad(v, r, "unknown op %u", n->op);
	const char *sig = op_info[n->op].sig;
	uint32_t want = 0, star = strchr(sig, '*') != NULL;
	for (const char *s = sig; *s; s++)
		want += *s == 'v';
	if (star ? n->nargs < want + 1 : n->nargs != want)
		return bad(v, r, "%u operands, the op takes %s%u", n->nargs, star ? "at least " : "",
		           want + star);
	if ((size_t)n->args + n->nargs > m->nargv)
		return bad(v, r, "operand list outside the pool");
	for (uint32_t i = 0; i < n->nargs; i++) {
		Ref a = ir_arg(m, n, i);
		if (a >= m->nnodes)
			return bad(v, r, "operand %u refers to node %u of %u", i + 1, a, m->nnodes);
		if (m->nodes[a].flags & NF_DEAD)
			return bad(v, r, "operand %u is a dead node", i + 1);
		if (m->nodes[a].op >= OP_COUNT || (op_info[m->nodes[a].op].flags & OPF_NORESULT))
			return bad(v, r, "operand %u has no value", i + 1);
		if (a == r && n->op != OP_REG)
			return bad(v, r, "uses itself");
	}
	if (n->ty > TY_F || n->len < 1 || (n->ty == TY_F ? n->width != 64 : (n->width < 1 || n->width > 64)))
		return bad(v, r, "bad type");
	return 0;
}

/* No two input ports, nor two output ports, share a name. */
static int verify_port_names(Ver *v)
{
	const Module *m = v->m;
	uint8_t *seen = xcalloc(m->nstrs + 1, 1);
	int rc = 0;
	for (Ref r = 0; r < m->nnodes && !rc; r++) {
		const Node *n = ir_get(m, r);
		if ((n->op != OP_INPUT && n->op != OP_OUTPUT) || (n->flags & NF_DEAD))
			continue;
		uint8_t bit = n->op == OP_INPUT ? 1 : 2;
		if (seen[n->aux] & bit)
			rc = bad(v, r, "a second %s port named \"%s\"", op_info[n->op].name,
			         ESC(ir_strget(m, n->aux)));
		seen[n->aux] |= bit;
	}
	free(seen);
	return rc;
}

/* Iterative DFS over operands, not entering reg's; an edge to a node on the
 * current path (OPEN) is a cycle.  Entering a node pushes a marker that
 * closes it and then all its operands at once (checking each against the
 * path there), so each step reads one IrAdj record: in a module read out of
 * order (one chain in random memory order) it is a cache miss that nothing
 * can overlap, and a node, its operand list and a per-node cursor were
 * three.  The stack holds at most every operand plus every marker. */
static int verify_acyclic(Ver *v)
{
	const Module *m = v->m;
	enum { UNSEEN, OPEN, DONE };
	if (ir_in_order(m))   /* every operand before its user: no cycle (one scan) */
		return 0;
	uint8_t *state = xcalloc(m->nnodes + 1, 1);
	IrAdj *adj = ir_adj(m, 0);
	Ref *stack = xmalloc((m->nargv + (size_t)m->nnodes + 1) * sizeof *stack);
	const Ref CLOSE = 1u << 31;   /* marker: the node below is done (nnodes <= 2^31) */
	int rc = 0;
	for (Ref root = 0; root < m->nnodes && !rc; root++) {
		if (state[root] != UNSEEN || (m->nodes[root].flags & NF_DEAD))
			continue;
		size_t sp = 0;
		stack[sp++] = root;
		while (sp && !rc) {
			Ref r = stack[--sp];
			if (r & CLOSE) {
				state[r & ~CLOSE] = DONE;
				continue;
			}
			if (state[r] != UNSEEN)   /* entered by another path meanwhile */
				continue;
			state[r] = OPEN;
			stack[sp++] = r | CLOSE;
			const IrAdj *d = &adj[r];
			for (uint32_t i = d->n; i-- > 0;) {
				Ref a = ir_adj_arg(m, d, r, i);
				if (state[a] == OPEN) {
					rc = bad(v, a, "combinational cycle (not broken by a reg)");
					break;
				}
				if (state[a] == UNSEEN)
					stack[sp++] = a;
			}
		}
	}
	free(state);
	free(adj);
	free(stack);
	return rc;
}

enum { VERIFY_PF = 16 };   /* nodes ahead whose operands are prefetched */

/* Prefetches the operand nodes of node r (if it and they exist): in a module
 * read out of order every operand is a cache miss, hidden this way. */
static void prefetch_operands(const Module *m, Ref r)
{
	if (r >= m->nnodes)
		return;
	const Node *n = ir_get(m, r);
	if ((size_t)n->args + n->nargs > m->nargv)
		return;
	for (uint32_t i = 0; i < n->nargs && i < 4; i++)
		if (ir_arg(m, n, i) < m->nnodes)
			__builtin_prefetch(ir_get(m, ir_arg(m, n, i)));
}

int ir_verify(const Module *m, char *msg, size_t msgsize)
{
	Ver v = {m, msg, msgsize};
	if (msgsize)
		msg[0] = 0;
	for (uint32_t t = 0; t < m->ntensors; t++)
		if (verify_tensor(m, t, msg, msgsize))
			return -1;
	for (Ref r = 0; r < m->nnodes; r++) {
		prefetch_operands(m, r + VERIFY_PF);
		if (!(m->nodes[r].flags & NF_DEAD) && verify_shape(&v, r, ir_get(m, r)))
			return -1;
	}
	for (Ref r = 0; r < m->nnodes; r++) {
		prefetch_operands(m, r + VERIFY_PF);
		if (!(m->nodes[r].flags & NF_DEAD) && verify_op(&v, r, ir_get(m, r)))
			return -1;
	}
	if (verify_port_names(&v) || verify_acyclic(&v) || verify_phases(&v))
		return -1;
	return 0;
}
