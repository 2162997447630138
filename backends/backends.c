/*
 * backends.c -- the backend registry (from backends.def): --emit=KIND's
 * lookup, its help text, and the IR printer as the `ir` backend.
 */
#include <string.h>

#include "backends.h"

static const BackendInfo table[] = {
#define BACKEND(id, name, help) {name, help, emit_##id},
#include "backends.def"
#undef BACKEND
};

enum { NBACKENDS = sizeof table / sizeof *table };

void emit_ir(const Module *m, FILE *f, const EmitOpts *o)
{
	(void)o;
	ir_print(m, f);
}

const BackendInfo *backend_find(const char *name)
{
	for (size_t i = 0; i < NBACKENDS; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

const BackendInfo *backend_at(int i)
{
	return i >= 0 && i < NBACKENDS ? &table[i] : NULL;
}

void backend_print_kinds(FILE *f, const char *sep)
{
	for (size_t i = 0; i < NBACKENDS; i++)
		fprintf(f, "%s%s", i ? sep : "", table[i].name);
}

void backend_print_help(FILE *f)
{
	fputs("Backends (--emit=KIND):\n", f);
	for (size_t i = 0; i < NBACKENDS; i++)
		fprintf(f, "  %-16s %s\n", table[i].name, table[i].help);
}
