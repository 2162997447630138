/*
 * build.h -- the helpers every model builder uses (build.c): checkpoint
 * tensors with shape checks, f64 nodes, Linear / LayerNorm / attention /
 * MLP layers in the parallel and the streaming form, position embeddings,
 * ports, regions; and build_module(), which runs a family's --top.
 */
#ifndef JEPAC_BUILD_H
#define JEPAC_BUILD_H

#include "family.h"

#define NAMELEN 256

typedef struct Builder {
	Module *m;
	const Checkpoint *ck;
	const void *cfg;     /* the family's config struct (ck->cfg) */
	int warned_bn;       /* a family's one-time warning was printed */
	int serial;          /* --tokens=serial: the module is a stream of tokens */
} Builder;

/* Builds the float IR of the top o->top (default: the family's first) of
 * ck.  Bad or inconsistent tensors: fatal(ck->path, ...).  Does not free
 * ck; the module does not point into it. */
Module *build_module(const Family *fam, Checkpoint *ck, const LoadOpts *o);

/* ---- regions, sizes ------------------------------------------------------- */
void region(Builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v as a size in 1..2^24, else fatal "config: WHAT is missing or invalid" */
uint32_t need_dim(Builder *b, long v, const char *what);
/* fatal when a value would need more than 2^31 lanes */
void check_lanes(Builder *b, uint64_t n, const char *what);

/* ---- checkpoint tensors ----------------------------------------------------- */
CkTensor *tfind(Builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
CkTensor *tneed(Builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint32_t ck_rows(const CkTensor *t);   /* a Conv weight [out][in][k..] is [out][in*k..] */
uint32_t ck_cols(const CkTensor *t);
void expect_matrix(Builder *b, const CkTensor *t, uint32_t rows, uint32_t cols);
void expect_vector(Builder *b, const CkTensor *t, size_t n);
uint32_t tensor_lookup(Builder *b, const char *name);   /* module tensor, or UINT32_MAX */
/* t copied into the module once: a [rows][cols] matrix, or a vector of its
 * first n values (n = 0: all) */
uint32_t tensor_copy(Builder *b, const CkTensor *t, int matrix, size_t n);

/* ---- nodes (all f64) ---------------------------------------------------------- */
Ref fop(Builder *b, int op, uint32_t len, const Ref *a, uint32_t na, int64_t imm, uint32_t aux);
uint32_t vlen(Builder *b, Ref r);
Ref binop(Builder *b, int op, Ref x, Ref y);   /* broadcasting */
Ref add(Builder *b, Ref x, Ref y);
Ref mul(Builder *b, Ref x, Ref y);
Ref unop(Builder *b, int op, Ref x);
Ref fconst(Builder *b, double v);
Ref vconst(Builder *b, uint32_t tid);
Ref extract(Builder *b, Ref x, uint32_t lo, uint32_t n);
Ref concat(Builder *b, const Ref *xs, uint32_t n);
/* concat over t < T of x[t*stride + off .. + n]: one field of every token */
Ref gather(Builder *b, Ref x, uint32_t T, uint32_t stride, uint32_t off, uint32_t n);
Ref transpose(Builder *b, Ref x, uint32_t R, uint32_t C);   /* [R][C] -> [C][R] */
Ref matvec(Builder *b, uint32_t tid, Ref x);
Ref layernorm(Builder *b, Ref x, uint32_t g, double eps);
Ref rsum(Builder *b, Ref x, uint32_t g);

/* ---- streams ---------------------------------------------------------------- */
/* a stream constant: token t gets row t of the [T][n] copy of t's values */
Ref tpos(Builder *b, const CkTensor *t, uint32_t T, uint32_t n);
/* the same from values the builder computed, as f64 tensor `name` */
Ref tpos_table(Builder *b, const char *name, const double *v, uint32_t T, uint32_t n);
/* a u1 stream, 1 at tokens lo <= t < hi (from int tensor `name`) */
Ref tflag(Builder *b, const char *name, uint32_t T, uint32_t lo, uint32_t hi);
/* makes b build a stream of T tokens when serial */
void stream(Builder *b, uint32_t T, int serial);
Ref port_in(Builder *b, const char *name, uint32_t len);   /* stream port when b->serial */
void port_out(Builder *b, const char *name, Ref x);

/* ---- layers ------------------------------------------------------------------ */
/* y = x W^T + b per token: W = PREFIX.weight [out][in] (any kind), PREFIX.bias optional */
Ref linear(Builder *b, Ref x, const char *prefix, uint32_t in, uint32_t out);
/* LayerNorm over groups of d lanes; affine with PREFIX.weight/.bias unless NULL */
Ref layernorm_affine(Builder *b, Ref x, uint32_t d, double eps, const char *prefix);
/* FC1 (d -> hidden), GELU, FC2 (hidden -> d), each its own region REG.fc1 ... */
Ref mlp(Builder *b, Ref x, const char *fc1, const char *fc2, uint32_t d, uint32_t hidden,
        const char *reg);
uint32_t ones_tensor(Builder *b, uint32_t dh);   /* [dh][1] all ones ("lewm.onesN") */
/* attention of ONE query q [H*dh] over T tokens of k, v [T][H][dh] */
Ref attn_one(Builder *b, Ref q, Ref k, Ref v, uint32_t T, uint32_t H);
/* Multi-head attention; q holds every token (-> T tokens) or one (-> one);
 * in a stream, q, k, v hold one token each (sattn / sattn.causal). */
Ref attention(Builder *b, Ref q, Ref k, Ref v, uint32_t T, uint32_t H, int causal);
/* A fused QKV projection's q, k, v (lanes [3][inner] per token) for every token */
void split_qkv(Builder *b, Ref qkv, uint32_t T, uint32_t inner, Ref *q, Ref *k, Ref *v);

#endif
