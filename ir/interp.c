/*
 * interp.c -- the reference interpreter: evaluates a module on one input
 * vector.  The semantics of each op live in eval.c (shared with fold).
 *
 * Memory: every node's lanes sit in one flat Lane array at off[node]; this
 * is linear in the total lane count.  A reg is transparent, so it gets no
 * lanes of its own: its offset is its source's (following chains of regs).
 * Constants (const, fconst, vconst) are evaluated once in interp_new.
 *
 * Order: the remaining nodes are evaluated in index order when every
 * operand (seen through regs) has a smaller index -- true for compacted
 * modules unless a reg sits before its source; otherwise interp_new builds
 * a topological order by depth-first search.  A cycle (a feedback loop
 * through a reg) cannot be evaluated transparently and is a user error.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

struct Interp {
	const Module *m;
	EvalCtx ec;
	size_t *off;        /* per node: first lane in val */
	Lane *val;
	Ref *order;         /* nodes evaluated per run */
	uint32_t norder;
	const Lane **argp;  /* scratch: operand lanes of one node */
};

static int is_const_op(int op)
{
	return op == OP_CONST || op == OP_FCONST || op == OP_VCONST;
}

/* The node whose lanes r's value is (r itself unless r is a reg). */
static Ref source(const Module *m, Ref r)
{
	for (uint32_t guard = 0; ir_get(m, r)->op == OP_REG; guard++) {
		if (guard > m->nnodes)
			fatal(ir_strget(m, m->name), "a cycle of registers cannot be interpreted");
		r = ir_arg(m, ir_get(m, r), 0);
	}
	return r;
}

static int needs_eval(const Node *n)
{
	return !(n->flags & NF_DEAD) && n->op != OP_INPUT && n->op != OP_OUTPUT &&
	       n->op != OP_REG && !is_const_op(n->op);
}

static void layout(Interp *ip)
{
	const Module *m = ip->m;
	size_t total = 0;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		ip->off[r] = total;
		if (n->op != OP_REG && n->op != OP_OUTPUT && !(n->flags & NF_DEAD))
			total += ir_vlanes(m, n);
	}
	for (Ref r = 0; r < m->nnodes; r++)
		if (ir_get(m, r)->op == OP_REG && !(ir_get(m, r)->flags & NF_DEAD))
			ip->off[r] = ip->off[source(m, r)];
	ip->val = xcalloc(total ? total : 1, sizeof *ip->val);
}

static int index_order_ok(const Module *m)
{
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (n->op == OP_REG || (n->flags & NF_DEAD))
			continue;
		for (uint32_t k = 0; k < n->nargs; k++) {
			Ref s = source(m, ir_arg(m, n, k));
			if (s >= r && needs_eval(ir_get(m, s)))
				return 0;
		}
	}
	return 1;
}

/* Topological order of the nodes that need evaluation (ir_topo, which
 * also orders registers after their operands). */
static void topo(Interp *ip)
{
	const Module *m = ip->m;
	Ref *all = xmalloc((m->nnodes + 1) * sizeof *all);
	int64_t n = ir_topo(m, all);
	if (n < 0)
		fatal(ir_strget(m, m->name), "a cycle through a register cannot be interpreted:"
		      " the interpreter evaluates registers transparently");
	for (int64_t i = 0; i < n; i++)
		if (needs_eval(ir_get(m, all[i])))
			ip->order[ip->norder++] = all[i];
	free(all);
}

Interp *interp_new(const Module *m)
{
	Interp *ip = xcalloc(1, sizeof *ip);
	ip->m = m;
	eval_init(&ip->ec, m);
	ip->off = xmalloc((m->nnodes + 1) * sizeof *ip->off);
	ip->order = xmalloc((m->nnodes + 1) * sizeof *ip->order);
	uint32_t maxargs = 1;
	for (Ref r = 0; r < m->nnodes; r++)
		if (ir_get(m, r)->nargs > maxargs)
			maxargs = ir_get(m, r)->nargs;
	ip->argp = xmalloc(maxargs * sizeof *ip->argp);
	layout(ip);
	if (index_order_ok(m)) {
		for (Ref r = 0; r < m->nnodes; r++)
			if (needs_eval(ir_get(m, r)))
				ip->order[ip->norder++] = r;
	} else {
		topo(ip);
	}
	for (Ref r = 0; r < m->nnodes; r++)
		if (is_const_op(ir_get(m, r)->op) && !(ir_get(m, r)->flags & NF_DEAD))
			eval_node(&ip->ec, r, NULL, ip->val + ip->off[r]);
	return ip;
}

void interp_free(Interp *ip)
{
	if (!ip)
		return;
	eval_fini(&ip->ec);
	free(ip->off);
	free(ip->val);
	free(ip->order);
	free(ip->argp);
	free(ip);
}

static void evaluate(Interp *ip, InterpStats *st)
{
	const Module *m = ip->m;
	ip->ec.sat = 0;
	for (uint32_t i = 0; i < ip->norder; i++) {
		Ref r = ip->order[i];
		const Node *n = ir_get(m, r);
		for (uint32_t k = 0; k < n->nargs; k++)
			ip->argp[k] = ip->val + ip->off[ir_arg(m, n, k)];
		eval_node(&ip->ec, r, ip->argp, ip->val + ip->off[r]);
	}
	if (st)
		st->sat_events += ip->ec.sat;
}

/* A double as an integer code of a port: rounded, saturated, wrapped. */
static int64_t code_of(const Node *n, double x)
{
	if (x != x)
		return 0;
	x = nearbyint(x);
	if (x <= -9223372036854775808.0)
		return ty_wrap(n->ty, n->width, INT64_MIN);
	if (x >= 9223372036854775808.0)
		return ty_wrap(n->ty, n->width, INT64_MAX);
	return ty_wrap(n->ty, n->width, (int64_t)x);
}

static double real_of(const Node *n, int64_t v)
{
	if (n->ty == TY_U && n->width == 64)
		return (double)(uint64_t)v;
	return (double)v;
}

/* Walks the ports; dir 0 = inputs (write), 1 = outputs (read). */
static void ports(Interp *ip, int dir, const double *fin, const int64_t *iin,
                  double *fout, int64_t *iout)
{
	const Module *m = ip->m;
	size_t k = 0;
	for (Ref r = 0; r < m->nnodes; r++) {
		const Node *n = ir_get(m, r);
		if (n->flags & NF_DEAD || n->op != (dir ? OP_OUTPUT : OP_INPUT))
			continue;
		const Node *v = dir ? ir_get(m, ir_arg(m, n, 0)) : n;
		Lane *p = ip->val + ip->off[dir ? ir_arg(m, n, 0) : r];
		size_t nl = ir_vlanes(m, v);
		for (size_t i = 0; i < nl; i++, k++) {
			if (dir == 0 && v->ty == TY_F)
				p[i].f = fin ? fin[k] : (double)iin[k];
			else if (dir == 0)
				p[i].i = fin ? code_of(v, fin[k]) : ty_wrap(v->ty, v->width, iin[k]);
			else if (v->ty == TY_F && fout)
				fout[k] = p[i].f;
			else if (v->ty == TY_F)
				iout[k] = code_of(v, p[i].f);
			else if (fout)
				fout[k] = real_of(v, p[i].i);
			else
				iout[k] = p[i].i;
		}
	}
}

void interp_run(Interp *ip, const double *in, double *out, InterpStats *st)
{
	ports(ip, 0, in, NULL, NULL, NULL);
	evaluate(ip, st);
	ports(ip, 1, NULL, NULL, out, NULL);
}

void interp_run_int(Interp *ip, const int64_t *in, int64_t *out, InterpStats *st)
{
	ports(ip, 0, NULL, in, NULL, NULL);
	evaluate(ip, st);
	ports(ip, 1, NULL, NULL, NULL, out);
}
