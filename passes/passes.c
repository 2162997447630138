/*
 * passes.c -- the pass registry (from passes.def) and the -O pipelines.
 *
 * The pipelines are literal lists; `jepac --help` prints them verbatim.
 */
#include <string.h>

#include "passes.h"

static const PassInfo table[] = {
#define PASS(id, name, help) {name, help, pass_##id},
#include "passes.def"
#undef PASS
};

static const char *const o0[] = {"lower", NULL};
static const char *const o1[] = {"lower", "fold", "zero-elim", "strength-reduce", "cse", "width", "dce", "pipeline", "cleanup", NULL};
/* cse runs before strength-reduce (it solves the matrices with sharing and
 * hash-conses everything, so equal cmul/vcmul are already merged); a second
 * cse after strength-reduce merged ~0.002% of the adders on pusht for ~8 s. */
/* width runs again after balance: the adders balance rebuilds take the widest
 * operand's width, which width trims.  cleanup repeats the cheap passes
 * until nothing changes, so -O1 and -O2 are fixed points of themselves. */
static const char *const o2[] = {"lower", "fold", "zero-elim", "cse", "strength-reduce", "width",
                                 "balance", "width", "dce", "pipeline", "cleanup-balance", NULL};

const PassInfo *pass_find(const char *name)
{
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

const PassInfo *pass_at(int i)
{
	return i >= 0 && (size_t)i < sizeof table / sizeof *table ? &table[i] : NULL;
}

const char *const *pass_olist(int olevel)
{
	return olevel <= 0 ? o0 : olevel == 1 ? o1 : o2;
}

static void print_pipeline(FILE *f, int level)
{
	const char *const *p = pass_olist(level);
	fprintf(f, "  -O%d:", level);
	if (!*p)
		fputs(" (none)", f);
	for (; *p; p++)
		fprintf(f, " %s", *p);
	fputc('\n', f);
}

void pass_print_help(FILE *f)
{
	fputs("Passes (--passes=a,b,c):\n", f);
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		fprintf(f, "  %-16s %s\n", table[i].name, table[i].help);
	fputs("Pipelines:\n", f);
	for (int l = 0; l <= 2; l++)
		print_pipeline(f, l);
	fputs("  -O3: as -O2; cse solves matrices whole up to 64x more work\n", f);
}
