/*
 * tshare.h -- time-shared variable multipliers (--clocks-per-token=G;
 * docs/hardware.md, "Clocks per token"), the plan the Verilog writer
 * builds and the cost report counts.
 *
 * With G clocks per token every register of the design is written once
 * every G clocks (a clock enable), so a value is stable for G clocks and a
 * multiplier can compute G lanes one after the other.  The `mul` lanes of
 * one region module and one result width form a unit: N lanes (its nodes
 * in index order, each node's lanes in order) on M = ceil(N/G) multipliers;
 * lane i is computed in clock i / M of the G (Geff = ceil(N/M) of them are
 * used) on multiplier i % M, and held in a register until the token's last
 * clock -- except the lanes of clock G-1, which are used as they come out.
 * A lane that is computed so late can feed no other shared multiplier in
 * the same clocks: a `mul` that reads, through logic without a register,
 * another shared one (a "late" value) is not shared.
 */
#ifndef JEPAC_TSHARE_H
#define JEPAC_TSHARE_H

#include "ir.h"

typedef struct TUnit {
	uint32_t region;   /* string id of the nodes' region (the module) */
	unsigned R;        /* result width of its lanes */
	uint32_t n, M, geff;   /* lanes, multipliers, clocks used */
	uint32_t held;     /* lanes held in registers: those before clock G-1 */
	uint64_t mux_bits; /* its multiplexer bits (TShare.mux_bits) */
	unsigned w[2];     /* operand j's lanes as multiplexed: w[j] bits (<= R), */
	int sgn[2];        /* extended to R by sgn[j] after the multiplexer */
	uint32_t nodes;    /* its nodes: node[start .. start + nodes) */
	uint32_t start;
} TUnit;

typedef struct TShare {
	unsigned G;        /* clocks per token; 1 = nothing shared */
	uint32_t nunits;
	TUnit *u;
	Ref *node;         /* the units' nodes, unit after unit */
	uint32_t *unit;    /* per node: its unit + 1, 0 if not shared */
	uint32_t *first;   /* per shared node: its first lane in the unit */
	uint64_t lanes;    /* mul lanes shared */
	uint64_t mults;    /* multipliers that compute them */
	uint64_t hold_bits;    /* registers holding computed lanes */
	uint64_t mux_bits;     /* 2:1 multiplexer bits in front of the multipliers
	                        * (an upper bound: one per change of source) */
} TShare;

/* The plan of module m at G clocks per token (G = 1: empty).  Near-linear
 * in nodes and lanes; deterministic. */
void tshare_plan(const Module *m, unsigned G, TShare *t);
void tshare_free(TShare *t);

/* The operand lane that lane `lane` of a mul node reads from operand a
 * (a broadcast operand repeats its lanes). */
uint32_t tshare_src_lane(const Module *m, Ref a, uint32_t len, uint32_t lane);

#endif
