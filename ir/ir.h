/*
 * ir.h -- jepac's intermediate representation: the whole API in one header.
 *
 * A Module is a dataflow graph.  Every value is produced by one Node; a node
 * is addressed by a 32-bit handle (Ref) into the module's node array, never
 * by pointer, so nodes are compact (32 bytes), hashable and printable as %N.
 * Operand lists live in one shared pool (Module.args).  Everything else a
 * module owns (strings, tensor data) lives in its arena and is freed with it.
 *
 * Values.  A value is a vector of `len` lanes (len >= 1).  Each lane has an
 * element type: sW (signed two's complement, 1 <= W <= 64 bits), uW
 * (unsigned, 1 <= W <= 64) or f64 (real, the high-level float graph before
 * fixed-point lowering).  In text: s16, u1, f64, with "xN" for N lanes:
 * s16x192.
 *
 * Integer semantics (normative text in docs/ir.md).  Operands are read as
 * mathematical integers according to their own signedness; an op computes
 * the exact result and wraps it (mod 2^W) into its result type.  Only `sat`
 * clamps.  Elementwise ops broadcast: an operand whose len divides the
 * result len is repeated (lane i reads operand lane i % len).
 *
 * Tensors are the module's named constants (weights): Q4 blocks with
 * per-block f32 scales, INT8 rows with per-row f32 scales, plain integers
 * with a binary point, or reals.  Integer ops (matvec with an integer
 * result, vconst, lut) read a tensor's integer codes; real ops read its real
 * values (code * scale, or code * 2^-frac).
 *
 * Regions are dotted names ("predictor.layer3.attn.to_qkv") carried by every
 * node (a string id; 0 = no region) into every backend.
 */
#ifndef JEPAC_IR_H
#define JEPAC_IR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>

#include "ops.h"

/* ---- util.c: arena, allocation, diagnostics, hashing ------------------ */

typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
	ArenaBlock *head;   /* newest block */
	size_t used;        /* bytes used in head */
	size_t total;       /* bytes allocated over all blocks */
} Arena;

void *arena_alloc(Arena *a, size_t n);            /* zeroed, 16-aligned */
char *arena_strdup(Arena *a, const char *s);
void arena_free(Arena *a);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* The hook that removes a half-written output file before an error exits
 * (fatal, fatal_at, die, out of memory); a program that writes files defines
 * it, util.c holds an empty weak default. */
void jepac_cleanup(void);

/* User errors: "jepac: error: FILE: msg" on stderr, exit status 1, after
 * jepac_cleanup(). */
noreturn void fatal(const char *file, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Text-form errors: "FILE:LINE:COL: error: msg", exit status 1. */
noreturn void fatal_at(const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Input quoted in a message (a name, a config value, a mode string, a
 * dtype, the FILE of fatal/fatal_at): printable ASCII as is, a backslash doubled,
 * every other byte as \xHH, so an error stays one line whatever the input
 * holds.  ESC(s) escapes a NUL-terminated string, ESCN(s, n) n bytes (NUL
 * included), each into a buffer local to the enclosing block; at most
 * ESC_MAX input bytes are shown, then "...".  Every message that quotes
 * input uses them. */
#define ESC_MAX 128
#define ESC(s) esc_str((char[ESC_MAX * 4 + 4]){0}, (s), SIZE_MAX)
#define ESCN(s, n) esc_str((char[ESC_MAX * 4 + 4]){0}, (s), (n))
const char *esc_str(char *buf, const char *s, size_t n);   /* n = SIZE_MAX: up to NUL */
void esc_put(FILE *f, const char *s);                      /* all of s, escaped */
/* Internal bugs: "jepac: internal error at FILE:LINE: msg", abort(). */
#define die(...) die_(__FILE__, __LINE__, __VA_ARGS__)
noreturn void die_(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Output files written atomically: to a temporary name beside the target,
 * renamed over it only by out_close (devices and FIFOs are written in
 * place; NULL or "-" is stdout).  A program's jepac_cleanup() calls
 * out_discard on the files it has open, so a failed run leaves nothing. */
typedef struct OutFile {
	FILE *f;
	char *path;      /* final name; NULL for stdout */
	char *tmp;       /* temporary name while open; NULL when written in place */
	char *buf;       /* stdio buffer of a regular file (OUT_BUFSIZE bytes), or NULL */
} OutFile;
#define OUT_BUFSIZE (1u << 16)
void out_open(OutFile *o, const char *path);
void out_close(OutFile *o);
void out_discard(OutFile *o);

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);
static inline uint64_t hash_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

/* ---- ir.c: modules, nodes, tensors, strings --------------------------- */

typedef uint32_t Ref;            /* node handle: index into Module.nodes */
#define NOREF UINT32_MAX

enum { TY_S, TY_U, TY_F };       /* element kinds */
/* Node.flags.  The rate bits say how often a value changes (docs/ir.md,
 * "Streams"): none = static (the same for every token of a window),
 * NF_STREAM = one value per token, NF_WIN = one value per window, known
 * once a token of the stream has been picked.  ir_node() and ir_compact()
 * infer them from the operands; only an input port's is set by its maker. */
enum { NF_DEAD = 1, NF_STREAM = 2, NF_WIN = 4 };
#define NF_RATE (NF_STREAM | NF_WIN)

typedef struct Node {
	uint8_t op;      /* Op */
	uint8_t ty;      /* TY_S, TY_U or TY_F */
	uint8_t width;   /* bits per lane: 1..64 (64 for TY_F) */
	uint8_t flags;   /* NF_* */
	uint32_t len;    /* lanes, >= 1 */
	uint32_t args;   /* first operand: index into Module.args */
	uint32_t nargs;  /* number of value operands */
	int64_t imm;     /* integer immediate, or a double's bits ('r') */
	uint32_t aux;    /* tensor id, string id or second immediate ('j') */
	uint32_t region; /* string id of the region, 0 = none */
} Node;

typedef enum { TK_INT, TK_Q4, TK_I8, TK_F32, TK_F64 } TensorKind;
#define Q4_BLOCK 32

typedef struct Tensor {
	uint32_t name;   /* string id (e.g. the checkpoint's tensor name) */
	uint8_t kind;    /* TensorKind */
	uint8_t ndim;    /* 1 or 2 */
	uint32_t dims[2];/* [rows][cols]; 1-D tensors have dims[1] == 1 */
	int32_t frac;    /* TK_INT: real = code * 2^-frac */
	size_t n;        /* elements = dims[0] * dims[1] */
	int32_t *codes;  /* TK_INT, TK_Q4 (-8..7), TK_I8 (-128..127): n codes */
	float *scales;   /* TK_Q4: dims[0] * nblocks; TK_I8: dims[0]; else NULL */
	double *reals;   /* TK_F32 (values exactly representable as float), TK_F64 */
} Tensor;

typedef struct Module {
	Arena arena;     /* strings, tensor data: freed with the module */
	uint32_t name;   /* string id */
	Node *nodes;
	uint32_t nnodes, capnodes;
	Ref *argv;       /* operand pool; Node.args indexes it */
	size_t nargv, capargv;
	Tensor *tensors;
	uint32_t ntensors, captensors;
	const char **strs;      /* interned strings; strs[0] == "" */
	uint32_t nstrs, capstrs;
	uint32_t *strhash;      /* open addressing table of string ids */
	uint32_t capstrhash;
	uint32_t cur_region;    /* region given to new nodes */
	uint32_t tokens;        /* tokens per window of every stream value; 0 = no streams */
} Module;

typedef struct OpInfo {
	const char *name;
	const char *sig;
	unsigned flags;
	int cost;
} OpInfo;
extern const OpInfo op_info[OP_COUNT];   /* read-only table from ops.h */
int op_lookup(const char *name);         /* Op or -1 */

Module *ir_new(const char *name);
void ir_free(Module *m);
uint32_t ir_str(Module *m, const char *s);            /* intern */
uint32_t ir_strn(Module *m, const char *s, size_t n);
static inline const char *ir_strget(const Module *m, uint32_t id) { return m->strs[id]; }

/* Appends a node; copies args into the pool.  Region = m->cur_region. */
Ref ir_node(Module *m, int op, int ty, int width, uint32_t len,
            const Ref *args, uint32_t nargs, int64_t imm, uint32_t aux);
static inline Node *ir_get(const Module *m, Ref r) { return &m->nodes[r]; }
static inline Ref ir_arg(const Module *m, const Node *n, uint32_t i) { return m->argv[n->args + i]; }
static inline Ref *ir_args(const Module *m, const Node *n) { return &m->argv[n->args]; }
static inline double ir_fimm(const Node *n) { double d; __builtin_memcpy(&d, &n->imm, 8); return d; }
static inline int64_t ir_fbits(double d) { int64_t v; __builtin_memcpy(&v, &d, 8); return v; }
void ir_set_region(Module *m, const char *dotted);     /* NULL or "" = none */

/* Tensors: data arrays allocated (zeroed) in the arena by kind. */
uint32_t ir_tensor(Module *m, const char *name, int kind, int ndim,
                   uint32_t rows, uint32_t cols);
static inline Tensor *ir_tget(const Module *m, uint32_t id) { return &m->tensors[id]; }
uint32_t tensor_nblocks(const Tensor *t);            /* Q4: ceil(cols/32) */
double tensor_real(const Tensor *t, size_t i);       /* real value of element i */
int tensor_has_codes(const Tensor *t);               /* INT, Q4, I8 */

/* Node helpers */
int64_t ty_min(int ty, int width);
int64_t ty_max(int ty, int width);           /* as int64; u64 max clamps to INT64_MAX */
int64_t ty_wrap(int ty, int width, int64_t v);  /* v mod 2^width, read as ty */
int ty_fits(int ty, int width, int64_t v);
void ir_print_type(FILE *f, const Node *n);

/* Graph maintenance */
void ir_kill(Module *m, Ref r);                /* marks dead */
/* Rewrites every operand a to map[a] (following chains) where map[a] != NOREF. */
void ir_rewrite(Module *m, const Ref *map);
/* Drops dead nodes, puts the rest in a topological order (registers break
 * cycles) that keeps the existing order where it already is one, and
 * compacts the operand pool. */
void ir_compact(Module *m);
/* The order ir_compact gives the live nodes (whatever their textual order):
 * every operand before its user, except that with a register feedback loop
 * a register may come before its operands.  Returns the count placed in
 * order[] (room for nnodes).  Passes that need operands first use it rather
 * than index order, so they stay linear when the text lists users first. */
uint32_t ir_order(const Module *m, Ref *order);
/* ir_compact for a module read out of order or scattered (the driver,
 * right after loading): the same, except that the depth-first search always
 * runs (an operands-first order is not kept) and starts at the output
 * ports, so each output's cone comes together right before it (in a
 * shuffled many-port module, port k's logic then sits near port k); a node
 * no output reaches goes right after the last place of its operands. */
void ir_reorder(Module *m);
/* 1 if every live node's operands come before it (one sequential scan).
 * The driver compacts a module read out of order, so that passes and
 * backends sweep memory in order (a shuffled 1M-node module made every
 * pass 2x slower per node through cache misses alone). */
int ir_in_order(const Module *m);
/* 1 if an operands-first module reads its operands from scattered places
 * (shuffled lines: over a quarter of the values are first read far from
 * their user and from the few values read before; one sequential scan of a
 * module of over 4096 nodes).  The driver renumbers such a module with
 * ir_reorder as it does one out of order; jepac's own output never is. */
int ir_scattered(const Module *m);
/* Topological order of the live nodes following every operand, registers
 * included (input ports first).  Returns the number placed in order[]
 * (room for nnodes), or -1 if a register closes a feedback loop. */
int64_t ir_topo(const Module *m, Ref *order);
/* A node's operands as a depth-first search follows them: the first two
 * inline, n of them (0 for a dead node, and for a reg unless through_regs),
 * the rest (n > 2) in the pool.  ir_adj fills one per node in a sequential
 * sweep (caller frees), so that a search step reads one 12-byte record
 * instead of a node and then its operand list: in a module read out of
 * order each is a cache miss that nothing can overlap. */
typedef struct IrAdj {
	Ref a[2];
	uint32_t n;
} IrAdj;
IrAdj *ir_adj(const Module *m, int through_regs);
static inline Ref ir_adj_arg(const Module *m, const IrAdj *d, Ref r, uint32_t i)
{
	return i < 2 ? d->a[i] : ir_arg(m, &m->nodes[r], i);
}
/* Counts uses of every node (uses[i]); caller frees. */
uint32_t *ir_uses(const Module *m);
Ref ir_input(const Module *m, uint32_t k);     /* k-th input port node */
uint32_t ir_ninputs(const Module *m);

/* Streams (docs/ir.md, "Streams").  A stream value holds `len` lanes per
 * token; the interpreter stores a window of it as tokens * len lanes,
 * token-major. */
static inline int ir_is_stream(const Node *n) { return (n->flags & NF_STREAM) != 0; }
/* Lanes of one window of node r's value: len, times tokens for a stream. */
static inline size_t ir_vlanes(const Module *m, const Node *n)
{
	return ir_is_stream(n) ? (size_t)n->len * (m->tokens ? m->tokens : 1) : n->len;
}
/* The rate r's operands and op give it (NF_STREAM, NF_WIN or 0), or -1 if
 * its operands mix a stream with a per-window value (or tseq, wdelay read
 * a stream). */
int ir_rate_of(const Module *m, Ref r);
/* Sets every live node's rate bits in a topological order. */
void ir_infer_rates(Module *m);
/* Phase of every node (phase[], room for nnodes): the number of window
 * barriers (tall, tdelay, sattn, tseq) on the longest path from an input;
 * a floating node -- a tpos, or a stream computed from tpos and static
 * values only (e.g. a tpos through pipeline registers) -- takes the
 * highest phase of its users (outputs aside). */
void ir_phases(const Module *m, uint32_t *phase);
/* Is op a barrier: its stream result at token t needs later tokens? */
static inline int op_is_barrier(int op)
{
	return op == OP_TALL || op == OP_TDELAY || op == OP_SATTN || op == OP_TSEQ;
}
uint32_t ir_noutputs(const Module *m);

/* ---- parse.c / print.c: the text form (.jir), spec in docs/ir.md ------ */

Module *ir_parse(const char *text, size_t n, const char *filename);
Module *ir_parse_file(const char *path);  /* "-" = stdin */
void ir_print(const Module *m, FILE *f);

/* ---- verify.c ---------------------------------------------------------- */

/* Returns 0 if valid; else writes one line to msg and returns -1. */
int ir_verify(const Module *m, char *msg, size_t msgsize);

/* ---- interp.c: reference semantics ------------------------------------ */

typedef struct InterpStats {
	uint64_t sat_events;   /* lanes where `sat` clamped a value */
} InterpStats;

/* Lane counts over all ports, in declaration order. */
size_t ir_in_lanes(const Module *m);
size_t ir_out_lanes(const Module *m);
/* Evaluates the module once (registers are transparent).  Integer ports
 * read/write codes; f64 ports their values through `vals` (a lane of an
 * integer port is passed as its integer value converted to double).  */
typedef struct Interp Interp;
Interp *interp_new(const Module *m);
void interp_free(Interp *ip);
void interp_run(Interp *ip, const double *in, double *out, InterpStats *st);
void interp_run_int(Interp *ip, const int64_t *in, int64_t *out, InterpStats *st);

#endif
