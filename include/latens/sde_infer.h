/* latens/sde_infer.h: placeholder until the sde module (infer part) lands. */
#ifndef LATENS_SDE_INFER_H
#define LATENS_SDE_INFER_H
#include <latens/core.h>
#include <latens/sde.h>
#endif
