/* tests/core/test_ode.c: placeholder, being written. */
#include "suites.h"
Suite *ode_suite(void) { return suite_create("ode"); }
