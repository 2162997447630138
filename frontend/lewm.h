/*
 * lewm.h -- the LeWM model-family builder (lewm.c): Checkpoint -> Module.
 */
#ifndef JEPAC_LEWM_H
#define JEPAC_LEWM_H

#include "checkpoint.h"
#include "frontend.h"

/* Builds the float IR of the part o->top (default "predict-step") of the
 * LeWM checkpoint ck.  Bad or inconsistent tensors: fatal(ck->path, ...).
 * Does not free ck; the module does not point into it. */
Module *lewm_build(Checkpoint *ck, const LoadOpts *o);

#endif
