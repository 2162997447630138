/* print.c -- STUB */
#include "ir.h"
void ir_print(const Module *m, FILE *f) { (void)m; (void)f; }
