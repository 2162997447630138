/*
 * lewm.c -- the LeWM model builder: a Checkpoint -> jepac's high-level float IR.
 *
 * The forward semantics are those of docs/lewm.md (the reference
 * implementation's ARPredictor, Embedder, projector MLPs and HF ViT).  One
 * module is built per "top" (a model part): predict-step (default),
 * predictor, action-encoder, encoder, projector, pred-proj, and world (the
 * encoder, projector, predictor and pred-proj on one stream, with the
 * history of frame embeddings kept on chip) -- the table lewm_tops at the
 * end; the family's row is in lewm_family.c.  The family-independent
 * helpers (tensors, Linear, LayerNorm, attention, ports) are those of
 * build.h.
 *
 * IR conventions.  A sequence of T tokens of D dims is one f64 value of T*D
 * lanes, token-major.  A per-token Linear is one `matvec` of the [out][in]
 * weight tensor (it applies to every group of `in` lanes), plus a `[out]`
 * bias vconst that broadcasts over the tokens.  Weight tensors keep their
 * checkpoint names and kinds (CK_Q4 -> q4, CK_I8 -> i8, CK_F -> f32); tensors
 * the builder derives itself (BatchNorm folded into a Linear, the all-ones
 * column used to broadcast attention weights) are f64 and named after their
 * source with a suffix.  Every node carries a region such as
 * "predictor.layer3.attn.to_qkv"; ports carry none.
 *
 * Dead work is never built: when only the last token of the predictor (or
 * the CLS token of the encoder) is wanted, the last block computes its
 * attention for that one query (`attn_one`: scores, softmax and the weighted
 * sum spelled out with mul/sum/softmax) and its MLP, final LayerNorm and
 * heads for that one token; keys and values still cover every token.
 *
 * Sizes come from LewmConfig (filled from config.json or the LQ40 header),
 * falling back to tensor shapes where a field is 0; every tensor is checked
 * against them and a mismatch is fatal(ck->path, "tensor NAME: ...").  Each
 * weight is copied once, from the checkpoint into the module's arena.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "lewm.h"


static const LewmConfig *lcfg(const Builder *b) { return b->cfg; }

/* Predictor sizes. */
typedef struct Pred {
	uint32_t T, din, d, dout, depth, H, dh, inner, mlp;
} Pred;

/* Encoder (ViT) sizes. */
typedef struct Enc {
	uint32_t img, P, C, hid, L, H, inter, np;
} Enc;


static void pred_dims(Builder *b, Pred *p)
{
	const LewmConfig *c = b->cfg;
	CkTensor *pos = tneed(b, "predictor.pos_embedding"), *t;
	long d = c->pred_hidden, din = c->pred_input_dim, depth = c->pred_depth;
	if (d <= 0 && (t = tfind(b, "predictor.transformer.norm.weight")))
		d = (long)t->n;
	p->d = need_dim(b, d, "predictor hidden_dim");
	p->din = need_dim(b, din > 0 ? din : pos->ndim ? (long)pos->shape[pos->ndim - 1] : 0,
	                  "predictor input_dim");
	t = tfind(b, "predictor.transformer.output_proj.weight");
	p->dout = need_dim(b, c->pred_output_dim > 0 ? c->pred_output_dim : t ? (long)ck_rows(t) : d,
	                   "predictor output_dim");
	p->T = need_dim(b, c->num_frames > 0 ? c->num_frames : (long)(pos->n / p->din),
	                "predictor num_frames");
	if (depth <= 0)
		for (depth = 0; tfind(b, "predictor.transformer.layers.%ld.attn.to_qkv.weight", depth); depth++)
			;
	p->depth = (uint32_t)depth;
	p->H = need_dim(b, c->pred_heads, "predictor heads");
	t = p->depth ? tneed(b, "predictor.transformer.layers.0.attn.to_qkv.weight") : NULL;
	long inner = c->pred_dim_head > 0 ? (long)c->pred_dim_head * p->H : t ? ck_rows(t) / 3 : p->d;
	p->inner = need_dim(b, inner, "predictor dim_head");
	if (p->inner % p->H)
		fatal(b->ck->path, "config: predictor inner dim %u is not a multiple of %u heads", p->inner, p->H);
	p->dh = p->inner / p->H;
	t = p->depth ? tneed(b, "predictor.transformer.layers.0.mlp.net.1.weight") : NULL;
	p->mlp = need_dim(b, c->pred_mlp > 0 ? c->pred_mlp : t ? (long)ck_rows(t) : 1, "predictor mlp_dim");
	uint64_t w = 6ull * p->d > 3ull * p->inner ? 6ull * p->d : 3ull * p->inner;
	w = w > p->mlp ? w : p->mlp;
	check_lanes(b, (uint64_t)p->T * (w > p->din ? w : p->din), "the predictor");
}

/* One field (0..5: shift/scale/gate msa, shift/scale/gate mlp) of the adaLN
 * output, for every token or for the last one only. */
static Ref chunk(Builder *b, Ref mod, const Pred *p, uint32_t k, int last)
{
	uint32_t s = 6 * p->d;
	if (b->serial)
		return extract(b, mod, k * p->d, p->d);
	if (last)
		return extract(b, mod, (p->T - 1) * s + k * p->d, p->d);
	return gather(b, mod, p->T, s, k * p->d, p->d);
}

/* LN_noaffine(x, 1e-6) * (1 + scale) + shift, then the module's affine LN. */
static Ref modulate(Builder *b, Ref x, uint32_t d, Ref shift, Ref scale, const char *ln)
{
	Ref h = layernorm(b, x, d, 1e-6);
	h = add(b, mul(b, h, add(b, scale, fconst(b, 1.0))), shift);
	return layernorm_affine(b, h, d, 1e-5, ln);
}

/* The attention branch of block i: returns to_out(attn(...)), every token or the last. */
static Ref pred_attn(Builder *b, const Pred *p, const char *pre, int i, Ref x, Ref mod, int last)
{
	char nm[NAMELEN];
	uint32_t T = p->T, in = p->inner;
	region(b, "predictor.layer%d.attn.norm", i);
	snprintf(nm, sizeof nm, "%s.attn.norm", pre);
	Ref shift = chunk(b, mod, p, 0, 0), scale = chunk(b, mod, p, 1, 0);
	Ref h = modulate(b, x, p->d, shift, scale, nm);
	region(b, "predictor.layer%d.attn.to_qkv", i);
	snprintf(nm, sizeof nm, "%s.attn.to_qkv", pre);
	Ref qkv = linear(b, h, nm, p->d, 3 * in);
	region(b, "predictor.layer%d.attn", i);
	Ref q, k, v;
	if (b->serial) {
		q = extract(b, qkv, 0, in), k = extract(b, qkv, in, in), v = extract(b, qkv, 2 * in, in);
	} else {
		q = last ? extract(b, qkv, (T - 1) * 3 * in, in) : gather(b, qkv, T, 3 * in, 0, in);
		k = gather(b, qkv, T, 3 * in, in, in), v = gather(b, qkv, T, 3 * in, 2 * in, in);
	}
	Ref a = attention(b, q, k, v, T, p->H, 1);
	region(b, "predictor.layer%d.attn.to_out", i);
	snprintf(nm, sizeof nm, "%s.attn.to_out.0", pre);
	if (tfind(b, "%s.weight", nm) || in != p->d)
		a = linear(b, a, nm, in, p->d);
	return a;
}

static Ref pred_block(Builder *b, const Pred *p, int i, Ref x, Ref sc, int last)
{
	char pre[128], nm[NAMELEN];
	snprintf(pre, sizeof pre, "predictor.transformer.layers.%d", i);
	region(b, "predictor.layer%d.adaln", i);
	snprintf(nm, sizeof nm, "%s.adaLN_modulation.1", pre);
	Ref mod = linear(b, sc, nm, p->d, 6 * p->d);
	Ref a = pred_attn(b, p, pre, i, x, mod, last);
	region(b, "predictor.layer%d.attn.residual", i);
	if (last)
		x = extract(b, x, (p->T - 1) * p->d, p->d);
	x = add(b, x, mul(b, chunk(b, mod, p, 2, last), a));
	region(b, "predictor.layer%d.mlp.norm", i);
	snprintf(nm, sizeof nm, "%s.mlp.net.0", pre);
	Ref shift = chunk(b, mod, p, 3, last), scale = chunk(b, mod, p, 4, last);
	Ref h = modulate(b, x, p->d, shift, scale, nm);
	region(b, "predictor.layer%d.mlp.up", i);
	snprintf(nm, sizeof nm, "%s.mlp.net.1", pre);
	h = unop(b, OP_GELU, linear(b, h, nm, p->d, p->mlp));
	region(b, "predictor.layer%d.mlp.down", i);
	snprintf(nm, sizeof nm, "%s.mlp.net.4", pre);
	h = linear(b, h, nm, p->mlp, p->d);
	region(b, "predictor.layer%d.mlp.residual", i);
	return add(b, x, mul(b, chunk(b, mod, p, 5, last), h));
}

/* emb, cond: T*din lanes.  Result: T*dout lanes, or dout (last token) if !all. */
static Ref predictor(Builder *b, const Pred *p, Ref emb, Ref cond, int all)
{
	CkTensor *pos = tneed(b, "predictor.pos_embedding");
	if (pos->kind != CK_F || pos->n < (size_t)p->T * p->din || pos->n % p->din)
		expect_vector(b, pos, (size_t)p->T * p->din);
	region(b, "predictor.pos_embedding");
	Ref x = add(b, emb, b->serial ? tpos(b, pos, p->T, p->din)
	                              : vconst(b, tensor_copy(b, pos, 0, (size_t)p->T * p->din)));
	if (p->din != p->d || tfind(b, "predictor.transformer.input_proj.weight")) {
		region(b, "predictor.input_proj");
		x = linear(b, x, "predictor.transformer.input_proj", p->din, p->d);
	}
	if (p->din != p->d || tfind(b, "predictor.transformer.cond_proj.weight")) {
		region(b, "predictor.cond_proj");
		cond = linear(b, cond, "predictor.transformer.cond_proj", p->din, p->d);
	}
	region(b, "predictor.adaln");
	Ref sc = unop(b, OP_SILU, cond);
	for (uint32_t i = 0; i < p->depth; i++)
		x = pred_block(b, p, (int)i, x, sc, !all && !b->serial && i + 1 == p->depth);
	if (!all && !b->serial && p->depth == 0)
		x = extract(b, x, (p->T - 1) * p->d, p->d);
	region(b, "predictor.norm");
	x = layernorm_affine(b, x, p->d, 1e-5, "predictor.transformer.norm");
	if (p->d != p->dout || tfind(b, "predictor.transformer.output_proj.weight")) {
		region(b, "predictor.output_proj");
		x = linear(b, x, "predictor.transformer.output_proj", p->d, p->dout);
	}
	return x;
}

/* ---- action encoder, projection heads ---------------------------------- */

/* actions: T*A lanes -> T*E lanes; *emb gets E. */
static Ref action_encoder(Builder *b, Ref act, uint32_t T, uint32_t *emb)
{
	const LewmConfig *c = b->cfg;
	CkTensor *pw = tneed(b, "action_encoder.patch_embed.weight");
	CkTensor *w0 = tneed(b, "action_encoder.embed.0.weight");
	CkTensor *w2 = tneed(b, "action_encoder.embed.2.weight");
	uint32_t A = need_dim(b, c->action_input > 0 ? c->action_input : (long)ck_cols(pw), "action_encoder input_dim");
	uint32_t S = need_dim(b, c->action_smoothed > 0 ? c->action_smoothed : (long)ck_rows(pw), "action_encoder smoothed_dim");
	uint32_t E = need_dim(b, c->action_emb > 0 ? c->action_emb : (long)ck_rows(w2), "action_encoder emb_dim");
	uint32_t hid = need_dim(b, c->action_mlp_scale > 0 ? (long)c->action_mlp_scale * E : (long)ck_rows(w0),
	                        "action_encoder mlp_scale");
	check_lanes(b, (uint64_t)T * (hid > A ? hid : A), "the action encoder");
	if (vlen(b, act) != T * A)
		die("action_encoder: %u lanes for %u x %u", vlen(b, act), T, A);
	region(b, "action_encoder.patch_embed");
	Ref x = linear(b, act, "action_encoder.patch_embed", A, S);
	region(b, "action_encoder.embed.0");
	x = linear(b, x, "action_encoder.embed.0", S, hid);
	region(b, "action_encoder.embed.1");
	x = unop(b, OP_SILU, x);
	region(b, "action_encoder.embed.2");
	*emb = E;
	return linear(b, x, "action_encoder.embed.2", hid, E);
}

/* BatchNorm1d (eval, eps 1e-5) folded into the Linear P.net.0: returns the
 * Linear's output with the BatchNorm applied, per token of `in` lanes. */
static Ref linear_bn(Builder *b, Ref x, const char *P, uint32_t in, uint32_t hid)
{
	char nm[128];
	snprintf(nm, sizeof nm, "%s.net.0", P);
	if (!b->ck->has_batchnorm) {
		if (!b->warned_bn)
			fprintf(stderr, "jepac: warning: %s: BatchNorm statistics absent (LQ40): "
			        "treated as identity\n", b->ck->path);
		b->warned_bn = 1;
		return linear(b, x, nm, in, hid);
	}
	CkTensor *w = tneed(b, "%s.weight", nm), *b0 = tfind(b, "%s.bias", nm);
	CkTensor *bn[4] = {tneed(b, "%s.net.1.weight", P), tneed(b, "%s.net.1.bias", P),
	                   tneed(b, "%s.net.1.running_mean", P), tneed(b, "%s.net.1.running_var", P)};
	expect_matrix(b, w, hid, in);
	for (int i = 0; i < 4; i++)
		expect_vector(b, bn[i], hid);
	if (b0)
		expect_vector(b, b0, hid);
	char wn[NAMELEN], bname[NAMELEN];
	snprintf(wn, sizeof wn, "%s.weight.bn", nm);
	snprintf(bname, sizeof bname, "%s.bias.bn", nm);
	int fold = w->kind == CK_F;
	uint32_t bid = ir_tensor(b->m, bname, TK_F64, 1, hid, 1);
	uint32_t sid = fold ? ir_tensor(b->m, wn, TK_F64, 2, hid, in) : ir_tensor(b->m, wn, TK_F64, 1, hid, 1);
	double *bv = ir_tget(b->m, bid)->reals, *sv = ir_tget(b->m, sid)->reals;
	for (uint32_t r = 0; r < hid; r++) {
		double s = bn[0]->f[r] / sqrt((double)bn[3]->f[r] + 1e-5);
		bv[r] = ((b0 ? b0->f[r] : 0.0) - bn[2]->f[r]) * s + bn[1]->f[r];
		if (!fold)
			sv[r] = s;
		for (uint32_t c = 0; fold && c < in; c++)
			sv[(size_t)r * in + c] = w->f[(size_t)r * in + c] * s;
	}
	Ref y = matvec(b, fold ? sid : tensor_copy(b, w, 1, 0), x);
	if (!fold) {
		region(b, "%s.net.1", P);
		y = mul(b, y, vconst(b, sid));
	}
	return add(b, y, vconst(b, bid));
}

/* projector / pred_proj: Linear, BatchNorm1d, GELU, Linear, per token. */
static Ref mlp_head(Builder *b, Ref x, const char *P, int cin, int chid, int cout)
{
	CkTensor *w0 = tneed(b, "%s.net.0.weight", P), *w3 = tneed(b, "%s.net.3.weight", P);
	uint32_t in = need_dim(b, cin > 0 ? cin : (long)ck_cols(w0), "projection input_dim");
	uint32_t hid = need_dim(b, chid > 0 ? chid : (long)ck_rows(w0), "projection hidden_dim");
	uint32_t out = need_dim(b, cout > 0 ? cout : (long)ck_rows(w3), "projection output_dim");
	if (vlen(b, x) % in)
		fatal(b->ck->path, "%s: input of %u lanes is not a multiple of input_dim %u", P, vlen(b, x), in);
	region(b, "%s.net.0", P);
	x = linear_bn(b, x, P, in, hid);
	region(b, "%s.net.2", P);
	x = unop(b, OP_GELU, x);
	region(b, "%s.net.3", P);
	char nm[NAMELEN];
	snprintf(nm, sizeof nm, "%s.net.3", P);
	return linear(b, x, nm, hid, out);
}

/* ---- encoder (Hugging Face ViT layout) ----------------------------------- */

/* Per-layer tensor prefixes: the canonical HF name and the newer export's. */
static const char *const enc_names[][2] = {
	{"layernorm_before", "layernorm_before"},
	{"attention.attention.query", "attention.q_proj"},
	{"attention.attention.key", "attention.k_proj"},
	{"attention.attention.value", "attention.v_proj"},
	{"attention.output.dense", "attention.o_proj"},
	{"layernorm_after", "layernorm_after"},
	{"intermediate.dense", "mlp.fc1"},
	{"output.dense", "mlp.fc2"},
};
enum { EN_LN1, EN_Q, EN_K, EN_V, EN_O, EN_LN2, EN_UP, EN_DOWN };

static const char *enc_prefix(Builder *b, char *nm, size_t n, uint32_t l, int k)
{
	snprintf(nm, n, "encoder.encoder.layer.%u.%s", l, enc_names[k][0]);
	if (tfind(b, "%s.weight", nm))
		return nm;
	snprintf(nm, n, "encoder.layers.%u.%s", l, enc_names[k][1]);
	if (tfind(b, "%s.weight", nm))
		return nm;
	snprintf(nm, n, "encoder.encoder.layer.%u.%s", l, enc_names[k][0]);
	return nm;
}

static void enc_dims(Builder *b, Enc *e)
{
	const LewmConfig *c = b->cfg;
	char nm[NAMELEN];
	CkTensor *pw = tneed(b, "encoder.embeddings.patch_embeddings.projection.weight");
	CkTensor *pos = tneed(b, "encoder.embeddings.position_embeddings");
	e->hid = need_dim(b, c->enc_hidden > 0 ? c->enc_hidden : (long)ck_rows(pw), "encoder hidden_size");
	e->C = need_dim(b, c->channels > 0 ? c->channels : pw->ndim == 4 ? (long)pw->shape[1] : 3,
	                "encoder channels");
	e->P = need_dim(b, c->patch_size > 0 ? c->patch_size : pw->ndim == 4 ? (long)pw->shape[2] : 0,
	                "encoder patch_size");
	long side = lround(sqrt((double)(pos->n / e->hid) - 1.0));
	e->img = need_dim(b, c->image_size > 0 ? c->image_size : side * e->P, "encoder image_size");
	if (e->img % e->P || e->img > 4096)
		fatal(b->ck->path, "config: image_size %u is not a multiple of patch_size %u (or above 4096)",
		      e->img, e->P);
	e->np = (e->img / e->P) * (e->img / e->P);
	long L = c->enc_layers;
	if (L <= 0)
		for (L = 0; tfind(b, "%s.weight", enc_prefix(b, nm, sizeof nm, (uint32_t)L, EN_Q)); L++)
			;
	e->L = (uint32_t)L;
	e->H = need_dim(b, c->enc_heads, "encoder num_attention_heads");
	if (e->hid % e->H)
		fatal(b->ck->path, "config: encoder hidden %u is not a multiple of %u heads", e->hid, e->H);
	CkTensor *up = e->L ? tneed(b, "%s.weight", enc_prefix(b, nm, sizeof nm, 0, EN_UP)) : NULL;
	e->inter = need_dim(b, c->enc_inter > 0 ? c->enc_inter : up ? (long)ck_rows(up) : 1,
	                    "encoder intermediate_size");
	uint64_t w = e->hid > e->inter ? e->hid : e->inter, patch = (uint64_t)e->C * e->P * e->P;
	check_lanes(b, (uint64_t)(e->np + 1) * (w > patch ? w : patch), "the encoder");
}

/* The image [C][img][img] as np patch vectors [C][P][P], patches row-major. */
static Ref patches(Builder *b, const Enc *e, Ref img)
{
	uint32_t g = e->img / e->P, n = e->np * e->C * e->P, k = 0;
	Ref *xs = xmalloc(n * sizeof *xs);
	for (uint32_t py = 0; py < g; py++)
		for (uint32_t px = 0; px < g; px++)
			for (uint32_t c = 0; c < e->C; c++)
				for (uint32_t ky = 0; ky < e->P; ky++)
					xs[k++] = extract(b, img, (c * e->img + py * e->P + ky) * e->img + px * e->P, e->P);
	Ref y = concat(b, xs, n);
	free(xs);
	return y;
}

/* One pre-norm ViT layer; with last, only the CLS token's output.  In a
 * stream the attention waits for the whole window (phase + 1), so the
 * residual is the same stream one window later (tdelay). */
static Ref enc_layer(Builder *b, const Enc *e, uint32_t l, Ref x, int last)
{
	char nm[NAMELEN];
	uint32_t T = e->np + 1, d = e->hid;
	region(b, "encoder.layer%u.ln1", l);
	Ref h = layernorm_affine(b, x, d, 1e-12, enc_prefix(b, nm, sizeof nm, l, EN_LN1));
	region(b, "encoder.layer%u.attn.q", l);
	Ref q = linear(b, last ? extract(b, h, 0, d) : h, enc_prefix(b, nm, sizeof nm, l, EN_Q), d, d);
	region(b, "encoder.layer%u.attn.k", l);
	Ref k = linear(b, h, enc_prefix(b, nm, sizeof nm, l, EN_K), d, d);
	region(b, "encoder.layer%u.attn.v", l);
	Ref v = linear(b, h, enc_prefix(b, nm, sizeof nm, l, EN_V), d, d);
	region(b, "encoder.layer%u.attn", l);
	Ref a = attention(b, q, k, v, T, e->H, 0);
	region(b, "encoder.layer%u.attn.out", l);
	a = linear(b, a, enc_prefix(b, nm, sizeof nm, l, EN_O), d, d);
	region(b, "encoder.layer%u.attn.residual", l);
	if (b->serial)
		x = fop(b, OP_TDELAY, d, &x, 1, 0, 0);
	x = add(b, last ? extract(b, x, 0, d) : x, a);
	region(b, "encoder.layer%u.ln2", l);
	h = layernorm_affine(b, x, d, 1e-12, enc_prefix(b, nm, sizeof nm, l, EN_LN2));
	region(b, "encoder.layer%u.mlp.up", l);
	h = unop(b, OP_GELU, linear(b, h, enc_prefix(b, nm, sizeof nm, l, EN_UP), d, e->inter));
	region(b, "encoder.layer%u.mlp.down", l);
	h = linear(b, h, enc_prefix(b, nm, sizeof nm, l, EN_DOWN), e->inter, d);
	region(b, "encoder.layer%u.mlp.residual", l);
	return add(b, x, h);
}

/* The u1 stream that is 0 at token 0 (the CLS slot) and 1 after it. */
static Ref not_first(Builder *b, uint32_t T)
{
	return tflag(b, "lewm.not_first", T, 1, T);
}

/* The patch embeddings, CLS first: from the image [C][img][img], or in a
 * stream from one patch [C][P][P] per token (token 0, the CLS slot, has
 * none: its lanes are ignored). */
static Ref embeddings(Builder *b, const Enc *e, Ref in)
{
	region(b, "encoder.patch_embed");
	Ref x = linear(b, b->serial ? in : patches(b, e, in),
	               "encoder.embeddings.patch_embeddings.projection", e->C * e->P * e->P, e->hid);
	region(b, "encoder.embeddings");
	CkTensor *cls = tneed(b, "encoder.embeddings.cls_token");
	CkTensor *pos = tneed(b, "encoder.embeddings.position_embeddings");
	expect_vector(b, cls, e->hid);
	expect_vector(b, pos, (size_t)(e->np + 1) * e->hid);
	Ref c = vconst(b, tensor_copy(b, cls, 0, 0));
	if (b->serial) {
		Ref a[3] = {not_first(b, e->np + 1), x, c};
		x = fop(b, OP_SELECT, e->hid, a, 3, 0, 0);
		return add(b, x, tpos(b, pos, e->np + 1, e->hid));
	}
	Ref parts[2] = {c, x};
	x = concat(b, parts, 2);
	return add(b, x, vconst(b, tensor_copy(b, pos, 0, 0)));
}

/* image (or patch stream) -> CLS token after the final LayerNorm [hid]; with
 * all, every layer runs on every token and the CLS is taken at the end.  In
 * a stream, `ride` (a stream, or NOREF) is delayed to the encoder's last
 * window phase and picked with the CLS token, after its hid lanes. */
static Ref encoder(Builder *b, const Enc *e, Ref img, int all, Ref ride)
{
	Ref x = embeddings(b, e, img);
	for (uint32_t l = 0; l < e->L; l++)
		x = enc_layer(b, e, l, x, !all && !b->serial && l + 1 == e->L);
	if (e->L == 0 && !all && !b->serial)
		x = extract(b, x, 0, e->hid);
	region(b, "encoder.layernorm");
	x = layernorm_affine(b, x, e->hid, 1e-12, "encoder.layernorm");
	if (!b->serial)
		return all ? extract(b, x, 0, e->hid) : x;
	if (ride != NOREF) {
		uint32_t *ph = xmalloc((b->m->nnodes + 1) * sizeof *ph);
		ir_phases(b->m, ph);
		for (uint32_t p = ph[ride]; p < ph[x]; p++)
			ride = fop(b, OP_TDELAY, vlen(b, ride), &ride, 1, 0, 0);
		free(ph);
		Ref parts[2] = {x, ride};
		x = concat(b, parts, 2);
	}
	return fop(b, OP_TPICK, vlen(b, x), &x, 1, 0, 0);
}

/* ---- tops ------------------------------------------------------------------ */

static void top_predictor(Builder *b, int all, int step)
{
	Pred p;
	pred_dims(b, &p);
	int serial = b->serial;
	stream(b, p.T, serial);
	uint32_t T = serial ? 1 : p.T;   /* tokens in one port vector */
	Ref emb = port_in(b, "emb", T * p.din), c;
	if (step) {
		uint32_t A = need_dim(b, lcfg(b)->action_input > 0 ? lcfg(b)->action_input
		                      : (long)ck_cols(tneed(b, "action_encoder.patch_embed.weight")),
		                      "action_encoder input_dim");
		uint32_t E;
		c = action_encoder(b, port_in(b, "actions", T * A), T, &E);
		if (E != p.din)
			fatal(b->ck->path, "action_encoder emb_dim %u differs from predictor input_dim %u", E, p.din);
	} else {
		c = port_in(b, "cond", T * p.din);
	}
	Ref x = predictor(b, &p, emb, c, all);
	if (step)
		x = mlp_head(b, x, "pred_proj", lcfg(b)->pproj_in, lcfg(b)->pproj_hidden, lcfg(b)->pproj_out);
	if (serial && !all)
		x = fop(b, OP_TPICK, vlen(b, x), &x, 1, p.T - 1, 0);
	port_out(b, "pred", x);
}

static void top_action_encoder(Builder *b)
{
	const LewmConfig *c = b->cfg;
	CkTensor *pos = tfind(b, "predictor.pos_embedding");
	long T = c->num_frames > 0 ? c->num_frames : pos && pos->ndim == 3 ? (long)pos->shape[1] : 1;
	uint32_t nT = need_dim(b, T, "predictor num_frames");
	uint32_t A = need_dim(b, c->action_input > 0 ? c->action_input
	                      : (long)ck_cols(tneed(b, "action_encoder.patch_embed.weight")),
	                      "action_encoder input_dim");
	uint32_t E;
	stream(b, nT, b->serial);
	uint32_t per = b->serial ? 1 : nT;   /* tokens in one port vector */
	Ref y = action_encoder(b, port_in(b, "actions", per * A), per, &E);
	port_out(b, "act_emb", y);
}

static void top_head(Builder *b, const char *P, int in, int hid, int out, const char *oname)
{
	CkTensor *w0 = tneed(b, "%s.net.0.weight", P);
	uint32_t n = need_dim(b, in > 0 ? in : (long)ck_cols(w0), "projection input_dim");
	port_out(b, oname, mlp_head(b, port_in(b, "x", n), P, in, hid, out));
}

static void top_encoder(Builder *b, int all)
{
	Enc e;
	enc_dims(b, &e);
	stream(b, e.np + 1, b->serial);
	Ref in = b->serial ? port_in(b, "patches", e.C * e.P * e.P)
	                   : port_in(b, "image", e.C * e.img * e.img);
	Ref x = encoder(b, &e, in, all, NOREF);
	const LewmConfig *c = b->cfg;
	port_out(b, "emb", mlp_head(b, x, "projector", c->proj_in, c->proj_hidden, c->proj_out));
}

/* The whole world model on one stream (docs/lewm.md, "The world top"): a
 * window is one frame -- its patches, one per token after the CLS slot,
 * and in token 0 of `action` the action taken at that frame.  The action
 * rides the encoder's window phases (tdelay) to be picked with the CLS
 * token; the frame's embedding (projector) and its action join the history
 * of the last T frames (wdelay: the frames before; zeros after reset),
 * which the predictor reads as a stream of its own T tokens (tseq: the
 * first T tokens of the next window phase).  pred is pred_proj of its last
 * token: the predicted embedding of the next frame. */
static void top_world(Builder *b, int all)
{
	(void)all;
	if (!b->serial)
		fatal(b->ck->path, "--top=world exists as a stream only (--tokens=serial)");
	Enc e;
	Pred p;
	enc_dims(b, &e);
	pred_dims(b, &p);
	const LewmConfig *c = b->cfg;
	uint32_t A = need_dim(b, c->action_input > 0 ? c->action_input
	                      : (long)ck_cols(tneed(b, "action_encoder.patch_embed.weight")),
	                      "action_encoder input_dim");
	if (p.T > e.np + 1)
		fatal(b->ck->path, "config: %u history frames need at most %u tokens per frame",
		      p.T, e.np + 1);
	stream(b, e.np + 1, 1);
	Ref img = port_in(b, "patches", e.C * e.P * e.P);
	Ref act = port_in(b, "action", A);
	Ref cls = encoder(b, &e, img, 0, act);
	Ref emb = mlp_head(b, extract(b, cls, 0, e.hid), "projector", c->proj_in, c->proj_hidden,
	                   c->proj_out);
	if (vlen(b, emb) != p.din)
		fatal(b->ck->path, "projector output %u differs from predictor input_dim %u",
		      vlen(b, emb), p.din);
	region(b, "world.history");
	Ref parts[2] = {emb, extract(b, cls, e.hid, A)};
	Ref *hist = xmalloc(p.T * sizeof *hist);
	hist[p.T - 1] = concat(b, parts, 2);
	for (uint32_t t = p.T - 1; t > 0; t--)
		hist[t - 1] = fop(b, OP_WDELAY, p.din + A, &hist[t], 1, 0, 0);
	Ref seq = fop(b, OP_TSEQ, p.din + A, hist, p.T, 0, 0);
	free(hist);
	uint32_t E;
	Ref cond = action_encoder(b, extract(b, seq, p.din, A), 1, &E);
	if (E != p.din)
		fatal(b->ck->path, "action_encoder emb_dim %u differs from predictor input_dim %u", E, p.din);
	Ref x = predictor(b, &p, extract(b, seq, 0, p.din), cond, 0);
	x = mlp_head(b, x, "pred_proj", c->pproj_in, c->pproj_hidden, c->pproj_out);
	port_out(b, "pred", fop(b, OP_TPICK, vlen(b, x), &x, 1, p.T - 1, 0));
}

static void top_predict_step(Builder *b, int all) { top_predictor(b, all, 1); }
static void top_predictor_only(Builder *b, int all) { top_predictor(b, all, 0); }
static void top_actions(Builder *b, int all) { (void)all; top_action_encoder(b); }

static void top_projector(Builder *b, int all)
{
	const LewmConfig *c = b->cfg;
	(void)all;
	top_head(b, "projector", c->proj_in, c->proj_hidden, c->proj_out, "emb");
}

static void top_pred_proj(Builder *b, int all)
{
	const LewmConfig *c = b->cfg;
	(void)all;
	top_head(b, "pred_proj", c->pproj_in, c->pproj_hidden, c->pproj_out, "pred");
}

/* The --top table: name, builder, stream (the heads take one vector: no stream).
 * The first is the default; adding a top is one line. */
const FamilyTop lewm_tops[] = {
	{"predict-step", top_predict_step, 1},
	{"predictor", top_predictor_only, 1},
	{"action-encoder", top_actions, 1},
	{"encoder", top_encoder, 1},
	{"projector", top_projector, 0},
	{"pred-proj", top_pred_proj, 0},
	{"world", top_world, 1},
	{NULL, NULL, 0},
};
