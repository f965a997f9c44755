/* core/logspace.c: placeholder, being written. */
#include "internal.h"
