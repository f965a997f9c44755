/* core/table.c: placeholder, being written. */
#include "internal.h"
