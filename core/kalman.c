/* core/kalman.c: placeholder, being written. */
#include "internal.h"
