/*
 * verilog_tb.c -- the streaming testbench module TOP_tb (--testbench).
 *
 * Reads input vectors as whitespace-separated integers (the codes of every
 * lane of every input port, in order: `jepac --run --raw`'s input) from
 * +in=FILE (default /dev/stdin), presents one per clock with in_valid, and
 * writes each output vector seen with out_valid as one line of integers to
 * +out=FILE (default stdout), in `jepac --run --raw`'s format.  +gaps=N
 * inserts 0..N idle cycles (in_valid low) after each vector, from a
 * 16-bit LFSR, so the same vectors are also checked with bubbles.
 *
 * Timing: inputs change 1 ns after a rising edge; outputs are sampled at
 * the next rising edge (before the registers take their new values, the
 * usual synchronous sampling; it also avoids a combinational-update issue
 * seen with Verilator 5.006 when sampling at the falling edge).  rst is held for two
 * clocks.  The run ends latency + 2 clocks after the last vector.
 *
 * Streams: a vector is a window (every token of every input port, token
 * major); the testbench presents it one token per clock, with 0..N idle
 * cycles after each token under +gaps=N, and prints a stream output's T
 * tokens as one line (a per-window output: one line per out_valid).
 */
#include "verilog.h"

static int live(const Module *m, Ref r)
{
	return !(ir_get(m, r)->flags & NF_DEAD);
}

static void tb_decls(VW *w)
{
	const Module *m = w->m;
	uint32_t i = 0, o = 0, ni, no;
	fprintf(w->f, "\nmodule %s_tb;\n\treg clk = 1'b0;\n\treg rst = 1'b1;\n"
	        "\treg in_valid = 1'b0;\n\twire out_valid;\n%s", w->top,
	        w->G > 1 ? "\twire in_ready;\n" : "");
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (!live(m, r) || (n->op != OP_INPUT && n->op != OP_OUTPUT))
			continue;
		const Node *v = n->op == OP_INPUT ? n : ir_get(m, ir_arg(m, n, 0));
		unsigned long long b = (unsigned long long)v->len * v->width;
		unsigned long long bus = w->dD ? (unsigned long long)v->len * w->dD : b;
		if (n->op == OP_INPUT) {
			fprintf(w->f, "\treg [%llu:0] %s = %llu'h0;\n", bus - 1, w->iname[i], bus);
			fprintf(w->f, "\treg [%llu:0] t_%s;\n", b * (m->tokens ? m->tokens : 1) - 1,
			        w->iname[i++]);
		}
		else if (w->dD) {
			fprintf(w->f, "\twire [%llu:0] %s;\n\treg [%llu:0] a_%s;\n", bus - 1, w->oname[o],
			        (unsigned long long)v->len * w->dWW - 1, w->oname[o]);
			o++;
		} else {
			fprintf(w->f, "\twire [%llu:0] %s;\n", b - 1, w->oname[o++]);
		}
	}
	if (w->dD)
		fputs("\treg in_start = 1'b0;\n\twire out_start;\n\treg [63:0] e;\n"
		      "\tinteger dig, odig;\n", w->f);
	fprintf(w->f, "\tinteger fin, fout, r, i, gaps, idle, done, nin, nout, tok, otok;\n"
	        "\treg [63:0] vi, vo;\n\treg [8*1024-1:0] fname;\n"
	        "\treg [15:0] lfsr = 16'hace1;\n\n\t%s dut (.clk(clk), .rst(rst), "
	        ".in_valid(in_valid)%s%s", w->top, w->dD ? ", .in_start(in_start)" : "",
	        w->G > 1 ? ", .in_ready(in_ready)" : "");
	for (i = 0, ni = ir_ninputs(m); i < ni; i++)
		fprintf(w->f, ", .%s(%s)", w->iname[i], w->iname[i]);
	fprintf(w->f, ", .out_valid(out_valid)%s", w->dD ? ", .out_start(out_start)" : "");
	for (o = 0, no = ir_noutputs(m); o < no; o++)
		fprintf(w->f, ", .%s(%s)", w->oname[o], w->oname[o]);
	fputs(");\n\n\talways #5 clk = ~clk;\n", w->f);
}

/* Reads the rest of one vector (lane 0 of port 0 is already in vi). */
static void tb_read(VW *w)
{
	const Module *m = w->m;
	uint32_t i = 0, ni;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (!live(m, r) || n->op != OP_INPUT)
			continue;
		const char *p = w->iname[i];
		if (i++ == 0)
			fprintf(w->f, "\t\t\t\t\tt_%s[%u:0] = vi[%u:0];\n", p, n->width - 1, n->width - 1);
		fprintf(w->f, "\t\t\t\t\tfor (i = %d; i < %zu; i = i + 1) begin\n"
		        "\t\t\t\t\t\tr = $fscanf(fin, \"%%d\", vi);\n"
		        "\t\t\t\t\t\tt_%s[i*%u +: %u] = vi[%u:0];\n\t\t\t\t\tend\n",
		        i == 1, ir_vlanes(m, n), p, n->width, n->width, n->width - 1);
	}
	if (m->tokens || w->dD)
		return;   /* tb_token presents the tokens, tb_digits the digits */
	/* Nonblocking: with blocking writes from this timed process Verilator
	 * 5.006 did not re-evaluate the design's combinational logic. */
	for (i = 0, ni = ir_ninputs(m); i < ni; i++)
		fprintf(w->f, "\t\t\t\t\t%s <= t_%s;\n", w->iname[i], w->iname[i]);
}

/* Streams: token `tok` of the window read last, then the next token. */
static void tb_token(VW *w)
{
	const Module *m = w->m;
	uint32_t i = 0;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (!live(m, r) || n->op != OP_INPUT)
			continue;
		unsigned long long b = (unsigned long long)n->len * n->width;
		fprintf(w->f, "\t\t\t\t%s <= t_%s[tok*%llu +: %llu];\n", w->iname[i], w->iname[i], b, b);
		i++;
	}
	fprintf(w->f, "\t\t\t\tin_valid <= 1'b1;\n\t\t\t\ttok = tok + 1;\n"
	        "\t\t\t\tif (tok == %u) begin\n\t\t\t\t\ttok = 0;\n\t\t\t\t\tnin = nin + 1;\n"
	        "\t\t\t\tend\n", m->tokens);
}

/* Digit-serial (--digit): the vector read last (streams: its token tok), as
 * NW digits of every lane (sign- or zero-extended to the word) on NW
 * consecutive clocks, the first with in_start. */
static void tb_digits(VW *w)
{
	const Module *m = w->m;
	uint32_t i = 0;
	fprintf(w->f, "\t\t\t\t\tfor (dig = 0; dig < %u; dig = dig + 1) begin\n", w->dNW);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (!live(m, r) || n->op != OP_INPUT)
			continue;
		const char *p = w->iname[i++];
		unsigned W = n->width;
		fprintf(w->f, "\t\t\t\t\t\tfor (i = tok*%u; i < tok*%u + %u; i = i + 1) begin\n"
		        "\t\t\t\t\t\t\te = {{%u{", n->len, n->len, n->len, 64 - W);
		if (n->ty == TY_S)
			fprintf(w->f, "t_%s[i*%u+%u]", p, W, W - 1);
		else
			fputs("1'b0", w->f);
		fprintf(w->f, "}}, t_%s[i*%u +: %u]};\n"
		        "\t\t\t\t\t\t\t%s[(i-tok*%u)*%u +: %u] <= e[dig*%u +: %u];\n\t\t\t\t\t\tend\n",
		        p, W, W, p, n->len, w->dD, w->dD, w->dD, w->dD);
	}
	fprintf(w->f, "\t\t\t\t\t\tin_valid <= 1'b1;\n\t\t\t\t\t\tin_start <= dig == 0;\n"
	        "\t\t\t\t\t\tif (dig < %u) begin\n\t\t\t\t\t\t\t@(posedge clk);\n"
	        "\t\t\t\t\t\t\t#1;\n\t\t\t\t\t\tend\n\t\t\t\t\tend\n", w->dNW - 1);
	if (m->tokens)
		fprintf(w->f, "\t\t\t\t\ttok = tok + 1;\n\t\t\t\t\tif (tok == %u) begin\n"
		        "\t\t\t\t\t\ttok = 0;\n\t\t\t\t\t\tnin = nin + 1;\n\t\t\t\t\tend\n",
		        m->tokens);
	else
		fputs("\t\t\t\t\tnin = nin + 1;\n", w->f);
}

/* Clocks after the last token until every result is out. */
static uint32_t drain(const VW *w)
{
	if (w->dD)
		return w->dlat + w->dNW + 2;
	uint64_t c = w->latency + 2;
	if (w->m->tokens) {
		c = 10;
		for (uint32_t l = 0; l < w->st.nph + (w->st.nw ? w->st.nw : 1); l++)
			c += w->st.maxst[l] + w->st.T + 2;
	}
	c = (c + (w->G > 1)) * w->G;   /* G clocks a token; the inputs are registered */
	return c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

static void tb_driver(VW *w)
{
	fputs("\n\tinitial begin\n"
	      "\t\tif (!$value$plusargs(\"in=%s\", fname))\n\t\t\tfname = \"/dev/stdin\";\n"
	      "\t\tfin = $fopen(fname, \"r\");\n"
	      "\t\tif (fin == 0) begin\n\t\t\t$display(\"tb: cannot open %0s\", fname);\n"
	      "\t\t\t$finish;\n\t\tend\n"
	      "\t\tif ($value$plusargs(\"out=%s\", fname))\n\t\t\tfout = $fopen(fname, \"w\");\n"
	      "\t\telse\n\t\t\tfout = 32'h8000_0001;\n"
	      "\t\tif (!$value$plusargs(\"gaps=%d\", gaps))\n\t\t\tgaps = 0;\n"
	      "\t\tidle = 0;\n\t\tdone = 0;\n\t\tnin = 0;\n\t\tnout = 0;\n\t\ttok = 0;\n\t\totok = 0;\n"
	      "\t\t@(posedge clk);\n\t\t@(posedge clk);\n\t\t#1 rst <= 1'b0;\n"
	      "\t\twhile (done == 0) begin\n", w->f);
	if (w->G > 1)   /* a token (or an idle slot) is taken at a clock with in_ready */
		fputs("\t\t\twhile (in_ready !== 1'b1) begin\n\t\t\t\t@(posedge clk);\n"
		      "\t\t\t\t#1;\n\t\t\tend\n", w->f);
	fputs("\t\t\tif (idle > 0) begin\n\t\t\t\tin_valid <= 1'b0;\n\t\t\t\tidle = idle - 1;\n"
	      "\t\t\tend else begin\n\t\t\t\tr = 1;\n", w->f);
	fputs(w->m->tokens ? "\t\t\t\tif (tok == 0)\n\t" : "", w->f);
	fputs("\t\t\t\tr = $fscanf(fin, \"%d\", vi);\n"
	      "\t\t\t\tif (r != 1) begin\n\t\t\t\t\tdone = 1;\n\t\t\t\t\tin_valid <= 1'b0;\n"
	      "\t\t\t\tend else begin\n", w->f);
	if (w->m->tokens) {
		fputs("\t\t\t\tif (tok == 0) begin\n", w->f);
		tb_read(w);
		fputs("\t\t\t\tend\n", w->f);
		if (w->dD)
			tb_digits(w);
		else
			tb_token(w);
	} else if (w->dD) {
		tb_read(w);
		tb_digits(w);
	} else {
		tb_read(w);
		fputs("\t\t\t\t\tin_valid <= 1'b1;\n\t\t\t\t\tnin = nin + 1;\n", w->f);
	}
	fprintf(w->f, "\t\t\t\t\tif (gaps > 0) begin\n\t\t\t\t\t\tidle = {16'h0, lfsr} %% (gaps + 1);\n"
	        "\t\t\t\t\t\tlfsr = {lfsr[14:0], lfsr[15] ^ lfsr[13] ^ lfsr[12] ^ lfsr[10]};\n"
	        "\t\t\t\t\tend\n\t\t\t\tend\n\t\t\tend\n\t\t\t@(posedge clk);\n\t\t\t#1;\n\t\tend\n"
	        "\t\trepeat (%u) @(posedge clk);\n"
	        "\t\tif (nout != nin)\n\t\t\t$display(\"tb: %%0d vectors in, %%0d out\", nin, nout);\n"
	        "\t\tif (fout != 32'h8000_0001)\n\t\t\t$fclose(fout);\n\t\t$finish;\n\tend\n",
	        drain(w));
}

/* Digit-serial: each output digit goes into its lane's word a_NAME; the
 * word is printed (the code below, under "if") after its last digit. */
static void tb_collect(VW *w)
{
	const Module *m = w->m;
	uint32_t o = 0;
	fputs("\t\tif (out_start)\n\t\t\todig = 0;\n", w->f);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (!live(m, r) || n->op != OP_OUTPUT)
			continue;
		const char *p = w->oname[o++];
		fprintf(w->f, "\t\tfor (i = 0; i < %u; i = i + 1)\n"
		        "\t\t\ta_%s[i*%u + odig*%u +: %u] = %s[i*%u +: %u];\n",
		        ir_get(m, ir_arg(m, n, 0))->len, p, w->dWW, w->dD, w->dD, p, w->dD, w->dD);
	}
	fprintf(w->f, "\t\todig = odig + 1;\n\t\tif (odig == %u) begin\n", w->dNW);
}

static void tb_monitor(VW *w)
{
	const Module *m = w->m;
	uint32_t o = 0;
	fputs("\n\talways @(posedge clk)\n\t\tif (out_valid === 1'b1 && rst == 1'b0) begin\n", w->f);
	if (w->dD)
		tb_collect(w);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (!live(m, r) || n->op != OP_OUTPUT)
			continue;
		const Node *v = ir_get(m, ir_arg(m, n, 0));
		const char *p = w->oname[o], *pre = w->dD ? "a_" : "";
		unsigned st = w->dD ? w->dWW : v->width;   /* lane stride of the word bus */
		fprintf(w->f, "\t\t\tfor (i = 0; i < %u; i = i + 1) begin\n", v->len);
		if (v->ty == TY_S)
			fprintf(w->f, "\t\t\t\tvo = {64{%s%s[i*%u+%u]}};\n", pre, p, st, v->width - 1);
		else
			fputs("\t\t\t\tvo = 64'h0;\n", w->f);
		fprintf(w->f, "\t\t\t\tvo[%u:0] = %s%s[i*%u +: %u];\n", v->width - 1, pre, p, st, v->width);
		/* signed lanes print as signed, unsigned ones (u64 too) as unsigned */
		const char *val = v->ty == TY_S ? "$signed(vo)" : "vo";
		if (o++ == 0)
			fprintf(w->f, "\t\t\t\tif (i == 0 && otok == 0)\n\t\t\t\t\t$fwrite(fout, \"%%0d\", %s);\n"
			        "\t\t\t\telse\n\t", val);
		fprintf(w->f, "\t\t\t\t$fwrite(fout, \" %%0d\", %s);\n\t\t\tend\n", val);
	}
	/* a stream output's tokens make one line */
	uint32_t per = m->tokens && w->st.out_line != UINT32_MAX && w->st.out_line < w->st.nph
	               ? m->tokens : 1;
	fprintf(w->f, "\t\t\totok = otok + 1;\n\t\t\tif (otok == %u) begin\n"
	        "\t\t\t\totok = 0;\n\t\t\t\t$fwrite(fout, \"\\n\");\n\t\t\t\tnout = nout + 1;\n"
	        "\t\t\tend\n\t\tend\n%sendmodule\n", per, w->dD ? "\t\tend\n" : "");
}

void vw_testbench(VW *w)
{
	if (ir_ninputs(w->m) == 0 || ir_in_lanes(w->m) == 0)
		fatal(w->file, "--testbench needs at least one input port");
	tb_decls(w);
	tb_driver(w);
	tb_monitor(w);
}
