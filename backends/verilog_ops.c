/*
 * verilog_ops.c -- one Verilog assignment per IR node, bit-exact with the
 * interpreter (docs/ir.md).
 *
 * Exact wrap semantics with plain unsigned Verilog: for add, sub, neg,
 * mul, cmul and shl the result mod 2^R only depends on the low R bits of
 * each operand, so every operand lane is first sign- or zero-extended (by
 * its own signedness) or truncated to the result width R -- vw_x() -- and
 * the operation is done in R bits.  Every expression therefore has exactly
 * the width of its target: no implicit extension, no lint warnings.
 *   shr x,k       bits [k, W) of x, extended by x's signedness to R
 *   roundshr x,k  (x >> k) + bit k-1 of x   (floor((x + 2^(k-1)) / 2^k))
 *   compares      both operands extended to a common width (one more bit
 *                 when the signedness differs) and compared with $signed
 *                 when either is signed
 *   sat           compared against the result type's bounds in
 *                 max(W, R) + 1 signed bits, bounds that cannot be
 *                 exceeded omitted
 *   lut           a function per (table, result width) holding a case
 *   matvec & co.  sums of constant products written with `*` (Yosys maps
 *                 them); positive terms first, then the negative ones
 * With --adder=ripple the carry-propagate adds are instances of a ripple-
 * carry module instead of `+`/`-` (see assign_rca below).
 * Elementwise ops on vectors use one generate loop over lanes (genvar gi);
 * a broadcast operand reads lane gi % len.
 */
#include <stdlib.h>
#include <string.h>

#include "verilog.h"

void vw_su(FILE *f, const char *s, uint64_t v, const char *t)
{
	char buf[96];
	size_t n = 0;
	while (*s && n < 40)
		buf[n++] = *s++;
	if (*s)   /* a long prefix: written as it is */
		fputs(s - n, f), n = 0;
	char d[20];
	int k = 0;
	do
		d[k++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (k > 0)
		buf[n++] = d[--k];
	while (*t && n < sizeof buf)
		buf[n++] = *t++;
	fwrite(buf, 1, n, f);
	if (*t)
		fputs(t, f);
}

VSrc vw_src(const Module *m, Ref ref, uint32_t lane)
{
	const Node *n = ir_get(m, ref);
	VSrc s = {NULL, ref, 0, 1, 0, lane, n->width, n->ty == TY_S};
	return s;
}

void vw_lit(VW *w, unsigned R, uint64_t v)
{
	if (R < 64)
		v &= ((uint64_t)1 << R) - 1;
	char h[17];
	int k = 0;
	do
		h[k++] = "0123456789abcdef"[v & 15];
	while ((v >>= 4) != 0);
	vw_su(w->f, "", R, "'h");
	while (k > 0)
		fputc(h[--k], w->f);
}

/* The bit offset (within the node's bus) of bit `bit` of the lane. */
static void put_ix(VW *w, const VSrc *s, uint64_t bit)
{
	uint64_t c = (uint64_t)s->add * s->width + bit;
	if (s->mod)
		fprintf(w->f, "(gi%%%u)*%u", s->mod, s->width);
	else
		fprintf(w->f, "gi*%llu", (unsigned long long)s->mul * s->width);
	if (c)
		fprintf(w->f, "+%llu", (unsigned long long)c);
}

/* Node ref's bus: nR, or (verilog_digit.c, an operand of a serial/parallel
 * converter) its deserialized word nR_wS. */
static void put_name(VW *w, Ref ref)
{
	if (w->dwin && ref != w->dcur && w->dwin[ref] != UINT32_MAX)
		fprintf(w->f, "n%u_w%u", ref, w->dwin[ref]);
	else
		vw_su(w->f, "n", ref, "");
}

/* Bits [lo, lo+n) of the lane. */
static void lut_name(VW *w, uint32_t tid, unsigned R, unsigned X);

static void put_bits(VW *w, const VSrc *s, unsigned lo, unsigned n)
{
	if (s->name)
		fputs(s->name, w->f);
	else
		put_name(w, s->ref);
	if (s->var) {
		fputc('[', w->f);
		put_ix(w, s, lo);
		if (n != 1)
			fprintf(w->f, " +: %u", n);
		fputc(']', w->f);
		return;
	}
	uint64_t b = (uint64_t)s->add * s->width + lo;
	int whole = lo == 0 && n == s->width && (s->name || ir_get(w->m, s->ref)->len == 1);
	if (whole)
		return;
	if (n == 1) {
		vw_su(w->f, "[", b, "]");
	} else {
		vw_su(w->f, "[", b + n - 1, "");
		vw_su(w->f, ":", b, "]");
	}
}

void vw_ext(VW *w, const VSrc *s, unsigned lo, unsigned n, int sgn, unsigned R)
{
	if (R <= n) {
		put_bits(w, s, lo, R);
		return;
	}
	unsigned k = R - n;
	fputc('{', w->f);
	if (!sgn) {
		vw_su(w->f, "", k, "'h0");
	} else if (k == 1) {
		put_bits(w, s, lo + n - 1, 1);
	} else {
		vw_su(w->f, "{", k, "{");
		put_bits(w, s, lo + n - 1, 1);
		fputs("}}", w->f);
	}
	fputs(", ", w->f);
	put_bits(w, s, lo, n);
	fputc('}', w->f);
}

void vw_x(VW *w, const VSrc *s, unsigned R)
{
	vw_ext(w, s, 0, s->width, s->sgn, R);
}

/* a OP b on the mathematical values of two lanes. */
static void put_cmp(VW *w, const VSrc *a, const VSrc *b, const char *op)
{
	unsigned c = a->width > b->width ? a->width : b->width;
	int sg = a->sgn || b->sgn;
	if (a->sgn != b->sgn)
		c++;
	fputs(sg ? "$signed(" : "(", w->f);
	vw_x(w, a, c);
	fprintf(w->f, ") %s %s", op, sg ? "$signed(" : "(");
	vw_x(w, b, c);
	fputc(')', w->f);
}

static void put_slit(VW *w, unsigned c, int64_t v)
{
	if (v < 0)
		fprintf(w->f, "-%u'sd%llu", c, (unsigned long long)(-(uint64_t)v));
	else
		fprintf(w->f, "%u'sd%llu", c, (unsigned long long)v);
}

static void put_sat(VW *w, const Node *n, const VSrc *x)
{
	unsigned R = n->width, c = (x->width > R ? x->width : R) + 1;
	int xt = x->sgn ? TY_S : TY_U;
	int64_t lo = ty_min(n->ty, R), hi = ty_max(n->ty, R);
	int u64r = n->ty == TY_U && R >= 64, u64x = xt == TY_U && x->width >= 64;
	int over = !u64r && (u64x || ty_max(xt, x->width) > hi);
	int under = ty_min(xt, x->width) < lo;
	if (over) {
		fputs("($signed(", w->f);
		vw_x(w, x, c);
		fputs(") > ", w->f);
		put_slit(w, c, hi);
		fputs(") ? ", w->f);
		vw_lit(w, R, (uint64_t)hi);
		fputs(" : ", w->f);
	}
	if (under) {
		fputs("($signed(", w->f);
		vw_x(w, x, c);
		fputs(") < ", w->f);
		put_slit(w, c, lo);
		fputs(") ? ", w->f);
		vw_lit(w, R, (uint64_t)lo);
		fputs(" : ", w->f);
	}
	vw_x(w, x, R);
}

static void put_shr(VW *w, const Node *n, const VSrc *x, unsigned k)
{
	if (k < x->width)
		vw_ext(w, x, k, x->width - k, x->sgn, n->width);
	else if (x->sgn)
		vw_ext(w, x, x->width - 1, 1, 1, n->width);
	else
		vw_lit(w, n->width, 0);
}

static void put_roundshr(VW *w, const Node *n, const VSrc *x, unsigned k)
{
	put_shr(w, n, x, k);
	fputs(" + ", w->f);
	if (k - 1 < x->width)
		vw_ext(w, x, k - 1, 1, 0, n->width);
	else if (x->sgn)
		vw_ext(w, x, x->width - 1, 1, 0, n->width);
	else
		vw_lit(w, n->width, 0);
}

static void put_shl(VW *w, const Node *n, const VSrc *x, unsigned k)
{
	unsigned R = n->width;
	if (k == 0) {
		vw_x(w, x, R);
	} else if (k >= R) {
		vw_lit(w, R, 0);
	} else {
		fputc('{', w->f);
		vw_x(w, x, R - k);
		fprintf(w->f, ", %u'h0}", k);
	}
}

/* x * c for a constant c, wrapped to R bits; a negative c is written as
 * a negated product so synthesis sees the small magnitude. */
static void put_cmul(VW *w, const VSrc *x, unsigned R, int64_t c, int first)
{
	uint64_t mag = c < 0 ? -(uint64_t)c : (uint64_t)c;
	if (c < 0)
		fputs(first ? "-" : " - ", w->f);
	else if (!first)
		fputs(" + ", w->f);
	vw_x(w, x, R);
	if (R < 64)
		mag &= ((uint64_t)1 << R) - 1;
	if (mag != 1) {
		fputs(" * ", w->f);
		vw_lit(w, R, mag);
	}
}

static void elem_expr(VW *w, Ref r, const VSrc *a)
{
	const Node *n = ir_get(w->m, r);
	unsigned R = n->width;
	static const char *const cmp[] = {[OP_EQ] = "==", [OP_NE] = "!=", [OP_LT] = "<", [OP_LE] = "<="};
	switch (n->op) {
	case OP_ADD: case OP_SUB: case OP_MUL:
		vw_x(w, &a[0], R);
		fputs(n->op == OP_ADD ? " + " : n->op == OP_SUB ? " - " : " * ", w->f);
		vw_x(w, &a[1], R);
		break;
	case OP_NEG:
		fputc('-', w->f);
		vw_x(w, &a[0], R);
		break;
	case OP_CMUL:
		if (n->imm == 0)
			vw_lit(w, R, 0);
		else
			put_cmul(w, &a[0], R, n->imm, 1);
		break;
	case OP_SHL: put_shl(w, n, &a[0], (unsigned)n->imm); break;
	case OP_SHR: put_shr(w, n, &a[0], (unsigned)n->imm); break;
	case OP_ROUNDSHR: put_roundshr(w, n, &a[0], (unsigned)n->imm); break;
	case OP_EXT: case OP_TRUNC: vw_x(w, &a[0], R); break;
	case OP_SLICE: put_bits(w, &a[0], (unsigned)n->imm, R); break;
	case OP_SAT: put_sat(w, n, &a[0]); break;
	case OP_EQ: case OP_NE: case OP_LT: case OP_LE:
		if (R > 1)
			fprintf(w->f, "{%u'h0, ", R - 1);
		put_cmp(w, &a[0], &a[1], cmp[n->op]);
		if (R > 1)
			fputc('}', w->f);
		break;
	case OP_SELECT:
		put_bits(w, &a[0], 0, 1);
		fputs(" ? ", w->f);
		vw_x(w, &a[1], R);
		fputs(" : ", w->f);
		vw_x(w, &a[2], R);
		break;
	case OP_MAX: case OP_MIN:
		put_cmp(w, &a[0], &a[1], n->op == OP_MAX ? ">" : "<");
		fputs(" ? ", w->f);
		vw_x(w, &a[0], R);
		fputs(" : ", w->f);
		vw_x(w, &a[1], R);
		break;
	case OP_LUT:
		lut_name(w, n->aux, R, a[0].width);
		fputc('(', w->f);
		put_bits(w, &a[0], 0, a[0].width);
		fputc(')', w->f);
		break;
	default:
		die("verilog: op %s is not elementwise", op_info[n->op].name);
	}
}

static int is_elem(int op)
{
	return (op_info[op].flags & OPF_ELEM) != 0;
}

int vw_uses_genvar(const Module *m, Ref r)
{
	const Node *n = ir_get(m, r);
	return n->len > 1 && (is_elem(n->op) || n->op == OP_SUM || n->op == OP_RMAX);
}

/* Operand a seen from lane gi of an L-lane result (lane 0 if L == 1). */
static VSrc elem_src(const Module *m, Ref a, uint32_t L)
{
	VSrc s = vw_src(m, a, 0);
	uint32_t la = ir_get(m, a)->len;
	if (L > 1 && la > 1) {
		s.var = 1;
		if (la != L)
			s.mod = la;
	}
	return s;
}

static void open_lane(VW *w, const Node *n, Ref r)
{
	if (n->len == 1) {
		vw_su(w->f, "\tassign n", r, " = ");
		return;
	}
	fprintf(w->f, "\tgenerate for (gi = 0; gi < %u; gi = gi + 1) begin : g_n%u\n", n->len, r);
}

static void close_lane(VW *w, const Node *n)
{
	fputs(n->len == 1 ? ";\n" : ";\n\tend endgenerate\n", w->f);
}

static void assign_elem(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	VSrc a[3];
	for (uint32_t j = 0; j < n->nargs && j < 3; j++)
		a[j] = elem_src(w->m, ir_arg(w->m, n, j), n->len);
	open_lane(w, n, r);
	if (n->len > 1)
		fprintf(w->f, "\t\tassign n%u[gi*%u +: %u] = ", r, n->width, n->width);
	elem_expr(w, r, a);
	close_lane(w, n);
}

/* Lane j of group gi (or of group 0 when the result has one lane). */
static VSrc group_src(const Module *m, Ref x, uint32_t L, uint32_t g, uint32_t j)
{
	VSrc s = vw_src(m, x, j);
	if (L > 1) {
		s.var = 1;
		s.mul = g;
	}
	return s;
}

static void assign_sum(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	Ref x = ir_arg(w->m, n, 0);
	uint32_t g = (uint32_t)n->imm;
	open_lane(w, n, r);
	if (n->len > 1)
		fprintf(w->f, "\t\tassign n%u[gi*%u +: %u] = ", r, n->width, n->width);
	for (uint32_t j = 0; j < g; j++) {
		VSrc s = group_src(w->m, x, n->len, g, j);
		if (j)
			fputs(j % 8 ? " + " : "\n\t\t\t+ ", w->f);
		vw_x(w, &s, n->width);
	}
	close_lane(w, n);
}

static void assign_rmax(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	Ref x = ir_arg(w->m, n, 0);
	uint32_t g = (uint32_t)n->imm;
	unsigned W = ir_get(w->m, x)->width;
	int vec = n->len > 1;
	char cur[48], prev[48] = "";
	if (vec)
		fprintf(w->f, "\tgenerate for (gi = 0; gi < %u; gi = gi + 1) begin : g_n%u\n", n->len, r);
	for (uint32_t j = 0; j < g; j++) {
		VSrc s = group_src(w->m, x, n->len, g, j);
		if (vec)
			snprintf(cur, sizeof cur, "m%u", j);
		else
			snprintf(cur, sizeof cur, "n%u_m%u", r, j);
		fprintf(w->f, "%swire [%u:0] %s = ", vec ? "\t\t" : "\t", W - 1, cur);
		if (j == 0) {
			vw_x(w, &s, W);
		} else {
			VSrc p = {prev, 0, 0, 1, 0, 0, W, s.sgn};
			put_cmp(w, &s, &p, ">");
			fputs(" ? ", w->f);
			vw_x(w, &s, W);
			fprintf(w->f, " : %s", prev);
		}
		fputs(";\n", w->f);
		snprintf(prev, sizeof prev, "%s", cur);
	}
	VSrc last = {prev, 0, 0, 1, 0, 0, W, ir_get(w->m, x)->ty == TY_S};
	if (vec)
		fprintf(w->f, "\t\tassign n%u[gi*%u +: %u] = ", r, n->width, n->width);
	else
		fprintf(w->f, "\tassign n%u = ", r);
	vw_x(w, &last, n->width);
	close_lane(w, n);
}

/* --adder=ripple.  Every carry-propagate add -- add, sub, neg, roundshr
 * and each step of a sum -- is an instance of one ripple-carry module,
 * written once per file (vw_rca_module), with positional connections:
 *   RCA #(W[, NA[, NB]]) NAME (A, B, CI, Y)     y = a + b + ci mod 2^W
 * A signed operand narrower than W is passed as is (NA or NB bits) and
 * sign-extended inside; the narrower one is b, whose extension bits cost
 * an incrementer/decrementer instead of full adders.  sub is a + ~b + 1,
 * neg 0 + ~a + 1, roundshr (x >> k) + 0 with bit k-1 as the carry-in.  A
 * sum of g lanes is a chain of g - 1 adders: a chain of ripple adders is
 * W + g - 2 full-adder delays deep, no deeper than a tree, with as many
 * full adders as carry-save compression would use.  NAME is nR_add or
 * nR_aJ for a scalar node (no other name has that shape), u or uJ inside
 * a vector's generate block; sums' temporaries are nR_sJ or sJ. */
static int rca_op(const Node *n)
{
	switch (n->op) {
	case OP_ADD: case OP_SUB: case OP_NEG: case OP_ROUNDSHR: return 1;
	case OP_SUM: return n->imm >= 2;
	default: return 0;
	}
}

int vw_uses_rca(const VW *w, Ref r)
{
	return w->ripple && rca_op(ir_get(w->m, r));
}

void vw_rca_module(VW *w)
{
	fprintf(w->f, "\n// Ripple-carry adder (--adder=ripple): y = a + b + ci mod 2^W, a and b\n"
	        "// sign-extended from NA and NB bits.  Bits i >= NB add ci - b[NB-1] to a:\n"
	        "// an incrementer/decrementer chain k (k = c ^ b[NB-1] at bit NB).  The\n"
	        "// carries are written one bit per assignment (a generate loop), so that\n"
	        "// no tool reads the chain through c or k as a loop.\n"
	        "module %s #(parameter W = 8, parameter NA = W, parameter NB = W) (\n"
	        "\tinput wire [NA-1:0] a,\n\tinput wire [NB-1:0] b,\n\tinput wire ci,\n"
	        "\toutput wire [W-1:0] y\n);\n\twire [W-1:0] ax, bx, p;\n"
	        "\twire [NB:0] c /* verilator split_var */;\n\tgenvar i;\n"
	        "\tgenerate if (NA < W) begin : g_sa\n\t\tassign ax = {{(W-NA){a[NA-1]}}, a};\n"
	        "\tend else begin : g_a\n\t\tassign ax = a;\n\tend endgenerate\n"
	        "\tgenerate if (NB < W) begin : g_sb\n\t\twire [W:NB] k /* verilator split_var */;\n"
	        "\t\tassign bx = {{(W-NB){b[NB-1]}}, b};\n\t\tassign k[NB] = c[NB] ^ b[NB-1];\n"
	        "\t\tfor (i = NB; i < W; i = i + 1) begin : g_k\n"
	        "\t\t\tassign k[i+1] = k[i] & p[i];\n\t\tend\n"
	        "\t\tassign y[W-1:NB] = ax[W-1:NB] ^ k[W-1:NB];\n"
	        "\tend else begin : g_b\n\t\tassign bx = b;\n\tend endgenerate\n"
	        "\tassign p = ax ^ bx;\n\tassign c[0] = ci;\n"
	        "\tgenerate for (i = 0; i < NB; i = i + 1) begin : g_c\n"
	        "\t\tassign c[i+1] = (ax[i] & b[i]) | (c[i] & p[i]);\n\tend endgenerate\n"
	        "\tassign y[NB-1:0] = p[NB-1:0] ^ c[NB-1:0];\n"
	        "endmodule\n", w->rca);
}

/* The bits operand s is passed with into an R-bit adder. */
static unsigned rca_n(const VSrc *s, unsigned R)
{
	return s->sgn && s->width < R ? s->width : R;
}

/* The operand (~ before it if inv), narrow if signed. */
static void rca_arg(VW *w, const VSrc *s, unsigned R, int inv)
{
	if (inv)
		fputc('~', w->f);
	if (rca_n(s, R) < R)
		put_bits(w, s, 0, s->width);
	else
		vw_x(w, s, R);
}

/* "RCA #(R[, na[, nb]]) NAME (" */
static void rca_open(VW *w, unsigned R, unsigned na, unsigned nb, int vec, const char *inst)
{
	fprintf(w->f, "%s%s #(%u", vec ? "\t\t" : "\t", w->rca, R);
	if (na < R || nb < R)
		fprintf(w->f, ", %u", na);
	if (nb < R)
		fprintf(w->f, ", %u", nb);
	fprintf(w->f, ") %s (", inst);
}

/* ", Y);" with Y the temporary tmp or the node's lane. */
static void rca_close(VW *w, Ref r, const char *tmp)
{
	const Node *n = ir_get(w->m, r);
	fputs(", ", w->f);
	if (tmp)
		fputs(tmp, w->f);
	else if (n->len > 1)
		fprintf(w->f, "n%u[gi*%u +: %u]", r, n->width, n->width);
	else
		fprintf(w->f, "n%u", r);
	fputs(");\n", w->f);
}

/* roundshr x,k: (x >> k) + 0 + bit k-1 of x (as in put_roundshr). */
static void rca_round(VW *w, const Node *n, const VSrc *x, unsigned k)
{
	put_shr(w, n, x, k);
	fputs(", 1'b0, ", w->f);
	if (k - 1 >= x->width && !x->sgn)
		fputs("1'b0", w->f);
	else
		put_bits(w, x, k - 1 < x->width ? k - 1 : x->width - 1, 1);
}

/* add, sub, neg: x + y, x + ~y + 1, 0 + ~y + 1 (the narrower addend of
 * an add as y); roundshr: shr + 0 + the rounding bit. */
static void rca_elem(VW *w, Ref r, const VSrc *a)
{
	const Node *n = ir_get(w->m, r);
	unsigned R = n->width;
	int op = n->op, sub = op == OP_SUB || op == OP_NEG;
	const VSrc *x = &a[0], *y = op == OP_NEG ? &a[0] : &a[1];
	char inst[32] = "u";
	if (n->len == 1)
		snprintf(inst, sizeof inst, "n%u_add", r);
	if (op == OP_ADD && rca_n(&a[0], R) < rca_n(&a[1], R))
		x = &a[1], y = &a[0];
	if (op == OP_ROUNDSHR) {
		rca_open(w, R, R, 1, n->len > 1, inst);
		rca_round(w, n, x, (unsigned)n->imm);
	} else {
		rca_open(w, R, op == OP_NEG ? 1 : rca_n(x, R), rca_n(y, R), n->len > 1, inst);
		if (op == OP_NEG)
			fputs("1'b0", w->f);
		else
			rca_arg(w, x, R, 0);
		fputs(", ", w->f);
		rca_arg(w, y, R, sub);
		fputs(sub ? ", 1'b1" : ", 1'b0", w->f);
	}
	rca_close(w, r, NULL);
}

/* sum: x0 + x1 -> s1, s1 + x2 -> s2, ..., s(g-2) + x(g-1) -> the lane. */
static void rca_sum(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	Ref x = ir_arg(w->m, n, 0);
	uint32_t g = (uint32_t)n->imm;
	unsigned R = n->width;
	int vec = n->len > 1;
	char tmp[40], prev[40], inst[40];
	VSrc s0 = group_src(w->m, x, n->len, g, 0);
	for (uint32_t j = 1; j < g; j++) {
		VSrc s = group_src(w->m, x, n->len, g, j);
		if (vec) {
			snprintf(tmp, sizeof tmp, "s%u", j);
			snprintf(inst, sizeof inst, "u%u", j);
		} else {
			snprintf(tmp, sizeof tmp, "n%u_s%u", r, j);
			snprintf(inst, sizeof inst, "n%u_a%u", r, j);
		}
		if (j < g - 1)
			fprintf(w->f, "%swire [%u:0] %s;\n", vec ? "\t\t" : "\t", R - 1, tmp);
		rca_open(w, R, j == 1 ? rca_n(&s0, R) : R, rca_n(&s, R), vec, inst);
		if (j == 1)
			rca_arg(w, &s0, R, 0);
		else
			fputs(prev, w->f);
		fputs(", ", w->f);
		rca_arg(w, &s, R, 0);
		fputs(", 1'b0", w->f);
		rca_close(w, r, j < g - 1 ? tmp : NULL);
		memcpy(prev, tmp, sizeof prev);
	}
}

static void assign_rca(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	if (n->len > 1)
		fprintf(w->f, "\tgenerate for (gi = 0; gi < %u; gi = gi + 1) begin : g_n%u\n", n->len, r);
	if (n->op == OP_SUM) {
		rca_sum(w, r);
	} else {
		VSrc a[2];
		for (uint32_t j = 0; j < n->nargs && j < 2; j++)
			a[j] = elem_src(w->m, ir_arg(w->m, n, j), n->len);
		rca_elem(w, r, a);
	}
	if (n->len > 1)
		fputs("\tend endgenerate\n", w->f);
}

/* "assign nR[lane] = " */
static void open_target(VW *w, Ref r, uint32_t lane)
{
	VSrc t = vw_src(w->m, r, lane);
	fputs("\tassign ", w->f);
	put_bits(w, &t, 0, t.width);
	fputs(" = ", w->f);
}

/* Sum over c in [c0, c1) of code(row, c) * x[xbase + c]: positive terms
 * first, then the negative ones. */
static void put_row(VW *w, Ref x, const Tensor *t, uint32_t row, uint32_t c0, uint32_t c1,
                    uint32_t xbase, unsigned R)
{
	int first = 1, terms = 0;
	for (int neg = 0; neg < 2; neg++)
		for (uint32_t c = c0; c < c1; c++) {
			int32_t code = t->codes[(size_t)row * t->dims[1] + c];
			if (code == 0 || (code < 0) != neg)
				continue;
			VSrc s = vw_src(w->m, x, xbase + c);
			if (terms && terms % 6 == 0)
				fputs("\n\t\t", w->f);
			put_cmul(w, &s, R, code, first);
			first = 0;
			terms++;
		}
	if (first)
		vw_lit(w, R, 0);
	fputs(";\n", w->f);
}

static void assign_matvec(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	const Tensor *t = ir_tget(w->m, n->aux);
	Ref x = ir_arg(w->m, n, 0);
	uint32_t rows = t->dims[0], cols = t->dims[1];
	uint32_t nb = n->op == OP_BMATVEC ? tensor_nblocks(t) : 1;
	uint32_t bw = n->op == OP_BMATVEC ? Q4_BLOCK : cols;
	uint32_t k = n->len / (rows * nb);
	for (uint32_t j = 0; j < k; j++)
		for (uint32_t row = 0; row < rows; row++)
			for (uint32_t b = 0; b < nb; b++) {
				uint32_t c0 = b * bw, c1 = c0 + bw < cols ? c0 + bw : cols;
				open_target(w, r, (j * rows + row) * nb + b);
				put_row(w, x, t, row, c0, c1, j * cols, n->width);
			}
}

static void assign_vcmul(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	const Tensor *t = ir_tget(w->m, n->aux);
	Ref x = ir_arg(w->m, n, 0);
	uint32_t lx = ir_get(w->m, x)->len;
	for (uint32_t i = 0; i < n->len; i++) {
		int32_t code = t->codes[i % t->n];
		VSrc s = vw_src(w->m, x, lx == n->len ? i : i % lx);
		open_target(w, r, i);
		if (code == 0)
			vw_lit(w, n->width, 0);
		else
			put_cmul(w, &s, n->width, code, 1);
		fputs(";\n", w->f);
	}
}

/* Lanes [lo, lo+cnt) of x, each wrapped to R bits, highest lane first. */
static void put_lanes(VW *w, Ref x, uint32_t lo, uint32_t cnt, unsigned R, int *items)
{
	const Node *xn = ir_get(w->m, x);
	if (xn->width == R) {
		if (*items)
			fputs(", ", w->f);
		put_name(w, x);
		if (cnt != xn->len)
			fprintf(w->f, "[%llu:%llu]", (unsigned long long)(lo + cnt) * R - 1,
			        (unsigned long long)lo * R);
		(*items)++;
		return;
	}
	for (uint32_t i = cnt; i-- > 0;) {
		VSrc s = vw_src(w->m, x, lo + i);
		fputs(*items ? (*items % 8 ? ", " : ",\n\t\t") : "", w->f);
		vw_x(w, &s, R);
		(*items)++;
	}
}

static void assign_concat(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	int items = 0;
	fprintf(w->f, "\tassign n%u = {", r);
	for (uint32_t j = n->nargs; j-- > 0;) {
		Ref x = ir_arg(w->m, n, j);
		put_lanes(w, x, 0, ir_get(w->m, x)->len, n->width, &items);
	}
	fputs("};\n", w->f);
}

static void assign_extract(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	int items = 0;
	fprintf(w->f, "\tassign n%u = {", r);
	put_lanes(w, ir_arg(w->m, n, 0), (uint32_t)n->imm, n->len, n->width, &items);
	fputs("};\n", w->f);
}

static void assign_const(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	fprintf(w->f, "\tassign n%u = ", r);
	if (n->len > 1)
		fprintf(w->f, "{%u{", n->len);
	vw_lit(w, n->width, (uint64_t)n->imm);
	fputs(n->len > 1 ? "}};\n" : ";\n", w->f);
}

static void assign_vconst(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	const Tensor *t = ir_tget(w->m, n->aux);
	fprintf(w->f, "\tassign n%u = {", r);
	for (uint32_t i = n->len; i-- > 0;) {
		if (i != n->len - 1)
			fputs((n->len - 1 - i) % 8 ? ", " : ",\n\t\t", w->f);
		vw_lit(w, n->width, (uint64_t)(int64_t)t->codes[i]);
	}
	fputs("};\n", w->f);
}

static void assign_reg(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	Ref x = ir_arg(w->m, n, 0);
	int items = 0;
	fputs("\talways @(posedge clk)", w->f);
	fputs(VW_IFCE(w), w->f);
	vw_su(w->f, " n", r, " <= ");
	if (ir_get(w->m, x)->width == n->width && ir_get(w->m, x)->len == n->len) {
		vw_su(w->f, "n", x, ";\n");
		return;
	}
	fputc('{', w->f);
	put_lanes(w, x, 0, n->len, n->width, &items);
	fputs("};\n", w->f);
}

void vw_assign(VW *w, Ref r)
{
	switch (ir_get(w->m, r)->op) {
	case OP_INPUT: case OP_OUTPUT: break;   /* verilog.c: ports */
	case OP_CONST: assign_const(w, r); break;
	case OP_VCONST: assign_vconst(w, r); break;
	case OP_CONCAT: assign_concat(w, r); break;
	case OP_EXTRACT: assign_extract(w, r); break;
	case OP_SUM: vw_uses_rca(w, r) ? assign_rca(w, r) : assign_sum(w, r); break;
	case OP_RMAX: assign_rmax(w, r); break;
	case OP_MATVEC: case OP_BMATVEC: assign_matvec(w, r); break;
	case OP_VCMUL: assign_vcmul(w, r); break;
	case OP_REG: assign_reg(w, r); break;
	case OP_MUL:
		if (w->ts.unit && w->ts.unit[r]) {
			vt_assign(w, r);
			break;
		}
		/* fall through */
	default: vw_uses_rca(w, r) ? assign_rca(w, r) : assign_elem(w, r); break;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* lut_T_R reads a full table (2^width(index) rows), lut_T_R_X a short one by
 * an X-bit index (docs/ir.md: indexes past its end read the last row). */
static void lut_name(VW *w, uint32_t tid, unsigned R, unsigned X)
{
	if (ir_tget(w->m, tid)->n == (size_t)1 << X)
		fprintf(w->f, "lut_%u_%u", tid, R);
	else
		fprintf(w->f, "lut_%u_%u_%u", tid, R, X);
}

/* A function holding a case of the table's rows; the default (indexes past
 * a short table's end) is the last row. */
static void lut_function(VW *w, uint32_t tid, unsigned R, unsigned X)
{
	const Tensor *t = ir_tget(w->m, tid);
	fprintf(w->f, "\tfunction [%u:0] ", R - 1);
	lut_name(w, tid, R, X);
	fprintf(w->f, ";\n\t\tinput [%u:0] ix;\n\t\tbegin\n\t\t\tcase (ix)\n", X ? X - 1 : 0);
	for (size_t i = 0; i < t->n; i++) {
		fprintf(w->f, "\t\t\t%u'h%zx: ", X ? X : 1, i);
		lut_name(w, tid, R, X);
		fputs(" = ", w->f);
		vw_lit(w, R, (uint64_t)(int64_t)t->codes[i]);
		fputs(";\n", w->f);
	}
	fputs("\t\t\tdefault: ", w->f);
	lut_name(w, tid, R, X);
	if (t->n == (size_t)1 << X)
		fprintf(w->f, " = %u'h0", R);
	else {
		fputs(" = ", w->f);
		vw_lit(w, R, (uint64_t)(int64_t)t->codes[t->n - 1]);
	}
	fputs(";\n\t\t\tendcase\n\t\tend\n\tendfunction\n", w->f);
}

void vw_lut_functions(VW *w, uint32_t k)
{
	uint32_t cnt = w->rstart[k + 1] - w->rstart[k], nk = 0;
	uint64_t *keys = xmalloc((cnt + 1) * sizeof *keys);
	for (uint32_t i = w->rstart[k]; i < w->rstart[k + 1]; i++) {
		const Node *n = ir_get(w->m, w->byreg[i]);
		if (n->op == OP_LUT)
			keys[nk++] = (uint64_t)n->aux << 16 | (uint64_t)n->width << 8
			             | ir_get(w->m, ir_arg(w->m, n, 0))->width;
	}
	qsort(keys, nk, sizeof *keys, cmp_u64);
	for (uint32_t i = 0; i < nk; i++)
		if (i == 0 || keys[i] != keys[i - 1])
			lut_function(w, (uint32_t)(keys[i] >> 16), (unsigned)(keys[i] >> 8 & 0xff),
			             (unsigned)(keys[i] & 0xff));
	free(keys);
}
