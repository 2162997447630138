/*
 * quant.c -- the LQ40 exporter's quantization rules, bit for bit.
 *
 * Q4 (per output row, blocks of 32 columns, the last one zero padded):
 *   scale = max|w| / 7 (f32); scale == 0 -> the block is absent (scale 0,
 *   codes 0); else q = clamp(round_half_away(w * (1/scale)), -8, 7), the
 *   product and reciprocal in f32.
 * I8 (per output row): scale = max|w| / 127 (1.0 when that is 0),
 *   q = clamp(round_half_away(w * (1/scale)), -128, 127).
 * Wanda (before Q4, per output row): zero the k = (size_t)((float)in * s)
 *   smallest |w|, a stable order (ties: lower column first); zeros count.
 *
 * ck_quantize applies a mode to a float checkpoint through its family's
 * rule (family.h: quantize): for LeWM the five predictor matrices of every
 * block (adaLN, to_qkv, attn_out, mlp_up, mlp_down) become CK_Q4 in q4-pred /
 * wanda / full modes and "full" also makes the six encoder matrices of every
 * layer CK_I8; "none" changes nothing.  A checkpoint that
 * is already quantized (an LQ40 file) is accepted only for its own mode.
 * All arithmetic is plain f32 (C11 with FLT_EVAL_METHOD 0 and no FP
 * contraction), so the codes are the same on every machine.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "family.h"
#include "ir.h"

/* round half away from zero of an f32, as an integer clamped to lo..hi */
static int quant_round(float x, int lo, int hi)
{
	float r = roundf(x);
	if (r < (float)lo)
		return lo;
	if (r > (float)hi)
		return hi;
	return (int)r;
}

void quant_q4_rows(const float *w, uint32_t out, uint32_t in, int8_t *q, float *scales)
{
	uint32_t nb = (in + 31) / 32;
	for (uint32_t r = 0; r < out; r++)
		for (uint32_t b = 0; b < nb; b++) {
			const float *row = w + (size_t)r * in;
			uint32_t c0 = b * 32, c1 = c0 + 32 < in ? c0 + 32 : in;
			float m = 0;
			for (uint32_t c = c0; c < c1; c++)
				if (fabsf(row[c]) > m)
					m = fabsf(row[c]);
			float scale = m / 7.0f;
			scales[(size_t)r * nb + b] = scale;
			float inv = scale != 0 ? 1.0f / scale : 0;
			for (uint32_t c = c0; c < c1; c++) {
				float x = row[c] * inv;
				q[(size_t)r * in + c] = (int8_t)(scale != 0 ? quant_round(x, -8, 7) : 0);
			}
		}
}

void quant_i8_rows(const float *w, uint32_t out, uint32_t in, int8_t *q, float *scales)
{
	for (uint32_t r = 0; r < out; r++) {
		const float *row = w + (size_t)r * in;
		float m = 0;
		for (uint32_t c = 0; c < in; c++)
			if (fabsf(row[c]) > m)
				m = fabsf(row[c]);
		float scale = m / 127.0f;
		if (scale == 0)
			scale = 1.0f;
		scales[r] = scale;
		float inv = 1.0f / scale;
		for (uint32_t c = 0; c < in; c++) {
			float x = row[c] * inv;
			q[(size_t)r * in + c] = (int8_t)quant_round(x, -128, 127);
		}
	}
}

typedef struct WandaKey {
	float mag;
	uint32_t col;
} WandaKey;

static int wanda_cmp(const void *a, const void *b)
{
	const WandaKey *x = a, *y = b;
	if (x->mag != y->mag)
		return x->mag < y->mag ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

void quant_wanda_rows(float *w, uint32_t out, uint32_t in, float sparsity)
{
	float kf = (float)in * sparsity;
	size_t k = (size_t)kf;
	WandaKey *key = xmalloc((in ? in : 1) * sizeof *key);
	for (uint32_t r = 0; r < out; r++) {
		float *row = w + (size_t)r * in;
		for (uint32_t c = 0; c < in; c++)
			key[c] = (WandaKey){fabsf(row[c]), c};
		qsort(key, in, sizeof *key, wanda_cmp);
		for (size_t i = 0; i < k && i < in; i++)
			row[key[i].col] = 0;
	}
	free(key);
}

/* ---- ck_quantize ------------------------------------------------------- */

void quant_tensor(Checkpoint *ck, CkTensor *t, int kind, float sparsity)
{
	if (t->kind == kind)
		return;
	if (t->kind != CK_F || t->ndim != 2)
		fatal(ck->path, "tensor '%s' is already quantized: cannot requantize it", ESC(t->name));
	t->out = t->shape[0];
	t->in = t->shape[1];
	if (sparsity > 0)
		quant_wanda_rows(t->f, t->out, t->in, sparsity);
	t->q = xmalloc(t->n ? t->n : 1);
	if (kind == CK_Q4) {
		t->scales = xmalloc(((size_t)t->out * ((t->in + 31) / 32) + 1) * sizeof(float));
		quant_q4_rows(t->f, t->out, t->in, t->q, t->scales);
	} else {
		t->scales = xmalloc((t->out + 1) * sizeof(float));
		quant_i8_rows(t->f, t->out, t->in, t->q, t->scales);
	}
	free(t->f);
	t->f = NULL;
	t->kind = kind;
}

static int ck_quantized(const Checkpoint *ck)
{
	for (size_t i = 0; i < ck->nt; i++)
		if (ck->t[i].kind != CK_F)
			return 1;
	return 0;
}

void ck_quantize(Checkpoint *ck, const char *mode)
{
	float sparsity = 0;
	int full = 0;
	if (strcmp(mode, "none") == 0)
		return;
	if (strcmp(mode, "full") == 0)
		full = 1;
	else if (strcmp(mode, "wanda20-q4") == 0)
		sparsity = 0.2f;
	else if (strcmp(mode, "wanda40-q4") == 0)
		sparsity = 0.4f;
	else if (strcmp(mode, "q4-pred") != 0)
		fatal(ck->path, "unknown quantization mode '%s'", ESC(mode));
	if (ck_quantized(ck)) {
		if (strcmp(ck->mode, mode) != 0)
			fatal(ck->path, "checkpoint is already quantized in mode '%s': cannot make '%s'",
			      ESC(ck->mode), ESC(mode));
		return;
	}
	ck->family->quantize(ck, full, sparsity);
	snprintf(ck->mode, sizeof ck->mode, "%s", mode);
}
