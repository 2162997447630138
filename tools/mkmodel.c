/*
 * mkmodel.c -- jepac-mkmodel: writes a synthetic LeWM checkpoint.
 *
 *   jepac-mkmodel --preset=pusht|slim96|tiny|hybrid|micro [--seed=N] -o DIR
 *
 * Writes DIR/model.safetensors (F32, plus the I64 num_batches_tracked
 * scalars PyTorch writes) and DIR/config.json with the official key names
 * and shapes of every part (HF ViT encoder, projector, action encoder,
 * predictor, pred_proj, BatchNorm statistics).  Presets:
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
 *   micro   16 dims, one layer each: image 14/7 (4 patches),
 *           encoder 2 heads, MLP 32; predictor 2 heads x 8, MLP 32; action
 *           2; heads 16->32->16 (the whole model small enough to simulate
 *           at gate level in a few seconds)
 *
 * Weights look trained: std 1/sqrt(fan_in) with Student-t(4) tails
 * (clipped at 8 sigma), non-zero adaLN, LayerNorm gains 1 +- ~0.1, small
 * biases, BatchNorm running_mean ~ N(0, 0.1), running_var ~ U(0.5, 1.5).
 * Determinism: each tensor has its own splitmix64 stream seeded from the
 * seed and its name.  Normals are Irwin-Hall sums of four 16-bit uniforms
 * (scaled to unit variance), chi-square(4) a sum of four squared normals:
 * only +, *, / and sqrt, which IEEE 754 rounds exactly, so the bytes are the
 * same on every machine and libc (no log/cos whose last bit may vary).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir.h"

typedef struct Preset {
	const char *name, *size;    /* size: ViT size name or NULL (custom) */
	int image, patch, channels, eh, el, ea, ei;
	int nf, depth, heads, dh, mlp, pin, phid, pout;
	int ain, smoothed, emb, proj_h, pproj_h;
} Preset;

static const Preset presets[] = {
	{"pusht", "tiny", 224, 14, 3, 192, 12, 3, 768, 3, 6, 16, 64, 2048, 192, 192, 192,
	 10, 10, 192, 2048, 2048},
	{"slim96", NULL, 224, 14, 3, 96, 4, 3, 384, 3, 4, 8, 32, 384, 96, 96, 96,
	 10, 10, 96, 384, 384},
	{"tiny", NULL, 28, 14, 3, 32, 2, 2, 64, 3, 2, 4, 8, 80, 32, 32, 32, 4, 4, 32, 64, 64},
	{"hybrid", NULL, 28, 14, 3, 48, 2, 2, 96, 3, 2, 4, 10, 72, 48, 40, 40, 4, 4, 48, 96, 64},
	{"micro", NULL, 14, 7, 3, 16, 1, 2, 32, 3, 1, 2, 8, 32, 16, 16, 16, 2, 2, 16, 32, 32},
};

/* One tensor to generate: init kind W (weight, std 1/sqrt(fan_in)), G
 * (norm gain), B (bias), E (embedding), M / V (BatchNorm mean / var),
 * N (num_batches_tracked, I64). */
typedef struct Gen {
	char name[128];
	char kind;
	int ndim;
	uint32_t shape[4];
	size_t n;
	uint64_t off;
} Gen;

typedef struct GenList {
	Gen *g;
	size_t n, cap;
} GenList;

static OutFile outs[2];   /* model.safetensors, config.json: removed on failure */

void jepac_cleanup(void)
{
	for (int i = 0; i < 2; i++)
		out_discard(&outs[i]);
}

static void gen(GenList *l, char kind, const char *name, int ndim, uint32_t d0, uint32_t d1,
                uint32_t d2, uint32_t d3)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->g = xrealloc(l->g, l->cap * sizeof *l->g);
	}
	Gen *g = &l->g[l->n++];
	memset(g, 0, sizeof *g);
	snprintf(g->name, sizeof g->name, "%s", name);
	g->kind = kind;
	g->ndim = ndim;
	uint32_t d[4] = {d0, d1, d2, d3};
	g->n = 1;
	for (int i = 0; i < ndim; i++) {
		g->shape[i] = d[i];
		g->n *= d[i];
	}
}

static void gen_linear(GenList *l, const char *prefix, int i, uint32_t out, uint32_t in)
{
	char p[96], name[128];
	snprintf(p, sizeof p, prefix, i);
	snprintf(name, sizeof name, "%s.weight", p);
	gen(l, 'W', name, 2, out, in, 0, 0);
	snprintf(name, sizeof name, "%s.bias", p);
	gen(l, 'B', name, 1, out, 0, 0, 0);
}

static void gen_norm(GenList *l, const char *prefix, int i, uint32_t n)
{
	char p[96], name[128];
	snprintf(p, sizeof p, prefix, i);
	snprintf(name, sizeof name, "%s.weight", p);
	gen(l, 'G', name, 1, n, 0, 0, 0);
	snprintf(name, sizeof name, "%s.bias", p);
	gen(l, 'B', name, 1, n, 0, 0, 0);
}

static void gen_encoder(GenList *l, const Preset *p)
{
	uint32_t h = p->eh, g = p->image / p->patch;
	gen(l, 'E', "encoder.embeddings.cls_token", 3, 1, 1, h, 0);
	gen(l, 'E', "encoder.embeddings.position_embeddings", 3, 1, 1 + g * g, h, 0);
	gen(l, 'W', "encoder.embeddings.patch_embeddings.projection.weight", 4, h, p->channels,
	    p->patch, p->patch);
	gen(l, 'B', "encoder.embeddings.patch_embeddings.projection.bias", 1, h, 0, 0, 0);
	for (int i = 0; i < p->el; i++) {
		gen_norm(l, "encoder.encoder.layer.%d.layernorm_before", i, h);
		gen_linear(l, "encoder.encoder.layer.%d.attention.attention.query", i, h, h);
		gen_linear(l, "encoder.encoder.layer.%d.attention.attention.key", i, h, h);
		gen_linear(l, "encoder.encoder.layer.%d.attention.attention.value", i, h, h);
		gen_linear(l, "encoder.encoder.layer.%d.attention.output.dense", i, h, h);
		gen_norm(l, "encoder.encoder.layer.%d.layernorm_after", i, h);
		gen_linear(l, "encoder.encoder.layer.%d.intermediate.dense", i, p->ei, h);
		gen_linear(l, "encoder.encoder.layer.%d.output.dense", i, h, p->ei);
	}
	gen_norm(l, "encoder.layernorm", 0, h);
}

static void gen_predictor(GenList *l, const Preset *p)
{
	uint32_t h = p->phid, inner = p->heads * p->dh;
	char name[128];
	gen(l, 'E', "predictor.pos_embedding", 3, 1, p->nf, p->pin, 0);
	for (int i = 0; i < p->depth; i++) {
		gen_linear(l, "predictor.transformer.layers.%d.adaLN_modulation.1", i, 6 * h, h);
		gen_norm(l, "predictor.transformer.layers.%d.attn.norm", i, h);
		snprintf(name, sizeof name, "predictor.transformer.layers.%d.attn.to_qkv.weight", i);
		gen(l, 'W', name, 2, 3 * inner, h, 0, 0);
		gen_linear(l, "predictor.transformer.layers.%d.attn.to_out.0", i, h, inner);
		gen_norm(l, "predictor.transformer.layers.%d.mlp.net.0", i, h);
		gen_linear(l, "predictor.transformer.layers.%d.mlp.net.1", i, p->mlp, h);
		gen_linear(l, "predictor.transformer.layers.%d.mlp.net.4", i, h, p->mlp);
	}
	gen_norm(l, "predictor.transformer.norm", 0, h);
	if (p->pin != p->phid) {
		gen_linear(l, "predictor.transformer.input_proj", 0, h, p->pin);
		gen_linear(l, "predictor.transformer.cond_proj", 0, h, p->pin);
	}
	if (p->pout != p->phid)
		gen_linear(l, "predictor.transformer.output_proj", 0, p->pout, h);
}

static void gen_head(GenList *l, const char *part, uint32_t in, uint32_t hid, uint32_t out)
{
	char name[128];
	snprintf(name, sizeof name, "%s.net.0", part);
	gen_linear(l, name, 0, hid, in);
	snprintf(name, sizeof name, "%s.net.1", part);
	gen_norm(l, name, 0, hid);
	snprintf(name, sizeof name, "%s.net.1.running_mean", part);
	gen(l, 'M', name, 1, hid, 0, 0, 0);
	snprintf(name, sizeof name, "%s.net.1.running_var", part);
	gen(l, 'V', name, 1, hid, 0, 0, 0);
	snprintf(name, sizeof name, "%s.net.1.num_batches_tracked", part);
	gen(l, 'N', name, 0, 0, 0, 0, 0);
	snprintf(name, sizeof name, "%s.net.3", part);
	gen_linear(l, name, 0, out, hid);
}

static void gen_all(GenList *l, const Preset *p)
{
	gen_encoder(l, p);
	gen_predictor(l, p);
	gen(l, 'W', "action_encoder.patch_embed.weight", 3, p->smoothed, p->ain, 1, 0);
	gen(l, 'B', "action_encoder.patch_embed.bias", 1, p->smoothed, 0, 0, 0);
	gen_linear(l, "action_encoder.embed.0", 0, 4 * p->emb, p->smoothed);
	gen_linear(l, "action_encoder.embed.2", 0, p->emb, 4 * p->emb);
	gen_head(l, "projector", p->eh, p->proj_h, p->pin);
	gen_head(l, "pred_proj", p->pout, p->pproj_h, p->pin);
}

/* ---- deterministic sampling --------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Approximately N(0, 1): four 16-bit uniforms, Irwin-Hall, unit variance. */
static double rnd_normal(uint64_t *s)
{
	uint64_t r = splitmix64(s);
	double sum = 0;
	for (int k = 0; k < 4; k++)
		sum += ((double)((r >> (16 * k)) & 0xffff) + 0.5) / 65536.0;
	return (sum - 2.0) * 1.7320508075688772;
}

static double rnd_uniform(uint64_t *s)
{
	return ((double)(splitmix64(s) >> 11) + 0.5) / 9007199254740992.0;
}

/* Student-t with 4 degrees of freedom, unit variance, clipped to +-8. */
static double rnd_t4(uint64_t *s)
{
	double z = rnd_normal(s), chi = 0;
	for (int k = 0; k < 4; k++) {
		double y = rnd_normal(s);
		chi += y * y;
	}
	double t = z / sqrt(chi / 4.0 + 1e-12) / 1.4142135623730951;
	return t > 8 ? 8 : t < -8 ? -8 : t;
}

static void fill(const Gen *g, uint64_t seed, float *out)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	for (const char *c = g->name; *c; c++)
		s = (s ^ (unsigned char)*c) * 0x100000001b3ull;
	size_t fan = g->ndim > 1 ? g->n / g->shape[0] : 1;
	double std = 1.0 / sqrt((double)fan);
	for (size_t i = 0; i < g->n; i++) {
		double v;
		switch (g->kind) {
		case 'W': v = std * rnd_t4(&s); break;
		case 'G': v = 1.0 + 0.05 * rnd_normal(&s); break;
		case 'B': v = 0.02 * rnd_normal(&s); break;
		case 'E': v = 0.1 * rnd_normal(&s); break;
		case 'M': v = 0.1 * rnd_normal(&s); break;
		default: v = 0.5 + rnd_uniform(&s); break;   /* 'V' */
		}
		out[i] = (float)v;
	}
}

/* ---- output ------------------------------------------------------------- */

static int gen_by_name(const void *a, const void *b)
{
	return strcmp(((const Gen *)a)->name, ((const Gen *)b)->name);
}

/* Opens DIR/NAME for atomic writing in outs[slot]. */
static FILE *open_tmp(const char *dir, const char *name, int slot)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = xmalloc(n);
	snprintf(path, n, "%s/%s", dir, name);
	out_open(&outs[slot], path);
	free(path);
	return outs[slot].f;
}

static char *st_header_json(GenList *l, size_t *len)
{
	size_t cap = 256 + l->n * 256, k = 0;
	char *h = xmalloc(cap);
	k += snprintf(h + k, cap - k, "{\"__metadata__\":{\"format\":\"pt\"}");
	uint64_t off = 0;
	for (size_t i = 0; i < l->n; i++) {
		Gen *g = &l->g[i];
		g->off = off;
		off += g->kind == 'N' ? 8 : 4 * (uint64_t)g->n;
		k += snprintf(h + k, cap - k, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", g->name,
		              g->kind == 'N' ? "I64" : "F32");
		for (int d = 0; d < g->ndim; d++)
			k += snprintf(h + k, cap - k, d ? ",%u" : "%u", g->shape[d]);
		k += snprintf(h + k, cap - k, "],\"data_offsets\":[%llu,%llu]}",
		              (unsigned long long)g->off, (unsigned long long)off);
	}
	h[k++] = '}';
	while (k % 8)
		h[k++] = ' ';
	*len = k;
	return h;
}

static void write_safetensors(const char *dir, GenList *l, uint64_t seed)
{
	FILE *f = open_tmp(dir, "model.safetensors", 0);
	qsort(l->g, l->n, sizeof *l->g, gen_by_name);
	size_t hlen;
	char *h = st_header_json(l, &hlen);
	unsigned char u64[8];
	for (int i = 0; i < 8; i++)
		u64[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
	fwrite(u64, 1, 8, f);
	fwrite(h, 1, hlen, f);
	free(h);
	for (size_t i = 0; i < l->n; i++) {
		const Gen *g = &l->g[i];
		if (g->kind == 'N') {
			unsigned char v[8] = {0xe8, 0x03};   /* 1000 batches */
			fwrite(v, 1, 8, f);
			continue;
		}
		float *x = xmalloc(g->n * sizeof *x);
		unsigned char *b = xmalloc(g->n * 4);
		fill(g, seed, x);
		for (size_t j = 0; j < g->n; j++) {
			uint32_t u;
			memcpy(&u, &x[j], 4);
			for (int k = 0; k < 4; k++)
				b[4 * j + k] = (unsigned char)(u >> (8 * k));
		}
		fwrite(b, 1, g->n * 4, f);
		free(x);
		free(b);
	}
	out_close(&outs[0]);
}

static void write_config(const char *dir, const Preset *p)
{
	FILE *f = open_tmp(dir, "config.json", 1);
	fprintf(f, "{\n  \"encoder\": {\"_target_\": \"transformers.ViTModel\", ");
	if (p->size)
		fprintf(f, "\"size\": \"%s\", ", p->size);
	else
		fprintf(f, "\"size\": \"custom\", \"hidden_size\": %d, \"num_hidden_layers\": %d, "
		        "\"num_attention_heads\": %d, \"intermediate_size\": %d, ",
		        p->eh, p->el, p->ea, p->ei);
	fprintf(f, "\"patch_size\": %d, \"image_size\": %d},\n", p->patch, p->image);
	fprintf(f, "  \"predictor\": {\"num_frames\": %d, \"depth\": %d, \"heads\": %d, "
	        "\"mlp_dim\": %d, \"input_dim\": %d, \"hidden_dim\": %d, \"output_dim\": %d, "
	        "\"dim_head\": %d, \"dropout\": 0.1, \"emb_dropout\": 0.0},\n",
	        p->nf, p->depth, p->heads, p->mlp, p->pin, p->phid, p->pout, p->dh);
	fprintf(f, "  \"action_encoder\": {\"input_dim\": %d, \"smoothed_dim\": %d, \"emb_dim\": %d},\n",
	        p->ain, p->smoothed, p->emb);
	fprintf(f, "  \"projector\": {\"input_dim\": %d, \"hidden_dim\": %d, \"output_dim\": %d},\n",
	        p->eh, p->proj_h, p->pin);
	fprintf(f, "  \"pred_proj\": {\"input_dim\": %d, \"hidden_dim\": %d, \"output_dim\": %d}\n}\n",
	        p->pout, p->pproj_h, p->pin);
	out_close(&outs[1]);
}

static _Noreturn void usage(int status)
{
	fputs("usage: jepac-mkmodel --preset=pusht|slim96|tiny|hybrid|micro [--seed=N] -o DIR\n"
	      "Writes DIR/model.safetensors and DIR/config.json: a synthetic LeWM checkpoint.\n",
	      status ? stderr : stdout);
	exit(status);
}

int main(int argc, char **argv)
{
	const Preset *p = NULL;
	const char *dir = NULL;
	uint64_t seed = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--preset=", 9) == 0) {
			for (size_t k = 0; k < sizeof presets / sizeof presets[0]; k++)
				if (strcmp(presets[k].name, a + 9) == 0)
					p = &presets[k];
			if (!p) {
				fprintf(stderr, "jepac: error: unknown preset '%s' (try --help)\n", ESC(a + 9));
				exit(2);
			}
		} else if (strncmp(a, "--seed=", 7) == 0) {
			char *end;
			errno = 0;
			seed = strtoull(a + 7, &end, 10);
			if (errno || end == a + 7 || *end)
				usage(2);
		} else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(a, "--help") == 0) {
			usage(0);
		} else {
			usage(2);
		}
	}
	if (!p || !dir)
		usage(2);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		fatal(dir, "cannot create directory: %s", strerror(errno));
	GenList l = {0};
	gen_all(&l, p);
	write_safetensors(dir, &l, seed);
	write_config(dir, p);
	free(l.g);
	return 0;
}
