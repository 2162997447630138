/*
 * stats.c -- the cost report: `--emit=stats` (JSON) and `--stats` (a human
 * summary on stderr).
 *
 * Weights are counted by a census taken before any pass runs
 * (stats_census, through census_take in ir/timing.c; the driver's size
 * guard reads the same census): strength reduction turns matrices into adders, so the
 * weight matrices are no longer visible at the end.  A matrix applied to k
 * vectors (k tokens: one matvec over k*cols lanes) is k copies of logic in
 * a fully unrolled circuit: "weight_uses" counts weights x k, and
 * adders_per_nonzero_weight_use divides by that, while
 * adders_per_nonzero_weight divides by the distinct nonzero weights.  Everything else is
 * measured on the final module, per named region and in total:
 *
 *   adders        two-input add/sub lanes (shifts and negations are free,
 *                 as da4ml counts them); negations are reported apart
 *   fa_bits       sum over add/sub/neg lanes of the bits that need a full
 *                 adder: result width minus the constant-zero low bits that
 *                 the operands share (a ripple-carry adder's cell count)
 *   depth         adder levels on the longest path between registers (or
 *                 ports), by the delay model of ir/timing.c (pipe_levels:
 *                 add/sub/neg 1, cmul ceil(log2(CSD digits)), an unexpanded
 *                 matvec, bmatvec or sum a balanced tree, ...)
 *   var_mults     lanes of `mul` (attention's q.k and weights.v; with
 *                 --clocks-per-token, a shared unit's multipliers)
 *   var_mult_bits their partial-product bits, R(R+1)/2 for an R-bit result
 *   const_mults   lanes of cmul and vcmul plus the nonzero weights of every
 *                 matvec/bmatvec still in the graph (0 after strength
 *                 reduction)
 *   registers     `reg` lanes and their bits; latency = most registers on
 *                 any input-to-output path (clock cycles; in a stream through
 *                 every phase, where the Verilog header counts the output
 *                 timeline's alone): both from timing_analyze (ir/timing.c)
 *   luts          `lut` lanes and their table bits (entries x width: the rows
 *                 of the Verilog `case`, a short table's left-out rows not)
 *
 * The JSON's "run" object (compile time, peak memory) is the only part that
 * varies between runs; everything else is a function of input and flags.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "backends.h"
#include "timing.h"
#include "tshare.h"

typedef struct Cost {
	uint64_t weights, nonzero;
	uint64_t uses, nonzero_uses;  /* weights x the vectors they are applied to */
	uint64_t window_uses;         /* nonzero weights x their applications per window */
	uint64_t buffer_bits;         /* token buffers: tbuf, tall, tdelay (2 banks), tpick */
	uint64_t rom_bits;            /* tpos rows */
	uint64_t nodes, adders, negs, fa_bits, var_mults, const_mults;
	uint64_t registers, register_bits, luts, lut_bits;
	uint64_t hold_bits, mux_bits;     /* --clocks-per-token: the shared multipliers' */
	uint64_t mul_bits;                /* sum of R(R+1)/2 per variable multiplier */
	uint32_t depth, latency;
} Cost;

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void stats_census(const Module *m, EmitOpts *o)
{
	o->t_start = now_seconds();
	o->census_n = m->nstrs;
	o->census = census_take(m);
}

static int ctz64(int64_t v, int width)
{
	return v == 0 ? width : __builtin_ctzll((uint64_t)v);
}

/* Constant-zero low bits of every node (a lower bound; 0 when unknown). */
static uint8_t *known_zero_bits(const Module *m, const Ref *order, uint32_t nord)
{
	uint8_t *tz = xcalloc(m->nnodes + 1, 1);
	for (uint32_t k = 0; k < nord; k++) {
		Ref r = order[k];
		const Node *n = ir_get(m, r);
		const Ref *a = ir_args(m, n);
		int z = 0;
		switch (n->op) {
		case OP_CONST: z = ctz64(n->imm, n->width); break;
		case OP_SHL: z = tz[a[0]] + (int)n->imm; break;
		case OP_CMUL: z = tz[a[0]] + ctz64(n->imm, 64); break;
		case OP_NEG: case OP_EXT: case OP_TRUNC: case OP_EXTRACT: case OP_REG:
			z = tz[a[0]];
			break;
		case OP_ADD: case OP_SUB:
			z = tz[a[0]] < tz[a[1]] ? tz[a[0]] : tz[a[1]];
			break;
		case OP_CONCAT:
			z = 64;
			for (uint32_t i = 0; i < n->nargs; i++)
				z = tz[a[i]] < z ? tz[a[i]] : z;
			break;
		default: break;
		}
		tz[r] = (uint8_t)(z > n->width ? n->width : z);
	}
	return tz;
}

/* A multiplier of an R-bit result as the Verilog writes it (both operands
 * extended to R bits, the product mod 2^R): the partial-product bits
 * i + j < R, R(R+1)/2 -- the unit of the multiplier term of the cost model
 * (bench/yosys/fit.py). */
static uint64_t mul_product_bits(unsigned R)
{
	return (uint64_t)R * (R + 1) / 2;
}

static void add_node(const Module *m, Ref r, const uint8_t *tz, const uint64_t *nzw, Cost *c)
{
	const Node *n = ir_get(m, r);
	const Ref *a = ir_args(m, n);
	uint64_t len = n->len;
	c->nodes++;
	switch (n->op) {
	case OP_ADD: case OP_SUB: {
		int z = tz[a[0]] > tz[a[1]] ? tz[a[0]] : tz[a[1]];
		c->adders += len;
		c->fa_bits += len * (uint64_t)(n->width > z ? n->width - z : 0);
		break;
	}
	case OP_NEG:
		c->negs += len;
		c->fa_bits += len * (uint64_t)(n->width > tz[a[0]] ? n->width - tz[a[0]] : 0);
		break;
	case OP_MUL:
		c->var_mults += n->ty == TY_F ? 0 : len;
		c->mul_bits += n->ty == TY_F ? 0 : len * mul_product_bits(n->width);
		break;
	case OP_CMUL: case OP_VCMUL:
		c->const_mults += len;
		break;
	case OP_MATVEC: case OP_BMATVEC: {
		const Tensor *t = ir_tget(m, n->aux);
		uint64_t groups = ir_get(m, a[0])->len / t->dims[1];
		c->const_mults += nzw[n->aux] * groups;
		break;
	}
	case OP_REG:
		c->registers += len;
		c->register_bits += len * n->width;
		break;
	case OP_LUT:
		c->luts += len;
		c->lut_bits += len * ir_tget(m, n->aux)->n * n->width;
		break;
	case OP_TBUF: case OP_TPICK: case OP_WDELAY:
		c->buffer_bits += len * n->width;
		break;
	case OP_TSEQ:   /* its operands, held while the next phase plays them */
		c->buffer_bits += (uint64_t)n->nargs * len * n->width;
		break;
	case OP_TALL: case OP_TDELAY:   /* two banks of a window */
		c->buffer_bits += 2 * (uint64_t)ir_get(m, a[0])->len * m->tokens * n->width;
		break;
	case OP_TPOS:
		c->rom_bits += (uint64_t)ir_tget(m, n->aux)->n * n->width;
		break;
	default:
		break;
	}
}

/* --clocks-per-token: a unit's lanes are M multipliers (tshare.h), plus
 * its hold registers and multiplexers. */
static void share(const Module *m, const EmitOpts *o, Cost *reg, Cost *tot)
{
	TShare t;
	tshare_plan(m, o->cpt > 1 ? o->cpt : 1, &t);
	for (uint32_t i = 0; i < t.nunits; i++) {
		const TUnit *u = &t.u[i];
		Cost *c[2] = {&reg[u->region], tot};
		uint64_t hb = (uint64_t)u->held * u->R;
		for (int k = 0; k < 2; k++) {
			c[k]->var_mults += u->M;
			c[k]->var_mults -= u->n;
			c[k]->mul_bits -= (uint64_t)(u->n - u->M) * mul_product_bits(u->R);
			c[k]->hold_bits += hb;
			c[k]->mux_bits += u->mux_bits;
		}
	}
	tshare_free(&t);
}

/* Fills per-region costs (indexed by region string id) and the totals. */
static void measure(const Module *m, const EmitOpts *o, Cost *reg, Cost *tot)
{
	/* operands first whatever the textual order (a sweep by index would
	 * read operands not yet measured when users come first) */
	Ref *order = xmalloc((m->nnodes + 1) * sizeof *order);
	uint32_t nord = ir_order(m, order);
	uint8_t *tz = known_zero_bits(m, order, nord);
	uint32_t *depth = xcalloc(m->nnodes + 1, sizeof *depth);
	uint64_t *nzw = xcalloc(m->ntensors + 1, sizeof *nzw);
	for (uint32_t t = 0; t < m->ntensors; t++)
		if (tensor_has_codes(ir_tget(m, t)))
			nzw[t] = tensor_nonzero(ir_tget(m, t));
	/* depth and latency: the one timing analysis (ir/timing.c) */
	PipeInfo pi;
	timing_analyze(m, &pi, depth);
	tot->latency = pi.path_regs;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		add_node(m, r, tz, nzw, &reg[n->region]);
		add_node(m, r, tz, nzw, tot);
		if (depth[r] > reg[n->region].depth)
			reg[n->region].depth = depth[r];
		if (depth[r] > tot->depth)
			tot->depth = depth[r];
	}
	if (o->census)
		for (uint32_t s = 0; s < o->census_n && s < m->nstrs; s++) {
			const uint64_t *c = &o->census[CENSUS_K * (size_t)s];
			reg[s].weights = c[0];
			reg[s].nonzero = c[1];
			reg[s].uses = c[2];
			reg[s].nonzero_uses = c[3];
			reg[s].window_uses = c[4];
			tot->weights += c[0];
			tot->nonzero += c[1];
			tot->uses += c[2];
			tot->nonzero_uses += c[3];
			tot->window_uses += c[4];
		}
	free(order);
	free(tz);
	free(depth);
	free(nzw);
	share(m, o, reg, tot);
}

static void json_cost(cJSON *obj, const Cost *c)
{
	cJSON_AddNumberToObject(obj, "weights", (double)c->weights);
	cJSON_AddNumberToObject(obj, "nonzero_weights", (double)c->nonzero);
	cJSON_AddNumberToObject(obj, "weight_uses", (double)c->uses);
	cJSON_AddNumberToObject(obj, "nonzero_weight_uses", (double)c->nonzero_uses);
	cJSON_AddNumberToObject(obj, "nodes", (double)c->nodes);
	cJSON_AddNumberToObject(obj, "adders", (double)c->adders);
	cJSON_AddNumberToObject(obj, "negations", (double)c->negs);
	cJSON_AddNumberToObject(obj, "fa_bits", (double)c->fa_bits);
	cJSON_AddNumberToObject(obj, "depth", c->depth);
	cJSON_AddNumberToObject(obj, "var_mults", (double)c->var_mults);
	cJSON_AddNumberToObject(obj, "const_mults", (double)c->const_mults);
	cJSON_AddNumberToObject(obj, "var_mult_bits", (double)c->mul_bits);
	cJSON_AddNumberToObject(obj, "registers", (double)c->registers);
	cJSON_AddNumberToObject(obj, "register_bits", (double)c->register_bits);
	cJSON_AddNumberToObject(obj, "luts", (double)c->luts);
	cJSON_AddNumberToObject(obj, "lut_bits", (double)c->lut_bits);
	cJSON_AddNumberToObject(obj, "token_buffer_bits", (double)c->buffer_bits);
	cJSON_AddNumberToObject(obj, "token_rom_bits", (double)c->rom_bits);
	if (c->hold_bits) {
		cJSON_AddNumberToObject(obj, "shared_mul_hold_bits", (double)c->hold_bits);
		cJSON_AddNumberToObject(obj, "shared_mul_mux_bits", (double)c->mux_bits);
	}
	if (c->nonzero_uses)   /* the headline: the physical circuit */
		cJSON_AddNumberToObject(obj, "adders_per_wired_nonzero_weight",
		                        (double)c->adders / c->nonzero_uses);
	if (c->nonzero) {
		cJSON_AddNumberToObject(obj, "adders_per_nonzero_weight", (double)c->adders / c->nonzero);
		cJSON_AddNumberToObject(obj, "fa_bits_per_nonzero_weight", (double)c->fa_bits / c->nonzero);
		cJSON_AddNumberToObject(obj, "adders_per_nonzero_weight_use",
		                        (double)c->adders / c->nonzero_uses);
	}
}

static double peak_memory_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0;
}

void emit_stats(const Module *m, FILE *f, const EmitOpts *o)
{
	Cost *reg = xcalloc(m->nstrs + 1, sizeof *reg), tot = {0};
	measure(m, o, reg, &tot);
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "input", o->input_name ? o->input_name : "");
	cJSON_AddStringToObject(root, "module", ir_strget(m, m->name));
	cJSON *t = cJSON_AddObjectToObject(root, "totals");
	json_cost(t, &tot);
	cJSON_AddNumberToObject(t, "latency", tot.latency);
	/* a result is one window's outputs: T clocks of a stream, 1 clock in parallel */
	unsigned G = o->cpt > 1 ? o->cpt : 1;
	cJSON_AddNumberToObject(t, "tokens", m->tokens);
	cJSON_AddNumberToObject(t, "clocks_per_token", G);
	cJSON_AddNumberToObject(t, "clocks_per_result", (double)(m->tokens ? m->tokens : 1) * G);
	cJSON_AddNumberToObject(t, "weight_uses_per_result", (double)tot.window_uses);
	cJSON *regions = cJSON_AddArrayToObject(root, "regions");
	for (uint32_t s = 0; s < m->nstrs; s++) {
		if (reg[s].nodes == 0 && reg[s].weights == 0)
			continue;
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", s ? ir_strget(m, s) : "");
		json_cost(e, &reg[s]);
		cJSON_AddItemToArray(regions, e);
	}
	cJSON *run = cJSON_AddObjectToObject(root, "run");
	cJSON_AddNumberToObject(run, "compile_time_s", o->t_start ? now_seconds() - o->t_start : 0);
	cJSON_AddNumberToObject(run, "peak_memory_mb", peak_memory_mb());
	char *s = cJSON_Print(root);
	fputs(s, f);
	fputc('\n', f);
	free(s);
	cJSON_Delete(root);
	free(reg);
}

void stats_summary(const Module *m, const EmitOpts *o, FILE *f)
{
	Cost *reg = xcalloc(m->nstrs + 1, sizeof *reg), tot = {0};
	measure(m, o, reg, &tot);
	fprintf(f, "stats: %llu nodes, %u tensors\n", (unsigned long long)tot.nodes, m->ntensors);
	fprintf(f, "  weights %llu (nonzero %llu; %llu nonzero weight uses)\n",
	        (unsigned long long)tot.weights, (unsigned long long)tot.nonzero,
	        (unsigned long long)tot.nonzero_uses);
	fprintf(f, "  adders %llu (%.3f per wired nonzero weight), negations %llu, fa_bits %llu, depth %u\n",
	        (unsigned long long)tot.adders,
	        tot.nonzero_uses ? (double)tot.adders / tot.nonzero_uses : 0.0,
	        (unsigned long long)tot.negs, (unsigned long long)tot.fa_bits, tot.depth);
	uint64_t G = o->cpt > 1 ? o->cpt : 1, cpr = (m->tokens ? m->tokens : 1) * G;
	fprintf(f, "  %s: %llu clock%s per result, %llu nonzero weight uses per result\n",
	        m->tokens ? "stream" : "parallel", (unsigned long long)cpr, cpr > 1 ? "s" : "",
	        (unsigned long long)tot.window_uses);
	fprintf(f, "  multipliers: variable %llu, constant %llu\n",
	        (unsigned long long)tot.var_mults, (unsigned long long)tot.const_mults);
	if (G > 1)
		fprintf(f, "  %llu clocks per token: shared multipliers hold %llu register bits, "
		        "%llu multiplexer bits\n", (unsigned long long)G, (unsigned long long)tot.hold_bits,
		        (unsigned long long)tot.mux_bits);
	fprintf(f, "  registers %llu lanes (%llu bits), latency %u cycles; token buffers %llu bits\n",
	        (unsigned long long)tot.registers, (unsigned long long)tot.register_bits, tot.latency,
	        (unsigned long long)tot.buffer_bits);
	fprintf(f, "  tables %llu (%llu bits), position ROMs %llu bits\n", (unsigned long long)tot.luts,
	        (unsigned long long)tot.lut_bits, (unsigned long long)tot.rom_bits);
	if (o->t_start)
		fprintf(f, "  compile %.2f s, peak memory %.0f MB\n", now_seconds() - o->t_start,
		        peak_memory_mb());
	free(reg);
}
