/*
 * util.c -- arena allocation, checked malloc, diagnostics and hashing.
 *
 * The arena hands out zeroed, 16-byte aligned memory from a chain of
 * blocks; nothing is freed individually.  Diagnostics follow two kinds:
 * user errors (fatal, fatal_at) exit with status 1 after running the
 * registered cleanup; internal bugs (die) abort.
 */
#define _DEFAULT_SOURCE   /* madvise's MADV_HUGEPAGE (Linux) */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Running out of memory is the design being too big for the machine, not
 * a bug: one error line (no abort, no core) and the output file removed. */
static noreturn void out_of_memory(size_t n)
{
	fflush(stdout);
	fprintf(stderr, "jepac: error: out of memory allocating %zu bytes (the design is too "
	        "large for this machine: compile a smaller --top)\n", n);
	jepac_cleanup();
	exit(1);
}

/*
 * Large blocks ask for transparent huge pages (where the kernel leaves that
 * to madvise, as Debian's does): a pass over a 1M-node module reads its
 * per-node arrays and hash tables at random places, tens of MB that 4 KB
 * pages cover with thousands of TLB entries, so at 1M nodes nearly every
 * such read also missed the TLB (which, in a virtual machine, costs a walk
 * of two page tables).  2 MB pages cover them with a few dozen.  Only the
 * whole 2 MB pages inside a block of at least THP_MIN bytes are advised,
 * before anything touches them (pages already touched keep their size).
 * An advice the kernel refuses changes nothing but speed.
 */
enum { THP_PAGE = 2u << 20, THP_MIN = 4u << 20 };

static void *thp_advise(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	if (p && n >= THP_MIN) {
		uintptr_t lo = ((uintptr_t)p + THP_PAGE - 1) & ~(uintptr_t)(THP_PAGE - 1);
		uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)(THP_PAGE - 1);
		if (hi > lo)
			(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
	}
#else
	(void)n;
#endif
	return p;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return thp_advise(p, n);
}

void *xcalloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		out_of_memory(SIZE_MAX);
	if (n * size >= THP_MIN)   /* advised before the zeroing touches it */
		return memset(xmalloc(n * size), 0, n * size);
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory(n);
	return thp_advise(p, n);
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

/* One byte as shown in a message: k bytes written to e. */
static int esc_byte(char *e, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	if (c == '\\') {
		e[0] = e[1] = '\\';
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		e[0] = (char)c;
		return 1;
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 15];
	return 4;
}

const char *esc_str(char *buf, const char *s, size_t n)
{
	size_t k = 0, i = 0;
	if (!s)
		s = "";
	if (n == SIZE_MAX)
		n = strlen(s);
	for (; i < n && i < ESC_MAX; i++)
		k += (size_t)esc_byte(buf + k, (unsigned char)s[i]);
	if (i < n)
		memcpy(buf + k, "...", 3), k += 3;
	buf[k] = 0;
	return buf;
}

void esc_put(FILE *f, const char *s)
{
	char e[4];
	for (; *s; s++)
		fwrite(e, 1, (size_t)esc_byte(e, (unsigned char)*s), f);
}

noreturn void fatal(const char *file, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("jepac: error: ", stderr);
	esc_put(stderr, file ? file : "-");
	fputs(": ", stderr);
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
	esc_put(stderr, file ? file : "-");
	fprintf(stderr, ":%d:%d: error: ", line, col);
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
	jepac_cleanup();   /* no half-written output, even on an internal error */
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

void out_open(OutFile *o, const char *path)
{
	struct stat st;
	memset(o, 0, sizeof *o);
	if (!path || strcmp(path, "-") == 0) {
		o->f = stdout;
		return;
	}
	o->path = xstrdup(path);
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device or FIFO: renaming over it would replace the node */
		if (!(o->f = fopen(path, "wb")))
			fatal(path, "cannot open: %s", strerror(errno));
		return;
	}
	size_t n = strlen(path) + 16;
	o->tmp = xmalloc(n);
	snprintf(o->tmp, n, "%s.tmp.XXXXXX", path);
	int fd = mkstemp(o->tmp);
	if (fd < 0) {
		free(o->tmp);
		o->tmp = NULL;
		fatal(path, "cannot create: %s", strerror(errno));
	}
	mode_t mask = umask(0);   /* mkstemp makes 0600; give the usual 0666 & ~umask */
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0 || !(o->f = fdopen(fd, "wb")))
		fatal(path, "cannot open: %s", strerror(errno));
	/* 64 KiB: 16x fewer write calls than the default 4 KiB and still
	 * cache-resident (a 1 MiB buffer made writing 2x slower) */
	o->buf = xmalloc(OUT_BUFSIZE);
	setvbuf(o->f, o->buf, _IOFBF, OUT_BUFSIZE);
}

void out_close(OutFile *o)
{
	const char *name = o->path ? o->path : "<stdout>";
	int err = ferror(o->f);
	if ((o->f == stdout ? fflush(o->f) : fclose(o->f)) != 0 || err) {
		o->f = NULL;
		fatal(name, "write error");
	}
	o->f = NULL;
	free(o->buf);
	o->buf = NULL;
	if (o->tmp && rename(o->tmp, o->path) != 0)
		fatal(name, "cannot rename temporary file: %s", strerror(errno));
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
}

void out_discard(OutFile *o)
{
	if (o && o->tmp) {
		unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
	}
}
