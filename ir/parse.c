/*
 * parse.c -- reads the IR text form (.jir) into a Module.
 *
 * The grammar (normative spec: docs/ir.md, "Text form") is line oriented:
 *
 *   file     = { blank } 'module' STRING EOL { tensor } { region | node }
 *   tensor   = 'tensor' '@'N KIND SHAPE STRING [ 'frac' INT ] EOL
 *              [ 'scales' REAL... EOL ] ( 'codes' INT... | 'values' REAL... ) EOL
 *   region   = 'region' STRING EOL
 *   node     = '%'NAME '=' OP TYPE operands EOL  |  OP operands EOL  (no-result ops)
 *
 * ';' starts a comment to the end of the line.  Inside a tensor's data
 * sections newlines are plain whitespace: the counts follow from the shape.
 *
 * Algorithm: one pass, hand-written lexer over the byte buffer (never past
 * `n`, so the input need not be NUL-terminated).  Value names live in an
 * open-addressing hash table of symbols (a slot holds the name's first 8
 * bytes and a hash tag, and the slots of the names PF_LINES lines ahead are
 * prefetched: that hides the cache miss each lookup costs in a shuffled
 * file); while parsing, operand slots in
 * Module.argv hold symbol ids, and one final sweep replaces them with the
 * defining node's Ref (so forward references are free).  An undefined name
 * is reported at its first use.  No-result nodes (output) take their type
 * from their operand in the same sweep.
 *
 * Every error goes through fatal_at(file, line, col, ...); the parser never
 * allocates more than the input can describe (a tensor's element count is
 * checked against the bytes left before its arrays are allocated).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct Sym {
	const char *s;      /* name, points into the input text */
	uint32_t n;         /* name length */
	int line, col;      /* first appearance (use or definition) */
} Sym;

/* A slot of the symbol hash table.  It holds what a lookup compares: the
 * name's first 8 bytes (zero-padded; names hold no NUL) and a tag (upper
 * hash bits, low bit set for a name longer than 8 bytes), so a lookup of a
 * short name touches nothing but its slot -- in a shuffled file every other
 * access (the symbol, the text of its first appearance) is a cache miss. */
typedef struct Slot {
	uint64_t head;      /* first 8 bytes of the name */
	uint32_t tag;
	uint32_t id;        /* symbol id, UINT32_MAX = empty */
} Slot;

typedef struct Parser {
	const char *s;      /* input text */
	size_t n, pos;      /* length, cursor */
	size_t bol;         /* offset of the current line's first byte */
	int line;           /* current line, 1-based */
	const char *file;
	Module *m;
	Sym *syms;
	Ref *defs;          /* defs[id]: the defining node, NOREF while undefined */
	uint32_t nsyms, capsyms;
	Slot *tab;          /* open-addressing hash table of symbols */
	uint32_t captab;
	size_t pf;          /* next line whose names are prefetched (see prefetch_names) */
	char *buf;          /* scratch: decoded strings */
	size_t capbuf;
	Ref *args;          /* scratch: operands of the node being parsed */
	uint32_t capargs;
} Parser;

/* ---- lexer ------------------------------------------------------------ */

static int cur(const Parser *p)
{
	return p->pos < p->n ? (unsigned char)p->s[p->pos] : -1;
}

static int col(const Parser *p, size_t pos)
{
	size_t c = pos - p->bol + 1;
	return c > 1000000000 ? 1000000000 : (int)c;
}

#define perr(p, pos, ...) fatal_at((p)->file, (p)->line, col(p, pos), __VA_ARGS__)

/* Skips blanks and a comment, but not the newline. */
static void skip_blanks(Parser *p)
{
	for (;;) {
		int c = cur(p);
		if (c == ' ' || c == '\t' || c == '\r') {
			p->pos++;
		} else if (c == ';') {
			while (p->pos < p->n && p->s[p->pos] != '\n')
				p->pos++;
		} else {
			return;
		}
	}
}

/* Skips blanks, comments and newlines. */
static void skip_space(Parser *p)
{
	for (;;) {
		skip_blanks(p);
		if (cur(p) != '\n')
			return;
		p->pos++;
		p->line++;
		p->bol = p->pos;
	}
}

static const char *describe(const Parser *p)
{
	int c = cur(p);
	return c < 0 ? "end of file" : c == '\n' ? "end of line" : NULL;
}

static noreturn void expected(Parser *p, const char *what)
{
	const char *d = describe(p);
	int c = cur(p);
	if (d)
		perr(p, p->pos, "expected %s, found %s", what, d);
	if (c > ' ' && c < 0x7f)
		perr(p, p->pos, "expected %s, found '%c'", what, c);
	perr(p, p->pos, "expected %s, found byte 0x%02x", what, c);
}

static void expect_eol(Parser *p)
{
	skip_blanks(p);
	if (cur(p) >= 0 && cur(p) != '\n')
		expected(p, "end of line");
}

static void expect_char(Parser *p, int ch, const char *what)
{
	skip_blanks(p);
	if (cur(p) != ch)
		expected(p, what);
	p->pos++;
	skip_blanks(p);
}

static int is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.';
}

/* A word of [A-Za-z0-9_.]; returns its length (0 if none). */
static size_t lex_word(Parser *p, const char **start)
{
	*start = p->s + p->pos;
	size_t b = p->pos;
	while (is_name_char(cur(p)))
		p->pos++;
	return p->pos - b;
}

static int word_is(const char *s, size_t n, const char *kw)
{
	return strlen(kw) == n && memcmp(s, kw, n) == 0;
}

/* The characters a number token may contain (so "12abc" is one bad token). */
static int is_num_char(int c)
{
	return is_name_char(c) || c == '+' || c == '-';
}

/* An integer in lo..hi; `what` names it in errors. */
static int64_t parse_int(Parser *p, int64_t lo, int64_t hi, const char *what)
{
	size_t b = p->pos;
	int neg = 0;
	if (cur(p) == '-' || cur(p) == '+')
		neg = p->s[p->pos++] == '-';
	if (cur(p) < '0' || cur(p) > '9') {
		p->pos = b;
		expected(p, what);
	}
	uint64_t v = 0;
	int over = 0;
	while (cur(p) >= '0' && cur(p) <= '9') {
		unsigned d = (unsigned)(p->s[p->pos++] - '0');
		over |= v > (UINT64_MAX - d) / 10;
		v = v * 10 + d;
	}
	if (is_num_char(cur(p)))
		perr(p, b, "malformed %s", what);
	int64_t x;
	if (over || v > (uint64_t)INT64_MAX + neg)
		perr(p, b, "%s out of range %lld..%lld", what, (long long)lo, (long long)hi);
	x = neg ? (int64_t)(0 - v) : (int64_t)v;
	if (x < lo || x > hi)
		perr(p, b, "%s %lld out of range %lld..%lld", what, (long long)x,
		     (long long)lo, (long long)hi);
	return x;
}

/* Checks decimal syntax: [+-]digits[.digits][(e|E)[+-]digits]. */
static int real_syntax(const char *t, size_t n)
{
	size_t i = 0, digits = 0;
	if (i < n && (t[i] == '+' || t[i] == '-'))
		i++;
	for (; i < n && t[i] >= '0' && t[i] <= '9'; i++)
		digits++;
	if (i < n && t[i] == '.')
		for (i++; i < n && t[i] >= '0' && t[i] <= '9'; i++)
			digits++;
	if (!digits)
		return 0;
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		if (i >= n || t[i] < '0' || t[i] > '9')
			return 0;
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
	}
	return i == n;
}

/* A finite real; f32 ones are rounded once to float (strtof). */
static double parse_real(Parser *p, int f32, const char *what)
{
	char tok[128];
	size_t b = p->pos;
	while (is_num_char(cur(p)))
		p->pos++;
	size_t n = p->pos - b;
	if (n == 0) {
		p->pos = b;
		expected(p, what);
	}
	if (n >= sizeof tok || !real_syntax(p->s + b, n))
		perr(p, b, "malformed %s", what);
	memcpy(tok, p->s + b, n);
	tok[n] = 0;
	double v = f32 ? (double)strtof(tok, NULL) : strtod(tok, NULL);
	if (!isfinite(v))
		perr(p, b, "%s out of range for %s", what, f32 ? "f32" : "f64");
	return v;
}

static void buf_put(Parser *p, size_t i, char c)
{
	if (i + 1 >= p->capbuf) {
		p->capbuf = p->capbuf ? p->capbuf * 2 : 256;
		p->buf = xrealloc(p->buf, p->capbuf);
	}
	p->buf[i] = c;
}

static int hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One escape after '\' inside a string; returns the byte. */
static char parse_escape(Parser *p)
{
	size_t b = p->pos - 1;
	int c = cur(p);
	p->pos++;
	switch (c) {
	case '"': return '"';
	case '\\': return '\\';
	case 'n': return '\n';
	case 't': return '\t';
	case 'x': {
		int h = hex_val(cur(p)), l = h < 0 ? -1 : (p->pos++, hex_val(cur(p)));
		if (h < 0 || l < 0)
			perr(p, b, "bad \\x escape: two hex digits expected");
		p->pos++;
		if (h == 0 && l == 0)
			perr(p, b, "NUL byte in string");
		return (char)(h * 16 + l);
	}
	default:
		perr(p, b, "unknown escape in string");
	}
}

/* STRING = '"' { char | escape } '"'; returns the decoded bytes in p->buf. */
static const char *parse_string(Parser *p, size_t *len)
{
	skip_blanks(p);
	if (cur(p) != '"')
		expected(p, "a string");
	size_t b = p->pos++, k = 0;
	for (;;) {
		int c = cur(p);
		if (c < 0 || c == '\n')
			perr(p, b, "unterminated string");
		p->pos++;
		if (c == '"')
			break;
		if (c == 0)
			perr(p, p->pos - 1, "NUL byte in string");
		buf_put(p, k++, c == '\\' ? parse_escape(p) : (char)c);
	}
	buf_put(p, k, 0);
	*len = k;
	return p->buf;
}

static uint32_t parse_str_id(Parser *p)
{
	size_t len;
	const char *s = parse_string(p, &len);
	return ir_strn(p->m, s, len);
}

/* Decimal digits s[0..n) as a value <= max, or -1. */
static int64_t digits_value(const char *s, size_t n, int64_t max)
{
	int64_t v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return -1;
	}
	return v;
}

static void parse_type(Parser *p, int *ty, int *width, uint32_t *len);

/* TYPE RATE, RATE = [ '/t' | '/w' ] (a stream, a per-window value); NF_* bits */
static int parse_rated_type(Parser *p, int *ty, int *width, uint32_t *len)
{
	parse_type(p, ty, width, len);
	if (cur(p) != '/')
		return 0;
	size_t b = p->pos++;
	const char *s;
	size_t n = lex_word(p, &s);
	if (!word_is(s, n, "t") && !word_is(s, n, "w"))
		perr(p, b, "bad rate: expected '/t' (a stream) or '/w' (per window)");
	if (!p->m->tokens)
		perr(p, b, "a rate needs a module with tokens");
	return s[0] == 't' ? NF_STREAM : NF_WIN;
}

/* TYPE = ('s'|'u') W ['x' N] | 'f64' ['x' N] */
static void parse_type(Parser *p, int *ty, int *width, uint32_t *len)
{
	skip_blanks(p);
	const char *s;
	size_t b = p->pos, n = lex_word(p, &s);
	if (n == 0)
		expected(p, "a type (s16, u1, f64, s8x4, ...)");
	const char *x = memchr(s, 'x', n);
	size_t wn = x ? (size_t)(x - s) : n;
	*ty = s[0] == 's' ? TY_S : s[0] == 'u' ? TY_U : TY_F;
	if ((s[0] != 's' && s[0] != 'u' && s[0] != 'f') || wn < 2 || (x && x + 1 == s + n))
		perr(p, b, "bad type '%s'", ESCN(s, n));
	int64_t w = digits_value(s + 1, wn - 1, 1000);
	if (*ty == TY_F ? w != 64 : (w < 1 || w > 64))
		perr(p, b, "bad type '%s': %s", ESCN(s, n),
		     *ty == TY_F ? "the real type is f64" : "integer width must be 1..64");
	*width = (int)w;
	int64_t l = x ? digits_value(x + 1, (size_t)(s + n - x - 1), UINT32_MAX) : 1;
	if (l < 1)
		perr(p, b, "bad type '%s': lane count must be 1..4294967295", ESCN(s, n));
	*len = (uint32_t)l;
}

/* ---- symbols ----------------------------------------------------------- */

static uint64_t name_head(const char *s, size_t n)
{
	uint64_t h = 0;
	memcpy(&h, s, n < 8 ? n : 8);
	return h;
}

/* The slot key of name s[0..n).  A slot's place in the table comes from
 * its tag (tag >> 1), so growing the table reads nothing but the table. */
static Slot name_slot(const char *s, size_t n)
{
	uint32_t tag = (uint32_t)(hash_bytes(s, n, 7) >> 32);
	return (Slot){name_head(s, n), (tag & ~1u) | (n > 8), UINT32_MAX};
}

static void sym_grow(Parser *p)
{
	uint32_t cap = p->captab ? p->captab * 2 : 1024;
	if (cap == 0 || cap > (UINT32_MAX >> 2))
		die("too many value names");
	Slot *t = xmalloc((size_t)cap * sizeof *t);
	for (uint32_t i = 0; i < cap; i++)
		t[i].id = UINT32_MAX;
	for (uint32_t i = 0; i < p->captab; i++) {
		if (p->tab[i].id == UINT32_MAX)
			continue;
		uint32_t j = (p->tab[i].tag >> 1) & (cap - 1);
		while (t[j].id != UINT32_MAX)
			j = (j + 1) & (cap - 1);
		t[j] = p->tab[i];
	}
	free(p->tab);
	p->tab = t;
	p->captab = cap;
}

/* Looks up name s[0..n), creating it (at line:col) if new. */
static uint32_t sym_get(Parser *p, const char *s, size_t n, size_t pos)
{
	if (2 * ((size_t)p->nsyms + 1) > p->captab)
		sym_grow(p);
	uint32_t mask = p->captab - 1;
	Slot key = name_slot(s, n);
	uint32_t i = (key.tag >> 1) & mask;
	for (; p->tab[i].id != UINT32_MAX; i = (i + 1) & mask) {
		const Slot *e = &p->tab[i];
		if (e->tag != key.tag || e->head != key.head)
			continue;
		const Sym *y = &p->syms[e->id];   /* a long name: compare the rest */
		if (n <= 8 || (y->n == n && memcmp(y->s + 8, s + 8, n - 8) == 0))
			return e->id;
	}
	if (p->nsyms == p->capsyms) {
		p->capsyms = p->capsyms ? p->capsyms * 2 : 1024;
		p->syms = xrealloc(p->syms, (size_t)p->capsyms * sizeof *p->syms);
		p->defs = xrealloc(p->defs, (size_t)p->capsyms * sizeof *p->defs);
	}
	p->syms[p->nsyms] = (Sym){s, (uint32_t)n, p->line, col(p, pos)};
	p->defs[p->nsyms] = NOREF;
	key.id = p->nsyms;
	p->tab[i] = key;
	return p->nsyms++;
}

enum { PF_LINES = 16 };   /* node lines whose table slots are prefetched ahead */

/* Prefetches the table slots of the names on the line at p->pf and moves
 * p->pf to the next line: called once per node line, PF_LINES lines ahead
 * of the parser, it hides the one cache miss per name lookup that a
 * shuffled file costs (the slot of a name defined far away). */
static void prefetch_line(Parser *p)
{
	const char *s = p->s, *e = memchr(s + p->pf, '\n', p->n - p->pf);
	size_t end = e ? (size_t)(e - s) : p->n;
	for (size_t i = p->pf; i < end; i++) {
		if (s[i] != '%')
			continue;
		size_t b = ++i;
		while (i < end && is_name_char((unsigned char)s[i]))
			i++;
		Slot k = name_slot(s + b, i - b);
		__builtin_prefetch(&p->tab[(k.tag >> 1) & (p->captab - 1)]);
	}
	p->pf = end < p->n ? end + 1 : p->n;
}

static void prefetch_names(Parser *p)
{
	if (!p->captab)
		return;
	if (p->pf <= p->pos) {   /* (re)start PF_LINES lines ahead */
		p->pf = p->pos;
		for (int i = 0; i < PF_LINES && p->pf < p->n; i++)
			prefetch_line(p);
	} else if (p->pf < p->n) {
		prefetch_line(p);
	}
}

/* '%' NAME; returns the symbol id. */
static uint32_t parse_value_name(Parser *p)
{
	skip_blanks(p);
	size_t b = p->pos;
	if (cur(p) != '%')
		expected(p, "a value (%name)");
	p->pos++;
	const char *s;
	size_t n = lex_word(p, &s);
	if (n == 0)
		perr(p, b, "expected a value name after '%%'");
	if (n > 1000)
		perr(p, b, "value name too long");
	return sym_get(p, s, n, b);
}

/* ---- tensors ------------------------------------------------------------ */

/* KIND = int | q4 | i8 | f32 | f64 */
static int parse_kind(Parser *p)
{
	static const char *const kinds[] = {[TK_INT] = "int", [TK_Q4] = "q4",
	                                    [TK_I8] = "i8", [TK_F32] = "f32", [TK_F64] = "f64"};
	skip_blanks(p);
	size_t b = p->pos;
	const char *s;
	size_t n = lex_word(p, &s);
	for (int k = 0; k <= TK_F64; k++)
		if (word_is(s, n, kinds[k]))
			return k;
	perr(p, b, "unknown tensor kind (int, q4, i8, f32, f64)");
}

/* SHAPE = '[' N ']' [ '[' N ']' ]; returns ndim. */
static int parse_shape(Parser *p, uint32_t dims[2])
{
	int nd = 0;
	skip_blanks(p);
	if (cur(p) != '[')
		expected(p, "a shape ([n] or [rows][cols])");
	while (cur(p) == '[' && nd < 2) {
		p->pos++;
		dims[nd++] = (uint32_t)parse_int(p, 1, UINT32_MAX, "dimension");
		if (cur(p) != ']')
			expected(p, "']'");
		p->pos++;
	}
	if (cur(p) == '[')
		perr(p, p->pos, "tensors have at most 2 dimensions");
	if (nd == 1)
		dims[1] = 1;
	return nd;
}

/* `kw` then exactly `count` numbers (newlines allowed between them). */
static void data_keyword(Parser *p, const char *kw)
{
	skip_space(p);
	size_t b = p->pos;
	const char *s;
	size_t n = lex_word(p, &s);
	if (!word_is(s, n, kw)) {
		p->pos = b;
		char what[32];
		snprintf(what, sizeof what, "'%s'", kw);
		expected(p, what);
	}
}

static void parse_codes(Parser *p, int32_t *codes, size_t count, int64_t lo, int64_t hi,
                        const char *what)
{
	for (size_t i = 0; i < count; i++) {
		skip_space(p);
		codes[i] = (int32_t)parse_int(p, lo, hi, what);
	}
	expect_eol(p);
}

static void parse_reals(Parser *p, double *out, float *fout, size_t count, int f32,
                        const char *what)
{
	for (size_t i = 0; i < count; i++) {
		skip_space(p);
		double v = parse_real(p, f32, what);
		if (fout)
			fout[i] = (float)v;
		else
			out[i] = v;
	}
	expect_eol(p);
}

/* Data sections of tensor t, in the order scales, codes | values. */
static void parse_tensor_data(Parser *p, Tensor *t)
{
	static const int64_t lo[] = {[TK_INT] = INT32_MIN, [TK_Q4] = -8, [TK_I8] = -128};
	static const int64_t hi[] = {[TK_INT] = INT32_MAX, [TK_Q4] = 7, [TK_I8] = 127};
	if (t->kind == TK_Q4 || t->kind == TK_I8) {
		size_t ns = t->kind == TK_Q4 ? (size_t)t->dims[0] * tensor_nblocks(t) : t->dims[0];
		data_keyword(p, "scales");
		parse_reals(p, NULL, t->scales, ns, 1, "scale");
	}
	if (tensor_has_codes(t)) {
		data_keyword(p, "codes");
		parse_codes(p, t->codes, t->n, lo[t->kind], hi[t->kind],
		            t->kind == TK_INT ? "int code" : t->kind == TK_Q4 ? "q4 code" : "i8 code");
	} else {
		data_keyword(p, "values");
		parse_reals(p, t->reals, NULL, t->n, t->kind == TK_F32, "value");
	}
}

/* [ 'frac' F ]: required for int tensors, refused for the others. */
static int64_t parse_frac(Parser *p, int kind)
{
	skip_blanks(p);
	const char *w;
	size_t wb = p->pos, wn = lex_word(p, &w);
	if (word_is(w, wn, "frac")) {
		if (kind != TK_INT)
			perr(p, wb, "'frac' is only for int tensors");
		skip_blanks(p);
		return parse_int(p, -1024, 1024, "frac");
	}
	p->pos = wb;
	if (kind == TK_INT)
		expected(p, "'frac F' (int tensors)");
	return 0;
}

/* tensor @N KIND SHAPE "name" [frac F]  (the keyword is already read) */
static void parse_tensor(Parser *p, size_t kwpos)
{
	Module *m = p->m;
	skip_blanks(p);
	size_t b = p->pos;
	if (cur(p) != '@')
		expected(p, "'@'");
	p->pos++;
	int64_t id = parse_int(p, 0, INT32_MAX, "tensor number");
	if (id != m->ntensors)
		perr(p, b, "tensor @%lld out of order: expected @%u", (long long)id, m->ntensors);
	int kind = parse_kind(p);
	uint32_t dims[2];
	int nd = parse_shape(p, dims);
	size_t len;
	const char *name = parse_string(p, &len);
	char *copy = xstrdup(name);
	int64_t frac = parse_frac(p, kind);
	expect_eol(p);
	/* every number takes at least two bytes: refuse before allocating */
	uint64_t need = (uint64_t)dims[0] * dims[1] +
	                (kind == TK_Q4 ? (uint64_t)dims[0] * ((dims[1] + 31) / 32) :
	                 kind == TK_I8 ? dims[0] : 0);
	if (need > (p->n - p->pos + 1) / 2)
		perr(p, kwpos, "tensor @%lld: file too short for its %llu numbers", (long long)id,
		     (unsigned long long)need);
	uint32_t t = ir_tensor(m, copy, kind, nd, dims[0], dims[1]);
	free(copy);
	m->tensors[t].frac = (int32_t)frac;
	parse_tensor_data(p, &m->tensors[t]);
}

/* ---- nodes -------------------------------------------------------------- */

static void push_arg(Parser *p, uint32_t *k, Ref a)
{
	if (*k == p->capargs) {
		p->capargs = p->capargs ? p->capargs * 2 : 16;
		p->args = xrealloc(p->args, (size_t)p->capargs * sizeof *p->args);
	}
	p->args[(*k)++] = a;
}

/* One immediate or value operand for signature letter c. */
static void parse_operand(Parser *p, char c, uint32_t *nargs, int64_t *imm, uint32_t *aux)
{
	skip_blanks(p);
	size_t b = p->pos;
	switch (c) {
	case 'v':
		push_arg(p, nargs, parse_value_name(p));
		break;
	case '*':
		push_arg(p, nargs, parse_value_name(p));
		while (skip_blanks(p), cur(p) == ',') {
			p->pos++;
			push_arg(p, nargs, parse_value_name(p));
		}
		break;
	case 'i':
		*imm = parse_int(p, INT64_MIN, INT64_MAX, "integer");
		break;
	case 'j':
		*aux = (uint32_t)parse_int(p, 0, UINT32_MAX, "integer");
		break;
	case 'r':
		*imm = ir_fbits(parse_real(p, 0, "real number"));
		break;
	case 't':
		if (cur(p) != '@')
			expected(p, "a tensor (@N)");
		p->pos++;
		*aux = (uint32_t)parse_int(p, 0, INT64_MAX, "tensor number");
		if (*aux >= p->m->ntensors)
			perr(p, b, "unknown tensor @%u", *aux);
		break;
	case 's':
		*aux = parse_str_id(p);
		break;
	default:
		die("bad signature letter '%c'", c);
	}
}

/* OP name at the cursor; returns the Op. */
static int parse_op(Parser *p, const char *s, size_t n, size_t b)
{
	for (int op = 0; op < OP_COUNT; op++)
		if (op_info[op].name[0] == s[0] && word_is(s, n, op_info[op].name))
			return op;
	perr(p, b, "unknown op '%s'", ESCN(s, n));
}

/* The operands of `op` per its signature, then the node itself. */
static void parse_node_rest(Parser *p, int op, int ty, int width, uint32_t len, uint32_t def,
                            int rate)
{
	const char *sig = op_info[op].sig;
	uint32_t nargs = 0, aux = 0;
	int64_t imm = 0;
	for (int i = 0; sig[i]; i++) {
		if (i > 0)
			expect_char(p, ',', "','");
		parse_operand(p, sig[i], &nargs, &imm, &aux);
	}
	expect_eol(p);
	Ref r = ir_node(p->m, op, ty, width, len, p->args, nargs, imm, aux);
	p->m->nodes[r].flags = (uint8_t)rate;   /* operands are symbol ids until resolve() */
	if (def != UINT32_MAX)
		p->defs[def] = r;
}

/* '%' NAME '=' OP TYPE operands */
static void parse_value_node(Parser *p)
{
	size_t b = p->pos;
	uint32_t def = parse_value_name(p);
	if (p->defs[def] != NOREF)
		perr(p, b, "redefinition of %%%s", ESCN(p->syms[def].s, p->syms[def].n));
	expect_char(p, '=', "'='");
	const char *s;
	size_t ob = p->pos, n = lex_word(p, &s);
	if (n == 0)
		expected(p, "an op");
	int op = parse_op(p, s, n, ob);
	if (op_info[op].flags & OPF_NORESULT)
		perr(p, ob, "'%s' produces no value", op_info[op].name);
	int ty, width;
	uint32_t len;
	int rate = parse_rated_type(p, &ty, &width, &len);
	parse_node_rest(p, op, ty, width, len, def, rate);
}

/* A line starting with a word: region, tensor or a no-result op. */
static void parse_word_line(Parser *p, int *seen_node)
{
	const char *s;
	size_t b = p->pos, n = lex_word(p, &s);
	if (n == 0)
		expected(p, "'tensor', 'region', a node or an op");
	if (word_is(s, n, "tensor")) {
		if (*seen_node)
			perr(p, b, "tensors must come before the nodes");
		parse_tensor(p, b);
	} else if (word_is(s, n, "region")) {
		p->m->cur_region = parse_str_id(p);
		expect_eol(p);
	} else if (word_is(s, n, "module")) {
		perr(p, b, "a second 'module' line");
	} else {
		int op = parse_op(p, s, n, b);
		if (!(op_info[op].flags & OPF_NORESULT))
			perr(p, b, "'%s' produces a value: expected '%%name = %s TYPE ...'",
			     op_info[op].name, op_info[op].name);
		*seen_node = 1;
		parse_node_rest(p, op, TY_S, 1, 1, UINT32_MAX, 0);
	}
}

/* Operand slots hold symbol ids: point them at the defining nodes. */
static void resolve(Parser *p)
{
	Module *m = p->m;
	for (uint32_t i = 0; i < p->nsyms; i++)
		if (p->defs[i] == NOREF)
			fatal_at(p->file, p->syms[i].line, p->syms[i].col, "undefined value %%%s",
			         ESCN(p->syms[i].s, p->syms[i].n));
	for (size_t i = 0; i < m->nargv; i++)
		m->argv[i] = p->defs[m->argv[i]];
	for (Ref r = 0; r < m->nnodes; r++) {
		Node *n = &m->nodes[r];
		if ((op_info[n->op].flags & OPF_NORESULT) && n->nargs) {
			const Node *a = ir_get(m, ir_arg(m, n, 0));
			n->ty = a->ty;
			n->width = a->width;
			n->len = a->len;
			n->flags = (uint8_t)((n->flags & ~NF_RATE) | (a->flags & NF_RATE));
		}
	}
}

static void parse_header(Parser *p)
{
	skip_space(p);
	const char *s;
	size_t b = p->pos, n = lex_word(p, &s);
	if (!word_is(s, n, "module")) {
		p->pos = b;
		expected(p, "'module \"name\"'");
	}
	size_t len;
	const char *name = parse_string(p, &len);
	p->m->name = ir_strn(p->m, name, len);
	skip_blanks(p);
	b = p->pos;
	n = lex_word(p, &s);
	if (n) {
		if (!word_is(s, n, "tokens"))
			perr(p, b, "expected 'tokens' or the end of the line");
		skip_blanks(p);
		p->m->tokens = (uint32_t)parse_int(p, 1, 1 << 20, "token count");
	}
	expect_eol(p);
}

Module *ir_parse(const char *text, size_t n, const char *filename)
{
	Parser p = {.s = text, .n = n, .line = 1, .file = filename};
	p.m = ir_new("");
	parse_header(&p);
	int seen_node = 0;
	for (;;) {
		skip_space(&p);
		if (cur(&p) < 0)
			break;
		if (cur(&p) == '%') {
			seen_node = 1;
			prefetch_names(&p);
			parse_value_node(&p);
		} else {
			parse_word_line(&p, &seen_node);
		}
	}
	resolve(&p);
	p.m->cur_region = 0;
	free(p.syms);
	free(p.defs);
	free(p.tab);
	free(p.buf);
	free(p.args);
	return p.m;
}

Module *ir_parse_file(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		fatal(path, "cannot open: %s", strerror(errno));
	size_t cap = 1 << 16, len = 0, got;
	char *buf = xmalloc(cap + 1);
	while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap)
			buf = xrealloc(buf, (cap *= 2) + 1);
	}
	int err = ferror(f);
	if (f != stdin)
		fclose(f);
	if (err)
		fatal(path, "read error");
	Module *m = ir_parse(buf, len, strcmp(path, "-") == 0 ? "<stdin>" : path);
	free(buf);
	return m;
}
