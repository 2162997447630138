/*
 * backends.h -- what jepac emits: IR text (ir/print.c), Graphviz DOT,
 * a bit-exact C model, Verilog, and the JSON cost report.
 * Each backend is one file with one entry point.
 */
#ifndef JEPAC_BACKENDS_H
#define JEPAC_BACKENDS_H

#include "ir.h"

typedef struct EmitOpts {
	int c_main;      /* --c-main: the C model gets a main() */
	int raw;         /* --raw: ports as integer codes, not reals */
	int testbench;   /* --testbench: Verilog testbench too */
	int adder;       /* --adder: 0 infer (`+`/`-`), 1 ripple (ripple-carry
	                 * module instances, verilog_ops.c) */
	const char *input_name;  /* for reports */
	/* stats.c: weight census taken before the passes (CENSUS_K counts per
	 * region string id: weights, nonzero weights, weight uses, nonzero weight
	 * uses, nonzero applications per window), and the compile start time */
	uint64_t *census;
	uint32_t census_n;
	double t_start;
} EmitOpts;

#define CENSUS_K 5

void emit_dot(const Module *m, FILE *f, const EmitOpts *o);      /* dot.c */
void emit_c(const Module *m, FILE *f, const EmitOpts *o);        /* c.c */
void emit_verilog(const Module *m, FILE *f, const EmitOpts *o);  /* verilog.c */
void emit_stats(const Module *m, FILE *f, const EmitOpts *o);    /* stats.c */
void stats_census(const Module *m, EmitOpts *o);
uint64_t stats_nonzero_uses(const EmitOpts *o);   /* census total */
void stats_summary(const Module *m, const EmitOpts *o, FILE *f);

#endif
