/* src/core/ode.c: placeholder, being written. */
#include "internal.h"
