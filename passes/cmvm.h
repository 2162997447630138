/*
 * cmvm.h -- constant matrix times vector as an adder graph (shared by the
 * strength-reduce and cse passes and by bench/cmvm).
 *
 * A problem is an integer matrix W [rows][cols]; the solution (Cmvm) is an
 * abstract adder graph over variables: variables 0 .. nin-1 are the inputs
 * (columns), variable nin + i is defined by ops[i] as
 *
 *     v = (a << sa) + (b << sb)      or      v = (a << sa) - (b << sb)
 *
 * with a, b < v (so ops are in topological order), and row r's result is
 * out[r].sign * (out[r].var << out[r].shift) (sign 0: the row is zero).
 * Every op is one two-input adder; shifts are free wiring; a negative
 * output sign costs one negation.  Everything is exact integer arithmetic:
 * cmvm_emit() instantiates the graph as IR nodes whose widths come from the
 * value intervals of the inputs, capped at the result width (arithmetic
 * modulo 2^W is a ring, so capping keeps the final wrap exact).
 *
 * Solvers (cmvm_solve level):
 *   CMVM_PLAIN  each weight in canonical signed digits (CSD), every row an
 *               adder tree of its digits (the "naive CSD" baseline);
 *   CMVM_ODD    per-input shared odd multiples: m * x_c for each odd
 *               |w| / 2^k with >= 2 CSD digits is built once per column
 *               and reused by every row (~1 adder per non-zero weight);
 *   CMVM_SHARE  da4ml's two stages: optional row factoring (cmvm_mst.c:
 *               each row = +-parent row + a difference row, parents from a
 *               minimum spanning tree over CSD distances), then greedy
 *               extraction of the most frequent pair of signed, shifted
 *               terms across rows (cmvm_greedy.c), then row trees.  Small
 *               matrices (<= 4096 weights, >= 2 rows) are solved with 6
 *               deterministic restarts (3 scoring modes x factoring on/off)
 *               plus 8..32 seeded ones and the fewest adders kept;
 *               CMVM_LEVEL(CMVM_SHARE, N) bounds the adder depth.
 *   CMVM_WIDE   CMVM_SHARE with bigger matrices solved whole (-O3).
 */
#ifndef JEPAC_CMVM_H
#define JEPAC_CMVM_H

#include "ir.h"
#include "timing.h"   /* csd_digits, ceil_log2 */

/* CMVM_WIDE is CMVM_SHARE with matrices solved whole up to 64x more
 * greedy work (cmvm.c, column chunks): -O3. */
enum { CMVM_PLAIN = 0, CMVM_ODD = 1, CMVM_SHARE = 2, CMVM_WIDE = 3 };
/* A level with a depth bound (CMVM_SHARE only; 0: none): every row's adder
 * depth is at most max(maxdepth, its minimum ceil(log2(CSD digits))), the
 * greedy taking only the pairs that keep it so, and no row factoring. */
#define CMVM_LEVEL(level, maxdepth) ((level) | (maxdepth) << 8)
#define CMVM_MAXDEPTH_LIMIT 60
/* Tie-break / scoring modes of the greedy (cmvm_greedy.c). */
enum { CMVM_TIE_SHALLOW = 0, CMVM_TIE_DEEP = 1, CMVM_TIE_WMC = 2 };

typedef struct CmvmOp {
	uint32_t a, b;       /* operand variables */
	uint8_t sa, sb;      /* left shifts of a and b */
	uint8_t neg;         /* 1: a - b, 0: a + b */
} CmvmOp;

typedef struct CmvmTerm {
	uint32_t var;
	uint8_t shift;
	int8_t sign;         /* +1, -1; 0 only in Cmvm.out: the row is zero */
} CmvmTerm;

typedef struct CmvmRow {  /* a growable list of terms (a sum) */
	CmvmTerm *t;
	uint32_t n, cap;
} CmvmRow;

typedef struct Cmvm {
	uint32_t nin;        /* input variables */
	uint32_t nops, capops;
	CmvmOp *ops;
	uint16_t *depth;     /* adder levels of every variable (nin + nops) */
	uint32_t nrows;
	CmvmTerm *out;       /* one per row */
} Cmvm;

/* Solves rows x cols of w (row r at w + r * stride) into p (zeroed first). */
void cmvm_solve(Cmvm *p, const int32_t *w, uint32_t rows, uint32_t cols,
                size_t stride, int level);
/* The 1 x 1 problem of one 64-bit constant (CSD digits, one row tree). */
void cmvm_solve_const(Cmvm *p, int64_t v);
void cmvm_free(Cmvm *p);
/* Number of adders (ops + negated outputs) and the adder depth. */
uint32_t cmvm_adders(const Cmvm *p);
uint32_t cmvm_depth(const Cmvm *p);
/* Sum of adder result widths for inputs of in_bits signed bits. */
uint64_t cmvm_fa_bits(const Cmvm *p, int in_bits);

/* Instantiates p into m: in[c] is the node of input column c (len lanes);
 * out[r] receives row r's node (len lanes).  Node types: signed, width from
 * the value interval capped at rwidth; if exact, every out[r] has exactly
 * the type (rty, rwidth).  New nodes get m->cur_region. */
void cmvm_emit(Module *m, const Cmvm *p, const Ref *in, uint32_t len,
               int rty, int rwidth, int exact, Ref *out);

/* cmvm_lower.c: replaces every integer op of the kinds in `ops` (bit mask
 * of CMVM_K_*) by its adder graph at `level`; returns the number replaced.
 * Logs "NAME: ..." (a summary) to log and one line per matrix to vlog, each
 * when non-NULL.  Replaced nodes are killed; the
 * caller runs ir_compact. */
enum { CMVM_K_CMUL = 1, CMVM_K_VCMUL = 2, CMVM_K_MATVEC = 4, CMVM_K_BMATVEC = 8,
       CMVM_K_VCSUM = 16 /* vcmul whose only user is a sum: one dot product per group */ };
uint32_t cmvm_lower(Module *m, unsigned ops, int level, FILE *log, FILE *vlog, const char *name);

/* cmvm_pool.c: matrices solved ahead on a helper thread, taken in order
 * (results identical to calling cmvm_solve at the time of the take). */
typedef struct CmvmPool CmvmPool;
CmvmPool *cmvm_pool_new(void);
void cmvm_pool_add(CmvmPool *p, const int32_t *w, uint32_t rows, uint32_t cols,
                   size_t stride, int level);
void cmvm_pool_start(CmvmPool *p);           /* after the last add */
/* The next job's solution (its matrix must be w, rows x cols); caller frees. */
void cmvm_pool_take(CmvmPool *p, Cmvm *out, const int32_t *w, uint32_t rows, uint32_t cols);
void cmvm_pool_free(CmvmPool *p);

/* ---- internals shared by cmvm.c and cmvm_greedy.c --------------------- */

/* Appends an op and returns its variable; a, b < current variable count. */
uint32_t cmvm_op(Cmvm *p, uint32_t a, int sa, uint32_t b, int sb, int neg);
/* Combines two terms into one with one op (sign of the result in *t). */
CmvmTerm cmvm_join(Cmvm *p, CmvmTerm x, CmvmTerm y);
void cmvm_row_push(CmvmRow *r, CmvmTerm t);
/* Makes each row a single term by adder trees, shallowest terms first. */
void cmvm_finish_rows(Cmvm *p, CmvmRow *rows);
/* Appends the CSD digits of v << shift on variable var to row. */
void cmvm_csd_terms(CmvmRow *row, int64_t v, uint32_t var, int shift);
/* Greedy pair extraction over the terms of rows (cmvm_greedy.c). */
/* cap: NULL, or per row a bound on sum over its terms of 2^depth (the
 * greedy then keeps every row's Huffman tree depth <= log2(cap)). */
void cmvm_greedy(Cmvm *p, CmvmRow *rows, uint32_t nrows, int mode, const uint64_t *cap);
/* As cmvm_finish_rows, but rows are finished in order[] and row r then
 * also adds psign[r] * (row parent[r]'s result) (parent UINT32_MAX: none;
 * every parent precedes its children in order). */
void cmvm_finish_tree(Cmvm *p, CmvmRow *rows, const uint32_t *order,
                      const uint32_t *parent, const int8_t *psign);
/* cmvm_mst.c: row factoring (da4ml's first stage).  A minimum spanning
 * tree over the rows plus the zero row, edge weight = CSD digits of
 * w_i - w_j or w_i + w_j (the cheaper; psign = -1 or +1), rooted at zero.
 * Writes d (rows x cols, dense) = w_r - psign[r] * w_parent[r], Prim order
 * and parents; returns 0 (nothing written) if some |w| >= 2^29.  maxlvl > 0
 * bounds the tree's depth (rows at that level take no children). */
int cmvm_mst(const int32_t *w, uint32_t rows, uint32_t cols, size_t stride, uint32_t maxlvl,
             int32_t *d, uint32_t *order, uint32_t *parent, int8_t *psign);

/* Open-addressing map from non-zero 64-bit keys to 32-bit values (key and
 * value side by side: one cache line per probe). */
typedef struct CmvmSlot {
	uint64_t key;        /* 0 = empty */
	uint32_t val;
} CmvmSlot;
typedef struct CmvmMap {
	CmvmSlot *slot;
	uint32_t cap, n;     /* cap is a power of two */
} CmvmMap;
void cmvm_map_init(CmvmMap *h, uint32_t cap);
void cmvm_map_free(CmvmMap *h);
/* Slot of key (inserted with value *val_if_new if absent; *isnew set). */
uint32_t *cmvm_map_get(CmvmMap *h, uint64_t key, uint32_t val_if_new, int *isnew);
uint32_t *cmvm_map_find(const CmvmMap *h, uint64_t key);
/* Home slot of key (where its probe sequence starts). */
static inline uint32_t cmvm_map_slot(const CmvmMap *h, uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (h->cap - 1);
}

#endif
