/* latens/pc_learn.h: placeholder until the pc module (learn part) lands. */
#ifndef LATENS_PC_LEARN_H
#define LATENS_PC_LEARN_H
#include <latens/core.h>
#include <latens/pc.h>
#endif
