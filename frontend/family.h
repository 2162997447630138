/*
 * family.h -- a model family is one row of a table (family.c: families[]).
 *
 * A row says everything the rest of jepac needs to know about a family:
 * its name, how a config.json is recognised as its own (top-level objects),
 * its config reader, its tensor SCHEMA (the one declaration of which
 * tensors a config implies, with shapes: the safetensors reader matches a
 * file against it, the generic LQ40 layout stores its records in its order,
 * jepac-mkmodel generates it, and the builder's checks agree with it), its
 * quantisation rule, its synthetic presets and its tops (the parts one can
 * build with --top; the first is the default).  Readers, writers and tools
 * loop over the table; nothing else names a family.
 *
 * A family's builder uses the family-independent helpers of build.h.
 */
#ifndef JEPAC_FAMILY_H
#define JEPAC_FAMILY_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "checkpoint.h"
#include "frontend.h"

/* ---- the tensor schema ---------------------------------------------------- */

/* One tensor a config implies.  init is how jepac-mkmodel fills it: W
 * (weight, std 1/sqrt(fan_in)), G (norm gain), B (bias), E (embedding),
 * M / V (BatchNorm running mean / var).  A Linear weight is [out][in]. */
typedef struct SchEntry {
	char name[160];
	char init;
	int ndim;
	int optional;        /* a file may omit it (e.g. a fixed position table) */
	int seen;            /* used by the readers while matching */
	uint32_t shape[4];
} SchEntry;

/* The tensors of a config, at most `limit` of them (0: no limit): a reader
 * sets it to one more than the file holds, so a config that demands more
 * than the file has costs no more than the file does. */
typedef struct Schema {
	SchEntry *e;
	size_t n, cap, limit;
	int over;            /* the config implies more than limit tensors */
} Schema;

/* fmt is a printf format with at most one %d, filled with i. */
void sch_add(Schema *s, char init, int ndim, uint32_t d0, uint32_t d1, uint32_t d2,
             uint32_t d3, const char *fmt, int i);
void sch_linear(Schema *s, const char *fmt, int i, uint32_t out, uint32_t in); /* .weight W, .bias B */
void sch_norm(Schema *s, const char *fmt, int i, uint32_t n);                  /* .weight G, .bias B */
void sch_free(Schema *s);

/* The shape of a tensor the file holds under a canonical name: 1 and
 * ndim/shape filled, or 0 if absent.  Used for sizes a config may omit. */
typedef struct ShapeOf {
	int (*get)(const void *ctx, const char *name, int *ndim, uint32_t shape[4]);
	const void *ctx;
} ShapeOf;

/* ---- config.json helpers (family.c) --------------------------------------- */

typedef struct CfgCtx {
	const char *path;
	const char *part;    /* name of the object being read */
	const cJSON *obj;
} CfgCtx;

/* An integer field in 1..10^7: *dst = value; absent -> dflt, or an error if dflt < 0. */
void cfg_int(const CfgCtx *c, const char *key, int *dst, int dflt);
/* The object root[part] (an error if absent or not an object). */
CfgCtx cfg_part(const char *path, const cJSON *root, const char *part);

/* ---- the table -------------------------------------------------------------- */

struct Builder;

typedef struct FamilyTop {
	const char *name;                          /* --top=NAME */
	void (*build)(struct Builder *b, int all); /* all: --all-tokens */
	int stream;                                /* --tokens=serial makes it a stream */
} FamilyTop;

typedef struct FamilyPreset {
	const char *name;    /* jepac-mkmodel --preset=NAME */
	const void *cfg;     /* the family's config struct */
} FamilyPreset;

typedef struct Family {
	const char *name;            /* "lewm": modules are called NAME_TOP */
	const char *const *keys;     /* config.json top-level objects that identify it (NULL-ended) */
	size_t cfg_size;             /* sizeof its config struct (Checkpoint.cfg) */
	/* config.json (parsed) -> cfg (zeroed); sizes it lacks left 0 */
	void (*read_config)(const char *path, const cJSON *root, void *cfg);
	/* optional: sizes the config omitted, from the file's tensor shapes; cross-checks */
	void (*derive)(const char *cpath, void *cfg, const ShapeOf *sh);
	/* the tensors cfg implies, in canonical order */
	void (*schema)(Schema *s, const void *cfg);
	/* a file's tensor name -> canonical name; returns 0 for a tensor that is
	 * tolerated and dropped (e.g. HF's unused pooler) */
	int (*canon)(const char *key, char *out, size_t cap);
	/* ck_quantize for this family: which matrices become Q4 / I8 in a mode */
	void (*quantize)(Checkpoint *ck, int full, float sparsity);
	void (*write_config)(FILE *f, const void *cfg);   /* config.json (jepac-mkmodel) */
	void (*summary)(FILE *f, const Checkpoint *ck);   /* jepac-quantize --check */
	const FamilyPreset *presets;                      /* NULL-name-ended */
	const FamilyTop *tops;                            /* NULL-name-ended; [0] the default */
} Family;

extern const Family *const families[];   /* NULL-ended */

/* The family whose keys root has (fatal if none). */
const Family *family_of_config(const char *path, const cJSON *root);
const Family *family_named(const char *name);   /* NULL if none */
/* Sets ck's family and a zeroed config struct for it. */
void ck_set_family(Checkpoint *ck, const Family *f);

/* quant.c: turns one float matrix into CK_Q4 / CK_I8 (wanda pruning first
 * when sparsity > 0); a no-op if it already has that kind. */
void quant_tensor(Checkpoint *ck, CkTensor *t, int kind, float sparsity);

#endif
