/*
 * lower.h -- private interface between the files of the fixed-point
 * lowering pass (lower.c: driver, formats, elementwise ops; lower_cal.c:
 * calibration; lower_linear.c: matvec; lower_nl.c: nonlinear functions,
 * LayerNorm, softmax, attention).
 *
 * Every lowered value is an LVal: an integer node holding signed codes of
 * `w` bits whose real value is code * 2^-F (F may be negative inside the
 * graph; ports clamp it to >= 0).  A real constant is kept unlowered
 * (cv != NULL) until a consumer decides the format it needs.
 * docs/fixed-point.md describes the method and the measured errors.
 */
#ifndef JEPAC_LOWER_H
#define JEPAC_LOWER_H

#include "passes.h"

#define LW_MAXW 62          /* widest intermediate we build (< 64: headroom) */
#define LW_TABLE_BITS 10    /* most index bits of an interpolated table */
#define LW_CBITS_MIN 12     /* bits of scales, constants, float weight codes ... */
#define LW_CBITS_MAX 20     /* ... act_bits - 4 within these bounds */

typedef struct LVal {
	Ref r;              /* integer node, or NOREF for a constant */
	int F;              /* binary point: real = code * 2^-F */
	int w;              /* signed width of r */
	uint32_t len;       /* lanes */
	const double *cv;   /* constant: len real values (owned by Lower) */
	uint32_t tok;       /* a stream constant: cv holds tok tokens of len values */
} LVal;

typedef struct LCache {
	char key[48];       /* what the tensor is, e.g. "ones.192" */
	uint32_t id;
} LCache;

typedef struct Lower {
	Module *m;
	const PassOpts *o;
	int W;              /* act_bits */
	int cbits;          /* significant bits of weight scales, real constant
	                       multipliers, and codes of requantised float weights */
	uint32_t n0;        /* nodes of the float graph */
	LVal *v;            /* per float node: its lowered value */
	double *amax;       /* per float node: max |value|, then its format bound */
	double *ss, *cnt;   /* per float node: sum of squares, lanes seen */
	double *lo, *hi;    /* per float node: min / max over calibration */
	double **cvals;     /* per node: values of a constant node, or NULL */
	uint32_t *uses;
	uint32_t ntens;     /* counter for names of new tensors */
	double scale_rel;   /* worst relative error of a quantised weight scale */
	double scale_big;   /* ... relative to its matrix's largest scale */
	uint64_t nscales;
	uint64_t fw_n;      /* float weights requantised, their error^2, w^2 */
	double fw_err2, fw_w2;
	LCache *cache;      /* shape-only tensors made so far */
	uint32_t ncache, capcache;
} Lower;

/* lower.c: building blocks */
Ref lw_op(Lower *L, int op, int ty, int w, uint32_t len, const Ref *a, uint32_t na,
          int64_t imm, uint32_t aux);
Ref lw_op1(Lower *L, int op, int w, uint32_t len, Ref x, int64_t imm);
Ref lw_op2(Lower *L, int op, int w, uint32_t len, Ref x, Ref y);
uint32_t lw_cached(const Lower *L, const char *key);    /* tensor id or NOREF */
uint32_t lw_cache(Lower *L, const char *key, uint32_t id); /* returns id */
uint32_t lw_itensor(Lower *L, const char *what, uint32_t rows, uint32_t cols,
                    const int64_t *codes);
int lw_bits(double bound);                  /* bits of an unsigned bound */
int lw_fmt(Lower *L, double amax);          /* binary point for max |v| in W bits */
LVal lw_val(Ref r, int F, int w, uint32_t len);
LVal lw_fit(Lower *L, LVal x, int maxw);    /* drop low bits to fit maxw */
LVal lw_requant(Lower *L, LVal x, int F, int w);
LVal lw_intconst(Lower *L, const double *c, uint32_t len, int F);
LVal lw_constval(Lower *L, LVal x, int F); /* a constant x (static or stream) at F */
LVal lw_materialize(Lower *L, LVal x, int F);
Ref lw_sconst(Lower *L, int w, int64_t v);  /* one-lane signed constant */
Ref lw_bcast(Lower *L, LVal x, uint32_t g); /* each lane repeated g times */
Ref lw_bcast_ref(Lower *L, Ref x, int ty, int w, uint32_t len, uint32_t g);
LVal lw_scale(Lower *L, LVal x, double c);  /* x * c, exact product */
int64_t lw_code(double c, int F);           /* round(c * 2^F), clamped */

/* lower_cal.c */
int lw_is_constant(const Lower *L, const uint8_t *isc, Ref r);
void lw_calibrate(Lower *L, const uint8_t *isc);

/* lower_linear.c */

int lw_mantissas(const double *c, size_t n, int bits, int64_t *m);
LVal lw_matvec(Lower *L, const Node *n, LVal x);

/* lower_nl.c: nonlinear ops; each returns a value the caller requantises */
LVal lw_gelu_silu(Lower *L, Ref r, LVal x);
LVal lw_exp(Lower *L, Ref r, LVal x);
LVal lw_rsqrt(Lower *L, LVal x);
LVal lw_recip(Lower *L, LVal x);
LVal lw_layernorm(Lower *L, LVal x, uint32_t g, double eps);
LVal lw_softmax(Lower *L, LVal x, uint32_t g, Ref mask, int Fp);
LVal lw_attn(Lower *L, LVal q, LVal k, LVal v, uint32_t H, uint32_t T, int causal);
LVal lw_sattn(Lower *L, LVal q, LVal k, LVal v, uint32_t H, uint32_t keys, int causal);

#endif
