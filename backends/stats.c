/* stats.c -- STUB: not written yet. */
#include "backends.h"
void emit_stats(const Module *m, FILE *f, const EmitOpts *o)
{
	(void)m; (void)f; (void)o;
	fatal(NULL, "--emit=stats is not implemented yet");
}
