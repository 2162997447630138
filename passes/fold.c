/* fold.c -- STUB */
#include "passes.h"
int pass_fold(Module *m, const PassOpts *o) { (void)m; (void)o; return 0; }
