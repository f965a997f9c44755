/* core/quad.c: placeholder, being written. */
#include "internal.h"
