/* tests/core/test_quad.c: placeholder, being written. */
#include "suites.h"
Suite *quad_suite(void) { return suite_create("quad"); }
