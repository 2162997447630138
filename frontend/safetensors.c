/*
 * safetensors.c -- reads a LeWM checkpoint in the safetensors format.
 *
 * Layout: u64 little-endian header length N, N bytes of JSON
 * ({"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...,
 * optional "__metadata__"}), then the data area; offsets are relative to
 * the data area.  Everything is validated before any tensor data is read:
 * N against the file size, each dtype (F32, F16, BF16, I8; I64 only for a
 * BatchNorm num_batches_tracked scalar, which is skipped), each shape
 * (<= 4 dims, products checked for overflow), each [b, e] inside the data
 * area with e - b == numel * element size, and the tensors tiling the data
 * area exactly (sorted by offset: no overlap, no hole, no trailing bytes).
 *
 * Names: a leading "model." is stripped and the newer encoder names
 * (encoder.layers.i.attention.{q,k,v,o}_proj, mlp.fc1/fc2, layer_norm1/2)
 * become the Hugging Face ViT names (see checkpoint.h).  The architecture
 * comes from config.json (config.c) beside the file or --config; the set of
 * tensors it implies (st_expect) must match the file exactly: a missing or
 * unexpected tensor or a wrong shape is an error naming it.  HF's unused
 * pooler (encoder.pooler.*) is tolerated and dropped.  Data becomes CK_F
 * floats (F16 / BF16 converted exactly, I8 as its integer value); NaN or
 * Inf is an error naming the tensor and byte offset.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checkpoint.h"
#include "frontend.h"

enum { DT_F32, DT_F16, DT_BF16, DT_I8, DT_I64 };

typedef struct StEntry {
	const char *key;     /* the file's name (borrowed from the JSON tree) */
	char name[160];      /* canonical name */
	int dtype, ndim, skip;
	uint32_t shape[4];
	uint64_t numel, begin, end;
} StEntry;

typedef struct Expect {
	char name[160];
	int ndim, seen;
	uint32_t shape[4];
} Expect;

/* The tensors a config implies, at most `limit` of them: one more than the
 * file holds, so a config that demands more than the file has (a layer
 * count of 10^7 beside a 1 KB file) costs no more than the file does. */
typedef struct ExpList {
	Expect *e;
	size_t n, cap;
	size_t limit;
	int over;            /* the config implies more than limit tensors */
} ExpList;

/* ---- names ------------------------------------------------------------- */

/* Maps the newer per-layer encoder names to the HF ViT names. */
static void st_canon(const char *key, char *out, size_t cap)
{
	static const char *const map[][2] = {
		{"attention.q_proj.", "attention.attention.query."},
		{"attention.k_proj.", "attention.attention.key."},
		{"attention.v_proj.", "attention.attention.value."},
		{"attention.o_proj.", "attention.output.dense."},
		{"mlp.fc1.", "intermediate.dense."}, {"mlp.fc2.", "output.dense."},
		{"layer_norm1.", "layernorm_before."}, {"layer_norm2.", "layernorm_after."},
		{"norm1.", "layernorm_before."}, {"norm2.", "layernorm_after."},
	};
	if (strncmp(key, "model.", 6) == 0)
		key += 6;
	int layer, len = 0;
	if (sscanf(key, "encoder.layers.%d.%n", &layer, &len) == 1 && len > 0) {
		const char *rest = key + len;
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
			size_t k = strlen(map[i][0]);
			if (strncmp(rest, map[i][0], k) == 0) {
				snprintf(out, cap, "encoder.encoder.layer.%d.%s%s", layer, map[i][1], rest + k);
				return;
			}
		}
		snprintf(out, cap, "encoder.encoder.layer.%d.%s", layer, rest);
		return;
	}
	snprintf(out, cap, "%s", key);
}

/* ---- header ------------------------------------------------------------ */

static int st_dtype(const char *s, size_t *size)
{
	static const struct { const char *name; size_t size; } dt[] = {
		{"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I8", 1}, {"I64", 8},
	};
	for (int i = 0; i < 5; i++)
		if (strcmp(s, dt[i].name) == 0) {
			*size = dt[i].size;
			return i;
		}
	return -1;
}

/* A JSON number that is an integer in 0..max. */
static int st_uint(const cJSON *v, double max, uint64_t *out)
{
	if (!cJSON_IsNumber(v))
		return 0;
	double d = v->valuedouble;
	if (!(d >= 0 && d <= max) || d != (double)(uint64_t)d)
		return 0;
	*out = (uint64_t)d;
	return 1;
}

static void st_shape(const char *path, const cJSON *js, StEntry *e)
{
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(js, "shape");
	if (!cJSON_IsArray(sh))
		fatal(path, "tensor '%s': missing or malformed 'shape'", ESC(e->key));
	e->ndim = cJSON_GetArraySize(sh);
	if (e->ndim > 4)
		fatal(path, "tensor '%s': %d dimensions (at most 4 supported)", ESC(e->key), e->ndim);
	e->numel = 1;
	for (int i = 0; i < e->ndim; i++) {
		uint64_t d;
		if (!st_uint(cJSON_GetArrayItem(sh, i), 4294967295.0, &d))
			fatal(path, "tensor '%s': shape[%d] is not an integer in 0..2^32-1", ESC(e->key), i);
		e->shape[i] = (uint32_t)d;
		if (__builtin_mul_overflow(e->numel, d, &e->numel) || e->numel > ((uint64_t)1 << 40))
			fatal(path, "tensor '%s': shape has too many elements", ESC(e->key));
	}
}

/* Tensor names must be printable ASCII (they are also identifiers in the
 * generated code); a bad one is shown escaped. */
static void st_check_name(const char *path, const char *key)
{
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			fatal(path, "tensor name '%s' has a non-printable byte at position %zu", ESC(key),
			      (size_t)(p - (const unsigned char *)key));
}

static void st_entry(const char *path, const cJSON *js, uint64_t dsize, uint64_t hend, StEntry *e)
{
	st_check_name(path, js->string);
	e->key = js->string;
	st_canon(e->key, e->name, sizeof e->name);
	if (!cJSON_IsObject(js))
		fatal(path, "tensor '%s': header entry is not an object", ESC(e->key));
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(js, "dtype");
	if (!cJSON_IsString(dt))
		fatal(path, "tensor '%s': missing or malformed 'dtype'", ESC(e->key));
	size_t esize = 0;
	e->dtype = st_dtype(dt->valuestring, &esize);
	size_t nl = strlen(e->name);
	int bn_count = nl > 20 && strcmp(e->name + nl - 20, ".num_batches_tracked") == 0;
	if (e->dtype < 0 || (e->dtype == DT_I64 && !bn_count))
		fatal(path, "tensor '%s': unsupported dtype '%s' (F32, F16, BF16, I8)",
		      ESC(e->key), ESC(dt->valuestring));
	st_shape(path, js, e);
	e->skip = bn_count || strncmp(e->name, "encoder.pooler.", 15) == 0;
	const cJSON *off = cJSON_GetObjectItemCaseSensitive(js, "data_offsets");
	if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
	    !st_uint(cJSON_GetArrayItem(off, 0), 9007199254740992.0, &e->begin) ||
	    !st_uint(cJSON_GetArrayItem(off, 1), 9007199254740992.0, &e->end))
		fatal(path, "tensor '%s': missing or malformed 'data_offsets'", ESC(e->key));
	if (e->begin > e->end || e->end > dsize)
		fatal(path, "tensor '%s': data_offsets [%llu, %llu] outside the data area "
		      "(%llu bytes at byte offset %llu)", ESC(e->key), (unsigned long long)e->begin,
		      (unsigned long long)e->end, (unsigned long long)dsize, (unsigned long long)hend);
	if (e->end - e->begin != e->numel * esize)
		fatal(path, "tensor '%s': data_offsets span %llu bytes but the shape needs %llu",
		      ESC(e->key), (unsigned long long)(e->end - e->begin),
		      (unsigned long long)(e->numel * esize));
}

static int st_by_offset(const void *a, const void *b)
{
	const StEntry *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* The tensors must tile the data area: no overlap, hole or trailing bytes. */
static void st_tiling(const char *path, StEntry *e, size_t n, uint64_t dsize, uint64_t hend)
{
	qsort(e, n, sizeof *e, st_by_offset);
	uint64_t at = 0;
	for (size_t i = 0; i < n; i++) {
		if (e[i].begin < at)
			fatal(path, "tensor '%s': data [%llu, %llu] overlaps tensor '%s'", ESC(e[i].key),
			      (unsigned long long)e[i].begin, (unsigned long long)e[i].end, ESC(e[i - 1].key));
		if (e[i].begin > at)
			fatal(path, "unused bytes at byte offset %llu (before tensor '%s')",
			      (unsigned long long)(hend + at), ESC(e[i].key));
		at = e[i].end;
	}
	if (at != dsize)
		fatal(path, "%llu trailing bytes at byte offset %llu after the last tensor",
		      (unsigned long long)(dsize - at), (unsigned long long)(hend + at));
}

/* Parses and checks the header; returns the entries (sorted by offset). */
static StEntry *st_header(const char *path, const char *buf, size_t n, size_t *nent,
                          cJSON **root, uint64_t *hend)
{
	if (n < 8)
		fatal(path, "file too short (%zu bytes) for the 8-byte header length", n);
	uint64_t hlen = 0;
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | (unsigned char)buf[i];
	if (hlen > n - 8)
		fatal(path, "header length %llu at byte offset 0 runs past the end of the file "
		      "(%zu bytes)", (unsigned long long)hlen, n);
	if (hlen < 2 || hlen > (100u << 20))
		fatal(path, "absurd header length %llu at byte offset 0", (unsigned long long)hlen);
	*hend = 8 + hlen;
	*root = cJSON_ParseWithLength(buf + 8, hlen);
	if (!*root || !cJSON_IsObject(*root))
		fatal(path, "malformed JSON header (bytes 8..%llu)", (unsigned long long)*hend);
	uint64_t dsize = n - *hend;
	StEntry *e = xcalloc(cJSON_GetArraySize(*root) + 1, sizeof *e);
	size_t k = 0;
	for (const cJSON *js = (*root)->child; js; js = js->next)
		if (strcmp(js->string, "__metadata__") != 0)
			st_entry(path, js, dsize, *hend, &e[k++]);
	st_tiling(path, e, k, dsize, *hend);
	*nent = k;
	return e;
}

/* ---- the tensors a config implies ---------------------------------------- */

static void exp_add(ExpList *l, int ndim, uint32_t d0, uint32_t d1, uint32_t d2, uint32_t d3,
                    const char *fmt, int i)
{
	if (l->n >= l->limit) {
		l->over = 1;
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->e = xrealloc(l->e, l->cap * sizeof *l->e);
	}
	Expect *e = &l->e[l->n++];
	memset(e, 0, sizeof *e);
	ck_name(e->name, sizeof e->name, fmt, i);
	e->ndim = ndim;
	uint32_t d[4] = {d0, d1, d2, d3};
	memcpy(e->shape, d, sizeof d);
}

/* The last exp_linear was a norm: its weight is a vector. */
static void exp_vec(ExpList *l)
{
	if (!l->over)
		l->e[l->n - 2].ndim = 1;
}

/* Linear layer "<prefix>.weight" [out, in] + "<prefix>.bias" [out]. */
static void exp_linear(ExpList *l, const char *prefix, int i, uint32_t out, uint32_t in)
{
	char fmt[160];
	snprintf(fmt, sizeof fmt, "%s.weight", prefix);
	exp_add(l, 2, out, in, 0, 0, fmt, i);
	snprintf(fmt, sizeof fmt, "%s.bias", prefix);
	exp_add(l, 1, out, 0, 0, 0, fmt, i);
}

static void exp_encoder(ExpList *l, const LewmConfig *c)
{
	uint32_t h = c->enc_hidden, np = (c->image_size / c->patch_size) * (c->image_size / c->patch_size);
	exp_add(l, 3, 1, 1, h, 0, "encoder.embeddings.cls_token", 0);
	exp_add(l, 3, 1, np + 1, h, 0, "encoder.embeddings.position_embeddings", 0);
	exp_add(l, 4, h, c->channels, c->patch_size, c->patch_size,
	        "encoder.embeddings.patch_embeddings.projection.weight", 0);
	exp_add(l, 1, h, 0, 0, 0, "encoder.embeddings.patch_embeddings.projection.bias", 0);
	for (int i = 0; i < c->enc_layers && !l->over; i++) {
		exp_linear(l, "encoder.encoder.layer.%d.layernorm_before", i, h, 0);
		exp_vec(l);
		exp_linear(l, "encoder.encoder.layer.%d.attention.attention.query", i, h, h);
		exp_linear(l, "encoder.encoder.layer.%d.attention.attention.key", i, h, h);
		exp_linear(l, "encoder.encoder.layer.%d.attention.attention.value", i, h, h);
		exp_linear(l, "encoder.encoder.layer.%d.attention.output.dense", i, h, h);
		exp_linear(l, "encoder.encoder.layer.%d.layernorm_after", i, h, 0);
		exp_vec(l);
		exp_linear(l, "encoder.encoder.layer.%d.intermediate.dense", i, c->enc_inter, h);
		exp_linear(l, "encoder.encoder.layer.%d.output.dense", i, h, c->enc_inter);
	}
	exp_linear(l, "encoder.layernorm", 0, h, 0);
	exp_vec(l);
}

static void exp_predictor(ExpList *l, const LewmConfig *c)
{
	uint32_t h = c->pred_hidden, inner = c->pred_heads * c->pred_dim_head;
	/* added to the embeddings before input_proj: [1][T][input_dim] */
	exp_add(l, 3, 1, c->num_frames, c->pred_input_dim ? c->pred_input_dim : (int)h, 0,
	        "predictor.pos_embedding", 0);
	for (int i = 0; i < c->pred_depth && !l->over; i++) {
		exp_linear(l, "predictor.transformer.layers.%d.adaLN_modulation.1", i, 6 * h, h);
		exp_linear(l, "predictor.transformer.layers.%d.attn.norm", i, h, 0);
		exp_vec(l);
		exp_add(l, 2, 3 * inner, h, 0, 0, "predictor.transformer.layers.%d.attn.to_qkv.weight", i);
		exp_linear(l, "predictor.transformer.layers.%d.attn.to_out.0", i, h, inner);
		exp_linear(l, "predictor.transformer.layers.%d.mlp.net.0", i, h, 0);
		exp_vec(l);
		exp_linear(l, "predictor.transformer.layers.%d.mlp.net.1", i, c->pred_mlp, h);
		exp_linear(l, "predictor.transformer.layers.%d.mlp.net.4", i, h, c->pred_mlp);
	}
	exp_linear(l, "predictor.transformer.norm", 0, h, 0);
	exp_vec(l);
	if (c->pred_input_dim != c->pred_hidden) {
		exp_linear(l, "predictor.transformer.input_proj", 0, h, c->pred_input_dim);
		exp_linear(l, "predictor.transformer.cond_proj", 0, h, c->pred_input_dim);
	}
	if (c->pred_output_dim != c->pred_hidden)
		exp_linear(l, "predictor.transformer.output_proj", 0, c->pred_output_dim, h);
}

static void exp_head(ExpList *l, const char *part, int in, int hid, int out)
{
	char p[64];
	snprintf(p, sizeof p, "%s.net.0", part);
	exp_linear(l, p, 0, hid, in);
	static const char *const bn[] = {"weight", "bias", "running_mean", "running_var"};
	for (int k = 0; k < 4; k++) {
		char name[96];
		snprintf(name, sizeof name, "%s.net.1.%s", part, bn[k]);
		exp_add(l, 1, hid, 0, 0, 0, name, 0);
	}
	snprintf(p, sizeof p, "%s.net.3", part);
	exp_linear(l, p, 0, out, hid);
}

static void exp_all(ExpList *l, const LewmConfig *c)
{
	exp_encoder(l, c);
	exp_predictor(l, c);
	uint32_t s = c->action_smoothed, e = c->action_emb, m = c->action_mlp_scale * e;
	exp_add(l, 3, s, c->action_input, 1, 0, "action_encoder.patch_embed.weight", 0);
	exp_add(l, 1, s, 0, 0, 0, "action_encoder.patch_embed.bias", 0);
	exp_linear(l, "action_encoder.embed.0", 0, m, s);
	exp_linear(l, "action_encoder.embed.2", 0, e, m);
	exp_head(l, "projector", c->proj_in, c->proj_hidden, c->proj_out);
	exp_head(l, "pred_proj", c->pproj_in, c->pproj_hidden, c->pproj_out);
}

/* ---- config + shapes ---------------------------------------------------- */

static const StEntry *st_entry_named(const StEntry *e, const NameIndex *fi, const char *name)
{
	size_t i = ni_find(fi, name);
	return i == SIZE_MAX ? NULL : &e[i];
}

/* Sizes the config may omit come from the tensor shapes; the parts must
 * also agree with each other. */
static void st_derive(const char *cpath, LewmConfig *c, const StEntry *e, const NameIndex *fi)
{
	const StEntry *pe = st_entry_named(e, fi, "action_encoder.patch_embed.weight");
	if (!c->action_smoothed)
		c->action_smoothed = pe && pe->ndim == 3 ? (int)pe->shape[0] : 10;
	const StEntry *m0 = st_entry_named(e, fi, "action_encoder.embed.0.weight");
	if (!c->action_mlp_scale)
		c->action_mlp_scale = m0 && m0->ndim == 2 && m0->shape[0] % c->action_emb == 0 &&
		                      m0->shape[0] ? (int)(m0->shape[0] / c->action_emb) : 4;
	struct { const char *what; int a, b; } eq[] = {
		{"projector.input_dim vs encoder hidden size", c->proj_in, c->enc_hidden},
		{"projector.output_dim vs predictor.input_dim", c->proj_out, c->pred_input_dim},
		{"action_encoder.emb_dim vs predictor.input_dim", c->action_emb, c->pred_input_dim},
		{"pred_proj.input_dim vs predictor.output_dim", c->pproj_in, c->pred_output_dim},
		{"pred_proj.output_dim vs projector.output_dim", c->pproj_out, c->proj_out},
	};
	for (size_t i = 0; i < sizeof eq / sizeof eq[0]; i++)
		if (eq[i].a != eq[i].b)
			fatal(cpath, "config: %s differ (%d, %d)", eq[i].what, eq[i].a, eq[i].b);
}

static void fmt_shape(char *buf, size_t cap, int ndim, const uint32_t *s)
{
	size_t k = (size_t)snprintf(buf, cap, "[");
	for (int i = 0; i < ndim && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, i ? ",%u" : "%u", s[i]);
	if (k < cap)
		snprintf(buf + k, cap - k, "]");
}

/* Every file tensor is expected with that shape; every expected one present.
 * Both lists are hashed: linear in the file and the config's list. */
static void st_match(const char *path, StEntry *e, size_t n, const NameIndex *fi, ExpList *l)
{
	if (l->over)   /* more expected than the file holds: one is missing */
		for (size_t j = 0; j < l->n; j++)
			if (ni_find(fi, l->e[j].name) == SIZE_MAX)
				fatal(path, "missing tensor '%s'", ESC(l->e[j].name));
	NameIndex xi = {0};
	for (size_t j = 0; j < l->n; j++)
		ni_add(&xi, l->e[j].name, j);
	for (size_t i = 0; i < n; i++) {
		if (e[i].skip)
			continue;
		size_t j = ni_find(&xi, e[i].name);
		Expect *x = j == SIZE_MAX ? NULL : &l->e[j];
		if (!x)
			fatal(path, "unexpected tensor '%s' (not part of the model config.json describes)",
			      ESC(e[i].key));
		if (x->seen++)
			fatal(path, "tensor '%s': duplicate of '%s'", ESC(e[i].key), ESC(x->name));
		if (x->ndim != e[i].ndim || memcmp(x->shape, e[i].shape, x->ndim * sizeof(uint32_t))) {
			char a[64], b[64];
			fmt_shape(a, sizeof a, e[i].ndim, e[i].shape);
			fmt_shape(b, sizeof b, x->ndim, x->shape);
			fatal(path, "tensor '%s': shape %s, config.json implies %s", ESC(e[i].key), a, b);
		}
	}
	for (size_t j = 0; j < l->n; j++)
		if (!l->e[j].seen)
			fatal(path, "missing tensor '%s'", ESC(l->e[j].name));
	ni_free(&xi);
}

/* ---- data ---------------------------------------------------------------- */

static float f16_to_f32(uint16_t h)
{
	uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 0x3ff, bits;
	if (e == 31)
		bits = s | 0x7f800000u | m << 13;
	else if (e)
		bits = s | (e + 112) << 23 | m << 13;
	else if (!m)
		bits = s;
	else {                        /* subnormal: normalise */
		e = 113;
		while (!(m & 0x400)) {
			m <<= 1;
			e--;
		}
		bits = s | e << 23 | (m & 0x3ff) << 13;
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

static float st_elem(const unsigned char *p, int dtype)
{
	uint32_t u;
	float f;
	switch (dtype) {
	case DT_F32:
		u = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
		break;
	case DT_BF16:
		u = (uint32_t)(p[0] | p[1] << 8) << 16;
		break;
	case DT_F16:
		return f16_to_f32((uint16_t)(p[0] | p[1] << 8));
	default:
		return (float)(int8_t)p[0];
	}
	memcpy(&f, &u, 4);
	return f;
}

static void st_load(Checkpoint *ck, const StEntry *e, const unsigned char *data, uint64_t hend)
{
	static const size_t esize[] = {4, 2, 2, 1};
	CkTensor *t = ck_add(ck, e->name, CK_F, e->ndim, e->shape);
	t->f = xmalloc((t->n ? t->n : 1) * sizeof(float));
	for (size_t i = 0; i < t->n; i++) {
		const unsigned char *p = data + e->begin + i * esize[e->dtype];
		t->f[i] = st_elem(p, e->dtype);
		if (t->f[i] - t->f[i] != 0)
			fatal(ck->path, "tensor '%s': element %zu (byte offset %llu) is %s", ESC(e->key), i,
			      (unsigned long long)(hend + e->begin + i * esize[e->dtype]),
			      t->f[i] != t->f[i] ? "NaN" : "Inf");
	}
}

static char *st_config_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir = slash ? (size_t)(slash - path + 1) : 0;
	char *p = xmalloc(dir + 16);
	memcpy(p, path, dir);
	strcpy(p + dir, "config.json");
	return p;
}

Checkpoint *st_read(const char *path, const char *config_path)
{
	size_t n, nent;
	char *buf = read_file(path, &n);
	cJSON *root;
	uint64_t hend;
	StEntry *e = st_header(path, buf, n, &nent, &root, &hend);
	char *cpath = config_path ? xstrdup(config_path) : st_config_path(path);
	Checkpoint *ck = ck_new(path);
	ck_read_config(cpath, &ck->cfg);
	NameIndex fi = {0};
	size_t nused = 0;
	for (size_t i = 0; i < nent; i++) {
		ni_add(&fi, e[i].name, i);
		nused += !e[i].skip;
	}
	st_derive(cpath, &ck->cfg, e, &fi);
	ExpList l = {.limit = nused + 1};
	exp_all(&l, &ck->cfg);
	st_match(path, e, nent, &fi, &l);
	/* load in the config's order so the checkpoint's order is canonical */
	for (size_t j = 0; j < l.n; j++)
		st_load(ck, st_entry_named(e, &fi, l.e[j].name), (unsigned char *)buf + hend, hend);
	ni_free(&fi);
	free(l.e);
	free(e);
	free(cpath);
	cJSON_Delete(root);
	free(buf);
	return ck;
}
