/*
 * verilog.h -- internals shared by the Verilog backend's files:
 *   verilog.c      partition into region modules, ports, top, valid chain
 *   verilog_ops.c  one continuous assignment per node (exact wrap semantics),
 *                  or (--adder=ripple) one ripple-carry module instance per add
 *   verilog_stream.c  streams: token counter, sequencers, token ops
 *   verilog_share.c  time-shared multipliers (--clocks-per-token)
 *   verilog_tb.c   the streaming testbench (--testbench)
 *
 * Every node r is one bus `nR` of len*width bits, lane i in bits
 * [i*width +: width].  Expressions are printed straight to the output
 * file (the writer streams; nothing is built in memory).
 */
#ifndef JEPAC_VERILOG_H
#define JEPAC_VERILOG_H

#include "backends.h"
#include "timing.h"
#include "tshare.h"

/* Streams (verilog_stream.c): timelines, stages and control points. */
typedef struct VS {
	const char *file;
	uint32_t T;            /* tokens per window; 0 = no streams */
	unsigned B;            /* bits of a token index */
	uint32_t nph;          /* window phases; timelines nph + j: per-window ones */
	uint32_t nw;           /* per-window timelines: one per capture point */
	uint32_t *line;        /* per node: timeline, UINT32_MAX for constants */
	uint32_t *tpos_line;   /* per tpos: its users' timeline */
	uint32_t *stage;       /* per node: registers since its timeline's source */
	uint32_t *maxst;       /* per timeline: last stage with valid/token registers */
	uint32_t *wstage;      /* per phase q > 0: write stage of its buffers in phase q-1 */
	uint8_t *has_seq;      /* per phase: has window buffers (a sequencer) */
	uint32_t *pick_line, *pick_stage, *pick_tok;   /* per-window timeline j: its capture */
	Ref *tseq;             /* per phase q: the tseq that is its source, or NOREF */
	uint32_t *trig_line, *trig_stage;   /* per phase q with a tseq: the event that plays it */
	uint32_t out_line, out_stage;               /* the outputs' timeline and stage */
} VS;

typedef struct VW {
	const Module *m;
	FILE *f;
	const char *file;      /* input name, for errors */
	char *top;             /* top module name */
	uint32_t nreg;         /* dense regions; 0 = the top module */
	uint32_t *rix;         /* per node: dense region */
	char **mname;          /* per dense region: module name */
	uint8_t *exported;     /* per node: used by another module */
	Ref *byreg;            /* nodes grouped by region, node order within */
	uint32_t *rstart;      /* rstart[k] .. rstart[k+1]: region k in byreg */
	uint64_t *imp;         /* sorted unique (region << 32 | node) imports */
	size_t nimp;
	uint32_t latency;      /* from pipeline_analyze */
	PipeInfo pi;           /* its whole report */
	char **iname, **oname; /* per port (by order): sanitized bus names */
	int ripple;            /* --adder=ripple: adds are instances of rca */
	char *rca;             /* the ripple-carry module's name (unique) */
	VS st;                 /* streams */
	/* --digit (verilog_digit.c) */
	unsigned dD, dNW, dWW; /* bits per digit, digits per word, word bits */
	unsigned dcap;         /* --digit-word (0: the widest value) */
	uint32_t dlat;         /* clocks from an input word's first digit to the output's */
	uint32_t *dwin;        /* per node: the operand is read as nR_wS, S = dwin[r]
	                        * (UINT32_MAX: as nR); NULL when not digit-serial */
	Ref dcur;              /* the node being written (never renamed) */
	/* --clocks-per-token (verilog_share.c) */
	unsigned G;            /* clocks per token; 1: every register every clock */
	unsigned FB;           /* bits of the clock counter fc */
	TShare ts;             /* the shared multipliers */
	uint32_t *ustart;      /* per dense region: its units in bymod[ustart[k] ..] */
	uint32_t *bymod;
} VW;

/* Clock-enable fragments (G > 1): " if (ce)" after an always's edge, and
 * "ce && " before a write condition; empty strings when G = 1. */
#define VW_IFCE(w) ((w)->G > 1 ? " if (ce)" : "")
#define VW_CEAND(w) ((w)->G > 1 ? "ce && " : "")

/* A lane of a node (or a named temporary) as an operand.  With var set
 * the lane index depends on the generate variable gi:
 *   index = mod ? gi % mod + add : gi * mul + add. */
typedef struct VSrc {
	const char *name;      /* temporary's name; NULL: node ref */
	Ref ref;
	int var;
	uint32_t mul, mod, add;
	unsigned width;
	int sgn;
} VSrc;

/* verilog_ops.c */
/* Fast text for the hot paths (a 12 M node design writes ~1 GB): s, then
 * v in decimal, then t (either may be ""); the same text as fprintf's. */
void vw_su(FILE *f, const char *s, uint64_t v, const char *t);
void vw_ext(VW *w, const VSrc *s, unsigned lo, unsigned n, int sgn, unsigned R);
void vw_x(VW *w, const VSrc *s, unsigned R);
void vw_lit(VW *w, unsigned R, uint64_t v);
VSrc vw_src(const Module *m, Ref ref, uint32_t lane);
void vw_assign(VW *w, Ref r);          /* the node's assignment(s) */
void vw_lut_functions(VW *w, uint32_t k);   /* lut tables of region k */
int vw_uses_genvar(const Module *m, Ref r);
int vw_uses_rca(const VW *w, Ref r);
void vw_rca_module(VW *w);             /* the ripple-carry module */

/* verilog_stream.c */
void vs_init(VS *s, const Module *m, const char *file);
void vs_free(VS *s);
int vs_top_node(const Module *m, Ref r);   /* a token op: emitted in the top */
int vs_is_reg(const Module *m, Ref r);     /* declared as reg */
void vs_control(VW *w, const VS *s);       /* counters, sequencers, valid chains */
void vs_assign(VW *w, const VS *s, Ref r);

/* verilog_digit.c */
void vd_check(VW *w);                  /* rejects what --digit cannot write */
void vd_emit(VW *w);                   /* the whole digit-serial top */

/* verilog_share.c */
void vt_init(VW *w);                   /* units by module */
int vt_region_has_units(const VW *w, uint32_t k);
void vt_units(VW *w, uint32_t k);      /* the units of region k */
void vt_assign(VW *w, Ref r);          /* a shared mul node */

/* verilog_tb.c */
void vw_testbench(VW *w);

#endif
