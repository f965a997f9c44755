/* latens/ode.h: placeholder, being written. */
#ifndef LATENS_ODE_H
#define LATENS_ODE_H
#include <latens/common.h>
#endif
