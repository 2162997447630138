/*
 * mkmodel.c -- jepac-mkmodel: writes a synthetic checkpoint of any family.
 *
 *   jepac-mkmodel --preset=NAME [--seed=N] -o DIR
 *
 * The presets are the families' (family.h: lewm_family.c has pusht, slim96,
 * tiny, hybrid, micro; ijepa.c has ijepa-h, ijepa-tiny).  Writes
 * DIR/model.safetensors (F32, plus the I64 num_batches_tracked scalars
 * PyTorch writes after a BatchNorm's running_var) holding exactly the
 * tensors of the family's schema, and DIR/config.json (the family's writer).
 *
 * Weights look trained: std 1/sqrt(fan_in) with Student-t(4) tails
 * (clipped at 8 sigma), non-zero adaLN, LayerNorm gains 1 +- ~0.1, small
 * biases, BatchNorm running_mean ~ N(0, 0.1), running_var ~ U(0.5, 1.5).
 * Determinism: each tensor has its own splitmix64 stream seeded from the
 * seed and its name.  Normals are Irwin-Hall sums of four 16-bit uniforms
 * (scaled to unit variance), chi-square(4) a sum of four squared normals:
 * only +, *, / and sqrt, which IEEE 754 rounds exactly, so the bytes are the
 * same on every machine and libc (no log/cos whose last bit may vary).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "family.h"
#include "ir.h"

/* One tensor to generate: init kind W (weight, std 1/sqrt(fan_in)), G
 * (norm gain), B (bias), E (embedding), M / V (BatchNorm mean / var),
 * N (num_batches_tracked, I64). */
typedef struct Gen {
	char name[128];
	char kind;
	int ndim;
	uint32_t shape[4];
	size_t n;
	uint64_t off;
} Gen;

typedef struct GenList {
	Gen *g;
	size_t n, cap;
} GenList;

static OutFile outs[2];   /* model.safetensors, config.json: removed on failure */

void jepac_cleanup(void)
{
	for (int i = 0; i < 2; i++)
		out_discard(&outs[i]);
}

static void gen(GenList *l, char kind, const char *name, int ndim, uint32_t d0, uint32_t d1,
                uint32_t d2, uint32_t d3)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->g = xrealloc(l->g, l->cap * sizeof *l->g);
	}
	Gen *g = &l->g[l->n++];
	memset(g, 0, sizeof *g);
	snprintf(g->name, sizeof g->name, "%s", name);
	g->kind = kind;
	g->ndim = ndim;
	uint32_t d[4] = {d0, d1, d2, d3};
	g->n = 1;
	for (int i = 0; i < ndim; i++) {
		g->shape[i] = d[i];
		g->n *= d[i];
	}
}

/* The family's schema as a generation list; a BatchNorm's running_var is
 * followed by the I64 num_batches_tracked scalar PyTorch writes.  Optional
 * tensors (a fixed position table the builder can compute) are left out. */
static void gen_all(GenList *l, const Family *fam, const void *cfg)
{
	Schema s = {0};
	fam->schema(&s, cfg);
	for (size_t i = 0; i < s.n; i++) {
		const SchEntry *e = &s.e[i];
		if (e->optional)
			continue;
		gen(l, e->init, e->name, e->ndim, e->shape[0], e->shape[1], e->shape[2], e->shape[3]);
		size_t k = strlen(e->name);
		if (e->init == 'V' && k > 12 && strcmp(e->name + k - 12, ".running_var") == 0) {
			char name[160];
			snprintf(name, sizeof name, "%.*s.num_batches_tracked", (int)(k - 12), e->name);
			gen(l, 'N', name, 0, 0, 0, 0, 0);
		}
	}
	sch_free(&s);
}

/* ---- deterministic sampling --------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Approximately N(0, 1): four 16-bit uniforms, Irwin-Hall, unit variance. */
static double rnd_normal(uint64_t *s)
{
	uint64_t r = splitmix64(s);
	double sum = 0;
	for (int k = 0; k < 4; k++)
		sum += ((double)((r >> (16 * k)) & 0xffff) + 0.5) / 65536.0;
	return (sum - 2.0) * 1.7320508075688772;
}

static double rnd_uniform(uint64_t *s)
{
	return ((double)(splitmix64(s) >> 11) + 0.5) / 9007199254740992.0;
}

/* Student-t with 4 degrees of freedom, unit variance, clipped to +-8. */
static double rnd_t4(uint64_t *s)
{
	double z = rnd_normal(s), chi = 0;
	for (int k = 0; k < 4; k++) {
		double y = rnd_normal(s);
		chi += y * y;
	}
	double t = z / sqrt(chi / 4.0 + 1e-12) / 1.4142135623730951;
	return t > 8 ? 8 : t < -8 ? -8 : t;
}

static void fill(const Gen *g, uint64_t seed, float *out)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	for (const char *c = g->name; *c; c++)
		s = (s ^ (unsigned char)*c) * 0x100000001b3ull;
	size_t fan = g->ndim > 1 ? g->n / g->shape[0] : 1;
	double std = 1.0 / sqrt((double)fan);
	for (size_t i = 0; i < g->n; i++) {
		double v;
		switch (g->kind) {
		case 'W': v = std * rnd_t4(&s); break;
		case 'G': v = 1.0 + 0.05 * rnd_normal(&s); break;
		case 'B': v = 0.02 * rnd_normal(&s); break;
		case 'E': v = 0.1 * rnd_normal(&s); break;
		case 'M': v = 0.1 * rnd_normal(&s); break;
		default: v = 0.5 + rnd_uniform(&s); break;   /* 'V' */
		}
		out[i] = (float)v;
	}
}

/* ---- output ------------------------------------------------------------- */

static int gen_by_name(const void *a, const void *b)
{
	return strcmp(((const Gen *)a)->name, ((const Gen *)b)->name);
}

/* Opens DIR/NAME for atomic writing in outs[slot]. */
static FILE *open_tmp(const char *dir, const char *name, int slot)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = xmalloc(n);
	snprintf(path, n, "%s/%s", dir, name);
	out_open(&outs[slot], path);
	free(path);
	return outs[slot].f;
}

static char *st_header_json(GenList *l, size_t *len)
{
	size_t cap = 256 + l->n * 256, k = 0;
	char *h = xmalloc(cap);
	k += snprintf(h + k, cap - k, "{\"__metadata__\":{\"format\":\"pt\"}");
	uint64_t off = 0;
	for (size_t i = 0; i < l->n; i++) {
		Gen *g = &l->g[i];
		g->off = off;
		off += g->kind == 'N' ? 8 : 4 * (uint64_t)g->n;
		k += snprintf(h + k, cap - k, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", g->name,
		              g->kind == 'N' ? "I64" : "F32");
		for (int d = 0; d < g->ndim; d++)
			k += snprintf(h + k, cap - k, d ? ",%u" : "%u", g->shape[d]);
		k += snprintf(h + k, cap - k, "],\"data_offsets\":[%llu,%llu]}",
		              (unsigned long long)g->off, (unsigned long long)off);
	}
	h[k++] = '}';
	while (k % 8)
		h[k++] = ' ';
	*len = k;
	return h;
}

static void write_safetensors(const char *dir, GenList *l, uint64_t seed)
{
	FILE *f = open_tmp(dir, "model.safetensors", 0);
	qsort(l->g, l->n, sizeof *l->g, gen_by_name);
	size_t hlen;
	char *h = st_header_json(l, &hlen);
	unsigned char u64[8];
	for (int i = 0; i < 8; i++)
		u64[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
	fwrite(u64, 1, 8, f);
	fwrite(h, 1, hlen, f);
	free(h);
	for (size_t i = 0; i < l->n; i++) {
		const Gen *g = &l->g[i];
		if (g->kind == 'N') {
			unsigned char v[8] = {0xe8, 0x03};   /* 1000 batches */
			fwrite(v, 1, 8, f);
			continue;
		}
		float *x = xmalloc(g->n * sizeof *x);
		unsigned char *b = xmalloc(g->n * 4);
		fill(g, seed, x);
		for (size_t j = 0; j < g->n; j++) {
			uint32_t u;
			memcpy(&u, &x[j], 4);
			for (int k = 0; k < 4; k++)
				b[4 * j + k] = (unsigned char)(u >> (8 * k));
		}
		fwrite(b, 1, g->n * 4, f);
		free(x);
		free(b);
	}
	out_close(&outs[0]);
}

static void write_config(const char *dir, const Family *fam, const void *cfg)
{
	FILE *f = open_tmp(dir, "config.json", 1);
	fam->write_config(f, cfg);
	out_close(&outs[1]);
}

static _Noreturn void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fputs("usage: jepac-mkmodel --preset=NAME [--seed=N] -o DIR\n"
	      "Writes DIR/model.safetensors and DIR/config.json: a synthetic checkpoint.\n"
	      "Presets:", f);
	for (int k = 0; families[k]; k++)
		for (const FamilyPreset *p = families[k]->presets; p->name; p++)
			fprintf(f, " %s", p->name);
	fputs("\n", f);
	exit(status);
}

int main(int argc, char **argv)
{
	const FamilyPreset *p = NULL;
	const Family *fam = NULL;
	const char *dir = NULL;
	uint64_t seed = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--preset=", 9) == 0) {
			for (int k = 0; families[k]; k++)
				for (const FamilyPreset *q = families[k]->presets; q->name; q++)
					if (strcmp(q->name, a + 9) == 0)
						p = q, fam = families[k];
			if (!p) {
				fprintf(stderr, "jepac: error: unknown preset '%s' (try --help)\n", ESC(a + 9));
				exit(2);
			}
		} else if (strncmp(a, "--seed=", 7) == 0) {
			char *end;
			errno = 0;
			seed = strtoull(a + 7, &end, 10);
			if (errno || end == a + 7 || *end)
				usage(2);
		} else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(a, "--help") == 0) {
			usage(0);
		} else {
			usage(2);
		}
	}
	if (!p || !dir)
		usage(2);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		fatal(dir, "cannot create directory: %s", strerror(errno));
	GenList l = {0};
	gen_all(&l, fam, p->cfg);
	write_safetensors(dir, &l, seed);
	write_config(dir, fam, p->cfg);
	free(l.g);
	return 0;
}
