/*
 * c_tab.c -- the C backend's tables: the runtime helpers every generated
 * model carries, the weight tables, the record table of table nodes and
 * the optional main().
 *
 * Weight tables.  A tensor whose codes all fit in 91 consecutive values
 * (every Q4 and I8 tensor) is one byte per code in a string literal:
 * byte = code + bias, the bias chosen so that codes land on printable
 * characters other than '"', '?' (trigraphs) and '\\' when the range allows
 * (then the source has one character per weight), octal escapes otherwise.
 * JT<id>(i) reads code i.  Other tensors are int32_t arrays.
 *
 * Records (little-endian):  op, type (bit 7 signed, bits 0-6 width), flags
 * (bit k: operand k is u64; bit 7: a vector record), dst slot; a vector
 * record then has its lane count; then per operand its first slot (and,
 * for a vector record, its lane count: lane i reads lane i % count, the
 * broadcast rule); then the immediate: 8 bytes for const and cmul, 1 byte (clamped to 100)
 * for shift amounts.  A slot has bit 31 set for the wide pool.  jc_run()
 * computes every record modulo 2^64 from canonical operand bits and wraps
 * into the record's type exactly as the code nodes do.
 */
#include <stdlib.h>
#include <string.h>

#include "c_gen.h"

enum { JC_CONST, JC_COPY, JC_ADD, JC_SUB, JC_MUL, JC_NEG, JC_CMUL, JC_SHL, JC_SHR,
       JC_RSHR, JC_SLICE, JC_SAT, JC_EQ, JC_NE, JC_LT, JC_LE, JC_SEL, JC_MAX, JC_MIN };

static const char *const runtime_text =
"static inline int32_t jc_s32(uint32_t v) { return v <= 0x7fffffffu ? (int32_t)v : -(int32_t)~v - 1; }\n"
"static inline int64_t jc_s64(uint64_t v) { return v <= 0x7fffffffffffffffull ? (int64_t)v : -(int64_t)~v - 1; }\n"
"static inline uint64_t jc_sx(uint64_t v, unsigned w)\n"
"{\n\tuint64_t m = (uint64_t)1 << (w - 1);\n\treturn ((v & (UINT64_MAX >> (64 - w))) ^ m) - m;\n}\n"
"static inline int32_t jc_ns(uint32_t v, unsigned w)\n"
"{\n\tuint32_t m = (uint32_t)1 << (w - 1);\n\treturn jc_s32(((v & (m + m - 1u)) ^ m) - m);\n}\n"
"static inline int32_t jc_nu(uint32_t v, unsigned w) { return (int32_t)(v & (((uint32_t)1 << w) - 1u)); }\n"
"static inline int64_t jc_ws(uint64_t v, unsigned w) { return jc_s64(jc_sx(v, w)); }\n"
"static inline int64_t jc_wu(uint64_t v, unsigned w) { return jc_s64(v & (UINT64_MAX >> (64 - w))); }\n"
"static inline size_t jc_row(uint64_t i, size_t last) { return i < last ? (size_t)i : last; }\n"
"/* floor(x / 2^k), k < 64, without shifting a negative number */\n"
"static inline int64_t jc_sar(int64_t x, unsigned k)\n"
"{\n\treturn x < 0 ? -(int64_t)(~(uint64_t)x >> k) - 1 : (int64_t)((uint64_t)x >> k);\n}\n"
"/* compares canonical bits a, b as exact values; big = the operand is u64 */\n"
"static inline int jc_cmp(uint64_t a, int abig, uint64_t b, int bbig)\n"
"{\n\tint an = !abig && (a >> 63), bn = !bbig && (b >> 63);\n"
"\tif (an != bn)\n\t\treturn an ? -1 : 1;\n\treturn a < b ? -1 : a > b;\n}\n\n";

static const char *const run_text =
"static inline uint32_t jc_le32(const unsigned char *p)\n"
"{\n\treturn (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;\n}\n"
"static inline uint64_t jc_get(const int32_t *N, const int64_t *W, uint32_t s)\n"
"{\n\treturn s >> 31 ? (uint64_t)W[s & 0x7fffffffu] : (uint64_t)N[s];\n}\n"
"static uint64_t jc_shr(uint64_t a, int big, unsigned k)\n"
"{\n\tif (big)\n\t\treturn k >= 64 ? 0 : a >> k;\n"
"\tif (k >= 64)\n\t\treturn a >> 63 ? ~(uint64_t)0 : 0;\n\treturn (uint64_t)jc_sar(jc_s64(a), k);\n}\n"
"static uint64_t jc_rshr(uint64_t a, int big, unsigned k)\n"
"{\n\tif (k == 0)\n\t\treturn a;\n\tif (k >= 64)\n\t\treturn k == 64 && big ? a >> 63 : 0;\n"
"\treturn jc_shr(a, big, k) + ((a >> (k - 1)) & 1u);\n}\n"
"static uint64_t jc_sat(uint64_t a, int big, unsigned ty)\n"
"{\n\tunsigned w = ty & 127;\n\tint s = ty >> 7;\n"
"\tuint64_t hi = s ? (UINT64_MAX >> (65 - w)) : (UINT64_MAX >> (64 - w));\n"
"\tif (big)\n\t\treturn a > hi ? hi : a;\n\tint64_t x = jc_s64(a);\n"
"\tif (!s)\n\t\treturn x < 0 ? 0 : (uint64_t)x > hi ? hi : (uint64_t)x;\n"
"\tint64_t h = (int64_t)hi, l = -h - 1;\n\treturn (uint64_t)(x < l ? l : x > h ? h : x);\n}\n"
"static const unsigned char JC_NARGS[19] = {0, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 2, 2};\n"
"static const unsigned char JC_IMM[19] = {8, 0, 0, 0, 0, 0, 8, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0};\n"
"/* runs records p .. end (see the backend's c_tab.c for their layout) */\n"
"static void jc_run(const unsigned char *p, const unsigned char *end, int32_t *N, int64_t *W)\n"
"{\n\twhile (p < end) {\n"
"\t\tunsigned op = p[0], ty = p[1], fl = p[2], na = JC_NARGS[op], k = 0;\n"
"\t\tuint32_t d = jc_le32(p + 3), len = 1, s[3] = {0, 0, 0}, l[3] = {1, 1, 1}, j[3] = {0, 0, 0};\n"
"\t\tuint64_t x[3] = {0, 0, 0}, imm = 0, v;\n\t\tp += 7;\n"
"\t\tif (fl & 128) {\n\t\t\tlen = jc_le32(p);\n\t\t\tp += 4;\n\t\t}\n"
"\t\tfor (unsigned q = 0; q < na; q++) {\n\t\t\ts[q] = jc_le32(p);\n\t\t\tp += 4;\n"
"\t\t\tif (fl & 128) {\n\t\t\t\tl[q] = jc_le32(p);\n\t\t\t\tp += 4;\n\t\t\t}\n\t\t}\n"
"\t\tif (JC_IMM[op] == 1) {\n\t\t\tk = *p++;\n\t\t} else if (JC_IMM[op] == 8) {\n"
"\t\t\timm = (uint64_t)jc_le32(p) | (uint64_t)jc_le32(p + 4) << 32;\n\t\t\tp += 8;\n\t\t}\n"
"\t\tfor (uint32_t i = 0; i < len; i++) {\n"
"\t\t\tfor (unsigned q = 0; q < na; q++) {\n\t\t\t\tx[q] = jc_get(N, W, s[q] + j[q]);\n"
"\t\t\t\tif (++j[q] == l[q])\n\t\t\t\t\tj[q] = 0;\n\t\t\t}\n"
"\t\t\tuint64_t a = x[0], b = op == 6 ? imm : x[1], c = x[2];\n"
"\t\t\tswitch (op) {\n"
"\t\t\tcase 0: v = imm; break;\n\t\t\tcase 1: v = a; break;\n"
"\t\t\tcase 2: v = a + b; break;\n\t\t\tcase 3: v = a - b; break;\n"
"\t\t\tcase 4: case 6: v = a * b; break;\n\t\t\tcase 5: v = 0 - a; break;\n"
"\t\t\tcase 7: v = k >= 64 ? 0 : a << k; break;\n"
"\t\t\tcase 8: v = jc_shr(a, fl & 1, k); break;\n\t\t\tcase 9: v = jc_rshr(a, fl & 1, k); break;\n"
"\t\t\tcase 10: v = k >= 64 ? 0 : a >> k; break;\n\t\t\tcase 11: v = jc_sat(a, fl & 1, ty); break;\n"
"\t\t\tcase 12: v = jc_cmp(a, fl & 1, b, fl >> 1 & 1) == 0; break;\n"
"\t\t\tcase 13: v = jc_cmp(a, fl & 1, b, fl >> 1 & 1) != 0; break;\n"
"\t\t\tcase 14: v = jc_cmp(a, fl & 1, b, fl >> 1 & 1) < 0; break;\n"
"\t\t\tcase 15: v = jc_cmp(a, fl & 1, b, fl >> 1 & 1) <= 0; break;\n"
"\t\t\tcase 16: v = a ? b : c; break;\n"
"\t\t\tcase 17: v = jc_cmp(a, fl & 1, b, fl >> 1 & 1) < 0 ? b : a; break;\n"
"\t\t\tdefault: v = jc_cmp(b, fl >> 1 & 1, a, fl & 1) < 0 ? b : a; break;\n\t\t\t}\n"
"\t\t\tv = ty >> 7 ? jc_sx(v, ty & 127) : v & (UINT64_MAX >> (64 - (ty & 127)));\n"
"\t\t\tif (d >> 31)\n\t\t\t\tW[(d & 0x7fffffffu) + i] = jc_s64(v);\n\t\t\telse\n\t\t\t\tN[d + i] = (int32_t)jc_s64(v);\n"
"\t\t}\n\t}\n}\n\n";

void cg_emit_runtime(FILE *f)
{
	fputs(runtime_text, f);
}

/* ---- string literals ---------------------------------------------------- */

static int safe_char(int c)
{
	return c >= 32 && c < 127 && c != '"' && c != '?' && c != '\\';
}

void cg_write_bytes(FILE *f, const uint8_t *p, size_t n)
{
	size_t col = 0;
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		if (col >= 96) {
			fputs("\"\n\"", f);
			col = 0;
		}
		if (safe_char(p[i])) {
			fputc(p[i], f);
			col++;
		} else {
			fprintf(f, "\\%03o", p[i]);
			col += 4;
		}
	}
	fputc('"', f);
}

/* ---- weight tables ------------------------------------------------------ */

static int32_t choose_bias(const Tensor *t)
{
	int64_t lo = INT32_MAX, hi = INT32_MIN;
	for (size_t i = 0; i < t->n; i++) {
		lo = t->codes[i] < lo ? t->codes[i] : lo;
		hi = t->codes[i] > hi ? t->codes[i] : hi;
	}
	if (t->n == 0)
		return 64;
	if (hi - lo < 28)            /* '@' .. '[' */
		return (int32_t)(64 - lo);
	if (hi - lo < 34)            /* ']' .. '~' */
		return (int32_t)(93 - lo);
	if (hi - lo < 256)
		return (int32_t)-lo;
	return INT32_MIN;
}

static void emit_tensor(CGen *g, uint32_t id)
{
	const Tensor *t = ir_tget(g->m, id);
	FILE *f = g->f;
	if (!tensor_has_codes(t))
		fatal(NULL, "--emit=c: tensor '%s' has no integer codes", ESC(ir_strget(g->m, t->name)));
	int32_t bias = choose_bias(t);
	fprintf(f, "/* tensor %u: \"%s\", %zu codes */\n", id, ir_strget(g->m, t->name), t->n);
	if (bias == INT32_MIN) {
		fprintf(f, "static const int32_t JC_T%u[%zu] = {", id, t->n ? t->n : 1);
		for (size_t i = 0; i < t->n; i++)
			fprintf(f, "%s%d", i % 16 ? ", " : (i ? ",\n\t" : "\n\t"), t->codes[i]);
		fprintf(f, "%s};\n#define JT%u(i) JC_T%u[i]\n\n", t->n ? "\n" : "0", id, id);
		return;
	}
	uint8_t *b = xmalloc(t->n + 1);
	for (size_t i = 0; i < t->n; i++)
		b[i] = (uint8_t)(t->codes[i] + bias);
	fprintf(f, "static const unsigned char JC_T%u[%zu] =\n", id, t->n + 1);
	cg_write_bytes(f, b, t->n);
	fprintf(f, ";\n#define JT%u(i) ((int32_t)JC_T%u[i] - %d)\n\n", id, id, bias);
	free(b);
}

void cg_emit_tensors(CGen *g)
{
	int records = 0;
	for (uint32_t k = 0; k < g->norder && !records; k++)
		records = g->table[g->order[k]];
	if (records)
		fputs(run_text, g->f);
	for (uint32_t id = 0; id < g->m->ntensors; id++)
		if (g->tused[id])
			emit_tensor(g, id);
}

/* ---- records -------------------------------------------------------------- */

static void put(CGen *g, const void *p, size_t n)
{
	if (g->ntab + n > g->captab) {
		g->captab = (g->captab + n) * 2;
		g->tab = xrealloc(g->tab, g->captab);
	}
	memcpy(g->tab + g->ntab, p, n);
	g->ntab += n;
}

static void put_le(CGen *g, uint64_t v, int nbytes)
{
	uint8_t b[8];
	for (int i = 0; i < nbytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(g, b, (size_t)nbytes);
}

static uint32_t slot_ref(const CGen *g, Ref a, uint32_t lane)
{
	return (g->slot[a] + lane) | (g->pool[a] == POOL_W ? 0x80000000u : 0);
}

static int big(const Node *n)
{
	return n->ty == TY_U && n->width == 64;
}

static int rec_op(int op)
{
	switch (op) {
	case OP_CONST: return JC_CONST;
	case OP_ADD: return JC_ADD;
	case OP_SUB: return JC_SUB;
	case OP_MUL: return JC_MUL;
	case OP_NEG: return JC_NEG;
	case OP_CMUL: return JC_CMUL;
	case OP_SHL: return JC_SHL;
	case OP_SHR: return JC_SHR;
	case OP_ROUNDSHR: return JC_RSHR;
	case OP_SLICE: return JC_SLICE;
	case OP_SAT: return JC_SAT;
	case OP_EQ: return JC_EQ;
	case OP_NE: return JC_NE;
	case OP_LT: return JC_LT;
	case OP_LE: return JC_LE;
	case OP_SELECT: return JC_SEL;
	case OP_MAX: return JC_MAX;
	case OP_MIN: return JC_MIN;
	default: return JC_COPY;   /* ext trunc reg extract concat */
	}
}

/* One record: lanes dlane .. dlane+len-1 of node r from operands args
 * (lane i reads lane lanes[k] + i % alen[k] of args[k]).  A record with
 * len 1 and single-lane operands is written without lengths (flag 128 off). */
static void record(CGen *g, Ref r, uint32_t dlane, uint32_t len, int op, const Ref *args,
                   const uint32_t *lanes, const uint32_t *alen, uint32_t na)
{
	const Node *n = ir_get(g->m, r);
	int vec = len != 1;
	for (uint32_t k = 0; k < na; k++)
		vec |= alen[k] != 1;
	uint8_t h[3] = {(uint8_t)op, (uint8_t)((n->ty == TY_S ? 128 : 0) | n->width), vec ? 128 : 0};
	for (uint32_t k = 0; k < na; k++)
		h[2] |= (uint8_t)(big(ir_get(g->m, args[k])) << k);
	put(g, h, 3);
	put_le(g, slot_ref(g, r, dlane), 4);
	if (vec)
		put_le(g, len, 4);
	for (uint32_t k = 0; k < na; k++) {
		put_le(g, slot_ref(g, args[k], lanes[k]), 4);
		if (vec)
			put_le(g, alen[k], 4);
	}
	if (op == JC_CONST || op == JC_CMUL) {
		put_le(g, (uint64_t)n->imm, 8);
	} else if (op == JC_SHL || op == JC_SHR || op == JC_RSHR || op == JC_SLICE) {
		if (n->imm < 0)
			fatal(NULL, "--emit=c: %s by a negative amount", op_info[n->op].name);
		put_le(g, n->imm > 100 ? 100 : (uint64_t)n->imm, 1);
	}
}

void cg_tab_node(CGen *g, Ref r)
{
	const Module *m = g->m;
	const Node *n = ir_get(m, r);
	Ref args[3];
	uint32_t lanes[3] = {0, 0, 0}, alen[3];
	if (n->op == OP_CONCAT) {   /* one copy record per operand */
		uint32_t off = 0;
		for (uint32_t k = 0; k < n->nargs && off < n->len; k++) {
			Ref a = ir_arg(m, n, k);
			uint32_t la = ir_get(m, a)->len;
			la = la < n->len - off ? la : n->len - off;
			record(g, r, off, la, JC_COPY, &a, lanes, &la, 1);
			off += la;
		}
		return;
	}
	uint32_t na = n->op == OP_CONST ? 0 : n->op == OP_EXTRACT ? 1 : n->nargs;
	for (uint32_t k = 0; k < na; k++) {
		args[k] = ir_arg(m, n, k);
		alen[k] = ir_get(m, args[k])->len;
	}
	if (n->op == OP_EXTRACT)
		lanes[0] = (uint32_t)n->imm, alen[0] = n->len;
	record(g, r, 0, n->len, rec_op(n->op), args, lanes, alen, na);
}

/* ---- main() ---------------------------------------------------------------- */

static const char *const main_text =
"#ifndef JEPAC_NO_MAIN\n#include <errno.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n"
"static void jc_fail(long line, const char *fmt, size_t a, size_t b)\n"
"{\n\tfflush(stdout);\n\tfprintf(stderr, \"jepac: error: <stdin>: line %ld: \", line);\n"
"\tfprintf(stderr, fmt, a, b);\n\tfputc('\\n', stderr);\n\texit(1);\n}\n"
"static int jc_space(char c) { return c == ' ' || c == '\\t' || c == '\\r' || c == '\\n'; }\n"
"static double jc_pow2(int e)\n{\n\tdouble r = 1;\n\tfor (; e > 0; e--)\n\t\tr *= 2;\n"
"\tfor (; e < 0; e++)\n\t\tr /= 2;\n\treturn r;\n}\n"
"/* round-half-away-from-zero(x * 2^F), saturated into the port type */\n"
"static int64_t jc_quant(double x, int frac, int sgn, int w)\n{\n"
"\tdouble y = x * jc_pow2(frac);\n"
"\tif (y < 4503599627370496.0 && y > -4503599627370496.0) {\n"
"\t\tdouble t = (double)(int64_t)y, d = y - t;\n\t\ty = d >= 0.5 ? t + 1 : d <= -0.5 ? t - 1 : t;\n\t}\n"
"\tif (!sgn && w == 64) {\n\t\tif (y <= 0)\n\t\t\treturn 0;\n"
"\t\tif (y >= 18446744073709551616.0)\n\t\t\treturn -1;\n"
"\t\treturn jc_s64((uint64_t)y);\n\t}\n"
"\tint64_t lo = sgn ? -(int64_t)(UINT64_MAX >> (65 - w)) - 1 : 0;\n"
"\tint64_t hi = (int64_t)(UINT64_MAX >> (64 - w + sgn));\n"
"\tif (y <= (double)lo)\n\t\treturn lo;\n\tif (y >= (double)hi)\n\t\treturn hi;\n\treturn (int64_t)y;\n}\n"
"static int jc_fits(int64_t v, int sgn, int w)\n{\n"
"\tif (w == 64)\n\t\treturn sgn || v >= 0;\n"
"\tint64_t hi = (int64_t)(UINT64_MAX >> (64 - w + sgn));\n"
"\treturn v <= hi && v >= (sgn ? -hi - 1 : 0);\n}\n";

static void emit_port_table(const CGen *g, int op, const char *name)
{
	const Module *m = g->m;
	fprintf(g->f, "static const int %s[][4] = {  /* lanes, frac, signed, width */\n", name);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if ((n->flags & NF_DEAD) || n->op != op)
			continue;
		const Node *v = op == OP_OUTPUT ? ir_get(m, ir_arg(m, n, 0)) : n;
		fprintf(g->f, "\t{%zu, %d, %d, %u},\n", ir_vlanes(m, n), (int)n->imm, v->ty == TY_S, v->width);
	}
	fputs("\t{0, 0, 1, 64}\n};\n", g->f);
}

static const char *const main_body =
/* the same strict line reader as jepac --run (tools/jepac.c read_vec_line) */
"static size_t jc_line(char **buf, size_t *cap, long line)\n{\n"
"\tsize_t n = 0, max = 4096 + 64 * (size_t)JEPAC_IN_LANES;\n\tint c;\n"
"\twhile ((c = getchar()) != EOF) {\n"
"\t\tif (c == 0)\n\t\t\tjc_fail(line, \"NUL byte at column %zu\", n + 1, 0);\n"
"\t\tif (n >= max)\n\t\t\tjc_fail(line, \"longer than %zu bytes (the limit for %zu input "
"lanes: 4096 + 64 per lane)\", max, JEPAC_IN_LANES);\n"
"\t\tif (n + 2 > *cap) {\n\t\t\t*cap = *cap ? *cap * 2 : 256;\n"
"\t\t\t*buf = realloc(*buf, *cap);\n\t\t\tif (!*buf)\n\t\t\t\texit(2);\n\t\t}\n"
"\t\t(*buf)[n++] = (char)c;\n\t\tif (c == '\\n')\n\t\t\tbreak;\n\t}\n"
"\tif (ferror(stdin))\n\t\tjc_fail(line, \"read error\", 0, 0);\n"
"\tif (n && (*buf)[n - 1] != '\\n')\n\t\tjc_fail(line, \"no newline at the end of the input\", 0, 0);\n"
"\tif (n)\n\t\t(*buf)[n] = 0;\n\treturn n;\n}\n"
"static const size_t jc_nin = JEPAC_IN_LANES;\n"
"static void jc_parse(char *s, long line, int64_t *in, int raw)\n{\n"
"\tsize_t k = 0, lane = 0, p = 0;\n\tfor (;; k++) {\n"
"\t\twhile (jc_space(*s))\n\t\t\ts++;\n\t\tif (!*s)\n\t\t\tbreak;\n"
"\t\tif (k >= jc_nin)\n"
"\t\t\tjc_fail(line, \"more than the %zu values the input ports take\", JEPAC_IN_LANES, 0);\n"
"\t\twhile (lane >= (size_t)JC_IN[p][0])\n\t\t\tlane = 0, p++;\n\t\tlane++;\n"
"\t\tint sgn = JC_IN[p][2], w = JC_IN[p][3], ok;\n\t\tchar *end;\n\t\terrno = 0;\n"
"\t\tif (raw && !sgn && w == 64 && *s != '-') {\n"
"\t\t\tin[k] = jc_s64(strtoull(s, &end, 10));\n\t\t\tok = errno == 0;\n"
"\t\t} else if (raw) {\n\t\t\tin[k] = strtoll(s, &end, 10);\n"
"\t\t\tok = errno == 0 && jc_fits(in[k], sgn, w);\n\t\t} else {\n"
"\t\t\tdouble x = strtod(s, &end);\n\t\t\tok = end != s && x - x == 0;\n"
"\t\t\tif (ok)\n\t\t\t\tin[k] = jc_quant(x, JC_IN[p][1], sgn, w);\n\t\t}\n"
"\t\tif (end == s || (*end && !jc_space(*end)))\n"
"\t\t\tjc_fail(line, raw ? \"value %zu is not an integer\" : \"value %zu is not a number\", k + 1, 0);\n"
"\t\tif (!ok)\n\t\t\tjc_fail(line, \"value %zu is out of range for its port\", k + 1, 0);\n"
"\t\ts = end;\n\t}\n"
"\tif (k != jc_nin)\n\t\tjc_fail(line, \"expected %zu values, got %zu\", JEPAC_IN_LANES, k);\n}\n"
"static void jc_print(const int64_t *out, int raw)\n{\n\tsize_t k = 0;\n"
"\tfor (size_t p = 0; p < sizeof JC_OUT / sizeof JC_OUT[0]; p++)\n"
"\t\tfor (int l = 0; l < JC_OUT[p][0]; l++, k++) {\n"
"\t\t\tint big = !JC_OUT[p][2] && JC_OUT[p][3] == 64;\n"
"\t\t\tif (k)\n\t\t\t\tputchar(' ');\n"
"\t\t\tif (raw && big)\n\t\t\t\tprintf(\"%llu\", (unsigned long long)(uint64_t)out[k]);\n"
"\t\t\telse if (raw)\n\t\t\t\tprintf(\"%lld\", (long long)out[k]);\n"
"\t\t\telse\n\t\t\t\tprintf(\"%.17g\", (big ? (double)(uint64_t)out[k] : (double)out[k])"
" * jc_pow2(-JC_OUT[p][1]));\n\t\t}\n\tputchar('\\n');\n}\n"
"int main(void)\n{\n\tstatic int64_t in[JEPAC_IN_LANES + 1], out[JEPAC_OUT_LANES + 1];\n"
"\tchar *buf = NULL;\n\tsize_t cap = 0;\n\tlong line = 0;\n"
"\twhile (jc_line(&buf, &cap, ++line) > 0) {\n\t\tchar *p = buf;\n"
"\t\twhile (jc_space(*p))\n\t\t\tp++;\n\t\tif (!*p || *p == '#')\n\t\t\tcontinue;\n"
"\t\tjc_parse(buf, line, in, JC_RAW);\n\t\tjepac_eval(in, out);\n\t\tjc_print(out, JC_RAW);\n\t}\n"
"\tfree(buf);\n\treturn fflush(stdout) != 0;\n}\n#endif\n";

void cg_emit_main(const CGen *g)
{
	fputs("\n", g->f);
	fputs(main_text, g->f);
	fprintf(g->f, "#define JC_RAW %d\n", g->o->raw != 0);
	emit_port_table(g, OP_INPUT, "JC_IN");
	emit_port_table(g, OP_OUTPUT, "JC_OUT");
	fputs(main_body, g->f);
}
