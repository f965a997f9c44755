/* src/core/lti.c: placeholder, being written. */
#include "internal.h"
