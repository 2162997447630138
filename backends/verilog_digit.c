/*
 * verilog_digit.c -- digit-serial Verilog (--digit=D; docs/hardware.md,
 * "Digit-serial arithmetic").
 *
 * Framing.  Every value travels as words of NW = ceil((Wmax + 1) / D)
 * digits of D bits, least significant digit first, one digit per lane per
 * clock; Wmax is the widest value carried serially (--digit-word, by
 * default the widest value of the design), so one word length WW = NW * D
 * serves every serial value, and a word always holds its value sign- (or,
 * unsigned, zero-) extended to WW bits.  A wider value, and a serial op
 * reading one, is computed word-parallel like the converters' ops below (a
 * pipeline register among them is a wire).  The input digits of a word come on
 * NW consecutive clocks with in_valid, the first one with in_start; words
 * may be separated by any number of idle clocks.
 *
 * Timing.  A value's digit stream dR has a skew: the clocks from an input
 * word's first digit to the value's first digit.  The word-start strobe is
 * carried along a shift register ds[] (ds[s + j] high: a value of skew s
 * is at its digit j), so every value knows its digit index.
 *   add/sub/neg  a D-bit adder and a carry flip-flop, the carry-in forced
 *                at digit 0 (0; 1 for sub and neg, as a + ~b + 1)
 *   shl k        the operand's digits delayed by ceil((k - b) / D) clocks
 *                for bit b of a digit (a tap of its delay chain; zeros
 *                below bit k of the word); same skew as the operand
 *   shr k, slice the result is ceil(k / D) clocks later than the operand
 *                (the bits it needs come later); bits above the word are
 *                the operand's sign, held from its last digit
 *   reg          a one-digit delay (skew + 1)
 *   ext, trunc, extract, concat   wiring
 * An operand of a skew below its reader's is read from a tap of its delay
 * chain dR_1, dR_2, ... (skew balancing; one chain per value, shared by
 * all readers), or, 2 NW clocks late or more, from a long delay dR_lK: its
 * words held every NW clocks and serialized again.  A result whose value can exceed its type (interval of the
 * operand types) is re-extended from its width: bits at and above W are
 * replaced by bit W-1 (held from its digit) or zeros.
 *
 * Everything else (const and vconst, mul, lut, compares, select, max, min,
 * sat, roundshr, sum, rmax, matvec...) is computed on whole words: a
 * converter deserializes its operands at a common skew s (a shift register
 * per lane, its word held from digit NW-1 for the next NW clocks), computes
 * the op with the bit-parallel writer (verilog_ops.c, operands renamed to
 * the held words nA_wS) and serializes the result at skew s + NW (a digit
 * multiplexer on the strobe).  Constants are serialized at the skew of
 * their first reader.  A converter reads another converter's word as it is
 * in the same window, or from a word hold nR_wS (a register loaded the
 * clock before its window, chained every NW clocks) in a later one.
 *
 * Streams: every token is one word.  tpos and tbuf are converters reading
 * the token index held at their skew (tg_S: counted at the input, a hold
 * every NW clocks); tpick is wiring, and per-window outputs are valid for
 * the picked token's word only.  Window phases and window state (tall,
 * tdelay, tseq, wdelay) are rejected.  The design is one flat module (no
 * region modules).
 */
#include <stdlib.h>
#include <string.h>

#include "verilog.h"

enum { K_SER, K_CONST, K_CONV, K_TPOS };

typedef struct DG {
	VW *w;
	const Module *m;
	FILE *f;
	unsigned D, NW, WW;
	unsigned cap;       /* widest value carried digit-serially */
	uint8_t *kind;
	uint8_t *rx;        /* re-extended from its width */
	uint8_t *ser;       /* has a digit stream dR */
	uint32_t *sk;       /* skew of dR; K_CONV: its serializer's */
	uint32_t *base;     /* K_CONV: skew its operands are deserialized at */
	uint32_t *depth;    /* delay chain dR_1 .. dR_depth */
	uint64_t *des;      /* sorted unique (skew << 32 | node) deserializers */
	size_t ndes, cdes;
	uint64_t *hol;      /* sorted unique (node << 32 | skew) word holds nR_wS */
	size_t nhol, chol;
	uint64_t *lng;      /* sorted unique (node << 32 | delay) long delays dR_lK */
	size_t nlng, clng;
	uint32_t S, K;      /* output skew, strobe chain length */
	/* streams: token index holds tg_S at skews tgs[0 .. ntg-1] (sorted) */
	uint32_t *tgs;
	size_t ntg;
	uint32_t wk;        /* token the per-window outputs are picked at, or UINT32_MAX */
} DG;

static int live(const Module *m, Ref r)
{
	return !(ir_get(m, r)->flags & NF_DEAD);
}

/* The widest value (outputs carry their operand's). */
static unsigned max_width(const Module *m)
{
	unsigned maxw = 1;
	for (Ref r = 0; r < m->nnodes; r++)
		if (live(m, r) && ir_get(m, r)->op != OP_OUTPUT && ir_get(m, r)->width > maxw)
			maxw = ir_get(m, r)->width;
	return maxw;
}

static unsigned umax(unsigned a, unsigned b)
{
	return a > b ? a : b;
}

/* The widest value carried digit-serially: --digit-word or the widest
 * value, and at least every port's and token op's width. */
static unsigned serial_cap(const VW *w)
{
	const Module *m = w->m;
	unsigned cap = w->dcap ? w->dcap : max_width(m);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (live(m, r) && (n->op == OP_INPUT || n->op == OP_OUTPUT ||
		                   (op_info[n->op].flags & OPF_TOKEN)))
			cap = umax(cap, (n->op == OP_OUTPUT ? ir_get(m, ir_arg(m, n, 0)) : n)->width);
	}
	return cap;
}

/* A serial op of a value wider than the cap, or reading one: word-parallel. */
static int too_wide(const DG *g, const Node *n)
{
	if (n->width > g->cap)
		return 1;
	for (uint32_t j = 0; j < n->nargs; j++)
		if (ir_get(g->m, ir_arg(g->m, n, j))->width > g->cap)
			return 1;
	return 0;
}

static int node_kind(const DG *g, Ref r)
{
	const Node *n = ir_get(g->m, r);
	switch (n->op) {
	case OP_INPUT: case OP_OUTPUT: case OP_TPICK:
		return K_SER;
	case OP_ADD: case OP_SUB: case OP_NEG: case OP_SHL: case OP_SHR: case OP_EXT:
	case OP_TRUNC: case OP_SLICE: case OP_EXTRACT: case OP_CONCAT: case OP_REG:
		return too_wide(g, n) ? K_CONV : K_SER;
	case OP_CONST: case OP_VCONST:
		return K_CONST;
	case OP_TPOS:
		return K_TPOS;
	default:   /* tbuf too; the other token ops: rejected by vd_check */
		return K_CONV;
	}
}

/* shr/slice amount, clamped: beyond WW - 1 every bit is the sign. */
static unsigned shr_amount(const DG *g, const Node *n)
{
	return n->imm >= g->WW - 1 ? g->WW - 1 : (unsigned)n->imm;
}

/* Extra skew of a serial op's result over its operands'. */
static uint32_t op_delay(const DG *g, const Node *n)
{
	if (n->op == OP_REG)
		return 1;
	if (n->op == OP_SHR || n->op == OP_SLICE)
		return (shr_amount(g, n) + g->D - 1) / g->D;
	return 0;
}

typedef __int128 I128;

static void ty_range(const Node *n, I128 *lo, I128 *hi)
{
	*lo = ty_min(n->ty, n->width);
	*hi = ty_max(n->ty, n->width);
}

/* Can the exact result of serial node r leave its type (then the word,
 * computed mod 2^WW, is re-extended from the result width)? */
static int needs_rx(const DG *g, Ref r)
{
	const Module *m = g->m;
	const Node *n = ir_get(m, r);
	I128 lo, hi, lb, hb;
	if (n->op == OP_INPUT || n->op == OP_OUTPUT)
		return 0;
	if (n->op == OP_SLICE || n->nargs == 0)
		return 1;
	ty_range(ir_get(m, ir_arg(m, n, 0)), &lo, &hi);
	switch (n->op) {
	case OP_ADD: case OP_SUB:
		ty_range(ir_get(m, ir_arg(m, n, 1)), &lb, &hb);
		if (n->op == OP_ADD)
			lo += lb, hi += hb;
		else
			lo -= hb, hi -= lb;
		break;
	case OP_NEG:
		lb = -hi, hi = -lo, lo = lb;
		break;
	case OP_SHL:
		if (n->imm >= 62)
			return 1;
		lo *= (I128)1 << n->imm;
		hi *= (I128)1 << n->imm;
		break;
	case OP_SHR:
		lo >>= n->imm < 100 ? n->imm : 100;
		hi >>= n->imm < 100 ? n->imm : 100;
		break;
	case OP_CONCAT:
		for (uint32_t j = 1; j < n->nargs; j++) {
			ty_range(ir_get(m, ir_arg(m, n, j)), &lb, &hb);
			lo = lb < lo ? lb : lo;
			hi = hb > hi ? hb : hi;
		}
		break;
	default:   /* ext, trunc, extract, reg: the operand's value */
		break;
	}
	return lo < ty_min(n->ty, n->width) || hi > ty_max(n->ty, n->width);
}

/* Constants and tpos: serialized at the least skew their readers need. */
static int floating(const DG *g, Ref a)
{
	return g->kind[a] == K_CONST || g->kind[a] == K_TPOS;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void push(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = x;
}

static void need_tap(DG *g, Ref a, uint32_t k)
{
	g->ser[a] = 1;
	if (k > g->depth[a])
		g->depth[a] = k;
}

/* Is a's digit stream delayed by k clocks carried as words (a long delay:
 * held every NW clocks and serialized again, dA_lK) rather than by its
 * delay chain?  From 2 NW clocks on; not for tpos (its word is a function
 * of the token index at its skew). */
static int is_long(const DG *g, Ref a, uint32_t k)
{
	return k >= 2 * g->NW && g->kind[a] != K_TPOS;
}

/* The word of a as converters at skew b read it, nA_wB: a serial value's
 * from its own deserializer (at its skew, the chain's origin) through word
 * holds, a converter's through holds of its result. */
static void need_hold(DG *g, Ref a, uint32_t b)
{
	push(&g->hol, &g->nhol, &g->chol, (uint64_t)a << 32 | b);
	if (g->kind[a] == K_SER) {
		need_tap(g, a, 0);
		push(&g->des, &g->ndes, &g->cdes, (uint64_t)g->sk[a] << 32 | a);
	}
}

/* A serial reader needs a's digits delayed by k clocks. */
static void use_tap(DG *g, Ref a, uint32_t k)
{
	if (!is_long(g, a, k)) {
		need_tap(g, a, k);
		return;
	}
	push(&g->lng, &g->nlng, &g->clng, (uint64_t)a << 32 | k);
	if (g->kind[a] != K_CONST)
		need_hold(g, a, g->sk[a] + k - g->NW);
}

/* The token each per-window value is picked at (tpick; one per value:
 * vs_init rejects values of two capture points meeting): the token whose
 * word the outputs are valid for, or UINT32_MAX when they are streams. */
static uint32_t window_token(const DG *g)
{
	const Module *m = g->m;
	uint32_t *wk = xmalloc(((size_t)m->nnodes + 1) * sizeof *wk), out = UINT32_MAX;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		wk[r] = n->op == OP_TPICK ? (uint32_t)n->imm : UINT32_MAX;
		if (!live(m, r) || n->op == OP_TPICK)
			continue;
		for (uint32_t j = 0; j < n->nargs; j++)
			if (wk[ir_arg(m, n, j)] != UINT32_MAX)
				wk[r] = wk[ir_arg(m, n, j)];
		if (n->op == OP_OUTPUT)
			out = wk[r];
	}
	free(wk);
	return out;
}

/* Token index holds: tg_A holds the token index of the word at skew A
 * while its digits pass (loaded at ds[A-1] from a hold at most NW skews
 * earlier, so that one still holds the same word's index); tg_0 is the
 * input's token counter.  Needed at every tpos and tbuf and, for
 * per-window outputs, at the outputs. */
/* A hold chain: holds at window starts u[0 .. n-1] (sorted, unique, above
 * the origin's), each loaded at ds[A-1] from the one before, with links
 * inserted so that no step exceeds NW; out[0] = the origin.  Returns the
 * length; out has room for n + 1 + (u[n-1] - origin) / NW. */
static size_t chain(const DG *g, uint32_t origin, const uint64_t *u, size_t n, uint32_t *out)
{
	size_t c = 0;
	out[c++] = origin;
	for (size_t i = 0; i < n; i++) {
		while (u[i] - out[c - 1] > g->NW)
			out[c] = out[c - 1] + g->NW, c++;
		out[c++] = (uint32_t)u[i];
	}
	return c;
}

static size_t sort_unique(uint64_t *u, size_t n)
{
	size_t k = 0;
	if (n == 0)
		return 0;
	qsort(u, n, sizeof *u, cmp_u64);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || u[i] != u[k - 1])
			u[k++] = u[i];
	return k;
}

static void token_holds(DG *g)
{
	const Module *m = g->m;
	size_t n = 0, k;
	uint64_t *u = xmalloc(((size_t)m->nnodes + 1) * sizeof *u);
	g->wk = window_token(g);
	if (g->wk != UINT32_MAX && g->S)
		u[n++] = g->S;
	for (Ref r = 0; r < m->nnodes; r++)
		if (live(m, r) && (ir_get(m, r)->op == OP_TPOS || ir_get(m, r)->op == OP_TBUF) && g->sk[r])
			u[n++] = g->sk[r];
	k = sort_unique(u, n);
	g->tgs = xmalloc((k + 2 + (k ? u[k - 1] / g->NW : 0)) * sizeof *g->tgs);
	g->ntg = chain(g, 0, u, k, g->tgs);
	free(u);
}

/* Skews, kinds, re-extensions, delay chain depths, deserializers. */
static void analyze(DG *g)
{
	const Module *m = g->m;
	uint32_t nn = m->nnodes + 1, maxw = 1;
	g->kind = xcalloc(nn, 1);
	g->rx = xcalloc(nn, 1);
	g->ser = xcalloc(nn, 1);
	g->sk = xcalloc(nn, sizeof *g->sk);
	g->base = xcalloc(nn, sizeof *g->base);
	g->depth = xcalloc(nn, sizeof *g->depth);
	maxw = g->cap = serial_cap(g->w);
	g->NW = (maxw + 1 + g->D - 1) / g->D;
	g->WW = g->NW * g->D;
	for (Ref r = 0; r < m->nnodes; r++)
		g->sk[r] = UINT32_MAX;
	/* skews, forward; constants get the least skew of their serial readers */
	for (Ref r = 0; r < m->nnodes; r++) {
		if (!live(m, r))
			continue;
		const Node *n = ir_get(m, r);
		uint32_t b = 0;
		g->kind[r] = (uint8_t)node_kind(g, r);
		for (uint32_t j = 0; j < n->nargs; j++) {
			Ref a = ir_arg(m, n, j);
			if (a >= r)
				fatal(g->w->file, "--digit: node %%%u reads a later node %%%u", r, a);
			uint32_t at = g->kind[a] == K_CONV && g->kind[r] == K_CONV ? g->base[a] : g->sk[a];
			if (!floating(g, a) && at > b)
				b = at;
		}
		for (uint32_t j = 0; j < n->nargs && n->op != OP_OUTPUT; j++) {
			Ref a = ir_arg(m, n, j);
			if (g->kind[a] == K_TPOS && b < g->sk[a])
				g->sk[a] = b;
		}
		if (n->op == OP_OUTPUT) {
			g->S = b > g->S ? b : g->S;
			continue;
		}
		if (g->kind[r] == K_CONV) {
			g->base[r] = b;
			g->sk[r] = b + g->NW;
		} else if (g->kind[r] == K_SER) {
			g->sk[r] = n->op == OP_INPUT ? 0 : b + op_delay(g, n);
			g->rx[r] = (uint8_t)needs_rx(g, r);
		}
		if (g->kind[r] == K_SER)
			for (uint32_t j = 0; j < n->nargs; j++) {
				Ref a = ir_arg(m, n, j);
				if (g->kind[a] == K_CONST && b < g->sk[a])
					g->sk[a] = b;
			}
	}
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (live(m, r) && n->op == OP_OUTPUT && floating(g, ir_arg(m, n, 0)) &&
		    g->S < g->sk[ir_arg(m, n, 0)])
			g->sk[ir_arg(m, n, 0)] = g->S;
	}
	/* taps */
	uint32_t maxsk = g->S;
	for (Ref r = 0; r < m->nnodes; r++) {
		if (!live(m, r))
			continue;
		if (g->kind[r] == K_TPOS && g->sk[r] == UINT32_MAX)
			g->sk[r] = 0;   /* unread */
		const Node *n = ir_get(m, r);
		if (g->sk[r] != UINT32_MAX && g->sk[r] > maxsk)
			maxsk = g->sk[r];
		for (uint32_t j = 0; j < n->nargs; j++) {
			Ref a = ir_arg(m, n, j);
			if (n->op == OP_OUTPUT) {
				use_tap(g, a, g->S - g->sk[a]);
			} else if (g->kind[r] == K_CONV) {
				if (g->kind[a] == K_CONST || (g->kind[a] == K_CONV && g->base[a] == g->base[r]))
					continue;   /* read as it is: a constant, a word of the same window */
				if (g->kind[a] == K_CONV ||   /* a word of an earlier window: held */
				    (g->kind[a] == K_SER && g->base[r] - g->sk[a] >= g->NW)) {
					need_hold(g, a, g->base[r]);
					continue;
				}
				need_tap(g, a, g->base[r] - g->sk[a]);
				push(&g->des, &g->ndes, &g->cdes, (uint64_t)g->base[r] << 32 | a);
			} else if (n->op == OP_SHL) {
				unsigned k = n->imm > g->WW ? g->WW : (unsigned)n->imm;
				for (unsigned b = 0; b < g->D; b++)   /* delays of the bits kept */
					if ((k + g->D - 1 - b) / g->D < g->NW)
						use_tap(g, a, g->sk[r] - g->sk[a] + (k + g->D - 1 - b) / g->D);
			} else if (n->op == OP_SHR || n->op == OP_SLICE) {
				unsigned k = shr_amount(g, n);
				need_tap(g, a, 0);   /* the sign hold */
				for (unsigned b = 0; b < g->D; b++)
					if ((b + k) / g->D < g->NW)
						use_tap(g, a, g->sk[r] - g->sk[a] - (b + k) / g->D);
			} else {
				use_tap(g, a, g->sk[r] - g->sk[a] - (n->op == OP_REG));
			}
		}
	}
	g->ndes = sort_unique(g->des, g->ndes);
	g->nhol = sort_unique(g->hol, g->nhol);
	g->nlng = sort_unique(g->lng, g->nlng);
	g->K = maxsk + g->NW;
	if (m->tokens)
		token_holds(g);
}

/* ---- printing ------------------------------------------------------- */

/* How a reader's lane gi maps to an operand lane. */
typedef struct Lane {
	int mode;          /* 0: gi, 1: gi % a, 2: a, 3: gi + a */
	uint32_t a;
} Lane;

static Lane lane_of(const DG *g, Ref r, Ref a)
{
	const Node *n = ir_get(g->m, r);
	uint32_t la = ir_get(g->m, a)->len;
	Lane l = {0, 0};
	if (n->op == OP_EXTRACT)
		l.mode = 3, l.a = (uint32_t)n->imm;
	else if (la == 1)
		l.mode = 2;
	else if (la != n->len && n->op != OP_CONCAT)
		l.mode = 1, l.a = la;
	return l;
}

static void put_lane(FILE *f, Lane l)
{
	switch (l.mode) {
	case 0: fputs("gi", f); break;
	case 1: fprintf(f, "(gi%%%u)", l.a); break;
	case 2: fprintf(f, "%u", l.a); break;
	default: fprintf(f, "(gi+%u)", l.a); break;
	}
}

static void put_tap(const DG *g, Ref a, uint32_t k)
{
	if (is_long(g, a, k))
		fprintf(g->f, "d%u_l%u", a, k);
	else if (k)
		fprintf(g->f, "d%u_%u", a, k);
	else
		fprintf(g->f, "d%u", a);
}

/* Digit (bit < 0) or bit `bit` of lane l of operand a delayed by k. */
static void put_dig(const DG *g, Ref a, uint32_t k, Lane l, int bit)
{
	put_tap(g, a, k);
	fputc('[', g->f);
	put_lane(g->f, l);
	if (bit < 0)
		fprintf(g->f, "*%u +: %u]", g->D, g->D);
	else
		fprintf(g->f, "*%u+%d]", g->D, bit);
}

/* "a value of skew s is at digit >= j" (j in 1 .. NW-1). */
static void put_ge(const DG *g, uint32_t s, uint32_t j)
{
	if (j == 1)
		fprintf(g->f, "~ds[%u]", s);
	else
		fprintf(g->f, "~|ds[%u:%u]", s + j - 1, s);
}

static void decl_bus(const DG *g, const char *kind, const char *name, Ref r, uint64_t bits)
{
	fprintf(g->f, "\t%s [%llu:0] %s%u;\n", kind, (unsigned long long)bits - 1, name, r);
}

static void declarations(DG *g)
{
	const Module *m = g->m;
	fprintf(g->f, "\tgenvar gi;\n\treg [%u:1] vq, sq;\n\twire [%u:0] dv = {vq, in_valid};\n"
	        "\twire [%u:0] ds = {sq, in_valid & in_start};\n", g->K, g->K, g->K);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (!live(m, r) || n->op == OP_OUTPUT)
			continue;
		uint64_t dbits = (uint64_t)n->len * g->D;
		if (g->kind[r] != K_SER)
			decl_bus(g, "wire", "n", r, (uint64_t)n->len * n->width);
		if (g->kind[r] == K_SER || g->ser[r])
			decl_bus(g, "wire", "d", r, dbits);
		for (uint32_t k = 1; k <= g->depth[r]; k++)
			fprintf(g->f, "\treg [%llu:0] d%u_%u;\n", (unsigned long long)dbits - 1, r, k);
	}
	for (size_t i = 0; i < g->ndes; i++) {
		Ref a = (Ref)g->des[i];
		const Node *n = ir_get(m, a);
		fprintf(g->f, "\twire [%llu:0] n%u_w%u;\n",
		        (unsigned long long)n->len * n->width - 1, a, (uint32_t)(g->des[i] >> 32));
	}
}

/* The input's token counter tg_0 (a word's index while its digits come in:
 * it counts at the word's last digit) and the holds tg_A. */
static void token_control(const DG *g)
{
	unsigned B = g->w->st.B;
	fprintf(g->f, "\t// streams: %u tokens per window, one word per token; tg_A: the token "
	        "index of the word at skew A\n\treg [%u:0] tg_0;\n\talways @(posedge clk)\n"
	        "\t\tif (rst || (ds[%u] && tg_0 == %u'd%u))\n\t\t\ttg_0 <= %u'd0;\n"
	        "\t\telse if (ds[%u])\n\t\t\ttg_0 <= tg_0 + %u'd1;\n", g->m->tokens, B - 1,
	        g->NW - 1, B, g->m->tokens - 1, B, g->NW - 1, B);
	for (size_t i = 1; i < g->ntg; i++)
		fprintf(g->f, "\treg [%u:0] tg_%u;\n\talways @(posedge clk) if (ds[%u]) tg_%u <= tg_%u;\n",
		        B - 1, g->tgs[i], g->tgs[i] - 1, g->tgs[i], g->tgs[i - 1]);
}

static void strobes_and_chains(const DG *g)
{
	const Module *m = g->m;
	fprintf(g->f, "\talways @(posedge clk)\n\t\tif (rst) begin\n\t\t\tvq <= %u'h0;\n"
	        "\t\t\tsq <= %u'h0;\n\t\tend else begin\n\t\t\tvq <= dv[%u:0];\n"
	        "\t\t\tsq <= ds[%u:0];\n\t\tend\n", g->K, g->K, g->K - 1, g->K - 1);
	if (m->tokens)
		token_control(g);
	for (Ref r = 0; r < m->nnodes; r++)
		for (uint32_t k = 1; live(m, r) && k <= g->depth[r]; k++) {
			fprintf(g->f, "\talways @(posedge clk) d%u_%u <= ", r, k);
			put_tap(g, r, k - 1);
			fputs(";\n", g->f);
		}
}

static void open_gen(const DG *g, uint32_t L, const char *name, Ref r, int part)
{
	fprintf(g->f, "\tgenerate for (gi = 0; gi < %u; gi = gi + 1) begin : g_%s%u", L, name, r);
	if (part >= 0)
		fprintf(g->f, "_%d", part);
	fputs("\n", g->f);
}

/* Bit b of the sign of lane l of a's word (its bit WW-1), held from digit
 * NW-1 while the reader needs it; "1'b0" for an unsigned a. */
static void sign_hold(const DG *g, Ref a, Lane l)
{
	if (ir_get(g->m, a)->ty != TY_S)
		return;
	fprintf(g->f, "\t\treg sh;\n\t\talways @(posedge clk) if (ds[%u]) sh <= ", g->sk[a] + g->NW - 1);
	put_dig(g, a, 0, l, (int)g->D - 1);
	fputs(";\n", g->f);
}

/* wire [D-1:0] r: the digit of serial node r before re-extension. */
static void raw_digit(const DG *g, Ref r, Ref a0, Lane l0)
{
	const Node *n = ir_get(g->m, r);
	unsigned D = g->D;
	uint32_t s = g->sk[r];
	fprintf(g->f, "\t\twire [%u:0] r;\n", D - 1);
	switch (n->op) {
	case OP_ADD: case OP_SUB: case OP_NEG: {
		int sub = n->op != OP_ADD;
		Ref b = n->op == OP_NEG ? a0 : ir_arg(g->m, n, 1);
		fprintf(g->f, "\t\treg c;\n\t\twire ci = ds[%u] ? 1'b%d : c;\n\t\twire [%u:0] t = {1'b0, ",
		        s, sub, D);
		if (n->op == OP_NEG)
			fprintf(g->f, "%u'h0", D);
		else
			put_dig(g, a0, s - g->sk[a0], l0, -1);
		fputs("} + {1'b0, ", g->f);
		put_dig(g, b, s - g->sk[b], lane_of(g, r, b), -1);
		if (sub)
			fprintf(g->f, " ^ {%u{1'b1}}", D);
		fprintf(g->f, "} + {{%u{1'b0}}, ci};\n\t\talways @(posedge clk) c <= t[%u];\n"
		        "\t\tassign r = t[%u:0];\n", D, D, D - 1);
		break;
	}
	case OP_SHL: {
		unsigned k = n->imm > g->WW ? g->WW : (unsigned)n->imm;
		for (unsigned b = 0; b < D; b++) {
			unsigned e = (k + D - 1 - b) / D, src = (b + D - k % D) % D;
			fprintf(g->f, "\t\tassign r[%u] = ", b);
			if (e >= g->NW) {
				fputs("1'b0;\n", g->f);
				continue;
			}
			if (e) {
				put_ge(g, s, e);
				fputs(" ? ", g->f);
			}
			put_dig(g, a0, s - g->sk[a0] + e, l0, (int)src);
			fputs(e ? " : 1'b0;\n" : ";\n", g->f);
		}
		break;
	}
	case OP_SHR: case OP_SLICE: {
		unsigned k = shr_amount(g, n);
		int sgn = ir_get(g->m, a0)->ty == TY_S;
		sign_hold(g, a0, l0);
		for (unsigned b = 0; b < D; b++) {
			unsigned f = (b + k) / D, src = (b + k) % D;
			fprintf(g->f, "\t\tassign r[%u] = ", b);
			if (f >= g->NW) {
				fputs(sgn ? "sh;\n" : "1'b0;\n", g->f);
				continue;
			}
			if (f) {
				put_ge(g, s, g->NW - f);
				fputs(sgn ? " ? sh : " : " ? 1'b0 : ", g->f);
			}
			put_dig(g, a0, s - g->sk[a0] - f, l0, (int)src);
			fputs(";\n", g->f);
		}
		break;
	}
	case OP_REG:
		fprintf(g->f, "\t\treg [%u:0] q;\n\t\talways @(posedge clk) q <= ", D - 1);
		put_dig(g, a0, s - 1 - g->sk[a0], l0, -1);
		fputs(";\n\t\tassign r = q;\n", g->f);
		break;
	default:   /* ext, trunc, extract, a part of a concat */
		fputs("\t\tassign r = ", g->f);
		put_dig(g, a0, s - g->sk[a0], l0, -1);
		fputs(";\n", g->f);
		break;
	}
}

/* assign lane `tl` of dR = r, re-extended from the node's width if rx. */
static void final_digit(const DG *g, Ref r, Lane tl)
{
	const Node *n = ir_get(g->m, r);
	unsigned D = g->D, R = n->width, m = (R - 1) % D, jr = (R - 1) / D;
	uint32_t s = g->sk[r];
	int sgn = n->ty == TY_S;
	if (g->rx[r] && sgn)
		fprintf(g->f, "\t\treg h;\n\t\talways @(posedge clk) if (ds[%u]) h <= r[%u];\n", s + jr, m);
	fprintf(g->f, "\t\tassign d%u[", r);
	put_lane(g->f, tl);
	fprintf(g->f, "*%u +: %u] = ", D, D);
	if (!g->rx[r]) {
		fputs("r;\n", g->f);
		return;
	}
	if (jr + 1 < g->NW) {
		put_ge(g, s, jr + 1);
		if (sgn)
			fprintf(g->f, " ? {%u{h}} : ", D);
		else
			fprintf(g->f, " ? %u'h0 : ", D);
	}
	if (m == D - 1) {
		fputs("r;\n", g->f);
		return;
	}
	fprintf(g->f, "ds[%u] ? {", s + jr);
	if (sgn)
		fprintf(g->f, "{%u{r[%u]}}", D - 1 - m, m);
	else
		fprintf(g->f, "%u'h0", D - 1 - m);
	fprintf(g->f, ", r[%u:0]} : r;\n", m);
}

static void serial_node(const DG *g, Ref r)
{
	const Node *n = ir_get(g->m, r);
	if (n->op == OP_INPUT || n->op == OP_OUTPUT)
		return;   /* ports: vd_emit */
	if (n->op == OP_CONCAT) {
		uint32_t off = 0;
		for (uint32_t j = 0; j < n->nargs; j++) {
			Ref a = ir_arg(g->m, n, j);
			Lane src = {0, 0}, dst = {3, off};
			open_gen(g, ir_get(g->m, a)->len, "d", r, (int)j);
			raw_digit(g, r, a, src);
			final_digit(g, r, dst);
			fputs("\tend endgenerate\n", g->f);
			off += ir_get(g->m, a)->len;
		}
		return;
	}
	Ref a0 = ir_arg(g->m, n, 0);
	Lane tl = {0, 0};
	open_gen(g, n->len, "d", r, -1);
	raw_digit(g, r, a0, lane_of(g, r, a0));
	final_digit(g, r, tl);
	fputs("\tend endgenerate\n", g->f);
}

/* dR from the word bus nR at skew sk[r]: digit j while ds[sk + j]. */
/* Digit stream `dst` at skew s from the words of r named `word` (NULL:
 * nR). */
static void serialize(const DG *g, Ref r, const char *word, const char *dst, uint32_t s, int part)
{
	const Node *n = ir_get(g->m, r);
	VSrc x = vw_src(g->m, r, 0);
	x.var = 1;
	x.name = word;
	open_gen(g, n->len, "s", r, part);
	fprintf(g->f, "\t\twire [%u:0] e = ", g->WW - 1);
	vw_x(g->w, &x, g->WW);
	fprintf(g->f, ";\n\t\tassign %s[gi*%u +: %u] =", dst, g->D, g->D);
	for (unsigned j = 0; j < g->NW; j++)
		fprintf(g->f, "%s({%u{ds[%u]}} & e[%u:%u])", j ? "\n\t\t\t| " : " ", g->D,
		        s + j, (j + 1) * g->D - 1, j * g->D);
	fputs(";\n\tend endgenerate\n", g->f);
}

static void serializer(const DG *g, Ref r)
{
	char d[24];
	snprintf(d, sizeof d, "d%u", r);
	serialize(g, r, NULL, d, g->sk[r], -1);
}

/* The long delays dA_lK: a's words held to the window at skew sk + K
 * (constants: their word) and serialized there. */
static void long_delays(const DG *g)
{
	for (size_t i = 0; i < g->nlng; i++) {
		Ref a = (Ref)(g->lng[i] >> 32);
		uint32_t k = (uint32_t)g->lng[i];
		char d[40], word[40];
		snprintf(d, sizeof d, "d%u_l%u", a, k);
		snprintf(word, sizeof word, "n%u_w%u", a, g->sk[a] + k - g->NW);
		fprintf(g->f, "\twire [%llu:0] %s;\n", (unsigned long long)ir_get(g->m, a)->len * g->D - 1, d);
		serialize(g, a, g->kind[a] == K_CONST ? NULL : word, d, g->sk[a] + k, (int)k);
	}
}

/* n<a>_w<s>: the words of a's stream read at skew s, held for NW clocks
 * from the clock after their last digit. */
static void deserializer(const DG *g, uint64_t key)
{
	Ref a = (Ref)key;
	uint32_t s = (uint32_t)(key >> 32);
	const Node *n = ir_get(g->m, a);
	unsigned D = g->D, NW = g->NW;
	Lane l = {0, 0};
	fprintf(g->f, "\tgenerate for (gi = 0; gi < %u; gi = gi + 1) begin : g_n%u_w%u\n",
	        n->len, a, s);
	if (NW > 1) {
		fprintf(g->f, "\t\treg [%u:0] sr;\n\t\talways @(posedge clk) sr <= ", (NW - 1) * D - 1);
		if (NW > 2)
			fputc('{', g->f);
		put_dig(g, a, s - g->sk[a], l, -1);
		if (NW > 2)
			fprintf(g->f, ", sr[%u:%u]}", (NW - 1) * D - 1, D);
		fputs(";\n", g->f);
	}
	fprintf(g->f, "\t\twire [%u:0] wd = {", g->WW - 1);
	put_dig(g, a, s - g->sk[a], l, -1);
	fprintf(g->f, "%s};\n\t\treg [%u:0] h;\n\t\talways @(posedge clk) if (ds[%u]) h <= wd[%u:0];\n"
	        "\t\tassign n%u_w%u[gi*%u +: %u] = h;\n\tend endgenerate\n",
	        NW > 1 ? ", sr" : "", n->width - 1, s + NW - 1, n->width - 1, a, s, n->width, n->width);
}

/* Is operand a of converter r read as it is (nA: a constant, or a word of
 * r's window) rather than as nA_wS (deserialized or held)? */
static int same_window(const DG *g, Ref r, Ref a)
{
	return g->kind[a] == K_CONST || (g->kind[a] == K_CONV && g->base[a] == g->base[r]);
}

/* The word holds nP_wB of converter results P read in later windows: a
 * hold chain from nP (docs/hardware.md, "Word holds"). */
static void word_holds(const DG *g)
{
	uint32_t *out = NULL;
	uint64_t *u = xmalloc((g->nhol + 1) * sizeof *u);
	for (size_t i = 0; i < g->nhol;) {
		Ref p = (Ref)(g->hol[i] >> 32);
		const Node *n = ir_get(g->m, p);
		size_t k = 0;
		for (; i < g->nhol && (Ref)(g->hol[i] >> 32) == p; i++)
			u[k++] = (uint32_t)g->hol[i] + g->NW;
		/* origin: a converter's word nP, or a serial value's deserializer at its skew */
		uint32_t o = g->kind[p] == K_CONV ? g->base[p] : g->sk[p];
		out = xrealloc(out, (k + 2 + (u[k - 1] - o) / g->NW) * sizeof *out);
		size_t c = chain(g, o + g->NW, u, k, out);
		for (size_t j = 1; j < c; j++) {
			fprintf(g->f, "\treg [%llu:0] n%u_w%u;\n\talways @(posedge clk) if (ds[%u]) n%u_w%u <= n%u",
			        (unsigned long long)n->len * n->width - 1, p, out[j] - g->NW, out[j] - 1, p,
			        out[j] - g->NW, p);
			if (j > 1 || g->kind[p] == K_SER)
				fprintf(g->f, "_w%u", out[j - 1] - g->NW);
			fputs(";\n", g->f);
		}
	}
	free(u);
	free(out);
}

/* tpos: the rows of its tensor by the token index at its skew (zeros past
 * the last row). */
static void tpos_word(const DG *g, Ref r)
{
	const Node *n = ir_get(g->m, r);
	const Tensor *t = ir_tget(g->m, n->aux);
	fprintf(g->f, "\tassign n%u =", r);
	for (uint32_t k = 0; k < t->dims[0] && k < g->m->tokens; k++) {
		fprintf(g->f, " tg_%u == %u'd%u ? {", g->sk[r], g->w->st.B, k);
		for (uint32_t i = n->len; i-- > 0;) {
			vw_lit(g->w, n->width, (uint64_t)(int64_t)t->codes[(size_t)k * n->len + i]);
			fputs(i ? ", " : "", g->f);
		}
		fputs("} :", g->f);
	}
	fprintf(g->f, " %llu'h0;\n", (unsigned long long)n->len * n->width);
}

/* tbuf: the operand's words of the tokens before t from L registers
 * (written when its word of token t is held), token t's word itself,
 * zeros after. */
static void tbuf_word(const DG *g, Ref r)
{
	const Node *n = ir_get(g->m, r);
	Ref a = ir_arg(g->m, n, 0);
	unsigned long long xw = (unsigned long long)ir_get(g->m, a)->len * ir_get(g->m, a)->width;
	uint32_t L = (uint32_t)(n->len / ir_get(g->m, a)->len), s = g->sk[r];
	unsigned B = g->w->st.B;
	char x[32];
	if (same_window(g, r, a))
		snprintf(x, sizeof x, "n%u", a);
	else
		snprintf(x, sizeof x, "n%u_w%u", a, g->base[r]);
	fprintf(g->f, "\treg [%llu:0] b%u;\n\talways @(posedge clk) if (ds[%u] && {1'b0, tg_%u} < "
	        "%u'd%u) b%u[tg_%u*%llu +: %llu] <= %s;\n", L * xw - 1, r, s, s, B + 1, L, r, s,
	        xw, xw, x);
	for (uint32_t j = 0; j < L; j++) {
		fprintf(g->f, "\tassign n%u[%llu +: %llu] = ", r, j * xw, xw);
		if (j + 1 < g->m->tokens)   /* the last token has no later one */
			fprintf(g->f, "tg_%u > %u'd%u ? b%u[%llu +: %llu] : ", s, B, j, r, j * xw, xw);
		fprintf(g->f, "tg_%u == %u'd%u ? %s : %llu'h0;\n", s, B, j, x, xw);
	}
}

static void conv_node(DG *g, Ref r)
{
	const Node *n = ir_get(g->m, r);
	VW *w = g->w;
	for (uint32_t j = 0; j < n->nargs; j++) {
		Ref a = ir_arg(g->m, n, j);
		if (!same_window(g, r, a))
			w->dwin[a] = g->base[r];
	}
	w->dcur = r;
	vw_assign(w, r);
	for (uint32_t j = 0; j < n->nargs; j++)
		w->dwin[ir_arg(g->m, n, j)] = UINT32_MAX;
	w->dcur = NOREF;
}

/* A pipeline register among word-parallel ops: a wire (the word is held
 * for NW clocks: the converters' ops are multicycle paths). */
static void conv_reg(DG *g, Ref r)
{
	const Node *n = ir_get(g->m, r);
	Ref a = ir_arg(g->m, n, 0);
	VSrc x = vw_src(g->m, a, 0);
	x.var = 1;
	if (!same_window(g, r, a))
		g->w->dwin[a] = g->base[r];
	g->w->dcur = r;
	open_gen(g, n->len, "r", r, -1);
	fprintf(g->f, "\t\tassign n%u[gi*%u +: %u] = ", r, n->width, n->width);
	vw_x(g->w, &x, n->width);
	fputs(";\n\tend endgenerate\n", g->f);
	g->w->dwin[a] = UINT32_MAX;
	g->w->dcur = NOREF;
}

static void top_port(const DG *g, int *first, const char *dir, uint64_t bits, const char *name)
{
	fprintf(g->f, "%s\t%s wire ", *first ? "(\n" : ",\n", dir);
	*first = 0;
	if (bits > 1)
		fprintf(g->f, "[%llu:0] ", (unsigned long long)bits - 1);
	fputs(name, g->f);
}

static void top_ports(const DG *g)
{
	const Module *m = g->m;
	int first = 1;
	uint32_t i = 0, o = 0;
	fprintf(g->f, "\nmodule %s ", g->w->top);
	top_port(g, &first, "input", 1, "clk");
	top_port(g, &first, "input", 1, "rst");
	top_port(g, &first, "input", 1, "in_valid");
	top_port(g, &first, "input", 1, "in_start");
	for (Ref r = 0; r < m->nnodes; r++)
		if (live(m, r) && ir_get(m, r)->op == OP_INPUT)
			top_port(g, &first, "input", (uint64_t)ir_get(m, r)->len * g->D, g->w->iname[i++]);
	top_port(g, &first, "output", 1, "out_valid");
	top_port(g, &first, "output", 1, "out_start");
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (live(m, r) && n->op == OP_OUTPUT)
			top_port(g, &first, "output", (uint64_t)ir_get(m, ir_arg(m, n, 0))->len * g->D,
			         g->w->oname[o++]);
	}
	fputs("\n);\n", g->f);
}

/* lut functions of every table node: the writer's per-region loop, run
 * over one region holding every live node. */
static void lut_functions(DG *g)
{
	VW *w = g->w;
	Ref *save_by = w->byreg;
	uint32_t *save_st = w->rstart, st[2] = {0, 0};
	Ref *all = xmalloc(((size_t)g->m->nnodes + 1) * sizeof *all);
	for (Ref r = 0; r < g->m->nnodes; r++)
		if (live(g->m, r))
			all[st[1]++] = r;
	w->byreg = all;
	w->rstart = st;
	vw_lut_functions(w, 0);
	w->byreg = save_by;
	w->rstart = save_st;
	free(all);
}

void vd_check(VW *w)
{
	const Module *m = w->m;
	for (Ref r = 0; r < m->nnodes; r++) {
		int op = ir_get(m, r)->op;
		if (live(m, r) && (op_info[op].flags & OPF_TOKEN) && op != OP_TPOS && op != OP_TBUF &&
		    op != OP_TPICK)
			fatal(w->file, "--digit: token op %s (window phases, window state) is not "
			      "digit-serial yet; use --tokens=parallel", op_info[op].name);
	}
	if (serial_cap(w) > 61)
		fatal(w->file, "--digit: a value of %u bits (digit-serial words hold at most "
		      "61-bit values; --digit-word=N computes wider ones word-parallel)", serial_cap(w));
}

void vd_emit(VW *w)
{
	DG g = {0};
	g.wk = UINT32_MAX;
	const Module *m = w->m;
	uint32_t i = 0, o = 0;
	g.w = w;
	g.m = m;
	g.f = w->f;
	g.D = w->dD;
	analyze(&g);
	w->dNW = g.NW;
	w->dWW = g.WW;
	w->dlat = g.S;
	w->ripple = 0;
	w->dwin = xmalloc(((size_t)m->nnodes + 1) * sizeof *w->dwin);
	memset(w->dwin, 0xff, ((size_t)m->nnodes + 1) * sizeof *w->dwin);
	w->dcur = NOREF;
	fprintf(g.f, "// digit-serial (--digit=%u): words of %u digits of %u bits (%u-bit words), "
	        "least significant digit first; latency %u clocks from a word's first digit to "
	        "its result's first digit\n", g.D, g.NW, g.D, g.WW, g.S);
	top_ports(&g);
	declarations(&g);
	lut_functions(&g);
	strobes_and_chains(&g);
	for (size_t k = 0; k < g.ndes; k++)
		deserializer(&g, g.des[k]);
	word_holds(&g);
	long_delays(&g);
	for (Ref r = 0; r < m->nnodes; r++) {
		if (!live(m, r))
			continue;
		const Node *n = ir_get(m, r);
		if (n->op == OP_INPUT)
			fprintf(g.f, "\tassign d%u = %s;\n", r, w->iname[i++]);
		else if (n->op == OP_OUTPUT) {
			Ref a = ir_arg(m, n, 0);
			fprintf(g.f, "\tassign %s = ", w->oname[o++]);
			put_tap(&g, a, g.S - g.sk[a]);
			fputs(";\n", g.f);
		} else if (g.kind[r] == K_SER)
			serial_node(&g, r);
		else {
			if (n->op == OP_TBUF)
				tbuf_word(&g, r);
			else if (g.kind[r] == K_TPOS)
				tpos_word(&g, r);
			else if (g.kind[r] == K_CONV && n->op == OP_REG)
				conv_reg(&g, r);
			else if (g.kind[r] == K_CONV)
				conv_node(&g, r);
			else
				vw_assign(w, r);
			if (g.ser[r])
				serializer(&g, r);
		}
	}
	if (g.wk != UINT32_MAX)   /* per-window outputs: the picked token's word */
		fprintf(g.f, "\twire pick = tg_%u == %u'd%u;\n\tassign out_valid = dv[%u] & pick;\n"
		        "\tassign out_start = ds[%u] & pick;\nendmodule\n", g.S, w->st.B, g.wk, g.S, g.S);
	else
		fprintf(g.f, "\tassign out_valid = dv[%u];\n\tassign out_start = ds[%u];\nendmodule\n",
		        g.S, g.S);
	free(g.kind);
	free(g.rx);
	free(g.ser);
	free(g.sk);
	free(g.base);
	free(g.depth);
	free(g.des);
	free(g.hol);
	free(g.lng);
	free(g.tgs);
	free(w->dwin);
	w->dwin = NULL;
}
