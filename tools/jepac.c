/*
 * jepac.c -- the compiler driver.
 *
 *   jepac [options] INPUT        INPUT: .jir text, LQ40 .bin, .safetensors, or -
 *
 * Order of work: load (frontend) -> verify -> pass pipeline (-O level or
 * --passes=) with optional verification and dumps after each pass -> either
 * --run (interpret vectors from stdin) or --emit=KIND to -o FILE (stdout by
 * default).  A file named by -o is written under a temporary name and renamed
 * only when everything succeeded, so a failed run leaves nothing behind.
 *
 * Exit status: 0 success, 1 bad input (one "jepac: error: ..." line),
 * 2 bad command line.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends.h"
#include "frontend.h"
#include "passes.h"
#include "timing.h"

#define JEPAC_VERSION "0.1.0"

/* The driver's mutable globals: the output file, whose temporary twin is
 * removed if the run fails (fatal() calls jepac_cleanup before exiting), and
 * the progress display below. */
static OutFile out;

/* Progress on a terminal.  When stderr is a terminal (and no option writes
 * its own lines there), a helper thread shows "jepac: [i/n] STEP  T s" on
 * one line, redrawn twice a second, once the compile has run for
 * JEPAC_PROGRESS_AFTER seconds (default 3); the line is erased when the
 * work is done.  Steps: load, each pass, emit.  Nothing is written when
 * stderr is not a terminal. */
static struct Progress {
	pthread_mutex_t mu;
	pthread_t th;
	int on, stop, shown, i, n;
	const char *what;
	double t0, after;
} prog = {.mu = PTHREAD_MUTEX_INITIALIZER};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *progress_main(void *arg)
{
	(void)arg;
	struct timespec tick = {0, 100000000};
	for (int k = 0;; k++) {
		pthread_mutex_lock(&prog.mu);
		if (prog.stop) {
			pthread_mutex_unlock(&prog.mu);
			return NULL;
		}
		double t = now_s() - prog.t0;
		if (t >= prog.after && k % 5 == 0) {
			fprintf(stderr, "\033[Kjepac: [%d/%d] %s  %.0f s\r", prog.i, prog.n, prog.what, t);
			fflush(stderr);
			prog.shown = 1;
		}
		pthread_mutex_unlock(&prog.mu);
		nanosleep(&tick, NULL);
	}
}

static void progress_start(int nsteps)
{
	const char *a = getenv("JEPAC_PROGRESS_AFTER");
	prog.after = a && *a ? atof(a) : 3.0;
	prog.t0 = now_s();
	prog.n = nsteps;
	prog.i = 1;
	prog.what = "load";
	if (prog.after <= 0) {   /* (shown at once: what the tests rely on) */
		fprintf(stderr, "\033[Kjepac: [1/%d] load  0 s\r", nsteps);
		prog.shown = 1;
	}
	prog.on = pthread_create(&prog.th, NULL, progress_main, NULL) == 0;
}

static void progress_step(const char *what)
{
	if (!prog.on)
		return;
	pthread_mutex_lock(&prog.mu);
	prog.i++;
	prog.what = what;
	pthread_mutex_unlock(&prog.mu);
}

static void progress_stop(void)
{
	if (!prog.on)
		return;
	pthread_mutex_lock(&prog.mu);
	prog.stop = 1;
	pthread_mutex_unlock(&prog.mu);
	pthread_join(prog.th, NULL);
	prog.on = 0;
	if (prog.shown)
		fputs("\033[K", stderr);
}

void jepac_cleanup(void)
{
	if (prog.on) {   /* (an error line was just printed: leave it) */
		pthread_mutex_lock(&prog.mu);
		prog.stop = 1;
		pthread_mutex_unlock(&prog.mu);
		pthread_join(prog.th, NULL);
		prog.on = 0;
	}
	out_discard(&out);
}

typedef struct Options {
	const char *input;
	const char *output;     /* -o, NULL = stdout */
	const char *emit;       /* ir, dot, c, verilog, stats */
	const char *passes;     /* --passes= list, or NULL for the -O pipeline */
	const char *print_after;
	int print_after_all;
	int verify_each;
	int stats;
	int time_passes;      /* --time-passes: one line per pass on stderr */
	uint64_t max_uses;      /* --max-weight-uses: size guard, 0 = none */
	int run;
	int real_run;           /* --float */
	PassOpts popts;
	LoadOpts lopts;
	EmitOpts eopts;
} Options;

static void usage(FILE *f)
{
	fputs("usage: jepac [options] INPUT\n"
	      "INPUT is a .jir file, an LQ40 .bin, a .safetensors checkpoint, or - (stdin).\n"
	      "\n"
	      "Options:\n"
	      "  -O0 | -O1 | -O2 | -O3 optimisation level (default -O1); -O3 is -O2 with the\n"
	      "                        constant-matrix solver taking whole matrices up to 64x\n"
	      "                        more work (fewer adders on float-weight layers, much\n"
	      "                        slower: minutes per 12-bit 192 x 192 layer)\n"
	      "  --passes=a,b,c        run exactly these passes instead of the -O pipeline\n"
	      "  --emit=KIND           ", f);
	backend_print_kinds(f, " | ");
	fprintf(f, " (default %s)\n", backend_at(0)->name);
	fputs(	      "  -o FILE               write the output to FILE (default stdout)\n"
	      "  --run                 read input vectors from stdin, print output vectors\n"
	      "  --float               with --run: evaluate the float graph (no lowering)\n"
	      "  --raw                 ports as integer codes (--run, --emit=c)\n"
	      "  --top=NAME            model part to build (checkpoints): predict-step\n"
	      "                        (default), predictor, action-encoder, encoder,\n"
	      "                        projector, pred-proj, world (all of it: frames and\n"
	      "                        actions in, prediction out, history on chip)\n"
	      "  --all-tokens          predictor: output every token, not only the last;\n"
	      "                        encoder: every layer on every token, then the CLS\n"
	      "  --tokens=FORM         serial (default): each weight matrix wired once, one\n"
	      "                        token per clock (a stream); parallel: every token of\n"
	      "                        a window at once, each matrix once per token\n"
	      "  --config=FILE         config.json for a safetensors checkpoint\n"
	      "  --quant=MODE          q4-pred | full | none: quantize float weights\n"
	      "  --act-bits=N          activation width for fixed-point lowering (default 16)\n"
	      "  --c-main              --emit=c: add a main() reading vectors from stdin\n"
	      "  --testbench           --emit=verilog: add a streaming testbench\n"
	      "  --adder=STYLE         --emit=verilog adders: infer (`+`, default) | ripple\n"
	      "  --digit=D             --emit=verilog: digit-serial, D bits per clock (1, 2, 4,\n"
	      "                        ..., 32) least significant first, or full (default);\n"
	      "                        a stream's token is one word (not yet: encoder, world)\n"
	      "  --clocks-per-token=G  --emit=verilog/stats: take a token every G clocks and\n"
	      "                        time-share the variable multipliers G ways (default 1;\n"
	      "                        the encoder's attention with G = tokens: one key per\n"
	      "                        clock); not with --digit\n"
	      "  --digit-word=N        --digit: values of at most N bits travel digit-serially\n"
	      "                        (words of ceil((N+1)/D) digits); wider ones and their\n"
	      "                        readers are computed word-parallel (default: the widest)\n"
	      "  --pipeline=none       keep the design combinational\n"
	      "  --stage-depth=N       adder levels per pipeline stage\n"
	      "  --max-adder-depth=N   cse: adder depth of each constant matrix <= N (or its\n"
	      "                        minimum, ceil(log2(CSD digits of a row))); fewer adders\n"
	      "                        with a larger N (default: unbounded)\n"
	      "  --max-weight-uses=N   refuse designs with more nonzero weight uses than N\n"
	      "                        (default 64000000, ~130 bytes each at -O2; 0 = no limit)\n"
	      "  --print-after=PASS    dump the IR to stderr after PASS (under '; after PASS')\n"
	      "  --print-after-all     dump the IR to stderr after every pass\n"
	      "  --verify-each         run the verifier after every pass\n"
	      "  --stats               print a summary to stderr\n"
	      "  -v, --verbose         --stats plus one line per constant matrix solved\n"
	      "  --time-passes         print wall and CPU time and node count after each pass,\n"
	      "                        loading and emitting to stderr\n"
	      "  --help, --version\n"
	      "\n"
	      "Limits (each refusal is one error line, exit status 1):\n"
	      "  weight uses          --max-weight-uses (default 64000000)\n"
	      "  memory               an allocation the machine refuses: 'out of memory', no output\n"
	      "  --run vector lines   4096 + 64 bytes per input lane; no NUL byte; final newline\n"
	      "  config.json sizes    1..10^7, checked against the tensors the file holds\n"
	      "  .jir text            value names up to 1000 characters, widths 1..64,\n"
	      "                       lanes 1..2^32-1\n"
	      "  safetensors          JSON header up to 100 MiB; at most 4 dimensions and\n"
	      "                       2^40 elements a tensor; every offset inside the file\n"
	      "  LQ40                 every count and record checked against the bytes present\n"
	      "\n", f);
	backend_print_help(f);
	pass_print_help(f);
}

static _Noreturn void bad_flag(const char *fmt, ...)
{
	va_list ap;
	fputs("jepac: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	exit(2);
}

/* "--name=value" or "--name value": returns the value or NULL. */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == 0) {
		if (*i + 1 >= argc)
			bad_flag("%s needs a value", ESC(name));
		return argv[++*i];
	}
	return NULL;
}

static int int_value(const char *flag, const char *s, int lo, int hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		bad_flag("%s: '%s' is not an integer in %d..%d", flag, ESC(s), lo, hi);
	return (int)v;
}

static int one_of(const char *s, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

static void parse_args(int argc, char **argv, Options *o)
{
	static const char *const quants[] = {"q4-pred", "full", "none", NULL};
	const char *v;
	o->emit = backend_at(0)->name;
	o->popts.olevel = 1;
	o->popts.act_bits = 16;
	o->popts.stage_depth = 4;
	o->max_uses = 64000000;
	o->popts.pipeline = 1;
	o->popts.seed = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "--version") == 0) {
			printf("jepac %s\n", JEPAC_VERSION);
			exit(0);
		} else if (!strcmp(a, "-O0") || !strcmp(a, "-O1") || !strcmp(a, "-O2") ||
		           !strcmp(a, "-O3")) {
			o->popts.olevel = a[2] - '0';
		} else if (strcmp(a, "-o") == 0) {
			if (i + 1 >= argc)
				bad_flag("-o needs a file name");
			o->output = argv[++i];
		} else if ((v = flag_value(argc, argv, &i, "--emit"))) {
			if (!backend_find(v)) {
				char kinds[256] = "";
				for (int k = 0; backend_at(k); k++)
					snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s",
					         k ? ", " : "", backend_at(k)->name);
				bad_flag("--emit: unknown kind '%s' (%s)", ESC(v), kinds);
			}
			o->emit = v;
		} else if ((v = flag_value(argc, argv, &i, "--passes"))) {
			o->passes = v;
		} else if ((v = flag_value(argc, argv, &i, "--print-after"))) {
			if (!pass_find(v))
				bad_flag("--print-after: unknown pass '%s'", ESC(v));
			o->print_after = v;
		} else if (strcmp(a, "--print-after-all") == 0) {
			o->print_after_all = 1;
		} else if (strcmp(a, "--verify-each") == 0) {
			o->verify_each = 1;
		} else if (strcmp(a, "--stats") == 0) {
			o->stats = 1;
			o->popts.log = stderr;  /* passes report what they did */
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			o->stats = 1;           /* --stats plus the per-matrix solver log */
			o->popts.log = o->popts.vlog = stderr;
		} else if (strcmp(a, "--time-passes") == 0) {
			o->time_passes = 1;
		} else if (strcmp(a, "--run") == 0) {
			o->run = 1;
		} else if (strcmp(a, "--float") == 0) {
			o->real_run = 1;
		} else if (strcmp(a, "--raw") == 0) {
			o->eopts.raw = 1;
		} else if (strcmp(a, "--c-main") == 0) {
			o->eopts.c_main = 1;
		} else if (strcmp(a, "--testbench") == 0) {
			o->eopts.testbench = 1;
		} else if ((v = flag_value(argc, argv, &i, "--max-weight-uses"))) {
			o->max_uses = (uint64_t)int_value("--max-weight-uses", v, 0, 2000000000);
		} else if ((v = flag_value(argc, argv, &i, "--adder"))) {
			if (strcmp(v, "infer") == 0)
				o->eopts.adder = 0;
			else if (strcmp(v, "ripple") == 0)
				o->eopts.adder = 1;
			else
				bad_flag("--adder: unknown style '%s' (infer, ripple)", ESC(v));
		} else if ((v = flag_value(argc, argv, &i, "--clocks-per-token"))) {
			o->eopts.cpt = (unsigned)int_value("--clocks-per-token", v, 1, 65536);
		} else if ((v = flag_value(argc, argv, &i, "--digit-word"))) {
			o->eopts.digit_word = (unsigned)int_value("--digit-word", v, 1, 61);
		} else if ((v = flag_value(argc, argv, &i, "--digit"))) {
			o->eopts.digit = strcmp(v, "full") == 0 ? 0 : (unsigned)int_value("--digit", v, 1, 32);
			if (o->eopts.digit & (o->eopts.digit - 1))
				bad_flag("--digit: '%s' is not a power of two in 1..32 or full", ESC(v));
		} else if (strcmp(a, "--all-tokens") == 0) {
			o->lopts.all_tokens = 1;
		} else if ((v = flag_value(argc, argv, &i, "--tokens"))) {
			if (strcmp(v, "serial") != 0 && strcmp(v, "parallel") != 0)
				bad_flag("--tokens: unknown form '%s' (serial, parallel)", v);
			o->lopts.parallel = strcmp(v, "parallel") == 0;
		} else if ((v = flag_value(argc, argv, &i, "--top"))) {
			o->lopts.top = v;
		} else if ((v = flag_value(argc, argv, &i, "--config"))) {
			o->lopts.config = v;
		} else if ((v = flag_value(argc, argv, &i, "--quant"))) {
			if (!one_of(v, quants))
				bad_flag("--quant: unknown mode '%s' (q4-pred, full, none)", ESC(v));
			o->lopts.quant = v;
		} else if ((v = flag_value(argc, argv, &i, "--act-bits"))) {
			o->popts.act_bits = int_value("--act-bits", v, 4, 32);
		} else if ((v = flag_value(argc, argv, &i, "--max-adder-depth"))) {
			o->popts.max_adder_depth = int_value("--max-adder-depth", v, 1, 60);
		} else if ((v = flag_value(argc, argv, &i, "--stage-depth"))) {
			o->popts.stage_depth = int_value("--stage-depth", v, 1, 1000000);
		} else if ((v = flag_value(argc, argv, &i, "--pipeline"))) {
			if (strcmp(v, "none") == 0)
				o->popts.pipeline = 0;
			else if (strcmp(v, "auto") == 0)
				o->popts.pipeline = 1;
			else
				bad_flag("--pipeline: unknown value '%s' (none, auto)", ESC(v));
		} else if (a[0] == '-' && a[1] != 0) {
			bad_flag("unknown option '%s'", ESC(a));
		} else if (o->input) {
			bad_flag("more than one input file ('%s' and '%s')", ESC(o->input), ESC(a));
		} else {
			o->input = a;
		}
	}
	if (!o->input)
		bad_flag("no input file");
	if (o->eopts.cpt > 1 && o->eopts.digit)
		bad_flag("--clocks-per-token and --digit cannot be combined yet");
	if (o->passes) {
		char *list = xstrdup(o->passes);
		for (char *p = strtok(list, ","); p; p = strtok(NULL, ","))
			if (!pass_find(p))
				bad_flag("--passes: unknown pass '%s'", ESC(p));
		free(list);
	}
}

static void verify_or_die(const Module *m, const char *file, const char *when)
{
	char msg[512];
	if (ir_verify(m, msg, sizeof msg) != 0)
		fatal(file, "invalid IR%s%s: %s", when ? " after " : "", when ? when : "", msg);
}

/* Clocks for --time-passes: monotonic wall time and this process's CPU
 * time (the latter stays meaningful on a busy machine), in seconds. */
typedef struct Stamp {
	double wall, cpu;
} Stamp;

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static Stamp stamp_now(void)
{
	return (Stamp){clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_PROCESS_CPUTIME_ID)};
}

/* --time-passes: "time: NAME  W s wall  C s cpu  N nodes" on stderr (to 0.1
 * ms: bench/scaling takes ratios of runs of a few ms). */
static void time_report(const Options *o, const char *what, Stamp t0, const Module *m)
{
	if (!o->time_passes)
		return;
	Stamp t = stamp_now();
	fprintf(stderr, "time: %-16s %10.4f s wall %10.4f s cpu %11u nodes\n", what,
	        t.wall - t0.wall, t.cpu - t0.cpu, m->nnodes);
}

static void run_pass(Module *m, const PassInfo *p, const Options *o)
{
	progress_step(p->name);
	Stamp t0 = stamp_now();
	p->fn(m, &o->popts);
	time_report(o, p->name, t0, m);
	if (o->verify_each)
		verify_or_die(m, o->input, p->name);
	if (o->print_after_all || (o->print_after && strcmp(o->print_after, p->name) == 0)) {
		fprintf(stderr, "; after %s\n", p->name);
		ir_print(m, stderr);
	}
}

static void run_pipeline(Module *m, const Options *o)
{
	if (o->passes) {
		char *list = xstrdup(o->passes);
		for (char *p = strtok(list, ","); p; p = strtok(NULL, ","))
			run_pass(m, pass_find(p), o);
		free(list);
		return;
	}
	for (const char *const *p = pass_olist(o->popts.olevel); *p; p++)
		run_pass(m, pass_find(*p), o);
}

/* The number of passes run_pipeline will run (for the progress display). */
static int count_passes(const Options *o)
{
	int n = 0;
	if (o->real_run)
		return 0;
	if (o->passes) {
		n = *o->passes != 0;
		for (const char *s = o->passes; *s; s++)
			n += *s == ',';
		return n;
	}
	for (const char *const *p = pass_olist(o->popts.olevel); *p; p++)
		n++;
	return n;
}

/* Does the pass list turn weights into adders (one per weight use)? */
static int expands_weights(const Options *o)
{
	static const char *const big[] = {"strength-reduce", "cse", NULL};
	if (!o->passes) {
		for (const char *const *p = pass_olist(o->popts.olevel); *p; p++)
			if (one_of(*p, big))
				return 1;
		return 0;
	}
	for (int i = 0; big[i]; i++)
		if (strstr(o->passes, big[i]))
			return 1;
	return 0;
}

/* The size guard: a fully unrolled design has logic for every weight times
 * every vector it is applied to (the census's weight uses).  A ViT encoder
 * over 257 patch tokens is ~1000x a predictor; refuse it up front with the
 * figure instead of exhausting memory hours later. */
static void size_guard(const Module *m, const Options *o)
{
	uint64_t uses = census_nonzero_uses(o->eopts.census, o->eopts.census_n);
	if (o->max_uses && uses > o->max_uses && !o->run && expands_weights(o))
		fatal(o->input, "design too large to hardwire at one input per clock: %llu nonzero "
		      "weight uses in top '%s' (limit %llu; each costs ~130 bytes of compile memory "
		      "at -O2; --max-weight-uses=N raises the limit)",
		      (unsigned long long)uses, ESC(ir_strget(m, m->name)), (unsigned long long)o->max_uses);
}

/* ---- --run: vectors in, vectors out ---------------------------------- */

/* One port as --run sees it: its type and binary point. */
typedef struct RunPort {
	uint8_t ty, width;
	int frac;
	size_t len;      /* lanes of a window: len, times tokens for a stream */
} RunPort;

/* The ports of one direction (OP_INPUT or OP_OUTPUT) in order; *real is set
 * if any of them is f64.  Caller frees. */
static RunPort *run_ports(const Module *m, int op, uint32_t *np, int *real)
{
	RunPort *p = xcalloc(m->nnodes + 1, sizeof *p);
	uint32_t k = 0;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (n->op != op || (n->flags & NF_DEAD))
			continue;
		const Node *v = op == OP_OUTPUT ? ir_get(m, ir_arg(m, n, 0)) : n;
		p[k++] = (RunPort){v->ty, v->width, v->ty == TY_F ? 0 : (int)n->imm, ir_vlanes(m, v)};
		*real |= v->ty == TY_F;
	}
	*np = k;
	return p;
}

static int is_u64(const RunPort *p)
{
	return p->ty == TY_U && p->width == 64;
}

/* round-half-away-from-zero(x * 2^F), saturated into the port type */
static int64_t run_quantise(const RunPort *p, double x)
{
	double y = __builtin_round(__builtin_ldexp(x, p->frac));
	if (is_u64(p)) {
		if (y <= 0)
			return 0;
		if (y >= 18446744073709551616.0)
			return -1;
		return (int64_t)(uint64_t)y;
	}
	double lo = (double)ty_min(p->ty, p->width), hi = (double)ty_max(p->ty, p->width);
	if (y <= lo)
		return ty_min(p->ty, p->width);
	if (y >= hi)
		return ty_max(p->ty, p->width);
	return (int64_t)y;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Reads one integer code for port p (u64 ports up to 2^64 - 1). */
static int parse_code(const RunPort *p, const char *s, char **end, int64_t *v)
{
	errno = 0;
	if (is_u64(p) && *s != '-') {
		*v = (int64_t)strtoull(s, end, 10);
		return errno == 0;
	}
	*v = strtoll(s, end, 10);
	return errno == 0 && ty_fits(p->ty, p->width, *v);
}

/* Parses one line of whitespace-separated numbers: reals (fvals) or, with
 * raw, integer codes (ivals), one per input lane, checked against the ports. */
static void parse_vector(char *line, long lineno, int raw, const RunPort *ports,
                         size_t n, int64_t *ivals, double *fvals)
{
	size_t k = 0, lane = 0;
	const RunPort *p = ports;
	for (char *s = line;; k++) {
		while (is_space(*s))
			s++;
		if (!*s)
			break;
		if (k >= n)
			fatal("<stdin>", "line %ld: more than the %zu values the input ports take", lineno, n);
		while (lane >= p->len) {
			lane = 0;
			p++;
		}
		lane++;
		char *end;
		int ok;
		errno = 0;
		if (raw) {
			ok = parse_code(p, s, &end, &ivals[k]);
		} else {
			fvals[k] = strtod(s, &end);
			ok = end != s && (p->ty == TY_F || __builtin_isfinite(fvals[k]));
		}
		if (end == s || (*end && !is_space(*end)))
			fatal("<stdin>", "line %ld: value %zu is not %s", lineno, k + 1,
			      raw ? "an integer" : "a number");
		if (!ok)
			fatal("<stdin>", "line %ld: value %zu is out of range for its port", lineno, k + 1);
		s = end;
	}
	if (k != n)
		fatal("<stdin>", "line %ld: expected %zu values, got %zu", lineno, n, k);
}

/* A vector line is at most VEC_LINE_BASE + VEC_LINE_PER_LANE * (input
 * lanes) bytes: room for any integer code and any sensible real per lane.
 * Reading stops at the limit, so an endless line costs no memory. */
#define VEC_LINE_BASE 4096
#define VEC_LINE_PER_LANE 64

/* Reads one line of vector text into *buf (NUL-terminated, newline kept).
 * Returns 0 at the end of the input; a NUL byte, a line over max bytes or a
 * last line without its newline is a one-line error. */
static int read_vec_line(char **buf, size_t *cap, size_t max, long lineno)
{
	size_t n = 0;
	int c;
	while ((c = getchar()) != EOF) {
		if (c == 0)
			fatal("<stdin>", "line %ld: NUL byte at column %zu", lineno, n + 1);
		if (n >= max)
			fatal("<stdin>", "line %ld: longer than %zu bytes (the limit for %zu input "
			      "lanes: %d + %d per lane)", lineno, max,
			      (max - VEC_LINE_BASE) / VEC_LINE_PER_LANE, VEC_LINE_BASE, VEC_LINE_PER_LANE);
		if (n + 2 > *cap) {
			*cap = *cap ? 2 * *cap : 256;
			*buf = xrealloc(*buf, *cap);
		}
		(*buf)[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (ferror(stdin))
		fatal("<stdin>", "line %ld: read error", lineno);
	if (n == 0)
		return 0;
	if ((*buf)[n - 1] != '\n')
		fatal("<stdin>", "line %ld: no newline at the end of the input", lineno);
	(*buf)[n] = 0;
	return 1;
}

/* Prints output lane i of port p: a code (raw) or its real value. */
static void print_lane(const RunPort *p, int raw, int first, int64_t code, double real)
{
	if (!first)
		putchar(' ');
	if (p->ty == TY_F)
		printf("%.17g", real);
	else if (raw && is_u64(p))
		printf("%llu", (unsigned long long)(uint64_t)code);
	else if (raw)
		printf("%lld", (long long)code);
	else
		printf("%.17g", __builtin_ldexp(is_u64(p) ? (double)(uint64_t)code : (double)code,
		                                -p->frac));
}

/* Converts the parsed line into the interpreter's input form and runs it. */
static void run_one(Interp *ip, const RunPort *in, uint32_t nin, int raw, int real,
                    int64_t *iv, double *fv, int64_t *io, double *fo, InterpStats *st)
{
	size_t k = 0;
	for (uint32_t p = 0; p < nin; p++)
		for (size_t l = 0; l < in[p].len; l++, k++) {
			if (!raw && in[p].ty != TY_F)
				iv[k] = run_quantise(&in[p], fv[k]);
			if (real && in[p].ty != TY_F)
				fv[k] = is_u64(&in[p]) ? (double)(uint64_t)iv[k] : (double)iv[k];
		}
	if (real)
		interp_run(ip, fv, fo, st);
	else
		interp_run_int(ip, iv, io, st);
}

static void run_vectors(const Module *m, const Options *o)
{
	int raw = o->eopts.raw, real = 0;
	uint32_t nip, nop;
	RunPort *ip_ports = run_ports(m, OP_INPUT, &nip, &real);
	RunPort *op_ports = run_ports(m, OP_OUTPUT, &nop, &real);
	if (raw && real)
		fatal(o->input, "--raw needs integer ports");
	size_t nin = ir_in_lanes(m), nout = ir_out_lanes(m);
	int64_t *iin = xcalloc(nin + 1, sizeof *iin), *iout = xcalloc(nout + 1, sizeof *iout);
	double *fin = xcalloc(nin + 1, sizeof *fin), *fout = xcalloc(nout + 1, sizeof *fout);
	Interp *ip = interp_new(m);
	InterpStats st = {0};
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0, nvec = 0;
	size_t max = VEC_LINE_BASE + VEC_LINE_PER_LANE * nin;
	while (read_vec_line(&line, &cap, max, ++lineno)) {
		char *p = line;
		while (is_space(*p))
			p++;
		if (!*p || *p == '#')
			continue;
		parse_vector(line, lineno, raw, ip_ports, nin, iin, fin);
		run_one(ip, ip_ports, nip, raw, real, iin, fin, iout, fout, &st);
		size_t k = 0;
		for (uint32_t q = 0; q < nop; q++)
			for (size_t l = 0; l < op_ports[q].len; l++, k++)
				print_lane(&op_ports[q], raw, k == 0,
				           real ? run_quantise(&(RunPort){op_ports[q].ty, op_ports[q].width, 0, 1},
				                               fout[k]) : iout[k], fout[k]);
		putchar('\n');
		nvec++;
	}
	if (o->stats)
		fprintf(stderr, "run: %ld vectors, %llu saturated lanes\n", nvec,
		        (unsigned long long)st.sat_events);
	free(line);
	interp_free(ip);
	free(ip_ports);
	free(op_ports);
	free(iin);
	free(iout);
	free(fin);
	free(fout);
}

/* ---- output ----------------------------------------------------------- */

/* -o names an existing non-regular file (/dev/null, a FIFO) or a symlink
 * (/dev/stdout): write to it directly, since renaming over it would replace
 * the device node or the link itself. */
static void emit(const Module *m, const Options *o)
{
	out_open(&out, o->output);
	FILE *f = out.f;
	backend_find(o->emit)->fn(m, f, &o->eopts);
	out_close(&out);
}

/* --run with -o FILE: the output vectors go to FILE, written atomically like
 * --emit's (run_vectors prints to stdout, so fd 1 is pointed at the file). */
static void run_to_output(const Module *m, const Options *o)
{
	if (!o->output || strcmp(o->output, "-") == 0) {
		run_vectors(m, o);
		return;
	}
	out_open(&out, o->output);
	fflush(stdout);
	int saved = dup(1);
	if (saved < 0 || dup2(fileno(out.f), 1) < 0)
		fatal(o->output, "cannot redirect the output: %s", strerror(errno));
	run_vectors(m, o);
	if (fflush(stdout) != 0 || ferror(stdout))
		fatal(o->output, "write error");
	dup2(saved, 1);
	close(saved);
	out_close(&out);
}

int main(int argc, char **argv)
{
	/* Every pass allocates arrays of one entry per node and frees them.
	 * glibc serves each of over 128 KB-32 MB (a 1M-node module's) with a
	 * fresh mmap and unmaps it on free, so every pass paid the kernel's
	 * page faults and zeroing again (a third of -O2's time on the hybrid
	 * encoder, and the reason a 1M-node pass cost more than 10x a 100k one,
	 * whose arrays stayed in the heap): freed memory stays in the heap for
	 * the next pass instead (docs/benchmarks.md, bench/scaling). */
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, -1);
	Options o = {0};
	parse_args(argc, argv, &o);
	o.eopts.input_name = o.input;
	if (isatty(STDERR_FILENO) && !o.stats && !o.time_passes && !o.print_after &&
	    !o.print_after_all)
		progress_start(count_passes(&o) + 2);
	Stamp t0 = stamp_now();
	Module *m = frontend_load(o.input, &o.lopts);
	verify_or_die(m, o.input, NULL);
	/* .jir text with users before operands, or operands-first but read from
	 * scattered places (shuffled lines): renumber from the outputs, except
	 * for --emit=ir, whose printer keeps the text's order (round trip) */
	if ((o.run || strcmp(o.emit, "ir") != 0) && (!ir_in_order(m) || ir_scattered(m)))
		ir_reorder(m);
	stats_census(m, &o.eopts);
	size_guard(m, &o);
	time_report(&o, "load", t0, m);
	Stamp tp = stamp_now();
	if (!o.real_run)
		run_pipeline(m, &o);
	time_report(&o, "passes (total)", tp, m);
	if (o.stats)
		stats_summary(m, &o.eopts, stderr);
	Stamp te = stamp_now();
	progress_step(o.run ? "run" : "emit");
	if (o.run)
		run_to_output(m, &o);
	else
		emit(m, &o);
	progress_stop();
	time_report(&o, o.run ? "run" : "emit", te, m);
	time_report(&o, "total", t0, m);
	free(o.eopts.census);
	ir_free(m);
	return 0;
}
