/*
 * backends.h -- what jepac emits: IR text (ir/print.c), Graphviz DOT,
 * a bit-exact C model, Verilog, and the JSON cost report.
 * Each backend has one entry point, registered in backends.def.
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
	unsigned digit;  /* --digit: bits per clock of digit-serial Verilog,
	                 * 0 = full (bit-parallel; verilog_digit.c) */
	unsigned digit_word;   /* --digit-word: widest value carried digit-serially
	                        * (0: the widest value of the design) */
	unsigned cpt;    /* --clocks-per-token: a token every cpt clocks, the
	                  * variable multipliers time-shared (backends/tshare.h);
	                  * 0 or 1 = every clock */
	const char *input_name;  /* for reports */
	/* stats.c: the weight census (ir/timing.h: census_take) taken before
	 * the passes, per region string id, and the compile start time */
	uint64_t *census;
	uint32_t census_n;
	double t_start;
} EmitOpts;

#define BACKEND(id, name, help) void emit_##id(const Module *m, FILE *f, const EmitOpts *o);
#include "backends.def"
#undef BACKEND

typedef void (*EmitFn)(const Module *m, FILE *f, const EmitOpts *o);

typedef struct BackendInfo {
	const char *name;
	const char *help;
	EmitFn fn;
} BackendInfo;

/* The registry (backends.c, from backends.def). */
const BackendInfo *backend_find(const char *name);   /* NULL if unknown */
const BackendInfo *backend_at(int i);                /* i-th, NULL past the end */
void backend_print_kinds(FILE *f, const char *sep);  /* "ir<sep>dot<sep>..." */
void backend_print_help(FILE *f);                    /* one line per backend */
void stats_census(const Module *m, EmitOpts *o);
void stats_summary(const Module *m, const EmitOpts *o, FILE *f);

#endif
