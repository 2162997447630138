/*
 * lewm_family.c -- the LeWM family's row (family.h): config.json reader,
 * tensor schema, name mapping, quantisation rule, presets and config writer
 * of jepac-mkmodel, the --check summary.  The builder is lewm.c.
 *
 * config.json
 * The file holds one object per model part (encoder, predictor,
 * action_encoder, projector, pred_proj); see docs/lewm.md.  `_target_`,
 * dropout rates and unknown keys are ignored.  The encoder names a ViT size
 * (tiny / small / base) or "custom" with the Hugging Face fields
 * (hidden_size, num_hidden_layers, num_attention_heads, intermediate_size);
 * explicit fields always win over the size name.  Every size must be a
 * positive integer.  Optional sizes the file lacks (action_encoder
 * smoothed_dim and mlp_scale) are left 0 for the safetensors reader to take
 * from the tensor shapes; predictor input_dim / output_dim default to
 * hidden_dim, encoder num_channels to 3.  lewm_derive fills the omitted
 * sizes from the tensor shapes and checks that the parts agree.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "family.h"
#include "lewm.h"

static void cfg_encoder(const CfgCtx *c, LewmConfig *cfg)
{
	static const struct { const char *name; int h, l, a, i; } sizes[] = {
		{"tiny", 192, 12, 3, 768}, {"small", 384, 12, 6, 1536},
		{"base", 768, 12, 12, 3072}, {"custom", -1, -1, -1, -1},
	};
	const cJSON *sz = cJSON_GetObjectItemCaseSensitive(c->obj, "size");
	int k = 3;
	if (sz) {
		if (!cJSON_IsString(sz))
			fatal(c->path, "config: 'encoder.size' must be a string");
		for (k = 0; k < 4 && strcmp(sizes[k].name, sz->valuestring) != 0; k++)
			;
		if (k == 4)
			fatal(c->path, "config: unknown encoder size '%s' (tiny, small, base, custom)",
			      ESC(sz->valuestring));
	}
	cfg_int(c, "hidden_size", &cfg->enc_hidden, sizes[k].h);
	cfg_int(c, "num_hidden_layers", &cfg->enc_layers, sizes[k].l);
	cfg_int(c, "num_attention_heads", &cfg->enc_heads, sizes[k].a);
	cfg_int(c, "intermediate_size", &cfg->enc_inter, sizes[k].i);
	cfg_int(c, "patch_size", &cfg->patch_size, -1);
	cfg_int(c, "image_size", &cfg->image_size, -1);
	cfg_int(c, "num_channels", &cfg->channels, 3);
	if (cfg->enc_hidden % cfg->enc_heads)
		fatal(c->path, "config: encoder hidden size %d is not a multiple of %d heads",
		      cfg->enc_hidden, cfg->enc_heads);
	if (cfg->image_size % cfg->patch_size)
		fatal(c->path, "config: encoder image_size %d is not a multiple of patch_size %d",
		      cfg->image_size, cfg->patch_size);
}

static void cfg_predictor(const CfgCtx *c, LewmConfig *cfg)
{
	cfg_int(c, "num_frames", &cfg->num_frames, -1);
	cfg_int(c, "depth", &cfg->pred_depth, -1);
	cfg_int(c, "heads", &cfg->pred_heads, -1);
	cfg_int(c, "dim_head", &cfg->pred_dim_head, -1);
	cfg_int(c, "mlp_dim", &cfg->pred_mlp, -1);
	cfg_int(c, "hidden_dim", &cfg->pred_hidden, -1);
	cfg_int(c, "input_dim", &cfg->pred_input_dim, cfg->pred_hidden);
	cfg_int(c, "output_dim", &cfg->pred_output_dim, cfg->pred_hidden);
}

static void cfg_head(const CfgCtx *c, int *in, int *hidden, int *out)
{
	cfg_int(c, "input_dim", in, -1);
	cfg_int(c, "hidden_dim", hidden, -1);
	cfg_int(c, "output_dim", out, -1);
}

static void lewm_read_config(const char *path, const cJSON *root, void *vcfg)
{
	LewmConfig *cfg = vcfg;
	CfgCtx c = cfg_part(path, root, "encoder");
	cfg_encoder(&c, cfg);
	c = cfg_part(path, root, "predictor");
	cfg_predictor(&c, cfg);
	c = cfg_part(path, root, "action_encoder");
	cfg_int(&c, "input_dim", &cfg->action_input, -1);
	cfg_int(&c, "emb_dim", &cfg->action_emb, -1);
	cfg_int(&c, "smoothed_dim", &cfg->action_smoothed, 0);
	cfg_int(&c, "mlp_scale", &cfg->action_mlp_scale, 0);
	c = cfg_part(path, root, "projector");
	cfg_head(&c, &cfg->proj_in, &cfg->proj_hidden, &cfg->proj_out);
	c = cfg_part(path, root, "pred_proj");
	cfg_head(&c, &cfg->pproj_in, &cfg->pproj_hidden, &cfg->pproj_out);
	cfg->latent_dim = cfg->proj_out;
}

/* ---- schema: the tensors a config implies ---------------------------------- */

static void sch_encoder(Schema *l, const LewmConfig *c)
{
	uint32_t h = c->enc_hidden, np = (c->image_size / c->patch_size) * (c->image_size / c->patch_size);
	sch_add(l, 'E', 3, 1, 1, h, 0, "encoder.embeddings.cls_token", 0);
	sch_add(l, 'E', 3, 1, np + 1, h, 0, "encoder.embeddings.position_embeddings", 0);
	sch_add(l, 'W', 4, h, c->channels, c->patch_size, c->patch_size,
	        "encoder.embeddings.patch_embeddings.projection.weight", 0);
	sch_add(l, 'B', 1, h, 0, 0, 0, "encoder.embeddings.patch_embeddings.projection.bias", 0);
	for (int i = 0; i < c->enc_layers && !l->over; i++) {
		sch_norm(l, "encoder.encoder.layer.%d.layernorm_before", i, h);
		sch_linear(l, "encoder.encoder.layer.%d.attention.attention.query", i, h, h);
		sch_linear(l, "encoder.encoder.layer.%d.attention.attention.key", i, h, h);
		sch_linear(l, "encoder.encoder.layer.%d.attention.attention.value", i, h, h);
		sch_linear(l, "encoder.encoder.layer.%d.attention.output.dense", i, h, h);
		sch_norm(l, "encoder.encoder.layer.%d.layernorm_after", i, h);
		sch_linear(l, "encoder.encoder.layer.%d.intermediate.dense", i, c->enc_inter, h);
		sch_linear(l, "encoder.encoder.layer.%d.output.dense", i, h, c->enc_inter);
	}
	sch_norm(l, "encoder.layernorm", 0, h);
}

static void sch_predictor(Schema *l, const LewmConfig *c)
{
	uint32_t h = c->pred_hidden, inner = c->pred_heads * c->pred_dim_head;
	/* added to the embeddings before input_proj: [1][T][input_dim] */
	sch_add(l, 'E', 3, 1, c->num_frames, c->pred_input_dim ? c->pred_input_dim : (int)h, 0,
	        "predictor.pos_embedding", 0);
	for (int i = 0; i < c->pred_depth && !l->over; i++) {
		sch_linear(l, "predictor.transformer.layers.%d.adaLN_modulation.1", i, 6 * h, h);
		sch_norm(l, "predictor.transformer.layers.%d.attn.norm", i, h);
		sch_add(l, 'W', 2, 3 * inner, h, 0, 0, "predictor.transformer.layers.%d.attn.to_qkv.weight", i);
		sch_linear(l, "predictor.transformer.layers.%d.attn.to_out.0", i, h, inner);
		sch_norm(l, "predictor.transformer.layers.%d.mlp.net.0", i, h);
		sch_linear(l, "predictor.transformer.layers.%d.mlp.net.1", i, c->pred_mlp, h);
		sch_linear(l, "predictor.transformer.layers.%d.mlp.net.4", i, h, c->pred_mlp);
	}
	sch_norm(l, "predictor.transformer.norm", 0, h);
	if (c->pred_input_dim != c->pred_hidden) {
		sch_linear(l, "predictor.transformer.input_proj", 0, h, c->pred_input_dim);
		sch_linear(l, "predictor.transformer.cond_proj", 0, h, c->pred_input_dim);
	}
	if (c->pred_output_dim != c->pred_hidden)
		sch_linear(l, "predictor.transformer.output_proj", 0, c->pred_output_dim, h);
}

/* projector / pred_proj: Linear, BatchNorm1d, (GELU), Linear. */
static void sch_head(Schema *l, const char *part, int in, int hid, int out)
{
	char p[64];
	snprintf(p, sizeof p, "%s.net.0", part);
	sch_linear(l, p, 0, hid, in);
	snprintf(p, sizeof p, "%s.net.1", part);
	sch_norm(l, p, 0, hid);
	static const char bn[][16] = {"running_mean", "running_var"};
	for (int k = 0; k < 2; k++) {
		char name[96];
		snprintf(name, sizeof name, "%s.net.1.%s", part, bn[k]);
		sch_add(l, "MV"[k], 1, hid, 0, 0, 0, name, 0);
	}
	snprintf(p, sizeof p, "%s.net.3", part);
	sch_linear(l, p, 0, out, hid);
}

static void lewm_schema(Schema *l, const void *vcfg)
{
	const LewmConfig *c = vcfg;
	sch_encoder(l, c);
	sch_predictor(l, c);
	uint32_t s = c->action_smoothed, e = c->action_emb, m = c->action_mlp_scale * e;
	sch_add(l, 'W', 3, s, c->action_input, 1, 0, "action_encoder.patch_embed.weight", 0);
	sch_add(l, 'B', 1, s, 0, 0, 0, "action_encoder.patch_embed.bias", 0);
	sch_linear(l, "action_encoder.embed.0", 0, m, s);
	sch_linear(l, "action_encoder.embed.2", 0, e, m);
	sch_head(l, "projector", c->proj_in, c->proj_hidden, c->proj_out);
	sch_head(l, "pred_proj", c->pproj_in, c->pproj_hidden, c->pproj_out);
}

/* Sizes the config may omit come from the tensor shapes; the parts must
 * also agree with each other. */
static void lewm_derive(const char *cpath, void *vcfg, const ShapeOf *sh)
{
	LewmConfig *c = vcfg;
	int nd;
	uint32_t d[4];
	if (!c->action_smoothed)
		c->action_smoothed = sh->get(sh->ctx, "action_encoder.patch_embed.weight", &nd, d) &&
		                     nd == 3 ? (int)d[0] : 10;
	if (!c->action_mlp_scale)
		c->action_mlp_scale = sh->get(sh->ctx, "action_encoder.embed.0.weight", &nd, d) &&
		                      nd == 2 && d[0] % c->action_emb == 0 && d[0]
		                      ? (int)(d[0] / c->action_emb) : 4;
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

/* A leading "model." is stripped and the newer per-layer encoder names
 * become the HF ViT names; HF's unused pooler is dropped. */
static int lewm_canon(const char *key, char *out, size_t cap)
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
				return 1;
			}
		}
		snprintf(out, cap, "encoder.encoder.layer.%d.%s", layer, rest);
		return 1;
	}
	snprintf(out, cap, "%s", key);
	return strncmp(out, "encoder.pooler.", 15) != 0;
}

/* The five predictor matrices of every block become Q4 (every mode);
 * full mode also makes the six encoder matrices of every layer I8. */
static void lewm_quantize(Checkpoint *ck, int full, float sparsity)
{
	static const char *const pred_mats[] = {
		"adaLN_modulation.1", "attn.to_qkv", "attn.to_out.0", "mlp.net.1", "mlp.net.4",
	};
	static const char *const enc_mats[] = {
		"attention.attention.query", "attention.attention.key", "attention.attention.value",
		"attention.output.dense", "intermediate.dense", "output.dense",
	};
	const LewmConfig *c = ck->cfg;
	char name[160];
	for (int i = 0; i < c->pred_depth; i++)
		for (int k = 0; k < 5; k++) {
			snprintf(name, sizeof name, "predictor.transformer.layers.%d.%s.weight", i, pred_mats[k]);
			quant_tensor(ck, ck_need(ck, name), CK_Q4, sparsity);
		}
	for (int i = 0; full && i < c->enc_layers; i++)
		for (int k = 0; k < 6; k++) {
			snprintf(name, sizeof name, "encoder.encoder.layer.%d.%s.weight", i, enc_mats[k]);
			quant_tensor(ck, ck_need(ck, name), CK_I8, 0);
		}
}

/* ---- jepac-mkmodel and jepac-quantize --check -------------------------------- */

static void lewm_write_config(FILE *f, const void *vcfg)
{
	const LewmConfig *p = vcfg;
	fprintf(f, "{\n  \"encoder\": {\"_target_\": \"transformers.ViTModel\", ");
	if (p->enc_hidden == 192 && p->enc_layers == 12 && p->enc_heads == 3 && p->enc_inter == 768)
		fprintf(f, "\"size\": \"tiny\", ");
	else
		fprintf(f, "\"size\": \"custom\", \"hidden_size\": %d, \"num_hidden_layers\": %d, "
		        "\"num_attention_heads\": %d, \"intermediate_size\": %d, ",
		        p->enc_hidden, p->enc_layers, p->enc_heads, p->enc_inter);
	fprintf(f, "\"patch_size\": %d, \"image_size\": %d},\n", p->patch_size, p->image_size);
	fprintf(f, "  \"predictor\": {\"num_frames\": %d, \"depth\": %d, \"heads\": %d, "
	        "\"mlp_dim\": %d, \"input_dim\": %d, \"hidden_dim\": %d, \"output_dim\": %d, "
	        "\"dim_head\": %d, \"dropout\": 0.1, \"emb_dropout\": 0.0},\n",
	        p->num_frames, p->pred_depth, p->pred_heads, p->pred_mlp, p->pred_input_dim,
	        p->pred_hidden, p->pred_output_dim, p->pred_dim_head);
	fprintf(f, "  \"action_encoder\": {\"input_dim\": %d, \"smoothed_dim\": %d, \"emb_dim\": %d},\n",
	        p->action_input, p->action_smoothed, p->action_emb);
	fprintf(f, "  \"projector\": {\"input_dim\": %d, \"hidden_dim\": %d, \"output_dim\": %d},\n",
	        p->proj_in, p->proj_hidden, p->proj_out);
	fprintf(f, "  \"pred_proj\": {\"input_dim\": %d, \"hidden_dim\": %d, \"output_dim\": %d}\n}\n",
	        p->pproj_in, p->pproj_hidden, p->pproj_out);
}

static void lewm_summary(FILE *f, const Checkpoint *ck)
{
	const LewmConfig *g = ck->cfg;
	fprintf(f, "image %d patch %d channels %d\n", g->image_size, g->patch_size, g->channels);
	fprintf(f, "encoder: hidden %d layers %d heads %d inter %d\n", g->enc_hidden, g->enc_layers,
	        g->enc_heads, g->enc_inter);
	fprintf(f, "predictor: frames %d depth %d heads %d dim_head %d mlp %d in %d hidden %d out %d\n",
	        g->num_frames, g->pred_depth, g->pred_heads, g->pred_dim_head, g->pred_mlp,
	        g->pred_input_dim, g->pred_hidden, g->pred_output_dim);
	fprintf(f, "action: input %d smoothed %d emb %d mlp_scale %d\n", g->action_input,
	        g->action_smoothed, g->action_emb, g->action_mlp_scale);
	fprintf(f, "projector: %d %d %d\npred_proj: %d %d %d\nlatent: %d\n", g->proj_in,
	        g->proj_hidden, g->proj_out, g->pproj_in, g->pproj_hidden, g->pproj_out, g->latent_dim);
	fprintf(f, "batchnorm: %s\nmeta_tokens: %d\n", ck->has_batchnorm ? "yes" : "no", ck->meta_tokens);
}

/* Synthetic checkpoints (jepac-mkmodel):
 *   pusht   the published size: ViT-tiny 224/14 (12 layers, 3 heads, MLP 768),
 *           predictor 6 x (192, 16 heads x 64, MLP 2048), 3 frames, action 10
 *   slim96  96 dims: encoder 4 layers, 3 heads, MLP 384, image 224/14;
 *           predictor 4 blocks, 8 heads x 32, MLP 384; heads 96->384->96
 *   tiny    32 dims: image 28/14 (4 patches), encoder 2 layers, 2 heads,
 *           MLP 64; predictor 2 blocks, 4 heads x 8, MLP 80 (not a multiple
 *           of 32: exercises Q4 padding); action 4; heads 32->64->32
 *   hybrid  tiny-sized, but encoder/latent 48 and predictor hidden 40 (4
 *           heads x 10, MLP 72), so the predictor has input_proj / cond_proj
 *           (the LQ40 trailer) and padded Q4 blocks everywhere
 *   micro   16 dims, one layer each: image 14/7 (4 patches), encoder 2
 *           heads, MLP 32; predictor 2 heads x 8, MLP 32; action 2; heads
 *           16->32->16 (the whole model small enough to simulate at gate
 *           level in make check) */
#define LEWM_PRESET(img, eh, el, ea, ei, depth, heads, dh, mlp, pin, phid, ain, ph, pph) \
	LEWM_PRESET_P(img, 14, eh, el, ea, ei, depth, heads, dh, mlp, pin, phid, ain, ph, pph)
#define LEWM_PRESET_P(img, patch, eh, el, ea, ei, depth, heads, dh, mlp, pin, phid, ain, ph, pph) \
	{.image_size = img, .patch_size = patch, .channels = 3, .enc_hidden = eh, .enc_layers = el, \
	 .enc_heads = ea, .enc_inter = ei, .num_frames = 3, .pred_depth = depth, .pred_heads = heads, \
	 .pred_dim_head = dh, .pred_mlp = mlp, .pred_input_dim = pin, .pred_hidden = phid, \
	 .pred_output_dim = phid, .action_input = ain, .action_smoothed = ain, .action_emb = pin, \
	 .action_mlp_scale = 4, .proj_in = eh, .proj_hidden = ph, .proj_out = pin, \
	 .pproj_in = phid, .pproj_hidden = pph, .pproj_out = pin, .latent_dim = pin}
static const LewmConfig lewm_pusht = LEWM_PRESET(224, 192, 12, 3, 768, 6, 16, 64, 2048, 192, 192, 10, 2048, 2048);
static const LewmConfig lewm_slim96 = LEWM_PRESET(224, 96, 4, 3, 384, 4, 8, 32, 384, 96, 96, 10, 384, 384);
static const LewmConfig lewm_tiny = LEWM_PRESET(28, 32, 2, 2, 64, 2, 4, 8, 80, 32, 32, 4, 64, 64);
static const LewmConfig lewm_hybrid = LEWM_PRESET(28, 48, 2, 2, 96, 2, 4, 10, 72, 48, 40, 4, 96, 64);
static const LewmConfig lewm_micro = LEWM_PRESET_P(14, 7, 16, 1, 2, 32, 1, 2, 8, 32, 16, 16, 2, 32, 32);

static const FamilyPreset lewm_presets[] = {
	{"pusht", &lewm_pusht}, {"slim96", &lewm_slim96}, {"tiny", &lewm_tiny},
	{"hybrid", &lewm_hybrid}, {"micro", &lewm_micro}, {NULL, NULL},
};

static const char *const lewm_keys[] = {
	"encoder", "predictor", "action_encoder", "projector", "pred_proj", NULL,
};

const Family fam_lewm = {
	.name = "lewm",
	.keys = lewm_keys,
	.cfg_size = sizeof(LewmConfig),
	.read_config = lewm_read_config,
	.derive = lewm_derive,
	.schema = lewm_schema,
	.canon = lewm_canon,
	.quantize = lewm_quantize,
	.write_config = lewm_write_config,
	.summary = lewm_summary,
	.presets = lewm_presets,
	.tops = lewm_tops,
};
