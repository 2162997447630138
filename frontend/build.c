/*
 * build.c -- the family-independent half of every model builder: checkpoint
 * tensors with shape checks, the f64 node helpers, Linear (float, I8, Q4
 * block weights alike: the tensor keeps its kind), LayerNorm, attention
 * (causal or not, one query, the parallel and the streaming form), MLP,
 * position embeddings, ports, regions and the --top dispatch of a family's
 * table (build_module).  A family's builder (lewm.c, ijepa.c) is written in
 * these terms; docs/frontends.md lists the conventions they follow.
 *
 * Sequences: a sequence of T tokens of D dims is one f64 value of T*D
 * lanes, token-major (the parallel form), or, in a stream module
 * (b->serial), one token of D lanes (docs/ir.md, "Streams").  Weight
 * tensors keep their checkpoint names and kinds (CK_Q4 -> q4, CK_I8 -> i8,
 * CK_F -> f32); tensors derived by a builder are f64 with a suffix.  Each
 * weight is copied once, from the checkpoint into the module's arena.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"

void region(Builder *b, const char *fmt, ...)
{
	char s[NAMELEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s, sizeof s, fmt, ap);
	va_end(ap);
	ir_set_region(b->m, s);
}

/* ---- checkpoint tensors ------------------------------------------------ */

/* The tensor called vsnprintf(fmt, ap), its name in s; NULL if absent. */
static CkTensor *tlookup(Builder *b, char *s, const char *fmt, va_list ap)
{
	vsnprintf(s, NAMELEN, fmt, ap);
	return ck_find(b->ck, s);
}

CkTensor *tfind(Builder *b, const char *fmt, ...)
{
	char s[NAMELEN];
	va_list ap;
	va_start(ap, fmt);
	CkTensor *t = tlookup(b, s, fmt, ap);
	va_end(ap);
	return t;
}

CkTensor *tneed(Builder *b, const char *fmt, ...)
{
	char s[NAMELEN];
	va_list ap;
	va_start(ap, fmt);
	CkTensor *t = tlookup(b, s, fmt, ap);
	va_end(ap);
	if (!t)
		fatal(b->ck->path, "tensor %s: missing from the checkpoint", ESC(s));
	return t;
}

uint32_t ck_rows(const CkTensor *t)
{
	if (t->kind != CK_F)
		return t->out;
	return t->ndim >= 1 ? t->shape[0] : 1;
}

uint32_t ck_cols(const CkTensor *t)
{
	if (t->kind != CK_F)
		return t->in;
	uint32_t r = ck_rows(t);
	return r ? (uint32_t)(t->n / r) : 0;
}

static const char *shape_str(const CkTensor *t, char *s, size_t n)
{
	if (t->kind != CK_F) {
		snprintf(s, n, "[%u, %u] (%s)", t->out, t->in, t->kind == CK_Q4 ? "q4" : "i8");
		return s;
	}
	size_t k = 0;
	k += (size_t)snprintf(s + k, n - k, "[");
	for (int i = 0; i < t->ndim && k < n; i++)
		k += (size_t)snprintf(s + k, n - k, i ? ", %u" : "%u", t->shape[i]);
	if (k < n)
		snprintf(s + k, n - k, "]");
	return s;
}

/* A matrix [rows][cols]; a Conv weight [out][in][k...] counts as [out][in*k...]. */
void expect_matrix(Builder *b, const CkTensor *t, uint32_t rows, uint32_t cols)
{
	char s[96];
	if ((t->kind == CK_F && t->ndim < 2) || ck_rows(t) != rows || ck_cols(t) != cols)
		fatal(b->ck->path, "tensor %s: expected a %u x %u matrix, found shape %s",
		      ESC(t->name), rows, cols, shape_str(t, s, sizeof s));
}

void expect_vector(Builder *b, const CkTensor *t, size_t n)
{
	char s[96];
	if (t->kind != CK_F || t->n != n)
		fatal(b->ck->path, "tensor %s: expected %zu float values, found shape %s",
		      ESC(t->name), n, shape_str(t, s, sizeof s));
}

/* The module's tensor called name, or UINT32_MAX. */
uint32_t tensor_lookup(Builder *b, const char *name)
{
	uint32_t id = ir_str(b->m, name);
	for (uint32_t i = 0; i < b->m->ntensors; i++)
		if (b->m->tensors[i].name == id)
			return i;
	return UINT32_MAX;
}

/* Copies t into the module once (later calls return the same tensor): as a
 * [rows][cols] matrix, or as a vector of its first n elements (n = 0: all). */
uint32_t tensor_copy(Builder *b, const CkTensor *t, int matrix, size_t n)
{
	uint32_t id = tensor_lookup(b, t->name);
	if (id != UINT32_MAX)
		return id;
	int kind = t->kind == CK_Q4 ? TK_Q4 : t->kind == CK_I8 ? TK_I8 : TK_F32;
	if (!matrix && kind != TK_F32)
		die("quantized vector %s", t->name);
	id = matrix ? ir_tensor(b->m, t->name, kind, 2, ck_rows(t), ck_cols(t))
	            : ir_tensor(b->m, t->name, kind, 1, (uint32_t)(n ? n : t->n), 1);
	Tensor *d = ir_tget(b->m, id);
	if (kind == TK_F32) {
		for (size_t i = 0; i < d->n; i++)
			d->reals[i] = t->f[i];
		return id;
	}
	for (size_t i = 0; i < d->n; i++)
		d->codes[i] = t->q[i];
	size_t ns = kind == TK_Q4 ? (size_t)d->dims[0] * tensor_nblocks(d) : d->dims[0];
	memcpy(d->scales, t->scales, ns * sizeof *d->scales);
	return id;
}

/* ---- node helpers (all f64) -------------------------------------------- */

Ref fop(Builder *b, int op, uint32_t len, const Ref *a, uint32_t na, int64_t imm, uint32_t aux)
{
	return ir_node(b->m, op, TY_F, 64, len, a, na, imm, aux);
}

uint32_t vlen(Builder *b, Ref r)
{
	return ir_get(b->m, r)->len;
}

Ref binop(Builder *b, int op, Ref x, Ref y)
{
	uint32_t lx = vlen(b, x), ly = vlen(b, y), n = lx > ly ? lx : ly;
	if (n % lx || n % ly)
		die("%s: %u and %u lanes do not broadcast", op_info[op].name, lx, ly);
	Ref a[2] = {x, y};
	return fop(b, op, n, a, 2, 0, 0);
}

Ref add(Builder *b, Ref x, Ref y) { return binop(b, OP_ADD, x, y); }
Ref mul(Builder *b, Ref x, Ref y) { return binop(b, OP_MUL, x, y); }
Ref unop(Builder *b, int op, Ref x) { return fop(b, op, vlen(b, x), &x, 1, 0, 0); }
Ref fconst(Builder *b, double v) { return fop(b, OP_FCONST, 1, NULL, 0, ir_fbits(v), 0); }

Ref vconst(Builder *b, uint32_t tid)
{
	return fop(b, OP_VCONST, (uint32_t)ir_tget(b->m, tid)->n, NULL, 0, 0, tid);
}

/* A stream constant: token t gets row t of the [T][n] copy of the first
 * T*n values of t (a position embedding). */
Ref tpos(Builder *b, const CkTensor *t, uint32_t T, uint32_t n)
{
	char name[NAMELEN];
	snprintf(name, sizeof name, "%s", t->name);
	uint32_t id = tensor_lookup(b, name);
	if (id == UINT32_MAX) {
		id = ir_tensor(b->m, name, TK_F32, 2, T, n);
		for (size_t i = 0; i < (size_t)T * n; i++)
			ir_tget(b->m, id)->reals[i] = t->f[i];
	}
	return fop(b, OP_TPOS, n, NULL, 0, 0, id);
}

Ref extract(Builder *b, Ref x, uint32_t lo, uint32_t n)
{
	if (lo == 0 && n == vlen(b, x))
		return x;
	if ((uint64_t)lo + n > vlen(b, x))
		die("extract %u+%u of %u lanes", lo, n, vlen(b, x));
	return fop(b, OP_EXTRACT, n, &x, 1, lo, 0);
}

Ref concat(Builder *b, const Ref *xs, uint32_t n)
{
	if (n == 1)
		return xs[0];
	uint64_t len = 0;
	for (uint32_t i = 0; i < n; i++)
		len += vlen(b, xs[i]);
	if (len > UINT32_MAX)
		die("concat of %llu lanes", (unsigned long long)len);
	return fop(b, OP_CONCAT, (uint32_t)len, xs, n, 0, 0);
}

/* concat over t < T of x[t*stride + off .. + n]: one field of every token. */
Ref gather(Builder *b, Ref x, uint32_t T, uint32_t stride, uint32_t off, uint32_t n)
{
	Ref *xs = xmalloc(T * sizeof *xs);
	for (uint32_t t = 0; t < T; t++)
		xs[t] = extract(b, x, t * stride + off, n);
	Ref y = concat(b, xs, T);
	free(xs);
	return y;
}

/* x is [R][C] (row-major lanes); the result is [C][R]. */
Ref transpose(Builder *b, Ref x, uint32_t R, uint32_t C)
{
	if (R == 1 || C == 1)
		return x;
	Ref *xs = xmalloc((size_t)R * C * sizeof *xs);
	for (uint32_t c = 0; c < C; c++)
		for (uint32_t r = 0; r < R; r++)
			xs[c * R + r] = extract(b, x, r * C + c, 1);
	Ref y = concat(b, xs, R * C);
	free(xs);
	return y;
}

Ref matvec(Builder *b, uint32_t tid, Ref x)
{
	const Tensor *t = ir_tget(b->m, tid);
	uint32_t lx = vlen(b, x);
	if (t->dims[1] == 0 || lx % t->dims[1])
		die("matvec: %u lanes for %u columns", lx, t->dims[1]);
	return fop(b, OP_MATVEC, lx / t->dims[1] * t->dims[0], &x, 1, 0, tid);
}

Ref layernorm(Builder *b, Ref x, uint32_t g, double eps)
{
	return fop(b, OP_LAYERNORM, vlen(b, x), &x, 1, ir_fbits(eps), g);
}

Ref rsum(Builder *b, Ref x, uint32_t g)
{
	return fop(b, OP_SUM, vlen(b, x) / g, &x, 1, g, 0);
}

/* ---- layers -------------------------------------------------------------- */

/* y = x W^T + b per token: W = PREFIX.weight [out][in], PREFIX.bias optional. */
Ref linear(Builder *b, Ref x, const char *prefix, uint32_t in, uint32_t out)
{
	CkTensor *w = tneed(b, "%s.weight", prefix);
	expect_matrix(b, w, out, in);
	Ref y = matvec(b, tensor_copy(b, w, 1, 0), x);
	CkTensor *bias = tfind(b, "%s.bias", prefix);
	if (bias) {
		expect_vector(b, bias, out);
		y = add(b, y, vconst(b, tensor_copy(b, bias, 0, 0)));
	}
	return y;
}

/* LayerNorm over groups of d lanes; affine with PREFIX.weight/.bias unless NULL. */
Ref layernorm_affine(Builder *b, Ref x, uint32_t d, double eps, const char *prefix)
{
	Ref y = layernorm(b, x, d, eps);
	if (!prefix)
		return y;
	CkTensor *w = tneed(b, "%s.weight", prefix), *bias = tneed(b, "%s.bias", prefix);
	expect_vector(b, w, d);
	expect_vector(b, bias, d);
	y = mul(b, y, vconst(b, tensor_copy(b, w, 0, 0)));
	return add(b, y, vconst(b, tensor_copy(b, bias, 0, 0)));
}

/* The [dh][1] all-ones matrix: matvec with it repeats each lane dh times. */
uint32_t ones_tensor(Builder *b, uint32_t dh)
{
	char name[64];
	snprintf(name, sizeof name, "lewm.ones%u", dh);
	uint32_t id = tensor_lookup(b, name);
	if (id != UINT32_MAX)
		return id;
	id = ir_tensor(b->m, name, TK_F64, 2, dh, 1);
	for (uint32_t i = 0; i < dh; i++)
		ir_tget(b->m, id)->reals[i] = 1.0;
	return id;
}

/* Attention of ONE query q [H*dh] over T tokens of k, v [T][H][dh] (no
 * mask: the causal last token and the ViT CLS token both see every token). */
Ref attn_one(Builder *b, Ref q, Ref k, Ref v, uint32_t T, uint32_t H)
{
	uint32_t e = vlen(b, q), dh = e / H;
	Ref s = rsum(b, mul(b, k, q), dh);                          /* [T][H] */
	s = binop(b, OP_DIV, s, fconst(b, sqrt((double)dh)));
	Ref p = transpose(b, s, T, H);                              /* [H][T] */
	p = fop(b, OP_SOFTMAX, vlen(b, p), &p, 1, T, 0);
	p = transpose(b, p, H, T);                                  /* [T][H] */
	Ref w = mul(b, v, matvec(b, ones_tensor(b, dh), p));        /* [T][H][dh] */
	Ref y = extract(b, w, 0, e);
	for (uint32_t t = 1; t < T; t++)
		y = add(b, y, extract(b, w, t * e, e));
	return y;
}

/* Multi-head attention; q holds every token (-> T tokens) or one (-> one);
 * in a stream, q, k, v hold one token each and the keys are the window's
 * first T tokens (causal: every one so far). */
Ref attention(Builder *b, Ref q, Ref k, Ref v, uint32_t T, uint32_t H, int causal)
{
	if (b->serial) {
		Ref a[3] = {q, k, v};
		return fop(b, causal ? OP_SCATTN : OP_SATTN, vlen(b, q), a, 3, H, T);
	}
	if (vlen(b, q) != vlen(b, k))
		return attn_one(b, q, k, v, T, H);
	Ref a[3] = {q, k, v};
	return fop(b, causal ? OP_CATTN : OP_ATTN, vlen(b, q), a, 3, H, T);
}

uint32_t need_dim(Builder *b, long v, const char *what)
{
	if (v <= 0 || v > (1l << 24))
		fatal(b->ck->path, "config: %s is missing or invalid (%ld)", what, v);
	return (uint32_t)v;
}

/* Every value must fit in 32-bit lane counts; a huge config is an error. */
void check_lanes(Builder *b, uint64_t n, const char *what)
{
	if (n > (1ull << 31))
		fatal(b->ck->path, "config: %s needs %llu lanes (more than 2^31)", what,
		      (unsigned long long)n);
}

/* A u1 stream that is 1 at tokens lo <= t < hi of a window of T, 0 elsewhere
 * (e.g. "not the CLS slot", "a context token"), from the int tensor name. */
Ref tflag(Builder *b, const char *name, uint32_t T, uint32_t lo, uint32_t hi)
{
	uint32_t id = tensor_lookup(b, name);
	if (id == UINT32_MAX) {
		id = ir_tensor(b->m, name, TK_INT, 2, T, 1);
		for (uint32_t t = lo; t < hi && t < T; t++)
			ir_tget(b->m, id)->codes[t] = 1;
	}
	return ir_node(b->m, OP_TPOS, TY_U, 1, 1, NULL, 0, 0, id);
}

/* An input port; in a stream module, len lanes per token. */
Ref port_in(Builder *b, const char *name, uint32_t len)
{
	ir_set_region(b->m, NULL);
	Ref r = fop(b, OP_INPUT, len, NULL, 0, 0, ir_str(b->m, name));
	if (b->serial)
		ir_get(b->m, r)->flags |= NF_STREAM;
	return r;
}

/* Makes b build a stream of T tokens (--tokens=serial). */
void stream(Builder *b, uint32_t T, int serial)
{
	b->serial = serial;
	b->m->tokens = serial ? T : 0;
}

void port_out(Builder *b, const char *name, Ref x)
{
	ir_set_region(b->m, NULL);
	fop(b, OP_OUTPUT, vlen(b, x), &x, 1, 0, ir_str(b->m, name));
}

Module *build_module(const Family *fam, Checkpoint *ck, const LoadOpts *o)
{
	const FamilyTop *tops = fam->tops;
	const char *top = o && o->top ? o->top : tops[0].name;
	int k = 0;
	while (tops[k].name && strcmp(tops[k].name, top) != 0)
		k++;
	if (!tops[k].name) {
		char valid[512];
		size_t n = 0;
		for (int i = 0; tops[i].name && n < sizeof valid; i++)
			n += (size_t)snprintf(valid + n, sizeof valid - n, i ? ", %s" : "%s", tops[i].name);
		fatal(ck->path, "unknown --top '%s' (valid: %s)", ESC(top), valid);
	}
	char name[64];
	snprintf(name, sizeof name, "%s_%s", fam->name, top);
	for (char *s = name; *s; s++)
		if (*s == '-')
			*s = '_';
	Builder b = {ir_new(name), ck, ck->cfg, 0, 0};
	b.serial = !(o && o->parallel) && tops[k].stream;
	tops[k].build(&b, o && o->all_tokens);
	ir_set_region(b.m, NULL);
	return b.m;
}

Ref tpos_table(Builder *b, const char *name, const double *v, uint32_t T, uint32_t n)
{
	uint32_t id = tensor_lookup(b, name);
	if (id == UINT32_MAX) {
		id = ir_tensor(b->m, name, TK_F64, 2, T, n);
		memcpy(ir_tget(b->m, id)->reals, v, (size_t)T * n * sizeof *v);
	}
	return fop(b, OP_TPOS, n, NULL, 0, 0, id);
}

Ref mlp(Builder *b, Ref x, const char *fc1, const char *fc2, uint32_t d, uint32_t hidden,
        const char *reg)
{
	region(b, "%s.fc1", reg);
	Ref h = linear(b, x, fc1, d, hidden);
	region(b, "%s.act", reg);
	h = unop(b, OP_GELU, h);
	region(b, "%s.fc2", reg);
	return linear(b, h, fc2, hidden, d);
}

void split_qkv(Builder *b, Ref qkv, uint32_t T, uint32_t inner, Ref *q, Ref *k, Ref *v)
{
	if (b->serial)
		T = 1;
	*q = gather(b, qkv, T, 3 * inner, 0, inner);
	*k = gather(b, qkv, T, 3 * inner, inner, inner);
	*v = gather(b, qkv, T, 3 * inner, 2 * inner, inner);
}
