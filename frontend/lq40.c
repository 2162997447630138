/*
 * lq40.c -- reads and writes LQ40, the LeWM edge checkpoint format.
 *
 * The format is specified in docs/lq40.md: "LQ40",
 * u32 JSON length, a compact JSON header, then records in a fixed order
 * (encoder, predictor, action encoder, two projection heads, and in the
 * current layout a trailer of seven F records).  Records are F (float
 * vector), Q4 (bitmap of present 32-wide blocks, each f32 scale + 16 bytes of
 * nibbles) and I8 (transposed int8 matrix + per-row scales).
 *
 * Reader: a cursor walks the bytes; every count is checked against the
 * bytes left *before* it is used, every size against the header's
 * dimensions, Q4 bitmaps against nz and I8 counts against out*in; NaN / Inf
 * values, nonzero Q4 padding and trailing bytes are rejected.  Each error
 * names the record (canonical tensor name = layer + tensor) and its byte
 * offset.  Sizes the header lacks (num_frames, action sizes, head sizes,
 * hybrid input dim) come from record lengths.  Tensors get the canonical
 * PyTorch names of checkpoint.h; BatchNorm is absent (has_batchnorm = 0).
 *
 * Writer: the current layout, byte for byte as the exporter writes it
 * (keys alphabetical, no spaces); float tensors are first quantized with
 * ck_quantize (quant.c), so safetensors -> LQ40 and LQ40 -> LQ40 agree.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lewm.h"

typedef struct Cursor {
	const char *path;
	const unsigned char *p;
	size_t n, pos;
	const char *rec;     /* record being read (for errors) */
	size_t rec_at;       /* its byte offset */
} Cursor;

#define NAMECAP 160

/* ---- reader primitives -------------------------------------------------- */

static _Noreturn void bad(const Cursor *c, const char *what)
{
	fatal(c->path, "record '%s' at byte offset %zu: %s", c->rec, c->rec_at, what);
}

static void need(const Cursor *c, uint64_t bytes, const char *what)
{
	if (bytes > c->n - c->pos) {
		char msg[200];
		snprintf(msg, sizeof msg, "%s needs %llu bytes at byte offset %zu, only %zu left",
		         what, (unsigned long long)bytes, c->pos, c->n - c->pos);
		bad(c, msg);
	}
}

static uint32_t get_u32(Cursor *c, const char *what)
{
	need(c, 4, what);
	const unsigned char *p = c->p + c->pos;
	c->pos += 4;
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static float get_f32(Cursor *c, const char *what)
{
	size_t at = c->pos;
	uint32_t u = get_u32(c, what);
	float f;
	memcpy(&f, &u, 4);
	if (f - f != 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "%s at byte offset %zu is %s", what, at, f != f ? "NaN" : "Inf");
		bad(c, msg);
	}
	return f;
}

static void begin(Cursor *c, const char *rec)
{
	c->rec = rec;
	c->rec_at = c->pos;
}

/* F record: returns its values (NULL if empty), *len its count.  want ==
 * SIZE_MAX accepts any length. */
static float *get_F(Cursor *c, const char *rec, size_t want, size_t *len)
{
	begin(c, rec);
	uint32_t n = get_u32(c, "count");
	need(c, (uint64_t)n * 4, "data");
	if (want != SIZE_MAX && n != want) {
		char msg[120];
		snprintf(msg, sizeof msg, "%u values, the header's dimensions need %zu", n, want);
		bad(c, msg);
	}
	*len = n;
	if (!n)
		return NULL;
	float *f = xmalloc(n * sizeof *f);
	for (uint32_t i = 0; i < n; i++)
		f[i] = get_f32(c, "value");
	return f;
}

static void check_dims(Cursor *c, uint32_t out, uint32_t in, uint32_t want_out, uint32_t want_in)
{
	if (out != want_out || in != want_in) {
		char msg[120];
		snprintf(msg, sizeof msg, "shape [%u][%u], the header's dimensions need [%u][%u]",
		         out, in, want_out, want_in);
		bad(c, msg);
	}
}

/* Reads one present Q4 block's 16 nibble bytes into row r, block b. */
static void get_q4_block(Cursor *c, CkTensor *t, uint32_t r, uint32_t b)
{
	const unsigned char *p = c->p + c->pos;
	for (uint32_t k = 0; k < 32; k++) {
		int nib = (p[k >> 1] >> (4 * (k & 1))) & 15;
		uint32_t col = b * 32 + k;
		if (col < t->in)
			t->q[(size_t)r * t->in + col] = (int8_t)(nib - 8);
		else if (nib != 8) {
			char msg[120];
			snprintf(msg, sizeof msg, "padding column %u of block %u is not zero (byte offset %zu)",
			         col, r * ((t->in + 31) / 32) + b, c->pos + (k >> 1));
			bad(c, msg);
		}
	}
	c->pos += 16;
}

static void get_Q4(Checkpoint *ck, Cursor *c, const char *rec, uint32_t wout, uint32_t win)
{
	begin(c, rec);
	uint32_t out = get_u32(c, "out"), in = get_u32(c, "in");
	check_dims(c, out, in, wout, win);
	uint64_t nb = (in + 31) / 32, tb = out * nb;
	uint32_t total = get_u32(c, "total_blocks"), nz = get_u32(c, "nz");
	char msg[160];
	if (total != tb) {
		snprintf(msg, sizeof msg, "total_blocks %u, expected out*ceil(in/32) = %llu",
		         total, (unsigned long long)tb);
		bad(c, msg);
	}
	need(c, (tb + 7) / 8, "bitmap");
	const unsigned char *bm = c->p + c->pos;
	uint64_t pop = 0;
	for (uint64_t i = 0; i < (tb + 7) / 8 * 8; i++)
		if ((bm[i >> 3] >> (i & 7)) & 1) {
			if (i >= tb)
				bad(c, "bitmap has a bit set past total_blocks");
			pop++;
		}
	if (pop != nz) {
		snprintf(msg, sizeof msg, "nz %u but the bitmap has %llu blocks", nz, (unsigned long long)pop);
		bad(c, msg);
	}
	c->pos += (tb + 7) / 8;
	need(c, (uint64_t)nz * 20, "blocks");
	uint32_t shape[2] = {out, in};
	CkTensor *t = ck_add(ck, rec, CK_Q4, 2, shape);
	t->out = out;
	t->in = in;
	t->q = xcalloc(t->n + 1, 1);
	t->scales = xcalloc(tb + 1, sizeof(float));
	for (uint64_t i = 0; i < tb; i++) {
		if (!((bm[i >> 3] >> (i & 7)) & 1))
			continue;
		size_t at = c->pos;
		float s = get_f32(c, "block scale");
		if (s == 0) {
			snprintf(msg, sizeof msg, "present block %llu has scale 0 (byte offset %zu)",
			         (unsigned long long)i, at);
			bad(c, msg);
		}
		t->scales[i] = s;
		get_q4_block(c, t, (uint32_t)(i / nb), (uint32_t)(i % nb));
	}
}

static void get_I8(Checkpoint *ck, Cursor *c, const char *rec, uint32_t wout, uint32_t win)
{
	begin(c, rec);
	uint32_t out = get_u32(c, "out"), in = get_u32(c, "in");
	check_dims(c, out, in, wout, win);
	uint32_t nw = get_u32(c, "nw");
	char msg[120];
	if (nw != (uint64_t)out * in) {
		snprintf(msg, sizeof msg, "nw %u, expected out*in = %llu", nw, (unsigned long long)out * in);
		bad(c, msg);
	}
	need(c, nw, "weights");
	uint32_t shape[2] = {out, in};
	CkTensor *t = ck_add(ck, rec, CK_I8, 2, shape);
	t->out = out;
	t->in = in;
	t->q = xmalloc(t->n + 1);
	for (uint32_t col = 0; col < in; col++)
		for (uint32_t r = 0; r < out; r++)
			t->q[(size_t)r * in + col] = (int8_t)c->p[c->pos + (size_t)col * out + r];
	c->pos += nw;
	uint32_t ns = get_u32(c, "ns");
	if (ns != out) {
		snprintf(msg, sizeof msg, "ns %u, expected out = %u", ns, out);
		bad(c, msg);
	}
	need(c, (uint64_t)ns * 4, "scales");
	t->scales = xmalloc((ns + 1) * sizeof(float));
	for (uint32_t r = 0; r < ns; r++)
		t->scales[r] = get_f32(c, "row scale");
}

/* An F record stored as tensor `name` with the given shape (numel = want). */
static void get_F_as(Checkpoint *ck, Cursor *c, const char *name, int ndim,
                     uint32_t d0, uint32_t d1, uint32_t d2, uint32_t d3)
{
	uint32_t shape[4] = {d0, d1, d2, d3};
	size_t want = 1, len;
	for (int i = 0; i < ndim; i++)
		want *= shape[i];
	float *f = get_F(c, name, want, &len);
	CkTensor *t = ck_add(ck, name, CK_F, ndim, shape);
	t->f = f ? f : xmalloc(sizeof(float));
}

/* F record of any length: kept under `name` as 1-D when non-empty. */
static size_t get_F_any(Checkpoint *ck, Cursor *c, const char *name, size_t *at)
{
	size_t len;
	*at = c->pos;
	float *f = get_F(c, name, SIZE_MAX, &len);
	if (f) {
		uint32_t shape[1] = {(uint32_t)len};
		ck_add(ck, name, CK_F, 1, shape)->f = f;
	}
	return len;
}

/* Reshapes a 1-D tensor read by get_F_any into [d0, d1]. */
static void reshape2(Checkpoint *ck, const char *name, uint32_t d0, uint32_t d1)
{
	CkTensor *t = ck_find(ck, name);
	if (!t)
		return;
	t->ndim = 2;
	t->shape[0] = d0;
	t->shape[1] = d1;
}

/* ---- header ------------------------------------------------------------- */

static const char *const lq40_modes[] = {"q4-pred", "full", "wanda20-q4", "wanda40-q4"};

typedef struct Header {
	int action_dim, channels, enc_heads, enc_hidden, enc_inter, enc_layers;
	int image_size, latent_dim, meta_tokens, patch_size, pred_heads;
	int pred_hidden, pred_inner, pred_inter, pred_layers;
	int has_meta;        /* meta_tokens key present (current layout) */
	char mode[16];
} Header;

static int hdr_int(const char *path, const cJSON *root, const char *key, int min, int *dst)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!v)
		return 0;
	double d = v->valuedouble;
	if (!cJSON_IsNumber(v) || !(d >= min && d <= 1e7) || d != (double)(int)d)
		fatal(path, "header key '%s' (JSON at byte offset 8) must be an integer >= %d", key, min);
	*dst = (int)d;
	return 1;
}

static void hdr_parse(const char *path, const cJSON *root, Header *h)
{
	struct { const char *key; int *dst; } k[] = {
		{"action_dim", &h->action_dim}, {"channels", &h->channels},
		{"encoder_heads", &h->enc_heads}, {"encoder_hidden", &h->enc_hidden},
		{"encoder_inter", &h->enc_inter}, {"encoder_layers", &h->enc_layers},
		{"image_size", &h->image_size}, {"latent_dim", &h->latent_dim},
		{"patch_size", &h->patch_size}, {"predictor_heads", &h->pred_heads},
		{"predictor_hidden", &h->pred_hidden}, {"predictor_inner_dim", &h->pred_inner},
		{"predictor_inter", &h->pred_inter}, {"predictor_layers", &h->pred_layers},
	};
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
		if (!hdr_int(path, root, k[i].key, 1, k[i].dst))
			fatal(path, "header (JSON at byte offset 8) lacks required key '%s'", k[i].key);
	h->has_meta = hdr_int(path, root, "meta_tokens", 0, &h->meta_tokens);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "mode");
	if (!m)
		fatal(path, "header (JSON at byte offset 8) lacks required key 'mode'");
	if (!cJSON_IsString(m))
		fatal(path, "header key 'mode' must be a string");
	int ok = 0;
	for (int i = 0; i < 4; i++)
		ok |= strcmp(m->valuestring, lq40_modes[i]) == 0;
	if (!ok)
		fatal(path, "unknown LQ40 mode '%s' (q4-pred, full, wanda20-q4, wanda40-q4)",
		      ESC(m->valuestring));
	strcpy(h->mode, m->valuestring);
	if (h->image_size % h->patch_size)
		fatal(path, "header: image_size %d is not a multiple of patch_size %d",
		      h->image_size, h->patch_size);
	if (h->pred_inner % h->pred_heads)
		fatal(path, "header: predictor_inner_dim %d is not a multiple of predictor_heads %d",
		      h->pred_inner, h->pred_heads);
	if (h->meta_tokens && strcmp(h->mode, "full") != 0)
		fatal(path, "header: meta_tokens %d in mode '%s' (only full mode has meta tokens)",
		      h->meta_tokens, h->mode);
}

static void read_family(Checkpoint **ckp, Cursor *c, const cJSON *root);

/* Reads the header into h; a file of another family (key "family") is read
 * whole by read_family into *other instead. */
static void hdr_read(Cursor *c, Header *h, Checkpoint **other)
{
	if (c->n < 8 || memcmp(c->p, "LQ40", 4) != 0)
		fatal(c->path, "not an LQ40 file (too short or bad magic at byte offset 0)");
	c->pos = 4;
	c->rec = "header";
	c->rec_at = 0;
	uint32_t len = get_u32(c, "JSON length");
	need(c, len, "JSON header");
	cJSON *root = cJSON_ParseWithLength((const char *)c->p + 8, len);
	if (!root || !cJSON_IsObject(root))
		fatal(c->path, "malformed JSON header (bytes 8..%llu)", 8ull + len);
	memset(h, 0, sizeof *h);
	c->pos += len;
	if (cJSON_GetObjectItemCaseSensitive(root, "family")) {
		read_family(other, c, root);
		cJSON_Delete(root);
		return;
	}
	hdr_parse(c->path, root, h);
	cJSON_Delete(root);
}

/* ---- body --------------------------------------------------------------- */

/* One per-layer record: suffix, matrix?, dims (H = hidden, I = inter, N = inner). */
typedef struct RecDef {
	const char *suffix;
	char kind;           /* 'F' vector, 'W' encoder matrix, 'Q' Q4 matrix */
	char d0, d1;
} RecDef;

static const RecDef enc_layer[] = {
	{"layernorm_before.weight", 'F', 'H', 0}, {"layernorm_before.bias", 'F', 'H', 0},
	{"attention.attention.query.weight", 'W', 'H', 'H'}, {"attention.attention.query.bias", 'F', 'H', 0},
	{"attention.attention.key.weight", 'W', 'H', 'H'}, {"attention.attention.key.bias", 'F', 'H', 0},
	{"attention.attention.value.weight", 'W', 'H', 'H'}, {"attention.attention.value.bias", 'F', 'H', 0},
	{"attention.output.dense.weight", 'W', 'H', 'H'}, {"attention.output.dense.bias", 'F', 'H', 0},
	{"layernorm_after.weight", 'F', 'H', 0}, {"layernorm_after.bias", 'F', 'H', 0},
	{"intermediate.dense.weight", 'W', 'I', 'H'}, {"intermediate.dense.bias", 'F', 'I', 0},
	{"output.dense.weight", 'W', 'H', 'I'}, {"output.dense.bias", 'F', 'H', 0},
};

static const RecDef pred_layer[] = {
	{"adaLN_modulation.1.weight", 'Q', '6', 'H'}, {"adaLN_modulation.1.bias", 'F', '6', 0},
	{"attn.to_qkv.weight", 'Q', '3', 'H'},
	{"attn.to_out.0.weight", 'Q', 'H', 'N'}, {"attn.to_out.0.bias", 'F', 'H', 0},
	{"attn.norm.weight", 'F', 'H', 0}, {"attn.norm.bias", 'F', 'H', 0},
	{"mlp.net.0.weight", 'F', 'H', 0}, {"mlp.net.0.bias", 'F', 'H', 0},
	{"mlp.net.1.weight", 'Q', 'I', 'H'}, {"mlp.net.1.bias", 'F', 'I', 0},
	{"mlp.net.4.weight", 'Q', 'H', 'I'}, {"mlp.net.4.bias", 'F', 'H', 0},
};

static uint32_t rec_dim(char d, int hid, int inter, int inner)
{
	switch (d) {
	case 'H': return hid;
	case 'I': return inter;
	case 'N': return inner;
	case '6': return 6 * hid;
	case '3': return 3 * inner;
	default: return 1;
	}
}

static void get_layer(Checkpoint *ck, Cursor *c, const RecDef *def, int nrec, const char *prefix,
                      int i, int full, int hid, int inter, int inner)
{
	char name[NAMECAP];
	for (int k = 0; k < nrec; k++) {
		int n = snprintf(name, sizeof name, prefix, i);
		snprintf(name + n, sizeof name - n, "%s", def[k].suffix);
		uint32_t d0 = rec_dim(def[k].d0, hid, inter, inner), d1 = rec_dim(def[k].d1, hid, inter, inner);
		if (def[k].kind == 'Q')
			get_Q4(ck, c, name, d0, d1);
		else if (def[k].kind == 'W' && full)
			get_I8(ck, c, name, d0, d1);
		else if (def[k].kind == 'W')
			get_F_as(ck, c, name, 2, d0, d1, 1, 1);
		else
			get_F_as(ck, c, name, 1, d0, 1, 1, 1);
	}
}

static void get_encoder(Checkpoint *ck, Cursor *c, const Header *h, int full)
{
	uint32_t hid = h->enc_hidden, p = h->patch_size, g = h->image_size / h->patch_size;
	get_F_as(ck, c, "encoder.embeddings.patch_embeddings.projection.weight", 4, hid, h->channels, p, p);
	get_F_as(ck, c, "encoder.embeddings.patch_embeddings.projection.bias", 1, hid, 1, 1, 1);
	get_F_as(ck, c, "encoder.embeddings.cls_token", 3, 1, 1, hid, 1);
	get_F_as(ck, c, "encoder.embeddings.position_embeddings", 3, 1, 1 + g * g, hid, 1);
	for (int i = 0; i < h->enc_layers; i++)
		get_layer(ck, c, enc_layer, 16, "encoder.encoder.layer.%d.", i, full,
		          h->enc_hidden, h->enc_inter, 0);
	get_F_as(ck, c, "encoder.layernorm.weight", 1, hid, 1, 1, 1);
	get_F_as(ck, c, "encoder.layernorm.bias", 1, hid, 1, 1, 1);
}

static void get_predictor(Checkpoint *ck, Cursor *c, const Header *h)
{
	/* pos_embedding is added before input_proj: its width is the predictor's
	 * input size, the latent size (= predictor_hidden without input_proj) */
	int pin = h->latent_dim > 0 ? h->latent_dim : h->pred_hidden;
	size_t at, len = get_F_any(ck, c, "predictor.pos_embedding", &at);
	if (!len || len % (size_t)pin)
		fatal(c->path, "record 'predictor.pos_embedding' at byte offset %zu: %zu values, "
		      "not a positive multiple of latent_dim %d", at, len, pin);
	CkTensor *t = ck_need(ck, "predictor.pos_embedding");
	t->ndim = 3;
	t->shape[0] = 1;
	t->shape[1] = (uint32_t)(len / (size_t)pin);
	t->shape[2] = (uint32_t)pin;
	((LewmConfig *)ck->cfg)->num_frames = (int)t->shape[1];
	for (int i = 0; i < h->pred_layers; i++)
		get_layer(ck, c, pred_layer, 13, "predictor.transformer.layers.%d.", i, 0,
		          h->pred_hidden, h->pred_inter, h->pred_inner);
	get_F_as(ck, c, "predictor.transformer.norm.weight", 1, h->pred_hidden, 1, 1, 1);
	get_F_as(ck, c, "predictor.transformer.norm.bias", 1, h->pred_hidden, 1, 1, 1);
}

/* A Linear stored as two F records of unknown size: returns out (bias
 * length) and sets *in; 0 when both are empty. */
static uint32_t get_linear(Checkpoint *ck, Cursor *c, const char *prefix, uint32_t *in)
{
	char w[NAMECAP], b[NAMECAP];
	snprintf(w, sizeof w, "%s.weight", prefix);
	snprintf(b, sizeof b, "%s.bias", prefix);
	size_t wat, bat;
	size_t wn = get_F_any(ck, c, w, &wat), bn = get_F_any(ck, c, b, &bat);
	*in = 0;
	if (!wn && !bn)
		return 0;
	if (!bn || !wn || wn % bn)
		fatal(c->path, "record '%s' at byte offset %zu: %zu values, not a multiple of the "
		      "%zu of its bias", w, wat, wn, bn);
	*in = (uint32_t)(wn / bn);
	reshape2(ck, w, (uint32_t)bn, *in);
	return (uint32_t)bn;
}

static void need_eq(const Cursor *c, const char *rec, uint32_t got, uint32_t want, const char *what)
{
	if (got != want)
		fatal(c->path, "record '%s' (before byte offset %zu): %s is %u, expected %u",
		      rec, c->pos, what, got, want);
}

static void get_action(Checkpoint *ck, Cursor *c, const Header *h)
{
	LewmConfig *cfg = ck->cfg;
	size_t at, n = get_F_any(ck, c, "action_encoder.patch_embed.weight", &at);
	if (!n || n % h->action_dim)
		fatal(c->path, "record 'action_encoder.patch_embed.weight' at byte offset %zu: %zu "
		      "values, not a positive multiple of action_dim %d", at, n, h->action_dim);
	CkTensor *t = ck_need(ck, "action_encoder.patch_embed.weight");
	t->ndim = 3;
	t->shape[0] = h->action_dim;
	t->shape[1] = (uint32_t)(n / h->action_dim);
	t->shape[2] = 1;
	cfg->action_smoothed = h->action_dim;
	cfg->action_input = (int)t->shape[1];
	get_F_as(ck, c, "action_encoder.patch_embed.bias", 1, h->action_dim, 1, 1, 1);
	uint32_t in1, in2;
	uint32_t m = get_linear(ck, c, "action_encoder.embed.0", &in1);
	need_eq(c, "action_encoder.embed.0.weight", in1, h->action_dim, "input size");
	uint32_t e = get_linear(ck, c, "action_encoder.embed.2", &in2);
	need_eq(c, "action_encoder.embed.2.weight", in2, m, "input size");
	if (!e || m % e)
		fatal(c->path, "record 'action_encoder.embed.2.bias': %u outputs do not divide the "
		      "hidden size %u", e, m);
	cfg->action_emb = (int)e;
	cfg->action_mlp_scale = (int)(m / e);
}

/* Head: u32 3, (net.0 w, b), (net.3 w, b), (empty, empty). */
static void get_head(Checkpoint *ck, Cursor *c, const char *part, int *in, int *hid, int *out)
{
	char p0[64], p3[64], p4[64];
	snprintf(p0, sizeof p0, "%s.net.0", part);
	snprintf(p3, sizeof p3, "%s.net.3", part);
	snprintf(p4, sizeof p4, "%s.net.4", part);
	begin(c, part);
	uint32_t nl = get_u32(c, "n_layers");
	if (nl != 3)
		bad(c, "n_layers is not 3");
	uint32_t i0, i3, i4;
	*hid = (int)get_linear(ck, c, p0, &i0);
	*in = (int)i0;
	*out = (int)get_linear(ck, c, p3, &i3);
	if (get_linear(ck, c, p4, &i4))
		fatal(c->path, "record '%s.weight' (before byte offset %zu): a third layer is not "
		      "part of LeWM", p4, c->pos);
	if (!*hid != !*out)
		fatal(c->path, "record '%s' (before byte offset %zu): only one of its two layers is "
		      "stored", part, c->pos);
	if (*hid)
		need_eq(c, p3, i3, (uint32_t)*hid, "input size");
}

/* Trailer (current layout): input_proj, cond_proj, meta_token, enc_proj. */
static void get_trailer(Checkpoint *ck, Cursor *c, const Header *h)
{
	uint32_t pin, cin, ein;
	uint32_t po = get_linear(ck, c, "predictor.transformer.input_proj", &pin);
	uint32_t co = get_linear(ck, c, "predictor.transformer.cond_proj", &cin);
	if (po)
		need_eq(c, "predictor.transformer.input_proj.bias", po, h->pred_hidden, "output size");
	if (co)
		need_eq(c, "predictor.transformer.cond_proj.bias", co, h->pred_hidden, "output size");
	need_eq(c, "predictor.transformer.cond_proj.weight", cin, pin,
	        "input size (must match input_proj's)");
	size_t at, mt = get_F_any(ck, c, "meta_token", &at);
	uint32_t eo = get_linear(ck, c, "enc_proj", &ein);
	if ((mt || eo) && strcmp(h->mode, "full") != 0)
		fatal(c->path, "record '%s' at byte offset %zu: only full mode stores meta_token / "
		      "enc_proj", mt ? "meta_token" : "enc_proj.weight", mt ? at : c->pos);
	((LewmConfig *)ck->cfg)->pred_input_dim = pin ? (int)pin : h->pred_hidden;
}

static void lq40_config(Checkpoint *ck, const Header *h, const char *path)
{
	LewmConfig *g = ck->cfg;
	g->image_size = h->image_size;
	g->patch_size = h->patch_size;
	g->channels = h->channels;
	g->enc_hidden = h->enc_hidden;
	g->enc_layers = h->enc_layers;
	g->enc_heads = h->enc_heads;
	g->enc_inter = h->enc_inter;
	g->pred_depth = h->pred_layers;
	g->pred_heads = h->pred_heads;
	g->pred_dim_head = h->pred_inner / h->pred_heads;
	g->pred_mlp = h->pred_inter;
	g->pred_hidden = h->pred_hidden;
	if (!g->pred_input_dim)
		g->pred_input_dim = h->pred_hidden;
	g->pred_output_dim = h->pred_hidden;
	g->latent_dim = h->latent_dim;
	struct { const char *what; int a, b; } eq[] = {
		{"predictor input size vs header latent_dim", g->pred_input_dim, g->latent_dim},
		{"action_encoder.embed.2 output size vs predictor input size", g->action_emb,
		 g->pred_input_dim},
		{"projector input size vs encoder_hidden", g->proj_hidden ? g->proj_in : g->enc_hidden,
		 g->enc_hidden},
		{"projector output size vs latent_dim", g->proj_hidden ? g->proj_out : g->latent_dim,
		 g->latent_dim},
		{"pred_proj input size vs predictor_hidden", g->pproj_hidden ? g->pproj_in : g->pred_hidden,
		 g->pred_hidden},
		{"pred_proj output size vs latent_dim", g->pproj_hidden ? g->pproj_out : g->latent_dim,
		 g->latent_dim},
	};
	for (size_t i = 0; i < sizeof eq / sizeof eq[0]; i++)
		if (eq[i].a != eq[i].b)
			fatal(path, "%s differ (%d, %d)", eq[i].what, eq[i].a, eq[i].b);
}

/* ---- other families: the schema layout ------------------------------------ */

/* Header {"config":{config.json},"family":NAME,"mode":MODE}; then one record
 * per entry of the family's schema, in its order, each a u32 tag (0 F,
 * 1 Q4, 2 I8) and the record; Q4 / I8 only for matrices, an empty F only
 * for an optional entry (absent).  docs/lq40.md, "Other families". */
enum { TAG_F, TAG_Q4, TAG_I8 };

static int no_shape(const void *ctx, const char *name, int *ndim, uint32_t shape[4])
{
	(void)ctx, (void)name, (void)ndim, (void)shape;
	return 0;
}

static void read_family(Checkpoint **ckp, Cursor *c, const cJSON *root)
{
	const cJSON *fn = cJSON_GetObjectItemCaseSensitive(root, "family");
	const cJSON *cf = cJSON_GetObjectItemCaseSensitive(root, "config");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "mode");
	const Family *fam = cJSON_IsString(fn) ? family_named(fn->valuestring) : NULL;
	if (!fam || fam == &fam_lewm) {
		char known[256];
		size_t k = 0;
		for (int i = 1; families[i] && k < sizeof known; i++)
			k += (size_t)snprintf(known + k, sizeof known - k, i > 1 ? ", %s" : "%s", families[i]->name);
		fatal(c->path, "header key 'family' is '%s', not a model family of the schema layout (%s; "
		      "a LeWM file has no 'family' key)", cJSON_IsString(fn) ? ESC(fn->valuestring) : "?", known);
	}
	if (!cJSON_IsObject(cf))
		fatal(c->path, "header (JSON at byte offset 8) lacks the object 'config'");
	int ok = 0;
	for (int i = 0; cJSON_IsString(m) && i < 4; i++)
		ok |= strcmp(m->valuestring, lq40_modes[i]) == 0;
	if (!ok)
		fatal(c->path, "header key 'mode' must be one of q4-pred, full, wanda20-q4, wanda40-q4");
	Checkpoint *ck = ck_new(c->path);
	*ckp = ck;
	ck_set_family(ck, fam);
	snprintf(ck->mode, sizeof ck->mode, "%s", m->valuestring);
	ck->has_batchnorm = 0;
	fam->read_config(c->path, cf, ck->cfg);
	ShapeOf none = {no_shape, NULL};
	if (fam->derive)
		fam->derive(c->path, ck->cfg, &none);
	Schema s = {.limit = (c->n - c->pos) / 8 + 1};   /* a record is >= 8 bytes */
	fam->schema(&s, ck->cfg);
	if (s.over) {
		c->rec = "header";
		c->rec_at = 0;
		bad(c, "the config implies more records than the file can hold");
	}
	for (size_t i = 0; i < s.n; i++) {
		const SchEntry *e = &s.e[i];
		begin(c, e->name);
		uint32_t tag = get_u32(c, "record tag");
		int matrix = e->ndim == 2;
		if (tag == TAG_Q4 && matrix) {
			get_Q4(ck, c, e->name, e->shape[0], e->shape[1]);
		} else if (tag == TAG_I8 && matrix) {
			get_I8(ck, c, e->name, e->shape[0], e->shape[1]);
		} else if (tag == TAG_F) {
			size_t want = 1, len, at = c->pos;
			for (int d = 0; d < e->ndim; d++)
				want *= e->shape[d];
			float *f = get_F(c, e->name, e->optional ? SIZE_MAX : want, &len);
			if (len && len != want) {
				c->rec_at = at;
				bad(c, "the length differs from the shape the config implies");
			}
			if (f)
				ck_add(ck, e->name, CK_F, e->ndim, e->shape)->f = f;
		} else {
			bad(c, "record tag is not 0 (F), 1 (Q4) or 2 (I8) of a matrix");
		}
	}
	sch_free(&s);
	if (c->pos != c->n)
		fatal(c->path, "%zu trailing bytes at byte offset %zu", c->n - c->pos, c->pos);
}

Checkpoint *lq40_read(const char *path)
{
	size_t n;
	char *buf = read_file(path, &n);
	Cursor c = {path, (const unsigned char *)buf, n, 0, "header", 0};
	Header h;
	Checkpoint *ck = NULL;
	hdr_read(&c, &h, &ck);
	if (ck) {
		free(buf);
		return ck;
	}
	ck = ck_new(path);
	ck_set_family(ck, &fam_lewm);
	strcpy(ck->mode, h.mode);
	ck->has_batchnorm = 0;
	ck->meta_tokens = h.meta_tokens;
	ck->old_layout = !h.has_meta;
	get_encoder(ck, &c, &h, strcmp(h.mode, "full") == 0);
	get_predictor(ck, &c, &h);
	get_action(ck, &c, &h);
	LewmConfig *g = ck->cfg;
	get_head(ck, &c, "projector", &g->proj_in, &g->proj_hidden, &g->proj_out);
	get_head(ck, &c, "pred_proj", &g->pproj_in, &g->pproj_hidden, &g->pproj_out);
	if (c.pos < c.n && h.has_meta)
		get_trailer(ck, &c, &h);
	if (c.pos != c.n)
		fatal(path, "%zu trailing bytes at byte offset %zu%s", c.n - c.pos, c.pos,
		      h.has_meta ? "" : " (an older-layout file, without meta_tokens, has no trailer)");
	lq40_config(ck, &h, path);
	free(buf);
	return ck;
}

/* ---- writer ------------------------------------------------------------- */

static void put_u32(FILE *f, uint32_t v)
{
	unsigned char b[4] = {v & 255, v >> 8 & 255, v >> 16 & 255, v >> 24};
	fwrite(b, 1, 4, f);
}

static void put_f32s(FILE *f, const float *x, size_t n)
{
	unsigned char buf[4096];
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		for (; i < n && k < sizeof buf; i++, k += 4) {
			uint32_t u;
			memcpy(&u, &x[i], 4);
			buf[k] = u & 255, buf[k + 1] = u >> 8 & 255;
			buf[k + 2] = u >> 16 & 255, buf[k + 3] = u >> 24;
		}
		fwrite(buf, 1, k, f);
	}
}

/* F record of tensor `name` (an empty record when absent and allowed). */
static void put_F(const Checkpoint *ck, FILE *f, const char *name, int optional)
{
	CkTensor *t = optional ? ck_find(ck, name) : ck_need(ck, name);
	if (!t) {
		put_u32(f, 0);
		return;
	}
	if (t->kind != CK_F)
		fatal(ck->path, "tensor '%s' is quantized; LQ40 stores it as floats", ESC(name));
	put_u32(f, (uint32_t)t->n);
	put_f32s(f, t->f, t->n);
}

static void put_Q4(const Checkpoint *ck, FILE *f, const char *name)
{
	CkTensor *t = ck_need(ck, name);
	if (t->kind != CK_Q4)
		die("put_Q4: '%s' is not Q4", name);
	uint32_t nb = (t->in + 31) / 32;
	size_t tb = (size_t)t->out * nb, nz = 0;
	unsigned char *bm = xcalloc((tb + 7) / 8 + 1, 1);
	for (size_t i = 0; i < tb; i++)
		if (t->scales[i] != 0) {
			bm[i >> 3] |= (unsigned char)(1u << (i & 7));
			nz++;
		}
	put_u32(f, t->out);
	put_u32(f, t->in);
	put_u32(f, (uint32_t)tb);
	put_u32(f, (uint32_t)nz);
	fwrite(bm, 1, (tb + 7) / 8, f);
	free(bm);
	for (size_t i = 0; i < tb; i++) {
		if (t->scales[i] == 0)
			continue;
		put_f32s(f, &t->scales[i], 1);
		unsigned char nib[16];
		size_t r = i / nb, c0 = (i % nb) * 32;
		for (int k = 0; k < 16; k++) {
			size_t a = c0 + 2 * k, b = a + 1;
			int lo = a < t->in ? t->q[r * t->in + a] + 8 : 8;
			int hi = b < t->in ? t->q[r * t->in + b] + 8 : 8;
			nib[k] = (unsigned char)(lo | hi << 4);
		}
		fwrite(nib, 1, 16, f);
	}
}

static void put_I8(const Checkpoint *ck, FILE *f, const char *name)
{
	CkTensor *t = ck_need(ck, name);
	if (t->kind != CK_I8)
		die("put_I8: '%s' is not I8", name);
	put_u32(f, t->out);
	put_u32(f, t->in);
	put_u32(f, (uint32_t)t->n);
	signed char *tr = xmalloc(t->n + 1);
	for (size_t r = 0; r < t->out; r++)
		for (size_t c = 0; c < t->in; c++)
			tr[c * t->out + r] = t->q[r * t->in + c];
	fwrite(tr, 1, t->n, f);
	free(tr);
	put_u32(f, t->out);
	put_f32s(f, t->scales, t->out);
}

static void put_layer(const Checkpoint *ck, FILE *f, const RecDef *def, int nrec,
                      const char *prefix, int i, int full)
{
	char name[NAMECAP];
	for (int k = 0; k < nrec; k++) {
		int n = snprintf(name, sizeof name, prefix, i);
		snprintf(name + n, sizeof name - n, "%s", def[k].suffix);
		if (def[k].kind == 'Q')
			put_Q4(ck, f, name);
		else if (def[k].kind == 'W' && full)
			put_I8(ck, f, name);
		else
			put_F(ck, f, name, 0);
	}
}

static void put_head(const Checkpoint *ck, FILE *f, const char *part)
{
	static const char *const rec[] = {"net.0.weight", "net.0.bias", "net.3.weight", "net.3.bias"};
	char name[64];
	put_u32(f, 3);
	for (int k = 0; k < 4; k++) {
		snprintf(name, sizeof name, "%s.%s", part, rec[k]);
		put_F(ck, f, name, 1);
	}
	put_u32(f, 0);
	put_u32(f, 0);
}

static void put_header(const Checkpoint *ck, FILE *f, const char *mode)
{
	const LewmConfig *g = ck->cfg;
	char json[1024];
	int n = snprintf(json, sizeof json,
		"{\"action_dim\":%d,\"channels\":%d,\"encoder_heads\":%d,\"encoder_hidden\":%d,"
		"\"encoder_inter\":%d,\"encoder_layers\":%d,\"image_size\":%d,\"latent_dim\":%d,"
		"\"meta_tokens\":%d,\"mode\":\"%s\",\"patch_size\":%d,\"predictor_heads\":%d,"
		"\"predictor_hidden\":%d,\"predictor_inner_dim\":%d,\"predictor_inter\":%d,"
		"\"predictor_layers\":%d}",
		g->action_smoothed, g->channels, g->enc_heads, g->enc_hidden, g->enc_inter,
		g->enc_layers, g->image_size, g->latent_dim, ck->meta_tokens, mode, g->patch_size,
		g->pred_heads, g->pred_hidden, g->pred_heads * g->pred_dim_head, g->pred_mlp,
		g->pred_depth);
	fwrite("LQ40", 1, 4, f);
	put_u32(f, (uint32_t)n);
	fwrite(json, 1, (size_t)n, f);
}

/* The schema layout of another family (read_family). */
static void write_family(Checkpoint *ck, const char *mode, FILE *f)
{
	char *text = NULL;
	size_t n = 0;
	FILE *mf = open_memstream(&text, &n);
	if (!mf)
		die("open_memstream failed");
	ck->family->write_config(mf, ck->cfg);
	fclose(mf);
	cJSON *root = cJSON_CreateObject(), *cf = cJSON_ParseWithLength(text, n);
	free(text);
	if (!cf)
		die("lq40: the family's config.json does not parse");
	cJSON_AddItemToObject(root, "config", cf);
	cJSON_AddStringToObject(root, "family", ck->family->name);
	cJSON_AddStringToObject(root, "mode", mode);
	char *json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	fwrite("LQ40", 1, 4, f);
	put_u32(f, (uint32_t)strlen(json));
	fwrite(json, 1, strlen(json), f);
	free(json);
	Schema s = {0};
	ck->family->schema(&s, ck->cfg);
	for (size_t i = 0; i < s.n; i++) {
		const char *name = s.e[i].name;
		CkTensor *t = s.e[i].optional ? ck_find(ck, name) : ck_need(ck, name);
		int tag = !t || t->kind == CK_F ? TAG_F : t->kind == CK_Q4 ? TAG_Q4 : TAG_I8;
		put_u32(f, (uint32_t)tag);
		if (tag == TAG_Q4)
			put_Q4(ck, f, name);
		else if (tag == TAG_I8)
			put_I8(ck, f, name);
		else
			put_F(ck, f, name, 1);
	}
	sch_free(&s);
}

void lq40_write(Checkpoint *ck, const char *mode, FILE *f)
{
	int ok = 0;
	for (int i = 0; i < 4; i++)
		ok |= strcmp(mode, lq40_modes[i]) == 0;
	if (!ok)
		fatal(ck->path, "unknown LQ40 mode '%s' (q4-pred, full, wanda20-q4, wanda40-q4)", ESC(mode));
	if (ck->family != &fam_lewm) {
		ck_quantize(ck, mode);
		write_family(ck, mode, f);
		return;
	}
	if (ck_find(ck, "predictor.transformer.output_proj.weight"))
		fatal(ck->path, "tensor 'predictor.transformer.output_proj.weight': LQ40 cannot store "
		      "a predictor output projection");
	ck_quantize(ck, mode);
	int full = strcmp(mode, "full") == 0;
	const LewmConfig *g = ck->cfg;
	put_header(ck, f, mode);
	put_F(ck, f, "encoder.embeddings.patch_embeddings.projection.weight", 0);
	put_F(ck, f, "encoder.embeddings.patch_embeddings.projection.bias", 0);
	put_F(ck, f, "encoder.embeddings.cls_token", 0);
	put_F(ck, f, "encoder.embeddings.position_embeddings", 0);
	for (int i = 0; i < g->enc_layers; i++)
		put_layer(ck, f, enc_layer, 16, "encoder.encoder.layer.%d.", i, full);
	put_F(ck, f, "encoder.layernorm.weight", 0);
	put_F(ck, f, "encoder.layernorm.bias", 0);
	put_F(ck, f, "predictor.pos_embedding", 0);
	for (int i = 0; i < g->pred_depth; i++)
		put_layer(ck, f, pred_layer, 13, "predictor.transformer.layers.%d.", i, full);
	put_F(ck, f, "predictor.transformer.norm.weight", 0);
	put_F(ck, f, "predictor.transformer.norm.bias", 0);
	put_F(ck, f, "action_encoder.patch_embed.weight", 0);
	put_F(ck, f, "action_encoder.patch_embed.bias", 0);
	static const char *const tail[] = {
		"action_encoder.embed.0.weight", "action_encoder.embed.0.bias",
		"action_encoder.embed.2.weight", "action_encoder.embed.2.bias",
	};
	for (int k = 0; k < 4; k++)
		put_F(ck, f, tail[k], 0);
	put_head(ck, f, "projector");
	put_head(ck, f, "pred_proj");
	static const char *const trailer[] = {
		"predictor.transformer.input_proj.weight", "predictor.transformer.input_proj.bias",
		"predictor.transformer.cond_proj.weight", "predictor.transformer.cond_proj.bias",
		"meta_token", "enc_proj.weight", "enc_proj.bias",
	};
	for (int k = 0; k < 7; k++)
		put_F(ck, f, trailer[k], 1);
}
