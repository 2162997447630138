/*
 * cleanup.c -- the end of the -O1 and -O2 pipelines: fold, width, cse and
 * dce (cleanup-balance, the -O2 one: also balance) repeated until a whole
 * round changes nothing,
 * so that the pipeline applied to its own printed output changes nothing
 * (test/determinism/fixpoint.test; docs/passes.md, "Fixed point").
 *
 * What they still find after the pipeline pass: its rewrites (splitting a
 * vector read through extracts) leave extracts of constant vectors, for
 * fold, and single-operand concats as wide as the whole vector was, for
 * width; width then leaves `ext`s that became identities (fold) and equal
 * constants (two narrowed to the same value: cse); at -O2, adder trees
 * whose leaves now come from registers can be rebuilt shallower within
 * their stage (balance), and width trims the new adders.  None of this
 * moves a register or deepens a stage: fold, width, cse and dce never
 * lengthen a path, and balance rebuilds trees between registers only (a
 * register is a leaf) and only when that makes them shallower.
 *
 * Each round is linear; the loop stops after CLEANUP_ROUNDS rounds at the
 * latest (two or three are the rule on whole models).
 * Requires: a valid module.  Preserves: every output bit for bit, the
 * registers' cycles.
 */
#include "passes.h"

enum { CLEANUP_ROUNDS = 8 };

static int cleanup(Module *m, const PassOpts *o, int balance, const char *name)
{
	PassOpts quiet = o ? *o : (PassOpts){0};
	quiet.log = quiet.vlog = NULL;   /* one summary line, not a log per round */
	int any = 0, rounds = 0, changed = 1;
	while (changed && rounds < CLEANUP_ROUNDS) {
		changed = pass_fold(m, &quiet);
		changed |= pass_width(m, &quiet);
		if (balance && pass_balance(m, &quiet)) {
			pass_width(m, &quiet);   /* the rebuilt adders have the root's width */
			changed = 1;
		}
		changed |= pass_fold(m, &quiet);
		changed |= pass_cse(m, &quiet);
		changed |= pass_dce(m, &quiet);
		any |= changed;
		rounds++;
	}
	if (o && o->log)
		fprintf(o->log, "%s: %d round%s%s\n", name, rounds, rounds == 1 ? "" : "s",
		        changed ? " (stopped: still changing)" : "");
	return any;
}

int pass_cleanup(Module *m, const PassOpts *o)
{
	return cleanup(m, o, 0, "cleanup");
}

int pass_cleanup_bal(Module *m, const PassOpts *o)
{
	return cleanup(m, o, 1, "cleanup-balance");
}
