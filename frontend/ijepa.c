/*
 * ijepa.c -- the I-JEPA predictor family: its table row and its builder.
 *
 * The model (Assran et al. 2023; the public code's VisionTransformerPredictor)
 * is a narrow pre-norm ViT that predicts the target-encoder embeddings of
 * target patches from the context encoder's embeddings of context patches:
 *
 *   x_c  = predictor_embed(ctx) + pos[context positions]      (Linear E -> D)
 *   x_t  = mask_token + pos[target positions]                  (one per target)
 *   x    = [x_c ; x_t]                                         (T = Nc + Nt tokens)
 *   x    = x + attn.proj(MHA(attn.qkv(LN1(x))))                per block, no mask
 *   x    = x + mlp.fc2(GELU(mlp.fc1(LN2(x))))
 *   pred = predictor_proj(predictor_norm(x))[target tokens]    (Linear D -> E)
 *
 * LayerNorms have eps 1e-6; the qkv output is [3][H][dh] per token; GELU is
 * exact (erf).  pos is the fixed 2-D sine-cosine table of the g x g patch
 * grid (get_2d_sincos_pos_embed: the first D/2 lanes encode the column, the
 * last D/2 the row, each as D/4 sines then D/4 cosines of pos / 10000^(k/(D/4))).
 * A checkpoint may hold it as predictor_pos_embed [1, g*g, D] (the public
 * code keeps it in the state dict); if absent it is computed here.
 *
 * config.json: one object "ijepa" with embed_dim (E), predictor_embed_dim
 * (D; or pred_emb_dim as in the public code's configs), depth (or
 * pred_depth), num_heads, crop_size and patch_size (g = crop / patch; or
 * grid_size g), mlp_ratio (default 4; the MLP has int(D * ratio) units) and
 * the patch indices
 * context_positions and target_positions (row-major in the g x g grid): they
 * are fixed at compile time, part of the circuit.  Tensor names are those of
 * the public code, with or without a "module." and/or "predictor." prefix.
 *
 * Tops: "predictor" (the only one).  Port ctx holds the window of T tokens
 * of E lanes (parallel: T*E lanes, token-major; serial: a stream of E lanes
 * per token); tokens Nc..T-1 are the mask-token slots, their lanes ignored
 * (selected away after predictor_embed, so both forms see the same values
 * and calibrate to the same fixed-point formats).  Parallel output pred =
 * Nt*E lanes.  Stream (--tokens=serial): every block runs its non-causal attention (sattn) on the
 * whole window and output pred is a stream too, E lanes per token: tokens
 * Nc..T-1 are the Nt predictions (a design has one per-window capture
 * point, so they stream out instead of being picked; the context tokens'
 * lanes are to be ignored).  --all-tokens: every token's prediction in
 * both forms (parallel: T*E lanes).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"

enum { IJ_MAXGRID = 64, IJ_MAXPOS = IJ_MAXGRID * IJ_MAXGRID };

typedef struct IjepaConfig {
	int embed_dim;       /* E: the encoders' width (input and output) */
	int pred_dim;        /* D: the predictor's width */
	int depth, heads, mlp;
	int crop_size, patch_size, grid;
	int nctx, ntgt;
	uint16_t ctx[IJ_MAXPOS], tgt[IJ_MAXPOS];
} IjepaConfig;

/* ---- config.json ---------------------------------------------------------- */

static int cfg_positions(const CfgCtx *c, const char *key, int grid, uint16_t *dst)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(c->obj, key);
	if (!a)
		fatal(c->path, "config: missing key '%s.%s'", c->part, key);
	int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
	if (n < 1 || n > IJ_MAXPOS)
		fatal(c->path, "config: '%s.%s' must be an array of 1..%d patch indices", c->part, key,
		      IJ_MAXPOS);
	int i = 0;
	for (const cJSON *v = a->child; v; v = v->next, i++) {
		double d = v->valuedouble;
		if (!cJSON_IsNumber(v) || !(d >= 0 && d < (double)grid * grid) || d != (double)(int)d)
			fatal(c->path, "config: '%s.%s'[%d] must be a patch index in 0..%d", c->part, key, i,
			      grid * grid - 1);
		dst[i] = (uint16_t)d;
	}
	return n;
}

/* A size under its name or the public code's config name (pred_emb_dim, ...). */
static void cfg_alias(const CfgCtx *c, const char *key, const char *alias, int *dst)
{
	cfg_int(c, alias, dst, 0);
	if (!*dst)
		cfg_int(c, key, dst, -1);
}

static void ij_read_config(const char *path, const cJSON *root, void *vcfg)
{
	IjepaConfig *c = vcfg;
	CfgCtx x = cfg_part(path, root, "ijepa");
	cfg_int(&x, "embed_dim", &c->embed_dim, -1);
	cfg_alias(&x, "predictor_embed_dim", "pred_emb_dim", &c->pred_dim);
	cfg_alias(&x, "depth", "pred_depth", &c->depth);
	cfg_int(&x, "num_heads", &c->heads, -1);
	cfg_int(&x, "grid_size", &c->grid, 0);
	cfg_int(&x, "patch_size", &c->patch_size, c->grid ? 1 : -1);
	cfg_int(&x, "crop_size", &c->crop_size, c->grid ? c->grid * c->patch_size : -1);
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(x.obj, "mlp_ratio");
	double ratio = r ? r->valuedouble : 4.0;
	if (r && (!cJSON_IsNumber(r) || !(ratio > 0 && ratio <= 64)))
		fatal(path, "config: 'ijepa.mlp_ratio' must be a number in (0, 64]");
	c->mlp = (int)(c->pred_dim * ratio);
	if (c->mlp < 1)
		fatal(path, "config: 'ijepa.mlp_ratio' %g gives an empty MLP", ratio);
	if (c->pred_dim % c->heads)
		fatal(path, "config: predictor_embed_dim %d is not a multiple of %d heads", c->pred_dim,
		      c->heads);
	if (c->pred_dim % 4)
		fatal(path, "config: predictor_embed_dim %d is not a multiple of 4 (2-D sin-cos positions)",
		      c->pred_dim);
	if (c->crop_size % c->patch_size || c->crop_size / c->patch_size > IJ_MAXGRID ||
	    (c->grid && c->grid != c->crop_size / c->patch_size))
		fatal(path, "config: crop_size %d is not a multiple of patch_size %d (or above %d "
		      "patches, or not grid_size %d)", c->crop_size, c->patch_size, IJ_MAXGRID, c->grid);
	c->grid = c->crop_size / c->patch_size;
	c->nctx = cfg_positions(&x, "context_positions", c->grid, c->ctx);
	c->ntgt = cfg_positions(&x, "target_positions", c->grid, c->tgt);
}

/* ---- schema, names, quantisation -------------------------------------------- */

static void ij_schema(Schema *s, const void *vcfg)
{
	const IjepaConfig *c = vcfg;
	uint32_t e = c->embed_dim, d = c->pred_dim;
	sch_linear(s, "predictor_embed", 0, d, e);
	sch_add(s, 'E', 3, 1, 1, d, 0, "mask_token", 0);
	sch_add(s, 'E', 3, 1, c->grid * c->grid, d, 0, "predictor_pos_embed", 0);
	if (!s->over)
		s->e[s->n - 1].optional = 1;
	for (int i = 0; i < c->depth && !s->over; i++) {
		sch_norm(s, "predictor_blocks.%d.norm1", i, d);
		sch_linear(s, "predictor_blocks.%d.attn.qkv", i, 3 * d, d);
		sch_linear(s, "predictor_blocks.%d.attn.proj", i, d, d);
		sch_norm(s, "predictor_blocks.%d.norm2", i, d);
		sch_linear(s, "predictor_blocks.%d.mlp.fc1", i, c->mlp, d);
		sch_linear(s, "predictor_blocks.%d.mlp.fc2", i, d, c->mlp);
	}
	sch_norm(s, "predictor_norm", 0, d);
	sch_linear(s, "predictor_proj", 0, e, d);
}

/* "module." (DistributedDataParallel) and "predictor." prefixes are dropped. */
static int ij_canon(const char *key, char *out, size_t cap)
{
	if (strncmp(key, "module.", 7) == 0)
		key += 7;
	if (strncmp(key, "predictor.", 10) == 0)
		key += 10;
	snprintf(out, cap, "%s", key);
	return 1;
}

/* The four matrices of every block become Q4 (every mode); full mode also
 * makes predictor_embed and predictor_proj I8. */
static void ij_quantize(Checkpoint *ck, int full, float sparsity)
{
	static const char *const mats[] = {"attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"};
	const IjepaConfig *c = ck->cfg;
	char name[160];
	for (int i = 0; i < c->depth; i++)
		for (int k = 0; k < 4; k++) {
			snprintf(name, sizeof name, "predictor_blocks.%d.%s.weight", i, mats[k]);
			quant_tensor(ck, ck_need(ck, name), CK_Q4, sparsity);
		}
	if (full) {
		quant_tensor(ck, ck_need(ck, "predictor_embed.weight"), CK_I8, 0);
		quant_tensor(ck, ck_need(ck, "predictor_proj.weight"), CK_I8, 0);
	}
}

static void ij_write_positions(FILE *f, const char *key, const uint16_t *p, int n)
{
	fprintf(f, "\"%s\": [", key);
	for (int i = 0; i < n; i++)
		fprintf(f, i ? ", %u" : "%u", p[i]);
	fprintf(f, "]");
}

static void ij_write_config(FILE *f, const void *vcfg)
{
	const IjepaConfig *c = vcfg;
	fprintf(f, "{\n  \"ijepa\": {\"embed_dim\": %d, \"predictor_embed_dim\": %d, \"depth\": %d, "
	        "\"num_heads\": %d, \"mlp_ratio\": %g, \"crop_size\": %d, \"patch_size\": %d,\n    ",
	        c->embed_dim, c->pred_dim, c->depth, c->heads, (double)c->mlp / c->pred_dim,
	        c->crop_size, c->patch_size);
	ij_write_positions(f, "context_positions", c->ctx, c->nctx);
	fprintf(f, ",\n    ");
	ij_write_positions(f, "target_positions", c->tgt, c->ntgt);
	fprintf(f, "}\n}\n");
}

static void ij_summary(FILE *f, const Checkpoint *ck)
{
	const IjepaConfig *c = ck->cfg;
	fprintf(f, "ijepa: embed %d predictor %d depth %d heads %d mlp %d grid %d (crop %d patch %d)\n",
	        c->embed_dim, c->pred_dim, c->depth, c->heads, c->mlp, c->grid, c->crop_size,
	        c->patch_size);
	fprintf(f, "positions: %d context, %d target\n", c->nctx, c->ntgt);
}

/* ---- builder ------------------------------------------------------------------ */

/* The sin-cos table of get_2d_sincos_pos_embed for patch p of a g x g grid
 * (row p / g, column p % g), d lanes. */
static void sincos_row(double *out, uint32_t d, uint32_t g, uint32_t p)
{
	uint32_t q = d / 4;
	double coord[2] = {(double)(p % g), (double)(p / g)};
	for (int h = 0; h < 2; h++)
		for (uint32_t k = 0; k < q; k++) {
			double w = 1.0 / pow(10000.0, (double)k / (double)q);
			out[h * 2 * q + k] = sin(coord[h] * w);
			out[h * 2 * q + q + k] = cos(coord[h] * w);
		}
}

/* The [T][D] position rows of the window: context positions, then targets. */
static double *pos_rows(Builder *b, const IjepaConfig *c)
{
	uint32_t d = c->pred_dim, g = c->grid, T = c->nctx + c->ntgt;
	CkTensor *pe = tfind(b, "predictor_pos_embed");
	if (pe)
		expect_vector(b, pe, (size_t)g * g * d);
	double *v = xmalloc((size_t)T * d * sizeof *v);
	for (uint32_t t = 0; t < T; t++) {
		uint32_t p = t < (uint32_t)c->nctx ? c->ctx[t] : c->tgt[t - c->nctx];
		if (!pe) {
			sincos_row(v + (size_t)t * d, d, g, p);
			continue;
		}
		for (uint32_t k = 0; k < d; k++)
			v[(size_t)t * d + k] = pe->f[(size_t)p * d + k];
	}
	return v;
}

/* The parallel form's u1 vector: 1 on the lanes of the context tokens. */
static Ref context_lanes(Builder *b, const IjepaConfig *c)
{
	uint32_t d = c->pred_dim, T = c->nctx + c->ntgt;
	uint32_t id = tensor_lookup(b, "ijepa.is_context");
	if (id == UINT32_MAX) {
		id = ir_tensor(b->m, "ijepa.is_context", TK_INT, 1, T * d, 1);
		for (uint32_t i = 0; i < (uint32_t)c->nctx * d; i++)
			ir_tget(b->m, id)->codes[i] = 1;
	}
	return ir_node(b->m, OP_VCONST, TY_U, 1, T * d, NULL, 0, 0, id);
}

/* The tokens entering block 0: embedded context + mask tokens, plus positions. */
static Ref ij_tokens(Builder *b, const IjepaConfig *c, Ref ctx)
{
	uint32_t e = c->embed_dim, d = c->pred_dim, T = c->nctx + c->ntgt;
	region(b, "predictor_embed");
	Ref x = linear(b, ctx, "predictor_embed", e, d);
	region(b, "mask_token");
	CkTensor *mt = tneed(b, "mask_token");
	expect_vector(b, mt, d);
	Ref mask = vconst(b, tensor_copy(b, mt, 0, 0));
	Ref a[3] = {b->serial ? tflag(b, "ijepa.is_context", T, 0, c->nctx) : context_lanes(b, c), x, mask};
	x = fop(b, OP_SELECT, vlen(b, x), a, 3, 0, 0);
	region(b, "predictor_pos_embed");
	double *rows = pos_rows(b, c);
	Ref pos;
	if (b->serial) {
		pos = tpos_table(b, "ijepa.pos", rows, T, d);
	} else {
		uint32_t id = tensor_lookup(b, "ijepa.pos");
		if (id == UINT32_MAX) {
			id = ir_tensor(b->m, "ijepa.pos", TK_F64, 1, T * d, 1);
			memcpy(ir_tget(b->m, id)->reals, rows, (size_t)T * d * sizeof *rows);
		}
		pos = vconst(b, id);
	}
	free(rows);
	return add(b, x, pos);
}

/* One pre-norm block over the whole window (non-causal attention).  In a
 * stream the attention waits for the window, so the residual is the same
 * stream one phase later (tdelay), as in the LeWM encoder. */
static Ref ij_block(Builder *b, const IjepaConfig *c, int i, Ref x)
{
	char nm[NAMELEN], rg[NAMELEN];
	uint32_t d = c->pred_dim, T = c->nctx + c->ntgt;
	region(b, "predictor_blocks.%d.norm1", i);
	snprintf(nm, sizeof nm, "predictor_blocks.%d.norm1", i);
	Ref h = layernorm_affine(b, x, d, 1e-6, nm);
	region(b, "predictor_blocks.%d.attn.qkv", i);
	snprintf(nm, sizeof nm, "predictor_blocks.%d.attn.qkv", i);
	Ref qkv = linear(b, h, nm, d, 3 * d), q, k, v;
	region(b, "predictor_blocks.%d.attn", i);
	split_qkv(b, qkv, T, d, &q, &k, &v);
	Ref a = attention(b, q, k, v, T, c->heads, 0);
	region(b, "predictor_blocks.%d.attn.proj", i);
	snprintf(nm, sizeof nm, "predictor_blocks.%d.attn.proj", i);
	a = linear(b, a, nm, d, d);
	region(b, "predictor_blocks.%d.attn.residual", i);
	if (b->serial)
		x = fop(b, OP_TDELAY, d, &x, 1, 0, 0);
	x = add(b, x, a);
	region(b, "predictor_blocks.%d.norm2", i);
	snprintf(nm, sizeof nm, "predictor_blocks.%d.norm2", i);
	h = layernorm_affine(b, x, d, 1e-6, nm);
	char fc1[NAMELEN], fc2[NAMELEN];
	snprintf(fc1, sizeof fc1, "predictor_blocks.%d.mlp.fc1", i);
	snprintf(fc2, sizeof fc2, "predictor_blocks.%d.mlp.fc2", i);
	snprintf(rg, sizeof rg, "predictor_blocks.%d.mlp", i);
	h = mlp(b, h, fc1, fc2, d, c->mlp, rg);
	region(b, "predictor_blocks.%d.mlp.residual", i);
	return add(b, x, h);
}

static void top_ij_predictor(Builder *b, int all)
{
	const IjepaConfig *c = b->cfg;
	uint32_t e = need_dim(b, c->embed_dim, "ijepa embed_dim");
	uint32_t d = need_dim(b, c->pred_dim, "ijepa predictor_embed_dim");
	uint32_t T = (uint32_t)(c->nctx + c->ntgt), nc = (uint32_t)c->nctx, nt = (uint32_t)c->ntgt;
	uint64_t w = 3ull * d > (uint64_t)c->mlp ? 3ull * d : (uint64_t)c->mlp;
	check_lanes(b, (uint64_t)T * (w > e ? w : e), "the I-JEPA predictor");
	stream(b, T, b->serial);
	Ref ctx = port_in(b, "ctx", b->serial ? e : T * e);
	Ref x = ij_tokens(b, c, ctx);
	for (int i = 0; i < c->depth; i++)
		x = ij_block(b, c, i, x);
	if (!all && !b->serial)
		x = extract(b, x, nc * d, nt * d);
	region(b, "predictor_norm");
	x = layernorm_affine(b, x, d, 1e-6, "predictor_norm");
	region(b, "predictor_proj");
	x = linear(b, x, "predictor_proj", d, e);
	port_out(b, "pred", x);
}

/* ---- the row ------------------------------------------------------------------ */

/* ijepa-h: the published ViT-H/14 predictor (I-JEPA in1k_vith14: E 1280,
 * D 384, 12 blocks, the encoder's 16 heads, MLP 4x, 224 / 14 = 16 x 16
 * patches) with a 4 x 4 target block (rows 2-5, columns 9-12) predicted
 * from an 8 x 8 context block (rows 6-13, columns 2-9).  ijepa-tiny (small
 * enough to simulate its Verilog in make check): E 12 (padded Q4 blocks),
 * D 8, 2 blocks of 2 heads, MLP 32, a 3 x 3 grid, 4 context and 2 target
 * patches. */
static const IjepaConfig ij_tiny = {
	.embed_dim = 12, .pred_dim = 8, .depth = 2, .heads = 2, .mlp = 32, .crop_size = 12,
	.patch_size = 4, .grid = 3, .nctx = 4, .ntgt = 2,
	.ctx = {0, 1, 3, 4}, .tgt = {5, 8},
};
static const IjepaConfig ij_h = {
	.embed_dim = 1280, .pred_dim = 384, .depth = 12, .heads = 16, .mlp = 1536, .crop_size = 224,
	.patch_size = 14, .grid = 16, .nctx = 64, .ntgt = 16,
	.ctx = {98, 99, 100, 101, 102, 103, 104, 105, 114, 115, 116, 117, 118, 119, 120, 121,
	        130, 131, 132, 133, 134, 135, 136, 137, 146, 147, 148, 149, 150, 151, 152, 153,
	        162, 163, 164, 165, 166, 167, 168, 169, 178, 179, 180, 181, 182, 183, 184, 185,
	        194, 195, 196, 197, 198, 199, 200, 201, 210, 211, 212, 213, 214, 215, 216, 217},
	.tgt = {41, 42, 43, 44, 57, 58, 59, 60, 73, 74, 75, 76, 89, 90, 91, 92},
};

static const FamilyPreset ij_presets[] = {
	{"ijepa-h", &ij_h}, {"ijepa-tiny", &ij_tiny}, {NULL, NULL},
};

static const FamilyTop ij_tops[] = {
	{"predictor", top_ij_predictor, 1},
	{NULL, NULL, 0},
};

static const char *const ij_keys[] = {"ijepa", NULL};

const Family fam_ijepa = {
	.name = "ijepa",
	.keys = ij_keys,
	.cfg_size = sizeof(IjepaConfig),
	.read_config = ij_read_config,
	.derive = NULL,
	.schema = ij_schema,
	.canon = ij_canon,
	.quantize = ij_quantize,
	.write_config = ij_write_config,
	.summary = ij_summary,
	.presets = ij_presets,
	.tops = ij_tops,
};
