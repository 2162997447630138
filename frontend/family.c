/*
 * family.c -- the table of model families and what every row shares: the
 * schema list, the config.json helpers, recognising a config's family.
 *
 * Adding a family: one builder file with its row (see docs/frontends.md),
 * plus one line in families[] below.
 */
#include <stdlib.h>
#include <string.h>

#include "family.h"

extern const Family fam_lewm, fam_ijepa;

const Family *const families[] = {&fam_lewm, &fam_ijepa, NULL};

/* ---- schema --------------------------------------------------------------- */

void sch_add(Schema *s, char init, int ndim, uint32_t d0, uint32_t d1, uint32_t d2,
             uint32_t d3, const char *fmt, int i)
{
	if (s->limit && s->n >= s->limit) {
		s->over = 1;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->e = xrealloc(s->e, s->cap * sizeof *s->e);
	}
	SchEntry *e = &s->e[s->n++];
	memset(e, 0, sizeof *e);
	ck_name(e->name, sizeof e->name, fmt, i);
	e->init = init;
	e->ndim = ndim;
	uint32_t d[4] = {d0, d1, d2, d3};
	memcpy(e->shape, d, sizeof d);
}

static void sch_pair(Schema *s, char init, const char *fmt, int i, uint32_t out, uint32_t in)
{
	char f[160];
	snprintf(f, sizeof f, "%s.weight", fmt);
	sch_add(s, init, in ? 2 : 1, out, in, 0, 0, f, i);
	snprintf(f, sizeof f, "%s.bias", fmt);
	sch_add(s, 'B', 1, out, 0, 0, 0, f, i);
}

void sch_linear(Schema *s, const char *fmt, int i, uint32_t out, uint32_t in)
{
	sch_pair(s, 'W', fmt, i, out, in);
}

void sch_norm(Schema *s, const char *fmt, int i, uint32_t n)
{
	sch_pair(s, 'G', fmt, i, n, 0);
}

void sch_free(Schema *s)
{
	free(s->e);
	memset(s, 0, sizeof *s);
}

/* ---- config.json ---------------------------------------------------------- */

void cfg_int(const CfgCtx *c, const char *key, int *dst, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->obj, key);
	if (!v) {
		if (dflt < 0)
			fatal(c->path, "config: missing key '%s.%s'", c->part, key);
		*dst = dflt;
		return;
	}
	double d = v->valuedouble;
	if (!cJSON_IsNumber(v) || !(d >= 1 && d <= 1e7) || d != (double)(int)d)
		fatal(c->path, "config: '%s.%s' must be a positive integer", c->part, key);
	*dst = (int)d;
}

CfgCtx cfg_part(const char *path, const cJSON *root, const char *part)
{
	CfgCtx c = {path, part, cJSON_GetObjectItemCaseSensitive(root, part)};
	if (!c.obj)
		fatal(path, "config: missing object '%s'", part);
	if (!cJSON_IsObject(c.obj))
		fatal(path, "config: '%s' is not an object", part);
	return c;
}

/* ---- the table -------------------------------------------------------------- */

/* A family matches when root has all its keys; the first family is the
 * fallback, so a LeWM config lacking a part reports that part missing. */
const Family *family_of_config(const char *path, const cJSON *root)
{
	(void)path;
	for (int f = 1; families[f]; f++) {
		int all = 1;
		for (const char *const *k = families[f]->keys; *k; k++)
			all &= cJSON_GetObjectItemCaseSensitive(root, *k) != NULL;
		if (all)
			return families[f];
	}
	return families[0];
}

const Family *family_named(const char *name)
{
	for (int f = 0; families[f]; f++)
		if (strcmp(families[f]->name, name) == 0)
			return families[f];
	return NULL;
}

void ck_set_family(Checkpoint *ck, const Family *f)
{
	free(ck->cfg);
	ck->family = f;
	ck->cfg = xcalloc(1, f->cfg_size);
}
