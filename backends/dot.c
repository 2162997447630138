/* dot.c -- STUB */
#include "backends.h"
void emit_dot(const Module *m, FILE *f, const EmitOpts *o) { (void)m; (void)f; (void)o; }
