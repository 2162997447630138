/*
 * pipeline.h -- the pipeline pass's helpers (pipeline_place.c,
 * pipeline_rewrite.c).  The delay model and the analysis of a pipelined
 * module (pipe_levels, pipeline_analyze) are in ir/timing.h.
 */
#ifndef JEPAC_PIPELINE_H
#define JEPAC_PIPELINE_H

#include "timing.h"


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

#endif
