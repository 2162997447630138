/*
 * c.c -- the C backend (--emit=c): a self-contained C11 file that computes
 * exactly what the interpreter (ir/interp.c) computes, bit for bit.
 *
 * The generated file has a documented API at its top: jepac_eval(in, out)
 * evaluates the module once on int64_t codes (ports are up to 64 bits
 * wide), JEPAC_* macros give lane counts, widths and binary points of every
 * port, and --c-main adds a main() that reads vectors from stdin and prints
 * output vectors in exactly the text format of `jepac --run` (real values
 * by default, integer codes with --raw).
 *
 * Exactness.  All arithmetic in the generated code is unsigned: ring ops
 * (add, sub, mul, shifts left, sums, matvec ...) compute modulo 2^32 when
 * the result has at most 32 bits and modulo 2^64 otherwise, which is exact
 * after wrapping into a W-bit result; ops that need true values (compare,
 * max/min, shr, roundshr, slice, sat) read the lane's exact value.  Results
 * are wrapped by masking and the xor/subtract sign-extension trick, and
 * converted to signed storage by a branch gcc folds away, so the generated
 * code has neither undefined nor implementation-defined behaviour (it is
 * compiled under -fsanitize=undefined in test/cbackend).
 *
 * Why code plus a table (measured, see docs/benchmarks.md).  gcc -O2 needs
 * about 3 ms per statement of straight-line code over a lane array (100k
 * statements: ~5 minutes), so a graph that the optimiser expanded into
 * millions of scalar add/shift nodes cannot be emitted as statements.  It
 * is emitted as a byte table of records (op, type, dst, operands,
 * immediate) that jc_run() interprets in a tight loop; gcc reads tens of MB
 * of string literal in about a second.  Concat and extract are always
 * copy records; elementwise vector nodes are records too when a module has
 * more than CG_MAX_LOOPS of them (the -O0 encoder), else loops.  Matrix
 * nodes (matvec on a 10M-weight model), lut, sum, rmax, vconst and the ports
 * are emitted as one specialised loop each, in functions of at most CG_FUNC_NODES nodes, with the weights as
 * byte strings (one byte per code, biased into printable characters), which
 * gcc also reads quickly, unlike a braced initializer (~3 s per million
 * elements).  The schedule (Kahn's algorithm, table nodes first whenever
 * one is ready) groups table nodes into few runs.  Exact integer arithmetic
 * makes loops, tables and shift-add trees give identical results.
 *
 * Determinism: the output depends only on the module (and EmitOpts).
 */
#include <stdlib.h>
#include <string.h>

#include "c_gen.h"

enum { CG_FUNC_NODES = 48, CG_MAX_LOOPS = 4000 };

static void check_module(const Module *m, const EmitOpts *o)
{
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (!(n->flags & NF_DEAD) && (n->ty == TY_F || (op_info[n->op].flags & OPF_REAL)))
			fatal(o->input_name, "--emit=c needs an integer graph: run the lowering (-O0 or higher)");
	}
}

/* Pools and slots: every live node gets len lanes of its pool. */
static void layout(CGen *g)
{
	const Module *m = g->m;
	for (uint32_t k = 0; k < g->norder; k++) {
		Ref r = g->order[k];
		const Node *n = ir_get(m, r);
		if (n->op == OP_OUTPUT)
			continue;
		g->pool[r] = cg_is_narrow(n) ? POOL_N : POOL_W;
		uint32_t *cnt = g->pool[r] == POOL_N ? &g->nn : &g->nw;
		if ((uint64_t)*cnt + cg_lanes(g, r) >= 0x7fffffffu)
			fatal(NULL, "--emit=c: the module has too many lanes");
		g->slot[r] = *cnt;
		*cnt += cg_lanes(g, r);
	}
}

/* Input ports keep their declaration order; they are numbered by index. */
static void port_numbers(CGen *g)
{
	const Module *m = g->m;
	uint32_t in = 0, out = 0;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (n->flags & NF_DEAD)
			continue;
		if (n->op == OP_INPUT)
			g->port[r] = in, in += (uint32_t)ir_vlanes(m, n);
		else if (n->op == OP_OUTPUT)
			g->port[r] = out, out += (uint32_t)ir_vlanes(m, n);
	}
}

static Ref first_unscheduled(const CGen *g, const uint32_t *indeg)
{
	for (Ref r = 0; r < g->m->nnodes; r++)
		if (indeg[r] && !(ir_get(g->m, r)->flags & NF_DEAD))
			return r;
	return 0;
}

/*
 * Kahn's algorithm over all operand edges (a register is transparent, so
 * its operand comes first).  Two FIFO queues: a ready table node is always
 * taken before a ready code node, so table nodes form long runs.
 */
static void schedule(CGen *g)
{
	const Module *m = g->m;
	uint32_t nn = m->nnodes;
	uint32_t *indeg = xcalloc(nn + 1, sizeof *indeg);
	uint32_t *ucount = xcalloc(nn + 2, sizeof *ucount);
	for (Ref r = 0; r < nn; r++) {
		const Node *n = ir_get(m, r);
		if (n->flags & NF_DEAD)
			continue;
		indeg[r] = n->nargs;
		for (uint32_t i = 0; i < n->nargs; i++)
			ucount[ir_arg(m, n, i) + 1]++;
	}
	for (Ref r = 0; r < nn; r++)
		ucount[r + 1] += ucount[r];
	Ref *users = xmalloc((ucount[nn] + 1) * sizeof *users);
	uint32_t *fill = xmalloc((nn + 1) * sizeof *fill);
	memcpy(fill, ucount, nn * sizeof *fill);
	for (Ref r = 0; r < nn; r++) {
		const Node *n = ir_get(m, r);
		if (!(n->flags & NF_DEAD))
			for (uint32_t i = 0; i < n->nargs; i++)
				users[fill[ir_arg(m, n, i)]++] = r;
	}
	Ref *qt = xmalloc((nn + 1) * sizeof *qt), *qc = xmalloc((nn + 1) * sizeof *qc);
	uint32_t ht = 0, tt = 0, hc = 0, tc = 0, live = 0;
	for (Ref r = 0; r < nn; r++) {
		const Node *n = ir_get(m, r);
		if (n->flags & NF_DEAD)
			continue;
		live++;
		if (indeg[r] == 0)
			g->table[r] ? (qt[tt++] = r) : (qc[tc++] = r);
	}
	while (ht < tt || hc < tc) {
		Ref r = ht < tt ? qt[ht++] : qc[hc++];
		g->order[g->norder++] = r;
		for (uint32_t u = ucount[r]; u < ucount[r + 1]; u++) {
			Ref s = users[u];
			if (--indeg[s] == 0)
				g->table[s] ? (qt[tt++] = s) : (qc[tc++] = s);
		}
	}
	if (g->norder != live)
		fatal(g->o->input_name, "--emit=c: node %%%u is on a cycle through a register; the C model evaluates registers transparently", first_unscheduled(g, indeg));
	free(indeg); free(ucount); free(users); free(fill); free(qt); free(qc);
}

/* Streams: a stable partition of the schedule by group (static nodes; then
 * per window phase p = 0 .. P its stream nodes, token by token, and its
 * per-window nodes), each still in topological order since every edge goes
 * to the same or a later group. */
static void group(CGen *g)
{
	const Module *m = g->m;
	g->phase = xcalloc(m->nnodes + 1, sizeof *g->phase);
	uint32_t maxp = 0;
	g->ngroups = 1;
	if (m->tokens) {
		ir_phases(m, g->phase);
		for (Ref r = 0; r < m->nnodes; r++)
			maxp = g->phase[r] > maxp ? g->phase[r] : maxp;
		g->ngroups = 2 * maxp + 3;
	}
	g->gend = xcalloc(g->ngroups + 1, sizeof *g->gend);
	Ref *sorted = xmalloc((g->norder + 1) * sizeof *sorted);
	uint32_t k = 0;
	for (uint32_t q = 0; q < g->ngroups; q++) {
		for (uint32_t i = 0; i < g->norder; i++)
			if (g->ngroups == 1 || cg_group(g, g->order[i]) == (int)q)
				sorted[k++] = g->order[i];
		g->gend[q] = k;
	}
	memcpy(g->order, sorted, g->norder * sizeof *sorted);
	free(sorted);
}

static void emit_port_macros(const CGen *g, int op, const char *dir)
{
	const Module *m = g->m;
	uint32_t k = 0;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if ((n->flags & NF_DEAD) || n->op != op)
			continue;
		fprintf(g->f, "/* %s port %u: \"%s\" */\n", dir, k, ir_strget(m, n->aux));
		fprintf(g->f, "#define JEPAC_%s%u_OFFSET %u\n#define JEPAC_%s%u_LANES %zu\n",
		        dir, k, g->port[r], dir, k, ir_vlanes(m, n));
		fprintf(g->f, "#define JEPAC_%s%u_WIDTH %u\n#define JEPAC_%s%u_SIGNED %d\n",
		        dir, k, n->width, dir, k, n->ty == TY_S);
		fprintf(g->f, "#define JEPAC_%s%u_FRAC %lld\n", dir, k, (long long)n->imm);
		k++;
	}
	fprintf(g->f, "#define JEPAC_%s_PORTS %u\n", dir, k);
}

static void emit_header(const CGen *g)
{
	FILE *f = g->f;
	const Module *m = g->m;
	fprintf(f, "/*\n * Generated by jepac from module \"%s\": a bit-exact C model.\n",
	        ir_strget(m, m->name));
	fputs(" *\n"
	      " *   void jepac_eval(const int64_t *in, int64_t *out);\n"
	      " *     Evaluates the module once (pipeline registers are transparent).\n"
	      " *     in[] holds JEPAC_IN_LANES integer codes: every lane of every input\n"
	      " *     port, ports in declaration order; out[] receives JEPAC_OUT_LANES\n"
	      " *     codes likewise.  Ports are 1 to 64 bits wide, so codes are int64_t;\n"
	      " *     an input code is wrapped into its port's type; a u64 output code\n"
	      " *     >= 2^63 comes back with the same bits (negative).  The real value\n"
	      " *     of a code is code * 2^-FRAC (FRAC = the port's binary point).\n"
	      " *     Uses a static workspace, so it is not reentrant;\n"
	      " *   void jepac_eval_ws(const int64_t *in, int64_t *out, jepac_ws *ws);\n"
	      " *     is the same with a caller's workspace (for threads); a stream\n"
	      " *     module with per-window state (wdelay) keeps it in the workspace, so\n"
	      " *     successive calls are successive windows and a zeroed workspace is\n"
	      " *     the state after reset.\n"
	      " *   JEPAC_IN<k>_{OFFSET,LANES,WIDTH,SIGNED,FRAC}: input port k's first\n"
	      " *     lane in in[], lane count, type and binary point; JEPAC_OUT<k>_* alike.\n",
	      f);
	if (g->o->c_main)
		fprintf(f, " *   main(): reads one input vector per line from stdin (blank and '#'\n"
		        " *     lines skipped) and prints one output vector per line, as\n"
		        " *     `jepac --run%s` does.  Define JEPAC_NO_MAIN to leave it out.\n",
		        g->o->raw ? " --raw" : "");
	fputs(" *\n * Compile: cc -std=c11 -O2 model.c.  No undefined or implementation-\n"
	      " * defined behaviour: all arithmetic is unsigned with explicit wrapping.\n */\n"
	      "#include <stddef.h>\n#include <stdint.h>\n\n", f);
	fprintf(f, "#define JEPAC_IN_LANES %zu\n#define JEPAC_OUT_LANES %zu\n",
	        ir_in_lanes(m), ir_out_lanes(m));
	if (m->tokens)
		fprintf(f, "#define JEPAC_TOKENS %u  /* a stream port holds TOKENS * LANES/TOKENS lanes,"
		        " token-major */\n", m->tokens);
	emit_port_macros(g, OP_INPUT, "IN");
	emit_port_macros(g, OP_OUTPUT, "OUT");
	fprintf(f, "\ntypedef struct jepac_ws {\n\tint32_t n[%u];\n\tint64_t w[%u];\n} jepac_ws;\n\n",
	        g->nn ? g->nn : 1, g->nw ? g->nw : 1);
	fputs("void jepac_eval_ws(const int64_t *in, int64_t *out, jepac_ws *ws);\n"
	      "void jepac_eval(const int64_t *in, int64_t *out);\n\n", f);
}

static void build_table(CGen *g, size_t *tabend)
{
	for (uint32_t k = 0; k < g->norder; k++) {
		Ref r = g->order[k];
		if (g->table[r]) {
			cg_tab_node(g, r);
			tabend[k] = g->ntab;
		}
	}
	if (g->ntab) {
		fprintf(g->f, "/* %zu bytes of records for jc_run() */\nstatic const unsigned char JC_TAB[%zu] =\n",
		        g->ntab, g->ntab + 1);
		cg_write_bytes(g->f, g->tab, g->ntab);
		fputs(";\n\n", g->f);
	}
}

#define FUNC_ARGS "const int64_t *restrict in, int64_t *restrict out, int32_t *restrict N, int64_t *restrict W"
#define TOK_ARG ", size_t t"

static void open_func(const CGen *g, uint32_t k)
{
	fprintf(g->f, "static void jc_f%u(" FUNC_ARGS "%s)\n{\n\t(void)in; (void)out; (void)N; (void)W;%s\n",
	        k, g->m->tokens ? TOK_ARG : "", g->m->tokens ? " (void)t;" : "");
}

/* Emits the schedule as functions jc_f0, jc_f1 ..., never one across two
 * groups; first[q] gets group q's first function.  Returns their count. */
static uint32_t emit_functions(CGen *g, const size_t *tabend, uint32_t *first)
{
	FILE *f = g->f;
	uint32_t nfunc = 0, inf = 0;
	size_t pos = 0;
	for (uint32_t q = 0, k = 0; q < g->ngroups; q++) {
		first[q] = nfunc;
		uint32_t end = g->gend[q];
		while (k < end) {
			if (inf == 0)
				open_func(g, nfunc);
			Ref r = g->order[k];
			if (g->table[r]) {
				while (k < end && g->table[g->order[k]])
					k++;
				fprintf(f, "\tjc_run(JC_TAB + %zu, JC_TAB + %zu, N, W);\n", pos, tabend[k - 1]);
				pos = tabend[k - 1];
			} else {
				cg_emit_node(g, r);
				k++;
			}
			if (++inf == CG_FUNC_NODES || k == end) {
				fputs("}\n\n", f);
				inf = 0;
				nfunc++;
			}
		}
	}
	first[g->ngroups] = nfunc;
	return nfunc;
}

/* Per phase, the stores of the token ops that read it (jc_sP). */
static void emit_stores(CGen *g)
{
	const Module *m = g->m;
	for (uint32_t p = 0; 2 * p + 1 < g->ngroups; p++) {
		fprintf(g->f, "static void jc_s%u(int32_t *restrict N, int64_t *restrict W, size_t t)\n"
		        "{\n\t(void)N; (void)W; (void)t;\n", p);
		for (uint32_t k = 0; k < g->norder; k++) {
			Ref r = g->order[k];
			const Node *n = ir_get(m, r);
			if ((n->op == OP_TALL || n->op == OP_TDELAY || n->op == OP_TPICK) &&
			    g->phase[ir_arg(m, n, 0)] == p)
				cg_emit_store(g, r);
		}
		fputs("}\n\n", g->f);
	}
}

static void emit_calls(const CGen *g, uint32_t from, uint32_t to, const char *t)
{
	for (uint32_t i = from; i < to; i++)
		fprintf(g->f, "\tjc_f%u(in, out, ws->n, ws->w%s);\n", i, t);
}

static void emit_eval(const CGen *g, const uint32_t *first)
{
	FILE *f = g->f;
	fputs("void jepac_eval_ws(const int64_t *in, int64_t *out, jepac_ws *ws)\n{\n", f);
	if (!g->m->tokens) {
		emit_calls(g, first[0], first[1], "");
	} else {
		emit_calls(g, first[0], first[1], ", 0");   /* static nodes */
		for (uint32_t p = 0; 2 * p + 1 < g->ngroups; p++) {
			fprintf(f, "\tfor (size_t t = 0; t < %u; t++) {  /* window phase %u */\n\t",
			        g->m->tokens, p);
			emit_calls(g, first[2 * p + 1], first[2 * p + 2], ", t");
			fprintf(f, "\t\tjc_s%u(ws->n, ws->w, t);\n\t}\n", p);
			emit_calls(g, first[2 * p + 2], first[2 * p + 3], ", 0");   /* per window */
		}
	}
	fputs("\t(void)in; (void)out; (void)ws;\n}\n\n"
	      "void jepac_eval(const int64_t *in, int64_t *out)\n{\n"
	      "\tstatic jepac_ws ws;\n\tjepac_eval_ws(in, out, &ws);\n}\n", f);
}

void emit_c(const Module *m, FILE *f, const EmitOpts *o)
{
	check_module(m, o);
	CGen g = {0};
	uint32_t nn = m->nnodes + 1;
	g.m = m, g.f = f, g.o = o;
	g.pool = xcalloc(nn, 1);
	g.table = xcalloc(nn, 1);
	g.slot = xcalloc(nn, sizeof *g.slot);
	g.port = xcalloc(nn, sizeof *g.port);
	g.order = xcalloc(nn, sizeof *g.order);
	g.tused = xcalloc(m->ntensors + 1, 1);
	g.tbias = xcalloc(m->ntensors + 1, sizeof *g.tbias);
	uint32_t nvec = 0;
	for (Ref r = 0; r < m->nnodes; r++)
		nvec += !(ir_get(m, r)->flags & NF_DEAD) && cg_vec_elem(ir_get(m, r));
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (n->flags & NF_DEAD)
			continue;
		g.table[r] = (uint8_t)cg_table_node(n, nvec > CG_MAX_LOOPS);
		if (!g.table[r] && (op_info[n->op].sig[0] == 't'))
			g.tused[n->aux] = 1;
	}
	schedule(&g);
	group(&g);
	layout(&g);
	port_numbers(&g);
	emit_header(&g);
	cg_emit_runtime(f);
	cg_emit_tensors(&g);
	size_t *tabend = xcalloc(g.norder + 1, sizeof *tabend);
	build_table(&g, tabend);
	uint32_t *first = xcalloc(g.ngroups + 1, sizeof *first);
	emit_functions(&g, tabend, first);
	if (m->tokens)
		emit_stores(&g);
	emit_eval(&g, first);
	free(first); free(g.phase); free(g.gend);
	if (o->c_main)
		cg_emit_main(&g);
	free(tabend); free(g.pool); free(g.table); free(g.slot); free(g.port);
	free(g.order); free(g.tused); free(g.tbias); free(g.tab);
}
