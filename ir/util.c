/*
 * util.c -- arena allocation, checked malloc, diagnostics and hashing.
 *
 * The arena hands out zeroed, 16-byte aligned memory from a chain of
 * blocks; nothing is freed individually.  Diagnostics follow two kinds:
 * user errors (fatal, fatal_at) exit with status 1 after running the
 * registered cleanup; internal bugs (die) abort.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

struct ArenaBlock {
	ArenaBlock *next;
	size_t size;
	_Alignas(16) unsigned char data[];
};

void *arena_alloc(Arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!a->head || a->used + n > a->head->size) {
		size_t sz = n > (1u << 20) ? n : (1u << 20);
		ArenaBlock *b = xmalloc(sizeof *b + sz);
		b->next = a->head;
		b->size = sz;
		a->head = b;
		a->used = 0;
		a->total += sz;
	}
	void *p = a->head->data + a->used;
	a->used += n;
	memset(p, 0, n);
	return p;
}

char *arena_strdup(Arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(arena_alloc(a, n), s, n);
}

void arena_free(Arena *a)
{
	ArenaBlock *b = a->head;
	while (b) {
		ArenaBlock *next = b->next;
		free(b);
		b = next;
	}
	memset(a, 0, sizeof *a);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

/* The hook through which a program removes a half-written output file
 * before a user error exits; programs that write files define their own. */
__attribute__((weak)) void jepac_cleanup(void)
{
}

noreturn void fatal(const char *file, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "jepac: error: %s: ", file ? file : "-");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	jepac_cleanup();
	exit(1);
}

noreturn void fatal_at(const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s:%d:%d: error: ", file ? file : "-", line, col);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	jepac_cleanup();
	exit(1);
}

noreturn void die_(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "jepac: internal error at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	return hash_mix(h, n);
}
