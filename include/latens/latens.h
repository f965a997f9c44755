/* latens/latens.h: everything.  Modules add their header here as they land. */
#ifndef LATENS_LATENS_H
#define LATENS_LATENS_H
#include <latens/core.h>
#include <latens/pc.h>
#include <latens/pc_learn.h>
#include <latens/gp.h>
#include <latens/gp_cvi.h>
#include <latens/sde.h>
#include <latens/sde_infer.h>
#include <latens/causal.h>
#include <latens/causal_score.h>
#endif
