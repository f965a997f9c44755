/* core/optim.c: placeholder, being written. */
#include "internal.h"
