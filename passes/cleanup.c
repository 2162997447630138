/*
 * cleanup.c -- the end of the -O1 and -O2 pipelines: fold, width, cse and
 * dce (cleanup-balance, the -O2 one: also balance) repeated until none of
 * them changes anything,
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
 * The steps run in rounds (fold, width, balance and width again, fold,
 * cse, dce).  Each pass is a function of the module alone, so a pass that
 * found nothing would find nothing again until some step changes the
 * module: such a run is skipped, and the loop ends when every pass has run
 * without a change since the last change.  On the pusht predict-step the
 * third round was one such confirmation (fold, width, balance, fold, cse,
 * dce over 12 M nodes, 3.5 s) after a second round whose only change was
 * one balanced tree; now only the passes that have not seen that change
 * run again.
 *
 * Each step is linear; the loop stops after CLEANUP_ROUNDS rounds at the
 * latest (two or three are the rule on whole models).
 * Requires: a valid module.  Preserves: every output bit for bit, the
 * registers' cycles.
 */
#include "passes.h"

enum { CLEANUP_ROUNDS = 8 };
enum { P_FOLD, P_WIDTH, P_BALANCE, P_CSE, P_DCE, NPASS };

typedef struct Loop {
	Module *m;
	const PassOpts *o;
	uint32_t version;         /* changes made so far */
	uint32_t clean[NPASS];    /* version + 1 at which the pass last found nothing; 0 never */
} Loop;

/* Runs pass p unless it found nothing on the module as it is; returns
 * whether it changed the module. */
static int step(Loop *l, int p)
{
	static int (*const pass[NPASS])(Module *, const PassOpts *) = {
		pass_fold, pass_width, pass_balance, pass_cse, pass_dce,
	};
	if (l->clean[p] == l->version + 1)
		return 0;
	if (!pass[p](l->m, l->o)) {
		l->clean[p] = l->version + 1;
		return 0;
	}
	l->version++;
	return 1;
}

static int done(const Loop *l, int balance)
{
	for (int p = 0; p < NPASS; p++)
		if (l->clean[p] != l->version + 1 && (p != P_BALANCE || balance))
			return 0;
	return 1;
}

static int cleanup(Module *m, const PassOpts *o, int balance, const char *name)
{
	PassOpts quiet = o ? *o : (PassOpts){0};
	quiet.log = quiet.vlog = NULL;   /* one summary line, not a log per round */
	Loop l = {.m = m, .o = &quiet};
	int rounds = 0;
	while (!done(&l, balance) && rounds < CLEANUP_ROUNDS) {
		step(&l, P_FOLD);
		step(&l, P_WIDTH);
		if (balance && step(&l, P_BALANCE))
			step(&l, P_WIDTH);   /* the rebuilt adders have the root's width */
		step(&l, P_FOLD);
		step(&l, P_CSE);
		step(&l, P_DCE);
		rounds++;
	}
	int still = !done(&l, balance);
	if (o && o->log)
		fprintf(o->log, "%s: %d round%s, %u change%s%s\n", name, rounds, rounds == 1 ? "" : "s",
		        l.version, l.version == 1 ? "" : "s", still ? " (stopped: still changing)" : "");
	return l.version != 0;
}

int pass_cleanup(Module *m, const PassOpts *o)
{
	return cleanup(m, o, 0, "cleanup");
}

int pass_cleanup_bal(Module *m, const PassOpts *o)
{
	return cleanup(m, o, 1, "cleanup-balance");
}
