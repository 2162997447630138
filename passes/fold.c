/*
 * fold.c -- constant folding and algebraic identities.
 *
 * One walk in index order (operands before users).  Each node's operands
 * are first redirected through the replacement map built so far, so chains
 * of constants fold in a single walk.  Then:
 *
 *   - an OPF_FOLD node whose value operands are all const / fconst / vconst
 *     is evaluated with eval_node() -- the interpreter's own code, so the
 *     folded value is exactly what the interpreter computes -- and replaced
 *     by a `const` (or `fconst`) when all lanes are equal, else by a
 *     `vconst` of a new 1-D tensor "fold.N" (int codes, or f64 reals).  An
 *     integer result with a lane outside int32 stays unfolded (tensor codes
 *     are int32).
 *   - identities on integers: add x,0  sub x,0  shl x,0  shr x,0  cmul x,1
 *     mul x,1 -> x;  cmul x,0  mul x,0 -> const 0;  ext/trunc to x's own
 *     type -> x.  On reals only the exact ones: add x,-0.0  sub x,+0.0
 *     mul x,1.0 -> x.  When the result type differs from x's, x is
 *     converted by `ext` (if the result type holds every value of x's) or
 *     `trunc` (if narrower; wrapping = taking the low bits); otherwise, or
 *     when x would have to broadcast, the node is left alone.
 *
 * Linear in nodes + operands (plus the lanes of folded values).
 * Requires: a valid, compacted module.  Preserves: semantics (bit-exact
 * outputs, except that `sat` lanes folded away no longer count in
 * --stats), port order.  Leaves the module compacted.
 */
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "passes.h"

typedef struct Fold {
	Module *m;
	EvalCtx ec;
	Ref *map;          /* replacement of each original node, or NOREF */
	uint32_t n0;       /* nodes before the pass */
	uint8_t *tname;    /* string ids used as tensor names */
	uint32_t ntname;
	uint32_t next_name;
	uint32_t consts, idents;
} Fold;

static int is_constant(const Node *n)
{
	return n->op == OP_CONST || n->op == OP_FCONST || n->op == OP_VCONST;
}

static Ref resolve(const Fold *f, Ref a)
{
	while (a < f->n0 && f->map[a] != NOREF)
		a = f->map[a];
	return a;
}

/* A new node in the region of node r. */
static Ref new_node(Fold *f, Ref r, int op, const Ref *args, uint32_t nargs,
                    int64_t imm, uint32_t aux)
{
	Module *m = f->m;
	Node n = *ir_get(m, r);
	uint32_t save = m->cur_region;
	m->cur_region = n.region;
	Ref x = ir_node(m, op, n.ty, n.width, n.len, args, nargs, imm, aux);
	m->cur_region = save;
	return x;
}

static uint32_t new_tensor(Fold *f, int kind, uint32_t len)
{
	char name[32];
	for (;;) {
		snprintf(name, sizeof name, "fold.%u", f->next_name++);
		uint32_t id = ir_str(f->m, name);
		if (id >= f->ntname || !f->tname[id])
			break;
	}
	return ir_tensor(f->m, name, kind, 1, len, 1);
}

/* Replaces r by a constant holding the lanes v; returns 0 if impossible. */
static int make_constant(Fold *f, Ref r, const Lane *v)
{
	const Node n = *ir_get(f->m, r);
	int equal = 1;
	for (uint32_t i = 1; i < n.len && equal; i++)
		equal = v[i].i == v[0].i;     /* compares the bits of reals too */
	Ref x;
	if (equal) {
		x = new_node(f, r, n.ty == TY_F ? OP_FCONST : OP_CONST, NULL, 0, v[0].i, 0);
	} else if (n.ty == TY_F) {
		uint32_t t = new_tensor(f, TK_F64, n.len);
		for (uint32_t i = 0; i < n.len; i++)
			ir_tget(f->m, t)->reals[i] = v[i].f;
		x = new_node(f, r, OP_VCONST, NULL, 0, 0, t);
	} else {
		for (uint32_t i = 0; i < n.len; i++)
			if (v[i].i < INT32_MIN || v[i].i > INT32_MAX)
				return 0;
		uint32_t t = new_tensor(f, TK_INT, n.len);
		for (uint32_t i = 0; i < n.len; i++)
			ir_tget(f->m, t)->codes[i] = (int32_t)v[i].i;
		x = new_node(f, r, OP_VCONST, NULL, 0, 0, t);
	}
	f->map[r] = x;
	return 1;
}

static int fold_constant(Fold *f, Ref r)
{
	const Node *n = ir_get(f->m, r);
	uint32_t na = n->nargs;
	Lane **arg = xcalloc(na + 1, sizeof *arg);
	for (uint32_t k = 0; k < na; k++) {
		Ref a = ir_arg(f->m, n, k);
		arg[k] = xmalloc(ir_get(f->m, a)->len * sizeof **arg);
		eval_node(&f->ec, a, NULL, arg[k]);
	}
	Lane *out = xmalloc(n->len * sizeof *out);
	eval_node(&f->ec, r, (const Lane *const *)arg, out);
	int done = make_constant(f, r, out);
	for (uint32_t k = 0; k < na; k++)
		free(arg[k]);
	free(arg);
	free(out);
	return done;
}

/* ---- identities -------------------------------------------------------- */

/* Is a a const whose lanes are all the integer v? */
static int is_int(const Module *m, Ref a, int64_t v)
{
	const Node *n = ir_get(m, a);
	return n->op == OP_CONST && ty_wrap(n->ty, n->width, n->imm) == v;
}

/* Is a an fconst with exactly the bits of v? */
static int is_real(const Module *m, Ref a, double v)
{
	const Node *n = ir_get(m, a);
	return n->op == OP_FCONST && n->imm == ir_fbits(v);
}

/* Does type (ty, w) hold every value of x's type? */
static int holds(int ty, int w, const Node *x)
{
	if (x->ty == TY_U)
		return (ty == TY_U && w >= x->width) || (ty == TY_S && w > x->width);
	return ty == TY_S && w >= x->width;
}

/* Replaces r by the value of x, converted to r's type if needed. */
static void replace_by(Fold *f, Ref r, Ref x)
{
	const Node n = *ir_get(f->m, r), *v = ir_get(f->m, x);
	if (v->len != n.len || (v->ty == TY_F) != (n.ty == TY_F))
		return;
	if (v->ty == n.ty && v->width == n.width)
		f->map[r] = x;
	else if (holds(n.ty, n.width, v))
		f->map[r] = new_node(f, r, OP_EXT, &x, 1, 0, 0);
	else if (n.width <= v->width)
		f->map[r] = new_node(f, r, OP_TRUNC, &x, 1, 0, 0);
	else
		return;
	f->idents++;
}

static void replace_by_zero(Fold *f, Ref r)
{
	f->map[r] = new_node(f, r, OP_CONST, NULL, 0, 0, 0);
	f->idents++;
}

static void identity_real(Fold *f, Ref r, Ref a, Ref b)
{
	const Module *m = f->m;
	switch (ir_get(m, r)->op) {
	case OP_ADD:
		if (is_real(m, b, -0.0))
			replace_by(f, r, a);
		else if (is_real(m, a, -0.0))
			replace_by(f, r, b);
		break;
	case OP_SUB:
		if (is_real(m, b, 0.0))
			replace_by(f, r, a);
		break;
	case OP_MUL:
		if (is_real(m, b, 1.0))
			replace_by(f, r, a);
		else if (is_real(m, a, 1.0))
			replace_by(f, r, b);
		break;
	}
}

static void identity(Fold *f, Ref r)
{
	const Module *m = f->m;
	const Node *n = ir_get(m, r);
	if (n->nargs == 0 || n->op == OP_OUTPUT)
		return;
	Ref a = ir_arg(m, n, 0), b = n->nargs > 1 ? ir_arg(m, n, 1) : NOREF;
	if (n->ty == TY_F) {
		if (b != NOREF)
			identity_real(f, r, a, b);
		return;
	}
	if (ir_get(m, a)->ty == TY_F)
		return;
	switch (n->op) {
	case OP_ADD:
		if (is_int(m, b, 0))
			replace_by(f, r, a);
		else if (is_int(m, a, 0))
			replace_by(f, r, b);
		break;
	case OP_SUB:
		if (is_int(m, b, 0))
			replace_by(f, r, a);
		break;
	case OP_MUL:
		if (is_int(m, a, 0) || is_int(m, b, 0))
			replace_by_zero(f, r);
		else if (is_int(m, b, 1))
			replace_by(f, r, a);
		else if (is_int(m, a, 1))
			replace_by(f, r, b);
		break;
	case OP_CMUL:
		if (n->imm == 0)
			replace_by_zero(f, r);
		else if (n->imm == 1)
			replace_by(f, r, a);
		break;
	case OP_SHL: case OP_SHR:
		if (n->imm == 0)
			replace_by(f, r, a);
		break;
	case OP_EXT: case OP_TRUNC:
		if (ir_get(m, a)->ty == n->ty && ir_get(m, a)->width == n->width)
			replace_by(f, r, a);
		break;
	}
}

/* ---- the walk ---------------------------------------------------------- */

/* Drops the tensors this pass made (ids >= nt0) that no live node uses any
 * more (intermediate values of folded chains), renumbering the rest. */
static void drop_unused_tensors(Module *m, uint32_t nt0)
{
	if (m->ntensors == nt0)
		return;
	uint32_t *newid = xcalloc(m->ntensors - nt0, sizeof *newid);
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (n->op == OP_VCONST && n->aux >= nt0)
			newid[n->aux - nt0] = 1;
	}
	uint32_t k = nt0;
	for (uint32_t t = nt0; t < m->ntensors; t++)
		if (newid[t - nt0]) {
			m->tensors[k] = m->tensors[t];
			newid[t - nt0] = k++;
		}
	m->ntensors = k;
	for (Ref r = 0; r < m->nnodes; r++) {
		Node *n = ir_get(m, r);
		if (n->op == OP_VCONST && n->aux >= nt0)
			n->aux = newid[n->aux - nt0];
	}
	free(newid);
}

static int all_constant(const Module *m, const Node *n)
{
	if (!(op_info[n->op].flags & OPF_FOLD) || n->nargs == 0)
		return 0;
	for (uint32_t k = 0; k < n->nargs; k++)
		if (!is_constant(ir_get(m, ir_arg(m, n, k))))
			return 0;
	return 1;
}

static void fold_init(Fold *f, Module *m)
{
	memset(f, 0, sizeof *f);
	f->m = m;
	f->n0 = m->nnodes;
	f->map = xmalloc((f->n0 + 1) * sizeof *f->map);
	for (Ref r = 0; r < f->n0; r++)
		f->map[r] = NOREF;
	f->ntname = m->nstrs;
	f->tname = xcalloc(f->ntname + 1, 1);
	for (uint32_t t = 0; t < m->ntensors; t++)
		f->tname[m->tensors[t].name] = 1;
	eval_init(&f->ec, m);
}

int pass_fold(Module *m, const PassOpts *o)
{
	Fold f;
	uint32_t nt0 = m->ntensors;
	fold_init(&f, m);
	for (Ref r = 0; r < f.n0; r++) {
		Node *n = ir_get(m, r);
		if (n->flags & NF_DEAD)
			continue;
		for (uint32_t k = 0; k < n->nargs; k++)
			m->argv[n->args + k] = resolve(&f, m->argv[n->args + k]);
		if (all_constant(m, n))
			f.consts += fold_constant(&f, r);
		else
			identity(&f, r);
	}
	Ref *map = xmalloc((m->nnodes + 1) * sizeof *map);
	for (Ref r = 0; r < m->nnodes; r++)
		map[r] = r < f.n0 ? f.map[r] : NOREF;
	ir_rewrite(m, map);
	free(map);
	for (Ref r = 0; r < f.n0; r++)
		if (f.map[r] != NOREF)
			ir_kill(m, r);
	uint32_t *uses = ir_uses(m);   /* constants made for folded chains */
	for (Ref r = f.n0; r < m->nnodes; r++)
		if (!uses[r])
			ir_kill(m, r);
	free(uses);
	int changed = f.consts + f.idents != 0;
	if (changed)
		ir_compact(m);
	drop_unused_tensors(m, nt0);
	if (o && o->log)
		fprintf(o->log, "fold: %u constants folded, %u identities\n", f.consts, f.idents);
	eval_fini(&f.ec);
	free(f.map);
	free(f.tname);
	return changed;
}
