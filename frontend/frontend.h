/*
 * frontend.h -- reading models: .jir text, LQ40 binaries, safetensors.
 *
 * frontend_load() looks at the file's first bytes (not its name) and calls
 * the reader for its format; checkpoint readers hand their tensors to the
 * builder of the checkpoint's model family (family.h: lewm.c, ijepa.c)
 * that makes the module for o->top.
 */
#ifndef JEPAC_FRONTEND_H
#define JEPAC_FRONTEND_H

#include "ir.h"

typedef struct LoadOpts {
	const char *config;   /* --config FILE, or NULL: config.json beside the input */
	const char *top;      /* --top=NAME, or NULL for the family's default */
	int all_tokens;       /* --all-tokens */
	int parallel;         /* --tokens=parallel: every token of a window at once
	                         (default --tokens=serial: a stream, one token per step) */
	const char *quant;    /* --quant=q4-pred|full|none, or NULL (q4-pred) */
} LoadOpts;

Module *frontend_load(const char *path, const LoadOpts *o);

/* Reads a whole file ("-" = stdin) into memory; *n gets its size. */
char *read_file(const char *path, size_t *n);

#endif
