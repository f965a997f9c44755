/* latens/latens.h: everything.  Modules add their header here as they land. */
#ifndef LATENS_LATENS_H
#define LATENS_LATENS_H
#include <latens/core.h>
#endif
