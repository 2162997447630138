/*
 * verilog_stream.c -- streams in the Verilog backend (docs/hardware.md,
 * "Streams"): the token counter, the window-phase sequencers, the valid and
 * token-index shift registers, and the token ops (tpos, tbuf, tall, tdelay,
 * tpick), all in the top module.
 *
 * Timelines.  Every non-constant node lives on one timeline: window phase
 * p (a stream, one token per clock at most) or a per-window timeline Wj,
 * one per capture point (phase, stage, token) of its tpicks.  Its stage is
 * the number of registers between it and its timeline's source: the input
 * ports (phase 0), the window buffers of a later phase (tall, tdelay), the
 * per-window values a tseq plays as a later phase's tokens, or the capture
 * registers (tpick).  Timeline p carries a valid bit and a token index
 * through stage registers vP_K / tP_K; Wj carries vW_K (j = 0) or vWj_K.
 *
 *  - phase 0: in_valid marks a token; the token index counts valid tokens
 *    0 .. T-1 and wraps (rst clears it): a window is T valid tokens, with
 *    any gaps between tokens and between windows.
 *  - phase q > 0: its buffers (tall, tdelay) are written at one common
 *    stage S of phase q-1 (operands written earlier are delayed to S) into
 *    one of two banks; when the token T-1 of a window is written, the
 *    sequencer of phase q plays the bank back, one token per clock for T
 *    clocks, while the next window fills the other bank.
 *  - a phase whose source is a tseq: when its per-window operands are
 *    valid (their timeline's event at their stage) they are latched and the
 *    sequencer plays T tokens, one per clock: token t is operand t (0 past
 *    the last).  A window takes at least T clocks, so one latch suffices.
 *  - Wj: the tpicks of one capture point capture their token; vWj_0 is high
 *    in the clock after the capture.  Values of two capture points never
 *    meet in one node (they would belong to different windows).  A wdelay
 *    is a register written at its operand's event: until then it holds the
 *    window before (0 after reset).
 * out_valid is the valid bit of the outputs' timeline at their stage.
 */
#include <stdlib.h>
#include <string.h>

#include "verilog.h"

/* Bits of a token index (at least 1). */
static unsigned tok_bits(uint32_t T)
{
	unsigned b = ceil_log2(T);
	return b ? b : 1;
}

static int is_token_op(int op)
{
	return (op_info[op].flags & OPF_TOKEN) != 0;
}

int vs_top_node(const Module *m, Ref r)
{
	return m->tokens && is_token_op(ir_get(m, r)->op);
}

/* ---- timelines ------------------------------------------------------------ */

#define fail(s, ...) fatal((s)->file, __VA_ARGS__)

/* Timeline of every stream node: its phase (per-window nodes: wlines());
 * UINT32_MAX for constants. */
static void timelines(VS *s, const Module *m, const uint8_t *konst)
{
	uint32_t *ph = xmalloc((m->nnodes + 1) * sizeof *ph);
	ir_phases(m, ph);
	s->nph = 1;
	for (Ref r = 0; r < m->nnodes; r++)
		if (!(ir_get(m, r)->flags & NF_DEAD) && ph[r] + 1 > s->nph)
			s->nph = ph[r] + 1;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		s->line[r] = UINT32_MAX;
		if ((n->flags & NF_DEAD) || konst[r])
			continue;
		if (n->op == OP_INPUT && !ir_is_stream(n))
			fail(s, "input %%%u is not a stream: a streaming design takes every input "
			     "one token per clock", r);
		s->line[r] = ph[r];
	}
	/* a tpos runs on the timeline of its users */
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (n->flags & NF_DEAD)
			continue;
		for (uint32_t j = 0; j < n->nargs; j++) {
			Ref a = ir_arg(m, n, j);
			if (ir_get(m, a)->op != OP_TPOS)
				continue;
			uint32_t l = n->op == OP_OUTPUT ? s->line[a] : s->line[r];
			if (s->tpos_line[a] != UINT32_MAX && s->tpos_line[a] != l)
				fail(s, "tpos %%%u is read in two window phases", a);
			s->tpos_line[a] = l;
		}
	}
	for (Ref r = 0; r < m->nnodes; r++)
		if (ir_get(m, r)->op == OP_TPOS && s->tpos_line[r] != UINT32_MAX)
			s->line[r] = s->tpos_line[r];
	free(ph);
}

#define VS_MAXW 64   /* per-window capture points of a design */

/* The per-window timelines: a tpick's is its capture point's; any other
 * per-window node's is its operands' (one). */
static void wlines(VS *s, const Module *m, const Ref *order, int64_t n)
{
	s->pick_line = xmalloc(VS_MAXW * sizeof *s->pick_line);
	s->pick_stage = xmalloc(VS_MAXW * sizeof *s->pick_stage);
	s->pick_tok = xmalloc(VS_MAXW * sizeof *s->pick_tok);
	for (int64_t i = 0; i < n; i++) {
		Ref r = order[i];
		const Node *nd = ir_get(m, r);
		if (!(nd->flags & NF_WIN) || s->line[r] == UINT32_MAX)
			continue;
		if (nd->op == OP_TPICK) {
			Ref a = ir_arg(m, nd, 0);
			uint32_t j = 0;
			while (j < s->nw && (s->pick_line[j] != s->line[a] || s->pick_stage[j] != s->stage[a] ||
			                     s->pick_tok[j] != (uint32_t)nd->imm))
				j++;
			if (j == s->nw) {
				if (j == VS_MAXW)
					fail(s, "tpick %%%u: more than %u per-window capture points", r, VS_MAXW);
				s->pick_line[j] = s->line[a], s->pick_stage[j] = s->stage[a];
				s->pick_tok[j] = (uint32_t)nd->imm;
				s->nw++;
			}
			s->line[r] = s->nph + j;
			continue;
		}
		uint32_t l = UINT32_MAX;
		for (uint32_t k = 0; k < nd->nargs; k++) {
			uint32_t la = s->line[ir_arg(m, nd, k)];
			if (la == UINT32_MAX)
				continue;
			if (l != UINT32_MAX && la != l)
				fail(s, "%%%u joins per-window values of two capture points (two windows)", r);
			l = la;
		}
		s->line[r] = l;
	}
}

/* Stage of every node: registers since its timeline's source. */
static void stages(VS *s, const Module *m, const Ref *order, int64_t n, const uint8_t *konst)
{
	for (int64_t i = 0; i < n; i++) {
		Ref r = order[i];
		const Node *nd = ir_get(m, r);
		s->stage[r] = 0;
		if (konst[r] || pipe_source(nd->op))
			continue;
		uint32_t c = 0;
		for (uint32_t j = 0; j < nd->nargs; j++) {
			Ref a = ir_arg(m, nd, j);
			if (!konst[a] && s->stage[a] > c)
				c = s->stage[a];
		}
		s->stage[r] = c + (nd->op == OP_REG);
	}
}

static void need_stage(VS *s, uint32_t line, uint32_t k)
{
	if (k > s->maxst[line])
		s->maxst[line] = k;
}

/* A tseq: the source of its phase, played when its operands are valid. */
static void tseq_point(VS *s, const Module *m, Ref r)
{
	const Node *n = ir_get(m, r);
	uint32_t q = s->line[r], l = UINT32_MAX, k = 0;
	if (s->has_seq[q] || s->tseq[q] != NOREF)
		fail(s, "tseq %%%u: window phase %u has another source", r, q);
	for (uint32_t i = 0; i < n->nargs; i++) {
		Ref a = ir_arg(m, n, i);
		if (s->line[a] == UINT32_MAX)
			continue;
		if (l != UINT32_MAX && (s->line[a] != l || s->stage[a] != k))
			fail(s, "tseq %%%u: operands from two capture points or stages", r);
		l = s->line[a], k = s->stage[a];
	}
	if (l == UINT32_MAX)
		fail(s, "tseq %%%u: no per-window operand to start it", r);
	s->tseq[q] = r, s->trig_line[q] = l, s->trig_stage[q] = k;
	need_stage(s, l, k);
}

/* Write stages of the phases' buffers, the capture points, the outputs'
 * timeline; the stages each timeline's shift registers reach. */
static void points(VS *s, const Module *m)
{
	for (uint32_t j = 0; j < s->nw; j++)
		need_stage(s, s->pick_line[j], s->pick_stage[j]);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if ((n->flags & NF_DEAD) || !is_token_op(n->op) || n->op == OP_TPOS || n->op == OP_TSEQ)
			continue;
		Ref a = ir_arg(m, n, 0);
		uint32_t la = s->line[a], k = s->stage[a];
		if (la == UINT32_MAX)
			fail(s, "%s %%%u of a constant", op_info[n->op].name, r);
		need_stage(s, la, k);
		if (n->op == OP_TALL || n->op == OP_TDELAY) {
			uint32_t q = s->line[r];
			s->wstage[q] = k > s->wstage[q] ? k : s->wstage[q];
			s->has_seq[q] = 1;
		}
	}
	for (Ref r = 0; r < m->nnodes; r++)
		if (!(ir_get(m, r)->flags & NF_DEAD) && ir_get(m, r)->op == OP_TSEQ)
			tseq_point(s, m, r);
	for (uint32_t q = 1; q < s->nph; q++)
		if (s->has_seq[q])
			need_stage(s, q - 1, s->wstage[q]);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if ((n->flags & NF_DEAD) || n->op != OP_OUTPUT || s->line[ir_arg(m, n, 0)] == UINT32_MAX)
			continue;
		Ref a = ir_arg(m, n, 0);
		if (s->out_line != UINT32_MAX && (s->out_line != s->line[a] || s->out_stage != s->stage[a]))
			fail(s, "output %%%u is on another timeline or cycle than an earlier output", a);
		s->out_line = s->line[a], s->out_stage = s->stage[a];
		need_stage(s, s->out_line, s->out_stage);
	}
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (!(n->flags & NF_DEAD) && s->line[r] != UINT32_MAX &&
		    (n->op == OP_TBUF || n->op == OP_TPOS))
			need_stage(s, s->line[r], s->stage[r]);
	}
}

void vs_init(VS *s, const Module *m, const char *file)
{
	memset(s, 0, sizeof *s);
	s->file = file;
	if (!m->tokens)
		return;
	uint32_t nn = m->nnodes + 1;
	s->T = m->tokens;
	s->B = tok_bits(m->tokens);
	s->line = xmalloc(nn * sizeof *s->line);
	s->tpos_line = xmalloc(nn * sizeof *s->tpos_line);
	memset(s->tpos_line, 0xff, nn * sizeof *s->tpos_line);
	s->stage = xcalloc(nn, sizeof *s->stage);
	Ref *order = xmalloc(nn * sizeof *order);
	int64_t n = ir_topo(m, order);
	uint8_t *konst = xcalloc(nn, 1);
	for (int64_t i = 0; i < n; i++) {
		const Node *nd = ir_get(m, order[i]);
		int k = nd->op == OP_CONST || nd->op == OP_VCONST;
		if (!k && nd->nargs && nd->op != OP_OUTPUT) {
			k = 1;
			for (uint32_t j = 0; j < nd->nargs; j++)
				k &= konst[ir_arg(m, nd, j)];
		}
		konst[order[i]] = (uint8_t)k;
	}
	timelines(s, m, konst);
	stages(s, m, order, n, konst);
	wlines(s, m, order, n);
	uint32_t nl = s->nph + s->nw + 1;
	s->maxst = xcalloc(nl, sizeof *s->maxst);
	s->wstage = xcalloc(nl, sizeof *s->wstage);
	s->has_seq = xcalloc(nl, 1);
	s->tseq = xmalloc(nl * sizeof *s->tseq);
	for (uint32_t q = 0; q < nl; q++)
		s->tseq[q] = NOREF;
	s->trig_line = xcalloc(nl, sizeof *s->trig_line);
	s->trig_stage = xcalloc(nl, sizeof *s->trig_stage);
	s->out_line = UINT32_MAX;
	points(s, m);
	free(order);
	free(konst);
}

void vs_free(VS *s)
{
	free(s->line);
	free(s->tpos_line);
	free(s->stage);
	free(s->maxst);
	free(s->wstage);
	free(s->has_seq);
	free(s->pick_line);
	free(s->pick_stage);
	free(s->pick_tok);
	free(s->tseq);
	free(s->trig_line);
	free(s->trig_stage);
}

/* ---- control -------------------------------------------------------------- */

/* The name of timeline l's valid / token index at stage k. */
static void vname(const VS *s, char *b, size_t n, uint32_t l, uint32_t k)
{
	if (l == s->nph)
		snprintf(b, n, "vW_%u", k);
	else if (l > s->nph)
		snprintf(b, n, "vW%u_%u", l - s->nph, k);
	else
		snprintf(b, n, "v%u_%u", l, k);
}

static void shift_regs(VW *w, const VS *s, uint32_t l)
{
	FILE *f = w->f;
	char v[32], v1[32];
	for (uint32_t k = 1; k <= s->maxst[l]; k++) {
		vname(s, v, sizeof v, l, k);
		vname(s, v1, sizeof v1, l, k - 1);
		fprintf(f, "\treg %s;\n", v);
		if (w->G > 1)
			fprintf(f, "\talways @(posedge clk) if (rst) %s <= 1'b0; else if (ce) %s <= %s;\n",
			        v, v, v1);
		else
			fprintf(f, "\talways @(posedge clk) %s <= rst ? 1'b0 : %s;\n", v, v1);
		if (l < s->nph) {
			fprintf(f, "\treg [%u:0] t%u_%u;\n", s->B - 1, l, k);
			fprintf(f, "\talways @(posedge clk)%s t%u_%u <= t%u_%u;\n", VW_IFCE(w), l, k, l, k - 1);
		}
	}
}

/* Phase q's sequencer: plays the bank written last, T tokens, one per clock. */
static void sequencer(VW *w, const VS *s, uint32_t q)
{
	FILE *f = w->f;
	uint32_t S = s->wstage[q];
	fprintf(f, "\t// phase %u: window buffers written at stage %u of phase %u\n", q, S, q - 1);
	fprintf(f, "\twire last%u = v%u_%u && t%u_%u == %u'd%u;\n", q, q - 1, S, q - 1, S, s->B, s->T - 1);
	fprintf(f, "\treg wsel%u, rsel%u, v%u_0;\n\treg [%u:0] t%u_0;\n", q, q, q, s->B - 1, q);
	fprintf(f, "\talways @(posedge clk)\n\t\tif (rst) begin\n"
	        "\t\t\twsel%u <= 1'b0; rsel%u <= 1'b0; v%u_0 <= 1'b0; t%u_0 <= %u'd0;\n"
	        "\t\tend else%s begin\n", q, q, q, q, s->B, VW_IFCE(w));
	fprintf(f, "\t\t\tif (last%u) wsel%u <= ~wsel%u;\n", q, q, q);
	fprintf(f, "\t\t\tif (v%u_0 && t%u_0 == %u'd%u) rsel%u <= ~rsel%u;\n", q, q, s->B, s->T - 1, q, q);
	fprintf(f, "\t\t\tif (last%u) begin v%u_0 <= 1'b1; t%u_0 <= %u'd0; end\n", q, q, q, s->B);
	fprintf(f, "\t\t\telse if (v%u_0) begin v%u_0 <= t%u_0 != %u'd%u; t%u_0 <= t%u_0 + %u'd1; end\n",
	        q, q, q, s->B, s->T - 1, q, q, s->B);
	fputs("\t\tend\n", f);
}

/* Phase q played from a tseq's latch: T tokens from the event of its operands. */
static void tseq_sequencer(VW *w, const VS *s, uint32_t q)
{
	FILE *f = w->f;
	char v[32];
	vname(s, v, sizeof v, s->trig_line[q], s->trig_stage[q]);
	fprintf(f, "\t// phase %u: played from tseq %%%u when %s\n", q, s->tseq[q], v);
	fprintf(f, "\twire start%u = %s;\n\treg v%u_0;\n\treg [%u:0] t%u_0;\n", q, v, q, s->B - 1, q);
	fprintf(f, "\talways @(posedge clk)\n\t\tif (rst) begin\n\t\t\tv%u_0 <= 1'b0; t%u_0 <= %u'd0;\n"
	        "\t\tend else%s if (start%u) begin\n\t\t\tv%u_0 <= 1'b1; t%u_0 <= %u'd0;\n"
	        "\t\tend else if (v%u_0) begin\n\t\t\tv%u_0 <= t%u_0 != %u'd%u; t%u_0 <= t%u_0 + %u'd1;\n"
	        "\t\tend\n", q, q, s->B, VW_IFCE(w), q, q, q, s->B, q, q, q, s->B, s->T - 1, q, q, s->B);
}

void vs_control(VW *w, const VS *s)
{
	FILE *f = w->f;
	fprintf(f, "\t// streams: %u tokens per window (docs/hardware.md, \"Streams\")\n", s->T);
	const char *in = w->G > 1 ? "ce && v0_0" : "in_valid";
	fprintf(f, "\twire v0_0 = %s;\n\treg [%u:0] t0_0;\n", w->G > 1 ? "vin" : "in_valid", s->B - 1);
	fprintf(f, "\talways @(posedge clk)\n\t\tif (rst || (%s && t0_0 == %u'd%u))\n"
	        "\t\t\tt0_0 <= %u'd0;\n\t\telse if (%s)\n\t\t\tt0_0 <= t0_0 + %u'd1;\n",
	        in, s->B, s->T - 1, s->B, in, s->B);
	for (uint32_t q = 1; q < s->nph; q++) {
		if (s->has_seq[q]) {
			sequencer(w, s, q);
		} else if (s->tseq[q] != NOREF) {
			tseq_sequencer(w, s, q);
		} else {
			fprintf(f, "\twire v%u_0 = 1'b0;\n\twire [%u:0] t%u_0 = %u'd0;\n", q, s->B - 1, q, s->B);
		}
	}
	for (uint32_t j = 0; j < s->nw; j++) {
		char v[32];
		vname(s, v, sizeof v, s->nph + j, 0);
		if (w->G > 1)
			fprintf(f, "\treg %s;\n\talways @(posedge clk) if (rst) %s <= 1'b0; else if (ce) %s <= "
			        "v%u_%u && t%u_%u == %u'd%u;\n", v, v, v, s->pick_line[j], s->pick_stage[j],
			        s->pick_line[j], s->pick_stage[j], s->B, s->pick_tok[j]);
		else
			fprintf(f, "\treg %s;\n\talways @(posedge clk) %s <= rst ? 1'b0 : "
			        "v%u_%u && t%u_%u == %u'd%u;\n", v, v, s->pick_line[j], s->pick_stage[j],
			        s->pick_line[j], s->pick_stage[j], s->B, s->pick_tok[j]);
	}
	if (!s->nw)
		fputs("\twire vW_0 = 1'b0;\n", f);
	for (uint32_t l = 0; l < s->nph + (s->nw ? s->nw : 1); l++)
		shift_regs(w, s, l);
	char v[32];
	if (s->out_line == UINT32_MAX)
		snprintf(v, sizeof v, "v0_0");
	else
		vname(s, v, sizeof v, s->out_line, s->out_stage);
	fprintf(f, "\tassign out_valid = %s%s;\n", VW_CEAND(w), v);
}

/* ---- token ops ------------------------------------------------------------ */

static uint64_t bits_of(const Node *n)
{
	return (uint64_t)n->len * n->width;
}

int vs_is_reg(const Module *m, Ref r)
{
	int op = ir_get(m, r)->op;
	return op == OP_TPOS || op == OP_TPICK || op == OP_WDELAY;
}

static void emit_tpos(VW *w, const VS *s, Ref r)
{
	const Node *n = ir_get(w->m, r);
	const Tensor *t = ir_tget(w->m, n->aux);
	uint32_t l = s->line[r] == UINT32_MAX ? 0 : s->line[r];
	fprintf(w->f, "\talways @(*)\n\t\tcase (t%u_%u)\n", l, s->stage[r]);
	for (uint32_t k = 0; k < t->dims[0]; k++) {   /* later rows: the default, 0 */
		fprintf(w->f, "\t\t%u'd%u: n%u = {", s->B, k, r);
		for (uint32_t i = n->len; i-- > 0;) {
			vw_lit(w, n->width, (uint64_t)(int64_t)t->codes[(size_t)k * n->len + i]);
			fputs(i ? ", " : "", w->f);
		}
		fputs("};\n", w->f);
	}
	fprintf(w->f, "\t\tdefault: n%u = %llu'h0;\n\t\tendcase\n", r, (unsigned long long)bits_of(n));
}

/* tbuf: tokens before t from the buffer, token t itself, zeros after. */
static void emit_tbuf(VW *w, const VS *s, Ref r)
{
	const Node *n = ir_get(w->m, r);
	Ref a = ir_arg(w->m, n, 0);
	uint64_t xw = bits_of(ir_get(w->m, a));
	uint32_t l = s->line[r], k = s->stage[r], L = (uint32_t)(bits_of(n) / xw);
	fprintf(w->f, "\treg [%llu:0] b%u;\n", (unsigned long long)bits_of(n) - 1, r);
	fprintf(w->f, "\talways @(posedge clk) if (%sv%u_%u", VW_CEAND(w), l, k);
	if (L < s->T)   /* L < T <= 2^B: L fits the index's B bits */
		fprintf(w->f, " && t%u_%u < %u'd%u", l, k, s->B, L);
	fprintf(w->f, ") b%u[t%u_%u*%llu +: %llu] <= n%u;\n", r, l, k, (unsigned long long)xw,
	        (unsigned long long)xw, a);
	for (uint32_t j = 0; j < L; j++) {
		fprintf(w->f, "\tassign n%u[%llu +: %llu] = ", r, (unsigned long long)j * xw,
		        (unsigned long long)xw);
		if (j + 1 < s->T)   /* token T-1 is the last: no token after it */
			fprintf(w->f, "t%u_%u > %u'd%u ? b%u[%llu +: %llu] : ", l, k, s->B, j, r,
			        (unsigned long long)j * xw, (unsigned long long)xw);
		fprintf(w->f, "t%u_%u == %u'd%u ? n%u : %llu'h0;\n", l, k, s->B, j, a,
		        (unsigned long long)xw);
	}
}

/* tall, tdelay: two banks written at the phase's write stage. */
static void emit_window_buffer(VW *w, const VS *s, Ref r)
{
	const Node *n = ir_get(w->m, r);
	Ref a = ir_arg(w->m, n, 0);
	uint64_t xw = bits_of(ir_get(w->m, a)), all = xw * s->T;
	uint32_t q = s->line[r], p = s->line[a], S = s->wstage[q], k = s->stage[a];
	char src[32];
	snprintf(src, sizeof src, "n%u", a);
	for (uint32_t d = k; d < S; d++) {   /* delay the operand to the write stage */
		fprintf(w->f, "\treg [%llu:0] d%u_%u;\n\talways @(posedge clk)%s d%u_%u <= %s;\n",
		        (unsigned long long)xw - 1, r, d + 1, VW_IFCE(w), r, d + 1, src);
		snprintf(src, sizeof src, "d%u_%u", r, d + 1);
	}
	fprintf(w->f, "\treg [%llu:0] a%u_0, a%u_1;\n", (unsigned long long)all - 1, r, r);
	fprintf(w->f, "\talways @(posedge clk)\n\t\tif (%sv%u_%u) begin\n"
	        "\t\t\tif (wsel%u) a%u_1[t%u_%u*%llu +: %llu] <= %s;\n"
	        "\t\t\telse a%u_0[t%u_%u*%llu +: %llu] <= %s;\n\t\tend\n", VW_CEAND(w), p, S, q, r, p, S,
	        (unsigned long long)xw, (unsigned long long)xw, src, r, p, S, (unsigned long long)xw,
	        (unsigned long long)xw, src);
	if (n->op == OP_TALL)
		fprintf(w->f, "\tassign n%u = rsel%u ? a%u_1 : a%u_0;\n", r, q, r, r);
	else
		fprintf(w->f, "\tassign n%u = rsel%u ? a%u_1[t%u_0*%llu +: %llu] : a%u_0[t%u_0*%llu +: %llu];\n",
		        r, q, r, q, (unsigned long long)xw, (unsigned long long)xw, r, q,
		        (unsigned long long)xw, (unsigned long long)xw);
}

/* tseq: its operands latched when they are valid; token t reads latch t. */
static void emit_tseq(VW *w, const VS *s, Ref r)
{
	const Node *n = ir_get(w->m, r);
	uint32_t q = s->line[r];
	unsigned long long bw = bits_of(n);
	for (uint32_t i = 0; i < n->nargs; i++)
		fprintf(w->f, "\treg [%llu:0] l%u_%u;\n\talways @(posedge clk) if (%sstart%u) l%u_%u <= n%u;\n",
		        bw - 1, r, i, VW_CEAND(w), q, r, i, ir_arg(w->m, n, i));
	fprintf(w->f, "\tassign n%u =", r);
	for (uint32_t i = 0; i < n->nargs; i++)
		fprintf(w->f, " t%u_0 == %u'd%u ? l%u_%u :", q, s->B, i, r, i);
	fprintf(w->f, " %llu'h0;\n", bw);
}

/* wdelay: written at its operand's event, so its users in that cycle read
 * the window before. */
static void emit_wdelay(VW *w, const VS *s, Ref r)
{
	Ref a = ir_arg(w->m, ir_get(w->m, r), 0);
	char v[32];
	vname(s, v, sizeof v, s->line[a], s->stage[a]);
	fprintf(w->f, "\talways @(posedge clk) if (rst) n%u <= %llu'h0; else if (%s%s) n%u <= n%u;\n",
	        r, (unsigned long long)bits_of(ir_get(w->m, r)), VW_CEAND(w), v, r, a);
}

void vs_assign(VW *w, const VS *s, Ref r)
{
	const Node *n = ir_get(w->m, r);
	switch (n->op) {
	case OP_TPOS: emit_tpos(w, s, r); break;
	case OP_TBUF: emit_tbuf(w, s, r); break;
	case OP_TALL: case OP_TDELAY: emit_window_buffer(w, s, r); break;
	case OP_TSEQ: emit_tseq(w, s, r); break;
	case OP_WDELAY: emit_wdelay(w, s, r); break;
	case OP_TPICK: {
		Ref a = ir_arg(w->m, n, 0);
		fprintf(w->f, "\talways @(posedge clk) if (%sv%u_%u && t%u_%u == %u'd%u) n%u <= n%u;\n",
		        VW_CEAND(w), s->line[a], s->stage[a], s->line[a], s->stage[a], s->B, (uint32_t)n->imm, r, a);
		break;
	}
	default:
		die("vs_assign: %s", op_info[n->op].name);
	}
}
