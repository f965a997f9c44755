/* tests/core/test_chol.c: placeholder, being written. */
#include "suites.h"
Suite *chol_suite(void) { return suite_create("chol"); }
