/* c.c -- STUB: not written yet. */
#include "backends.h"
void emit_c(const Module *m, FILE *f, const EmitOpts *o)
{
	(void)m; (void)f; (void)o;
	fatal(NULL, "--emit=c is not implemented yet");
}
