/* latens/pc.h: placeholder until the pc module (local part) lands. */
#ifndef LATENS_PC_H
#define LATENS_PC_H
#include <latens/core.h>
#endif
