/* latens/logspace.h: placeholder, being written. */
#ifndef LATENS_LOGSPACE_H
#define LATENS_LOGSPACE_H
#include <latens/common.h>
#endif
