/*
 * timing.h -- jepac's one timing and cost analysis (timing.c), used by
 * passes, backends and the driver alike.
 *
 * Delay model (docs/hardware.md): each node costs pipe_levels() "adder
 * levels" -- one level is one carry-propagate adder of the design's usual
 * width.  pipeline_analyze() walks a (possibly pipelined) module and
 * reports its latency, its registers and whether every node's operands come
 * from the same clock cycle.
 */
#ifndef JEPAC_TIMING_H
#define JEPAC_TIMING_H

#include "ir.h"

typedef struct PipeInfo {
	Ref bad;             /* NOREF, or the first node whose operands arrive in different cycles */
	uint32_t latency;    /* clock cycles from the output ports' timeline source (an input port,
	                        or in a stream a tpos/tall/tdelay/tpick) to the output ports */
	uint32_t path_regs;  /* registers on the longest input-to-output path through every
	                        timeline: a stream's clocks from input to result, besides the
	                        sequencers' waits for a whole window (--stats "latency") */
	uint32_t regs;       /* register lanes (a reg node of L lanes is L registers) */
	uint64_t reg_bits;   /* their bits (width * lanes) */
	uint32_t max_levels; /* most adder levels on a path between registers or ports */
	uint32_t fa_path;    /* estimated critical path in full-adder bit levels (ripple model) */
} PipeInfo;

/* The smallest k with 2^k >= n (0 for n <= 1). */
unsigned ceil_log2(uint64_t n);
/* Non-zero digits of c in canonical signed-digit form. */
unsigned csd_digits(int64_t c);
/* Nodes that start a timeline of their own at cycle 0 (docs/hardware.md,
 * "Streams"): input ports, and in a stream the token ops whose value does
 * not come through the wiring of their operand in the same cycle -- tpos
 * (a row chosen by the token index), tall and tdelay (window buffers read
 * by the next phase's sequencer), tseq (per-window values played by the
 * next phase's sequencer) and tpick (a register per window). */
static inline int pipe_source(int op)
{
	return op == OP_INPUT || op == OP_TPOS || op == OP_TALL || op == OP_TDELAY ||
	       op == OP_TPICK || op == OP_TSEQ;
}
/* Adder levels of node r by the delay model (0 = wiring). */
unsigned pipe_levels(const Module *m, Ref r);
/* Marks in konst[] (one byte per node, indexed by ref) the constant-class
 * nodes: constants and nodes fed only by them; order[0..n) is a
 * topological order. */
void pipe_mark_konst(const Module *m, const Ref *order, int64_t n, uint8_t *konst);
/* Fills *pi.  Returns 0, or -1 on a feedback cycle. */
int pipeline_analyze(const Module *m, PipeInfo *pi);
/* pipeline_analyze, plus each node's adder levels since the last register
 * or source in levels[] (room for nnodes; 0 for wiring, constants and
 * sources).  With a register feedback loop (-1) *pi and levels[] are still
 * filled, each register on the loop starting from cycle 0 of its operand. */
int timing_analyze(const Module *m, PipeInfo *pi, uint32_t *levels);

/* Nonzero entries of a tensor (codes, or reals). */
uint64_t tensor_nonzero(const Tensor *t);
/* The weight census: CENSUS_K counters per region string id (m->nstrs of
 * them): weights, nonzero weights, weights x the vectors they are applied
 * to (uses), nonzero uses, nonzero uses per window (a stream's matrix is
 * applied to every token); over every live matvec / bmatvec.  Caller frees. */
#define CENSUS_K 5
uint64_t *census_take(const Module *m);
/* Nonzero weight uses summed over a census of n regions. */
uint64_t census_nonzero_uses(const uint64_t *census, uint32_t n);

#endif
