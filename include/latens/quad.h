/* latens/quad.h: placeholder, being written. */
#ifndef LATENS_QUAD_H
#define LATENS_QUAD_H
#include <latens/common.h>
#endif
