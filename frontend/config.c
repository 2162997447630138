/*
 * config.c -- reads a LeWM config.json into a LewmConfig.
 *
 * The file holds one object per model part (encoder, predictor,
 * action_encoder, projector, pred_proj); see docs/lewm.md.  `_target_`,
 * dropout rates and unknown keys are ignored.  The encoder names a ViT size
 * (tiny / small / base) or "custom" with the Hugging Face fields
 * (hidden_size, num_hidden_layers, num_attention_heads, intermediate_size);
 * explicit fields always win over the size name.  Every size must be a
 * positive integer.  Optional sizes the file lacks (action_encoder
 * smoothed_dim and mlp_scale) are left 0 for the safetensors reader to take
 * from the tensor shapes; predictor input_dim / output_dim default to
 * hidden_dim, encoder num_channels to 3.  Shapes are cross-checked by the
 * caller (safetensors.c), not here.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checkpoint.h"
#include "frontend.h"

typedef struct CfgCtx {
	const char *path;
	const char *part;    /* name of the object being read */
	const cJSON *obj;
} CfgCtx;

/* An integer field: *dst = value; absent -> dflt, or an error if dflt < 0. */
static void cfg_int(const CfgCtx *c, const char *key, int *dst, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->obj, key);
	if (!v) {
		if (dflt < 0)
			fatal(c->path, "config: missing key '%s.%s'", c->part, key);
		*dst = dflt;
		return;
	}
	double d = v->valuedouble;
	if (!cJSON_IsNumber(v) || !(d >= 1 && d <= 1e7) || d != (double)(int)d)
		fatal(c->path, "config: '%s.%s' must be a positive integer", c->part, key);
	*dst = (int)d;
}

static CfgCtx cfg_part(const char *path, const cJSON *root, const char *part)
{
	CfgCtx c = {path, part, cJSON_GetObjectItemCaseSensitive(root, part)};
	if (!c.obj)
		fatal(path, "config: missing object '%s'", part);
	if (!cJSON_IsObject(c.obj))
		fatal(path, "config: '%s' is not an object", part);
	return c;
}

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

void ck_read_config(const char *path, LewmConfig *cfg)
{
	size_t n;
	char *text = read_file(path, &n);
	cJSON *root = cJSON_ParseWithLength(text, n);
	free(text);
	if (!root)
		fatal(path, "config: malformed JSON");
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		fatal(path, "config: top level is not an object");
	}
	memset(cfg, 0, sizeof *cfg);
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
	cJSON_Delete(root);
}
