/*
 * passes.h -- the pass interface, the registry and the -O pipelines.
 *
 * A pass is `int pass_NAME(Module *m, const PassOpts *o)`: it transforms m in
 * place and returns non-zero if anything changed.  Each pass file's header
 * comment states what it requires and what it preserves.  Passes leave the
 * module compacted (ir_compact) and valid for ir_verify.
 */
#ifndef JEPAC_PASSES_H
#define JEPAC_PASSES_H

#include "ir.h"

typedef struct PassOpts {
	int olevel;        /* 0, 1, 2, 3 (-O2 with cse solving bigger matrices whole) */
	int act_bits;      /* activation width for fixed-point lowering */
	int stage_depth;   /* adder levels per pipeline stage */
	int pipeline;      /* 0: --pipeline=none */
	uint64_t seed;     /* calibration / random choices: fixed for determinism */
	FILE *log;         /* --stats: passes report what they did here, or NULL */
	FILE *vlog;        /* --verbose: per-matrix detail (the solver log), or NULL */
	int max_adder_depth; /* cse: bound on each matrix's adder depth (0: none) */
} PassOpts;

typedef int (*PassFn)(Module *m, const PassOpts *o);

typedef struct PassInfo {
	const char *name;
	const char *help;
	PassFn fn;
} PassInfo;

#define PASS(id, name, help) int pass_##id(Module *m, const PassOpts *o);
#include "passes.def"
#undef PASS

const PassInfo *pass_find(const char *name);
const PassInfo *pass_at(int i);        /* NULL past the end */
/* The literal -O pipeline: NULL-terminated list of pass names. */
const char *const *pass_olist(int olevel);
void pass_print_help(FILE *f);

#endif
