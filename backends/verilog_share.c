/*
 * verilog_share.c -- time-shared multipliers in the Verilog backend
 * (--clocks-per-token=G; the plan: tshare.h; docs/hardware.md, "Clocks per
 * token").
 *
 * A unit u of N lanes of R bits on M multipliers, in the module of its
 * region:
 *   sa_U, sb_U   the operands of the M multipliers in clock fc: a case on
 *                fc, lane i of the unit in clock i / M at place i % M
 *                (extended to R bits as the mul would), zeros past N
 *   sp_U         the M products
 *   sh_U         the lanes computed before clock G-1, written in their
 *                clock (registers without the clock enable)
 * A shared node is its lanes' slices of sh_U and, for the lanes of clock
 * G-1, of sp_U.  Every other register of the design is written only at
 * the token's last clock (ce), so operands are stable for all G clocks.
 */
#include <stdlib.h>
#include <string.h>

#include "verilog.h"

/* Units grouped by dense region (counting sort). */
void vt_init(VW *w)
{
	const TShare *t = &w->ts;
	w->ustart = xcalloc(w->nreg + 1, sizeof *w->ustart);
	w->bymod = xmalloc((t->nunits + 1) * sizeof *w->bymod);
	for (uint32_t u = 0; u < t->nunits; u++)
		w->ustart[w->rix[t->node[t->u[u].start]] + 1]++;
	for (uint32_t k = 0; k < w->nreg; k++)
		w->ustart[k + 1] += w->ustart[k];
	uint32_t *fill = xmalloc((w->nreg + 1) * sizeof *fill);
	memcpy(fill, w->ustart, (w->nreg + 1) * sizeof *fill);
	for (uint32_t u = 0; u < t->nunits; u++)
		w->bymod[fill[w->rix[t->node[t->u[u].start]]]++] = u;
	free(fill);
}

int vt_region_has_units(const VW *w, uint32_t k)
{
	return w->ustart && w->ustart[k + 1] > w->ustart[k];
}

/* Operand j of the M lanes of clock g: a concatenation, lane M-1 first. */
static void operands(VW *w, const TUnit *u, uint32_t g, uint32_t j)
{
	const Module *m = w->m;
	const TShare *t = &w->ts;
	/* lane i = g*M + p lives in the node whose first lane is <= i: walk */
	uint64_t lo = (uint64_t)g * u->M;
	uint32_t k = 0;
	Ref *nodes = &t->node[u->start];
	fputc('{', w->f);
	for (uint32_t p = u->M; p-- > 0;) {
		uint64_t i = lo + p;
		if (p != u->M - 1)
			fputs((u->M - 1 - p) % 8 ? ", " : ",\n\t\t\t\t", w->f);
		if (i >= u->n) {
			vw_lit(w, u->w[j], 0);
			continue;
		}
		/* nodes are in lane order: find the one holding lane i (lanes go
		 * down within a clock, so search from the last found) */
		if (k >= u->nodes || t->first[nodes[k]] > i || t->first[nodes[k]] +
		    ir_get(m, nodes[k])->len <= i) {
			uint32_t a = 0, b = u->nodes;
			while (b - a > 1) {
				uint32_t c = (a + b) / 2;
				if (t->first[nodes[c]] <= i)
					a = c;
				else
					b = c;
			}
			k = a;
		}
		const Node *n = ir_get(m, nodes[k]);
		Ref a = ir_arg(m, n, j);
		VSrc s = vw_src(m, a, tshare_src_lane(m, a, n->len, (uint32_t)(i - t->first[nodes[k]])));
		vw_x(w, &s, u->w[j]);
	}
	fputc('}', w->f);
}

/* Lane p of a multiplexed operand (W bits), extended to R by sgn. */
static void operand_lane(VW *w, const char *pre, uint32_t ui, uint32_t p, unsigned W, int sgn,
                         unsigned R)
{
	unsigned long long lo = (unsigned long long)p * W;
	if (W < R && sgn)
		fprintf(w->f, "{{%u{%s_%u[%llu]}}, ", R - W, pre, ui, lo + W - 1);
	else if (W < R)
		fprintf(w->f, "{%u'h0, ", R - W);
	fprintf(w->f, "%s_%u[%llu +: %u]", pre, ui, lo, W);
	if (W < R)
		fputc('}', w->f);
}

static void unit(VW *w, uint32_t ui)
{
	const TUnit *u = &w->ts.u[ui];
	unsigned long long MR = (unsigned long long)u->M * u->R;
	unsigned long long MA = (unsigned long long)u->M * u->w[0], MB = (unsigned long long)u->M * u->w[1];
	fprintf(w->f, "\t// time-shared multipliers: %u lanes of %u bits on %u multiplier%s "
	        "in %u clocks\n", u->n, u->R, u->M, u->M == 1 ? "" : "s", u->geff);
	fprintf(w->f, "\treg [%llu:0] sa_%u;\n\treg [%llu:0] sb_%u;\n\twire [%llu:0] sp_%u;\n",
	        MA - 1, ui, MB - 1, ui, MR - 1, ui);
	fputs("\talways @(*)\n\t\tcase (fc)\n", w->f);
	for (uint32_t g = 0; g < u->geff; g++) {
		fprintf(w->f, "\t\t%u'd%u: begin\n\t\t\tsa_%u = ", w->FB, g, ui);
		operands(w, u, g, 0);
		fprintf(w->f, ";\n\t\t\tsb_%u = ", ui);
		operands(w, u, g, 1);
		fputs(";\n\t\tend\n", w->f);
	}
	fprintf(w->f, "\t\tdefault: begin\n\t\t\tsa_%u = %llu'h0;\n\t\t\tsb_%u = %llu'h0;\n"
	        "\t\tend\n\t\tendcase\n", ui, MA, ui, MB);
	for (uint32_t p = 0; p < u->M; p++) {
		fprintf(w->f, "\tassign sp_%u[%llu +: %u] = ", ui, (unsigned long long)p * u->R, u->R);
		operand_lane(w, "sa", ui, p, u->w[0], u->sgn[0], u->R);
		fputs(" * ", w->f);
		operand_lane(w, "sb", ui, p, u->w[1], u->sgn[1], u->R);
		fputs(";\n", w->f);
	}
	if (!u->held)
		return;
	fprintf(w->f, "\treg [%llu:0] sh_%u;\n\talways @(posedge clk)\n\t\tcase (fc)\n",
	        (unsigned long long)u->held * u->R - 1, ui);
	for (uint32_t g = 0; (uint64_t)g * u->M < u->held; g++) {
		uint64_t c = u->held - (uint64_t)g * u->M;
		c = c < u->M ? c : u->M;
		fprintf(w->f, "\t\t%u'd%u: sh_%u[%llu +: %llu] <= ", w->FB, g, ui,
		        (unsigned long long)g * MR, (unsigned long long)c * u->R);
		if (c == u->M)
			fprintf(w->f, "sp_%u;\n", ui);
		else
			fprintf(w->f, "sp_%u[%llu:0];\n", ui, (unsigned long long)c * u->R - 1);
	}
	fputs("\t\tdefault: ;\n\t\tendcase\n", w->f);
}

void vt_units(VW *w, uint32_t k)
{
	if (!w->ustart)
		return;
	for (uint32_t i = w->ustart[k]; i < w->ustart[k + 1]; i++)
		unit(w, w->bymod[i]);
}

/* A shared node: {its lanes of clock G-1 from sp_U, the others from sh_U}. */
void vt_assign(VW *w, Ref r)
{
	const TShare *t = &w->ts;
	uint32_t ui = t->unit[r] - 1;
	const TUnit *u = &t->u[ui];
	uint64_t f = t->first[r], e = f + ir_get(w->m, r)->len, R = u->R;
	uint64_t h = e < u->held ? e : u->held;   /* held lanes: [f, h) */
	fprintf(w->f, "\tassign n%u = ", r);
	int two = f < h && h < e;
	if (two)
		fputc('{', w->f);
	if (h < e) {
		uint64_t a = (f > h ? f : h) - u->held;
		fprintf(w->f, "sp_%u[%llu +: %llu]", ui, (unsigned long long)(a * R),
		        (unsigned long long)((e - u->held - a) * R));
	}
	if (two)
		fputs(", ", w->f);
	if (f < h)
		fprintf(w->f, "sh_%u[%llu +: %llu]", ui, (unsigned long long)(f * R),
		        (unsigned long long)((h - f) * R));
	fputs(two ? "};\n" : ";\n", w->f);
}
