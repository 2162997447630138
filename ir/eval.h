/*
 * eval.h -- evaluation of one node: the semantics of every op, shared by
 * the interpreter (interp.c) and constant folding (passes/fold.c) so that a
 * folded constant is exactly what the interpreter would compute.
 *
 * A value is an array of Lanes: `.i` holds an integer lane as its value in
 * the node's type (a u64 lane >= 2^63 is stored with the same bits, i.e.
 * negative), `.f` a real lane.  eval_node() is the one place that knows
 * docs/ir.md's op table; kernels are tight loops per node, never a function
 * call per lane.
 */
#ifndef JEPAC_EVAL_H
#define JEPAC_EVAL_H

#include "ir.h"

typedef union Lane {
	int64_t i;
	double f;
} Lane;

typedef struct EvalCtx {
	const Module *m;
	double **treal;   /* per tensor: its real values, made on first use */
	uint32_t nt;      /* entries in treal */
	uint64_t sat;     /* lanes `sat` clamped so far */
	Lane **state;     /* per node: a wdelay's value of the previous window */
	uint32_t nstate;  /* entries in state */
} EvalCtx;

void eval_init(EvalCtx *c, const Module *m);
void eval_fini(EvalCtx *c);
/* Computes node r's lanes (len of them) into out; arg[k] is lane 0 of its
 * k-th value operand.  Not for input, output and reg (the caller's). */
void eval_node(EvalCtx *c, Ref r, const Lane *const *arg, Lane *out);

#endif
