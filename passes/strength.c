/*
 * strength.c -- strength reduction: every multiplication by a constant
 * becomes shifts and additions in canonical signed digit (CSD) form.
 *
 * Algorithm (cmvm.c, level CMVM_ODD): each weight w = +-2^k * m (m odd) is
 * one term on a shared odd multiple m * x_c built once per input column
 * from m's CSD digits (for Q4 codes: 3x, 5x, 7x, i.e. at most 3 adders per
 * input) and reused by every row; each row is then a depth-balanced
 * add/sub tree of its terms: ~1 adder per non-zero weight.  `cmul` stays
 * vector-wide; vcmul / matvec / bmatvec become `extract` lanes, adder trees
 * and one `concat` of the original type (see cmvm_lower.c).  Shared
 * sub-sums between rows are the cse pass's job (it runs first at -O2).
 *
 * Requires: a valid module.  Preserves: every output bit for bit (integer
 * arithmetic wraps; adders are capped at the result width, exact mod 2^W).
 * After it no integer cmul, vcmul, matvec or bmatvec remains.
 * Complexity: O(weights + nodes).
 */
#include "cmvm.h"
#include "passes.h"

int pass_strength(Module *m, const PassOpts *o)
{
	unsigned ops = CMVM_K_CMUL | CMVM_K_VCMUL | CMVM_K_MATVEC | CMVM_K_BMATVEC |
	               CMVM_K_VCSUM;
	if (!cmvm_lower(m, ops, CMVM_ODD, o ? o->log : NULL, o ? o->vlog : NULL, "strength-reduce"))
		return 0;
	ir_compact(m);
	return 1;
}
