/* parse.c -- STUB, replaced by the text-form parser. */
#include "ir.h"
Module *ir_parse(const char *text, size_t n, const char *filename)
{
	(void)text; (void)n;
	fatal(filename, "parser not written yet");
}
Module *ir_parse_file(const char *path) { return ir_parse("", 0, path); }
