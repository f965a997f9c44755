/* core/chol.c: placeholder, being written. */
#include "internal.h"
