/*
 * checkpoint.c -- the in-memory checkpoint shared by every reader and writer.
 *
 * A Checkpoint owns a growable array of CkTensor; each tensor owns its name
 * and data buffers.  Names are unique (ck_add refuses duplicates as a user
 * error: two file keys that map to one canonical name).  Lookups go
 * through a hash index (NameIndex): a file may hold any number of tensors,
 * and a linear lookup per tensor would make reading it quadratic.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "ir.h"

Checkpoint *ck_new(const char *path)
{
	Checkpoint *ck = xcalloc(1, sizeof *ck);
	ck->path = xstrdup(path);
	strcpy(ck->mode, "float");
	ck->has_batchnorm = 1;
	return ck;
}

void ck_free(Checkpoint *ck)
{
	if (!ck)
		return;
	for (size_t i = 0; i < ck->nt; i++) {
		free(ck->t[i].name);
		free(ck->t[i].f);
		free(ck->t[i].q);
		free(ck->t[i].scales);
	}
	free(ck->t);
	free(ck->cfg);
	ni_free(&ck->ix);
	free(ck->path);
	free(ck);
}

static size_t ni_slot(const NameIndex *ix, const char *name)
{
	size_t i = (size_t)hash_bytes(name, strlen(name), 0) & (ix->cap - 1);
	while (ix->slot[i].name && strcmp(ix->slot[i].name, name) != 0)
		i = (i + 1) & (ix->cap - 1);
	return i;
}

size_t ni_find(const NameIndex *ix, const char *name)
{
	if (!ix->cap)
		return SIZE_MAX;
	const NameSlot *s = &ix->slot[ni_slot(ix, name)];
	return s->name ? s->idx : SIZE_MAX;
}

int ni_add(NameIndex *ix, const char *name, size_t idx)
{
	if (2 * (ix->n + 1) > ix->cap) {
		NameIndex big = {xcalloc(ix->cap ? 2 * ix->cap : 64, sizeof(NameSlot)),
		                 ix->cap ? 2 * ix->cap : 64, ix->n};
		for (size_t i = 0; i < ix->cap; i++)
			if (ix->slot[i].name)
				big.slot[ni_slot(&big, ix->slot[i].name)] = ix->slot[i];
		free(ix->slot);
		*ix = big;
	}
	NameSlot *s = &ix->slot[ni_slot(ix, name)];
	if (s->name)
		return 0;
	*s = (NameSlot){name, idx};
	ix->n++;
	return 1;
}

void ni_free(NameIndex *ix)
{
	free(ix->slot);
	memset(ix, 0, sizeof *ix);
}

/* Adds an empty tensor (data buffers NULL, n = product of shape). */
CkTensor *ck_add(Checkpoint *ck, const char *name, int kind, int ndim, const uint32_t *shape)
{
	if (ck_find(ck, name))
		fatal(ck->path, "duplicate tensor '%s'", ESC(name));
	if (ndim < 0 || ndim > 4)
		die("ck_add: ndim %d", ndim);
	if (ck->nt == ck->capt) {
		ck->capt = ck->capt ? 2 * ck->capt : 64;
		ck->t = xrealloc(ck->t, ck->capt * sizeof *ck->t);
	}
	CkTensor *t = &ck->t[ck->nt++];
	memset(t, 0, sizeof *t);
	t->name = xstrdup(name);
	ni_add(&ck->ix, t->name, ck->nt - 1);
	t->kind = kind;
	t->ndim = ndim;
	t->n = 1;
	for (int i = 0; i < ndim; i++) {
		t->shape[i] = shape[i];
		t->n *= shape[i];
	}
	return t;
}

CkTensor *ck_find(const Checkpoint *ck, const char *name)
{
	size_t i = ni_find(&ck->ix, name);
	return i == SIZE_MAX ? NULL : &ck->t[i];
}

CkTensor *ck_need(const Checkpoint *ck, const char *name)
{
	CkTensor *t = ck_find(ck, name);
	if (!t)
		fatal(ck->path, "missing tensor '%s'", ESC(name));
	return t;
}

/* Rejects NaN / Inf in a float tensor, naming it and the element. */
void ck_check_finite(const Checkpoint *ck, const CkTensor *t)
{
	if (t->kind == CK_F) {
		for (size_t i = 0; i < t->n; i++)
			if (!isfinite(t->f[i]))
				fatal(ck->path, "tensor '%s': element %zu is %s", ESC(t->name), i,
				      isnan(t->f[i]) ? "NaN" : "Inf");
		return;
	}
	size_t ns = t->kind == CK_Q4 ? (size_t)t->out * ((t->in + 31) / 32) : t->out;
	for (size_t i = 0; i < ns; i++)
		if (!isfinite(t->scales[i]))
			fatal(ck->path, "tensor '%s': scale %zu is %s", ESC(t->name), i,
			      isnan(t->scales[i]) ? "NaN" : "Inf");
}

/* Formats a name with a layer index: ck_name(buf, "predictor.transformer.layers.%d.x", i). */
const char *ck_name(char *buf, size_t cap, const char *fmt, int i)
{
	snprintf(buf, cap, fmt, i);
	return buf;
}
