/* verilog.c -- STUB: not written yet. */
#include "backends.h"
void emit_verilog(const Module *m, FILE *f, const EmitOpts *o)
{
	(void)m; (void)f; (void)o;
	fatal(NULL, "--emit=verilog is not implemented yet");
}
