/*
 * frontend.c -- picks the reader for an input file by its first bytes.
 *
 *   "LQ40"                       LQ40 checkpoint (lq40.c)
 *   u64 length + '{'             safetensors (safetensors.c) + config.json
 *   anything else                .jir text (ir/parse.c)
 *
 * A checkpoint knows its family (family.h); build_module() (build.c) runs
 * the family's builder for --top.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "build.h"

char *read_file(const char *path, size_t *n)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		fatal(path, "cannot open: %s", strerror(errno));
	size_t cap = 1 << 16, len = 0;
	char *buf = xmalloc(cap + 1);
	size_t got;
	while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
	}
	int err = ferror(f);
	if (f != stdin)
		fclose(f);
	if (err) {
		free(buf);
		fatal(path, "read error");
	}
	buf[len] = 0;
	*n = len;
	return buf;
}

/* The first bytes of a file, without reading the rest ("-": none). */
static size_t sniff(const char *path, unsigned char *buf, size_t n)
{
	if (strcmp(path, "-") == 0)
		return 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		fatal(path, "cannot open: %s", strerror(errno));
	size_t got = fread(buf, 1, n, f);
	fclose(f);
	return got;
}

static Module *from_checkpoint(Checkpoint *ck, const char *quant, const LoadOpts *o)
{
	if (quant)
		ck_quantize(ck, quant);
	Module *m = build_module(ck->family, ck, o);
	ck_free(ck);
	return m;
}

Module *frontend_load(const char *path, const LoadOpts *o)
{
	unsigned char head[9];
	size_t k = sniff(path, head, sizeof head);
	if (k >= 4 && memcmp(head, "LQ40", 4) == 0)
		return from_checkpoint(lq40_read(path), o ? o->quant : NULL, o);
	if (k >= 9 && head[8] == '{')
		return from_checkpoint(st_read(path, o ? o->config : NULL),
		                       o && o->quant ? o->quant : "q4-pred", o);
	size_t n;
	char *buf = read_file(path, &n);
	Module *m = ir_parse(buf, n, strcmp(path, "-") == 0 ? "<stdin>" : path);
	free(buf);
	return m;
}
