/* latens/gp.h: placeholder until the gp module (local part) lands. */
#ifndef LATENS_GP_H
#define LATENS_GP_H
#include <latens/core.h>
#endif
