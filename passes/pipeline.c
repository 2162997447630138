/*
 * pipeline.c -- register placement for one input vector per clock.
 *
 * The design becomes a pipeline with initiation interval 1: a new input
 * vector may enter on every clock, and every node's operands come from the
 * same input vector (the same clock cycle).
 *
 * Delay model (pipe_levels, documented in docs/hardware.md): each node
 * costs a number of "adder levels"; one level is one carry-propagate
 * add/sub/neg.  Wiring (shifts, ext, trunc, slice, extract, concat, ports,
 * constants, reg) costs 0.  sat, compares, select and roundshr cost 1;
 * max/min 2; a variable mul 1 + ceil(log2(narrower operand width)) (a
 * carry-save tree and one final add); cmul ceil(log2(CSD digits)) (1 for a
 * negated power of two); lut ceil(W/4) for a W-bit index (a mux tree);
 * sum ceil(log2 g); rmax 2*ceil(log2 g); matvec/bmatvec 1 + ceil(log2
 * cols); vcmul 2.  A node costing more than the stage budget gets a stage
 * of its own.
 *
 * Algorithm.  ASAP scheduling in topological order: inputs are at stage 0,
 * level 0.  A node's stage is the latest stage s of its (non-constant)
 * operands and its level the deepest level among those operands at s plus
 * its own cost; if that exceeds PassOpts.stage_depth (and the node does not
 * already start its stage), it moves to stage s+1 with level = its cost.
 * Outputs all sit at the final stage S = latency.  Then every edge whose
 * producer stage is below its consumer's gets consumer - producer
 * registers, taken from one delay chain per producer (reg of reg of ...),
 * so consumers needing the same delay share registers.  Constants and
 * nodes computed only from constants are available in every cycle and
 * never get registers.  Between ASAP and the chains, pipe_place()
 * (pipeline_place.c) moves stages to cut register bits with the same
 * latency and levels; before ASAP, pipeline_rewrite.c splits vectors at
 * their extracts and copies cheap sub-sums shared between regions.  A
 * widening wiring op (shl, ext) is never delayed: its narrower operand is,
 * and a copy of the op re-derives the value at the consumer.
 *
 * pipeline_analyze() re-derives the schedule from the registers alone: the
 * cycle of a node is the number of registers between it and the inputs;
 * it reports latency, registers, register bits, the deepest level count
 * between registers, and the first node (if any) whose operands arrive in
 * different cycles.  The Verilog backend uses it for its valid shift
 * register and rejects unbalanced designs.
 *
 * Requires: a valid integer or real module.  A module that already has
 * registers is left unchanged.  Preserves: semantics (reg is transparent
 * to the interpreter), port order.  --pipeline=none: does nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "pipeline.h"
#include "timing.h"

/* ---- the pass ---------------------------------------------------------- */

typedef struct Sched {
	uint32_t *stage;   /* per node */
	uint32_t *lev;     /* per node: adder levels into its stage */
	uint8_t *konst;    /* per node: constant class */
	uint32_t last;     /* final stage (latency) */
	uint32_t over;     /* nodes whose own cost exceeds the budget */
} Sched;

static void schedule_node(const Module *m, Ref r, unsigned depth, Sched *s)
{
	const Node *n = ir_get(m, r);
	uint32_t st = 0, l = 0;
	for (uint32_t j = 0; j < n->nargs; j++) {
		Ref p = ir_arg(m, n, j);
		if (s->konst[p])
			continue;
		if (s->stage[p] > st) {
			st = s->stage[p];
			l = 0;
		}
		if (s->stage[p] == st && s->lev[p] > l)
			l = s->lev[p];
	}
	unsigned d = pipe_levels(m, r);
	if (d > depth)
		s->over++;
	if (l > 0 && l + d > depth) {
		st++;
		l = d;
	} else {
		l += d;
	}
	s->stage[r] = st;
	s->lev[r] = l;
}

static void schedule(const Module *m, const Ref *order, int64_t n, unsigned depth, Sched *s)
{
	pipe_mark_konst(m, order, n, s->konst);
	for (int64_t i = 0; i < n; i++) {
		Ref r = order[i];
		const Node *nd = ir_get(m, r);
		if (s->konst[r] || pipe_source(nd->op) || nd->op == OP_OUTPUT)
			continue;
		schedule_node(m, r, depth, s);
	}
	s->last = 0;
	for (int64_t i = 0; i < n; i++) {
		const Node *nd = ir_get(m, order[i]);
		Ref p = nd->op == OP_OUTPUT ? ir_arg(m, nd, 0) : NOREF;
		if (p != NOREF && !s->konst[p] && s->stage[p] > s->last)
			s->last = s->stage[p];
	}
	for (int64_t i = 0; i < n; i++)
		if (ir_get(m, order[i])->op == OP_OUTPUT)
			s->stage[order[i]] = s->last;
}

/* A widening wiring op (shl, ext) is not delayed: its narrower operand is,
 * and a copy of the op re-derives the value where it is read.  Returns that
 * operand, or NOREF. */
static Ref rederive_from(const Module *m, const Sched *s, Ref p)
{
	const Node *n = ir_get(m, p);
	if ((n->op != OP_SHL && n->op != OP_EXT) || s->konst[ir_arg(m, n, 0)])
		return NOREF;
	const Node *a = ir_get(m, ir_arg(m, n, 0));
	return (uint64_t)a->width * a->len < (uint64_t)n->width * n->len ? ir_arg(m, n, 0) : NOREF;
}

/* need[p] = the longest delay any consumer wants from producer p. */
static uint32_t *delays_needed(const Module *m, uint32_t nold, const Sched *s, Ref *src)
{
	uint32_t *need = xcalloc(nold ? nold : 1, sizeof *need);
	for (Ref r = 0; r < nold; r++)
		src[r] = (ir_get(m, r)->flags & NF_DEAD) || s->konst[r] ? NOREF : rederive_from(m, s, r);
	for (Ref r = 0; r < nold; r++) {
		const Node *n = ir_get(m, r);
		if ((n->flags & NF_DEAD) || s->konst[r])
			continue;
		for (uint32_t j = 0; j < n->nargs; j++) {
			Ref p = ir_arg(m, n, j);
			if (s->konst[p] || s->stage[r] <= s->stage[p])
				continue;
			if (src[p] != NOREF)
				p = src[p];
			if (s->stage[r] - s->stage[p] > need[p])
				need[p] = s->stage[r] - s->stage[p];
		}
	}
	return need;
}

/* Builds the delay chains; chain[base[p] + k - 1] delays p by k cycles.
 * Returns the number of registers made; *bits gets their bits. */
static uint32_t build_chains(Module *m, uint32_t nold, const uint32_t *need,
                             size_t *base, Ref *chain, uint64_t *bits)
{
	uint32_t saved = m->cur_region, made = 0;
	size_t pos = 0;
	for (Ref p = 0; p < nold; p++) {
		base[p] = pos;
		Ref prev = p;
		for (uint32_t k = 0; k < need[p]; k++) {
			Node src = *ir_get(m, p);
			m->cur_region = src.region;
			prev = ir_node(m, OP_REG, src.ty, src.width, src.len, &prev, 1, 0, 0);
			chain[pos++] = prev;
			*bits += (uint64_t)src.width * src.len;
			made++;
		}
	}
	m->cur_region = saved;
	return made;
}

static void rewire(Module *m, uint32_t nold, const Sched *s, const size_t *base, const Ref *chain,
                   const Ref *src)
{
	for (Ref r = 0; r < nold; r++) {
		const Node *n = ir_get(m, r);
		if ((n->flags & NF_DEAD) || s->konst[r])
			continue;
		for (uint32_t j = 0; j < n->nargs; j++) {
			Ref p = ir_arg(m, n, j);
			if (s->konst[p] || s->stage[r] <= s->stage[p])
				continue;
			Ref a = src[p];
			if (a == NOREF) {
				m->argv[n->args + j] = chain[base[p] + (s->stage[r] - s->stage[p]) - 1];
				continue;
			}
			Node pn = *ir_get(m, p);
			Ref d = chain[base[a] + (s->stage[r] - s->stage[a]) - 1];
			uint32_t saved = m->cur_region;
			m->cur_region = pn.region;
			Ref q = ir_node(m, pn.op, pn.ty, pn.width, pn.len, &d, 1, pn.imm, pn.aux);
			m->cur_region = saved;
			m->argv[ir_get(m, r)->args + j] = q;
			n = ir_get(m, r);
		}
	}
}

static int has_regs(const Module *m)
{
	for (Ref r = 0; r < m->nnodes; r++)
		if (ir_get(m, r)->op == OP_REG && !(ir_get(m, r)->flags & NF_DEAD))
			return 1;
	return 0;
}

static void report(const Module *m, const PassOpts *o, uint32_t over)
{
	PipeInfo pi;
	if (!o->log || pipeline_analyze(m, &pi) != 0)
		return;
	fprintf(o->log, "pipeline: latency %u cycles, %u registers, %llu register bits, "
	        "stage depth %d, at most %u adder levels per stage (~%u full-adder bit levels)\n",
	        pi.path_regs, pi.regs, (unsigned long long)pi.reg_bits, o->stage_depth,
	        pi.max_levels, pi.fa_path);
	if (over)
		fprintf(o->log, "pipeline: %u nodes exceed the stage depth on their own\n", over);
}

int pass_pipeline(Module *m, const PassOpts *o)
{
	if (!o->pipeline)
		return 0;
	if (has_regs(m)) {
		if (o->log)
			fprintf(o->log, "pipeline: the design already has registers; left unchanged\n");
		return 0;
	}
	uint32_t split = pipe_split_extracts(m) + pipe_unshare(m);
	uint32_t nold = m->nnodes, nn = nold ? nold : 1;
	Ref *order = xmalloc(nn * sizeof *order);
	int64_t n = ir_topo(m, order);
	/* The work below walks nodes by index: when operands do not come first
	 * (a module written users-first or shuffled), renumber first (linear),
	 * or every sweep jumps at random through memory. */
	if (n >= 0 && !ir_in_order(m)) {
		ir_compact(m);
		nold = m->nnodes;
		n = ir_topo(m, order);
	}
	if (n < 0)
		die("combinational cycle in a register-free module");
	Sched s = {xcalloc(nn, sizeof *s.stage), xcalloc(nn, sizeof *s.lev), xcalloc(nn, 1), 0, 0};
	schedule(m, order, n, o->stage_depth > 0 ? (unsigned)o->stage_depth : 4, &s);
	uint64_t asap_bits = 0, placed = 0;
	placed = pipe_place(m, order, n, s.konst, s.stage, &asap_bits);
	if (o->log && placed < asap_bits)
		fprintf(o->log, "pipeline: placement: %llu register bits (ASAP schedule: %llu)\n",
		        (unsigned long long)placed, (unsigned long long)asap_bits);
	Ref *src = xmalloc(nn * sizeof *src);
	uint32_t *need = delays_needed(m, nold, &s, src);
	size_t total = 0;
	for (Ref p = 0; p < nold; p++)
		total += need[p];
	size_t *base = xmalloc(nn * sizeof *base);
	Ref *chain = xmalloc((total + 1) * sizeof *chain);
	uint64_t bits = 0;
	uint32_t made = build_chains(m, nold, need, base, chain, &bits);
	rewire(m, nold, &s, base, chain, src);
	if (made)
		ir_compact(m);
	/* Registers moved past a free op (shl, ext) leave the op's old copy
	 * unused: drop it, so that -O1 output is a fixed point of -O1. */
	if (made || split)
		pass_dce(m, NULL);
	report(m, o, s.over);
	free(order);
	free(s.stage);
	free(s.lev);
	free(s.konst);
	free(need);
	free(src);
	free(base);
	free(chain);
	return made != 0 || split != 0;
}
