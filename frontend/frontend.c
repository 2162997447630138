/*
 * frontend.c -- picks the reader for an input file by its first bytes.
 *
 *   "LQ40"                       LQ40 checkpoint (lq40.c)
 *   u64 length + '{'             safetensors (safetensors.c) + config.json
 *   anything else                .jir text (ir/parse.c)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "lewm.h"

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

Module *frontend_load(const char *path, const LoadOpts *o)
{
	(void)o;
	size_t n;
	char *buf = read_file(path, &n);
	Module *m;
	if (n >= 4 && memcmp(buf, "LQ40", 4) == 0) {
		free(buf);
		Checkpoint *ck = lq40_read(path);
		if (o && o->quant)
			ck_quantize(ck, o->quant);
		m = lewm_build(ck, o);
		ck_free(ck);
		return m;
	} else if (n >= 9 && buf[8] == '{') {
		free(buf);
		Checkpoint *ck = st_read(path, o ? o->config : NULL);
		ck_quantize(ck, o && o->quant ? o->quant : "q4-pred");
		m = lewm_build(ck, o);
		ck_free(ck);
		return m;
	} else {
		m = ir_parse(buf, n, strcmp(path, "-") == 0 ? "<stdin>" : path);
	}
	free(buf);
	return m;
}
