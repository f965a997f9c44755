/* latens/sde.h: placeholder until the sde module (local part) lands. */
#ifndef LATENS_SDE_H
#define LATENS_SDE_H
#include <latens/core.h>
#endif
