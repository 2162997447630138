/*
 * cmvm_bench.c -- benchmark of jepac's constant-matrix solver (passes/cmvm.c).
 *
 *   cmvm_bench [-v] [-b] [-d DEPTH] KIND N|RxC COUNT LEVEL [SEED]
 *     KIND   u8    entries floor(U*127)+129 (da4ml's Table 2 setup)
 *            u4    entries uniform on 8..15
 *            q4    signed Q4-like codes -8..7 (~19.6% zeros, Gaussian-ish)
 *            w12   12-bit codes of float weights with row scales:
 *                  Gaussian-ish, sd 480, ~0.1% zeros (the pusht encoder)
 *     LEVEL  0 plain CSD, 1 odd multiples, 2 greedy sharing (-O2),
 *            3 greedy sharing, bigger matrices whole (-O3)
 *     -b     solve per 32-column block, as bmatvec is (depth: the deepest)
 *     -d N   depth bound (jepac --max-adder-depth=N; level 2); each solution's
 *            depth is checked against max(N, the matrix's minimum depth)
 *     -D N   check that bound without passing it to the solver (a control)
 *     -x     corrupt one output of each solution (a control: must fail)
 *     -v     also one line per matrix: adders, fa_bits, depth, time
 *
 * For each of COUNT random matrices (xorshift, fixed seed) it solves the
 * matrix, checks the adder graph against the direct product on random and
 * extreme 8-bit inputs (exits 1 on a mismatch or a depth over the bound),
 * and prints one line:
 * mean adders, adders per entry / per non-zero, mean depth, mean fa_bits
 * (8-bit signed inputs) and mean time per matrix (CPU time of the solve).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmvm.h"

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return rng_state = x;
}

static double unif(void) { return (double)(rng() >> 11) / 9007199254740992.0; }

static int32_t draw(const char *kind)
{
	if (!strcmp(kind, "u8"))
		return (int32_t)(unif() * 127) + 129;
	if (!strcmp(kind, "u4"))
		return 8 + (int32_t)(rng() % 8);
	if (!strcmp(kind, "w12")) {
		long c = lround((unif() + unif() + unif() + unif() - 2.0) * 1.732 * 480);
		return (int32_t)(c < -2047 ? -2047 : c > 2047 ? 2047 : c);
	}
	/* q4: a Gaussian (sum of 4 uniforms) scaled so that ~19.6% round to 0,
	 * the zero fraction of the pusht predictor's Q4 codes */
	double g = (unif() + unif() + unif() + unif() - 2.0) * 1.732;
	long c = lround(g * 1.95);
	return (int32_t)(c < -8 ? -8 : c > 7 ? 7 : c);
}

static int64_t eval_var(const int64_t *val, uint32_t v) { return val[v]; }

static int check(const Cmvm *p, const int32_t *w, uint32_t R, uint32_t C)
{
	uint32_t nv = p->nin + p->nops;
	int64_t *val = malloc((nv + 1) * sizeof *val);
	for (int trial = 0; trial < 8; trial++) {
		for (uint32_t c = 0; c < C; c++)
			val[c] = trial == 0 ? -128 : trial == 1 ? 127 : (int64_t)(rng() % 256) - 128;
		for (uint32_t i = 0; i < p->nops; i++) {
			const CmvmOp *o = &p->ops[i];
			int64_t a = eval_var(val, o->a) * ((int64_t)1 << o->sa);
			int64_t b = eval_var(val, o->b) * ((int64_t)1 << o->sb);
			val[p->nin + i] = o->neg ? a - b : a + b;
		}
		for (uint32_t r = 0; r < R; r++) {
			int64_t want = 0, got = 0;
			for (uint32_t c = 0; c < C; c++)
				want += (int64_t)w[(size_t)r * C + c] * val[c];
			if (p->out[r].sign)
				got = p->out[r].sign * val[p->out[r].var] * ((int64_t)1 << p->out[r].shift);
			if (got != want) {
				fprintf(stderr, "MISMATCH row %u: %lld != %lld\n", r, (long long)got, (long long)want);
				return 1;
			}
		}
	}
	free(val);
	return 0;
}

/* max(d, ceil(log2(CSD digits)) (+1 if a row's digits are all negative:
 * its negation)) over the rows: what a depth bound d allows. */
static uint32_t depth_bound(const int32_t *w, uint32_t R, uint32_t C, int d)
{
	uint32_t b = (uint32_t)d;
	for (uint32_t r = 0; r < R; r++) {
		CmvmRow t = {0};
		for (uint32_t c = 0; c < C; c++)
			cmvm_csd_terms(&t, w[(size_t)r * C + c], c, 0);
		uint32_t m = 0, pos = 0;
		while (((uint64_t)1 << m) < t.n)
			m++;
		for (uint32_t i = 0; i < t.n; i++)
			pos |= t.t[i].sign > 0;
		m += t.n && !pos;
		b = m > b ? m : b;
		free(t.t);
	}
	return b;
}

int main(int argc, char **argv)
{
	int verbose = 0, blocks = 0, maxd = 0, checkd = 0, corrupt = 0;
	for (; argc > 1 && argv[1][0] == '-'; argc--, argv++) {
		if (!strcmp(argv[1], "-v"))
			verbose = 1;
		else if (!strcmp(argv[1], "-b"))
			blocks = 1;
		else if (!strcmp(argv[1], "-d") && argc > 2)
			maxd = checkd = atoi(argv[2]), argc--, argv++;
		else if (!strcmp(argv[1], "-D") && argc > 2)
			checkd = atoi(argv[2]), argc--, argv++;
		else if (!strcmp(argv[1], "-x"))
			corrupt = 1;
		else
			argc = 0;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: cmvm_bench [-v] [-b] [-d|-D DEPTH] [-x] u8|u4|q4|w12 N|RxC COUNT LEVEL [SEED]\n");
		return 2;
	}
	const char *kind = argv[1];
	uint32_t R, C;
	if (sscanf(argv[2], "%ux%u", &R, &C) != 2)
		R = C = (uint32_t)atoi(argv[2]);
	int count = atoi(argv[3]), level = atoi(argv[4]);
	rng_state = argc > 5 ? strtoull(argv[5], NULL, 10) : 88172645463325252ull;
	int solve_level = maxd ? CMVM_LEVEL(level, maxd) : level;
	int32_t *w = malloc((size_t)R * C * sizeof *w);
	double adders = 0, depth = 0, fa = 0, secs = 0, nz = 0;
	uint32_t maxdep = 0;
	uint32_t bw = blocks && C > 32 ? 32 : C;
	int32_t *blk = malloc((size_t)R * bw * sizeof *blk);
	for (int k = 0; k < count; k++) {
		double a0 = adders, f0 = fa, s0 = secs;
		for (size_t i = 0; i < (size_t)R * C; i++)
			nz += (w[i] = draw(kind)) != 0;
		for (uint32_t c0 = 0; c0 < C; c0 += bw) {
			uint32_t bc = C - c0 < bw ? C - c0 : bw;
			for (uint32_t r = 0; r < R; r++)
				memcpy(blk + (size_t)r * bc, w + (size_t)r * C + c0, bc * sizeof *blk);
			Cmvm p;
			struct timespec t0, t1;
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
			cmvm_solve(&p, blk, R, bc, bc, solve_level);
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
			secs += (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
			if (corrupt && p.nrows)
				p.out[0].shift++;
			if (check(&p, blk, R, bc))
				return 1;
			if (checkd && cmvm_depth(&p) > depth_bound(blk, R, bc, checkd)) {
				fprintf(stderr, "DEPTH %u over the bound %u\n", cmvm_depth(&p),
				        depth_bound(blk, R, bc, checkd));
				return 1;
			}
			adders += cmvm_adders(&p);
			uint32_t d = cmvm_depth(&p);
			maxdep = d > maxdep ? d : maxdep;
			fa += (double)cmvm_fa_bits(&p, 8);
			cmvm_free(&p);
		}
		if (verbose)
			printf("  %s %ux%u #%d: adders %.0f, fa_bits %.0f, depth %u, %.3f s\n", kind, R, C,
			       k, adders - a0, fa - f0, maxdep, secs - s0);
		depth += maxdep;
		maxdep = 0;
	}
	free(blk);
	printf("%s %ux%u%s level %d", kind, R, C, bw < C ? " per block" : "", level);
	if (maxd)
		printf(" depth<=%d", maxd);
	printf(": %d matrices, adders %.2f, per entry %.3f, per nonzero %.3f, "
	       "depth %.1f, fa_bits %.0f, %.3f ms/matrix\n", count,
	       adders / count, adders / count / ((double)R * C), adders / nz,
	       depth / count, fa / count, secs / count * 1e3);
	free(w);
	return 0;
}
