/* tests/core/test_optim.c: placeholder, being written. */
#include "suites.h"
Suite *optim_suite(void) { return suite_create("optim"); }
