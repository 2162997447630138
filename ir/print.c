/*
 * print.c -- writes a Module in the IR text form (.jir), canonically.
 *
 * The output is the canonical form defined in docs/ir.md ("Text form"):
 * parsing it and printing again gives the same bytes.  Layout:
 *
 *   module "name"
 *   <blank line> tensors, each a header line and its data sections
 *   <blank line> nodes in index order, a `region` line before every node
 *                whose region differs from the previous printed node's
 *
 * Values are numbered %0, %1, ... in node order; only live, result-producing
 * nodes get numbers.  Dead nodes are skipped (an operand that is dead prints
 * as %dead.N, which does not parse: dumps of broken modules stay readable).
 *
 * Speed: the printer formats into its own buffer and hands it to fwrite in
 * large chunks; integers are formatted by hand; reals use snprintf except
 * for the common case of small integral values, which print identically.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

enum { OUTBUF = 1 << 16, NUMS_PER_LINE = 16 };

typedef struct Out {
	FILE *f;
	size_t n;
	char buf[OUTBUF];
} Out;

static void out_flush(Out *o)
{
	if (o->n && fwrite(o->buf, 1, o->n, o->f) != o->n)
		fatal("<output>", "write error");
	o->n = 0;
}

/* Makes room for k more bytes (k <= OUTBUF). */
static char *out_room(Out *o, size_t k)
{
	if (o->n + k > OUTBUF)
		out_flush(o);
	return o->buf + o->n;
}

static void out_mem(Out *o, const char *s, size_t k)
{
	while (k) {
		size_t chunk = k < OUTBUF ? k : OUTBUF;
		memcpy(out_room(o, chunk), s, chunk);
		o->n += chunk;
		s += chunk;
		k -= chunk;
	}
}

static void out_str(Out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void out_ch(Out *o, char c)
{
	*out_room(o, 1) = c;
	o->n++;
}

static void out_int(Out *o, int64_t v)
{
	char tmp[24];
	int k = sizeof tmp;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[--k] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--k] = '-';
	out_mem(o, tmp + k, sizeof tmp - k);
}

/* "%.9g" of a float (f32 = 1) or "%.17g" of a double. */
static void out_real(Out *o, double v, int f32)
{
	if (fabs(v) < 1e9 && v == (double)(int32_t)v && !(v == 0 && signbit(v))) {
		out_int(o, (int64_t)v);
		return;
	}
	char *p = out_room(o, 40);
	int k = f32 ? snprintf(p, 40, "%.9g", (double)(float)v) : snprintf(p, 40, "%.17g", v);
	o->n += (size_t)k;
}

/* A string literal: printable ASCII as is, '"' and '\' escaped, else \xHH. */
static void out_quoted(Out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	out_ch(o, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			out_ch(o, '\\');
			out_ch(o, (char)*p);
		} else if (*p >= 0x20 && *p < 0x7f) {
			out_ch(o, (char)*p);
		} else {
			char e[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
			out_mem(o, e, 4);
		}
	}
	out_ch(o, '"');
}

static void out_type(Out *o, const Node *n)
{
	if (n->ty == TY_F) {
		out_str(o, "f64");
	} else {
		out_ch(o, n->ty == TY_S ? 's' : 'u');
		out_int(o, n->width);
	}
	if (n->len != 1) {
		out_ch(o, 'x');
		out_int(o, n->len);
	}
	if (n->flags & NF_RATE)
		out_str(o, n->flags & NF_STREAM ? "/t" : "/w");
}

/* ---- tensors ------------------------------------------------------------ */

/* "  kw v v ..." with NUMS_PER_LINE numbers per line; continuation lines
 * indented by 4 spaces.  Exactly one of codes/reals/scales is used. */
static void out_section(Out *o, const char *kw, size_t count, const int32_t *codes,
                        const double *reals, const float *scales, int f32)
{
	out_str(o, "  ");
	out_str(o, kw);
	for (size_t i = 0; i < count; i++) {
		if (i && i % NUMS_PER_LINE == 0)
			out_str(o, "\n   ");
		out_ch(o, ' ');
		if (codes)
			out_int(o, codes[i]);
		else if (scales)
			out_real(o, scales[i], 1);
		else
			out_real(o, reals[i], f32);
	}
	out_ch(o, '\n');
}

static void print_tensor(Out *o, const Module *m, uint32_t id)
{
	static const char *const kinds[] = {[TK_INT] = "int", [TK_Q4] = "q4",
	                                    [TK_I8] = "i8", [TK_F32] = "f32", [TK_F64] = "f64"};
	const Tensor *t = ir_tget(m, id);
	if (t->kind > TK_F64)
		die("tensor @%u has a bad kind %d", id, t->kind);
	out_str(o, "tensor @");
	out_int(o, id);
	out_ch(o, ' ');
	out_str(o, kinds[t->kind]);
	out_ch(o, ' ');
	for (int d = 0; d < (t->ndim == 1 ? 1 : 2); d++) {
		out_ch(o, '[');
		out_int(o, t->dims[d]);
		out_ch(o, ']');
	}
	out_ch(o, ' ');
	out_quoted(o, ir_strget(m, t->name));
	if (t->kind == TK_INT) {
		out_str(o, " frac ");
		out_int(o, t->frac);
	}
	out_ch(o, '\n');
	if (t->kind == TK_Q4)
		out_section(o, "scales", (size_t)t->dims[0] * tensor_nblocks(t), NULL, NULL, t->scales, 1);
	else if (t->kind == TK_I8)
		out_section(o, "scales", t->dims[0], NULL, NULL, t->scales, 1);
	if (tensor_has_codes(t))
		out_section(o, "codes", t->n, t->codes, NULL, NULL, 0);
	else
		out_section(o, "values", t->n, NULL, t->reals, NULL, t->kind == TK_F32);
}

/* ---- nodes -------------------------------------------------------------- */

static void out_value(Out *o, const Module *m, const uint32_t *num, Ref a)
{
	if (a < m->nnodes && num[a] != UINT32_MAX) {   /* (UINT32_MAX: dead, or no result) */
		out_ch(o, '%');
		out_int(o, num[a]);
	} else {
		out_str(o, "%dead.");
		out_int(o, a);
	}
}

/* The operands of n, following its op's signature. */
static void print_operands(Out *o, const Module *m, const uint32_t *num, const Node *n)
{
	const char *sig = op_info[n->op].sig;
	uint32_t k = 0;
	for (int i = 0; sig[i]; i++) {
		out_str(o, i ? ", " : " ");
		switch (sig[i]) {
		case 'v':
			if (k < n->nargs)
				out_value(o, m, num, ir_arg(m, n, k++));
			break;
		case '*':
			for (uint32_t k0 = k; k < n->nargs; k++) {
				if (k != k0)
					out_str(o, ", ");
				out_value(o, m, num, ir_arg(m, n, k));
			}
			break;
		case 'i':
			out_int(o, n->imm);
			break;
		case 'j':
			out_int(o, n->aux);
			break;
		case 'r':
			out_real(o, ir_fimm(n), 0);
			break;
		case 't':
			out_ch(o, '@');
			out_int(o, n->aux);
			break;
		case 's':
			out_quoted(o, n->aux < m->nstrs ? ir_strget(m, n->aux) : "");
			break;
		}
	}
	out_ch(o, '\n');
}

enum { PRINT_PF = 16 };   /* nodes ahead whose operands' numbers are prefetched */

static void print_nodes(Out *o, const Module *m)
{
	uint32_t *num = xmalloc(((size_t)m->nnodes + 1) * sizeof *num);
	uint32_t next = 0, region = 0, first = 1;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		int value = n->op < OP_COUNT && !(op_info[n->op].flags & OPF_NORESULT);
		num[r] = value && !(n->flags & NF_DEAD) ? next++ : UINT32_MAX;
	}
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (r + PRINT_PF < m->nnodes) {   /* operand numbers: random reads when out of order */
			const Node *f = ir_get(m, r + PRINT_PF);
			for (uint32_t i = 0; i < f->nargs && i < 4; i++)
				if (ir_arg(m, f, i) < m->nnodes)
					__builtin_prefetch(&num[ir_arg(m, f, i)]);
		}
		if (n->flags & NF_DEAD)
			continue;
		if (n->op >= OP_COUNT)
			die("node %u has a bad op %d", r, n->op);
		if (first)
			out_ch(o, '\n');
		first = 0;
		if (n->region != region) {
			region = n->region;
			out_str(o, "region ");
			out_quoted(o, ir_strget(m, region));
			out_ch(o, '\n');
		}
		if (num[r] != UINT32_MAX) {
			out_ch(o, '%');
			out_int(o, num[r]);
			out_str(o, " = ");
			out_str(o, op_info[n->op].name);
			out_ch(o, ' ');
			out_type(o, n);
		} else {
			out_str(o, op_info[n->op].name);
		}
		print_operands(o, m, num, n);
	}
	free(num);
}

void ir_print(const Module *m, FILE *f)
{
	Out *o = xmalloc(sizeof *o);
	o->f = f;
	o->n = 0;
	out_str(o, "module ");
	out_quoted(o, ir_strget(m, m->name));
	if (m->tokens) {
		out_str(o, " tokens ");
		out_int(o, m->tokens);
	}
	out_ch(o, '\n');
	if (m->ntensors)
		out_ch(o, '\n');
	for (uint32_t t = 0; t < m->ntensors; t++)
		print_tensor(o, m, t);
	print_nodes(o, m);
	out_flush(o);
	free(o);
}
