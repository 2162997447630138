/*
 * checkpoint.h -- a model checkpoint in memory, whatever file it came from.
 *
 * Readers (safetensors.c, lq40.c) produce a Checkpoint: a list of tensors
 * under their canonical PyTorch names (as in docs/lewm.md, without a
 * leading "model.", encoder keys in the Hugging Face ViT layout
 * "encoder.encoder.layer.i.attention.attention.query.weight" etc.) plus the
 * architecture (the family's config struct, e.g. LewmConfig in lewm.h).
 * Model builders (lewm.c, ijepa.c) read only this, so a new file format is
 * one more reader and a new model family one more row of family.h's table.
 *
 * Tensor data is either float (CK_F: f32 values, converted from F16 / BF16 /
 * I8 on reading) or already quantized exactly as LQ40 stores it (CK_Q4,
 * CK_I8: integer codes + f32 scales, row-major [out][in], NOT transposed).
 * quant.c turns CK_F matrices into CK_Q4 / CK_I8 with the exporter's rules,
 * so both input formats give bit-identical weights.
 */
#ifndef JEPAC_CHECKPOINT_H
#define JEPAC_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { CK_F, CK_Q4, CK_I8 };

typedef struct CkTensor {
	char *name;          /* canonical PyTorch name */
	int ndim;            /* 1..4 */
	uint32_t shape[4];   /* PyTorch shape; a Linear weight is [out][in] */
	size_t n;            /* product of shape */
	int kind;            /* CK_F, CK_Q4, CK_I8 */
	float *f;            /* CK_F: n values */
	int8_t *q;           /* CK_Q4 (-8..7) / CK_I8 (-128..127): n codes, [out][in] */
	float *scales;       /* CK_Q4: out * ceil(in/32) block scales; CK_I8: out row scales */
	uint32_t out, in;    /* CK_Q4 / CK_I8: matrix dims */
} CkTensor;

/* A hash index from names to array positions (checkpoint.c): lookups in
 * O(1), so matching a file's tensors against a config's list is linear in
 * both.  Names are borrowed and must outlive the index. */
typedef struct NameSlot {
	const char *name;
	size_t idx;
} NameSlot;
typedef struct NameIndex {
	NameSlot *slot;      /* open addressing, cap a power of two; name NULL = free */
	size_t cap, n;
} NameIndex;
size_t ni_find(const NameIndex *ix, const char *name);          /* SIZE_MAX if absent */
int ni_add(NameIndex *ix, const char *name, size_t idx);        /* 0 if already there */
void ni_free(NameIndex *ix);

typedef struct Checkpoint {
	char *path;          /* for error messages */
	CkTensor *t;
	size_t nt, capt;
	NameIndex ix;        /* name -> index into t */
	const struct Family *family;   /* its row in family.h's table */
	void *cfg;           /* the family's config struct (LewmConfig, IjepaConfig, ...), owned */
	char mode[16];       /* LQ40 mode ("q4-pred", "full", ...), or "float" */
	int has_batchnorm;   /* 0 for LQ40: BatchNorm statistics are not stored */
	/* added by build/c (checkpoint formats): */
	int meta_tokens;     /* LQ40 "meta_tokens" (0 unless a hybrid full-mode file) */
	int old_layout;      /* LQ40 read without meta_tokens key and trailer */
} Checkpoint;

/* checkpoint.c */
Checkpoint *ck_new(const char *path);
void ck_free(Checkpoint *ck);
CkTensor *ck_add(Checkpoint *ck, const char *name, int kind, int ndim, const uint32_t *shape);
CkTensor *ck_find(const Checkpoint *ck, const char *name);   /* NULL if absent */
CkTensor *ck_need(const Checkpoint *ck, const char *name);   /* fatal if absent */

/* Readers: validate everything, fatal("jepac: error: FILE: ...") on bad input. */
Checkpoint *st_read(const char *path, const char *config_path);   /* safetensors.c */
Checkpoint *lq40_read(const char *path);                          /* lq40.c */
/* Writes ck in the current LQ40 layout; mode = q4-pred|full|wanda20-q4|wanda40-q4.
 * Quantizes float tensors as needed (quant.c). */
void lq40_write(Checkpoint *ck, const char *mode, FILE *f);

/* quant.c: the exporter's quantization rules. */
void ck_quantize(Checkpoint *ck, const char *mode);    /* q4-pred | full | none | wanda* */

/* Added by build/c.  checkpoint.c: */
void ck_check_finite(const Checkpoint *ck, const CkTensor *t);   /* fatal on NaN/Inf */
const char *ck_name(char *buf, size_t cap, const char *fmt, int i); /* snprintf(fmt, i) */
/* quant.c: the single-matrix rules (exported for tests and tools). */
void quant_q4_rows(const float *w, uint32_t out, uint32_t in, int8_t *q, float *scales);
void quant_i8_rows(const float *w, uint32_t out, uint32_t in, int8_t *q, float *scales);
void quant_wanda_rows(float *w, uint32_t out, uint32_t in, float sparsity);
/* Canonical names (docs/lq40.md): the encoder uses the Hugging Face ViT layout
 * "encoder.encoder.layer.i.{layernorm_before,attention.attention.{query,key,
 * value},attention.output.dense,layernorm_after,intermediate.dense,
 * output.dense}.{weight,bias}"; the predictor's optional projections are
 * "predictor.transformer.{input_proj,cond_proj,output_proj}.{weight,bias}";
 * LQ40 full-mode trailer extras are "meta_token" and "enc_proj.{weight,bias}". */

#endif
