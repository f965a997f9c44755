/* core/rng.c: placeholder, being written. */
#include "internal.h"
