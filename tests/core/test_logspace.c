/* tests/core/test_logspace.c: placeholder, being written. */
#include "suites.h"
Suite *logspace_suite(void) { return suite_create("logspace"); }
