/*
 * cmodel_main.c -- timing driver for bench/cmodel.sh: links against a C
 * model emitted by `jepac --emit=c` (without --c-main) and reports the
 * mean wall time of jepac_eval() over N steps on fixed pseudo-random
 * input codes (the first few steps warm the caches and are not timed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void jepac_eval(const int64_t *in, int64_t *out);

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100;
	size_t nin = JEPAC_IN_LANES_, nout = JEPAC_OUT_LANES_;
	int64_t *in = calloc(nin + 1, sizeof *in), *out = calloc(nout + 1, sizeof *out);
	uint64_t s = 1, sum = 0;
	for (size_t i = 0; i < nin; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		in[i] = (int64_t)(s >> 60) - 8;      /* small codes: about +-0.5 */
	}
	for (int i = 0; i < 3; i++)
		jepac_eval(in, out);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		jepac_eval(in, out);
		sum += (uint64_t)out[i % nout];
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double t = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
	printf("c-model: %.3f ms per step (%ld steps, checksum %llu)\n", 1e3 * t / (double)n, n,
	       (unsigned long long)sum);
	return 0;
}
