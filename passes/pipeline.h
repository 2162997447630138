/*
 * pipeline.h -- the pipeline pass's delay model and its analysis, shared
 * with the Verilog backend (which needs the latency and checks balance).
 *
 * Delay model (docs/hardware.md): each node costs pipe_levels() "adder
 * levels" -- one level is one carry-propagate adder of the design's usual
 * width.  pipeline_analyze() walks a (possibly pipelined) module and
 * reports its latency, its registers and whether every node's operands come
 * from the same clock cycle.
 */
#ifndef JEPAC_PIPELINE_H
#define JEPAC_PIPELINE_H

#include "ir.h"

typedef struct PipeInfo {
	Ref bad;             /* NOREF, or the first node whose operands arrive in different cycles */
	uint32_t latency;    /* clock cycles from the input ports to the output ports */
	uint32_t regs;       /* register lanes (a reg node of L lanes is L registers) */
	uint64_t reg_bits;   /* their bits (width * lanes) */
	uint32_t max_levels; /* most adder levels on a path between registers or ports */
	uint32_t fa_path;    /* estimated critical path in full-adder bit levels (ripple model) */
} PipeInfo;

/* Adder levels of node r by the delay model (0 = wiring). */
unsigned pipe_levels(const Module *m, Ref r);
/* Moves the stages of an ASAP schedule (stage[] per node; inputs 0,
 * outputs at the latency; konst[] marks constant-class nodes) to cut the
 * delay chains' register bits, keeping the latency and every stage's adder
 * levels (pipeline_place.c).  Returns the register bits of the result and
 * sets *asap_bits to those of the ASAP schedule. */
uint64_t pipe_place(const Module *m, const Ref *order, int64_t n, const uint8_t *konst,
                    uint32_t *stage, uint64_t *asap_bits);
/* Rewrites every vector read only through disjoint `extract`s into one
 * piece per extract (elementwise ops, concat, sum, rmax), so the pieces
 * can be scheduled and delayed separately.  Returns the vectors split. */
uint32_t pipe_split_extracts(Module *m);
/* Gives each cheap node (add, sub, neg, shl, ext, trunc, slice) read from
 * other regions one copy per reading region (pipeline_rewrite.c), so
 * regions can be scheduled apart.  Returns the copies made. */
uint32_t pipe_unshare(Module *m);
/* Fills *pi.  Returns 0, or -1 on a feedback cycle. */
int pipeline_analyze(const Module *m, PipeInfo *pi);

#endif
