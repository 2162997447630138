/*
 * c_node.c -- the C backend's code nodes: one specialised loop per node.
 *
 * A node's lanes are computed by `for (i = 0; i < len; i++) D[s + i] =
 * WRAP((CT)(EXPR));` where EXPR reads operand lanes with the broadcast rule
 * (operand lane i % len(operand)), CT is the computation type and WRAP
 * (jc_ns, jc_nu, jc_ws, jc_wu of the runtime, see c_tab.c) wraps the result
 * into the node's type and storage.  Ring ops (whose result modulo 2^W only
 * depends on the operands modulo 2^W: add, sub, mul, shl, sums, matvec,
 * copies, selections) compute in uint32_t when the result has <= 32 bits,
 * so the big matvec loops vectorise; everything else computes in uint64_t
 * from the operands' exact values.  Operands that are u64 read as uint64_t;
 * comparisons involving one use jc_cmp().
 */
#include <stdarg.h>
#include <string.h>

#include "c_gen.h"

typedef struct Buf {
	char s[512];
} Buf;

static void bf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bf(Buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->s, sizeof b->s, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof b->s)
		die("c backend: expression too long");
}

int cg_is_narrow(const Node *n)
{
	return (n->ty == TY_S && n->width <= 32) || (n->ty == TY_U && n->width <= 31);
}

static int is_big(const Node *n)
{
	return n->ty == TY_U && n->width == 64;
}

/* Elementwise ops the record table implements (c_tab.c). */
static int tab_elem(int op)
{
	switch (op) {
	case OP_ADD: case OP_SUB: case OP_MUL: case OP_NEG: case OP_CMUL:
	case OP_SHL: case OP_SHR: case OP_ROUNDSHR: case OP_EXT: case OP_TRUNC:
	case OP_SLICE: case OP_SAT: case OP_EQ: case OP_NE: case OP_LT: case OP_LE:
	case OP_SELECT: case OP_MAX: case OP_MIN: case OP_REG: case OP_CONST:
	case OP_EXTRACT:
		return 1;
	default:
		return 0;
	}
}

/* Lane moves (concat, extract) and small elementwise work always go to the
 * table; elementwise vector nodes too when there are many of them
 * (many_vec: more than CG_MAX_LOOPS), since every loop costs gcc time. */
int cg_group(const CGen *g, Ref r)
{
	const Node *n = ir_get(g->m, r);
	if (n->flags & NF_WIN)
		return 2 + 2 * (int)g->phase[r];
	return ir_is_stream(n) ? 1 + 2 * (int)g->phase[r] : 0;
}

uint32_t cg_lanes(const CGen *g, Ref r)
{
	const Node *n = ir_get(g->m, r);
	if (n->op == OP_TDELAY)   /* the value, then the window buffer */
		return n->len * (g->m->tokens + 1);
	return n->op == OP_WDELAY ? 2 * n->len : n->len;   /* wdelay: the value, then the state */
}

int cg_table_node(const Node *n, int many_vec)
{
	if ((op_info[n->op].flags & OPF_TOKEN) || ((n->op == OP_INPUT || n->op == OP_OUTPUT) &&
	                                          ir_is_stream(n)))
		return 0;
	if (n->op == OP_CONCAT || n->op == OP_EXTRACT)
		return 1;
	return tab_elem(n->op) && (n->len <= 4 || many_vec);
}

int cg_vec_elem(const Node *n)
{
	return tab_elem(n->op) && n->len > 4;
}

/* Ops whose wrapped result only depends on the operands modulo 2^W. */
static int ring_op(int op)
{
	switch (op) {
	case OP_ADD: case OP_SUB: case OP_MUL: case OP_NEG: case OP_CMUL:
	case OP_SHL: case OP_EXT: case OP_TRUNC: case OP_SELECT: case OP_MAX:
	case OP_MIN: case OP_REG: case OP_CONST: case OP_VCONST: case OP_LUT:
	case OP_CONCAT: case OP_EXTRACT: case OP_SUM: case OP_MATVEC:
	case OP_BMATVEC: case OP_VCMUL: case OP_INPUT:
		return 1;
	default:
		return 0;
	}
}

static const char *ct_name(int ct32) { return ct32 ? "uint32_t" : "uint64_t"; }

static const char *pool_name(const CGen *g, Ref a) { return g->pool[a] == POOL_N ? "N" : "W"; }

/* Lane i (or the broadcast lane) of operand a for a result of rlen lanes. */
static void lref(const CGen *g, Ref a, uint32_t rlen, Buf *b)
{
	const Node *x = ir_get(g->m, a);
	if (x->len == 1)
		bf(b, "%s[%u]", pool_name(g, a), g->slot[a]);
	else if (x->len == rlen)
		bf(b, "%s[%u + i]", pool_name(g, a), g->slot[a]);
	else
		bf(b, "%s[%u + i %% %u]", pool_name(g, a), g->slot[a], x->len);
}

/* The operand modulo 2^32 or 2^64. */
static void rd(const CGen *g, Ref a, uint32_t rlen, int ct32, Buf *b)
{
	Buf l;
	lref(g, a, rlen, &l);
	bf(b, "(%s)%s", ct_name(ct32), l.s);
}

/* The operand's exact value (int64_t, or uint64_t for u64). */
static void ev(const CGen *g, Ref a, uint32_t rlen, Buf *b)
{
	Buf l;
	lref(g, a, rlen, &l);
	bf(b, "(%s)%s", is_big(ir_get(g->m, a)) ? "uint64_t" : "int64_t", l.s);
}

static void lit64(int64_t v, Buf *b)
{
	if (v == INT64_MIN)
		bf(b, "(-9223372036854775807LL - 1)");
	else
		bf(b, "(%lldLL)", (long long)v);
}

/* Writes "D[slot + IDX] = WRAP((T)(EXPR), W);" */
static void store(const CGen *g, Ref r, const char *idx, const char *expr)
{
	const Node *n = ir_get(g->m, r);
	int narrow = g->pool[r] == POOL_N;
	const char *fn = narrow ? (n->ty == TY_S ? "jc_ns" : "jc_nu") : (n->ty == TY_S ? "jc_ws" : "jc_wu");
	fprintf(g->f, "%s[%u + %s] = %s((%s)(%s), %u);\n", pool_name(g, r), g->slot[r], idx, fn,
	        narrow ? "uint32_t" : "uint64_t", expr, n->width);
}

/* x compared with y as exact values: "(EXPR REL 0)" form via jc_cmp. */
static void cmp_expr(const CGen *g, const Node *n, Ref a, Ref b, const char *rel, Buf *e)
{
	const Module *m = g->m;
	Buf x, y;
	if (is_big(ir_get(m, a)) || is_big(ir_get(m, b))) {
		rd(g, a, n->len, 0, &x);
		rd(g, b, n->len, 0, &y);
		bf(e, "(jc_cmp(%s, %d, %s, %d) %s 0)", x.s,
		         is_big(ir_get(m, a)), y.s, is_big(ir_get(m, b)), rel);
	} else {
		ev(g, a, n->len, &x);
		ev(g, b, n->len, &y);
		bf(e, "(%s %s %s)", x.s, rel, y.s);
	}
}

/* floor(x / 2^k) as a uint64_t expression. */
static void shr_expr(const CGen *g, const Node *n, Ref a, int64_t k, Buf *e)
{
	const Node *x = ir_get(g->m, a);
	Buf v;
	ev(g, a, n->len, &v);
	if (x->ty == TY_U)
		bf(e, k >= 64 ? "(uint64_t)0" : "((uint64_t)%s >> %lld)", v.s, (long long)k);
	else if (k >= 64)
		bf(e, "(%s < 0 ? ~(uint64_t)0 : (uint64_t)0)", v.s);
	else
		bf(e, "(uint64_t)jc_sar(%s, %lld)", v.s, (long long)k);
}

static void roundshr_expr(const CGen *g, const Node *n, Ref a, int64_t k, Buf *e)
{
	Buf s, r;
	rd(g, a, n->len, 0, &r);
	if (k <= 0) {
		*e = r;
	} else if (k >= 64) {
		bf(e, k == 64 && is_big(ir_get(g->m, a)) ? "(%s >> 63)" : "(uint64_t)0", r.s);
	} else {
		shr_expr(g, n, a, k, &s);
		bf(e, "(%s + ((%s >> %lld) & 1u))", s.s, r.s, (long long)(k - 1));
	}
}

static void sat_expr(const CGen *g, const Node *n, Ref a, Buf *e)
{
	const Node *x = ir_get(g->m, a);
	Buf v, lo, hi;
	ev(g, a, n->len, &v);
	if (is_big(x)) {   /* value >= 0: only the upper bound matters */
		uint64_t h = is_big(n) ? UINT64_MAX : (uint64_t)ty_max(n->ty, n->width);
		bf(e, "(%s > 0x%llxull ? 0x%llxull : %s)", v.s,
		         (unsigned long long)h, (unsigned long long)h, v.s);
	} else if (is_big(n)) {
		bf(e, "(%s < 0 ? (uint64_t)0 : (uint64_t)%s)", v.s, v.s);
	} else {
		lit64(ty_min(n->ty, n->width), &lo);
		lit64(ty_max(n->ty, n->width), &hi);
		bf(e, "(uint64_t)(%s < %s ? %s : %s > %s ? %s : %s)",
		         v.s, lo.s, lo.s, v.s, hi.s, hi.s, v.s);
	}
}

static void minmax_expr(const CGen *g, const Node *n, int ct32, Buf *e)
{
	Ref a = ir_arg(g->m, n, 0), b = ir_arg(g->m, n, 1);
	Buf c, x, y;
	/* max: a < b ? b : a;  min: b < a ? b : a */
	if (n->op == OP_MAX)
		cmp_expr(g, n, a, b, "<", &c);
	else
		cmp_expr(g, n, b, a, "<", &c);
	rd(g, a, n->len, ct32, &x);
	rd(g, b, n->len, ct32, &y);
	bf(e, "(%s ? %s : %s)", c.s, y.s, x.s);
}

static void lut_expr(const CGen *g, const Node *n, int ct32, Buf *e)
{
	Ref a = ir_arg(g->m, n, 0);
	const Node *x = ir_get(g->m, a);
	const Tensor *t = ir_tget(g->m, n->aux);
	size_t full = (size_t)1 << (x->width > 30 ? 30 : x->width);
	if (x->width > 30 || t->n == 0 || t->n > full)
		fatal(NULL, "--emit=c: lut of tensor '%s' needs 1 to 2^%u elements", ESC(ir_strget(g->m, t->name)), x->width);
	Buf r;
	rd(g, a, n->len, 0, &r);
	if (t->n == full)
		bf(e, "(%s)JT%u((size_t)(%s & 0x%llxu))", ct_name(ct32), n->aux, r.s,
		   (unsigned long long)(full - 1));
	else   /* a short table: indexes past its end read the last row */
		bf(e, "(%s)JT%u(jc_row(%s & 0x%llxu, %zu))", ct_name(ct32), n->aux, r.s,
		   (unsigned long long)(full - 1), t->n - 1);
}

/* The expression of one lane of an elementwise node. */
static void elem_expr(const CGen *g, const Node *n, int ct32, Buf *e)
{
	const Module *m = g->m;
	Ref a = ir_arg(m, n, 0), b = n->nargs > 1 ? ir_arg(m, n, 1) : a;
	Buf x, y, z;
	rd(g, a, n->len, ct32, &x);
	rd(g, b, n->len, ct32, &y);
	int64_t k = n->imm;
	if (k < 0 && (n->op == OP_SHL || n->op == OP_SHR || n->op == OP_ROUNDSHR || n->op == OP_SLICE))
		fatal(NULL, "--emit=c: %s by a negative amount", op_info[n->op].name);
	switch (n->op) {
	case OP_ADD: bf(e, "%s + %s", x.s, y.s); break;
	case OP_SUB: bf(e, "%s - %s", x.s, y.s); break;
	case OP_MUL: bf(e, "%s * %s", x.s, y.s); break;
	case OP_NEG: bf(e, "(%s)0 - %s", ct_name(ct32), x.s); break;
	case OP_CMUL:
		bf(e, "%s * (%s)0x%llxull", x.s, ct_name(ct32), (unsigned long long)k);
		break;
	case OP_SHL:
		if (k >= (ct32 ? 32 : 64))
			bf(e, "0u");
		else
			bf(e, "%s << %lld", x.s, (long long)k);
		break;
	case OP_SHR: shr_expr(g, n, a, k, e); break;
	case OP_ROUNDSHR: roundshr_expr(g, n, a, k, e); break;
	case OP_EXT: case OP_TRUNC: case OP_REG: *e = x; break;
	case OP_SLICE:
		bf(e, k >= 64 ? "0u" : "%s >> %lld", x.s, (long long)k);
		break;
	case OP_SAT: sat_expr(g, n, a, e); break;
	case OP_EQ: cmp_expr(g, n, a, b, "==", e); break;
	case OP_NE: cmp_expr(g, n, a, b, "!=", e); break;
	case OP_LT: cmp_expr(g, n, a, b, "<", e); break;
	case OP_LE: cmp_expr(g, n, a, b, "<=", e); break;
	case OP_MAX: case OP_MIN: minmax_expr(g, n, ct32, e); break;
	case OP_LUT: lut_expr(g, n, ct32, e); break;
	case OP_SELECT:
		rd(g, ir_arg(m, n, 1), n->len, ct32, &x);
		rd(g, ir_arg(m, n, 2), n->len, ct32, &y);
		lref(g, a, n->len, &z);
		bf(e, "(%s != 0 ? %s : %s)", z.s, x.s, y.s);
		break;
	default:
		die("c backend: op %s is not elementwise", op_info[n->op].name);
	}
}

static void loop_open(FILE *f, uint32_t len)
{
	fprintf(f, "\tfor (size_t i = 0; i < %u; i++)\n\t\t", len);
}

static void emit_elem(CGen *g, Ref r, int ct32)
{
	const Node *n = ir_get(g->m, r);
	if (n->op == OP_LUT)
		g->tused[n->aux] = 1;
	Buf e;
	elem_expr(g, n, ct32, &e);
	loop_open(g->f, n->len);
	store(g, r, "i", e.s);
}

static void emit_ports_consts(CGen *g, Ref r, int ct32)
{
	const Node *n = ir_get(g->m, r);
	Buf e, l;
	if (n->op == OP_OUTPUT) {
		lref(g, ir_arg(g->m, n, 0), n->len, &l);
		loop_open(g->f, n->len);
		if (ir_is_stream(n))
			fprintf(g->f, "out[%u + t * %u + i] = (int64_t)%s;\n", g->port[r], n->len, l.s);
		else
			fprintf(g->f, "out[%u + i] = (int64_t)%s;\n", g->port[r], l.s);
		return;
	}
	if (n->op == OP_INPUT && ir_is_stream(n))
		bf(&e, "(%s)in[%u + t * %u + i]", ct_name(ct32), g->port[r], n->len);
	else if (n->op == OP_INPUT)
		bf(&e, "(%s)in[%u + i]", ct_name(ct32), g->port[r]);
	else if (n->op == OP_CONST)
		bf(&e, "(%s)0x%llxull", ct_name(ct32), (unsigned long long)n->imm);
	else
		bf(&e, "(%s)JT%u(i)", ct_name(ct32), n->aux);
	loop_open(g->f, n->len);
	store(g, r, "i", e.s);
}

static void emit_lanes(CGen *g, Ref r, int ct32)
{
	const Module *m = g->m;
	const Node *n = ir_get(m, r);
	Buf e, idx;
	if (n->op == OP_EXTRACT) {
		Ref a = ir_arg(m, n, 0);
		bf(&e, "(%s)%s[%u + %lld + i]", ct_name(ct32), pool_name(g, a),
		         g->slot[a], (long long)n->imm);
		loop_open(g->f, n->len);
		store(g, r, "i", e.s);
		return;
	}
	uint32_t off = 0;   /* concat */
	for (uint32_t k = 0; k < n->nargs && off < n->len; k++) {
		Ref a = ir_arg(m, n, k);
		uint32_t la = ir_get(m, a)->len;
		if (la > n->len - off)
			la = n->len - off;
		bf(&e, "(%s)%s[%u + i]", ct_name(ct32), pool_name(g, a), g->slot[a]);
		bf(&idx, "%u + i", off);
		loop_open(g->f, la);
		store(g, r, idx.s, e.s);
		off += la;
	}
}

static void emit_reduce(CGen *g, Ref r, int ct32)
{
	const Module *m = g->m;
	const Node *n = ir_get(m, r);
	Ref a = ir_arg(m, n, 0);
	const char *p = pool_name(g, a);
	unsigned long long gsz = (unsigned long long)n->imm;
	FILE *f = g->f;
	fprintf(f, "\tfor (size_t i = 0; i < %u; i++) {\n", n->len);
	if (n->op == OP_SUM) {
		fprintf(f, "\t\t%s acc = 0;\n\t\tfor (size_t j = 0; j < %llu; j++)\n"
		        "\t\t\tacc += (%s)%s[%u + i * %llu + j];\n\t\t",
		        ct_name(ct32), gsz, ct_name(ct32), p, g->slot[a], gsz);
	} else {
		const char *t = is_big(ir_get(m, a)) ? "uint64_t" : "int64_t";
		fprintf(f, "\t\t%s acc = (%s)%s[%u + i * %llu];\n\t\tfor (size_t j = 1; j < %llu; j++) {\n"
		        "\t\t\t%s v = (%s)%s[%u + i * %llu + j];\n\t\t\tif (acc < v)\n\t\t\t\tacc = v;\n\t\t}\n\t\t",
		        t, t, p, g->slot[a], gsz, gsz, t, t, p, g->slot[a], gsz);
	}
	store(g, r, "i", "acc");
	fputs("\t}\n", f);
}

/* matvec and bmatvec: rows x cols codes of tensor aux times each group of x */
static void emit_matvec(CGen *g, Ref r, int ct32)
{
	const Module *m = g->m;
	const Node *n = ir_get(m, r);
	const Tensor *t = ir_tget(m, n->aux);
	Ref a = ir_arg(m, n, 0);
	uint32_t rows = t->dims[0], cols = t->dims[1];
	uint32_t nb = n->op == OP_BMATVEC ? tensor_nblocks(t) : 1;
	uint32_t bw = n->op == OP_BMATVEC ? Q4_BLOCK : cols;
	const char *ct = ct_name(ct32);
	FILE *f = g->f;
	fprintf(f, "\tfor (size_t j = 0; j < %u; j++)\n\tfor (size_t r = 0; r < %u; r++)\n"
	        "\tfor (size_t b = 0; b < %u; b++) {\n", n->len / (rows * nb), rows, nb);
	fprintf(f, "\t\tsize_t lo = b * %u, hi = lo + %u < %u ? lo + %u : %u;\n\t\t%s acc = 0;\n",
	        bw, bw, cols, bw, cols, ct);
	fprintf(f, "\t\tfor (size_t c = lo; c < hi; c++)\n"
	        "\t\t\tacc += (%s)JT%u(r * %u + c) * (%s)%s[%u + j * %u + c];\n\t\t",
	        ct, n->aux, cols, ct, pool_name(g, a), g->slot[a], cols);
	Buf idx;
	bf(&idx, "(j * %u + r) * %u + b", rows, nb);
	store(g, r, idx.s, "acc");
	fputs("\t}\n", f);
}

static void emit_vcmul(CGen *g, Ref r, int ct32)
{
	const Module *m = g->m;
	const Node *n = ir_get(m, r);
	Ref a = ir_arg(m, n, 0);
	Buf e;
	bf(&e, "(%s)%s[%u + i] * (%s)JT%u(i %% %zu)", ct_name(ct32), pool_name(g, a),
	         g->slot[a], ct_name(ct32), n->aux, ir_tget(m, n->aux)->n);
	loop_open(g->f, n->len);
	store(g, r, "i", e.s);
}

/* ---- streams ------------------------------------------------------------ */

/* The part of a token op that runs in its operand's phase, at token t:
 * tall and tdelay fill their window buffers, tpick captures its token. */
void cg_emit_store(CGen *g, Ref r)
{
	const Node *n = ir_get(g->m, r);
	Ref a = ir_arg(g->m, n, 0);
	uint32_t xl = ir_get(g->m, a)->len, at = g->slot[r];
	fprintf(g->f, "\t/* %%%u = %s: store */\n", r, op_info[n->op].name);
	if (n->op == OP_TPICK)
		fprintf(g->f, "\tif (t == %lld)\n", (long long)n->imm);
	else
		at += n->op == OP_TDELAY ? xl : 0;   /* tdelay: the buffer follows the value */
	fprintf(g->f, "\tfor (size_t i = 0; i < %u; i++)\n\t\t%s[%u + %s%u + i] = %s[%u + i];\n",
	        xl, pool_name(g, r), at, n->op == OP_TPICK ? "0 * " : "t * ", xl, pool_name(g, a),
	        g->slot[a]);
}

/* A token op at token t (of its own phase). */
static void emit_token_op(CGen *g, Ref r)
{
	const Node *n = ir_get(g->m, r);
	const char *P = pool_name(g, r);
	switch (n->op) {
	case OP_TPOS: {   /* rows past the tensor's read 0 */
		Buf e;
		bf(&e, "(t < %u ? (uint64_t)JT%u(t * %u + i) : 0)", ir_tget(g->m, n->aux)->dims[0], n->aux,
		   n->len);
		loop_open(g->f, n->len);
		store(g, r, "i", e.s);
		break;
	}
	case OP_TBUF: {   /* lanes of tokens after t stay zero from token 0 on */
		Ref a = ir_arg(g->m, n, 0);
		uint32_t xl = ir_get(g->m, a)->len;
		fprintf(g->f, "\tif (t == 0)\n\t\tfor (size_t i = 0; i < %u; i++)\n\t\t\t%s[%u + i] = 0;\n",
		        n->len, P, g->slot[r]);
		fprintf(g->f, "\tif (t < %u)\n\t\tfor (size_t i = 0; i < %u; i++)\n"
		        "\t\t\t%s[%u + t * %u + i] = %s[%u + i];\n", n->len / xl, xl, P, g->slot[r], xl,
		        pool_name(g, a), g->slot[a]);
		break;
	}
	case OP_TDELAY:
		fprintf(g->f, "\tfor (size_t i = 0; i < %u; i++)\n\t\t%s[%u + i] = %s[%u + t * %u + i];\n",
		        n->len, P, g->slot[r], P, g->slot[r] + n->len, n->len);
		break;
	case OP_TSEQ:   /* token t: operand t, zeros past the last */
		fprintf(g->f, "\tswitch (t) {\n");
		for (uint32_t k = 0; k < n->nargs; k++) {
			Ref a = ir_arg(g->m, n, k);
			fprintf(g->f, "\tcase %u:\n\t\tfor (size_t i = 0; i < %u; i++)\n\t\t\t%s[%u + i] = "
			        "%s[%u + i];\n\t\tbreak;\n", k, n->len, P, g->slot[r], pool_name(g, a),
			        g->slot[a]);
		}
		fprintf(g->f, "\tdefault:\n\t\tfor (size_t i = 0; i < %u; i++)\n\t\t\t%s[%u + i] = 0;\n\t}\n",
		        n->len, P, g->slot[r]);
		break;
	case OP_WDELAY: {   /* the state (the window before; 0 after reset), then this window's */
		Ref a = ir_arg(g->m, n, 0);
		fprintf(g->f, "\tfor (size_t i = 0; i < %u; i++) {\n\t\t%s[%u + i] = %s[%u + i];\n"
		        "\t\t%s[%u + i] = %s[%u + i];\n\t}\n", n->len, P, g->slot[r], P,
		        g->slot[r] + n->len, P, g->slot[r] + n->len, pool_name(g, a), g->slot[a]);
		break;
	}
	default:   /* tall, tpick: their stores did the work */
		break;
	}
}

void cg_emit_node(CGen *g, Ref r)
{
	const Node *n = ir_get(g->m, r);
	int ct32 = ring_op(n->op) && n->width <= 32;
	fprintf(g->f, "\t/* %%%u = %s */\n", r, op_info[n->op].name);
	if (op_info[n->op].flags & OPF_TOKEN) {
		emit_token_op(g, r);
		return;
	}
	switch (n->op) {
	case OP_INPUT: case OP_OUTPUT: case OP_CONST: case OP_VCONST: emit_ports_consts(g, r, ct32); break;
	case OP_CONCAT: case OP_EXTRACT: emit_lanes(g, r, ct32); break;
	case OP_SUM: case OP_RMAX: emit_reduce(g, r, ct32); break;
	case OP_MATVEC: case OP_BMATVEC: emit_matvec(g, r, ct32); break;
	case OP_VCMUL: emit_vcmul(g, r, ct32); break;
	default: emit_elem(g, r, ct32); break;
	}
}
