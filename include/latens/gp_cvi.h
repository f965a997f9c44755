/* latens/gp_cvi.h: placeholder until the gp module (cvi part) lands. */
#ifndef LATENS_GP_CVI_H
#define LATENS_GP_CVI_H
#include <latens/core.h>
#include <latens/gp.h>
#endif
