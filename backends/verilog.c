/*
 * verilog.c -- the Verilog-2005 backend (--emit=verilog): synthesizable,
 * no vendor primitives, no memories; weights are wiring.
 *
 * Interface of the top module (docs/hardware.md):
 *   clk, rst (synchronous, active high; resets only the valid chain),
 *   in_valid, one bus i_NAME per input port in declaration order,
 *   out_valid, one bus o_NAME per output port.
 * A port of L lanes of W bits is an L*W-bit bus, lane i in bits
 * [i*W +: W] (lane 0 in the low bits).  A new input vector may be presented
 * on every clock; its result appears `latency` clocks later with
 * out_valid, carried by a shift register of that length.
 *
 * Structure.  Every node r is a bus nR.  Nodes carrying a region
 * ("predictor.layer3.attn.to_qkv") go into one module per region, named
 * TOP_ + the region with every character other than [A-Za-z0-9_] made '_'
 * (a numeric suffix if two regions collide); everything else, and all
 * ports, is in the top, which instantiates each region module once.  A
 * region module's ports are the values it reads from elsewhere (inputs)
 * and the values others read from it (outputs), named like the nodes, plus
 * clk when it holds registers.
 *
 * Latency and balance come from pipeline_analyze() (ir/timing.c):
 * a design whose operands arrive in different cycles is rejected.
 *
 * The writer streams: two passes over each module's nodes (declarations,
 * then assignments) straight to the FILE; the side tables are a few words
 * per node.  Output is a function of the module only (deterministic).
 */
#include <stdlib.h>
#include <string.h>

#include "timing.h"
#include "verilog.h"

static const char *const keywords[] = {
	"always", "and", "assign", "begin", "buf", "case", "casex", "casez", "default",
	"else", "end", "endcase", "endfunction", "endgenerate", "endmodule", "for",
	"function", "generate", "genvar", "if", "initial", "inout", "input", "integer",
	"module", "nand", "nor", "not", "or", "output", "parameter", "reg", "signed",
	"task", "wire", "xor", "xnor", NULL,
};

/* A Verilog identifier from any string: [A-Za-z0-9_], not a keyword. */
static char *sanitize(const char *pre, const char *s)
{
	size_t n = strlen(pre) + strlen(s) + 4;
	char *out = xmalloc(n), *p = out;
	p += snprintf(p, n, "%s", pre);
	if (!*pre && (!*s || (*s >= '0' && *s <= '9')))
		*p++ = 'm', *p++ = '_';
	for (; *s; s++) {
		int ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		         (*s >= '0' && *s <= '9') || *s == '_';
		*p++ = ok ? *s : '_';
	}
	*p = 0;
	for (int i = 0; keywords[i]; i++)
		if (strcmp(out, keywords[i]) == 0) {
			char *k = xmalloc(strlen(out) + 3);
			sprintf(k, "m_%s", out);
			free(out);
			return k;
		}
	return out;
}

static size_t name_slot(char *const *key, size_t mask, const char *s)
{
	size_t i = (size_t)hash_bytes(s, strlen(s), 0) & mask;
	while (key[i] && strcmp(key[i], s) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Makes names[i] differ from every names[j < i]: a taken name gets the
 * first free suffix _N, N counted per name in a hash set, so n ports of one
 * sanitized name cost O(n), not O(n^2). */
static void uniquify(char **names, uint32_t n)
{
	size_t cap = 16;
	while (cap < 2 * (size_t)n + 2)
		cap *= 2;
	char **key = xcalloc(cap, sizeof *key);
	uint32_t *next = xcalloc(cap, sizeof *next);
	for (uint32_t i = 0; i < n; i++) {
		size_t b = name_slot(key, cap - 1, names[i]);
		if (key[b]) {
			char *s = xmalloc(strlen(names[i]) + 16);
			size_t t;
			do {
				sprintf(s, "%s_%u", names[i], ++next[b]);
				t = name_slot(key, cap - 1, s);
			} while (key[t]);
			free(names[i]);
			names[i] = s;
			b = t;
		}
		key[b] = names[i];
	}
	free(key);
	free(next);
}

static int live(const Module *m, Ref r)
{
	return !(ir_get(m, r)->flags & NF_DEAD);
}

static void check_node(VW *w, Ref r)
{
	const Node *n = ir_get(w->m, r);
	if (n->ty == TY_F || (op_info[n->op].flags & OPF_REAL))
		fatal(w->file, "node %%%u (%s) is real-valued: --emit=verilog needs an integer "
		      "design (lower it first, e.g. -O1)", r, op_info[n->op].name);
	if (op_info[n->op].sig[0] == 't' && !tensor_has_codes(ir_tget(w->m, n->aux)))
		fatal(w->file, "node %%%u (%s) reads real tensor @%s: --emit=verilog needs integer "
		      "codes", r, op_info[n->op].name, ir_strget(w->m, ir_tget(w->m, n->aux)->name));
}

static void check_module(VW *w)
{
	PipeInfo pi;
	for (Ref r = 0; r < w->m->nnodes; r++)
		if (live(w->m, r))
			check_node(w, r);
	if (pipeline_analyze(w->m, &pi) != 0)
		fatal(w->file, "a register closes a feedback loop: --emit=verilog needs a "
		      "feed-forward pipeline");
	if (pi.bad != NOREF)
		fatal(w->file, "the operands of node %%%u arrive in different clock cycles "
		      "(unbalanced pipeline; run the pipeline pass)", pi.bad);
	w->latency = pi.latency;
	w->pi = pi;
}

static void header_stats(VW *w)
{
	PipeInfo pi = w->pi;
	fprintf(w->f, "// latency %u cycles; %u registers (%llu bits); at most %u adder levels "
	        "between registers\n", pi.latency, pi.regs, (unsigned long long)pi.reg_bits,
	        pi.max_levels);
	if (w->G > 1)
		fprintf(w->f, "// %u clocks per token (in_ready), one more token of latency: the "
		        "inputs are registered; %llu mul lanes on %llu time-shared multipliers\n",
		        w->G, (unsigned long long)w->ts.lanes, (unsigned long long)w->ts.mults);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Dense region per node (ports in the top), module names. */
static void assign_regions(VW *w)
{
	const Module *m = w->m;
	uint32_t *map = xmalloc((m->nstrs + 1) * sizeof *map);
	memset(map, 0xff, (m->nstrs + 1) * sizeof *map);
	map[0] = 0;
	w->nreg = 1;
	w->rix = xmalloc((m->nnodes + 1) * sizeof *w->rix);
	w->mname = xmalloc(sizeof *w->mname);
	w->mname[0] = xstrdup(w->top);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		uint32_t s = n->op == OP_INPUT || n->op == OP_OUTPUT || vs_top_node(m, r) ? 0 : n->region;
		if (map[s] == UINT32_MAX) {
			map[s] = w->nreg++;
			w->mname = xrealloc(w->mname, w->nreg * sizeof *w->mname);
			char *pre = xmalloc(strlen(w->top) + 2);
			sprintf(pre, "%s_", w->top);
			w->mname[map[s]] = sanitize(pre, ir_strget(m, s));
			if (strcmp(w->mname[map[s]] + strlen(pre), "tb") == 0)
				w->mname[map[s]][strlen(pre)] = 'T';  /* TOP_tb is the testbench */
			free(pre);
		}
		w->rix[r] = map[s];
	}
	uniquify(w->mname, w->nreg);
	free(map);
}

/* byreg/rstart (counting sort), exported flags, sorted import pairs. */
static void partition(VW *w)
{
	const Module *m = w->m;
	uint32_t nn = m->nnodes + 1;
	w->rstart = xcalloc(w->nreg + 1, sizeof *w->rstart);
	w->byreg = xmalloc(nn * sizeof *w->byreg);
	w->exported = xcalloc(nn, 1);
	w->imp = xmalloc((m->nargv + 1) * sizeof *w->imp);
	for (Ref r = 0; r < m->nnodes; r++)
		if (live(m, r))
			w->rstart[w->rix[r] + 1]++;
	for (uint32_t k = 0; k < w->nreg; k++)
		w->rstart[k + 1] += w->rstart[k];
	uint32_t *fill = xmalloc((w->nreg + 1) * sizeof *fill);
	memcpy(fill, w->rstart, (w->nreg + 1) * sizeof *fill);
	for (Ref r = 0; r < m->nnodes; r++) {
		if (!live(m, r))
			continue;
		const Node *n = ir_get(m, r);
		w->byreg[fill[w->rix[r]]++] = r;
		for (uint32_t j = 0; j < n->nargs; j++) {
			Ref a = ir_arg(m, n, j);
			if (w->rix[a] == w->rix[r])
				continue;
			w->exported[a] = 1;
			if (w->rix[r])
				w->imp[w->nimp++] = (uint64_t)w->rix[r] << 32 | a;
		}
	}
	free(fill);
	qsort(w->imp, w->nimp, sizeof *w->imp, cmp_u64);
	size_t k = 0;
	for (size_t i = 0; i < w->nimp; i++)
		if (k == 0 || w->imp[i] != w->imp[k - 1])
			w->imp[k++] = w->imp[i];
	w->nimp = k;
}

static void port_names(VW *w)
{
	const Module *m = w->m;
	uint32_t ni = ir_ninputs(m), no = ir_noutputs(m), i = 0, o = 0;
	char **all = xmalloc((ni + no + 1) * sizeof *all);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (!live(m, r) || (n->op != OP_INPUT && n->op != OP_OUTPUT))
			continue;
		all[i + o] = sanitize(n->op == OP_INPUT ? "i_" : "o_", ir_strget(m, n->aux));
		n->op == OP_INPUT ? i++ : o++;
	}
	uniquify(all, ni + no);
	w->iname = xmalloc((ni + 1) * sizeof *w->iname);
	w->oname = xmalloc((no + 1) * sizeof *w->oname);
	i = o = 0;
	for (Ref r = 0, k = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (!live(m, r) || (n->op != OP_INPUT && n->op != OP_OUTPUT))
			continue;
		if (n->op == OP_INPUT)
			w->iname[i++] = all[k++];
		else
			w->oname[o++] = all[k++];
	}
	free(all);
}

static uint64_t bus_bits(const Node *n)
{
	return (uint64_t)n->len * n->width;
}

static void decl(VW *w, const char *kind, Ref r)
{
	fputc('\t', w->f);
	fputs(kind, w->f);
	vw_su(w->f, " [", bus_bits(ir_get(w->m, r)) - 1, ":0] n");
	vw_su(w->f, "", r, ";\n");
}

static void port_item(VW *w, int *first, const char *dir, const char *kind, uint64_t bits,
                      const char *name, Ref r)
{
	fputs(*first ? "(\n" : ",\n", w->f);
	*first = 0;
	fprintf(w->f, "\t%s %s ", dir, kind);
	if (bits > 1 || r != NOREF)
		fprintf(w->f, "[%llu:0] ", (unsigned long long)bits - 1);
	if (name)
		fputs(name, w->f);
	else
		fprintf(w->f, "n%u", r);
}

static int region_has(const VW *w, uint32_t k, int op)
{
	for (uint32_t i = w->rstart[k]; i < w->rstart[k + 1]; i++)
		if (ir_get(w->m, w->byreg[i])->op == op)
			return 1;
	return 0;
}

static int region_genvar(const VW *w, uint32_t k)
{
	for (uint32_t i = w->rstart[k]; i < w->rstart[k + 1]; i++)
		if (vw_uses_genvar(w->m, w->byreg[i]))
			return 1;
	return 0;
}

/* The body shared by region modules and the top: genvar, declarations of
 * the module's own (non-port) nodes, lut functions, assignments. */
static void module_body(VW *w, uint32_t k, int exported_are_ports)
{
	if (region_genvar(w, k))
		fputs("\tgenvar gi;\n", w->f);
	for (uint32_t i = w->rstart[k]; i < w->rstart[k + 1]; i++) {
		Ref r = w->byreg[i];
		int op = ir_get(w->m, r)->op;
		if (op == OP_OUTPUT || (exported_are_ports && w->exported[r]))
			continue;
		decl(w, op == OP_REG || vs_is_reg(w->m, r) || (op == OP_INPUT && w->G > 1) ? "reg" : "wire", r);
	}
	vw_lut_functions(w, k);
	vt_units(w, k);
	for (uint32_t i = w->rstart[k]; i < w->rstart[k + 1]; i++) {
		Ref r = w->byreg[i];
		if (vs_top_node(w->m, r))
			vs_assign(w, &w->st, r);
		else
			vw_assign(w, r);
	}
}

static void region_module(VW *w, uint32_t k, size_t *cur)
{
	int first = 1;
	fprintf(w->f, "\nmodule %s ", w->mname[k]);
	int regs = region_has(w, k, OP_REG), units = vt_region_has_units(w, k);
	if (regs || units)
		port_item(w, &first, "input", "wire", 1, "clk", NOREF);
	if (regs && w->G > 1)
		port_item(w, &first, "input", "wire", 1, "ce", NOREF);
	if (units)
		port_item(w, &first, "input", "wire", w->FB, "fc", NOREF);
	for (; *cur < w->nimp && (w->imp[*cur] >> 32) == k; ++*cur) {
		Ref a = (Ref)w->imp[*cur];
		port_item(w, &first, "input", "wire", bus_bits(ir_get(w->m, a)), NULL, a);
	}
	for (uint32_t i = w->rstart[k]; i < w->rstart[k + 1]; i++) {
		Ref r = w->byreg[i];
		if (w->exported[r])
			port_item(w, &first, "output", ir_get(w->m, r)->op == OP_REG ? "reg" : "wire",
			          bus_bits(ir_get(w->m, r)), NULL, r);
	}
	fputs(first ? ";\n" : "\n);\n", w->f);
	module_body(w, k, 1);
	fputs("endmodule\n", w->f);
}

static void instance(VW *w, uint32_t k, size_t *cur)
{
	int first = 1;
	fprintf(w->f, "\t%s u_%s (", w->mname[k], w->mname[k] + strlen(w->top) + 1);
	int regs = region_has(w, k, OP_REG), units = vt_region_has_units(w, k);
	if (regs || units) {
		fputs(".clk(clk)", w->f);
		first = 0;
	}
	if (regs && w->G > 1)
		fputs(", .ce(ce)", w->f);
	if (units)
		fputs(", .fc(fc)", w->f);
	for (; *cur < w->nimp && (w->imp[*cur] >> 32) == k; ++*cur, first = 0)
		fprintf(w->f, "%s.n%u(n%u)", first ? "" : ", ", (Ref)w->imp[*cur], (Ref)w->imp[*cur]);
	for (uint32_t i = w->rstart[k]; i < w->rstart[k + 1]; i++)
		if (w->exported[w->byreg[i]]) {
			fprintf(w->f, "%s.n%u(n%u)", first ? "" : ", ", w->byreg[i], w->byreg[i]);
			first = 0;
		}
	fputs(");\n", w->f);
}

static void top_ports(VW *w)
{
	int first = 1;
	uint32_t i = 0, o = 0;
	fprintf(w->f, "\nmodule %s ", w->top);
	port_item(w, &first, "input", "wire", 1, "clk", NOREF);
	port_item(w, &first, "input", "wire", 1, "rst", NOREF);
	port_item(w, &first, "input", "wire", 1, "in_valid", NOREF);
	if (w->G > 1)
		port_item(w, &first, "output", "wire", 1, "in_ready", NOREF);
	for (Ref r = 0; r < w->m->nnodes; r++)
		if (live(w->m, r) && ir_get(w->m, r)->op == OP_INPUT)
			port_item(w, &first, "input", "wire", bus_bits(ir_get(w->m, r)), w->iname[i++], r);
	port_item(w, &first, "output", "wire", 1, "out_valid", NOREF);
	for (Ref r = 0; r < w->m->nnodes; r++) {
		const Node *n = ir_get(w->m, r);
		if (live(w->m, r) && n->op == OP_OUTPUT)
			port_item(w, &first, "output", "wire", bus_bits(ir_get(w->m, ir_arg(w->m, n, 0))),
			          w->oname[o++], r);
	}
	fputs("\n);\n", w->f);
}

static void valid_chain(VW *w)
{
	uint32_t L = w->latency;
	const char *in = w->G > 1 ? "vin" : "in_valid";
	if (L == 0) {
		fprintf(w->f, "\tassign out_valid = %s%s;\n", VW_CEAND(w), in);
		return;
	}
	fprintf(w->f, "\treg [%u:0] valid_q;\n\talways @(posedge clk)\n\t\tif (rst)\n"
	        "\t\t\tvalid_q <= %u'h0;\n\t\telse%s\n", L - 1, L, VW_IFCE(w));
	if (L == 1)
		fprintf(w->f, "\t\t\tvalid_q <= %s;\n", in);
	else
		fprintf(w->f, "\t\t\tvalid_q <= {valid_q[%u:0], %s};\n", L - 2, in);
	fprintf(w->f, "\tassign out_valid = %svalid_q[%u];\n", VW_CEAND(w), L - 1);
}

/* G clocks per token: the clock counter fc, the enable ce of its last
 * clock (every register but the shared multipliers' holds is written only
 * then), in_ready = ce, and the inputs taken at ce (vin and the n of every
 * input port), so that they are stable for the G clocks. */
static void clock_enable(VW *w)
{
	fprintf(w->f, "\t// %u clocks per token (docs/hardware.md, \"Clocks per token\")\n"
	        "\treg [%u:0] fc;\n\talways @(posedge clk)\n\t\tif (rst || fc == %u'd%u)\n"
	        "\t\t\tfc <= %u'd0;\n\t\telse\n\t\t\tfc <= fc + %u'd1;\n"
	        "\twire ce = fc == %u'd%u;\n\tassign in_ready = ce;\n"
	        "\treg vin;\n\talways @(posedge clk) if (rst) vin <= 1'b0; else if (ce) vin <= in_valid;\n",
	        w->G, w->FB - 1, w->FB, w->G - 1, w->FB, w->FB, w->FB, w->G - 1);
}

static void top_module(VW *w)
{
	uint32_t i = 0, o = 0;
	size_t cur = 0;
	top_ports(w);
	for (uint32_t k = 1; k < w->nreg; k++)
		for (uint32_t j = w->rstart[k]; j < w->rstart[k + 1]; j++)
			if (w->exported[w->byreg[j]])
				decl(w, "wire", w->byreg[j]);
	if (w->G > 1)
		clock_enable(w);
	if (w->m->tokens)
		vs_control(w, &w->st);
	module_body(w, 0, 0);
	for (Ref r = 0; r < w->m->nnodes; r++) {
		const Node *n = ir_get(w->m, r);
		if (live(w->m, r) && n->op == OP_INPUT && w->G > 1)
			fprintf(w->f, "\talways @(posedge clk) if (ce) n%u <= %s;\n", r, w->iname[i++]);
		else if (live(w->m, r) && n->op == OP_INPUT)
			fprintf(w->f, "\tassign n%u = %s;\n", r, w->iname[i++]);
		else if (live(w->m, r) && n->op == OP_OUTPUT)
			fprintf(w->f, "\tassign %s = n%u;\n", w->oname[o++], ir_arg(w->m, n, 0));
	}
	if (!w->m->tokens)
		valid_chain(w);
	for (uint32_t k = 1; k < w->nreg; k++)
		instance(w, k, &cur);
	fputs("endmodule\n", w->f);
}

static void header(VW *w)
{
	fprintf(w->f, "// Generated by jepac from %s: Verilog-2005, synthesizable.\n"
	        "// Top module %s.  Ports: clk, rst, in_valid, i_* (one bus per input port),\n"
	        "// out_valid, o_* (one per output port); a port of L lanes of W bits is an\n"
	        "// L*W-bit bus with lane i in bits [i*W +: W].  See docs/hardware.md.\n"
	        "`timescale 1ns / 1ps\n"
	        "// Every value is wired as a whole bus, and ops such as shr, slice and trunc\n"
	        "// read only some of its bits; clk/rst stay in the interface of designs with\n"
	        "// no registers: unused bits are expected.\n"
	        "/* verilator lint_off UNUSEDSIGNAL */\n"
	        "// One file holds the top and every region module.\n"
	        "/* verilator lint_off DECLFILENAME */\n",
	        w->file, w->top);
}

/* --adder=ripple: w->ripple stays set only if some node adds; the adder
 * module is named jepac_rca, with a suffix if a module already is. */
static void rca_setup(VW *w)
{
	int used = 0, clash = 1;
	for (Ref r = 0; r < w->m->nnodes && !used; r++)
		used = live(w->m, r) && vw_uses_rca(w, r);
	w->ripple = used;
	if (!used)
		return;
	w->rca = xmalloc(strlen(w->top) + 32);
	strcpy(w->rca, "jepac_rca");
	for (unsigned sfx = 1; clash; sfx++) {
		clash = strncmp(w->rca, w->top, strlen(w->top)) == 0 &&
		        strcmp(w->rca + strlen(w->top), "_tb") == 0;
		for (uint32_t k = 0; k < w->nreg && !clash; k++)
			clash = strcmp(w->rca, w->mname[k]) == 0;
		if (clash)
			sprintf(w->rca, "jepac_rca_%u", sfx);
	}
	vw_rca_module(w);
}

static void vw_free(VW *w)
{
	for (uint32_t k = 0; k < w->nreg; k++)
		free(w->mname[k]);
	for (uint32_t i = 0, ni = ir_ninputs(w->m); i < ni; i++)   /* counts hoisted: */
		free(w->iname[i]);                                      /* each is O(nodes) */
	for (uint32_t i = 0, no = ir_noutputs(w->m); i < no; i++)
		free(w->oname[i]);
	free(w->iname);
	free(w->oname);
	free(w->mname);
	free(w->rix);
	free(w->rstart);
	free(w->byreg);
	free(w->exported);
	free(w->imp);
	free(w->top);
	free(w->rca);
	free(w->ustart);
	free(w->bymod);
	tshare_free(&w->ts);
}

void emit_verilog(const Module *m, FILE *f, const EmitOpts *o)
{
	VW w = {0};
	size_t cur = 0;
	w.m = m;
	w.f = f;
	w.file = o && o->input_name ? o->input_name : "<input>";
	const char *name = ir_strget(m, m->name);
	w.top = sanitize("", *name ? name : "jepac_top");
	check_module(&w);
	w.G = o && o->cpt > 1 ? o->cpt : 1;
	w.FB = w.G > 1 ? ceil_log2(w.G) : 0;
	if (w.G > 1 && o->digit)
		fatal(w.file, "--clocks-per-token and --digit cannot be combined yet");
	tshare_plan(m, w.G, &w.ts);
	if (o && o->digit) {
		w.dcap = o->digit_word;
		vd_check(&w);
	}
	vs_init(&w.st, m, w.file);
	header(&w);
	if (!o || !o->digit)
		header_stats(&w);
	assign_regions(&w);
	partition(&w);
	port_names(&w);
	if (o && o->digit) {
		w.dD = o->digit;
		w.dcap = o->digit_word;
		vd_emit(&w);
		if (o->testbench)
			vw_testbench(&w);
		vs_free(&w.st);
		vw_free(&w);
		return;
	}
	w.ripple = o && o->adder;
	rca_setup(&w);
	if (w.G > 1)
		vt_init(&w);
	for (uint32_t k = 1; k < w.nreg; k++)
		region_module(&w, k, &cur);
	top_module(&w);
	if (o && o->testbench)
		vw_testbench(&w);
	vs_free(&w.st);
	vw_free(&w);
}
