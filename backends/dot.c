/*
 * dot.c -- the Graphviz backend (--emit=dot).
 *
 * Small graphs (<= DOT_MAX_NODES nodes): one DOT node "nK" per IR node %K,
 * labeled "%K op immediates" and its type; one edge per operand, from the
 * operand to its user, labeled with the operand's type (e.g. s16x192).
 * Input ports are drawn as `invhouse`, outputs as `house`, constants as
 * boxes, registers as `box3d`.  Nodes of a named region are grouped in a
 * `subgraph cluster_N` labeled with the region's dotted name; clusters are
 * numbered in order of first appearance, so the output is deterministic.
 *
 * Huge graphs (> DOT_MAX_NODES nodes, e.g. a whole predictor) would not
 * render, so a summary graph is printed instead: one box per region
 * ("(no region)" for region 0) labeled with its node count, and one edge
 * per pair of regions with operand edges between them, labeled with how
 * many.  Edges are counted in an open-addressing table and printed sorted.
 */
#include <stdlib.h>
#include <string.h>

#include "backends.h"

#define DOT_MAX_NODES 20000

/* Writes s as the inside of a DOT string ("..." without the quotes):
 * printable ASCII as itself, other bytes as the text \xHH, so the output
 * is ASCII whatever the names hold. */
static void dot_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, f);
		else
			fprintf(f, "\\\\x%02x", c);
	}
}

static void dot_type(FILE *f, const Node *n)
{
	ir_print_type(f, n);
}

/* The immediates of n, in the order of its op's signature. */
static void dot_imms(FILE *f, const Module *m, const Node *n)
{
	for (const char *s = op_info[n->op].sig; *s; s++) {
		switch (*s) {
		case 'i': fprintf(f, " %lld", (long long)n->imm); break;
		case 'j': fprintf(f, " %u", n->aux); break;
		case 'r': fprintf(f, " %.17g", ir_fimm(n)); break;
		case 't':
			fputs(" @", f);
			dot_str(f, ir_strget(m, ir_tget(m, n->aux)->name));
			break;
		case 's':
			fputs(" \\\"", f);
			dot_str(f, ir_strget(m, n->aux));
			fputs("\\\"", f);
			break;
		}
	}
}

static const char *dot_shape(int op)
{
	switch (op) {
	case OP_INPUT: return "invhouse";
	case OP_OUTPUT: return "house";
	case OP_CONST: case OP_FCONST: case OP_VCONST: return "box";
	case OP_REG: return "box3d";
	default: return "ellipse";
	}
}

static void dot_node(FILE *f, const Module *m, Ref r, const char *indent)
{
	const Node *n = ir_get(m, r);
	fprintf(f, "%sn%u [shape=%s, label=\"%%%u %s", indent, r, dot_shape(n->op), r,
	        op_info[n->op].name);
	dot_imms(f, m, n);
	if (!(op_info[n->op].flags & OPF_NORESULT)) {
		fputs("\\n", f);
		dot_type(f, n);
	}
	fputs("\"];\n", f);
}

/* Region string id -> cluster number (first appearance), 0 = no region. */
static uint32_t *dot_clusters(const Module *m, uint32_t *ncl, Ref **first)
{
	uint32_t *cl = xcalloc(m->nstrs + 1, sizeof *cl);
	*first = xmalloc((m->nnodes + 2) * sizeof **first);
	*ncl = 1;
	(*first)[0] = NOREF;
	for (Ref r = 0; r < m->nnodes; r++) {
		uint32_t g = ir_get(m, r)->region;
		if (g && !cl[g]) {
			(*first)[*ncl] = g;
			cl[g] = (*ncl)++;
		}
	}
	return cl;
}

static void dot_full(const Module *m, FILE *f)
{
	uint32_t ncl;
	Ref *regs;
	uint32_t *cl = dot_clusters(m, &ncl, &regs);
	for (Ref r = 0; r < m->nnodes; r++)
		if (!ir_get(m, r)->region)
			dot_node(f, m, r, "  ");
	/* nodes of each cluster: a counting sort by cluster keeps index order */
	uint32_t *start = xcalloc(ncl + 1, sizeof *start);
	Ref *byc = xmalloc((m->nnodes + 1) * sizeof *byc);
	for (Ref r = 0; r < m->nnodes; r++)
		start[cl[ir_get(m, r)->region] + 1]++;
	for (uint32_t c = 0; c < ncl; c++)
		start[c + 1] += start[c];
	for (Ref r = 0; r < m->nnodes; r++)
		byc[start[cl[ir_get(m, r)->region]]++] = r;
	for (uint32_t c = 1, k = start[0]; c < ncl; c++) {
		fprintf(f, "  subgraph cluster_%u {\n    label=\"", c);
		dot_str(f, ir_strget(m, regs[c]));
		fputs("\";\n", f);
		for (; k < start[c]; k++)
			dot_node(f, m, byc[k], "    ");
		fputs("  }\n", f);
	}
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		for (uint32_t k = 0; k < n->nargs; k++) {
			Ref a = ir_arg(m, n, k);
			fprintf(f, "  n%u -> n%u [label=\"", a, r);
			dot_type(f, ir_get(m, a));
			fputs("\"];\n", f);
		}
	}
	free(cl);
	free(regs);
	free(start);
	free(byc);
}

/* ---- summary of a huge graph ----------------------------------------- */

typedef struct DotEdge {
	uint32_t from, to;   /* cluster numbers */
	uint64_t count;
} DotEdge;

static int edge_cmp(const void *a, const void *b)
{
	const DotEdge *x = a, *y = b;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

/* Counts operand edges between different clusters; returns them sorted. */
static DotEdge *dot_region_edges(const Module *m, const uint32_t *cl, size_t *ne)
{
	size_t cap = 1024, n = 0;
	DotEdge *tab = xcalloc(cap, sizeof *tab);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *u = ir_get(m, r);
		for (uint32_t k = 0; k < u->nargs; k++) {
			uint32_t a = cl[ir_get(m, ir_arg(m, u, k))->region], b = cl[u->region];
			if (a == b)
				continue;
			if (2 * (n + 1) > cap) {
				DotEdge *old = tab;
				size_t oc = cap;
				cap *= 2;
				tab = xcalloc(cap, sizeof *tab);
				for (size_t i = 0; i < oc; i++)
					if (old[i].count) {
						size_t h = hash_mix(old[i].from, old[i].to) & (cap - 1);
						while (tab[h].count)
							h = (h + 1) & (cap - 1);
						tab[h] = old[i];
					}
				free(old);
			}
			size_t h = hash_mix(a, b) & (cap - 1);
			while (tab[h].count && (tab[h].from != a || tab[h].to != b))
				h = (h + 1) & (cap - 1);
			if (!tab[h].count) {
				tab[h] = (DotEdge){a, b, 0};
				n++;
			}
			tab[h].count++;
		}
	}
	size_t k = 0;
	for (size_t i = 0; i < cap; i++)
		if (tab[i].count)
			tab[k++] = tab[i];
	qsort(tab, k, sizeof *tab, edge_cmp);
	*ne = k;
	return tab;
}

static void dot_summary(const Module *m, FILE *f)
{
	uint32_t ncl;
	Ref *regs;
	uint32_t *cl = dot_clusters(m, &ncl, &regs);
	uint64_t *count = xcalloc(ncl, sizeof *count);
	for (Ref r = 0; r < m->nnodes; r++)
		count[cl[ir_get(m, r)->region]]++;
	fprintf(f, "  label=\"summary: %u nodes, %u regions\";\n", m->nnodes, ncl - 1);
	for (uint32_t c = 0; c < ncl; c++) {
		if (!count[c])
			continue;
		fprintf(f, "  r%u [shape=box, label=\"", c);
		dot_str(f, c ? ir_strget(m, regs[c]) : "(no region)");
		fprintf(f, "\\n%llu nodes\"];\n", (unsigned long long)count[c]);
	}
	size_t ne;
	DotEdge *e = dot_region_edges(m, cl, &ne);
	for (size_t i = 0; i < ne; i++)
		fprintf(f, "  r%u -> r%u [label=\"%llu\"];\n", e[i].from, e[i].to,
		        (unsigned long long)e[i].count);
	free(e);
	free(count);
	free(cl);
	free(regs);
}

void emit_dot(const Module *m, FILE *f, const EmitOpts *o)
{
	(void)o;
	fputs("digraph \"", f);
	dot_str(f, ir_strget(m, m->name));
	fputs("\" {\n  node [fontname=\"monospace\", fontsize=10];\n"
	      "  edge [fontname=\"monospace\", fontsize=8];\n", f);
	if (m->nnodes > DOT_MAX_NODES)
		dot_summary(m, f);
	else
		dot_full(m, f);
	fputs("}\n", f);
}
