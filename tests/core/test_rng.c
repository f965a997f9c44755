/* tests/core/test_rng.c: placeholder, being written. */
#include "suites.h"
Suite *rng_suite(void) { return suite_create("rng"); }
