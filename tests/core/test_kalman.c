/* tests/core/test_kalman.c: placeholder, being written. */
#include "suites.h"
Suite *kalman_suite(void) { return suite_create("kalman"); }
