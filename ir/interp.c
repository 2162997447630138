/* interp.c -- STUB */
#include <stdlib.h>
#include "ir.h"
struct Interp { const Module *m; };
Interp *interp_new(const Module *m) { Interp *ip = xmalloc(sizeof *ip); ip->m = m; return ip; }
void interp_free(Interp *ip) { free(ip); }
void interp_run(Interp *ip, const double *in, double *out, InterpStats *st) { (void)ip; (void)in; (void)out; (void)st; }
void interp_run_int(Interp *ip, const int64_t *in, int64_t *out, InterpStats *st) { (void)ip; (void)in; (void)out; (void)st; }
