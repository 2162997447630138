/*
 * vectors.c -- jepac-vectors: test input vectors for a module's ports.
 *
 *   jepac-vectors [--count N] [--seed S] [--raw] [--sigma X]
 *                 [--top=NAME] [--config=FILE] [--quant=MODE] [--all-tokens]
 *                 [--act-bits=N] INPUT
 *
 * Loads INPUT exactly as jepac does (frontend_load with the same loading
 * options).  With --raw the vectors are integer codes for `jepac --run
 * --raw`; a module with f64 ports is first lowered (pass "lower", as jepac
 * -O0 does) so that its ports are integers.  Without --raw they are real
 * values for `jepac --run`.
 *
 * Output, one vector per line, lanes of all input ports in order:
 *   1. four extreme vectors: every lane at its type's maximum; every lane at
 *      the minimum; alternating max, min, max, ...; all zero.  (Real mode:
 *      integer ports use max code * 2^-F and min code * 2^-F; f64 ports,
 *      which have no range, use +4 sigma and -4 sigma.)
 *   2. N random vectors (--count, default 64): raw codes uniform over each
 *      port's type range, or reals ~ N(0, sigma) (--sigma, default 1) by
 *      Box-Muller.  The generator is splitmix64 seeded by --seed (default 1),
 *      so the output is a pure function of the arguments.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "passes.h"

typedef struct VecOpts {
	const char *input;
	long count;
	uint64_t seed;
	int raw;
	double sigma;
	int act_bits;
	LoadOpts lopts;
} VecOpts;

static _Noreturn void usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "jepac-vectors: error: %s%s%s\n"
	        "usage: jepac-vectors [--count N] [--seed S] [--raw] [--sigma X] [--top=NAME]"
	        " [--config=FILE] [--quant=MODE] [--all-tokens] [--tokens=serial|parallel] [--act-bits=N] INPUT\n",
	        msg, arg ? ": " : "", arg ? ESC(arg) : "");
	exit(2);
}

static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != 0)
		return NULL;
	if (*i + 1 >= argc)
		usage_error("option needs a value", name);
	return argv[++*i];
}

static double num_value(const char *flag, const char *s, double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		usage_error("bad value for", flag);
	return v;
}

static void parse_opts(int argc, char **argv, VecOpts *o)
{
	const char *v;
	o->count = 64;
	o->seed = 1;
	o->sigma = 1.0;
	o->act_bits = 16;
	for (int i = 1; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--count")))
			o->count = (long)num_value("--count", v, 0, 1e9);
		else if ((v = opt_value(argc, argv, &i, "--seed")))
			o->seed = (uint64_t)num_value("--seed", v, 0, 1e18);
		else if ((v = opt_value(argc, argv, &i, "--sigma")))
			o->sigma = num_value("--sigma", v, 0, 1e300);
		else if ((v = opt_value(argc, argv, &i, "--act-bits")))
			o->act_bits = (int)num_value("--act-bits", v, 4, 32);
		else if ((v = opt_value(argc, argv, &i, "--top")))
			o->lopts.top = v;
		else if ((v = opt_value(argc, argv, &i, "--config")))
			o->lopts.config = v;
		else if ((v = opt_value(argc, argv, &i, "--quant")))
			o->lopts.quant = v;
		else if (strcmp(argv[i], "--tokens=parallel") == 0)
			o->lopts.parallel = 1;
		else if (strcmp(argv[i], "--tokens=serial") == 0)
			o->lopts.parallel = 0;
		else if (strcmp(argv[i], "--all-tokens") == 0)
			o->lopts.all_tokens = 1;
		else if (strcmp(argv[i], "--raw") == 0)
			o->raw = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			usage_error("unknown option", argv[i]);
		else if (o->input)
			usage_error("more than one input", argv[i]);
		else
			o->input = argv[i];
	}
	if (!o->input)
		usage_error("no input file", NULL);
}

/* ---- generator ----------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* N(0, 1) by Box-Muller; u1 in (0, 1] so log() is finite */
static double gaussian(uint64_t *s)
{
	double u1 = ((splitmix64(s) >> 11) + 1) * 0x1.0p-53;
	double u2 = (splitmix64(s) >> 11) * 0x1.0p-53;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- printing ------------------------------------------------------------ */

typedef struct Port {
	int ty, width, frac;
	size_t len;      /* lanes of a window (tokens * len for a stream) */
} Port;

static void put_code(const Port *p, int64_t code, const VecOpts *o)
{
	int u64 = p->ty == TY_U && p->width == 64;
	if (o->raw && u64)
		printf("%llu", (unsigned long long)(uint64_t)code);
	else if (o->raw)
		printf("%lld", (long long)code);
	else
		printf("%.17g", ldexp(u64 ? (double)(uint64_t)code : (double)code, -p->frac));
}

/* kind: 0 max, 1 min, 2 alternating, 3 zero, 4 random */
static void put_lane(const Port *p, int kind, size_t lane, uint64_t *rng, const VecOpts *o)
{
	int hi = kind == 0 || (kind == 2 && lane % 2 == 0);
	if (p->ty == TY_F) {
		double x = kind == 3 ? 0.0 : kind == 4 ? o->sigma * gaussian(rng)
		         : (hi ? 4.0 : -4.0) * o->sigma;
		printf("%.17g", x);
	} else if (kind == 4 && o->raw) {
		put_code(p, ty_wrap(p->ty, p->width, (int64_t)splitmix64(rng)), o);
	} else if (kind == 4) {
		printf("%.17g", o->sigma * gaussian(rng));
	} else if (kind == 3) {
		put_code(p, 0, o);
	} else {
		int u64 = p->ty == TY_U && p->width == 64;
		put_code(p, hi ? (u64 ? -1 : ty_max(p->ty, p->width)) : ty_min(p->ty, p->width), o);
	}
}

static void put_vector(const Port *ports, uint32_t np, int kind, uint64_t *rng, const VecOpts *o)
{
	size_t lane = 0;
	for (uint32_t i = 0; i < np; i++)
		for (size_t l = 0; l < ports[i].len; l++, lane++) {
			if (lane)
				putchar(' ');
			put_lane(&ports[i], kind, lane, rng, o);
		}
	putchar('\n');
}

int main(int argc, char **argv)
{
	VecOpts o = {0};
	parse_opts(argc, argv, &o);
	Module *m = frontend_load(o.input, &o.lopts);
	Port *ports = xcalloc(m->nnodes + 1, sizeof *ports);
	uint32_t np = 0;
	int real = 0;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		real |= (n->op == OP_INPUT || n->op == OP_OUTPUT) && n->ty == TY_F;
	}
	if (real && o.raw) {
		PassOpts po = {0, o.act_bits, 4, 0, 1, NULL, NULL, 0};
		pass_find("lower")->fn(m, &po);
	}
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (n->op != OP_INPUT || (n->flags & NF_DEAD))
			continue;
		if (o.raw && n->ty == TY_F)
			fatal(o.input, "--raw needs integer ports");
		ports[np++] = (Port){n->ty, n->width, n->ty == TY_F ? 0 : (int)n->imm, ir_vlanes(m, n)};
	}
	uint64_t rng = o.seed;
	for (int kind = 0; kind < 4; kind++)
		put_vector(ports, np, kind, &rng, &o);
	for (long i = 0; i < o.count; i++)
		put_vector(ports, np, 4, &rng, &o);
	if (fflush(stdout) != 0)
		fatal("<stdout>", "write error");
	free(ports);
	ir_free(m);
	return 0;
}
