/*
 * ops.h -- the op table of jepac's IR, as an X-macro.
 *
 * One line per op:  OP(ENUM, "text", signature, flags, cost)
 *
 *   signature  the operand list as it appears in the text form, one letter each:
 *                v  a value operand (%N)
 *                *  any number (>= 1) of value operands (must be last)
 *                i  an integer immediate        -> Node.imm
 *                j  a second integer immediate  -> Node.aux
 *                r  a real immediate (double)   -> Node.imm (bit pattern)
 *                t  a tensor reference (@name)  -> Node.aux
 *                s  a string ("...")            -> Node.aux (string id)
 *   flags      OPF_* below
 *   cost       rough hardware cost class used by reports before width
 *              inference: 0 free wiring, 1 adder, 2 multiplier, 3 table,
 *              4 high-level (must be lowered before hardware backends)
 *
 * Printer, parser, verifier, interpreter, CSE and the backends all read this
 * table.  Adding an op is one line here, its semantics in ir/eval.c (the
 * interpreter and fold both evaluate through it), its type rules in
 * ir/verify.c, and a case wherever a switch on the op must know it:
 * passes/lower.c (float ops), passes/fold.c, passes/width.c (value range),
 * passes/pipeline.c (delay), backends/c_node.c + c_tab.c, verilog_ops.c,
 * stats.c and dot.c (each backend that supports it; the others reject it).
 * docs/ir.md is the normative description of every op.
 */
#ifndef JEPAC_OPS_H
#define JEPAC_OPS_H

enum {
	OPF_NORESULT = 1 << 0, /* no value: printed without "%N = TYPE" */
	OPF_COMM     = 1 << 1, /* commutative in its two value operands */
	OPF_ASSOC    = 1 << 2, /* associative */
	OPF_FOLD     = 1 << 3, /* constant-foldable when all value operands are const */
	OPF_ELEM     = 1 << 4, /* elementwise over lanes, len-1 operands broadcast */
	OPF_REAL     = 1 << 5, /* only on f64 values (high-level float graph) */
	OPF_INT      = 1 << 6, /* only on integer values */
	OPF_PORT     = 1 << 7, /* module boundary (input/output) */
	OPF_STATE    = 1 << 8, /* breaks combinational cycles (reg) */
	OPF_TOKEN    = 1 << 9, /* mixes the tokens of a stream (docs/ir.md, "Streams") */
};

#define JEPAC_OPS(OP) \
	/* ports and constants */ \
	OP(INPUT,     "input",     "si",   OPF_PORT, 0) \
	OP(OUTPUT,    "output",    "svi",  OPF_PORT | OPF_NORESULT, 0) \
	OP(CONST,     "const",     "i",    OPF_INT, 0) \
	OP(FCONST,    "fconst",    "r",    OPF_REAL, 0) \
	OP(VCONST,    "vconst",    "t",    0, 0) \
	/* integer / real arithmetic, elementwise */ \
	OP(ADD,       "add",       "vv",   OPF_COMM | OPF_ASSOC | OPF_FOLD | OPF_ELEM, 1) \
	OP(SUB,       "sub",       "vv",   OPF_FOLD | OPF_ELEM, 1) \
	OP(NEG,       "neg",       "v",    OPF_FOLD | OPF_ELEM, 1) \
	OP(MUL,       "mul",       "vv",   OPF_COMM | OPF_ASSOC | OPF_FOLD | OPF_ELEM, 2) \
	OP(CMUL,      "cmul",      "vi",   OPF_FOLD | OPF_ELEM | OPF_INT, 2) \
	OP(SHL,       "shl",       "vi",   OPF_FOLD | OPF_ELEM | OPF_INT, 0) \
	OP(SHR,       "shr",       "vi",   OPF_FOLD | OPF_ELEM | OPF_INT, 0) \
	OP(ROUNDSHR,  "roundshr",  "vi",   OPF_FOLD | OPF_ELEM | OPF_INT, 1) \
	/* width changes */ \
	OP(EXT,       "ext",       "v",    OPF_FOLD | OPF_ELEM | OPF_INT, 0) \
	OP(TRUNC,     "trunc",     "v",    OPF_FOLD | OPF_ELEM | OPF_INT, 0) \
	OP(SLICE,     "slice",     "vi",   OPF_FOLD | OPF_ELEM | OPF_INT, 0) \
	OP(SAT,       "sat",       "v",    OPF_FOLD | OPF_ELEM | OPF_INT, 1) \
	/* compare and select */ \
	OP(EQ,        "eq",        "vv",   OPF_COMM | OPF_FOLD | OPF_ELEM, 1) \
	OP(NE,        "ne",        "vv",   OPF_COMM | OPF_FOLD | OPF_ELEM, 1) \
	OP(LT,        "lt",        "vv",   OPF_FOLD | OPF_ELEM, 1) \
	OP(LE,        "le",        "vv",   OPF_FOLD | OPF_ELEM, 1) \
	OP(SELECT,    "select",    "vvv",  OPF_FOLD | OPF_ELEM, 1) \
	OP(MAX,       "max",       "vv",   OPF_COMM | OPF_ASSOC | OPF_FOLD | OPF_ELEM, 1) \
	OP(MIN,       "min",       "vv",   OPF_COMM | OPF_ASSOC | OPF_FOLD | OPF_ELEM, 1) \
	/* tables */ \
	OP(LUT,       "lut",       "tv",   OPF_FOLD | OPF_ELEM | OPF_INT, 3) \
	/* lanes */ \
	OP(CONCAT,    "concat",    "*",    OPF_FOLD, 0) \
	OP(EXTRACT,   "extract",   "vi",   OPF_FOLD, 0) \
	OP(SUM,       "sum",       "vi",   OPF_FOLD, 1) \
	OP(RMAX,      "rmax",      "vi",   OPF_FOLD, 1) \
	/* constant matrix times vector (a Linear layer before strength reduction) */ \
	OP(MATVEC,    "matvec",    "tv",   OPF_FOLD, 2) \
	OP(BMATVEC,   "bmatvec",   "tv",   OPF_FOLD | OPF_INT, 2) \
	OP(VCMUL,     "vcmul",     "tv",   OPF_FOLD | OPF_INT, 2) \
	/* pipeline register */ \
	OP(REG,       "reg",       "v",    OPF_STATE, 0) \
	/* high-level real-valued ops (frontend output, lowered to integers later) */ \
	OP(DIV,       "div",       "vv",   OPF_FOLD | OPF_ELEM | OPF_REAL, 4) \
	OP(EXP,       "exp",       "v",    OPF_FOLD | OPF_ELEM | OPF_REAL, 4) \
	OP(RSQRT,     "rsqrt",     "v",    OPF_FOLD | OPF_ELEM | OPF_REAL, 4) \
	OP(GELU,      "gelu",      "v",    OPF_FOLD | OPF_ELEM | OPF_REAL, 4) \
	OP(SILU,      "silu",      "v",    OPF_FOLD | OPF_ELEM | OPF_REAL, 4) \
	OP(LAYERNORM, "layernorm", "vjr",  OPF_FOLD | OPF_REAL, 4) \
	OP(SOFTMAX,   "softmax",   "vi",   OPF_FOLD | OPF_REAL, 4) \
	OP(ATTN,      "attn",      "vvvij", OPF_FOLD | OPF_REAL, 4) \
	OP(CATTN,     "attn.causal", "vvvij", OPF_FOLD | OPF_REAL, 4) \
	/* streams: ops that see other tokens than the current one */ \
	OP(TPOS,      "tpos",      "t",    OPF_TOKEN, 0) \
	OP(TBUF,      "tbuf",      "v",    OPF_TOKEN, 0) \
	OP(TALL,      "tall",      "v",    OPF_TOKEN, 0) \
	OP(TDELAY,    "tdelay",    "v",    OPF_TOKEN, 0) \
	OP(TPICK,     "tpick",     "vi",   OPF_TOKEN, 0) \
	OP(SATTN,     "sattn",     "vvvij", OPF_TOKEN | OPF_REAL, 4) \
	OP(SCATTN,    "sattn.causal", "vvvij", OPF_TOKEN | OPF_REAL, 4) \
	OP(TSEQ,      "tseq",      "*",    OPF_TOKEN, 0) \
	OP(WDELAY,    "wdelay",    "v",    OPF_TOKEN, 0)

typedef enum {
#define X(e, s, sig, f, c) OP_##e,
	JEPAC_OPS(X)
#undef X
	OP_COUNT
} Op;

#endif
