/* latens/rng.h: placeholder, being written. */
#ifndef LATENS_RNG_H
#define LATENS_RNG_H
#include <latens/common.h>
#endif
