/*
 * verilog_stream.c -- streams in the Verilog backend (docs/hardware.md,
 * "Streams"): the token counter, the window-phase sequencers, the valid and
 * token-index shift registers, and the token ops (tpos, tbuf, tall, tdelay,
 * tpick), all in the top module.
 *
 * Timelines.  Every non-constant node lives on one timeline: window phase
 * p (a stream, one token per clock at most) or the per-window timeline W.
 * Its stage is the number of registers between it and its timeline's
 * source: the input ports (phase 0), the window buffers of a later phase
 * (tall, tdelay) or the per-window capture registers (tpick).  Timeline p
 * carries a valid bit and a token index through stage registers
 * vP_K / tP_K; W carries vW_K.
 *
 *  - phase 0: in_valid marks a token; the token index counts valid tokens
 *    0 .. T-1 and wraps (rst clears it): a window is T valid tokens, with
 *    any gaps between tokens and between windows.
 *  - phase q > 0: its buffers (tall, tdelay) are written at one common
 *    stage S of phase q-1 (operands written earlier are delayed to S) into
 *    one of two banks; when the token T-1 of a window is written, the
 *    sequencer of phase q plays the bank back, one token per clock for T
 *    clocks, while the next window fills the other bank.
 *  - W: every tpick captures its token at one common (phase, stage, token);
 *    vW_0 is high in the clock after the capture.
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

/* Timeline of every node: phase, or s->nph for W; UINT32_MAX for constants. */
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
		s->line[r] = (n->flags & NF_WIN) ? s->nph : ph[r];
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

/* Write stages of the phases' buffers, the capture point of W, the
 * outputs' timeline; the stages each timeline's shift registers reach. */
static void points(VS *s, const Module *m)
{
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if ((n->flags & NF_DEAD) || !is_token_op(n->op) || n->op == OP_TPOS)
			continue;
		Ref a = ir_arg(m, n, 0);
		uint32_t la = s->line[a], k = s->stage[a];
		need_stage(s, la, k);
		if (n->op == OP_TALL || n->op == OP_TDELAY) {
			uint32_t q = s->line[r];
			s->wstage[q] = k > s->wstage[q] ? k : s->wstage[q];
			s->has_seq[q] = 1;
		} else if (n->op == OP_TPICK) {
			if (s->pick_line != UINT32_MAX &&
			    (s->pick_line != la || s->pick_stage != k || s->pick_tok != (uint32_t)n->imm))
				fail(s, "tpick %%%u captures at another token or cycle than an earlier "
				     "tpick: a design has one per-window capture point", r);
			s->pick_line = la, s->pick_stage = k, s->pick_tok = (uint32_t)n->imm;
		}
	}
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
	s->maxst = xcalloc(s->nph + 2, sizeof *s->maxst);
	s->wstage = xcalloc(s->nph + 2, sizeof *s->wstage);
	s->has_seq = xcalloc(s->nph + 2, 1);
	s->pick_line = s->out_line = UINT32_MAX;
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
}

/* ---- control -------------------------------------------------------------- */

/* The name of timeline l's valid / token index at stage k. */
static void vname(const VS *s, char *b, size_t n, uint32_t l, uint32_t k)
{
	if (l == s->nph)
		snprintf(b, n, "vW_%u", k);
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
		fprintf(f, "\talways @(posedge clk) %s <= rst ? 1'b0 : %s;\n", v, v1);
		if (l < s->nph) {
			fprintf(f, "\treg [%u:0] t%u_%u;\n", s->B - 1, l, k);
			fprintf(f, "\talways @(posedge clk) t%u_%u <= t%u_%u;\n", l, k, l, k - 1);
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
	        "\t\tend else begin\n", q, q, q, q, s->B);
	fprintf(f, "\t\t\tif (last%u) wsel%u <= ~wsel%u;\n", q, q, q);
	fprintf(f, "\t\t\tif (v%u_0 && t%u_0 == %u'd%u) rsel%u <= ~rsel%u;\n", q, q, s->B, s->T - 1, q, q);
	fprintf(f, "\t\t\tif (last%u) begin v%u_0 <= 1'b1; t%u_0 <= %u'd0; end\n", q, q, q, s->B);
	fprintf(f, "\t\t\telse if (v%u_0) begin v%u_0 <= t%u_0 != %u'd%u; t%u_0 <= t%u_0 + %u'd1; end\n",
	        q, q, q, s->B, s->T - 1, q, q, s->B);
	fputs("\t\tend\n", f);
}

void vs_control(VW *w, const VS *s)
{
	FILE *f = w->f;
	fprintf(f, "\t// streams: %u tokens per window (docs/hardware.md, \"Streams\")\n", s->T);
	fprintf(f, "\twire v0_0 = in_valid;\n\treg [%u:0] t0_0;\n", s->B - 1);
	fprintf(f, "\talways @(posedge clk)\n\t\tif (rst || (in_valid && t0_0 == %u'd%u))\n"
	        "\t\t\tt0_0 <= %u'd0;\n\t\telse if (in_valid)\n\t\t\tt0_0 <= t0_0 + %u'd1;\n",
	        s->B, s->T - 1, s->B, s->B);
	for (uint32_t q = 1; q < s->nph; q++) {
		if (s->has_seq[q]) {
			sequencer(w, s, q);
		} else {
			fprintf(f, "\twire v%u_0 = 1'b0;\n\twire [%u:0] t%u_0 = %u'd0;\n", q, s->B - 1, q, s->B);
		}
	}
	if (s->pick_line != UINT32_MAX) {
		fprintf(f, "\treg vW_0;\n\talways @(posedge clk) vW_0 <= rst ? 1'b0 : "
		        "v%u_%u && t%u_%u == %u'd%u;\n", s->pick_line, s->pick_stage, s->pick_line,
		        s->pick_stage, s->B, s->pick_tok);
	} else {
		fputs("\twire vW_0 = 1'b0;\n", f);
	}
	for (uint32_t l = 0; l <= s->nph; l++)
		shift_regs(w, s, l);
	char v[32];
	if (s->out_line == UINT32_MAX)
		snprintf(v, sizeof v, "v0_0");
	else
		vname(s, v, sizeof v, s->out_line, s->out_stage);
	fprintf(f, "\tassign out_valid = %s;\n", v);
}

/* ---- token ops ------------------------------------------------------------ */

static uint64_t bits_of(const Node *n)
{
	return (uint64_t)n->len * n->width;
}

int vs_is_reg(const Module *m, Ref r)
{
	int op = ir_get(m, r)->op;
	return op == OP_TPOS || op == OP_TPICK;
}

static void emit_tpos(VW *w, const VS *s, Ref r)
{
	const Node *n = ir_get(w->m, r);
	const Tensor *t = ir_tget(w->m, n->aux);
	uint32_t l = s->line[r] == UINT32_MAX ? 0 : s->line[r];
	fprintf(w->f, "\talways @(*)\n\t\tcase (t%u_%u)\n", l, s->stage[r]);
	for (uint32_t k = 0; k < s->T; k++) {
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
	uint32_t l = s->line[r], k = s->stage[r];
	fprintf(w->f, "\treg [%llu:0] b%u;\n", (unsigned long long)bits_of(n) - 1, r);
	fprintf(w->f, "\talways @(posedge clk) if (v%u_%u) b%u[t%u_%u*%llu +: %llu] <= n%u;\n", l, k, r,
	        l, k, (unsigned long long)xw, (unsigned long long)xw, a);
	for (uint32_t j = 0; j < s->T; j++)
		fprintf(w->f, "\tassign n%u[%llu +: %llu] = t%u_%u > %u'd%u ? b%u[%llu +: %llu] : "
		        "t%u_%u == %u'd%u ? n%u : %llu'h0;\n", r, (unsigned long long)j * xw,
		        (unsigned long long)xw, l, k, s->B, j, r, (unsigned long long)j * xw,
		        (unsigned long long)xw, l, k, s->B, j, a, (unsigned long long)xw);
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
		fprintf(w->f, "\treg [%llu:0] d%u_%u;\n\talways @(posedge clk) d%u_%u <= %s;\n",
		        (unsigned long long)xw - 1, r, d + 1, r, d + 1, src);
		snprintf(src, sizeof src, "d%u_%u", r, d + 1);
	}
	fprintf(w->f, "\treg [%llu:0] a%u_0, a%u_1;\n", (unsigned long long)all - 1, r, r);
	fprintf(w->f, "\talways @(posedge clk)\n\t\tif (v%u_%u) begin\n"
	        "\t\t\tif (wsel%u) a%u_1[t%u_%u*%llu +: %llu] <= %s;\n"
	        "\t\t\telse a%u_0[t%u_%u*%llu +: %llu] <= %s;\n\t\tend\n", p, S, q, r, p, S,
	        (unsigned long long)xw, (unsigned long long)xw, src, r, p, S, (unsigned long long)xw,
	        (unsigned long long)xw, src);
	if (n->op == OP_TALL)
		fprintf(w->f, "\tassign n%u = rsel%u ? a%u_1 : a%u_0;\n", r, q, r, r);
	else
		fprintf(w->f, "\tassign n%u = rsel%u ? a%u_1[t%u_0*%llu +: %llu] : a%u_0[t%u_0*%llu +: %llu];\n",
		        r, q, r, q, (unsigned long long)xw, (unsigned long long)xw, r, q,
		        (unsigned long long)xw, (unsigned long long)xw);
}

void vs_assign(VW *w, const VS *s, Ref r)
{
	const Node *n = ir_get(w->m, r);
	switch (n->op) {
	case OP_TPOS: emit_tpos(w, s, r); break;
	case OP_TBUF: emit_tbuf(w, s, r); break;
	case OP_TALL: case OP_TDELAY: emit_window_buffer(w, s, r); break;
	case OP_TPICK: {
		Ref a = ir_arg(w->m, n, 0);
		fprintf(w->f, "\talways @(posedge clk) if (v%u_%u && t%u_%u == %u'd%u) n%u <= n%u;\n",
		        s->line[a], s->stage[a], s->line[a], s->stage[a], s->B, (uint32_t)n->imm, r, a);
		break;
	}
	default:
		die("vs_assign: %s", op_info[n->op].name);
	}
}
