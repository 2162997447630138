/*
 * safetensors.c -- reads a checkpoint of any family in the safetensors format.
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
 * Then the family and its architecture come from config.json beside the
 * file or --config (family.h: the family whose top-level objects it has);
 * the family's canon() maps each file name to its canonical name (LeWM:
 * a leading "model." stripped, the newer ViT encoder names to the Hugging
 * Face ones, the unused pooler dropped), its derive() fills sizes the
 * config omits from the tensor shapes, and the set of tensors its schema
 * implies must match the file exactly: a missing (not optional) or
 * unexpected tensor or a wrong shape is an error naming it.  Data becomes
 * CK_F floats (F16 / BF16 converted exactly, I8 as its integer value); NaN
 * or Inf is an error naming the tensor and byte offset.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "family.h"

enum { DT_F32, DT_F16, DT_BF16, DT_I8, DT_I64 };

typedef struct StEntry {
	const char *key;     /* the file's name (borrowed from the JSON tree) */
	char name[160];      /* canonical name */
	int dtype, ndim, skip;
	uint32_t shape[4];
	uint64_t numel, begin, end;
} StEntry;

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
	if (!cJSON_IsObject(js))
		fatal(path, "tensor '%s': header entry is not an object", ESC(e->key));
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(js, "dtype");
	if (!cJSON_IsString(dt))
		fatal(path, "tensor '%s': missing or malformed 'dtype'", ESC(e->key));
	size_t esize = 0;
	e->dtype = st_dtype(dt->valuestring, &esize);
	size_t nl = strlen(e->key);
	int bn_count = nl > 20 && strcmp(e->key + nl - 20, ".num_batches_tracked") == 0;
	if (e->dtype < 0 || (e->dtype == DT_I64 && !bn_count))
		fatal(path, "tensor '%s': unsupported dtype '%s' (F32, F16, BF16, I8)",
		      ESC(e->key), ESC(dt->valuestring));
	st_shape(path, js, e);
	e->skip = bn_count;
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

/* ---- config + shapes ---------------------------------------------------- */

static const StEntry *st_entry_named(const StEntry *e, const NameIndex *fi, const char *name)
{
	size_t i = ni_find(fi, name);
	return i == SIZE_MAX ? NULL : &e[i];
}

/* ShapeOf over the file's entries (family.h), for a family's derive(). */
typedef struct FileShapes {
	const StEntry *e;
	const NameIndex *fi;
} FileShapes;

static int st_shape_of(const void *ctx, const char *name, int *ndim, uint32_t shape[4])
{
	const FileShapes *fs = ctx;
	const StEntry *e = st_entry_named(fs->e, fs->fi, name);
	if (!e)
		return 0;
	*ndim = e->ndim;
	memcpy(shape, e->shape, sizeof e->shape);
	return 1;
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
static void st_match(const char *path, StEntry *e, size_t n, const NameIndex *fi, Schema *l)
{
	if (l->over)   /* more expected than the file holds: one is missing */
		for (size_t j = 0; j < l->n; j++)
			if (ni_find(fi, l->e[j].name) == SIZE_MAX && !l->e[j].optional)
				fatal(path, "missing tensor '%s'", ESC(l->e[j].name));
	NameIndex xi = {0};
	for (size_t j = 0; j < l->n; j++)
		ni_add(&xi, l->e[j].name, j);
	for (size_t i = 0; i < n; i++) {
		if (e[i].skip)
			continue;
		size_t j = ni_find(&xi, e[i].name);
		SchEntry *x = j == SIZE_MAX ? NULL : &l->e[j];
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
		if (!l->e[j].seen && !l->e[j].optional)
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

/* config.json -> the family and its config (ck->family, ck->cfg). */
static void st_config(Checkpoint *ck, const char *cpath)
{
	size_t n;
	char *text = read_file(cpath, &n);
	cJSON *root = cJSON_ParseWithLength(text, n);
	free(text);
	if (!root)
		fatal(cpath, "config: malformed JSON");
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		fatal(cpath, "config: top level is not an object");
	}
	ck_set_family(ck, family_of_config(cpath, root));
	ck->family->read_config(cpath, root, ck->cfg);
	cJSON_Delete(root);
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
	st_config(ck, cpath);
	const Family *fam = ck->family;
	NameIndex fi = {0};
	size_t nused = 0;
	for (size_t i = 0; i < nent; i++) {
		if (!fam->canon(e[i].key, e[i].name, sizeof e[i].name))
			e[i].skip = 1;
		ni_add(&fi, e[i].name, i);
		nused += !e[i].skip;
	}
	FileShapes fs = {e, &fi};
	ShapeOf sh = {st_shape_of, &fs};
	if (fam->derive)
		fam->derive(cpath, ck->cfg, &sh);
	Schema l = {.limit = nused + 1};
	fam->schema(&l, ck->cfg);
	st_match(path, e, nent, &fi, &l);
	/* load in the schema's order so the checkpoint's order is canonical */
	for (size_t j = 0; j < l.n; j++) {
		const StEntry *x = st_entry_named(e, &fi, l.e[j].name);
		if (x)
			st_load(ck, x, (unsigned char *)buf + hend, hend);
	}
	ni_free(&fi);
	sch_free(&l);
	free(e);
	free(cpath);
	cJSON_Delete(root);
	free(buf);
	return ck;
}
