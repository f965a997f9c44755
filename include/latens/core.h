/* latens/core.h: the shared numeric core (one header per area, all included here). */
#ifndef LATENS_CORE_H
#define LATENS_CORE_H
#include <latens/common.h>
#include <latens/matrix.h>
#include <latens/logspace.h>
#include <latens/quad.h>
#include <latens/rng.h>
#include <latens/gauss.h>
#include <latens/optim.h>
#include <latens/table.h>
#include <latens/ode.h>
#include <latens/lti.h>
#endif
