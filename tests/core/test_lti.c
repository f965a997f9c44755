/* tests/core/test_lti.c: placeholder, being written. */
#include "suites.h"
Suite *lti_suite(void) { return suite_create("lti"); }
