/*
 * quantize.c -- jepac-quantize: writes LQ40 files and inspects checkpoints.
 *
 *   jepac-quantize --mode=MODE IN [--config FILE] -o OUT.bin
 *   jepac-quantize --check [--tensors] [--mode=MODE] [--config FILE] IN
 *
 * IN is a safetensors checkpoint (+ config.json beside it or --config) or
 * an LQ40 file (recognised by its magic).  The first form quantizes with the
 * exporter's rules (quant.c) and writes the current LQ40 layout (lq40.c)
 * under a temporary name, renamed only on success.  An LQ40 input can be
 * rewritten in its own mode (a byte-exact round trip for current-layout
 * files).  --check reads IN completely (all validation), optionally
 * quantizes it (--mode), and prints a summary; --tensors adds one line per
 * tensor with a 64-bit hash of its codes, scales or floats, so two inputs
 * that should hold identical weights can be compared with diff.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "family.h"
#include "ir.h"

static OutFile out_file;   /* removed by jepac_cleanup if the run fails */

void jepac_cleanup(void)
{
	out_discard(&out_file);
}

static Checkpoint *load(const char *path, const char *config)
{
	char magic[4] = {0};
	FILE *f = fopen(path, "rb");
	if (!f)
		fatal(path, "cannot open: %s", strerror(errno));
	size_t got = fread(magic, 1, 4, f);
	fclose(f);
	if (got == 4 && memcmp(magic, "LQ40", 4) == 0)
		return lq40_read(path);
	return st_read(path, config);
}

static uint64_t tensor_hash(const CkTensor *t)
{
	uint64_t h = hash_bytes(t->shape, sizeof t->shape, (uint64_t)t->kind);
	if (t->kind == CK_F)
		return hash_bytes(t->f, t->n * sizeof(float), h);
	h = hash_bytes(t->q, t->n, h);
	size_t ns = t->kind == CK_Q4 ? (size_t)t->out * ((t->in + 31) / 32) : t->out;
	return hash_bytes(t->scales, ns * sizeof(float), h);
}

static void summary(const Checkpoint *ck, int tensors)
{
	size_t cnt[3] = {0}, blocks = 0, present = 0;
	for (size_t i = 0; i < ck->nt; i++) {
		const CkTensor *t = &ck->t[i];
		cnt[t->kind]++;
		if (t->kind != CK_Q4)
			continue;
		size_t nb = (size_t)t->out * ((t->in + 31) / 32);
		blocks += nb;
		for (size_t b = 0; b < nb; b++)
			present += t->scales[b] != 0;
	}
	printf("mode: %s\n", ck->mode);
	printf("layout: %s\n", !strcmp(ck->mode, "float") && ck->has_batchnorm ? "safetensors"
	       : ck->old_layout ? "lq40-old" : ck->family == families[0] ? "lq40-current" : "lq40-schema");
	ck->family->summary(stdout, ck);
	printf("tensors: %zu (F %zu, Q4 %zu, I8 %zu)\n", ck->nt, cnt[CK_F], cnt[CK_Q4], cnt[CK_I8]);
	printf("q4 blocks: %zu total, %zu present\n", blocks, present);
	printf("family: %s\n", ck->family->name);
	for (size_t i = 0; tensors && i < ck->nt; i++) {
		const CkTensor *t = &ck->t[i];
		printf("%s %s [", t->name, t->kind == CK_F ? "F" : t->kind == CK_Q4 ? "Q4" : "I8");
		for (int d = 0; d < t->ndim; d++)
			printf(d ? ",%u" : "%u", t->shape[d]);
		printf("] %016llx\n", (unsigned long long)tensor_hash(t));
	}
}

static _Noreturn void usage(int status)
{
	fputs("usage: jepac-quantize --mode=MODE IN [--config FILE] -o OUT.bin\n"
	      "       jepac-quantize --check [--tensors] [--mode=MODE] [--config FILE] IN\n"
	      "MODE: q4-pred | full | wanda20-q4 | wanda40-q4 (--check also: none)\n"
	      "IN: a .safetensors checkpoint (config.json beside it) or an LQ40 file\n",
	      status ? stderr : stdout);
	exit(status);
}

int main(int argc, char **argv)
{
	const char *mode = NULL, *in = NULL, *out = NULL, *config = NULL;
	int check = 0, tensors = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--mode=", 7) == 0)
			mode = a + 7;
		else if (strncmp(a, "--config=", 9) == 0)
			config = a + 9;
		else if (strcmp(a, "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(a, "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(a, "--check") == 0)
			check = 1;
		else if (strcmp(a, "--tensors") == 0)
			tensors = 1;
		else if (strcmp(a, "--help") == 0)
			usage(0);
		else if (a[0] == '-' || in)
			usage(2);
		else
			in = a;
	}
	if (!in || (!check && (!mode || !out)) || (check && out))
		usage(2);
	Checkpoint *ck = load(in, config);
	if (check) {
		if (mode)
			ck_quantize(ck, mode);
		summary(ck, tensors);
	} else {
		out_open(&out_file, out);
		lq40_write(ck, mode, out_file.f);
		out_close(&out_file);
	}
	ck_free(ck);
	return 0;
}
