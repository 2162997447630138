/* cse.c -- STUB: not written yet; changes nothing. */
#include "passes.h"
int pass_cse(Module *m, const PassOpts *o) { (void)m; (void)o; return 0; }
