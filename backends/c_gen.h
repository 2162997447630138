/*
 * c_gen.h -- internals shared by the C backend's files (c.c, c_node.c,
 * c_tab.c).  Not part of the backend interface (that is backends.h).
 *
 * Storage of the generated model.  Every live node owns `len` consecutive
 * lanes in one of two pools of the workspace: the narrow pool (int32_t) for
 * sW with W <= 32 and uW with W <= 31, whose values fit an int32_t, and the
 * wide pool (int64_t) for everything else (a u64 lane is kept with the same
 * bits, so lanes >= 2^63 read negative).  A lane always holds the node's
 * exact value; (uintN_t)lane is that value modulo 2^N.
 *
 * Nodes run either as emitted C (a loop per node, "code nodes") or as
 * records of the byte table interpreted by jc_run() ("table nodes": small
 * scalar work, concats of many scalars).  See c.c for why.
 */
#ifndef JEPAC_C_GEN_H
#define JEPAC_C_GEN_H

#include "backends.h"

enum { POOL_NONE, POOL_N, POOL_W };

typedef struct CGen {
	const Module *m;
	FILE *f;
	const EmitOpts *o;
	uint8_t *pool;      /* per node: POOL_* */
	uint8_t *table;     /* per node: 1 = table node */
	uint32_t *slot;     /* per node: lane 0 in its pool */
	uint32_t *port;     /* per input/output node: lane 0 in in[]/out[] */
	Ref *order;         /* schedule: a topological order, table nodes grouped */
	uint32_t norder;
	/* streams: the order is cut into groups run one after the other --
	 * static nodes once, then each window phase once per token (t), then
	 * the per-window nodes once (docs/ir.md, "Streams") */
	uint32_t *phase;    /* per node: window phase (ir_phases) */
	uint32_t ngroups;   /* 1 without streams */
	uint32_t *gend;     /* per group: end of its part of order[] */
	uint32_t nn, nw;    /* pool sizes in lanes */
	uint8_t *tused;     /* per tensor: referenced by a code node */
	int32_t *tbias;     /* per tensor: byte table bias, or INT32_MIN = int32 array */
	/* the record table, built while emitting */
	uint8_t *tab;
	size_t ntab, captab;
} CGen;

/* c_node.c */
int cg_group(const CGen *g, Ref r);          /* the group node r runs in */
uint32_t cg_lanes(const CGen *g, Ref r);     /* lanes r owns in its pool */
void cg_emit_store(CGen *g, Ref r);          /* a token op's write at token t */
int cg_is_narrow(const Node *n);
int cg_table_node(const Node *n, int many_vec);
int cg_vec_elem(const Node *n);
void cg_emit_node(CGen *g, Ref r);

/* c_tab.c */
void cg_tab_node(CGen *g, Ref r);            /* appends n's records */
void cg_write_bytes(FILE *f, const uint8_t *p, size_t n);   /* as string literal lines */
void cg_emit_tensors(CGen *g);
void cg_emit_runtime(FILE *f);               /* helpers + jc_run() */
void cg_emit_main(const CGen *g);

#endif
