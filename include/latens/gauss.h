/* latens/gauss.h: placeholder, being written. */
#ifndef LATENS_GAUSS_H
#define LATENS_GAUSS_H
#include <latens/common.h>
#endif
